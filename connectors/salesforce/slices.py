"""Reading a Salesforce object in slices of its cursor range when a query runs too long (``QUERY_TIMEOUT``).

Salesforce refuses a SOQL query that runs too long on a big object with HTTP 400 ``QUERY_TIMEOUT``. A read
(:meth:`SlicedRead.pages`) sends the stream's query as usual; only when it is refused does it read the same
range again in half-open slices of the cursor, ``SystemModstamp >= lo AND < hi``, oldest first, each in cursor
order, so the rows still come in ascending cursor order and the cursor only moves forward:

* refused at once: the range runs from the cursor (less the lookback), or for a first read from the object's
  oldest stamp, to just past its newest stamp (each asked with ``ORDER BY SystemModstamp ASC|DESC LIMIT 1``, an
  index walk that stays fast where the whole scan runs too long), and is split in two. The newest stamp, not the
  server's time: this machine's clock may differ from the org's, and the org's is only known from an earlier
  answer; a record modified after the read began is stamped past it and read by the next run;
* refused on a later page (``nextRecordsUrl``): the rows handed over stay, and the rest is read from the cursor
  value of the last row handed over up to the time of the query's first page, rows already handed over at
  that value left out;
* a slice refused at once is halved; one no wider than the client's `min_slice` fails the read instead,
  naming the object and the slice.

No row a query would have returned is lost or read twice. The slices end where the slicing began (or where the
refused query was answered), so a record modified during the read gets a stamp past every slice: it is read
by the next run, whose cursor is at most the newest row read here, never in two versions by this one. A listing
of every key cannot leave it to a next run (a key it lacks reads as hard-deleted): its caller lists the records
stamped at or after the slices' end (:attr:`SlicedRead.slices_end`) once they are read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from connectors.errors import SourceError
from connectors.redact import get_logger

if TYPE_CHECKING:
    from connectors.pages import PageDecoder
    from connectors.salesforce.client import SalesforceClient
    from connectors.schema import Stream

log = get_logger("connectors.salesforce")

#: The `kind` of the verdict and error of a query Salesforce refused as running too long.
QUERY_TIMEOUT = "query_timeout"
#: The narrowest slice a read halves down to; a slice this narrow that still times out fails the read.
MIN_SLICE = timedelta(hours=1)
#: Salesforce stamps to the millisecond: the exclusive end just past a stamp.
STAMP_RESOLUTION = timedelta(milliseconds=1)


def parse_datetime(text: str) -> datetime:
    """A Salesforce datetime as the REST API writes it, e.g. ``2024-05-01T09:12:55.000+0000``."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def soql_datetime(moment: datetime) -> str:
    """An unquoted SOQL datetime literal in UTC, e.g. ``2024-05-01T00:00:00.000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Window:
    """The half-open range of cursor values ``[lo, hi)`` one query reads."""

    lo: datetime
    hi: datetime

    @property
    def width(self) -> timedelta:
        """How much time the window spans."""
        return self.hi - self.lo

    def halves(self) -> tuple[Window, Window]:
        """The older and the newer half."""
        middle = self.lo + self.width / 2
        return Window(self.lo, middle), Window(middle, self.hi)

    def describe(self, cursor: str) -> str:
        """The window as its query's condition, e.g. ``SystemModstamp >= 2024-05-01T00:00:00.000Z AND < …``."""
        return f"{cursor} >= {soql_datetime(self.lo)} AND < {soql_datetime(self.hi)}"


@dataclass(frozen=True)
class HandedOver:
    """The cursor value of the last row handed over, and the ids of the rows handed over with it."""

    stamp: str
    ids: frozenset[str]


