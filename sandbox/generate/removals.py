"""Time travel: Salesforce deletes and merges, HubSpot archives and merges."""

from __future__ import annotations

from collections import defaultdict

from .day import Day, pick_live, random_user, touch_hs, touch_sf
from .state import State
from .timefmt import hs_datetime


def delete_sf(day: Day, obj: str, count: int, children) -> None:
    """Soft-delete Salesforce records (an account takes its contacts and opportunities along)."""
    for moment in day.moments(count):
        row = pick_live(day, obj)
        if row is None:
            continue
        user_id = random_user(day).sf_id
        row["IsDeleted"] = True
        touch_sf(row, moment, user_id)
        day.tally("deleted", f"salesforce.{obj}")
        if obj == "Account":
            for child_obj, child in children(row["Id"]):
                if not child.get("IsDeleted"):
                    child["IsDeleted"] = True
                    touch_sf(child, moment, user_id)
                    day.tally("deleted", f"salesforce.{child_obj}")
        entity = day.state.company_of_record.get(("salesforce", row["Id"]))
        if entity:
            day.state.forget_company(entity)


def archive_hs(day: Day, obj: str, count: int) -> None:
    """Archive (soft-delete) HubSpot records: ``archived`` true with ``archivedAt``."""
    for moment in day.moments(count):
        row = pick_live(day, obj)
        if row is None:
            continue
        millis = touch_hs(row, obj, moment)
        row["archived"] = True
        row["archivedAt"] = hs_datetime(millis)
        day.tally("archived", f"hubspot.{obj}")
        entity = day.state.company_of_record.get(("hubspot", row["id"]))
        if entity:
            day.state.forget_company(entity)


def duplicate_groups(state: State) -> dict[str, list[str]]:
    """Entities with two or more records in one system, per system (merge candidates)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for records_by_entity in (state.company_records, state.person_records):
        for entity, records in records_by_entity.items():
            if len(records) < 2:
                continue
            systems = [system for system, _ in records]
            for system in set(systems):
                if systems.count(system) > 1:
                    groups[system].append(entity)
    for entities in groups.values():
        entities.sort()
    return groups


def _live_group(state: State, entity: str, system: str) -> list[dict]:
    records = state.company_records if system in ("salesforce", "hubspot") else state.person_records
    rows = []
    for record_system, record_id in records.get(entity, ()):
        if record_system != system:
            continue
        if system == "salesforce":
            row = state.live_sf("Account", record_id)
        elif system == "hubspot":
            row = state.live_hs("companies", record_id)
        elif system == "hubspot_contact":
            row = state.live_hs("contacts", record_id)
        else:
            row = state.live_sf("Lead" if system == "salesforce_lead" else "Contact", record_id)
            if row is not None and row.get("IsConverted"):
                row = None
        if row is not None:
            rows.append(row)
    return rows


def merge(day: Day, system: str, groups: list[str], children, members) -> None:
    """Merge today's share of in-system duplicates: Salesforce keeps the loser as a deleted row with
    ``MasterRecordId``; HubSpot drops the loser and lists it in the survivor's ``hs_merged_object_ids``."""
    state = day.state
    rng = day.rng
    live = [(entity, rows) for entity in groups if len(rows := _live_group(state, entity, system)) > 1]
    if not live:
        return
    for _ in range(max(1, day.count(len(live) * 0.03))):
        entity, rows = live[int(rng.random() * len(live))]
        if system.startswith("hubspot"):
            rows = [row for row in rows if row["id"] not in day.removed["companies" if system == "hubspot"
                                                                         else "contacts"]]
            if len(rows) < 2:
                continue
            rows.sort(key=lambda row: row["createdAt"])
            _merge_hs(day, "companies" if system == "hubspot" else "contacts", rows[0], rows[-1])
        else:
            rows = [row for row in rows if not row.get("IsDeleted")]
            if len(rows) < 2:
                continue
            rows.sort(key=lambda row: row.get("CreatedDate"))
            obj = {"salesforce": "Account", "salesforce_lead": "Lead"}.get(system, "Contact")
            _merge_sf(day, obj, rows[0], rows[-1], children, members)
        state.forget_company(entity)


