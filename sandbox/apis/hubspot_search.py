"""The data side of the HubSpot emulator: property typing, CRM-search filters, and the per-object
indexes that keep paging fast at a million records.

An :class:`ObjectIndex` wraps one CRM object table (``contacts``, ``companies`` or ``deals``) and
builds its views lazily: live and archived records in id order (for the list endpoint's cursor)
and, per property that a search narrows or sorts on, the live records sorted by that property's
value (for ``bisect``). The emulator throws an index away when the data changes; see
``HubSpotEmulator._view``.

Search semantics follow reference/source-apis.md section 2.3: OR between filter groups, AND within
one; datetime filter values as epoch milliseconds or ISO-8601 (an epoch in seconds is silently read
as milliseconds, as the real API does); numbers compared as numbers (``hs_object_id`` "999" < "1000");
other strings compared case-insensitively; a comparison on a property a record lacks never matches.
"""

from __future__ import annotations

import fnmatch
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, NamedTuple

from sandbox.dataset import hubspot_datetime

CRM_OBJECTS = ("contacts", "companies", "deals")
#: The property that carries the last-modified moment: contacts differ from the other objects.
MODIFIED_PROPERTY = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate",
                     "deals": "hs_lastmodifieddate"}
#: Properties a list or search returns when the request names none.
DEFAULT_PROPERTIES = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
              "hs_object_id", "pipeline"),
}
MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 10
MAX_FILTERS = 25

