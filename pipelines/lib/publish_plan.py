"""How each mart reaches the next DuckDB snapshot: kept as it is, changed by the partitions dbt replaced, or copied.

The next snapshot starts as a copy of the previous one (a file copy, well under a second for a gigabyte). dbt logs
every build of a mart in the warehouse (``publish_log``, see ``dbt_project/macros/incremental/publish_log.sql``),
before the build changes the table, and the snapshot records which build of each table it holds
(``common_ground.published_tables``). So a table whose builds since then were all incremental (``scoped``) differs
from the snapshot's copy only in the partitions those builds name: publishing deletes them from the copy and
inserts the warehouse's rows of them. A table with no build since is kept. Anything else is copied whole: no
earlier snapshot of it, a full build since, other columns, another e-mail key, a build no longer in the log.
Once a week the snapshot starts from a new file instead, every table copied whole.

Every kept or changed table is then counted against the warehouse's: a table that does not match (something
changed the mart without going through dbt's log) is copied whole. A change outside dbt that keeps the count (an
update by hand) reaches the snapshot at the next weekly new file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

#: Where the warehouse's publish log lives (dbt macro cg_publish_log_schema) and where a snapshot records itself.
LOG_SCHEMA = "publish_log"
STATE_TABLE = "common_ground.published_tables"

COPY, REPLAY, KEEP = "copied", "replayed", "kept"
#: The snapshot is written into a new file, every table copied whole, at least this often, whatever the log says:
#: the file sheds the space deleted rows leave (it grew up to 2% a night in a trial at scale M), and anything the log
#: missed is put right.
COPY_WHOLE_EVERY = timedelta(days=7)


@dataclass(frozen=True)
class Build:
    """One logged dbt build of a mart."""

    invocation_id: str
    built_at: datetime
    kind: str
    scope_column: str | None
    window_column: str | None


@dataclass(frozen=True)
class PublishedTable:
    """What a snapshot records of one of its tables: the build it holds and the e-mail key it was hashed with."""

    invocation_id: str | None
    built_at: datetime | None
    email_key_check: str
    copied_at: datetime


@dataclass(frozen=True)
class Step:
    """How one table reaches the next snapshot. For REPLAY, the builds since the snapshot's and what they replaced."""

    method: str
    reason: str
    since: datetime | None = None
    scope_column: str | None = None
    window_column: str | None = None


def read_builds(connection: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[Build]]:
    """The logged builds of every mart of the attached warehouse `database`, oldest first ({} without a log)."""
    if not _has_table(connection, LOG_SCHEMA, "mart_builds", database):
        return {}
    builds: dict[str, list[Build]] = {}
    for model, *fields in connection.execute(
            f"select model, invocation_id, built_at, kind, scope_column, window_column "
            f"from {database}.{LOG_SCHEMA}.mart_builds order by built_at, invocation_id").fetchall():
        builds.setdefault(model, []).append(Build(*fields))
    return builds


def read_published(snapshot: Path) -> dict[str, PublishedTable]:
    """What the snapshot file records of its tables ({} for no file, one DuckDB cannot open, or an older snapshot)."""
    try:
        with duckdb.connect(str(snapshot), read_only=True) as connection:
            if not _has_table(connection, *STATE_TABLE.split(".")):
                return {}
            return {name: PublishedTable(*fields) for name, *fields in connection.execute(
                f"select table_name, invocation_id, built_at, email_key_check, copied_at from {STATE_TABLE}"
            ).fetchall()}
    except duckdb.Error:
        return {}


def _has_table(connection: duckdb.DuckDBPyConnection, schema: str, table: str, database: str | None = None) -> bool:
    """Whether `schema.table` exists (in the attached `database`, when given)."""
    return connection.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ? "
                              "and database_name = coalesce(?, database_name)", [schema, table, database]
                              ).fetchone()[0] > 0


def start_afresh(published: dict[str, PublishedTable], now: datetime) -> str | None:
    """Why the next snapshot is a new file rather than a copy of the previous one, or None to copy it."""
    if not published:
        return "no previous snapshot to start from"
    oldest = min(table.copied_at for table in published.values())
    if now - oldest >= COPY_WHOLE_EVERY:
        return f"a new file: the oldest whole copy in the previous snapshot is {(now - oldest).days} days old"
    return None


def plan(builds: list[Build], published: PublishedTable | None, email_key_check: str, same_columns: bool) -> Step:
    """How a table whose logged builds are `builds` reaches the next snapshot, given what the previous one holds."""
    if published is None:
        return Step(COPY, "not in the previous snapshot")
    if not builds:
        return Step(COPY, "no build of it in the publish log")
    if published.email_key_check != email_key_check:
        return Step(COPY, "the previous snapshot hashed e-mails with another key")
    held = next((index for index, build in enumerate(builds) if build.invocation_id == published.invocation_id), None)
    if held is None:
        return Step(COPY, "the build the previous snapshot holds is no longer in the publish log")
    since = builds[held + 1:]
    if any(build.kind != "scoped" for build in since):
        return Step(COPY, "rebuilt whole since the previous snapshot")
    if not same_columns:
        return Step(COPY, "its columns changed")
    if not since:
        return Step(KEEP, "not rebuilt since the previous snapshot")
    if len({(build.scope_column, build.window_column) for build in since}) > 1:
        return Step(COPY, "its partitions changed since the previous snapshot")
    return Step(REPLAY, f"{len(since)} incremental build(s) since the previous snapshot",
                since=builds[held].built_at, scope_column=since[-1].scope_column, window_column=since[-1].window_column)


def replay_scope(step: Step, database: str, table: str) -> tuple[str, list]:
    """The SQL condition (and its parameters) selecting the rows of `table` that the builds since `step.since`
    replaced: their partition keys and, for a windowed model, every day from the earliest window they rebuilt."""
    builds_since = (f"select invocation_id from {database}.{LOG_SCHEMA}.mart_builds "
                    f"where model = ? and built_at > ?")
    condition = (f'cast("{step.scope_column}" as varchar) in (select scope_key from {database}.{LOG_SCHEMA}.'
                 f'mart_build_scopes where model = ? and scope_key is not null and invocation_id in ({builds_since}))')
    parameters = [table, table, step.since]
    if step.window_column:
        condition += (f' or "{step.window_column}" >= (select min(replace_from) from {database}.{LOG_SCHEMA}.'
                      f'mart_build_scopes where model = ? and invocation_id in ({builds_since}))')
        parameters += [table, table, step.since]
    return condition, parameters
