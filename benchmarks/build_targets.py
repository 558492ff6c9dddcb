"""Where the dbt benchmark builds: a DuckDB file or a PostgreSQL database, behind one small interface.

The benchmark loads the sandbox's CRM raw tables with the Dagster raw assets into the target's warehouse settings,
makes them M-sized by copying them (`REPLICATED`), times `dbt build` and publishes as the nightly job does.

* DuckDB: the raw assets load a file of their own; the build's warehouse is a copy of it with the replicas, and
  after the next day's sync its raw tables are replaced by the new ones, replicated again.
* PostgreSQL: one database, on the server at ``--postgres-url`` or on a throwaway server started for the run
  (scripts/postgres-server.sh: loopback, JIT off as the README advises, and no fsync: nothing on it outlives the
  run). The raw assets load it directly; the replicas are deleted and made again from the synced rows after every
  sync, then the tables are analyzed, as autovacuum would have done before a night's build.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import duckdb

#: How each replicated raw column changes per copy k: "id" appends _r<k>, "ids_json" does it inside a JSON array,
#: "ids_list" inside an "a;b" list, "domain" puts r<k>x before the host, "email" before the e-mail domain,
#: "name" prefixes R<k>. Columns not listed are copied as they are; tables not listed are not replicated. The
#: first "id" column of a table is its key: a copy's key ends in _r<k> (REPLICA_KEY_PATTERN).
REPLICATED = {
    "raw_salesforce.account": {"id": "id", "master_record_id": "id", "parent_id": "id", "website": "domain",
                               "name": "name"},
    "raw_salesforce.contact": {"id": "id", "master_record_id": "id", "account_id": "id", "email": "email"},
    "raw_salesforce.lead": {"id": "id", "master_record_id": "id", "converted_account_id": "id",
                            "converted_contact_id": "id", "converted_opportunity_id": "id", "email": "email",
                            "company": "name"},
    "raw_salesforce.opportunity": {"id": "id", "account_id": "id"},
    "raw_salesforce.opportunity_history": {"id": "id", "opportunity_id": "id"},
    "raw_salesforce.campaign_member": {"id": "id", "lead_id": "id", "contact_id": "id"},
    "raw_hubspot.companies": {"id": "id", "salesforceaccountid": "id", "hs_merged_object_ids": "ids_list",
                              "domain": "domain", "website": "domain", "name": "name"},
    "raw_hubspot.contacts": {"id": "id", "associatedcompanyid": "id", "salesforcecontactid": "id",
                             "salesforceleadid": "id", "hs_merged_object_ids": "ids_list",
                             "associated_companies_ids": "ids_json", "email": "email"},
    "raw_hubspot.deals": {"id": "id", "hs_merged_object_ids": "ids_list", "associated_companies_ids": "ids_json",
                          "associated_contacts_ids": "ids_json"},
    "raw_hubspot.email_events": {"id": "id", "recipient": "email"},
    "raw_hubspot.form_submissions": {"conversion_id": "id", "values": "email"},
}

#: A replica's key (see REPLICATED); the sources' own keys never end so.
REPLICA_KEY_PATTERN = "_r[0-9]+$"


def replica_expression(column: str, kind: str | None, copy: int) -> str:
    """The SQL (DuckDB and PostgreSQL alike) giving copy number `copy` of `column`, replicated as `kind` says."""
    quoted = f'"{column}"'
    if kind is None or copy == 0:
        return quoted
    if kind == "id":
        return f"{quoted} || '_r{copy}'"
    if kind == "ids_json":
        return f"""regexp_replace({quoted}, '"([^"]+)"', '"\\1_r{copy}"', 'g')"""
    if kind == "ids_list":
        return f"regexp_replace({quoted}, '([^;]+)', '\\1_r{copy}', 'g')"
    if kind == "domain":
        return f"regexp_replace({quoted}, '^([A-Za-z]+://)?([Ww][Ww][Ww][0-9]*[.])?', '\\1\\2r{copy}x')"
    if kind == "email":
        return f"replace({quoted}, '@', '@r{copy}x')"
    if kind == "name":
        return f"'R{copy} ' || {quoted}"
    raise ValueError(kind)


def replica_key(table: str) -> str:
    """The key column of a replicated raw table: its first "id" column in REPLICATED."""
    return next(column for column, kind in REPLICATED[table].items() if kind == "id")


def replicate_in_place(execute, columns_of, factor: int) -> dict[str, int]:
    """Append `factor` - 1 copies of each CRM raw table to itself (see REPLICATED); returns rows per table.

    `execute(sql)` runs a statement and returns its rows; `columns_of(table)` lists a table's columns in order."""
    counts = {}
    for table, kinds in REPLICATED.items():
        columns = columns_of(table)
        execute(f"create temp table original as select * from {table}")
        for copy in range(1, factor):
            select = ", ".join(replica_expression(column, kinds.get(column), copy) for column in columns)
            execute(f"insert into {table} select {select} from original")
        execute("drop table original")
        counts[table] = execute(f"select count(*) from {table}")[0][0]
    return counts


