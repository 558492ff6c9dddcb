"""Helpers shared by the ad-platform emulators (Google Ads, Meta, LinkedIn).

* :class:`DateIndex` — metric rows grouped by account and sorted by date, so a date-range read
  is a bisect instead of a scan over a million rows.
* :class:`PathAwareResponse` — a fault response that picks its body from the request path
  (the fault middleware hands ``fault_response`` only the rule, but Google wraps stream errors
  in an array and Meta names the ad account in its throttle headers).
* Exact decimal arithmetic on the platforms' money strings, opaque cursors, request ids and
  settings read from ``SANDBOX_*`` environment variables.
* :func:`control_body` — the JSON body of a ``/_sandbox/...`` control request (every emulator's).
"""

from __future__ import annotations

import base64
import bisect
import json
import os
import secrets
from collections.abc import Callable, Collection, Hashable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route


async def control_body(request: Request, empty: object = None) -> object:
    """The JSON body of a ``/_sandbox/...`` control request, `empty` when it has none; a `ValueError` saying the body
    is not JSON otherwise, which the control answers with a 400."""
    raw = await request.body()
    if not raw:
        return empty
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None


def record_ids_body(body: object, objects: Collection[str], example: str, of_what: str,
                    action: str) -> tuple[str, list[str]]:
    """A records control's JSON body checked, ``{"object": ..., "ids": [...]}``: one of `objects` and a non-empty list
    of record ids (repeats dropped). A `ValueError` otherwise, showing `example` (a valid body), saying what the
    objects are (`of_what`: ``object of the org``) and what the control does to the records (`action`: ``remove``)."""
    if not isinstance(body, dict) or set(body) != {"object", "ids"}:
        raise ValueError(f"the body must be a JSON object such as {example}, not {body!r}")
    object_name, ids = body["object"], body["ids"]
    if object_name not in objects:
        raise ValueError(f"{object_name!r} is no {of_what} (its objects are {', '.join(objects)})")
    if not isinstance(ids, list) or not ids or not all(isinstance(record_id, str) and record_id for record_id in ids):
        raise ValueError(f"the ids of the {object_name} records to {action} must be a non-empty list of record ids, "
                         f"not {ids!r}")
    return object_name, list(dict.fromkeys(ids))


def unheld_ids_error(table: list[dict], object_name: str, ids: list[str], id_field: str,
                     nothing_done: str) -> str | None:
    """A records control's refusal naming those of `ids` that no record of `table` (by its `id_field`) has, and what
    was therefore not done (`nothing_done`: ``nothing was removed``); None when the table holds them all."""
    held = {str(record.get(id_field)) for record in table}
    missing = [record_id for record_id in ids if record_id not in held]
    return f"{object_name} holds no record with the id(s) {', '.join(missing)}: {nothing_done}" if missing else None


async def route_response(routes: Iterable[Route], scope, receive) -> Response | None:
    """The answer of the route among `routes` a request would reach, bypassing faults (a fault may answer a request
    as usual, or start from the usual answer); None when no route matches."""
    for route in routes:
        match, child_scope = route.matches(scope)
        if match == Match.FULL:
            return await route.endpoint(Request({**scope, **child_scope}, receive))
    return None


