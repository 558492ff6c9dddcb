"""Load a source's streams into its ``raw_<source>`` schema with dlt: Arrow pages, merge on primary key.

The stream cursor lives in dlt's resource state, which dlt writes to the warehouse in the
same load package as the rows: a run that dies before its load commits leaves the cursor
where it was, and the next run reads the same records again and merges them, so nothing is
lost and nothing doubles. Records that do not convert go to ``raw_<source>._quarantine``
with the reason and the run id.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from connectors.errors import SourceLimitReached
from connectors.redact import get_logger
from connectors.schema import Rejected, Stream, to_arrow

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")

import dlt  # noqa: E402  (dlt reads the settings above when it is imported)
from dlt.common.destination.exceptions import DestinationUndefinedEntity  # noqa: E402
from dlt.destinations.exceptions import DatabaseUndefinedRelation  # noqa: E402
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials  # noqa: E402

log = get_logger("pipelines.raw_loader")

PageReader = Callable[[Stream, datetime | None], Iterator[list[dict]]]
Discoverer = Callable[[Stream], Stream]
QUARANTINE_TABLE = "_quarantine"
BATCH_ROWS = 50_000
READ_AHEAD_PAGES = 2
DUCKDB_MEMORY_LIMIT = "768MB"
#: The load stamps added to every row: when it was loaded and by which run.
LOAD_COLUMNS = (pa.field("_loaded_at", pa.timestamp("us", tz="UTC")), pa.field("_run_id", pa.string()))


@dataclass
class StreamLoad:
    """What one stream's sync did, reported as Dagster materialization metadata."""

    stream: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    pages: int = 0
    quarantined: int = 0
    cursor_before: str | None = None
    cursor_after: str | None = None
    stopped_early: str | None = None
    rejected: list[Rejected] = field(default_factory=list, repr=False)


def _file_format(warehouse: str) -> str | None:
    """PostgreSQL loads through COPY from CSV (many times faster than INSERT statements); DuckDB takes parquet."""
    return "csv" if warehouse.startswith(("postgresql://", "postgres://")) else None


def destination_for(warehouse: str):
    """The dlt destination of a warehouse setting: a DuckDB file path or a ``postgresql://`` URL.

    DuckDB gets a memory limit: by default it takes most of the machine's memory for the merge of
    a large load (2 GB at scale M), while with a limit it spills to disk and keeps the loader small.
    """
    if warehouse.startswith(("postgresql://", "postgres://")):
        return dlt.destinations.postgres(credentials=warehouse)
    return dlt.destinations.duckdb(
        credentials=DuckDbCredentials(warehouse, global_config={"memory_limit": DUCKDB_MEMORY_LIMIT}))


def load_streams(
    source: str,
    streams: Sequence[Stream],
    read_pages: PageReader,
    warehouse: str,
    pipelines_dir: Path,
    run_id: str,
    discover: Discoverer | None = None,
) -> dict[str, StreamLoad]:
    """Sync `streams` of `source` into ``raw_<source>`` and return what each stream did.

    `discover`, when given, extends each stream with the fields the source reports beyond the
    declared ones, so a field added at the source arrives as a new column instead of being dropped.
    """
    pipeline = dlt.pipeline(
        pipeline_name=f"common_ground_{source}",
        destination=destination_for(warehouse),
        dataset_name=f"raw_{source}",
        pipelines_dir=str(pipelines_dir),
    )
    loaded_at = datetime.now(UTC)
    results = {stream.name: StreamLoad(stream.name) for stream in streams}
    reading = threading.Lock()  # one page of this source is read at a time, whichever thread reads it
    resources = []
    for declared in streams:
        stream = discover(declared) if discover else declared
        result = results[stream.name]
        if _replaces_table(stream):
            tables = _read_whole(stream, _converted(read_pages, result, reading), result)
            if tables is None:
                continue  # stopped early: the partial read must not replace the table, so it is left out
            resources.append(_resource(stream, lambda _stream, _since, pages=tables: iter(pages), result, run_id,
                                       loaded_at))
        else:
            resources.append(_resource(stream, _converted(read_pages, result, reading), result, run_id, loaded_at))
    rows_before = {stream.name: _row_count(pipeline, stream.name) for stream in streams}
    if resources:
        pipeline.run(resources, loader_file_format=_file_format(warehouse))
    for stream in streams:
        _count_changes(pipeline, stream, results[stream.name], rows_before[stream.name], run_id)
    rejected = [(name, r) for name, result in results.items() for r in result.rejected]
    if rejected:
        pipeline.run(_quarantine_table(rejected, run_id, loaded_at), table_name=QUARANTINE_TABLE,
                     write_disposition="append")
    return results


def _replaces_table(stream: Stream) -> bool:
    """A stream without a cursor or a window is read whole and replaces its table."""
    return stream.cursor is None and stream.window_column is None


