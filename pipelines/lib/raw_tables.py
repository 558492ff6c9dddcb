"""Create a source's raw tables empty, with the columns its streams declare, without touching any rows.

A night without a source (no credentials configured) still builds the dbt models over it: the
staging views select from these tables and find them empty. Tables that already hold rows from
earlier nights keep them: nothing is replaced or deleted here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from connectors.schema import Stream
from pipelines.lib.raw_loader import LOAD_COLUMNS, open_destination


def empty_raw_table(stream: Stream) -> pa.Table:
    """A table with no rows and the columns a load of `stream` writes: its fields and the load stamps."""
    return pa.schema([*stream.arrow_schema, *LOAD_COLUMNS]).empty_table()


def ensure_raw_tables(source: str, streams: Sequence[Stream], warehouse: str, pipelines_dir: Path) -> None:
    """Create each missing ``raw_<source>.<stream>`` table empty; existing tables and their rows stay as they are.

    Runs as its own dlt pipeline (own state and schema), appending empty tables, so the source's
    sync pipeline and its cursors are untouched and its first real load merges into these tables.
    """
    import dlt

    resources = [
        dlt.resource([empty_raw_table(stream)], name=stream.name, table_name=stream.name,
                     primary_key=stream.primary_key, write_disposition="append")
        for stream in streams
    ]
    with open_destination(warehouse) as destination:
        pipeline = dlt.pipeline(pipeline_name=f"common_ground_{source}_empty_tables", destination=destination,
                                dataset_name=f"raw_{source}", pipelines_dir=str(pipelines_dir))
        pipeline.run(resources)