class DateIndex:
    """Positions of a table's rows grouped by a key (an account) and sorted by a date string.

    Built on first use and rebuilt whenever the table is replaced or changes length, so rows
    appended by time travel or by an upsert are seen. Positions rather than rows are kept, so a
    row replaced in place by an upsert is read fresh (its date and group must not change).
    """

    def __init__(self, group_of: Callable[[dict], Hashable], date_of: Callable[[dict], str]) -> None:
        self._group_of = group_of
        self._date_of = date_of
        self._signature: tuple | None = None
        self._groups: dict[Hashable, tuple[list[str], list[int]]] = {}

    def rows(
        self, table: list[dict], group: Hashable, since: str | None = None, until: str | None = None
    ) -> list[dict]:
        """The rows of `group` dated `since` .. `until` (inclusive, None = open), in date order."""
        dates, positions = self._index(table).get(group, ((), ()))
        low = 0 if since is None else bisect.bisect_left(dates, since)
        high = len(dates) if until is None else bisect.bisect_right(dates, until)
        return [table[position] for position in positions[low:high]]

    def prepare(self, table: list[dict]) -> None:
        """Build the index of `table` now, rather than in the first ``rows`` call after the table changed."""
        self._index(table)

    def _index(self, table: list[dict]) -> dict[Hashable, tuple[list[str], list[int]]]:
        signature = table_signature(table)
        if signature != self._signature:
            grouped: dict[Hashable, list[tuple[str, int]]] = {}
            for position, row in enumerate(table):
                grouped.setdefault(self._group_of(row), []).append((self._date_of(row), position))
            self._groups = {}
            for group, pairs in grouped.items():
                pairs.sort()
                self._groups[group] = ([date for date, _ in pairs], [position for _, position in pairs])
            self._signature = signature
        return self._groups


class PathAwareResponse(Response):
    """A response built only when it is sent, from the request it answers.

    ``fault_response(rule)`` is not given the request; the middleware sends whatever it returns
    with the request's ASGI scope, so the real body is chosen here.
    """

    def __init__(self, render: Callable[[Request], Response]) -> None:
        super().__init__(status_code=500)
        self._render = render

    async def __call__(self, scope, receive, send) -> None:
        await self._render(Request(scope, receive))(scope, receive, send)


class DerivedViews:
    """Views derived from the dataset's tables (indexes, sorted copies), each rebuilt only when its table changes.

    "Changed" means: another list object, another length, another dataset clock (time advanced), or another
    ``state.data_version`` (bumped by ``upsert_records``, which can replace records in place). Checking these is
    O(1) per request, so the first request after a change pays for the rebuild (unless the emulator's ``prepare``
    built the view first) and every request after it is served from the view.
    """

    def __init__(self, state) -> None:
        self._state = state
        self._views: dict[Hashable, tuple[tuple, Any]] = {}

    def get(self, key: Hashable, table: list[dict], build: Callable[[list[dict]], Any]) -> Any:
        """The view `key` of `table`, built by `build(table)` when missing or out of date."""
        stamp = (id(table), len(table), self._state.dataset.clock, getattr(self._state, "data_version", 0))
        cached = self._views.get(key)
        if cached is None or cached[0] != stamp:
            cached = self._views[key] = (stamp, build(table))
        return cached[1]


def table_signature(*tables: list[dict]) -> tuple:
    """A cheap fingerprint that changes when a table is replaced, grows, shrinks or gets a new last row."""
    return tuple((id(table), len(table), id(table[-1]) if table else None) for table in tables)


def decimal_sum(values: Iterable[str | int | float | None]) -> Decimal:
    """The exact sum of decimal strings (numbers are accepted too); None and blanks count as zero."""
    total = Decimal(0)
    for value in values:
        if value is None or value == "":
            continue
        total += value if isinstance(value, Decimal) else Decimal(str(value))
    return total


def decimal_text(value: Decimal) -> str:
    """A decimal as plain digits, never in exponent form (``Decimal('1E+2')`` → ``"100"``)."""
    text = format(value, "f")
    return text if text != "-0" else "0"


def to_decimal(value) -> Decimal | None:
    """A decimal from a string or number, or None when it is not a number."""
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def encode_cursor(payload: dict) -> str:
    """An opaque, URL-safe page cursor carrying `payload`."""
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict | None:
    """The payload of a cursor made by :func:`encode_cursor`, or None when it is not one."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        return None
    return payload if isinstance(payload, dict) else None


def request_id(length: int = 22) -> str:
    """A random request id in the style the platforms print (``Xk2vQ9uLp0R7sT1wYb3nZA``)."""
    return secrets.token_urlsafe(length)[:length]


def env_int(name: str, default: int) -> int:
    """An integer setting from the environment (``SANDBOX_…``), or `default` when unset or invalid."""
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default
