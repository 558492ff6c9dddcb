"""Reading a test's warehouse, whichever it is: a DuckDB file path or a ``postgresql://`` URL."""

from __future__ import annotations

import duckdb


def warehouse_rows(target: str, query: str) -> list[tuple]:
    """The rows of `query` in the warehouse `target` (a DuckDB file, opened read-only, or a PostgreSQL URL)."""
    if target.startswith("postgresql://"):
        import psycopg2

        with psycopg2.connect(target) as connection, connection.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchall()
    with duckdb.connect(target, read_only=True) as connection:
        return connection.execute(query).fetchall()
