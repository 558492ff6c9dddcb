"""Write-audit-publish: the marts reach BI in one atomic step, after the checks passed.

DuckDB: write the marts into a new file, then swap it in with one rename. BI opens the published
file read-only; a reader never sees a half-written file and never blocks the nightly run, and a
client that still has the old file open keeps reading the old snapshot until it reconnects. The new
file starts as a copy of the previous snapshot and takes only what dbt rebuilt since, where dbt's
publish log says what that was (pipelines/lib/publish_plan.py); other tables are copied whole.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lib import publish_plan

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


@dataclass(frozen=True)
class Publication:
    """What a publish wrote: rows per published table, and how each table got there (DuckDB: copied, replayed
    or kept, see pipelines/lib/publish_plan.py; PostgreSQL: copied) with why."""

    rows: dict[str, int]
    methods: dict[str, str] = field(default_factory=dict)


def publish_duckdb(
    warehouse_path: Path, analytics_path: Path, keep_snapshots: int = 3, email_key: str | None = None
) -> Publication:
    """Publish every table of the warehouse's `marts` schema to `analytics_path`.

    The new file starts as a copy of the previous snapshot (or empty, once a week); each table is then kept,
    changed by the partitions dbt rebuilt since, or copied whole (pipelines/lib/publish_plan.py). With
    `email_key`, e-mail columns are published as keyed hashes (see the module docstring).
    """
    analytics_path = Path(analytics_path)
    analytics_path.parent.mkdir(parents=True, exist_ok=True)
    staging = analytics_path.with_name(f".{analytics_path.name}.{uuid.uuid4().hex}.tmp")
    now = datetime.now(UTC)
    published = publish_plan.read_published(analytics_path)
    afresh = publish_plan.start_afresh(published, now)
    try:
        if afresh is None:
            shutil.copyfile(analytics_path, staging)
        publication = _write_marts(Path(warehouse_path), staging, email_key, published, now, afresh)
        if analytics_path.exists() and keep_snapshots > 0:
            _keep_previous(analytics_path, keep_snapshots)
        os.replace(staging, analytics_path)
    finally:
        staging.unlink(missing_ok=True)
    return publication


def _write_marts(warehouse_path: Path, target: Path, email_key: str | None,
                 published: dict[str, publish_plan.PublishedTable], now: datetime, afresh: str | None) -> Publication:
    """Make the snapshot `target` hold the warehouse's marts: a copy of the snapshot that holds `published`, or an
    empty file when `afresh` says why not."""
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
        if email_key:
            from duckdb.sqltypes import VARCHAR

            connection.create_function("cg_email_hash", email_hasher(email_key), [VARCHAR], VARCHAR)
        builds, key_check = publish_plan.read_builds(connection, "warehouse"), _email_key_check(email_key)
        connection.execute(f"create schema if not exists {PUBLISHED_SCHEMA}")
        columns = {name: _columns(connection, "warehouse", name) for name in tables}
        steps = {name: publish_plan.Step(publish_plan.COPY, afresh) if afresh else publish_plan.plan(
                     builds.get(name, []), published.get(name), key_check,
                     columns[name] == _columns(connection, None, name))
                 for name in tables}
        _drop_tables_copied_whole(connection, steps)
        rows, methods, state = {}, {}, []
        for name, step in steps.items():
            rows[name], done = _publish_table(connection, name, columns[name], step, email_key is not None)
            methods[name] = f"{done.method}: {done.reason}"
            latest = builds[name][-1] if name in builds else None
            copied_at = now if done.method == publish_plan.COPY else published[name].copied_at
            state.append((name, latest.invocation_id if latest else None, latest.built_at if latest else None,
                          key_check, methods[name], rows[name], copied_at, now))
        _record_state(connection, state)
        connection.execute("detach warehouse")
        connection.execute("checkpoint")
        return Publication(rows, methods)
    finally:
        connection.close()


def _drop_tables_copied_whole(connection: duckdb.DuckDBPyConnection, steps: dict[str, publish_plan.Step]) -> None:
    """Drop the snapshot's tables that are gone from the marts or about to be copied whole, and checkpoint, so the
    copies reuse their space in the file instead of growing it."""
    for (name,) in connection.execute(
            "select table_name from duckdb_tables() where database_name = current_database() and schema_name = ?",
            [PUBLISHED_SCHEMA]).fetchall():
        if name not in steps or steps[name].method == publish_plan.COPY:
            connection.execute(f'drop table {PUBLISHED_SCHEMA}."{name}"')
    connection.execute("checkpoint")


def _publish_table(connection: duckdb.DuckDBPyConnection, name: str, columns: list[tuple[str, str]],
                   step: publish_plan.Step, hash_emails: bool) -> tuple[int, publish_plan.Step]:
    """Bring table `name` (whose warehouse `columns` are names and types) of the snapshot to the warehouse's rows
    as `step` says; returns its rows and the step taken (a whole copy when the count did not match)."""
    published, source = f'{PUBLISHED_SCHEMA}."{name}"', f'warehouse.{PUBLISHED_SCHEMA}."{name}"'
    select = ", ".join(
        f'cg_email_hash("{column}") as "{column}"' if hash_emails and data_type == "VARCHAR" and EMAIL_COLUMN.search(
            column) else f'"{column}"' for column, data_type in columns)
    if step.method == publish_plan.REPLAY:
        condition, parameters = publish_plan.replay_scope(step, "warehouse", name)
        connection.execute(f"delete from {published} where {condition}", parameters)
        connection.execute(f"insert into {published} select {select} from {source} where {condition}", parameters)
    if step.method != publish_plan.COPY:
        expected, held = (connection.execute(f"select count(*) from {table}").fetchone()[0]
                          for table in (source, published))
        if expected == held:
            return held, step
        step = publish_plan.Step(publish_plan.COPY, f"{step.method} gave {held:,} rows, the warehouse has "
                                                    f"{expected:,}: copied whole instead")
    connection.execute(f"create or replace table {published} as select {select} from {source}")
    return connection.execute(f"select count(*) from {published}").fetchone()[0], step


def _columns(connection: duckdb.DuckDBPyConnection, database: str | None, table: str) -> list[tuple[str, str]]:
    """Names and types of a marts table, in order, in the attached `database` (None: the snapshot itself)."""
    return connection.execute(
        "select column_name, data_type from duckdb_columns() where database_name = coalesce(?, current_database()) "
        "and schema_name = ? and table_name = ? order by column_index", [database, PUBLISHED_SCHEMA, table]).fetchall()


def _email_key_check(key: str | None) -> str:
    """A value that tells snapshots hashed with different keys apart, and says nothing of the key."""
    return hmac.new(key.encode(), b"common-ground snapshot key check", hashlib.sha256).hexdigest() if key else "none"


def _record_state(connection: duckdb.DuckDBPyConnection, state: list[tuple]) -> None:
    """Record in the snapshot which build of each table it holds (read by the next publish, and by BI)."""
    connection.execute("create schema if not exists common_ground")
    connection.execute(f"create or replace table {publish_plan.STATE_TABLE} (table_name varchar, "
                       "invocation_id varchar, built_at timestamp with time zone, email_key_check varchar, "
                       "method varchar, row_count bigint, copied_at timestamp with time zone, "
                       "published_at timestamp with time zone)")
    connection.executemany(f"insert into {publish_plan.STATE_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?)", state)


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


def publish_postgres(url: str, bi_role: str, email_key: str | None = None) -> Publication:
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
    return Publication(counts, {name: "copied: a fresh schema every night" for name in counts})


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
