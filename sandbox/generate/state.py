"""What time travel needs to know about an existing dataset, rebuilt from its records and ground truth.

``advance`` must work on a dataset read back from disk, so nothing here relies on the
generator's in-memory world: record indexes, id counters, users, and real companies are all
reconstructed from the tables and ``ground_truth``.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ..dataset import Dataset
from . import vocab
from .campaigns import UtmCampaign
from .ids import is_salesforce_id, salesforce_counter, salesforce_id
from .timefmt import DAY, day_number
from .variants import registrable_domain, strip_legal_suffix
from .world import BOTH, HS_ONLY, SF_ONLY, Company, User

_COUNTRY_BY_NAME = {}
for _code, _values in vocab.COUNTRIES.items():
    _COUNTRY_BY_NAME[_values[0].lower()] = _code
    _COUNTRY_BY_NAME[_code.lower()] = _code
for _code, _spellings in vocab.COUNTRY_SPELLINGS.items():
    for _spelling in _spellings:
        _COUNTRY_BY_NAME[_spelling.lower()] = _code
_SF_INDUSTRY = {sf: index for index, (sf, _) in reversed(list(enumerate(vocab.INDUSTRIES)))}
_HS_INDUSTRY = {hs: index for index, (_, hs) in enumerate(vocab.INDUSTRIES) if hs}
_UTM_KEY = re.compile(r"^(\d{4})q(\d)_([a-z]+)_([a-z]+)(_[a-z]+)?$")


def _max_entity(rows: list[dict], field: str) -> int:
    widest = max((len(row[field]) for row in rows[-1000:]), default=0)
    newest = max((row[field] for row in rows if len(row[field]) == widest), default=None)
    return int(newest.rsplit("-", 1)[1]) if newest else -1


class State:
    """Indexes over a dataset that stay current while ``advance`` adds and changes records."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        truth = dataset.ground_truth
        for name in ("companies", "people", "campaigns", "employment"):
            truth.setdefault(name, [])
        self.sf = {obj: {row["Id"]: row for row in dataset.table("salesforce", obj)}
                   for obj in ("Account", "Contact", "Lead", "Opportunity", "Campaign")}
        self.hs = {obj: {row["id"]: row for row in dataset.table("hubspot", obj)}
                   for obj in ("companies", "contacts", "deals")}
        self.company_records: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.company_of_record: dict[tuple[str, str], str] = {}
        for row in truth["companies"]:
            key = (row["source_system"], row["source_record_id"])
            self.company_records[row["entity_id"]].append(key)
            self.company_of_record[key] = row["entity_id"]
        self.person_records: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.person_of_record: dict[tuple[str, str], str] = {}
        for row in truth["people"]:
            key = (row["source_system"], row["source_record_id"])
            self.person_records[row["entity_id"]].append(key)
            self.person_of_record[key] = row["entity_id"]
        self.employer = {row["person_entity_id"]: row["company_entity_id"] for row in truth["employment"]}
        self.company_entities = list(self.company_records)
        self.next_company = max(_max_entity(truth["companies"], "entity_id"),
                                _max_entity(truth["employment"], "company_entity_id")) + 1
        self.next_person = max(_max_entity(truth["people"], "entity_id"),
                               _max_entity(truth["employment"], "person_entity_id")) + 1
        self.users = self._users()
        self.user_by_sf = {user.sf_id: user for user in self.users if user.sf_id}
        self.user_by_hs = {user.hs_id: user for user in self.users if user.hs_id}
        self.active_sf_users = [user for user in self.users if user.sf_id and user.active] or \
            [user for user in self.users if user.sf_id] or self._owners_seen()
        self.queues = sorted({row["OwnerId"] for row in dataset.table("salesforce", "Lead")
                              if (row.get("OwnerId") or "").startswith("00G")})
        self._companies: dict[str, Company] = {}
        self._domains: set[str] | None = None
        self._emails: set[str] | None = None
        self._associations: dict[str, list[dict]] | None = None
        self._campaigns: list[UtmCampaign] | None = None

    def _users(self) -> list[User]:
        users: dict[str, User] = {}
        for row in self.dataset.table("salesforce", "User"):
            user = User(len(users), row["FirstName"], row["LastName"], row["Email"], row["IsActive"], 0, False, True)
            user.sf_id = row["Id"]
            users[row["Email"].lower()] = user
        for row in self.dataset.table("hubspot", "owners"):
            user = users.get(row["email"].lower())
            if user is None:
                user = users[row["email"].lower()] = User(len(users), row["firstName"], row["lastName"], row["email"],
                                                          not row["archived"], 0, True, False)
            user.in_hs = True
            user.hs_id = row["id"]
        return list(users.values())

    def _owners_seen(self) -> list[User]:
        owner_ids = sorted({row.get("OwnerId") for obj in ("Account", "Contact", "Lead", "Opportunity")
                            for row in self.dataset.table("salesforce", obj)
                            if (row.get("OwnerId") or "").startswith("005")})
        users = []
        for owner_id in owner_ids or [salesforce_id("005", 62**5 * 2)]:
            user = User(len(users), "Sandbox", "User", "sandbox.user@commonground-demo.com", True, 0, False, True)
            user.sf_id = owner_id
            users.append(user)
        return users

    def next_sf_counter(self, obj: str) -> int:
        """The record number after the newest id of a Salesforce object."""
        table = self.dataset.table("salesforce", obj)
        return max((salesforce_counter(row["Id"]) for row in table[-50:] if is_salesforce_id(row["Id"], row["Id"][:3])),
                   default=62**5 * 3) + 1

    def next_hs_id(self, obj: str) -> int:
        """The number after the newest numeric id of a HubSpot object."""
        table = self.dataset.table("hubspot", obj)
        key = "id"
        return max((int(row[key]) for row in table[-50:] if str(row[key]).isdigit()), default=100) + 1

    @property
    def domains(self) -> set[str]:
        """Registrable domains already used by some company."""
        if self._domains is None:
            domains = set()
            for row in self.dataset.table("salesforce", "Account"):
                domain = registrable_domain(row["Website"])
                if domain:
                    domains.add(domain)
            for row in self.dataset.table("hubspot", "companies"):
                domain = registrable_domain(row["properties"]["domain"] or row["properties"].get("website"))
                if domain:
                    domains.add(domain)
            self._domains = domains
        return self._domains

    @property
    def emails(self) -> set[str]:
        """E-mail addresses already used by some person record (generated addresses are lower-case)."""
        if self._emails is None:
            emails = set()
            for obj in ("Lead", "Contact"):
                emails.update(row["Email"] for row in self.dataset.table("salesforce", obj))
            emails.update(row["properties"]["email"] for row in self.dataset.table("hubspot", "contacts"))
            emails.discard(None)
            self._emails = emails
        return self._emails

    @property
    def associations(self) -> dict[tuple[str, str], list[dict]]:
        """HubSpot association rows by the (object type, id) they mention, from or to."""
        if self._associations is None:
            index: dict[tuple[str, str], list[dict]] = defaultdict(list)
            for row in self.dataset.table("hubspot", "associations"):
                index[(row["from_type"], row["from_id"])].append(row)
                index[(row["to_type"], row["to_id"])].append(row)
            self._associations = index
        return self._associations

    def add_association(self, row: dict) -> None:
        """Append an association row and index it."""
        self.dataset.table("hubspot", "associations").append(row)
        if self._associations is not None:
            self._associations[(row["from_type"], row["from_id"])].append(row)
            self._associations[(row["to_type"], row["to_id"])].append(row)

    def live_sf(self, obj: str, record_id: str) -> dict | None:
        """A Salesforce record that is not deleted, or None."""
        row = self.sf[obj].get(record_id)
        return row if row is not None and not row.get("IsDeleted") else None

    def live_hs(self, obj: str, record_id: str) -> dict | None:
        """A HubSpot record that is neither archived nor merged away, or None."""
        row = self.hs[obj].get(record_id)
        return row if row is not None and not row.get("archived") else None

    def company(self, entity: str) -> Company | None:
        """The real company behind an entity id, reconstructed from its live source records."""
        cached = self._companies.get(entity)
        if cached is not None:
            return cached
        accounts = [row for system, record_id in self.company_records.get(entity, ())
                    if system == "salesforce" and (row := self.live_sf("Account", record_id))]
        hs_rows = [row for system, record_id in self.company_records.get(entity, ())
                   if system == "hubspot" and (row := self.live_hs("companies", record_id))]
        if not accounts and not hs_rows:
            return None
        account = accounts[0] if accounts else None
        props = hs_rows[0]["properties"] if hs_rows else {}
        name = (account["Name"] if account else None) or props.get("name") or "Unknown"
        base = strip_legal_suffix(name) or name
        country = _COUNTRY_BY_NAME.get(((account or {}).get("BillingCountry") or props.get("country") or "").lower(),
                                       "US")
        suffix = name[len(base):].strip(" ,") or vocab.COUNTRIES[country][4][0]
        domain = registrable_domain((account or {}).get("Website")) or registrable_domain(props.get("domain")) \
            or registrable_domain(props.get("website"))
        industry = _SF_INDUSTRY.get((account or {}).get("Industry"), _HS_INDUSTRY.get(props.get("industry"), 0))
        employees = (account or {}).get("NumberOfEmployees") or int(float(props.get("numberofemployees") or 40))
        owner = self.user_by_sf.get((account or {}).get("OwnerId")) or \
            self.user_by_hs.get(props.get("hubspot_owner_id"))
        presence = BOTH if accounts and hs_rows else SF_ONLY if accounts else HS_ONLY
        created = 0
        company = Company(int(entity.rsplit("-", 1)[1]), base, suffix, domain, country,
                          (account or {}).get("BillingCity") or props.get("city") or vocab.COUNTRIES[country][5][0],
                          industry, employees, (account or {}).get("AnnualRevenue"), created, owner, presence)
        company.entity_id = entity
        if (account and (account["Type"] or "").startswith("Customer")) or props.get("lifecyclestage") == "customer":
            company.customer_since = 0
        company.sf_ids = [row["Id"] for row in accounts]
        company.hs_ids = [row["id"] for row in hs_rows]
        self._companies[entity] = company
        return company

    def forget_company(self, entity: str) -> None:
        """Drop a cached company after its records changed (merge, delete, new record)."""
        self._companies.pop(entity, None)

    def campaigns_running(self, day: int) -> list[UtmCampaign]:
        """UTM campaigns whose Salesforce campaign runs on ``day``, rebuilt from the ground truth."""
        if self._campaigns is None:
            platforms: dict[str, set[str]] = defaultdict(set)
            sf_ids: dict[str, str] = {}
            keys: dict[str, str] = {}
            has_email: set[str] = set()
            for row in self.dataset.ground_truth["campaigns"]:
                if row["utm_campaign"] is None:
                    continue
                entity = row["entity_id"]
                keys[entity] = row["utm_campaign"]
                if row["source_system"] == "salesforce":
                    sf_ids[entity] = row["source_record_id"]
                elif row["source_system"] == "hubspot":
                    has_email.add(entity)
                else:
                    platforms[entity].add(row["source_system"])
            campaigns = []
            for entity, key in keys.items():
                record = self.sf["Campaign"].get(sf_ids.get(entity))
                if record is None:
                    continue
                match = _UTM_KEY.match(key)
                kind, topic, region = (match.group(3), match.group(4), match.group(5) or "") if match else \
                    (key.split("_")[0] if key.split("_")[0] in vocab.UTM_PLATFORMS else "brand", "",
                     "_" + key.rsplit("_", 1)[-1])
                start = day_number(record["StartDate"]) * DAY
                end = day_number(record["EndDate"]) * DAY if record["EndDate"] else None
                campaign = UtmCampaign(0, key, kind, topic, region, start, end, tuple(sorted(platforms[entity])),
                                       True, entity in has_email, record["BudgetedCost"] or 0.0)
                campaign.entity_id = entity
                campaign.sf_id = record["Id"]
                campaigns.append(campaign)
            self._campaigns = campaigns
        return [campaign for campaign in self._campaigns
                if campaign.start // DAY <= day and (campaign.end is None or day <= campaign.end // DAY)]
