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

log = get_logger("pipelines.raw_loader")

PageReader = Callable[[Stream, datetime | None], Iterator[list[dict]]]
Discoverer = Callable[[Stream], Stream]
QUARANTINE_TABLE = "_quarantine"


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
    """The dlt destination of a warehouse setting: a DuckDB file path or a ``postgresql://`` URL."""
    if warehouse.startswith(("postgresql://", "postgres://")):
        return dlt.destinations.postgres(credentials=warehouse)
    return dlt.destinations.duckdb(credentials=warehouse)


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
    resources = [
        _resource(discover(stream) if discover else stream, read_pages, results[stream.name], run_id, loaded_at)
        for stream in streams
    ]
    rows_before = {stream.name: _row_count(pipeline, stream.name) for stream in streams}
    pipeline.run(resources, loader_file_format=_file_format(warehouse))
    for stream in streams:
        _count_changes(pipeline, stream, results[stream.name], rows_before[stream.name], run_id)
    rejected = [(name, r) for name, result in results.items() for r in result.rejected]
    if rejected:
        pipeline.run(_quarantine_table(rejected, run_id, loaded_at), table_name=QUARANTINE_TABLE,
                     write_disposition="append")
    return results


def _resource(stream: Stream, read_pages: PageReader, result: StreamLoad, run_id: str, loaded_at: datetime):
    cursor_column = stream.cursor_column

    @dlt.resource(name=stream.name, table_name=stream.name, **_write_hints(stream))
    def rows():
        state = dlt.current.resource_state()
        result.cursor_before = state.get("cursor")
        since = datetime.fromisoformat(result.cursor_before) if result.cursor_before else None
        try:
            for page in read_pages(stream, since):
                result.pages += 1
                conversion = to_arrow(stream, page)
                result.rejected.extend(conversion.rejected)
                result.quarantined += len(conversion.rejected)
                table = conversion.table
                if table.num_rows == 0:
                    continue
                result.rows += table.num_rows
                if cursor_column:
                    newest = pa.compute.max(table[cursor_column]).as_py()
                    if newest is not None and (state.get("cursor") is None or newest.isoformat() > state["cursor"]):
                        state["cursor"] = newest.isoformat()
                yield _with_load_columns(table, run_id, loaded_at)
        except SourceLimitReached as exc:
            result.stopped_early = str(exc)
            log.warning(f"{stream.name}: {exc}")
        result.cursor_after = state.get("cursor")

    return rows


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
    rows = table.num_rows
    table = table.append_column("_loaded_at", pa.array([loaded_at] * rows, pa.timestamp("us", tz="UTC")))
    return table.append_column("_run_id", pa.array([run_id] * rows, pa.string()))


def _quarantine_table(rejected: list[tuple[str, Rejected]], run_id: str, loaded_at: datetime) -> pa.Table:
    return pa.table({
        "stream": [name for name, _ in rejected],
        "raw_record": [json.dumps(r.record, default=str, sort_keys=True) for _, r in rejected],
        "reason": [r.reason for _, r in rejected],
        "run_id": [run_id] * len(rejected),
        "quarantined_at": pa.array([loaded_at] * len(rejected), pa.timestamp("us", tz="UTC")),
    })
