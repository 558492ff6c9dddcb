"""Write-audit-publish: the marts reach BI in one atomic step, after the checks passed.

DuckDB: copy the marts into a new file, then swap it in with one rename. BI opens the published
file read-only; a reader never sees a half-written file and never blocks the nightly run, and a
client that still has the old file open keeps reading the old snapshot until it reconnects.

PostgreSQL: build the marts into a fresh schema and swap it in for ``analytics`` inside one
transaction (PostgreSQL's DDL is transactional), keeping the previous one as
``analytics_previous`` for rollback; a read-only BI role may read ``analytics`` and nothing else.

PII: given an `email_key`, every e-mail column (``email``, ``*_email``, text) of the published copy
holds the keyed hash HMAC-SHA256(key, e-mail) as 64 hex digits instead of the address, so BI can
count and join people without seeing them; the working warehouse keeps clear e-mails. The hash is
computed in Python (a DuckDB UDF; on PostgreSQL over the distinct addresses), so the key never
travels in SQL text, where a server's statement log could keep it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

PUBLISHED_SCHEMA = "marts"
#: DuckDB's memory for the copy: without a limit it takes most of the machine (2.3 GB for the marts at scale M);
#: with one it streams the tables and spills what it must.
PUBLISH_MEMORY_LIMIT = "512MB"
POSTGRES_ANALYTICS_SCHEMA = "analytics"
EMAIL_COLUMN = re.compile(r"(^|_)email$")


def email_hasher(key: str) -> Callable[[str | None], str | None]:
    """HMAC-SHA256 of an e-mail under `key`, as 64 lower-case hex digits (None stays None)."""
    if not key:
        raise ValueError("hashing e-mails needs a key (PII_HASH_KEY)")
    secret = key.encode()

    def digest(value: str | None) -> str | None:
        return None if value is None else hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()

    return digest


def publish_duckdb(
    warehouse_path: Path, analytics_path: Path, keep_snapshots: int = 3, email_key: str | None = None
) -> dict[str, int]:
    """Publish every table of the warehouse's `marts` schema to `analytics_path`; returns rows per table.

    With `email_key`, e-mail columns are published as keyed hashes (see the module docstring).
    """
    analytics_path = Path(analytics_path)
    analytics_path.parent.mkdir(parents=True, exist_ok=True)
    staging = analytics_path.with_name(f".{analytics_path.name}.{uuid.uuid4().hex}.tmp")
    try:
        published = _copy_marts(Path(warehouse_path), staging, email_key)
        if analytics_path.exists() and keep_snapshots > 0:
            _keep_previous(analytics_path, keep_snapshots)
        os.replace(staging, analytics_path)
    finally:
        staging.unlink(missing_ok=True)
    return published


def _copy_marts(warehouse_path: Path, target: Path, email_key: str | None = None) -> dict[str, int]:
    # Rows of a table have no order a reader may rely on; letting DuckDB write them in any order lets it copy
    # a table with all its threads (attribution at M size: 6.2 s -> 3.9 s).
    connection = duckdb.connect(str(target), config={"memory_limit": PUBLISH_MEMORY_LIMIT,
                                                     "preserve_insertion_order": False})
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
        if email_key:
            _hash_emails_duckdb(connection, email_key)
        connection.execute("checkpoint")
        return counts
    finally:
        connection.close()


def _hash_emails_duckdb(connection: duckdb.DuckDBPyConnection, key: str) -> None:
    """Replace every e-mail column of the published marts with its keyed hash, through a Python UDF."""
    from duckdb.sqltypes import VARCHAR

    columns = connection.execute(
        "select table_name, column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and data_type = 'VARCHAR'", [PUBLISHED_SCHEMA]).fetchall()
    connection.create_function("cg_email_hash", email_hasher(key), [VARCHAR], VARCHAR)
    try:
        for table, column in columns:
            if EMAIL_COLUMN.search(column):
                connection.execute(f'update {PUBLISHED_SCHEMA}."{table}" set "{column}" = cg_email_hash("{column}")')
    finally:
        connection.remove_function("cg_email_hash")


def _keep_previous(analytics_path: Path, keep: int) -> None:
    """Keep the current snapshot aside for rollback and prune all but the newest `keep` copies.

    The copy is a hard link where the file system allows one: a published file is never written
    again (the next one replaces it by rename), so the link keeps its contents without copying
    them, which took seconds at scale M.
    """
    folder = analytics_path.parent / "snapshots"
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    kept = folder / f"{analytics_path.stem}-{stamp}{analytics_path.suffix}"
    try:
        os.link(analytics_path, kept)
    except OSError:  # no hard links here (another device, a file system without them)
        shutil.copy2(analytics_path, kept)
    for old in sorted(folder.glob(f"{analytics_path.stem}-*{analytics_path.suffix}"))[:-keep]:
        old.unlink()


def publish_postgres(url: str, bi_role: str, email_key: str | None = None) -> dict[str, int]:
    """Swap a fresh copy of the `marts` schema in as `analytics` and let `bi_role` read it (and only it).

    With `email_key`, e-mail columns are published as keyed hashes (see the module docstring).
    """
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
        if email_key:
            _hash_emails_postgres(cursor, f"{POSTGRES_ANALYTICS_SCHEMA}_next", email_key)
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


def _hash_emails_postgres(cursor, schema: str, key: str) -> None:
    """Replace every e-mail column in `schema` with its keyed hash, computed here over the distinct addresses."""
    from psycopg2 import sql
    from psycopg2.extras import execute_values

    digest = email_hasher(key)
    cursor.execute("select table_name, column_name from information_schema.columns where table_schema = %s "
                   "and data_type in ('text', 'character varying')", [schema])
    columns = [(table, column) for table, column in cursor.fetchall() if EMAIL_COLUMN.search(column)]
    cursor.execute("create temporary table cg_email_hashes (email text primary key, hashed text) on commit drop")
    for table, column in columns:
        target, field = sql.Identifier(schema, table), sql.Identifier(column)
        cursor.execute(sql.SQL("select distinct {} from {} where {} is not null").format(field, target, field))
        execute_values(cursor, "insert into cg_email_hashes values %s",
                       [(email, digest(email)) for (email,) in cursor.fetchall()])
        cursor.execute(sql.SQL("update {} as t set {} = h.hashed from cg_email_hashes as h where t.{} = h.email")
                       .format(target, field, field))
        cursor.execute("truncate cg_email_hashes")