class DuckDBTarget:
    """The build's warehouse as DuckDB files under the work folder: the raw assets load ``loaded/`` (or the raw
    tables come from `source`, a loaded warehouse), the build reads ``warehouse.duckdb`` (the loaded file itself
    when nothing is replicated) and publishes ``analytics.duckdb``."""

    kind = "duckdb"

    def __init__(self, work: Path, factor: int, source: Path | None = None):
        from pipelines.local import local_environment

        self.factor = factor
        self.loader_environment = local_environment(work / "loaded")
        self.loaded = source or Path(self.loader_environment["WAREHOUSE_DUCKDB_PATH"])
        self.path = work / "warehouse.duckdb" if factor > 1 or source else self.loaded
        self.analytics = work / "analytics.duckdb"

    def describe(self) -> dict:
        """What the result file says of the warehouse."""
        return {"warehouse": self.kind, "duckdb_memory_limit":
                os.environ.get("WAREHOUSE_DUCKDB_MEMORY_LIMIT") or "DuckDB's default (80% of RAM)"}

    def dbt_environment(self) -> dict[str, str]:
        """The environment dbt builds with."""
        return {"WAREHOUSE_TARGET": "duckdb", "WAREHOUSE_DUCKDB_PATH": str(self.path)}

    def prepare_raw(self) -> dict[str, int]:
        """After a sync: the build's raw tables, replicated; rows per replicated table."""
        if self.path == self.loaded:
            return {table: self.query(f"select count(*) from {table}")[0][0] for table in REPLICATED}
        if not self.path.exists():
            return replicate(self.loaded, self.path, self.factor)
        return replace_raw(self.loaded, self.path, self.factor)

    def query(self, sql: str) -> list[tuple]:
        """The rows of one read-only query on the build's warehouse."""
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.execute(sql).fetchall()

    def publish(self) -> dict:
        """Publish the marts as the nightly job does, timed (see `time_publish`)."""
        return time_publish(self.path, self.analytics)

    def keep(self, name: str) -> None:
        """Keep a copy of the warehouse as it is now, as ``<name>.duckdb`` in the work folder."""
        shutil.copy(self.path, self.path.parent / f"{name}.duckdb")


def replicate(source: Path, target: Path, factor: int) -> dict[str, int]:
    """Copy the CRM raw tables of `source` into `target` `factor` times; returns rows per table."""
    shutil.copyfile(source, target)
    with duckdb.connect(str(target)) as connection:
        return _replicate_duckdb(connection, factor)


def replace_raw(source: Path, target: Path, factor: int) -> dict[str, int]:
    """Replace every raw table of `target` (schemas raw*) with those of `source`, the CRM ones replicated
    `factor` times as `replicate` does; the transformed tables of `target` stay. Returns rows per table."""
    with duckdb.connect(str(target)) as connection:
        connection.execute(f"attach '{source}' as source_warehouse (read_only)")
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = 'source_warehouse' and schema_name like 'raw%'").fetchall()
        for schema, table in tables:
            connection.execute(f'create schema if not exists "{schema}"')
            connection.execute(f'create or replace table "{schema}"."{table}" as '
                               f'select * from source_warehouse."{schema}"."{table}"')
        connection.execute("detach source_warehouse")
        return _replicate_duckdb(connection, factor)


def _replicate_duckdb(connection: duckdb.DuckDBPyConnection, factor: int) -> dict[str, int]:
    return replicate_in_place(lambda sql: connection.execute(sql).fetchall(),
                              lambda table: [row[0] for row in connection.execute(f"describe {table}").fetchall()],
                              factor)


def time_publish(warehouse: Path, analytics: Path) -> dict:
    """Publish the marts of `warehouse` to `analytics` as the nightly job does: the seconds, and how each table
    got there (copied, replayed, kept; pipelines/lib/publish_plan.py)."""
    from pipelines.lib.publish import publish_duckdb

    return _timed_publication(lambda: publish_duckdb(warehouse, analytics, keep_snapshots=0))


def _timed_publication(publish) -> dict:
    """Run `publish` (returning a pipelines.lib.publish.Publication): its seconds, and how each table got there."""
    started = time.monotonic()
    publication = publish()
    return {"seconds": round(time.monotonic() - started, 1),
            "tables": {table: method.split(":")[0] for table, method in publication.methods.items()}}


#: The server settings the result file records: what a PostgreSQL build's time depends on.
POSTGRES_SETTINGS = ("server_version", "jit", "fsync", "synchronous_commit", "shared_buffers", "work_mem",
                     "effective_cache_size", "max_parallel_workers_per_gather")