def _converted(
    read_pages: PageReader, result: StreamLoad, reading: threading.Lock
) -> Callable[[Stream, datetime | None], Iterator[pa.Table]]:
    """`read_pages` with every page converted to Arrow, its rejected records counted into `result`.

    The next pages are fetched in a background thread while this one converts and loads (the
    source serves while we compute). dlt reads a source's streams in turns, so each stream has its
    own thread, and `reading` lets only one of them run the source's reader code at a time: the
    client sees one page read after another, as without threads.
    """

    def read(stream: Stream, since: datetime | None) -> Iterator[pa.Table]:
        for page in _read_ahead(read_pages(stream, since), reading, f"read-{stream.name}"):
            result.pages += 1
            conversion = to_arrow(stream, page)
            result.rejected.extend(conversion.rejected)
            result.quarantined += len(conversion.rejected)
            yield conversion.table

    return read


_END = object()


def _read_ahead(
    pages: Iterator[list[dict]], reading: threading.Lock, name: str, depth: int = READ_AHEAD_PAGES
) -> Iterator[list[dict]]:
    """`pages` with up to `depth` of them fetched ahead by a background thread; its errors are raised here.

    The thread holds `reading` while it reads one page, never while it waits for room.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    pages = iter(pages)

    def fetch() -> None:
        try:
            while True:
                with reading:
                    page = next(pages, _END)
                if not _offer(ready, page, stop) or page is _END:
                    return
        except BaseException as exc:  # noqa: BLE001  (handed to the reader, which raises it in its own thread)
            _offer(ready, exc, stop)
        finally:
            close = getattr(pages, "close", None)  # a generator left mid-way runs its cleanup here, in its thread
            if close is not None:
                with reading:
                    close()

    thread = threading.Thread(target=fetch, name=name, daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # the reader stopped (done, failed or closed): let the thread finish
        thread.join()


def _offer(ready: queue.Queue, item: object, stop: threading.Event) -> bool:
    """Put `item` once there is room; False when the reader has gone away."""
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _read_whole(stream: Stream, pages: Callable[[Stream, None], Iterator[pa.Table]], result: StreamLoad
                ) -> list[pa.Table] | None:
    """Every converted page of a full-refresh stream, or None when the source stopped it early.

    A full refresh replaces the table, so it may only be loaded once it is complete: a partial
    read (a spent daily quota, a throttle too long to wait out) leaves the previous table as it
    was, and the next run reads the stream again.
    """
    tables = []
    try:
        tables.extend(pages(stream, None))
    except SourceLimitReached as exc:
        result.stopped_early = str(exc)
        result.rejected.clear()  # the next run reads these records again
        result.quarantined = 0
        log.warning(f"{stream.name}: {exc}; the table keeps its previous contents")
        return None
    return tables


def _resource(stream: Stream, read_tables, result: StreamLoad, run_id: str, loaded_at: datetime):
    cursor_column = stream.cursor_column

    @dlt.resource(name=stream.name, table_name=stream.name, **_write_hints(stream))
    def rows():
        state = dlt.current.resource_state()
        result.cursor_before = state.get("cursor")
        since = datetime.fromisoformat(result.cursor_before) if result.cursor_before else None
        batch = _Batch()
        try:
            for table in read_tables(stream, since):
                if table.num_rows == 0:
                    continue
                result.rows += table.num_rows
                if cursor_column:
                    newest = pa.compute.max(table[cursor_column]).as_py()
                    if newest is not None and (state.get("cursor") is None or newest.isoformat() > state["cursor"]):
                        state["cursor"] = newest.isoformat()
                if batch.add(table):
                    yield _with_load_columns(batch.take(), run_id, loaded_at)
        except SourceLimitReached as exc:
            result.stopped_early = str(exc)
            log.warning(f"{stream.name}: {exc}")
        if batch.rows:
            yield _with_load_columns(batch.take(), run_id, loaded_at)
        result.cursor_after = state.get("cursor")

    return rows


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


def _count_changes(pipeline, stream: Stream, result: StreamLoad, rows_before: int, run_id: str) -> None:
    """Split the rows a load wrote into inserted and updated, and count the deletes it brought."""
    if result.rows == 0:
        return
    result.inserted = max(_row_count(pipeline, stream.name) - rows_before, 0)
    result.updated = max(result.rows - result.inserted, 0)
    flag = stream.options.get("deleted_flag")
    if flag:
        with pipeline.sql_client() as client:
            table = client.make_qualified_table_name(stream.name)
            result.deleted = client.execute_sql(
                f"select count(*) from {table} where _run_id = %s and {flag}", run_id)[0][0]


def _write_hints(stream: Stream) -> dict:
    """How dlt writes a stream: merge on the key, replace whole windows, or replace the table."""
    if stream.window_column:
        return {"primary_key": stream.primary_key, "merge_key": stream.window_column,
                "write_disposition": {"disposition": "merge", "strategy": "delete-insert"}}
    if stream.cursor:
        return {"primary_key": stream.primary_key, "write_disposition": "merge"}
    return {"primary_key": stream.primary_key, "write_disposition": "replace"}


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
