"""Fault injection: rules that make chosen requests fail the way the real API fails.

A rule is posted to ``POST /_sandbox/faults`` as JSON::

    {"api": "salesforce", "kind": "server_error", "path_contains": "/query/",
     "skip": 1, "times": 2}

It matches requests to `api` whose path contains `path_contains`; it lets the first `skip`
matching requests through, then fires on the next `times` of them. Kinds every emulator
understands: ``rate_limit`` (the API's own throttle signal), ``server_error`` (5xx),
``expire_token`` (all tokens of the API expire, the request then fails with the API's 401),
``slow`` (the response is delayed by ``seconds``) and ``drop`` (the connection closes in
the middle of the body). An emulator may add kinds of its own; ``rows`` is a threshold of
records for such a kind (Salesforce's ``query_timeout``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

KINDS = {"rate_limit", "server_error", "expire_token", "slow", "drop", "malformed"}


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
        unknown = set(body) - {"api", "kind", "path_contains", "skip", "times", "seconds", "retry_after", "rows"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if "rows" in body and (type(body["rows"]) is not int or body["rows"] < 0):
            raise ValueError(f"fault field 'rows' must be a whole number of at least 0, got {body['rows']!r}")
        if body.get("kind") not in KINDS:
            raise ValueError(f"fault kind must be one of {sorted(KINDS)}, got {body.get('kind')!r}")
        if not body.get("api"):
            raise ValueError("fault needs an 'api'")
        return cls(**body)


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
