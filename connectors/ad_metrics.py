"""What every ad-platform metrics stream shares: restatement windows, date chunks, and row stamps.

Ad platforms restate past days for weeks (late conversions, spend corrections) and report each
day in the ad account's own time zone. So every run re-reads a trailing window that ends *today
in the account's time zone*, by the platform's clock (the ``Date`` its answers carry, see
:meth:`connectors.http.HttpClient.server_now`): a machine whose clock is off, or an emulator whose
data stops at its own moment, still gets the days that exist. The loader replaces whatever that
window covers; the first run (no cursor yet) backfills a longer history instead, and a run after
a long pause resumes at the cursor. Chunks are read oldest first and every account's rows of a
chunk are handed over together: a run that stops early (a spent quota) never loads half a chunk,
so the cursor (the newest date loaded) only ever passes complete chunks and the next run resumes
where it should.

The window is planned per account: each account keeps its own newest complete day (see
:class:`AccountCursors`), so an account that appears after the first sync gets the full history
backfill while the accounts already synced re-read only their trailing window.

Every metric row carries its account's currency and time zone, a single-column key
(``account:entity…:date``) and a window key (``account:date``): the loader replaces all rows of
each loaded window key, so a restated day wins, a row the platform no longer reports for that
day goes, and one account's partial read never touches another account's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
import pyarrow.compute as pc

from connectors.errors import SourceError
from connectors.schema import Field, Stream

Clock = Callable[[], datetime]
#: (account, first day, last day) of one read; a chunk is a list of them, one per account.
Span = tuple[Hashable, date, date]


@dataclass(frozen=True)
class MetricWindow:
    """How much a metrics stream re-reads each run (`lookback_days`, ending today), how much the first
    run backfills (`history_days`), and how many days one read covers at most (`chunk_days`)."""

    lookback_days: int = 28
    history_days: int = 365
    chunk_days: int = 30

    def __post_init__(self) -> None:
        if min(self.lookback_days, self.history_days, self.chunk_days) < 1:
            raise ValueError(f"every window setting must be at least one day: {self}")

    def days_to_read(self, today: date, since: date | None) -> tuple[date, date]:
        """The first and last day to read for an account whose local date is `today`.

        `since` is the newest day already loaded (the stream cursor): the window never starts
        after it, so days missed while runs were paused are read too.
        """
        window_start = today - timedelta(days=self.lookback_days - 1)
        if since is None:
            return min(window_start, today - timedelta(days=self.history_days - 1)), today
        return min(window_start, since), today

    def plan(self, spans: dict[Hashable, tuple[date, date]]) -> list[list[Span]]:
        """Chunks of at most `chunk_days` on one calendar grid, oldest first, each listing every account's part."""
        if not spans:
            return []
        cursor = min(start for start, _ in spans.values())
        last = max(end for _, end in spans.values())
        chunks = []
        while cursor <= last:
            chunk_end = cursor + timedelta(days=self.chunk_days - 1)
            parts = [(account, max(start, cursor), min(end, chunk_end))
                     for account, (start, end) in spans.items() if start <= chunk_end and end >= cursor]
            if parts:
                chunks.append(parts)
            cursor = chunk_end + timedelta(days=1)
        return chunks


def cursor_date(since: datetime | date | None) -> date | None:
    """The stream cursor as a date (the loader hands it back as a datetime at midnight)."""
    if since is None:
        return None
    return since.date() if isinstance(since, datetime) else since


def local_today(clock: Clock, time_zone: str) -> date:
    """Today's date in `time_zone` (an IANA name) at the clock's current instant."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceError(f"the account reports in an unknown time zone {time_zone!r}") from None
    return clock().astimezone(zone).date()


#: The key of the per-account cursors in the loader's state of a metrics stream.
ACCOUNT_CURSORS_KEY = "account_cursors"


class AccountCursors:
    """The newest complete day read per account of one metrics stream.

    `state` is where the days are kept between runs (the loader's stream state, or None for a
    client used outside a load). An account with no entry has never been read: it gets the full
    history. State written before per-account cursors existed holds only the stream cursor;
    then every account resumes from it, as before.
    """

    def __init__(self, state: MutableMapping | None, since: date | None) -> None:
        self.state = state
        self.since = since
        self.known: dict[str, str] | None = None if state is None else state.get(ACCOUNT_CURSORS_KEY)

    def since_for(self, account: Hashable) -> date | None:
        """The newest day already loaded for `account` (None: never loaded, so backfill)."""
        if self.known is None:
            return self.since
        day = self.known.get(str(account))
        return date.fromisoformat(day) if day else None

    def adopt(self, accounts: list[Hashable]) -> None:
        """Give `accounts` the stream cursor as their own when the state predates per-account cursors.

        Written before any chunk is read, so a run that stops early still leaves every account it
        knew resuming from the stream cursor rather than looking new.
        """
        if self.state is not None and self.known is None and self.since is not None:
            self.known = self.state[ACCOUNT_CURSORS_KEY] = {str(account): self.since.isoformat()
                                                            for account in accounts}

    def advance(self, chunk: list[Span]) -> None:
        """Record that every account of `chunk` was read through its part's last day."""
        if self.state is None:
            return
        known = self.state.setdefault(ACCOUNT_CURSORS_KEY, dict(self.known or {}))
        for account, _, last in chunk:
            if known.get(str(account), "") < last.isoformat():
                known[str(account)] = last.isoformat()
        self.known = known


