"""Write-audit-publish: the marts reach BI in one atomic step, after the checks passed.

DuckDB: copy the marts into a new file, then swap it in with one rename. BI opens the published
file read-only; a reader never sees a half-written file and never blocks the nightly run, and a
client that still has the old file open keeps reading the old snapshot until it reconnects.

PostgreSQL: build the marts into a fresh schema and swap it in for ``analytics`` inside one
transaction (PostgreSQL's DDL is transactional), keeping the previous one as
``analytics_previous`` for rollback; a read-only BI role may read ``analytics`` and nothing else.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

PUBLISHED_SCHEMA = "marts"
POSTGRES_ANALYTICS_SCHEMA = "analytics"


def publish_duckdb(warehouse_path: Path, analytics_path: Path, keep_snapshots: int = 3) -> dict[str, int]:
    """Publish every table of the warehouse's `marts` schema to `analytics_path`; returns rows per table."""
    analytics_path = Path(analytics_path)
    analytics_path.parent.mkdir(parents=True, exist_ok=True)
    staging = analytics_path.with_name(f".{analytics_path.name}.{uuid.uuid4().hex}.tmp")
    try:
        published = _copy_marts(Path(warehouse_path), staging)
        if analytics_path.exists() and keep_snapshots > 0:
            _keep_previous(analytics_path, keep_snapshots)
        os.replace(staging, analytics_path)
    finally:
        staging.unlink(missing_ok=True)
    return published


def _copy_marts(warehouse_path: Path, target: Path) -> dict[str, int]:
    connection = duckdb.connect(str(target))
    try:
        connection.execute("attach ? as warehouse (read_only)", [str(warehouse_path)])
        tables = [name for (name,) in connection.execute(
            "select table_name from duckdb_tables() where database_name = 'warehouse' and schema_name = ? "
            "order by 1", [PUBLISHED_SCHEMA]).fetchall()]
        if not tables:
            raise RuntimeError(f"nothing to publish: the warehouse has no tables in schema {PUBLISHED_SCHEMA!r}")
        connection.execute(f"create schema {PUBLISHED_SCHEMA}")
        counts = {}
        for name in tables:
            connection.execute(
                f'create table {PUBLISHED_SCHEMA}."{name}" as select * from warehouse.{PUBLISHED_SCHEMA}."{name}"'
            )
            counts[name] = connection.execute(f'select count(*) from {PUBLISHED_SCHEMA}."{name}"').fetchone()[0]
        connection.execute("detach warehouse")
        connection.execute("checkpoint")
        return counts
    finally:
        connection.close()


def _keep_previous(analytics_path: Path, keep: int) -> None:
    """Copy the current snapshot aside for rollback and prune all but the newest `keep` copies."""
    folder = analytics_path.parent / "snapshots"
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    shutil.copy2(analytics_path, folder / f"{analytics_path.stem}-{stamp}{analytics_path.suffix}")
    for old in sorted(folder.glob(f"{analytics_path.stem}-*{analytics_path.suffix}"))[:-keep]:
        old.unlink()


def publish_postgres(url: str, bi_role: str) -> dict[str, int]:
    """Swap a fresh copy of the `marts` schema in as `analytics` and let `bi_role` read it (and only it)."""
    import psycopg2
    from psycopg2 import sql

    published, previous, next_ = (sql.Identifier(POSTGRES_ANALYTICS_SCHEMA),
                                  sql.Identifier(f"{POSTGRES_ANALYTICS_SCHEMA}_previous"),
                                  sql.Identifier(f"{POSTGRES_ANALYTICS_SCHEMA}_next"))
    role = sql.Identifier(bi_role)
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("select table_name from information_schema.tables where table_schema = %s "
                       "and table_type = 'BASE TABLE' order by 1", [PUBLISHED_SCHEMA])
        tables = [name for (name,) in cursor.fetchall()]
        if not tables:
            raise RuntimeError(f"nothing to publish: the warehouse has no tables in schema {PUBLISHED_SCHEMA!r}")
        _ensure_role(cursor, bi_role)
        cursor.execute(sql.SQL("drop schema if exists {} cascade").format(next_))
        cursor.execute(sql.SQL("create schema {}").format(next_))
        counts = {}
        for name in tables:
            cursor.execute(sql.SQL("create table {}.{} as select * from {}.{}").format(
                next_, sql.Identifier(name), sql.Identifier(PUBLISHED_SCHEMA), sql.Identifier(name)))
            cursor.execute(sql.SQL("select count(*) from {}.{}").format(next_, sql.Identifier(name)))
            counts[name] = cursor.fetchone()[0]
        cursor.execute(sql.SQL("drop schema if exists {} cascade").format(previous))
        cursor.execute("select 1 from information_schema.schemata where schema_name = %s",
                       [POSTGRES_ANALYTICS_SCHEMA])
        if cursor.fetchone():
            cursor.execute(sql.SQL("alter schema {} rename to {}").format(published, previous))
            cursor.execute(sql.SQL("revoke all on schema {} from {}").format(previous, role))
        cursor.execute(sql.SQL("alter schema {} rename to {}").format(next_, published))
        cursor.execute(sql.SQL("grant usage on schema {} to {}").format(published, role))
        cursor.execute(sql.SQL("grant select on all tables in schema {} to {}").format(published, role))
    return counts


def _ensure_role(cursor, role: str) -> None:
    """Create the BI role (login, no rights of its own) when it does not exist yet."""
    from psycopg2 import sql

    cursor.execute("select 1 from pg_roles where rolname = %s", [role])
    if not cursor.fetchone():
        cursor.execute(sql.SQL("create role {} login nosuperuser nocreatedb nocreaterole").format(sql.Identifier(role)))