VALUE_OPERATORS = {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
LIST_OPERATORS = {"IN", "NOT_IN"}
PRESENCE_OPERATORS = {"HAS_PROPERTY", "NOT_HAS_PROPERTY"}
OPERATORS = VALUE_OPERATORS | LIST_OPERATORS | PRESENCE_OPERATORS | {"BETWEEN"}
#: Operators a sorted index can answer with bisect.
RANGE_OPERATORS = {"EQ", "GT", "GTE", "LT", "LTE", "BETWEEN"}

_KNOWN_TYPES = {
    "hs_object_id": "number", "createdate": "datetime", "lastmodifieddate": "datetime",
    "hs_lastmodifieddate": "datetime", "closedate": "datetime", "amount": "number", "annualrevenue": "number",
    "numberofemployees": "number", "hubspotscore": "number", "hs_deal_stage_probability": "number",
}
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_INTEGER = re.compile(r"^-?\d+$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TYPE_SAMPLE = 50  # values read to guess the type of a property the emulator does not know
_TYPE_SCAN = 20_000  # records looked at for them (a mostly-null property must not cost a full scan)


class ValidationError(ValueError):
    """A request the real API refuses with a 400 ``VALIDATION_ERROR``; the message says why."""


def datetime_key(value: Any) -> str | None:
    """The fixed-width ``…T…sssZ`` form of a datetime given as epoch ms, ISO-8601 or a date, else None.

    Values already in HubSpot's fixed-width form pass through untouched, so index builds stay cheap.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return _from_epoch_ms(value)
    if not isinstance(value, str) or not value:
        return None
    if len(value) == 24 and value[10] == "T" and value[19] == "." and value[23] == "Z":
        return value
    if _INTEGER.match(value):
        return _from_epoch_ms(int(value))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return hubspot_datetime(moment)


def number_key(value: Any) -> float | None:
    """A property value as a number, or None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def text_key(value: Any) -> str | None:
    """A property value compared as text: case-insensitive, booleans as ``true``/``false``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).casefold()


_KEYS: dict[str, Callable[[Any], Any]] = {"datetime": datetime_key, "number": number_key, "string": text_key}


def _from_epoch_ms(ms: int) -> str | None:
    try:
        return hubspot_datetime(_EPOCH + timedelta(milliseconds=ms))
    except OverflowError:
        return None


def record_id_number(record: dict) -> int:
    """A CRM record's id as a number (ids are numeric strings); orders records the way HubSpot pages them."""
    return int(record["id"])


class IdOrdered(NamedTuple):
    """Records in id order with their numeric ids alongside, for ``bisect`` on a cursor."""

    ids: list[int]
    rows: list[dict]


class SortedView(NamedTuple):
    """Live records that have a value for one property, ordered by (value, id); ``keys`` holds the values."""

    keys: list
    rows: list[dict]


def _id_ordered(rows: list[dict]) -> IdOrdered:
    ids = [int(r["id"]) for r in rows]
    if all(earlier < later for earlier, later in zip(ids, ids[1:], strict=False)):
        return IdOrdered(ids, rows)  # generated tables come in id order: skip the sort
    order = sorted(range(len(ids)), key=ids.__getitem__)
    return IdOrdered([ids[i] for i in order], [rows[i] for i in order])


def properties_of(record: dict) -> dict:
    """The record's ``properties``, or an empty dict when a hand-written record has none or a broken one."""
    properties = record.get("properties")
    return properties if isinstance(properties, dict) else {}


class ObjectIndex:
    """Lazily built views of one CRM object's records; build a new one whenever the records change."""

    def __init__(self, object_type: str, records: list[dict]) -> None:
        self.object_type = object_type
        self._records = records
        self._types: dict[str, str] = {}
        self._sorted: dict[str, SortedView] = {}

    @cached_property
    def live(self) -> IdOrdered:
        """Records that are not archived, in id order."""
        return _id_ordered([r for r in self._records if not r.get("archived")])

    @cached_property
    def archived(self) -> IdOrdered:
        """Archived (soft-deleted) records, in id order."""
        return _id_ordered([r for r in self._records if r.get("archived")])

    def prepare(self, sorted_by: tuple[str, ...] = ()) -> None:
        """Build the live and archived views, and the views sorted by `sorted_by`, now rather than on first use."""
        _ = self.live, self.archived  # cached properties: reading them builds them
        for name in sorted_by:
            self.sorted_by(name)

    def find(self, record_id: str, archived: bool) -> dict | None:
        """One record by id among the live (or the archived) records."""
        if not record_id.isdigit():
            return None
        view = self.archived if archived else self.live
        position = bisect_left(view.ids, int(record_id))
        if position < len(view.ids) and view.ids[position] == int(record_id):
            return view.rows[position]
        return None

    def property_type(self, name: str) -> str:
        """``datetime``, ``number`` or ``string``: known for standard properties, else read off samples."""
        if name not in self._types:
            self._types[name] = _KNOWN_TYPES.get(name) or self._infer_type(name)
        return self._types[name]

    def key_function(self, name: str) -> Callable[[Any], Any]:
        """Turns a raw value of the property into something that compares the way HubSpot compares it."""
        return _KEYS[self.property_type(name)]

    def sorted_by(self, name: str) -> SortedView:
        """Live records with a usable value of ``name``, ordered by (value, id)."""
        view = self._sorted.get(name)
        if view is None:
            view = self._sorted[name] = self._build_sorted(name)
        return view

    def _build_sorted(self, name: str) -> SortedView:
        live = self.live
        if name == "hs_object_id":  # the record id by definition: id order is already its order
            return SortedView(live.ids, live.rows)
        key = self.key_function(name)
        values, rows = [], []
        for record in live.rows:
            properties = record.get("properties")
            value = properties.get(name) if type(properties) is dict else None
            if value is not None and (value := key(value)) is not None:
                values.append(value)
                rows.append(record)
        # Sorting positions (not (value, record) tuples) is several times faster on big tables; the
        # sort is stable, so ties keep the id order the rows come in.
        order = sorted(range(len(values)), key=values.__getitem__)
        return SortedView([values[i] for i in order], [rows[i] for i in order])

    def _infer_type(self, name: str) -> str:
        samples = []
        for record in self.live.rows[:_TYPE_SCAN]:
            value = properties_of(record).get(name)
            if isinstance(value, str) and value:
                samples.append(value)
                if len(samples) >= _TYPE_SAMPLE:
                    break
        if samples and all(_ISO_DATETIME.match(v) for v in samples):
            return "datetime"
        if samples and all(_NUMBER.match(v) for v in samples):
            return "number"
        return "string"


@dataclass
class Condition:
    """One filter of a filter group, with its value(s) already converted to the property's comparable form."""

    prop: str
    operator: str
    key: Callable[[Any], Any]
    value: Any = None
    high: Any = None
    values: frozenset = field(default_factory=frozenset)

    def matches(self, properties: dict) -> bool:
        """True when a record with these properties passes the filter."""
        raw = properties.get(self.prop)
        present = raw is not None and raw != ""
        if self.operator == "HAS_PROPERTY":
            return present
        if self.operator == "NOT_HAS_PROPERTY":
            return not present
        actual = self.key(raw) if present else None
        # NEQ / NOT_IN also match records without the property (unverified: the must-not semantics of the
        # search index behind the API).
        if self.operator == "NEQ":
            return actual != self.value
        if self.operator == "NOT_IN":
            return actual not in self.values
        if self.operator == "NOT_CONTAINS_TOKEN":
            return actual is None or not _contains_token(str(raw), self.value)
        if actual is None:
            return False
        return self._compare(actual, raw)

    def _compare(self, actual, raw) -> bool:
        operator = self.operator
        if operator == "EQ":
            return actual == self.value
        if operator == "IN":
            return actual in self.values
        if operator == "CONTAINS_TOKEN":
            return _contains_token(str(raw), self.value)
        try:
            if operator == "GT":
                return actual > self.value
            if operator == "GTE":
                return actual >= self.value
            if operator == "LT":
                return actual < self.value
            if operator == "LTE":
                return actual <= self.value
            return self.value <= actual <= self.high
        except TypeError:
            return False

    def bounds(self, keys: list) -> tuple[int, int]:
        """The slice of a sorted key list this range condition keeps."""
        operator, low, high = self.operator, 0, len(keys)
        if operator in ("GT", "GTE", "EQ", "BETWEEN"):
            low = (bisect_right if operator == "GT" else bisect_left)(keys, self.value)
        if operator in ("LT", "LTE", "EQ", "BETWEEN"):
            top = self.high if operator == "BETWEEN" else self.value
            high = (bisect_left if operator == "LT" else bisect_right)(keys, top)
        return low, high


def _contains_token(text: str, pattern: str) -> bool:
    text = text.casefold()
    if fnmatch.fnmatchcase(text, pattern):
        return True
    return any(fnmatch.fnmatchcase(token, pattern) for token in re.split(r"[^\w*]+", text) if token)


@dataclass
class SearchQuery:
    """A validated search body: OR-ed groups of AND-ed conditions, one sort, the requested properties."""

    groups: list[list[Condition]]
    sort_property: str
    descending: bool
    properties: list[str] | None
    limit: int
    after: int

    @property
    def cache_key(self) -> tuple:
        """What identifies the ordered result set (paging and properties excluded)."""
        groups = tuple(tuple((c.prop, c.operator, repr(c.value), repr(c.high),
                              tuple(sorted(map(repr, c.values)))) for c in group)
                       for group in self.groups)
        return groups, self.sort_property, self.descending


def parse_search(body: Any, index: ObjectIndex, max_limit: int) -> SearchQuery:
    """Validate a search request body the way the real API does, raising :class:`ValidationError`."""
    if not isinstance(body, dict):
        raise ValidationError("Invalid input JSON: expected an object")
    if body.get("query"):
        raise ValidationError("the sandbox does not emulate free-text 'query' search; use filterGroups")
    raw_groups = body.get("filterGroups") or []
    if not isinstance(raw_groups, list) or not all(isinstance(g, dict) for g in raw_groups):
        raise ValidationError("Invalid input JSON: filterGroups must be an array of objects")
    if len(raw_groups) > MAX_FILTER_GROUPS:
        raise ValidationError(f"Too many filter groups: {len(raw_groups)}. "
                              f"The maximum is {MAX_FILTER_GROUPS}.")
    groups = [_parse_group(group.get("filters") or [], index) for group in raw_groups]
    total = sum(len(group) for group in groups)
    if total > MAX_FILTERS:
        raise ValidationError(f"Too many filters: {total}. "
                              f"The maximum across all filter groups is {MAX_FILTERS}.")
    sort_property, descending = _parse_sort(body.get("sorts") or [])
    properties = body.get("properties")
    if properties is not None and (not isinstance(properties, list)
                                   or not all(isinstance(p, str) for p in properties)):
        raise ValidationError("Invalid input JSON: properties must be an array of strings")
    return SearchQuery(groups=[g for g in groups if g] or [[]], sort_property=sort_property,
                       descending=descending, properties=properties,
                       limit=_bounded_int(body.get("limit", 10), "limit", 1, max_limit),
                       after=_bounded_int(body.get("after", 0) or 0, "after", 0, None))


def _parse_group(raw_filters: Any, index: ObjectIndex) -> list[Condition]:
    if not isinstance(raw_filters, list):
        raise ValidationError("Invalid input JSON: filters must be an array")
    if len(raw_filters) > MAX_FILTERS_PER_GROUP:
        raise ValidationError(f"Too many filters in a filter group: {len(raw_filters)}. "
                          f"The maximum is {MAX_FILTERS_PER_GROUP}.")
    return [_parse_filter(raw, index) for raw in raw_filters]


def _parse_filter(raw: Any, index: ObjectIndex) -> Condition:
    if not isinstance(raw, dict) or not raw.get("propertyName") or not raw.get("operator"):
        raise ValidationError("Invalid input JSON: Cannot build Filter, some of required attributes "
                              "are not set [propertyName, operator]")
    prop, operator = raw["propertyName"], raw["operator"]
    if operator not in OPERATORS:
        raise ValidationError(f"Invalid input JSON: Cannot deserialize value of type `FilterOperatorEnum` "
                              f"from String \"{operator}\": not one of the values accepted for Enum class: "
                              f"{sorted(OPERATORS)}")
    key = index.key_function(prop)
    if operator in PRESENCE_OPERATORS:
        return Condition(prop, operator, key)
    if operator in LIST_OPERATORS:
        values = raw.get("values")
        if not isinstance(values, list) or not values:
            raise ValidationError(f"{operator} filter on {prop} needs a non-empty 'values' array")
        return Condition(prop, operator, key, values=frozenset(_filter_value(v, key, prop) for v in values))
    if "value" not in raw:
        raise ValidationError(f"{operator} filter on {prop} needs a 'value'")
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        return Condition(prop, operator, key, value=str(raw["value"]).casefold())
    value = _filter_value(raw["value"], key, prop)
    if operator != "BETWEEN":
        return Condition(prop, operator, key, value=value)
    if "highValue" not in raw:
        raise ValidationError(f"BETWEEN filter on {prop} needs a 'highValue'")
    return Condition(prop, operator, key, value=value, high=_filter_value(raw["highValue"], key, prop))


def _filter_value(raw: Any, key: Callable[[Any], Any], prop: str):
    text = raw if isinstance(raw, str) else ("true" if raw is True else "false" if raw is False else str(raw))
    value = key(text)
    if value is None:
        raise ValidationError(f"Invalid filter value {raw!r} for property {prop}")
    return value


def _parse_sort(sorts: Any) -> tuple[str, bool]:
    if not isinstance(sorts, list):
        raise ValidationError("Invalid input JSON: sorts must be an array")
    if not sorts:
        return "hs_object_id", False
    if len(sorts) > 1:
        raise ValidationError("Only one sort is supported")
    sort = sorts[0]
    if isinstance(sort, str):
        return sort.lstrip("-"), sort.startswith("-")
    if not isinstance(sort, dict) or not sort.get("propertyName"):
        raise ValidationError("Invalid input JSON: a sort needs a propertyName")
    direction = sort.get("direction", "ASCENDING")
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValidationError(f"Invalid sort direction {direction!r}")
    return sort["propertyName"], direction == "DESCENDING"


def _bounded_int(raw: Any, name: str, low: int, high: int | None) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError(f"Invalid input JSON: {name} must be an integer, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        upper = f" and {high}" if high is not None else ""
        raise ValidationError(f"{name} must be between {low}{upper}, got {value}" if upper
                          else f"{name} must be at least {low}, got {value}")
    return value


def run_search(index: ObjectIndex, query: SearchQuery) -> list[dict]:
    """Every live record matching the query, in the query's order (the caller pages through it)."""
    if len(query.groups) == 1:
        rows, ordered_by = _group_matches(index, query.groups[0], query.sort_property)
        if ordered_by == query.sort_property:
            return rows[::-1] if query.descending else rows
        return _sorted(index, rows, query.sort_property, query.descending)
    seen: dict[str, dict] = {}
    for group in query.groups:
        for record in _group_matches(index, group, query.sort_property)[0]:
            seen.setdefault(record["id"], record)
    return _sorted(index, list(seen.values()), query.sort_property, query.descending)


def _group_matches(index: ObjectIndex, conditions: list[Condition],
                   sort_property: str) -> tuple[list[dict], str]:
    """Records passing one AND-group, and the property they come ordered by.

    The narrowest range on a datetime or number property is cut out of that property's sorted index
    with bisect (preferring the sort property on a tie, which saves sorting). The conditions on that
    property are then already met; only the others are tested, and only on the records in the range.
    """
    best = None
    for prop in {c.prop for c in conditions if c.operator in RANGE_OPERATORS}:
        if index.property_type(prop) == "string":
            continue
        keys = index.sorted_by(prop).keys
        low, high = 0, len(keys)
        for condition in conditions:
            if condition.prop == prop and condition.operator in RANGE_OPERATORS:
                start, stop = condition.bounds(keys)
                low, high = max(low, start), min(high, stop)
        rank = (max(0, high - low), prop != sort_property)
        if best is None or rank < best[0]:
            best = (rank, prop, low, high)
    if best is None:
        candidates, ordered_by = _unfiltered(index, sort_property)
        remaining = conditions
    else:
        _, ordered_by, low, high = best
        candidates = index.sorted_by(ordered_by).rows[low:max(low, high)]
        remaining = [c for c in conditions if c.prop != ordered_by or c.operator not in RANGE_OPERATORS]
    if not remaining:
        return candidates, ordered_by
    return [r for r in candidates if all(c.matches(properties_of(r)) for c in remaining)], ordered_by


def _unfiltered(index: ObjectIndex, sort_property: str) -> tuple[list[dict], str]:
    """All live records, already in sort order when every one of them has a sortable value."""
    if sort_property != "hs_object_id" and index.property_type(sort_property) != "string":
        view = index.sorted_by(sort_property)
        if len(view.rows) == len(index.live.rows):
            return view.rows, sort_property
    return index.live.rows, "hs_object_id"


def _sorted(index: ObjectIndex, rows: list[dict], prop: str, descending: bool) -> list[dict]:
    """Rows ordered by one property (ties by id); rows without a value come last either way."""
    key = index.key_function(prop)
    present, missing = [], []
    for record in rows:
        value = key(properties_of(record).get(prop))
        if value is None:
            missing.append(record)
        else:
            present.append((value, record_id_number(record), record))
    present.sort(key=lambda item: (item[0], item[1]), reverse=descending)
    missing.sort(key=record_id_number)
    return [record for _, _, record in present] + missing
