"""A PostgreSQL server for tests: the one CI started (CG_TEST_POSTGRES_URL), or a throwaway one."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from pipelines.local import postgres_environment, throwaway_postgres_server

#: Parallel test workers (pytest-xdist's gw0, gw1, ...) start their throwaway servers on ports 100 apart.
WORKER_PORT_OFFSET = 100 * int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


@contextmanager
def postgres_server(port: int = 55433) -> Iterator[str]:
    """The URL of an empty database: on CI's server when it set one, otherwise on a new one on loopback.

    Tests share CI's server but never a database, so each starts from nothing whatever ran before it.
    """
    if os.environ.get("CG_TEST_POSTGRES_URL"):
        with fresh_database(os.environ["CG_TEST_POSTGRES_URL"]) as url:
            yield url
        return
    with throwaway_postgres_server(port + WORKER_PORT_OFFSET) as url:
        yield url


@contextmanager
def fresh_database(server_url: str, locale: str | None = None, icu_locale: str | None = None,
                   copy_of: str | None = None) -> Iterator[str]:
    """A new database on the server at `server_url` (its user may create databases), dropped after the block.

    `locale` (e.g. "C") sets its collation and character classes instead of the server's default; `icu_locale`
    (e.g. "en-US") collates with ICU instead. `copy_of`, the URL of a database on the same server that nothing is
    connected to, makes it a copy of that database.
    """
    import psycopg2

    name = f"cg_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            options = f" template template0 encoding 'UTF8' locale '{locale}'" if locale else ""
            if copy_of:
                options = f' template "{urlparse(copy_of).path.lstrip("/")}"'
            if icu_locale:
                options += f" locale_provider icu icu_locale '{icu_locale}'"
            cursor.execute(f"create database {name}{options}")
        yield urlunparse(urlparse(server_url)._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"drop database if exists {name} with (force)")
        admin.close()


#: PostgreSQL's names for the DuckDB column types of the raw contract (others are spelled the same in both).
POSTGRES_TYPES = {"VARCHAR": "text", "TIMESTAMP WITH TIME ZONE": "timestamptz", "DECIMAL(38,9)": "numeric(38, 9)",
                  "DOUBLE": "double precision"}


def create_raw_tables(cursor, tables: dict[str, list[tuple[str, str]]]) -> None:
    """Create the raw tables `tables` (``schema.table`` -> [(column, DuckDB type)]), empty, on PostgreSQL."""
    for name, columns in tables.items():
        schema, table = name.split(".")
        cursor.execute(f"create schema if not exists {schema}")
        column_sql = ", ".join(f'"{column}" {POSTGRES_TYPES.get(kind, kind)}' for column, kind in columns)
        cursor.execute(f'create table {schema}."{table}" ({column_sql})')


def insert_rows(cursor, table: str, rows: list[dict]) -> None:
    """Insert hand-written rows into ``schema.table``; lists and dicts are written as JSON text."""
    schema, name = table.split(".")
    for row in rows:
        values = [json.dumps(value) if isinstance(value, list | dict) else value for value in row.values()]
        columns = ", ".join(f'"{column}"' for column in row)
        cursor.execute(f'insert into {schema}."{name}" ({columns}) values ({", ".join(["%s"] * len(row))})', values)


@contextmanager
def built_warehouse(raw: dict[str, list[dict]], tables: dict, build: Callable[[dict[str, str]], object],
                    port: int, **database) -> Iterator:
    """Hand-written raw rows (`raw`: table -> rows) in the raw `tables` of a new PostgreSQL database (its locale set
    by `database`, see :func:`fresh_database`), built by `build` (given the warehouse's environment): an open
    connection to it."""
    import psycopg2

    with postgres_server(port=port) as server, fresh_database(server, **database) as url:
        connection = psycopg2.connect(url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                create_raw_tables(cursor, tables)
                for table, table_rows in raw.items():
                    insert_rows(cursor, table, table_rows)
            build(postgres_environment(url))
            yield connection
        finally:
            connection.close()


def comparable(value: object) -> object:
    """A value as DuckDB and PostgreSQL both give it: numbers to 6 places, instants in UTC."""
    if isinstance(value, Decimal | float):
        return round(float(value), 6)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def assert_same_mart(connection, warehouse: Path, mart: str, order: str) -> None:
    """The mart `marts.<mart>` holds the same columns and rows (sorted by `order`, compared as :func:`comparable`) on
    the PostgreSQL database of `connection` as in the DuckDB file `warehouse`, and is not empty."""
    import duckdb

    query = f"select * from marts.{mart} order by {order}"
    with connection.cursor() as cursor:
        cursor.execute(query)
        postgres_columns = [column.name for column in cursor.description]
        postgres_rows = [tuple(map(comparable, row)) for row in cursor.fetchall()]
    with duckdb.connect(str(warehouse), read_only=True) as duck:
        result = duck.execute(query)
        duckdb_columns = [column[0] for column in result.description]
        duckdb_rows = [tuple(map(comparable, row)) for row in result.fetchall()]
    assert postgres_columns == duckdb_columns
    assert postgres_rows and postgres_rows == duckdb_rows
