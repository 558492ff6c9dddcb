"""The warehouse resource: where raw, staging and marts live, and where the BI snapshot is published."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB working warehouse (one writer: the nightly run) and the published BI snapshot."""

    duckdb_path: str
    analytics_path: str
    dlt_pipelines_dir: str = ".dlt_pipelines"
    keep_snapshots: int = 3

    @property
    def loader_target(self) -> str:
        """What the raw loader writes to (a DuckDB file path)."""
        Path(self.duckdb_path).parent.mkdir(parents=True, exist_ok=True)
        return self.duckdb_path

    @contextmanager
    def connect(self, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection; close it before dbt or the loader needs the file."""
        connection = duckdb.connect(self.duckdb_path, read_only=read_only)
        try:
            yield connection
        finally:
            connection.close()

    def read_table(self, schema: str, table: str) -> pd.DataFrame:
        """A whole table as a pandas DataFrame (what the great-expectations runner validates)."""
        with self.connect() as connection:
            return connection.sql(f'select * from "{schema}"."{table}"').df()

    def row_counts(self, schema: str) -> dict[str, int]:
        """Rows per table of one schema, for reports and metadata."""
        with self.connect() as connection:
            tables = connection.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
            ).fetchall()
            return {
                name: connection.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
                for (name,) in tables
            }
