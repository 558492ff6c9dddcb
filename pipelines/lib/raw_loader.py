"""Load a source's streams into its ``raw_<source>`` schema with dlt: Arrow pages, merge on primary key.

The stream cursor lives in dlt's resource state, which dlt writes to the warehouse in the
same load package as the rows: a run that dies before its load commits leaves the cursor
where it was, and the next run reads the same records again and merges them, so nothing is
lost and nothing doubles. Records that do not convert go to ``raw_<source>._quarantine``
with the reason and the run id.

A long read is committed in parts: once ``RAW_CHECKPOINT_SECONDS`` (default 600) have passed since a
stream's last commit, a stream read in cursor order, or by windows, or a read in no cursor order that
notes where it can resume (``Stream.RESUME_KEY``: HubSpot's first read of a CRM object, a listing by
id), ends its load at the next page that may start a new one, commits those rows with the cursor a
partial read may commit (a first read in no cursor order commits none) and the read's state, and goes
on loading its next pages in a new load (see :class:`_StreamPages`). A first backfill that dies after
hours keeps what it loaded, and the next run reads on from its last checkpoint. Any other read in no
cursor order, and a stream read whole, is still one load.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dlt
import duckdb

# pyarrow imports pandas on its first conversion of Python objects. Imported here, it is never
# imported by the reader thread while dlt, in the loader's thread, finds it half-initialized.
import pandas  # noqa: F401
import pyarrow as pa
from dlt.common.destination import Destination
from dlt.common.destination.exceptions import DestinationUndefinedEntity
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from connectors.errors import SourceLimitReached
from connectors.loader_state import reading_with
from connectors.pages import to_arrow
from connectors.redact import get_logger
from connectors.schema import Rejected, Stream
from pipelines.lib.key_reconciliation import KeyLister, KeyReconciliation, flag_unread_rows
from pipelines.lib.merge_changes import ChangeCountingDuckDb, ChangeCountingPostgres, change_hints, merge_changes
from pipelines.lib.settings import whole_count

# dlt reads its settings from the environment when a pipeline starts (telemetry) and when it normalizes a load
# (the parquet normalizer's `_dlt_load_id`), not when it is imported: set here, they precede every pipeline of
# this module and of `raw_tables`, which imports it. An operator's own value wins.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")

log = get_logger("pipelines.raw_loader")

PageReader = Callable[[Stream, datetime | None], Iterator[Sequence[dict]]]
Discoverer = Callable[[Stream], Stream]
QUARANTINE_TABLE = "_quarantine"
BATCH_ROWS = 50_000
#: How far the background reader may run ahead of the loader, in bytes of Arrow pages: enough to keep the
#: source serving through the load of a large stream (a few seconds at scale M).
READ_AHEAD_BYTES = 256 * 2**20
DUCKDB_MEMORY_LIMIT = "768MB"
#: The setting of how many seconds a stream read in cursor order, by windows, or by a read that notes where it can
#: resume, loads before it commits a checkpoint.
CHECKPOINT_SETTING = "RAW_CHECKPOINT_SECONDS"
CHECKPOINT_SECONDS = 600
#: The setting naming the full-refresh streams whose read of nothing may empty a table that holds rows.
EMPTY_REFRESH_SETTING = "RAW_EMPTY_REFRESH_ALLOWED"
#: The sources `EMPTY_REFRESH_SETTING` may name (those of ``pipelines/defs/ingest``).
SOURCES = ("salesforce", "hubspot", "google_ads", "meta_ads", "linkedin_ads")
#: The load stamps added to every row: when it was loaded and by which run.
LOAD_COLUMNS = (pa.field("_loaded_at", pa.timestamp("us", tz="UTC")), pa.field("_run_id", pa.string()))


@dataclass
class StreamLoad:
    """What one stream's sync did, reported as Dagster materialization metadata.

    Of the rows a merge or a full refresh took, `inserted` had a key new to the table, `updated` the key of a
    stored row whose content they changed, `unchanged` the key of a stored row with the same content (re-read by
    a lookback, a restated window, a read's overlap or a full refresh); the load stamps (``_loaded_at``,
    ``_run_id``, ``_dlt_load_id``) do not count as content. A key read twice in one load counts once. `removed`
    counts the stored keys the load took away: those a full refresh no longer read (a user deleted, an owner
    archived), and those of a restated window its re-read no longer has. `deleted` counts the rows loaded
    flagged as deleted at the source (they stay in the table). `vanished` counts the stored rows a reconciliation of
    the stream's keys flagged ``_vanished_at``: their record is no longer at the source (see
    :mod:`pipelines.lib.key_reconciliation`); `reconciliation` says what that reconciliation did or why it did not
    run (None: the stream's keys are not reconciled).
    `notes` say what the source's reads left out and why (a Google Ads account skipped as not enabled).

    A stream whose load checkpoints split (see :class:`_StreamPages`) adds up the counts of its loads; a key read
    again after a checkpoint counts in both. `cursor_before` is the cursor the run started from, `cursor_after` the
    one its last load committed.
    """

    stream: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    deleted: int = 0
    vanished: int = 0
    pages: int = 0
    quarantined: int = 0
    cursor_before: str | None = None
    cursor_after: str | None = None
    stopped_early: str | None = None
    reconciliation: str | None = None
    rejected: list[Rejected] = field(default_factory=list, repr=False)
    notes: list[str] = field(default_factory=list)


def _file_format(warehouse: str) -> str | None:
    """PostgreSQL loads through COPY from CSV (many times faster than INSERT statements); DuckDB takes parquet."""
    return "csv" if warehouse.startswith(("postgresql://", "postgres://")) else None


@contextmanager
def open_destination(warehouse: str) -> Iterator[Destination]:
    """The dlt destination of a warehouse setting, a DuckDB file path or a ``postgresql://`` URL, for one sync.

    A DuckDB file is opened once, and dlt's loads, state reads and row counts all share that
    database: otherwise each of them opens the file again (9 opens for one stream's load, 20-40 ms
    each) and checkpoints it on closing. It gets a memory limit: by default DuckDB takes most of
    the machine's memory for the merge of a large load (2 GB at scale M), while with a limit it
    spills to disk and keeps the loader small.

    Either destination's merges count what they change (see :mod:`pipelines.lib.merge_changes`).
    """
    if warehouse.startswith(("postgresql://", "postgres://")):
        yield ChangeCountingPostgres(credentials=warehouse)
        return
    Path(warehouse).parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(warehouse, config={"memory_limit": DUCKDB_MEMORY_LIMIT})
    try:
        yield ChangeCountingDuckDb(credentials=connection)
    finally:
        connection.close()


def load_streams(
    source: str,
    streams: Sequence[Stream],
    read_pages: PageReader,
    warehouse: str,
    pipelines_dir: Path,
    run_id: str,
    discover: Discoverer | None = None,
    source_keys: KeyLister | None = None,
) -> dict[str, StreamLoad]:
    """Sync `streams` of `source` into ``raw_<source>`` and return what each stream did.

    `discover`, when given, extends each stream with the fields the source reports beyond the
    declared ones, so a field added at the source arrives as a new column instead of being dropped.

    A background reader reads the streams in order while the loader writes them to the warehouse.
    A stream whose read is still going on is loaded on its own, committed with its cursor, while
    the next one is read; the streams already read by then are loaded together in the next load.
    A stream read in cursor order, by windows, or by a read that notes where it can resume (HubSpot's first read) is
    committed every ``RAW_CHECKPOINT_SECONDS`` seconds of its load (whole seconds >= 0, default 600; 0: after every
    batch of `BATCH_ROWS`), read here before anything else, in as many loads (see :class:`_StreamPages`); a bad
    value is a `ValueError` naming the variable.

    A full refresh that reads no loadable row leaves a table that holds rows as it is, unless
    ``RAW_EMPTY_REFRESH_ALLOWED`` names the stream (see :func:`empty_refresh_allowed`, read here, before anything).

    `source_keys`, when given, lists the keys the source still holds: once the streams are loaded, the stored rows of
    those read by their cursor whose record is gone get flagged, every ``RAW_KEY_RECONCILIATION_DAYS`` days, unless
    they are more than ``RAW_KEY_RECONCILIATION_MAX_VANISHED_PERCENT`` of the table (both read here too; see
    :mod:`pipelines.lib.key_reconciliation`).
    """
    checkpoint_seconds = whole_count(CHECKPOINT_SETTING, CHECKPOINT_SECONDS, 0, "seconds")
    allowed_empty = empty_refresh_allowed(source, streams)
    reconciliation = KeyReconciliation.of(source_keys)
    with open_destination(warehouse) as destination:
        pipeline = dlt.pipeline(pipeline_name=f"common_ground_{source}", destination=destination,
                                dataset_name=f"raw_{source}", pipelines_dir=str(pipelines_dir))
        return _sync(pipeline, source, streams, read_pages, _file_format(warehouse), run_id, discover, allowed_empty,
                     reconciliation, checkpoint_seconds)


def empty_refresh_allowed(source: str, synced: Iterable[Stream] = ()) -> frozenset[str]:
    """The streams of `source` whose full refresh may flag every stored row by reading nothing; ``*`` stands for all.

    Read from ``RAW_EMPTY_REFRESH_ALLOWED``: comma-separated ``<source>.<stream>`` names (``hubspot.owners``), or
    ``*`` for every stream of every source. Each problem is a `ValueError` naming the variable and the entry, raised
    before the sync reads or writes anything:

    * an entry naming `source` with a name that is none of its streams (``hubspot.ownrs``), which also lists them.
      Its streams are all those of its catalogue (:func:`source_streams`) and the `synced` ones, not only those of
      this run: a run of some of them (a subset of the raw assets) must not reject an entry about another;
    * an entry naming a stream of `source` read by its cursor or window (``hubspot.contacts``): such a read merges
      into its table and never flags its rows, so the entry would do nothing; the message lists the streams read
      whole;
    * an entry that is not ``<source>.<stream>``, or names no known source. Such an entry belongs to no source, so
      it fails every source's sync: were it ignored, the safe default (the table kept) would silently stay in force
      while the user believes the setting is.

    An entry naming another known source is left to that source's sync to check.
    """
    allowed = set()
    for entry in (part.strip() for part in os.environ.get(EMPTY_REFRESH_SETTING, "").split(",")):
        if not entry:
            continue
        if entry == "*":
            allowed.add("*")
            continue
        named_source, _, stream = entry.partition(".")
        if not named_source or not stream:
            raise ValueError(f"{EMPTY_REFRESH_SETTING} takes comma-separated <source>.<stream> names (e.g. "
                             f"hubspot.owners) or *, not {entry!r}")
        if named_source not in SOURCES:
            raise ValueError(f"{EMPTY_REFRESH_SETTING}: {entry!r} names no known source (the sources are "
                             f"{', '.join(SOURCES)})")
        if named_source != source:
            continue
        streams = {known.name: known for known in (*source_streams(source), *synced)}
        if stream not in streams:
            raise ValueError(f"{EMPTY_REFRESH_SETTING}: {entry!r} names no stream of {source} (its streams are "
                             f"{', '.join(sorted(streams))})")
        if not _is_full_refresh(streams[stream]):
            whole = sorted(name for name, known in streams.items() if _is_full_refresh(known))
            raise ValueError(f"{EMPTY_REFRESH_SETTING}: {entry!r} names a stream read incrementally, whose reads merge "
                             f"into its table and never empty it (the streams of {source} read whole are "
                             f"{', '.join(whole)})")
        allowed.add(stream)
    return frozenset(allowed)


def source_streams(source: str) -> tuple[Stream, ...]:
    """Every stream of `source`, one of `SOURCES`: its connector's catalogue (the ``STREAMS`` of
    ``connectors.<source>.streams``, those its raw assets are built from), whichever of them a run syncs."""
    return tuple(importlib.import_module(f"connectors.{source}.streams").STREAMS)


def _sync(pipeline: dlt.Pipeline, source: str, streams: Sequence[Stream], read_pages: PageReader,
          file_format: str | None, run_id: str, discover: Discoverer | None,
          allowed_empty: frozenset[str], reconciliation: KeyReconciliation | None = None,
          checkpoint_seconds: int | None = None) -> dict[str, StreamLoad]:
    """The sync of :func:`load_streams` of `source` through `pipeline`, whose destination is open; `allowed_empty`
    names the streams whose full refresh may flag every row (:func:`empty_refresh_allowed`); `reconciliation`,
    when given, reconciles the loaded streams' keys with the source's once every stream is loaded, so its listings
    never run alongside the reader's requests. A stream that may be checkpointed (:func:`_checkpoints`) commits its
    load every `checkpoint_seconds` (None: never), in as many loads as that takes, each counted into its result."""
    pipeline.sync_destination()  # the cursors are read before the first load: take them from the warehouse
    streams, undiscovered = _discovered(streams, discover)
    states = {stream.name: _stored_state(pipeline, stream.name) for stream in streams}
    loaded_at = datetime.now(UTC)
    results = {stream.name: StreamLoad(stream.name, cursor_before=states[stream.name].get("cursor"))
               for stream in streams}
    for name, left_out in undiscovered.items():
        left_out.cursor_before = left_out.cursor_after = _stored_state(pipeline, name).get("cursor")
        results[name] = left_out
    checkpointed = {stream.name for stream in streams if checkpoint_seconds is not None and _checkpoints(stream)}
    quarantined = dict.fromkeys(results, 0)  # of each stream's rejected records, how many are in the quarantine
    with _SourceReader(streams, read_pages, states, results, checkpointed) as reader:
        waiting = list(streams)
        while waiting:
            group = [waiting.pop(0)]
            while waiting and reader.finished(waiting[0]):
                group.append(waiting.pop(0))
            # not read: an earlier stream met a limit of the whole source; their tables are left as they are
            group = [stream for stream in group if not reader.skipped(stream)]
            pages = {stream.name: _StreamPages(stream, reader.pages(stream), states[stream.name],
                                               results[stream.name].cursor_before,
                                               checkpoint_seconds if stream.name in checkpointed else None)
                     for stream in group}
            while group:  # again for the streams a checkpoint ended the load of, with the pages they have left
                rows_before = {stream.name: _row_count(pipeline, stream.name) for stream in group}
                rows_loaded = {stream.name: results[stream.name].rows for stream in group}
                resources = []
                for stream in group:
                    result = results[stream.name]
                    if _is_full_refresh(stream):
                        tables = _read_whole(stream, pages[stream.name].tables(), result)
                        if tables is None:
                            continue  # stopped early: a partial read would flag the rows it missed: left out
                        if _keeps_table(source, stream, tables, result, rows_before[stream.name], allowed_empty):
                            continue  # read nothing loadable: more likely a fault at the source than every record gone
                        pages[stream.name] = _StreamPages.whole(stream, tables, states[stream.name],
                                                                result.cursor_before)
                    resources.append(_resource(stream, pages[stream.name], result, run_id, loaded_at,
                                               empty=rows_before[stream.name] == 0))
                load_ids = []
                if resources:
                    load_ids = pipeline.run(resources, loader_file_format=file_format).loads_ids
                for stream in group:
                    result = results[stream.name]
                    _count_changes(pipeline, stream, result, result.rows - rows_loaded[stream.name],
                                   rows_before[stream.name], run_id, load_ids)
                    if _is_full_refresh(stream) and any(resource.name == stream.name for resource in resources):
                        with pipeline.sql_client() as client:
                            result.reconciliation = flag_unread_rows(
                                client, stream, result, run_id, loaded_at,
                                guarded=not _may_read_empty(stream, allowed_empty))
                group = [stream for stream in group if pages[stream.name].checkpointed]
                # the next run reads on after the pages a checkpoint committed: their rejected records are kept now
                _quarantine(pipeline, [(stream.name, results[stream.name], pages[stream.name].rejected_loaded)
                                       for stream in group], quarantined, run_id, loaded_at)
    _quarantine(pipeline, [(name, result, len(result.rejected)) for name, result in results.items()], quarantined,
                run_id, loaded_at)
    if reconciliation is not None:  # last: whatever befalls it, the loads and their rejected records are committed
        reconciliation.run(pipeline, streams, results, run_id, loaded_at)
    return results


def _quarantine(pipeline: dlt.Pipeline, upto: Iterable[tuple[str, StreamLoad, int]], quarantined: dict[str, int],
                run_id: str, loaded_at: datetime) -> None:
    """Append to the quarantine table each stream's rejected records, in `upto` its name, its result and how many
    of them to have there; `quarantined` says how many already are, and is brought up to date."""
    rejected = []
    for name, result, count in upto:
        rejected += [(name, r) for r in result.rejected[quarantined[name]:count]]
        quarantined[name] = max(quarantined[name], count)
    if rejected:
        pipeline.run(_quarantine_table(rejected, run_id, loaded_at), table_name=QUARANTINE_TABLE,
                     write_disposition="append")


def _discovered(streams: Sequence[Stream], discover: Discoverer | None) -> tuple[list[Stream], dict[str, StreamLoad]]:
    """Each stream with the fields the source reports beyond the declared ones, and the streams left out.

    A stream whose discovery the source refused for its quota or a throttle (`SourceLimitReached`) is not
    read this run: read without its discovered fields, it would blank them in the rows it merges. It is
    reported as stopped early, with its cursor kept, and the next run reads it. When that limit is the whole
    source's (`SourceLimitReached.source_wide`), no other stream is discovered or read this run either: each
    would meet the same limit, and pay its wait again.
    """
    if discover is None:
        return list(streams), {}
    discovered, left_out = [], {}
    for stream in streams:
        try:
            discovered.append(discover(stream))
        except SourceLimitReached as exc:
            left_out[stream.name] = StreamLoad(stream.name, stopped_early=str(exc))
            log.warning(f"{stream.name}: {exc}; its fields could not be discovered, so it is not read this run")
            if exc.source_wide:
                others = [other for other in streams if other.name not in left_out]
                left_out.update({other.name: StreamLoad(other.name, stopped_early=_not_read_message(stream, exc))
                                 for other in others})
                _warn_not_read(others, stream, exc)
                return [], left_out
    return discovered, left_out


def _not_read_message(limited: Stream, exc: SourceLimitReached) -> str:
    """Why a stream was not read: `limited`, an earlier stream, met a limit of the whole source."""
    return f"not read: stream {limited.name} met a limit of the whole source ({exc})"


def _warn_not_read(streams: Sequence[Stream], limited: Stream, exc: SourceLimitReached) -> None:
    """One warning naming the streams a limit of the whole source, met by `limited`, leaves to the next run."""
    if streams:
        names = ", ".join(stream.name for stream in streams)
        log.warning(f"{limited.name}: {exc}; a limit of the whole source, so {names} are not read this run: their "
                    "cursors and tables are kept, and the next run reads them")


def _stored_state(pipeline, stream: str) -> dict:
    """A copy of what the last committed load of `stream` stored in dlt's state: its cursor and
    whatever its reads keep there (see :mod:`connectors.loader_state`)."""
    resources = pipeline.state.get("sources", {}).get(pipeline.pipeline_name, {}).get("resources", {})
    return copy.deepcopy(resources.get(stream, {}))


def _is_full_refresh(stream: Stream) -> bool:
    """A stream without a cursor or a window is read whole (a full refresh): merged on its key, the stored rows its
    read lacks flagged."""
    return stream.cursor is None and stream.window_column is None


def _checkpoints(stream: Stream) -> bool:
    """Whether a long load of `stream` may be split at checkpoints: any stream but a full refresh. Where a load may
    end depends on how it is read (:meth:`_StreamPages._may_start_load`), and a read in no cursor order that notes
    nothing is never split.

    A checkpoint commits what a partial read may commit (:func:`_committed_cursor`) and the read's state as it was
    at the cut. A read in cursor order moves its cursor to the last row loaded, and a windowed read (ad metrics)
    keeps a cursor per account, so the next run reads on from there. A read in no cursor order can only commit the
    cursor it started from, since its unread records may be older than any loaded. So it is split only at the pages
    before which it noted where it can resume (``Stream.RESUME_KEY``: HubSpot's first read, a listing by id), and
    the next run's read goes on from that note; without a cursor, a first read's stream has none until its read
    completes. Any other read in no cursor order (HubSpot's incremental search) notes nothing, so it stays one load
    and promotes its cursor once complete (the Meltano model). A full refresh flags the stored rows its read lacks:
    a part of its read would flag the rows of the other parts.
    """
    return not _is_full_refresh(stream)


_END = object()


@dataclass(frozen=True)
class _Page:
    """A converted page, and a copy of the read's loader state when the page was read (None: not kept).

    A read writes its state as it goes (an ad read records each chunk of days once the loader took its last page),
    while the loader is still loading the pages before: the copy is what a checkpoint before this page may commit.
    """

    table: pa.Table
    read_state: dict | None = None
    #: How many records the stream's read had rejected once this page was converted, the page's own included.
    rejected: int = 0


class _SourceReader:
    """Reads a source's streams one after another in a background thread, each page converted to Arrow.

    The source serves the next pages while the loader writes and merges: the thread runs ahead of
    the loader by up to `READ_AHEAD_BYTES` of pages, into the next stream while one is merged.
    It reads one page at a time, as without a thread. A stream that stops early (a spent quota)
    ends there and the next stream is still read, unless the limit is the whole source's
    (`SourceLimitReached.source_wide`): then the source's remaining streams are not started (`skipped`), each
    reported as stopped early with its cursor kept, and the loader leaves their tables as they are. Any other
    error ends the reading and is raised to the loader when it reaches that stream.

    Each page of the streams `checkpointed` names carries a copy of the read's state as it was when the page was
    read (see :class:`_Page`).
    """

    def __init__(self, streams: Sequence[Stream], read_pages: PageReader, states: dict[str, dict],
                 results: dict[str, StreamLoad], checkpointed: Iterable[str] = ()) -> None:
        self._checkpointed = frozenset(checkpointed)
        self._pages: dict[str, queue.Queue] = {stream.name: queue.Queue() for stream in streams}
        self._finished: set[str] = set()
        self._skipped: set[str] = set()
        self._room = threading.Condition()
        self._buffered_bytes = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._read_all, args=(streams, read_pages, states, results),
                                        name="read-ahead", daemon=True)

    def __enter__(self) -> _SourceReader:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        with self._room:
            self._stopped = True  # the loader is done or failed: let the thread finish where it is
            self._room.notify_all()
        self._thread.join()

    def finished(self, stream: Stream) -> bool:
        """Whether the read of `stream` is over (all its pages, or its error, are waiting for the loader)."""
        return stream.name in self._finished

    def skipped(self, stream: Stream) -> bool:
        """Whether `stream` was not read: an earlier stream met a limit of the whole source.

        Known by the time the loader reaches `stream`: the streams are marked before the one that met the limit
        is handed its end, and the loader takes them in order.
        """
        return stream.name in self._skipped

    def pages(self, stream: Stream) -> Iterator[_Page]:
        """The converted pages of `stream`, in order; the stream's errors are raised here."""
        while True:
            item = self._pages[stream.name].get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            with self._room:
                self._buffered_bytes -= item.table.nbytes
                self._room.notify_all()
            yield item

    def _read_all(self, streams, read_pages: PageReader, states: dict[str, dict],
                  results: dict[str, StreamLoad]) -> None:
        for number, stream in enumerate(streams):
            cursor, pages = states[stream.name].get("cursor"), None
            try:
                with reading_with(states[stream.name]):
                    pages = read_pages(stream, datetime.fromisoformat(cursor) if cursor else None)
                for page in pages:
                    table = _converted_page(stream, page, results[stream.name])
                    # copied here, in the thread running the read, before it goes on to the next page
                    kept = copy.deepcopy(states[stream.name]) if stream.name in self._checkpointed else None
                    if not self._offer(stream, _Page(table, kept, len(results[stream.name].rejected))):
                        return
            except SourceLimitReached as exc:
                if not exc.source_wide:
                    self._end(stream, exc)  # this stream stops early; the next ones are still read
                    continue
                self._skip(streams[number + 1:], stream, exc, results)  # they would meet it too: left to the next run
                self._end(stream, exc)
                return
            except BaseException as exc:  # noqa: BLE001  (handed to the loader, which raises it in its own thread)
                self._end(stream, exc)
                return
            finally:
                close = getattr(pages, "close", None)  # a generator left mid-way runs its cleanup here, in its thread
                if close is not None:
                    close()
            self._end(stream, _END)

    def _skip(self, streams: Sequence[Stream], limited: Stream, exc: SourceLimitReached,
              results: dict[str, StreamLoad]) -> None:
        """Leave `streams` unread, reported as stopped early by the limit of the whole source `limited` met."""
        message = _not_read_message(limited, exc)
        for stream in streams:
            result = results[stream.name]
            result.stopped_early, result.cursor_after = message, result.cursor_before
            self._skipped.add(stream.name)
            self._end(stream, SourceLimitReached(message, kind=exc.kind, source_wide=True))
        _warn_not_read(streams, limited, exc)

    def _end(self, stream: Stream, last: object) -> None:
        self._pages[stream.name].put(last)
        self._finished.add(stream.name)

    def _offer(self, stream: Stream, page: _Page) -> bool:
        """Queue a page once less than `READ_AHEAD_BYTES` are waiting for the loader; False when it has gone away."""
        with self._room:
            self._room.wait_for(lambda: self._stopped or self._buffered_bytes < READ_AHEAD_BYTES)
            if self._stopped:
                return False
            self._buffered_bytes += page.table.nbytes
        self._pages[stream.name].put(page)
        return True


def _converted_page(stream: Stream, page: Sequence[dict], result: StreamLoad) -> pa.Table:
    """One page as Arrow; its rejected records counted into `result`."""
    result.pages += 1
    conversion = to_arrow(stream, page)
    result.rejected.extend(conversion.rejected)
    result.quarantined += len(conversion.rejected)
    return conversion.table


def _read_whole(stream: Stream, tables: Iterator[pa.Table], result: StreamLoad) -> list[pa.Table] | None:
    """Every converted page of a full-refresh stream, or None when the source stopped it early.

    A full refresh flags the stored rows its read lacks, so it may only be loaded once it is complete: a
    partial read (a spent daily quota, a throttle too long to wait out) leaves the previous table as it
    was, and the next run reads the stream again.
    """
    try:
        return list(tables)
    except SourceLimitReached as exc:
        result.stopped_early = str(exc)
        result.rejected.clear()  # the next run reads these records again
        result.quarantined = 0
        log.warning(f"{stream.name}: {exc}; the table keeps its previous contents")
        return None


def _may_read_empty(stream: Stream, allowed_empty: frozenset[str]) -> bool:
    """Whether `allowed_empty` (:func:`empty_refresh_allowed`) names `stream`: its full refresh may read nothing and
    flag every stored row."""
    return "*" in allowed_empty or stream.name in allowed_empty


def _keeps_table(source: str, stream: Stream, tables: list[pa.Table], result: StreamLoad, rows_before: int,
                 allowed_empty: frozenset[str]) -> bool:
    """Whether a full refresh's whole read, `tables`, must leave the stream's table as it is: it holds rows, the read
    has none to load (none read, or every one rejected) and `allowed_empty` does not name the stream.

    An empty answer more likely means a lost permission scope, an unlinked ad account or a fault at the source than
    every record gone, and loading it would flag every stored row, taking them all from the marts. Such a read is
    reported as stopped early, with one warning; the table, its rows and its state stay as they were, nothing is
    counted removed, and the records it rejected are still quarantined.
    """
    if rows_before == 0 or any(table.num_rows for table in tables) or _may_read_empty(stream, allowed_empty):
        return False
    name = f"{source}.{stream.name}"
    rejected = f" ({result.quarantined} rejected into quarantine)" if result.quarantined else ""
    result.stopped_early = (f"the full refresh of {name} read 0 rows{rejected}, so the table keeps its {rows_before} "
                            f"rows; if {name} really has no records now, add it to {EMPTY_REFRESH_SETTING}")
    result.cursor_after = result.cursor_before
    log.warning(result.stopped_early)
    return True


class _StreamPages:
    """The pages of one stream's read, handed to the one load of it, or to each of the loads checkpoints split it in.

    With `checkpoint_seconds` (None: never; only for a stream :func:`_checkpoints` allows), once a load has run that
    long, it ends after its next full batch, before the next page that may start a new load: for a read in cursor
    order, any page; for a windowed read, only one after the read recorded a chunk of days as read (its state
    changed between the two pages), since a window of an account's day may be spread over a chunk's pages, and
    the load that merges a window replaces every row of it; for a read in no cursor order, only one before which
    the read noted where it can resume (``Stream.RESUME_KEY``), and none when it notes nothing. The load commits
    the cursor of a partial read and the read's state as it was when the next page was read (:class:`_Page`): by
    then the read had recorded only chunks whose every page is in the load, or noted where that next page's read
    began. The next load starts from there, with the next page. The last page of the read ends the last load,
    which commits the read's final state, as an unsplit load does.
    """

    def __init__(self, stream: Stream, pages: Iterator[_Page], read_state: dict, cursor: str | None,
                 checkpoint_seconds: int | None = None) -> None:
        self.stream = stream
        #: The cursor the stream's last load committed (the state's), from which the next load goes on.
        self.cursor = cursor
        #: The cursors of every load's rows: a whole read commits the newest of them all, as an unsplit load does.
        self.cursors = _CursorsRead(stream.cursor_column)
        #: Whether the last load ended at a checkpoint, leaving pages for the next one.
        self.checkpointed = False
        self._pages = pages
        self._read_state = read_state
        self._checkpoint_seconds = checkpoint_seconds
        self._next: _Page | None = None  # the page after a checkpoint, read to find it, left for the next load
        self._last: _Page | None = None  # the last page handed to a load
        self._started = 0.0
        self._due = False

    @classmethod
    def whole(cls, stream: Stream, tables: list[pa.Table], read_state: dict, cursor: str | None) -> _StreamPages:
        """The pages of a full refresh's whole read, loaded in one load."""
        return cls(stream, (_Page(table) for table in tables), read_state, cursor)

    def tables(self) -> Iterator[pa.Table]:
        """The pages of the next load: to the end of the read, or to the checkpoint :meth:`batch_loaded` made due."""
        self.checkpointed, self._due, self._started = False, False, time.monotonic()
        while True:
            page = self._next if self._next is not None else next(self._pages, None)
            self._next = None
            if page is None:
                return
            if self._due and self._may_start_load(page):
                self._next, self.checkpointed = page, True
                return
            self._last = page
            yield page.table

    @property
    def rejected_loaded(self) -> int:
        """How many records the read had rejected up to the last page a load took (the quarantine's share of it)."""
        return self._last.rejected if self._last is not None else 0

    def batch_loaded(self) -> None:
        """Called once a load handed dlt a full batch: the load ends at the next checkpoint, when it is due."""
        if self._checkpoint_seconds is not None and time.monotonic() - self._started >= self._checkpoint_seconds:
            self._due = True

    def read_state(self) -> dict:
        """The read's state the load that just took its pages commits: as it was when the page after a checkpoint
        was read, or else the read's final state."""
        return self._next.read_state if self.checkpointed else self._read_state

    def _may_start_load(self, page: _Page) -> bool:
        """Whether `page` may start a new load: any page of a read in cursor order; of a windowed read, one before
        which the read recorded a chunk of days as read; of a read in no cursor order, one before which the read
        noted where it can resume from (``Stream.RESUME_KEY``), never any other."""
        if self.stream.window_column is not None:
            return page.read_state != self._last.read_state
        if self.stream.cursor_ordered:
            return True
        return (page.read_state or {}).get(Stream.RESUME_KEY) is not None


def _resource(stream: Stream, pages: _StreamPages, result: StreamLoad, run_id: str, loaded_at: datetime,
              empty: bool = False):
    """The dlt resource loading the next load's `pages`; what the read kept in its state is committed with them.

    A load ended at a checkpoint commits what a read stopped early there would (:func:`_committed_cursor`).
    Its rows are counted into `result`, which ends with the cursor of the stream's last load.
    """

    @dlt.resource(name=stream.name, table_name=stream.name, **_write_hints(stream, empty))
    def rows():
        state = dlt.current.resource_state()
        if state.get("cursor") != pages.cursor:
            raise RuntimeError(f"{stream.name}: read from cursor {pages.cursor!r}, but the state holds "
                               f"{state.get('cursor')!r}")
        batch = _Batch()
        unique = _FirstOfEachKey(stream) if stream.window_column else None
        try:
            for table in pages.tables():
                if unique is not None:
                    table = unique.filter(table)
                if table.num_rows == 0:
                    continue
                result.rows += table.num_rows
                pages.cursors.add(table)
                if batch.add(table):
                    yield _with_load_columns(batch.take(), run_id, loaded_at)
                    pages.batch_loaded()
        except SourceLimitReached as exc:
            result.stopped_early = str(exc)
        # The read is over, or at a checkpoint, and every row it handed over is in this load: its cursor and what
        # it kept are committed with them.
        read_state = pages.read_state()
        cursor = _committed_cursor(stream, pages.cursor, pages.cursors, read_state,
                                   result.stopped_early is not None or pages.checkpointed)
        if result.stopped_early:
            log.warning(_stopped_early_message(stream, result, cursor))
        if cursor is not None:
            state["cursor"] = cursor
        state.update({key: value for key, value in read_state.items()
                      if key not in ("cursor", Stream.CURSOR_CEILING_KEY)})
        if read_state.get(Stream.RESUME_KEY) is None:  # the read ended: where an earlier run left it is stale
            state.pop(Stream.RESUME_KEY, None)
        if batch.rows:
            yield _with_load_columns(batch.take(), run_id, loaded_at)
        result.cursor_after = pages.cursor = state.get("cursor")
        if pages.checkpointed:
            log.info(f"{stream.name}: checkpoint after {result.rows} rows, at cursor {pages.cursor}")

    return rows


class _CursorsRead:
    """The cursor values of the rows a load took: the newest, and the last one in read order."""

    def __init__(self, column: str | None) -> None:
        self.column = column
        self.newest = None
        self.last = None

    def add(self, table: pa.Table) -> None:
        """Take in a page's cursor values (nulls left out)."""
        if self.column is None:
            return
        values = pa.compute.drop_null(table[self.column])
        if len(values) == 0:
            return
        newest = pa.compute.max(values).as_py()
        self.newest = newest if self.newest is None else max(self.newest, newest)
        self.last = values[-1].as_py()


def _committed_cursor(stream: Stream, before: str | None, cursors: _CursorsRead, read_state: dict,
                      stopped_early: bool) -> str | None:
    """The cursor a load commits: one from which the next run misses no record this read did not hand over.

    A whole read commits the newest cursor it read, held to the ceiling its read left (see :class:`Stream`).
    A read in cursor order that stopped early commits the cursor of the last row it read, not the newest:
    a record modified during the read may carry a newer stamp than records still unread. A read in no
    cursor order that stopped early may have left unread records older than any it read, so it keeps
    the cursor it started from. A windowed stream commits its newest day either way: each of its
    accounts keeps its own cursor. The cursor never moves back.
    """
    if not stopped_early or stream.window_column:
        candidate = cursors.newest
    elif stream.cursor_ordered:
        candidate = cursors.last
    else:
        return before
    ceiling = read_state.get(Stream.CURSOR_CEILING_KEY)
    if candidate is not None and ceiling is not None:
        candidate = min(candidate, datetime.fromisoformat(ceiling))
    if candidate is None or (before is not None and candidate.isoformat() <= before):
        return before
    return candidate.isoformat()


def _stopped_early_message(stream: Stream, result: StreamLoad, cursor: str | None) -> str:
    """The warning of a read the source stopped early, saying where the next run reads from."""
    message = f"{stream.name}: {result.stopped_early}; the {result.rows} rows read are merged"
    if stream.cursor is None or stream.window_column:
        return message
    if stream.cursor_ordered:
        return f"{message}, and the next run reads on from the last one, at {cursor}"
    where = f"at {cursor}, and the next run reads again from there" if cursor else (
        "unset, and the next run reads the whole stream again")
    return f"{message}, but its records do not come in cursor order: the cursor stays {where}"


class _FirstOfEachKey:
    """Drops the rows of a load whose key an earlier row of the same load had, and says so."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.seen: set = set()

    def filter(self, table: pa.Table) -> pa.Table:
        """`table` without the rows whose key was seen before in this load."""
        keys, seen = table[self.stream.primary_key].to_pylist(), self.seen
        distinct = set(keys)
        if len(distinct) == len(keys) and seen.isdisjoint(distinct):  # the common case, in set operations alone
            seen |= distinct
            return table
        keep = []
        for key in keys:
            keep.append(key not in seen)
            seen.add(key)
        log.warning(f"{self.stream.name}: {keep.count(False)} rows repeat a {self.stream.primary_key} already "
                    "read in this load; the first one read is kept")
        return table.filter(pa.array(keep))


class _Batch:
    """Pages gathered into one table of about `BATCH_ROWS` rows, so dlt writes, normalizes and loads fewer, larger
    pieces (a page is 100 to 2,000 rows; every piece handed to dlt has a fixed cost)."""

    def __init__(self) -> None:
        self.tables: list[pa.Table] = []
        self.rows = 0

    def add(self, table: pa.Table) -> bool:
        """Add a page; True when the batch is full."""
        self.tables.append(table)
        self.rows += table.num_rows
        return self.rows >= BATCH_ROWS

    def take(self) -> pa.Table:
        """The gathered pages as one table; the batch starts empty again."""
        table = pa.concat_tables(self.tables).combine_chunks()
        self.tables, self.rows = [], 0
        return table


def _row_count(pipeline, table: str) -> int:
    """Rows in a raw table, 0 when it does not exist yet."""
    try:
        with pipeline.sql_client() as client:
            return client.execute_sql(f"select count(*) from {client.make_qualified_table_name(table)}")[0][0]
    except (DatabaseUndefinedRelation, DestinationUndefinedEntity):
        return 0


def _count_changes(pipeline, stream: Stream, result: StreamLoad, rows: int, rows_before: int, run_id: str,
                   load_ids: Sequence[str]) -> None:
    """Split the `rows` a load of a stream wrote into inserted, updated and unchanged, count the stored keys it
    removed, and count the deletes the stream's loads of this run brought; added to what its earlier loads of this
    run counted (a stream split at checkpoints). A key that comes again after a checkpoint counts in both loads.

    A merge or a full refresh counted what it changed (see :mod:`pipelines.lib.merge_changes`); a full refresh
    that read no rows and was loaded all the same (see :func:`_keeps_table`) changed nothing, so its count is
    read too. A load into an empty table (appended, not merged) inserted every row; without a count, the rows beyond
    the new ones count as updated.
    """
    full_refresh = _is_full_refresh(stream)
    if rows == 0 and not full_refresh:
        return
    counted = merge_changes(pipeline, stream.name, load_ids)
    if counted is not None:
        result.inserted += counted.inserted
        result.updated += counted.updated
        result.unchanged += counted.unchanged
        result.removed += counted.removed
    elif rows:
        if _merges(stream, rows_before == 0):
            log.warning(f"{stream.name}: the load left no count of what it changed; its rows that were not new "
                        "are reported as updated")
        inserted = max(_row_count(pipeline, stream.name) - rows_before, 0)
        result.inserted += inserted
        result.updated += max(rows - inserted, 0)
    flag = stream.options.get("deleted_flag")
    if flag and rows:  # counted over every load of this run
        with pipeline.sql_client() as client:
            table = client.make_qualified_table_name(stream.name)
            result.deleted = client.execute_sql(
                f"select count(*) from {table} where _run_id = %s and {flag}", run_id)[0][0]


def _write_hints(stream: Stream, empty: bool = False) -> dict:
    """How dlt writes a stream: merge on the key, or replace whole windows.

    A windowed stream replaces the windows a load covers, deleting by window alone. Its key names
    its window (an ad row's key is account, entity and day; its window account and day), so that
    delete also removes every older row of the load's keys. Declaring the key to dlt as well would
    make the delete a join on "same key or same window", which DuckDB runs row against row: 26 s
    instead of 0.3 s for a 28-day window over a year of 500,000 rows. The primary-key hint is set
    off explicitly, since a table loaded before keeps the hints it had; `_FirstOfEachKey` keeps a
    key unique within one load, which dlt no longer does here. So a windowed stream's load into an
    `empty` table (its first) is appended as it is: merging into nothing would only copy every row
    through a staging table first (half a second for 250,000 ad rows).

    A stream with a cursor merges on its key. A read may hand over a key twice (HubSpot's search reads
    the records at each page's newest stamp again, and a record modified during a read comes again
    later): of the rows of one key in a load, the one with the newest cursor is kept.

    A stream with neither is read whole and merged on its key too: the stored rows its read no longer has are
    kept, flagged (:func:`~pipelines.lib.key_reconciliation.flag_unread_rows`), never deleted.

    A merge and a full refresh count their changes by the stream's key, leaving out the load stamps
    (:func:`change_hints`).
    """
    counted_by_key = change_hints(stream.primary_key, (column.name for column in LOAD_COLUMNS))
    if stream.window_column:
        disposition = "append" if empty else {"disposition": "merge", "strategy": "delete-insert"}
        columns = {**counted_by_key, stream.primary_key: {**counted_by_key[stream.primary_key], "primary_key": False}}
        return {"merge_key": stream.window_column, "columns": columns, "write_disposition": disposition}
    if stream.cursor:
        return {"primary_key": stream.primary_key, "write_disposition": "merge",
                "columns": {**counted_by_key, stream.cursor_column: {"dedup_sort": "desc"}}}
    return {"primary_key": stream.primary_key, "write_disposition": "merge", "columns": counted_by_key}


def _merges(stream: Stream, empty: bool) -> bool:
    """Whether a load of `stream` into its table (`empty` or not) merges into it."""
    disposition = _write_hints(stream, empty)["write_disposition"]
    return disposition == "merge" or isinstance(disposition, dict) and disposition["disposition"] == "merge"


def _with_load_columns(table: pa.Table, run_id: str, loaded_at: datetime) -> pa.Table:
    loaded_at_field, run_id_field = LOAD_COLUMNS
    table = table.append_column(loaded_at_field, pa.repeat(pa.scalar(loaded_at, loaded_at_field.type), table.num_rows))
    return table.append_column(run_id_field, pa.repeat(pa.scalar(run_id, run_id_field.type), table.num_rows))


def _quarantine_table(rejected: list[tuple[str, Rejected]], run_id: str, loaded_at: datetime) -> pa.Table:
    return pa.table({
        "stream": [name for name, _ in rejected],
        "raw_record": [json.dumps(r.record, default=str, sort_keys=True) for _, r in rejected],
        "reason": [r.reason for _, r in rejected],
        "run_id": [run_id] * len(rejected),
        "quarantined_at": pa.array([loaded_at] * len(rejected), pa.timestamp("us", tz="UTC")),
    })
