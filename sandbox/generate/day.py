"""One simulated day of time travel: its moments, random stream, id factories, tallies and record stamping.

Every change stamps the record with a moment inside the simulated day (never earlier than its
previous stamp), the way the source systems do: Salesforce ``LastModifiedDate`` and
``SystemModstamp``, HubSpot ``updatedAt`` plus ``hs_lastmodifieddate`` / ``lastmodifieddate``.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from .context import Context
from .state import State
from .timefmt import DAY, hs_datetime, parse_hs_datetime, parse_sf_datetime, sf_datetime
from .world import User

_HS_MODIFIED = {"companies": "hs_lastmodifieddate", "contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate"}


class Day:
    """One simulated day: its time span, random stream, id factories and tallies."""

    def __init__(self, state: State, seed: str, start: int, summary: dict[str, Counter]) -> None:
        self.state = state
        self.start, self.end = start, start + DAY
        self.ctx = Context(state.dataset, f"advance:{seed}:{start}", self.end, start)
        self.rng = self.ctx.rng("activity")
        self.summary = summary
        self.removed: dict[str, set[str]] = defaultdict(set)
        self.dead_associations: set[int] = set()
        self.new_people: list[tuple[str, str]] = []
        self.new_opps: list[str] = []

    def moment(self) -> int:
        """A random second of the day."""
        return self.start + int(self.rng.random() * DAY)

    def moments(self, count: int) -> list[int]:
        """``count`` random seconds of the day, in order."""
        return sorted(self.moment() for _ in range(count))

    def count(self, expected: float) -> int:
        """``expected`` rounded up or down at random, so small rates still happen now and then."""
        whole = int(expected)
        return whole + (1 if self.rng.random() < expected - whole else 0)

    def tally(self, kind: str, key: str, amount: int = 1) -> None:
        """Add to the summary."""
        self.summary[kind][key] += amount

    def sf_id(self, obj: str) -> str:
        """The next id of a Salesforce object."""
        return self.ctx.sf_ids(obj, start=self.state.next_sf_counter(obj)).take()

    def hs_id(self, obj: str) -> str:
        """The next id of a HubSpot object."""
        return str(self.ctx.sequence(f"hs:{obj}", self.state.next_hs_id(obj), 3).take())


def touch_sf(row: dict, moment: int, user_id: str | None = None, system_only: bool = False) -> int:
    """Stamp a Salesforce record as modified at ``moment`` (kept after its current stamp)."""
    current = row.get("SystemModstamp")
    moment = max(moment, parse_sf_datetime(current) + 1) if current else moment
    text = sf_datetime(moment)
    row["SystemModstamp"] = text
    if not system_only and "LastModifiedDate" in row:
        row["LastModifiedDate"] = text
        if user_id is not None and "LastModifiedById" in row:
            row["LastModifiedById"] = user_id
    return moment


def touch_hs(row: dict, obj: str, moment: int) -> int:
    """Stamp a HubSpot record as modified at ``moment`` (epoch seconds; kept after its current stamp)."""
    field = _HS_MODIFIED[obj]
    properties = row.setdefault("properties", {})
    current = properties.get(field) or row.get("updatedAt")
    millis = moment * 1000 + (moment * 7919) % 1000
    if current:
        millis = max(millis, parse_hs_datetime(current) + 1)
    text = hs_datetime(millis)
    properties[field] = text
    row["updatedAt"] = text
    return millis


def pick_live(day: Day, obj: str, predicate=None, tries: int = 12) -> dict | None:
    """A random live (not deleted / archived / merged) record of an object, or None after ``tries`` misses."""
    state = day.state
    api = "salesforce" if obj[0].isupper() else "hubspot"
    table = state.dataset.table(api, obj)
    if not table:
        return None
    for _ in range(tries):
        row = table[int(day.rng.random() * len(table))]
        if api == "salesforce":
            if row.get("IsDeleted") or state.sf[obj].get(row["Id"]) is not row:
                continue
        elif row.get("archived") or state.hs[obj].get(row["id"]) is not row:
            continue
        if predicate is None or predicate(row):
            return row
    return None


def random_user(day: Day) -> User:
    """A random active Salesforce user."""
    return day.rng.choice(day.state.active_sf_users)


def add_truth(state: State, table: str, entity: str, system: str, record_id: str) -> None:
    """Append a ground-truth row and index it."""
    state.dataset.ground_truth[table].append({"entity_id": entity, "source_system": system,
                                              "source_record_id": record_id})
    key = (system, record_id)
    if table == "companies":
        state.company_records[entity].append(key)
        state.company_of_record[key] = entity
        state.forget_company(entity)
    else:
        state.person_records[entity].append(key)
        state.person_of_record[key] = entity
