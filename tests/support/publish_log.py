"""For the publish tests: a warehouse whose builds of a mart are logged as dbt's macros log them
(dbt_project/macros/incremental/publish_log.sql), and a comparison of a snapshot with the marts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb

NIGHT = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
#: The log dbt creates (dbt_project/macros/incremental/publish_log.sql; test_incremental.py checks they agree).
LOG_DDL = [
    "create schema if not exists publish_log",
    "create table if not exists publish_log.mart_builds (model varchar, invocation_id varchar, "
    "built_at timestamp with time zone, kind varchar, scope_column varchar, window_column varchar)",
    "create table if not exists publish_log.mart_build_scopes (model varchar, invocation_id varchar, "
    "scope_key varchar, replace_from date)",
]


class Warehouse:
    """A warehouse with a pipeline_daily-like mart (partitions by deal, a rebuilt window of days) and its log."""

    def __init__(self, path):
        self.path = path
        self.night = 0
        with self.connect() as connection:
            for statement in [*LOG_DDL, "create schema marts"]:
                connection.execute(statement)

    def connect(self):
        return duckdb.connect(str(self.path))

    def build(self, kind: str, statements: list[str], scopes: tuple[str, ...] = (), replace_from: date | None = None,
              model: str = "pipeline_daily") -> None:
        """Run a night's build of `model`: log it as dbt does (first), then change the table."""
        self.night += 1
        invocation, built_at = f"invocation-{self.night}", NIGHT + timedelta(days=self.night)
        scoped = kind == "scoped"
        with self.connect() as connection:
            connection.execute("insert into publish_log.mart_builds values (?, ?, ?, ?, ?, ?)",
                               [model, invocation, built_at, kind, "opportunity_id" if scoped else None,
                                "date_day" if scoped else None])
            for key in scopes:
                connection.execute("insert into publish_log.mart_build_scopes values (?, ?, ?, null)",
                                   [model, invocation, key])
            if replace_from:
                connection.execute("insert into publish_log.mart_build_scopes values (?, ?, null, ?)",
                                   [model, invocation, replace_from])
            for statement in statements:
                connection.execute(statement)

    def rows(self, table: str = "pipeline_daily") -> list[tuple]:
        return mart_rows(self.path, table)


def mart_rows(database, table: str = "pipeline_daily") -> list[tuple]:
    """Every row of ``marts.<table>`` in the DuckDB file `database` (a warehouse or a snapshot), sorted."""
    with duckdb.connect(str(database), read_only=True) as connection:
        return sorted(connection.execute(f"select * from marts.{table}").fetchall(), key=repr)


#: The first (full) build: five deals, o1..o5, thirty days each from 2026-10-01, an owner e-mail per deal.
FIRST_BUILD = [
    "create table marts.pipeline_daily as select 'o' || deal as opportunity_id, "
    "date '2026-10-01' + day::int as date_day, deal * 100 + day as amount, "
    "'deal' || deal || '@example.com' as owner_email from range(1, 6) as deals(deal), range(0, 30) as days(day)",
]


def snapshot_differences(warehouse, analytics, tables) -> dict[str, tuple[int, int]]:
    """The `tables` whose published rows differ from the warehouse's marts: (rows only in the warehouse, rows only
    in the snapshot), each row counted as often as it occurs."""
    differences = {}
    with duckdb.connect() as connection:
        connection.execute(f"attach '{warehouse}' as warehouse (read_only)")
        connection.execute(f"attach '{analytics}' as published (read_only)")
        for table in tables:
            mart, snapshot = f"warehouse.marts.{table}", f"published.marts.{table}"
            counts = connection.execute(f"select (select count(*) from (from {mart} except all from {snapshot})), "
                                        f"(select count(*) from (from {snapshot} except all from {mart}))").fetchone()
            if counts != (0, 0):
                differences[table] = counts
    return differences