class SlicedRead:
    """One read of a stream through ``queryAll`` that falls back to slices on ``QUERY_TIMEOUT`` (module docstring)."""

    def __init__(self, client: SalesforceClient, stream: Stream, since: datetime | None,
                 decode: PageDecoder) -> None:
        if not isinstance(client.min_slice, timedelta) or client.min_slice < STAMP_RESOLUTION:
            raise ValueError(f"SalesforceClient.min_slice must be a timedelta of at least {STAMP_RESOLUTION} "
                             f"(Salesforce stamps to the millisecond), not {client.min_slice!r}")
        self.client = client
        self.stream = stream
        self.since = since
        self.decode = decode
        self._pages_read = 0
        self._first_answer: datetime | None = None  # the server's time when the stream's query answered
        self._handed: HandedOver | None = None  # left out of the next query's rows
        self._last_page: Sequence[dict] | None = None  # of the current query, the last one with rows
        #: The exclusive end of the cursor range read in slices: where the slicing began, or where the refused query
        #: was answered. None while (or when) the read is not sliced: one query's rows, as it found them.
        self.slices_end: datetime | None = None

    def pages(self) -> Iterator[Sequence[dict]]:
        """The stream's pages: its query's, or on a timeout the rest of them read in slices."""
        refused = yield from self._query(self.client.soql(self.stream, self.since))
        if refused is None:
            return
        if not self.stream.cursor:
            raise refused
        if self._last_page is not None:
            self._handed = self._handed_over()
            window = Window(parse_datetime(self._handed.stamp), self._first_answer)
            self.slices_end = window.hi
            log.warning(f"{self._object}: query ran too long (QUERY_TIMEOUT) after {self._pages_read} page(s); "
                        f"reading the rest in slices from {window.describe(self.stream.cursor)}")
            yield from self._slices(deque([window]))
            return
        window = self._whole_range()
        if window is None:  # no record at all
            return
        self.slices_end = window.hi
        log.warning(f"{self._object}: query ran too long (QUERY_TIMEOUT); reading "
                    f"{window.describe(self.stream.cursor)} in slices")
        yield from self._slices(deque([window]), refused)

    @property
    def _object(self) -> str:
        return f"salesforce {self.stream.options['object']}"

    def _whole_range(self) -> Window | None:
        """The range the refused query read: from the cursor less the lookback, or from the object's oldest stamp,
        up to just past its newest stamp; None when the object has no record."""
        newest = self.client.edge_stamp(self.stream, newest=True)
        if newest is None:
            return None
        lo = self.client.read_start(self.stream, self.since)
        if lo is None:
            lo = self.client.edge_stamp(self.stream, newest=False)
        return Window(lo, newest + STAMP_RESOLUTION)

    def _slices(self, pending: deque[Window], refused: SourceError | None = None) -> Iterator[Sequence[dict]]:
        """Read `pending` oldest first; `refused`: the first window's range was refused already (halve it)."""
        while pending:
            window = pending.popleft()
            if window.hi <= window.lo:
                continue
            if refused is None:
                refused = yield from self._query(self.client.soql_between(self.stream, window.lo, window.hi))
                if refused is None:
                    continue
                if self._last_page is not None:  # rows came before the timeout: read on from the last one
                    self._handed = self._handed_over()
                    pending.appendleft(Window(parse_datetime(self._handed.stamp), window.hi))
                    refused = None
                    continue
            if window.width <= self.client.min_slice:
                raise SourceError(f"{self._object}: the query of the slice {window.describe(self.stream.cursor)} "
                                  f"still ran too long (QUERY_TIMEOUT) at the narrowest slice "
                                  f"({self.client.min_slice})", kind=QUERY_TIMEOUT) from refused
            pending.extendleft(reversed(window.halves()))
            refused = None

    def _query(self, soql: str) -> Iterator[Sequence[dict]]:
        """Yield one query's pages (rows handed over already left out); return its ``QUERY_TIMEOUT`` error, if any."""
        self._last_page = None
        try:
            for page in self.client.query_pages(soql, self.decode):
                if self._first_answer is None:
                    self._first_answer = self.client.http.server_now()
                page = self._without_handed(page)
                if len(page):
                    self._last_page = page
                    self._pages_read += 1
                    yield page
        except SourceError as exc:
            if exc.kind != QUERY_TIMEOUT:
                raise
            return exc
        return None

    def _without_handed(self, page: Sequence[dict]) -> Sequence[dict]:
        """`page` without the rows handed over before a timeout (they come first, in cursor order)."""
        if self._handed is None:
            return page
        cursor, handed = self.stream.cursor, self._handed
        kept = [record for record in page if record.get(cursor) != handed.stamp or record.get("Id") not in handed.ids]
        if page and page[-1].get(cursor) != handed.stamp:
            self._handed = None  # past the handed-over stamp: no more repeats to look for
        return kept if len(kept) < len(page) else page

    def _handed_over(self) -> HandedOver:
        """Where the current query stopped: the last row handed over, and its stamp's rows in that page (and in
        what was handed over before with the same stamp). Rows of that stamp in earlier pages are read again
        and kept once by the loader's merge on Id."""
        records = self._last_page
        stamp = records[-1][self.stream.cursor]
        ids = {record["Id"] for record in records if record.get(self.stream.cursor) == stamp}
        if self._handed is not None and self._handed.stamp == stamp:
            ids |= self._handed.ids
        return HandedOver(stamp, frozenset(ids))