class PostgresTarget:
    """The build's warehouse as one PostgreSQL database (`url`): the raw assets load it, dbt builds in it and the
    marts are published to its ``analytics`` schema for the role ``bi_reader``."""

    kind = "postgres"

    def __init__(self, url: str, factor: int, server: str, work: Path):
        from pipelines.local import local_environment, postgres_environment

        self.url, self.factor, self.server = url, factor, server
        self.warehouse_environment = postgres_environment(url)
        self.database = self.warehouse_environment["POSTGRES_DB"]
        self.loader_environment = {**local_environment(work / "loaded"), **self.warehouse_environment}

    def describe(self) -> dict:
        """What the result file says of the warehouse: the server (given or throwaway) and its settings."""
        listed = ", ".join(f"'{name}'" for name in POSTGRES_SETTINGS)
        settings = dict(self.query(f"select name, setting from pg_settings where name in ({listed})"))
        return {"warehouse": self.kind, "postgres_server": self.server, "postgres_settings": settings}

    def dbt_environment(self) -> dict[str, str]:
        """The environment dbt builds with."""
        return self.warehouse_environment

    def prepare_raw(self) -> dict[str, int]:
        """After a sync: the copies of the raw tables made again from the synced rows, and every raw table analyzed;
        rows per replicated table."""
        with _connection(self.url) as connection, connection.cursor() as cursor:
            def execute(sql: str) -> list[tuple]:
                cursor.execute(sql)
                return cursor.fetchall() if cursor.description else []

            def columns_of(table: str) -> list[str]:
                schema, name = table.split(".")
                return [row[0] for row in execute(
                    f"select column_name from information_schema.columns where table_schema = '{schema}' "
                    f"and table_name = '{name}' order by ordinal_position")]

            if self.factor > 1:
                for table in REPLICATED:
                    execute(f"delete from {table} where \"{replica_key(table)}\" ~ '{REPLICA_KEY_PATTERN}'")
                counts = replicate_in_place(execute, columns_of, self.factor)
            else:
                counts = {table: execute(f"select count(*) from {table}")[0][0] for table in REPLICATED}
        self._analyze()
        return counts

    def _analyze(self) -> None:
        with _connection(self.url, autocommit=True) as connection, connection.cursor() as cursor:
            cursor.execute("select format('%I.%I', table_schema, table_name) from information_schema.tables "
                           "where table_schema like 'raw\\_%' and table_type = 'BASE TABLE'")
            for (table,) in cursor.fetchall():
                cursor.execute(f"analyze {table}")

    def query(self, sql: str) -> list[tuple]:
        """The rows of one read-only query on the build's database."""
        with _connection(self.url) as connection, connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    def publish(self) -> dict:
        """Publish the marts as the nightly job does on PostgreSQL (a fresh ``analytics`` schema), timed."""
        from pipelines.lib.publish import publish_postgres

        return _timed_publication(lambda: publish_postgres(self.url, "bi_reader"))

    def keep(self, name: str) -> None:
        """Keep a copy of the database as it is now, as the database ``<database>_<name>`` on the same server."""
        server = urlunparse(urlparse(self.url)._replace(path="/postgres"))
        with _connection(server, autocommit=True) as connection, connection.cursor() as cursor:
            cursor.execute(f'create database "{self.database}_{name}" template "{self.database}"')


#: Where a benchmark build runs.
BuildTarget = DuckDBTarget | PostgresTarget


@contextmanager
def _connection(url: str, autocommit: bool = False) -> Iterator:
    """A psycopg2 connection to `url`, closed after the block; without `autocommit`, what the block did is
    committed at its end (rolled back if it raised)."""
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = autocommit
    try:
        if autocommit:  # `with connection` would open a transaction (psycopg2 2.9), which create database refuses
            yield connection
        else:
            with connection:
                yield connection
    finally:
        connection.close()


@contextmanager
def postgres_target(server_url: str | None, factor: int, work: Path, keep: bool = False) -> Iterator[PostgresTarget]:
    """A new database for the run, on the server at `server_url` (its user may create databases) or, without one, on
    a throwaway server on loopback; dropped after the run unless `keep` (then its name is printed). The raw
    assets keep their dlt state under `work`."""
    with _server(server_url) as (url, server), _connection(url, autocommit=True) as admin:
        database = f"cg_bench_{uuid.uuid4().hex[:12]}"
        with admin.cursor() as cursor:
            cursor.execute(f"create database {database}")
        try:
            yield PostgresTarget(urlunparse(urlparse(url)._replace(path=f"/{database}")), factor, server, work)
        finally:
            if keep:
                print(f"database kept: {database} on {urlparse(url).hostname}:{urlparse(url).port}", file=sys.stderr)
            else:
                with admin.cursor() as cursor:
                    cursor.execute(f"drop database if exists {database} with (force)")


@contextmanager
def _server(server_url: str | None) -> Iterator[tuple[str, str]]:
    """(URL, what it is) of the server the run uses: `server_url`, else a throwaway one stopped after the run."""
    from pipelines.local import throwaway_postgres_server

    if server_url:
        yield server_url, "given (--postgres-url)"
        return
    with throwaway_postgres_server(_free_port()) as url:
        yield url, "throwaway (scripts/postgres-server.sh: jit off, fsync off)"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