def plan_reads(window: MetricWindow, accounts: dict[Hashable, date], since: datetime | date | None,
               state: MutableMapping | None) -> tuple[list[list[Span]], AccountCursors]:
    """The chunks to read for `accounts` (each with its local today), planned from each account's own cursor.

    `state` is the loader's state of the stream (see :mod:`connectors.loader_state`), None outside a load.
    """
    cursors = AccountCursors(state, cursor_date(since))
    cursors.adopt(list(accounts))
    spans = {account: window.days_to_read(today, cursors.since_for(account)) for account, today in accounts.items()}
    return window.plan(spans), cursors


def following_spans(chunks: list[list[Span]]) -> dict[Span, Span]:
    """For every span of `chunks`, the span `read_in_chunks` reads after it (the last one has none): the request a
    client can send ahead while it decodes this one."""
    spans = [span for chunk in chunks for span in chunk]
    return dict(zip(spans, spans[1:], strict=False))


def read_in_chunks(chunks: list[list[Span]], read: Callable[[Hashable, date, date], Iterator[list[dict]]],
                   cursors: AccountCursors | None = None) -> Iterator[list[dict]]:
    """Every page of every chunk, each chunk's pages yielded only once all its accounts were read.

    Once the loader has taken a chunk's last page, `cursors` records the chunk as read.
    """
    for chunk in chunks:
        pages = [page for account, first, last in chunk for page in read(account, first, last) if page]
        yield from pages
        if cursors is not None:
            cursors.advance(chunk)


#: The columns the client adds to every metric row (sources starting with ``_`` are not the platform's fields).
STAMP_FIELDS = (
    Field("row_key", "_row_key"),
    Field("window_key", "_window_key"),
    Field("currency_code", "_currency_code"),
    Field("account_time_zone", "_account_time_zone"),
)


def metric_stream(name: str, date_source: str, fields: tuple[Field, ...], options: dict) -> Stream:
    """A daily metrics stream: keyed by ``row_key``, cursor on the metric date, restated per ``window_key``."""
    return Stream(
        name=name,
        primary_key="row_key",
        cursor=date_source,
        window_column="window_key",
        fields=STAMP_FIELDS + (Field("date", date_source, "date"),) + fields,
        options=options,
    )


def stamp(row: dict, account: str, entity_ids: list[object], day: object, currency: str | None,
          time_zone: str | None) -> dict:
    """Add the key, window key, currency and time zone to one metric row (in place) and return it.

    A row without its day or an entity id gets no key, so the loader quarantines it instead of
    the stream failing on it.
    """
    complete = isinstance(day, str) and day and all(part not in (None, "") for part in entity_ids)
    row["_row_key"] = ":".join([account, *map(str, entity_ids), day]) if complete else None
    row["_window_key"] = f"{account}:{day}" if complete else None
    row["_currency_code"] = currency
    row["_account_time_zone"] = time_zone
    return row


def stamp_columns(account: str, entity_ids: list[pa.Array], day: pa.Array, currency: str | None,
                  time_zone: str | None) -> dict[str, pa.Array]:
    """:func:`stamp` for a page Arrow read: the key, window key, currency and time zone of every row, whose entity
    ids and day are non-empty text (see :func:`text_at`; a page with a row lacking one is Python's to quarantine)."""
    rows = len(day)
    owner = pa.repeat(pa.scalar(account, pa.string()), rows)
    return {
        "_row_key": pc.binary_join_element_wise(owner, *entity_ids, day, ":"),
        "_window_key": pc.binary_join_element_wise(owner, day, ":"),
        "_currency_code": pa.repeat(pa.scalar(currency, pa.string()), rows),
        "_account_time_zone": pa.repeat(pa.scalar(time_zone, pa.string()), rows),
    }


def text_at(records: pa.StructArray, path: tuple[str, ...]) -> pa.Array | None:
    """The text at `path` in every record, or None when a record lacks it (or it is not text, or empty)."""
    values: pa.Array = records
    for name in path:
        index = values.type.get_field_index(name) if pa.types.is_struct(values.type) else -1
        if index < 0:
            return None
        values = values.flatten()[index] if values.null_count else values.field(index)  # a null parent: null
    if not pa.types.is_string(values.type) or values.null_count or pc.any(pc.equal(pc.utf8_length(values), 0)).as_py():
        return None
    return values
