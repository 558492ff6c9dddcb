"""The warehouse resource: where raw, staging and marts live, and where the BI snapshot is published.

Two targets share one interface. DuckDB (the default): one working file written by the nightly
run, and a published copy BI opens read-only. PostgreSQL: raw, staging and marts schemas in one
database, published to an ``analytics`` schema that only a read-only BI role can read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa

from connectors.redact import register_secret
from pipelines.lib import publish

#: DuckDB's memory for the checks' reads. Without a limit its buffer pool kept the blocks of every table the checks
#: scanned, in the night's process: reading the marts as the checks do at M size peaked at 927 MB, with it at 681 MB.
READ_MEMORY_LIMIT = "256MB"


class WarehouseResource(dg.ConfigurableResource):
    """Where the nightly run writes (one writer) and where BI reads the published marts."""

    target: str = "duckdb"
    duckdb_path: str = ""
    analytics_path: str = ""
    postgres_host: str = "127.0.0.1"
    postgres_port: str = "5432"
    postgres_user: str = ""
    postgres_password: str = ""
    postgres_db: str = ""
    bi_role: str = "bi_reader"
    dlt_pipelines_dir: str = ".dlt_pipelines"
    keep_snapshots: int = 3
    hash_emails: bool = False
    pii_hash_key: str = ""

    @property
    def is_postgres(self) -> bool:
        """True when the warehouse is PostgreSQL."""
        return self.target == "postgres"

    @property
    def postgres_url(self) -> str:
        """The PostgreSQL connection URL."""
        password = f":{quote(self.postgres_password, safe='')}" if self.postgres_password else ""
        return (f"postgresql://{quote(self.postgres_user, safe='')}{password}@{self.postgres_host}:"
                f"{self.postgres_port}/{self.postgres_db}")

    @property
    def loader_target(self) -> str:
        """What the raw loader writes to: a DuckDB file path or a PostgreSQL URL."""
        if self.is_postgres:
            register_secret(self.postgres_password)
            return self.postgres_url
        Path(self.duckdb_path).parent.mkdir(parents=True, exist_ok=True)
        return self.duckdb_path

    @property
    def published_location(self) -> str:
        """Where BI finds the published marts."""
        if self.is_postgres:
            return f"{self.postgres_db}.{publish.POSTGRES_ANALYTICS_SCHEMA} (role {self.bi_role})"
        return str(Path(self.analytics_path).resolve())

    def read_table(self, schema: str, table: str) -> pd.DataFrame:
        """A whole table as a pandas DataFrame (what the great-expectations runner validates)."""
        return self.query(f'select * from "{schema}"."{table}"')

    def query(self, sql: str, parameters: list | None = None) -> pd.DataFrame:
        """The result of one read-only query as a pandas DataFrame."""
        with self.reading() as query:
            return query(sql, parameters)

    @contextmanager
    def reading(self) -> Iterator[Callable[..., pd.DataFrame]]:
        """One connection for a series of reads (DuckDB: read-only); yields ``query(sql, parameters) -> DataFrame``."""
        if self.is_postgres:
            import psycopg2

            connection = psycopg2.connect(self.postgres_url)
            try:
                def query(sql: str, parameters: list | None = None) -> pd.DataFrame:
                    with connection.cursor() as cursor:
                        cursor.execute(sql, parameters)
                        return pd.DataFrame(cursor.fetchall(), columns=[column.name for column in cursor.description])

                yield query
            finally:
                connection.rollback()
                connection.close()
            return
        with duckdb.connect(self.duckdb_path, read_only=True, config={"memory_limit": READ_MEMORY_LIMIT}) as connection:
            def query(sql: str, parameters: list | None = None) -> pd.DataFrame:
                return arrow_to_frame(connection.sql(sql, params=parameters or None).to_arrow_table())

            yield query

    @property
    def email_key(self) -> str | None:
        """The key e-mails are hashed with when published (``PUBLISH_HASHED_EMAILS``), else None."""
        if not self.hash_emails:
            return None
        if not self.pii_hash_key:
            raise ValueError("PUBLISH_HASHED_EMAILS is on but PII_HASH_KEY is empty: refusing to publish clear e-mails")
        register_secret(self.pii_hash_key)
        return self.pii_hash_key

    def publish_marts(self) -> publish.Publication:
        """Publish every mart for BI (e-mails hashed when configured); returns rows per table and how each got
        there."""
        if self.is_postgres:
            return publish.publish_postgres(self.postgres_url, self.bi_role, self.email_key)
        return publish.publish_duckdb(Path(self.duckdb_path), Path(self.analytics_path), self.keep_snapshots,
                                      self.email_key)


#: pandas' nullable dtype of each Arrow integer and boolean type, for columns with nulls (as DuckDB's ``.df()``).
NULLABLE_DTYPES = {
    pa.bool_(): pd.BooleanDtype(),
    pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(), pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
}


def arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    """A DuckDB result read as Arrow, as the pandas frame DuckDB's ``.df()`` gives: decimals as floats, dates as
    datetime64, and integers and booleans with nulls as pandas' nullable types.

    Reading through Arrow is 2-3x faster than ``.df()``, which builds Python strings that pandas then converts
    back to Arrow (all the checks' reads of the S x50 warehouse: 5.7 s -> 1.8 s).
    """
    nullable = []
    for index, column in enumerate(table.schema):
        as_df = (pa.float64() if pa.types.is_decimal(column.type)
                 else pa.timestamp("us") if pa.types.is_date(column.type) else None)
        if as_df is not None:
            table = table.set_column(index, column.name, table.column(index).cast(as_df))
        elif (pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)) and table.column(index).null_count:
            nullable.append((index, table.column(index).to_pandas(types_mapper=NULLABLE_DTYPES.get)))
    frame = table.to_pandas()
    for index, values in nullable:  # by position: a result may name two columns alike
        frame.isetitem(index, values)
    return frame


def warehouse_from_environment() -> WarehouseResource:
    """The warehouse the environment names: DuckDB unless ``WAREHOUSE_TARGET=postgres``; secrets via `dg.EnvVar`.

    ``PUBLISH_HASHED_EMAILS=true`` publishes e-mails as HMAC-SHA256 hashes keyed with ``PII_HASH_KEY``. Both secrets
    are registered for masking in the process that loads the definitions (see `SourceResource.from_environment`).
    """
    for secret in ("POSTGRES_PASSWORD", "PII_HASH_KEY"):
        register_secret(os.environ.get(secret))
    settings = {"dlt_pipelines_dir": dg.EnvVar("DLT_PIPELINES_DIR")}
    if os.getenv("PUBLISH_HASHED_EMAILS", "").strip().lower() in {"1", "true", "yes", "on"}:
        settings.update(hash_emails=True, pii_hash_key=dg.EnvVar("PII_HASH_KEY"))
    if os.getenv("WAREHOUSE_TARGET", "duckdb") != "postgres":
        return WarehouseResource(target="duckdb", duckdb_path=dg.EnvVar("WAREHOUSE_DUCKDB_PATH"),
                                 analytics_path=dg.EnvVar("ANALYTICS_DUCKDB_PATH"), **settings)
    if os.getenv("POSTGRES_PASSWORD"):  # a server with trust or peer auth has none
        settings["postgres_password"] = dg.EnvVar("POSTGRES_PASSWORD")
    return WarehouseResource(
        target="postgres",
        postgres_host=dg.EnvVar("POSTGRES_HOST"),
        postgres_port=dg.EnvVar("POSTGRES_PORT"),
        postgres_user=dg.EnvVar("POSTGRES_USER"),
        postgres_db=dg.EnvVar("POSTGRES_DB"),
        bi_role=os.getenv("POSTGRES_BI_ROLE", "bi_reader"),
        **settings,
    )
