"""Fault injection: rules that make chosen requests fail the way the real API fails.

A rule is posted to ``POST /_sandbox/faults`` as JSON::

    {"api": "salesforce", "kind": "server_error", "path_contains": "/query/",
     "skip": 1, "times": 2}

It matches requests to `api` whose path contains `path_contains`; it lets the first `skip`
matching requests through, then fires on the next `times` of them. Kinds every emulator
understands: ``rate_limit`` (the API's own throttle signal), ``server_error`` (5xx),
``expire_token`` (all tokens of the API expire, the request then fails with the API's 401),
``slow`` (the response is delayed), ``drop`` (the connection closes in the middle of the body)
and ``malformed`` (a body or record the connector cannot parse). An emulator registers kinds of
its own with :func:`register_kinds` (Salesforce's ``query_timeout``, HubSpot's ``daily_limit``, ...).

Beyond those five fields, a rule may carry only the fields its kind reads (:data:`KINDS` maps
each kind to them); any other is refused, naming the field and the kind, rather than ignored:

- ``seconds``: how long ``slow`` delays the response;
- ``retry_after``: the wait in seconds a throttle advertises, for ``rate_limit`` (Google Ads, HubSpot
  and Meta put it in their answer; Salesforce's and LinkedIn's throttles name no wait) and Meta's
  ``account_rate_limit``;
- ``rows``: the most records a query may match before Salesforce's ``query_timeout`` refuses it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: The fields every rule takes, whatever its kind.
COMMON_FIELDS = frozenset({"api", "kind", "path_contains", "skip", "times"})
#: The fields only some kinds read; a kind declares which of them it reads when it is registered.
KIND_FIELDS = frozenset({"seconds", "retry_after", "rows"})

_kinds: dict[str, frozenset[str]] = {}
#: Every registered kind and the fields of :data:`KIND_FIELDS` it reads (read-only: see :func:`register_kinds`).
KINDS: Mapping[str, frozenset[str]] = MappingProxyType(_kinds)


def register_kinds(*names: str, fields: Iterable[str] = ()) -> None:
    """Register fault kinds that read the optional `fields` (from :data:`KIND_FIELDS`), so that rules of them
    are accepted. Registering a kind again with the same fields does nothing; with other fields it is an error."""
    reads = frozenset(fields)
    if reads - KIND_FIELDS:
        raise ValueError(f"fault kinds {list(names)}: unknown fields {sorted(reads - KIND_FIELDS)} "
                         f"(a kind may read: {', '.join(sorted(KIND_FIELDS))})")
    for name in names:
        if not name or not isinstance(name, str):
            raise ValueError(f"a fault kind's name must be a non-empty string, got {name!r}")
        if _kinds.get(name, reads) != reads:
            raise ValueError(f"fault kind {name!r} is already registered reading {sorted(_kinds[name])}, "
                             f"not {sorted(reads)}")
        _kinds[name] = reads


register_kinds("server_error", "expire_token", "drop", "malformed")
register_kinds("rate_limit", fields={"retry_after"})
register_kinds("slow", fields={"seconds"})


@dataclass
class FaultRule:
    """One injected fault; see the module docstring for the fields."""

    api: str
    kind: str
    path_contains: str = ""
    skip: int = 0
    times: int = 1
    seconds: float = 0.0
    retry_after: int = 1
    rows: int = 0
    fired: int = 0
    seen: int = 0

    @classmethod
    def from_json(cls, body: dict) -> FaultRule:
        """Build a rule from the admin endpoint's JSON body, naming what is wrong when it is invalid."""
        if not isinstance(body, dict):
            raise ValueError(f"a fault rule must be a JSON object, got {type(body).__name__}")
        unknown = set(body) - COMMON_FIELDS - KIND_FIELDS
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        kind = body.get("kind")
        if not isinstance(kind, str) or kind not in KINDS:
            raise ValueError(f"fault kind must be one of {sorted(KINDS)}, got {kind!r}")
        if not body.get("api"):
            raise ValueError("fault needs an 'api'")
        _check_fields_apply(kind, set(body) & KIND_FIELDS)
        if "rows" in body and (type(body["rows"]) is not int or body["rows"] < 0):
            raise ValueError(f"fault field 'rows' must be a whole number of at least 0, got {body['rows']!r}")
        return cls(**body)


def _check_fields_apply(kind: str, fields: set[str]) -> None:
    """Refuse the optional fields a rule carries that its kind does not read: a rule silently ignoring what its
    caller set (``seconds`` on ``query_timeout``, which reads ``rows``) would not fail the way they meant."""
    stray = sorted(fields - KINDS[kind])
    if not stray:
        return
    takes = ", ".join(sorted(KINDS[kind])) or f"nothing beyond {', '.join(sorted(COMMON_FIELDS))}"
    named = ", ".join(repr(field) for field in stray)
    field_does = "field {} does" if len(stray) == 1 else "fields {} do"
    raise ValueError(f"fault {field_does.format(named)} not apply to kind {kind!r} (it takes: {takes})")


class FaultPlan:
    """The active fault rules, consulted once per API request."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> None:
        """Activate a rule."""
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def next_fault(self, api: str, path: str) -> FaultRule | None:
        """The rule that fires on this request, if any, counting it as fired."""
        with self._lock:
            for rule in self._rules:
                if rule.api != api or rule.path_contains not in path or rule.fired >= rule.times:
                    continue
                rule.seen += 1
                if rule.seen > rule.skip:
                    rule.fired += 1
                    return rule
        return None

    def describe(self) -> list[dict]:
        """The rules with their counters, for ``GET /_sandbox/faults``."""
        with self._lock:
            return [vars(rule).copy() for rule in self._rules]