def _merge_sf(day: Day, obj: str, survivor: dict, loser: dict, children, members) -> None:
    moment = day.moment()
    user_id = random_user(day).sf_id
    for field in ("Website", "Industry", "NumberOfEmployees", "Phone", "Title"):
        if field in survivor and survivor[field] is None and loser.get(field) is not None:
            survivor[field] = loser[field]
    loser["IsDeleted"] = True
    loser["MasterRecordId"] = survivor["Id"]
    touch_sf(loser, moment, user_id)
    touch_sf(survivor, moment, user_id)
    if obj == "Account":
        for child_obj, child in children(loser["Id"]):
            if child.get("AccountId") == loser["Id"]:
                child["AccountId"] = survivor["Id"]
                touch_sf(child, moment, user_id)
                children.move(child_obj, child, loser["Id"], survivor["Id"])
                day.tally("updated", f"salesforce.{child_obj}")
    else:
        field = "LeadId" if obj == "Lead" else "ContactId"
        for member in members(loser["Id"]):
            member[field] = survivor["Id"]
            touch_sf(member, moment)
            day.tally("updated", "salesforce.CampaignMember")
    day.tally("merged", f"salesforce.{obj}")


def _merge_hs(day: Day, obj: str, survivor: dict, loser: dict) -> None:
    state = day.state
    moment = day.moment()
    merged = [value for value in (survivor["properties"].get("hs_merged_object_ids") or "").split(";") if value]
    merged.append(loser["id"])
    merged.extend(value for value in (loser["properties"].get("hs_merged_object_ids") or "").split(";") if value)
    survivor["properties"]["hs_merged_object_ids"] = ";".join(merged)
    touch_hs(survivor, obj, moment)
    day.removed[obj].add(loser["id"])
    state.hs[obj].pop(loser["id"], None)
    survivor_key, loser_key = (obj, survivor["id"]), (obj, loser["id"])
    seen = {(row["from_id"], row["to_id"], row["type"]) for row in state.associations.get(survivor_key, ())}
    for row in list(state.associations.get(loser_key, ())):
        if id(row) in day.dead_associations:
            continue
        if (row["from_type"], row["from_id"]) == loser_key:
            row["from_id"] = survivor["id"]
        if (row["to_type"], row["to_id"]) == loser_key:
            row["to_id"] = survivor["id"]
        key = (row["from_id"], row["to_id"], row["type"])
        if key in seen:
            day.dead_associations.add(id(row))
            continue
        seen.add(key)
        state.associations[survivor_key].append(row)
        if obj == "companies" and row["type"] == "contact_to_company":
            contact = state.live_hs("contacts", row["from_id"])
            if contact is not None and contact["properties"].get("associatedcompanyid") == loser["id"]:
                contact["properties"]["associatedcompanyid"] = survivor["id"]
                touch_hs(contact, "contacts", moment)
                day.tally("updated", "hubspot.contacts")
    state.associations.pop(loser_key, None)
    day.tally("merged", f"hubspot.{obj}")


class Children:
    """Contacts and opportunities by account, and their history rows, indexed on first use."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._by_account: dict[str, list[tuple[str, dict]]] | None = None
        self._history: dict[str, list[dict]] | None = None

    def __call__(self, account_id: str) -> list[tuple[str, dict]]:
        if self._by_account is None:
            index: dict[str, list[tuple[str, dict]]] = defaultdict(list)
            for obj in ("Contact", "Opportunity"):
                for row in self._state.dataset.table("salesforce", obj):
                    index[row.get("AccountId")].append((obj, row))
            self._by_account = index
        rows = list(self._by_account.get(account_id, ()))
        for obj, row in list(rows):
            if obj == "Opportunity":
                rows.extend(("OpportunityHistory", history) for history in self.history(row["Id"]))
        return rows

    def history(self, opp_id: str) -> list[dict]:
        """The history rows of an opportunity."""
        if self._history is None:
            index: dict[str, list[dict]] = defaultdict(list)
            for row in self._state.dataset.table("salesforce", "OpportunityHistory"):
                index[row["OpportunityId"]].append(row)
            self._history = index
        return self._history.get(opp_id, [])

    def move(self, obj: str, row: dict, old: str, new: str) -> None:
        """Re-file a child after its account changed."""
        if self._by_account is not None and obj != "OpportunityHistory":
            entries = self._by_account.get(old, [])
            if (obj, row) in entries:
                entries.remove((obj, row))
            self._by_account[new].append((obj, row))

    def forget(self) -> None:
        """Drop the indexes (records were added)."""
        self._by_account = self._history = None


class Members:
    """Campaign members by lead or contact id, indexed on first use."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._index: dict[str, list[dict]] | None = None

    def __call__(self, person_id: str) -> list[dict]:
        if self._index is None:
            index: dict[str, list[dict]] = defaultdict(list)
            for row in self._state.dataset.table("salesforce", "CampaignMember"):
                index[row["LeadId"] or row["ContactId"]].append(row)
            self._index = index
        return list(self._index.get(person_id, ()))

    def forget(self) -> None:
        """Drop the index (records were added)."""
        self._index = None
