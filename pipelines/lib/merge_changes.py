"""What a load into a raw table changes: keys it adds, keys whose content it changes, keys it re-reads unchanged,
and stored keys it takes away.

dlt merges a load into its raw table from a staging copy of the load's rows, in one SQL job (a full refresh
merges on its key too). The destinations :class:`ChangeCountingDuckDb` and :class:`ChangeCountingPostgres` put one
statement in front of the job's statements, in its transaction: a join of the staging rows with the stored rows
on the stream's key, comparing every column but the loader's own, whose counts it writes to a table of its own in
the staging dataset (:func:`changes_table`). :func:`merge_changes` reads them once the load is committed.
At scale M the statements of a night's merges take about 0.3 s together (DuckDB, 2 cores): reading
the stored rows' columns is most of it, so comparing a hash of them instead would not be cheaper. The removed
count of the largest windowed table (346,000 ad-group days, a 28-day restatement) adds about 30 ms to its merge.

The columns compared are the table's columns but for the key, dlt's (``_dlt_load_id``) and the ones
the loader stamps on every row of a load (``_loaded_at``, ``_run_id``): those change with every load.
Which columns are the key and the stamps, the loader says with the column hints of :func:`change_hints`.

A load removes stored keys one way: a merge that replaces whole windows (dlt's ``merge_key``: an ad account's day)
drops the stored keys of those windows the re-read does not bring back (a restatement that no longer reports a
row). A merge on the primary key removes nothing; a full refresh merges on it too, and the loader flags the stored
rows its read no longer has (:func:`pipelines.lib.key_reconciliation.flag_unread_rows`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import dlt
from dlt.common.destination import DestinationReference, PreparedTableSchema
from dlt.common.destination.exceptions import DestinationUndefinedEntity
from dlt.common.schema.utils import get_columns_names_with_prop, get_dedup_sort_tuple
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.destinations.impl.duckdb.duck import DuckDbClient
from dlt.destinations.impl.postgres.postgres import PostgresClient
from dlt.destinations.sql_client import SqlClientBase
from dlt.destinations.sql_jobs import SqlMergeFollowupJob

#: The prefix of the staging dataset's tables of what the last merge or full refresh of each raw table changed.
CHANGES_TABLE_PREFIX = "_merge_changes__"
#: Column hints: the column that identifies a row, and the columns every load stamps anew.
CHANGE_KEY_HINT = "x-change-key"
LOAD_STAMP_HINT = "x-load-stamp"
DLT_COLUMN_PREFIX = "_dlt_"


@dataclass(frozen=True)
class MergeChanges:
    """The keys of a load's rows: new ones, stored ones whose content differs, stored ones with the same content;
    and the stored keys the load took away."""

    inserted: int
    updated: int
    unchanged: int
    removed: int = 0


def change_hints(key: str, load_stamps: Iterable[str]) -> dict[str, dict]:
    """The dlt column hints that mark `key` as the column a merge's changes are counted by, and `load_stamps` as
    columns left out of the comparison."""
    return {key: {CHANGE_KEY_HINT: True}, **{column: {LOAD_STAMP_HINT: True} for column in load_stamps}}


def change_count_sql(table: PreparedTableSchema, sql_client: SqlClientBase, load_id: str) -> list[str]:
    """The statements that write to its :func:`changes_table` what loading the staging rows of `table` in load
    `load_id` changes.

    Of the staging rows of one key, the merge keeps one (the newest by the table's ``dedup_sort``
    column) when the table has a primary key, and all of them otherwise: the count takes the same ones.
    A table without the change-key hint gets no statements.
    """
    keys = get_columns_names_with_prop(table, CHANGE_KEY_HINT)
    if not keys:
        return []
    escape, literal = sql_client.escape_column_name, sql_client.capabilities.escape_literal
    key = escape(keys[0])
    stored, staged = sql_client.get_qualified_table_names(table["name"])
    with sql_client.with_staging_dataset():
        changes = sql_client.make_qualified_table_name(changes_table(table["name"]))
    changed = " OR ".join(f"s.{column} IS DISTINCT FROM d.{column}" for column in map(escape, _compared_columns(
        table, keys[0]))) or "FALSE"
    # Dropped and made again, not emptied: a table written before `removed` was counted lacks its column.
    return [
        f"DROP TABLE IF EXISTS {changes}",
        f"CREATE TABLE {changes} (load_id VARCHAR, inserted BIGINT, updated BIGINT, unchanged BIGINT, removed BIGINT)",
        f"INSERT INTO {changes} (load_id, inserted, updated, unchanged, removed) SELECT {literal(load_id)}, "
        f"COUNT(*) FILTER (WHERE d.{key} IS NULL), "
        f"COUNT(*) FILTER (WHERE d.{key} IS NOT NULL AND ({changed})), "
        f"COUNT(*) FILTER (WHERE d.{key} IS NOT NULL AND NOT ({changed})), "
        f"{_removed_count_sql(table, stored, staged, key, sql_client)} "
        f"FROM ({_merged_rows(table, staged, sql_client)}) AS s LEFT JOIN {stored} AS d ON d.{key} = s.{key}",
    ]


def _removed_count_sql(table: PreparedTableSchema, stored: str, staged: str, key: str,
                       sql_client: SqlClientBase) -> str:
    """The count of the stored keys a load of `table` takes away: of the stored rows in the windows the staging rows
    cover (their ``merge_key`` values) for a merge that replaces windows, those whose key no staging row brings
    back. A merge on the primary key alone takes none away. The windowed merge scans the stored table as dlt's
    delete of its windows does, in the same transaction.
    """
    windows = [sql_client.escape_column_name(c) for c in get_columns_names_with_prop(table, "merge_key")]
    if not windows:
        return "0"
    same_window = " AND ".join(f"w.{column} = d.{column}" for column in windows)
    scope = f"EXISTS (SELECT 1 FROM {staged} AS w WHERE {same_window})"
    return (f"(SELECT COUNT(*) FROM {stored} AS d WHERE {scope} "
            f"AND NOT EXISTS (SELECT 1 FROM {staged} AS n WHERE n.{key} = d.{key}))")


def changes_table(table: str) -> str:
    """The staging table of what the last merge or full refresh of raw table `table` changed.

    One per raw table: dlt runs a load's merges in parallel, and on PostgreSQL two transactions creating the
    same table at once collide (``CREATE TABLE IF NOT EXISTS`` is not safe against a concurrent one).
    """
    return f"{CHANGES_TABLE_PREFIX}{table}"


def _compared_columns(table: PreparedTableSchema, key: str) -> list[str]:
    """The columns whose values make a row's content: all but the key, dlt's and the load stamps."""
    stamps = set(get_columns_names_with_prop(table, LOAD_STAMP_HINT))
    return [column for column in get_columns_names_with_prop(table, "name")
            if column != key and column not in stamps and not column.startswith(DLT_COLUMN_PREFIX)]


def _merged_rows(table: PreparedTableSchema, staged: str, sql_client: SqlClientBase) -> str:
    """The staging rows the merge takes: one per primary key when the table has one, the newest by ``dedup_sort``."""
    primary_keys = [sql_client.escape_column_name(c) for c in get_columns_names_with_prop(table, "primary_key")]
    if not primary_keys or table.get("x-stage-data-deduplicated", False):
        return f"SELECT * FROM {staged}"
    dedup_sort = get_dedup_sort_tuple(table)
    if dedup_sort is not None:
        dedup_sort = (sql_client.escape_column_name(dedup_sort[0]), dedup_sort[1])
    columns = [sql_client.escape_column_name(c) for c in get_columns_names_with_prop(table, "name")]
    return SqlMergeFollowupJob.gen_select_from_dedup_sql(staged, primary_keys, columns, dedup_sort)


def merge_changes(pipeline: dlt.Pipeline, table: str, load_ids: Iterable[str]) -> MergeChanges | None:
    """What the merge or full refresh of `table` in one of the loads `load_ids` changed, or None when none of them
    counted one."""
    try:
        with pipeline.sql_client() as client:
            with client.with_staging_dataset():
                changes = client.make_qualified_table_name(changes_table(table))
            rows = client.execute_sql(f"select load_id, inserted, updated, unchanged, removed from {changes}")
    except (DatabaseUndefinedRelation, DestinationUndefinedEntity):
        return None
    loads = set(load_ids)
    counts = [row[1:] for row in rows or [] if row[0] in loads]
    return MergeChanges(*counts[0]) if counts else None


class _ChangeCountingMergeJob(SqlMergeFollowupJob):
    """dlt's merge job, which first counts what it changes (see :func:`change_count_sql`)."""

    @classmethod
    def _gen_table_setup_clauses(cls, table_chain, sql_client) -> list[str]:
        return [*super()._gen_table_setup_clauses(table_chain, sql_client),
                *change_count_sql(table_chain[0], sql_client, dlt.current.load_package_state()["load_id"])]


class _ChangeCountingMerges:
    """For a dlt SQL job client: its merges count what they change."""

    def _create_merge_followup_jobs(self, table_chain):
        return [_ChangeCountingMergeJob.from_table_chain(table_chain, self.sql_client)]


class _ChangeCountingDuckDbClient(_ChangeCountingMerges, DuckDbClient):
    pass


class _ChangeCountingPostgresClient(_ChangeCountingMerges, PostgresClient):
    pass


class ChangeCountingDuckDb(dlt.destinations.duckdb):
    """The DuckDB destination, counting what its merges change.

    To dlt it is the same destination type as DuckDB's: dlt keeps the type in a pipeline's state and
    reads the destination's settings from the configuration section named after it.
    """

    @property
    def destination_type(self) -> str:
        return DestinationReference.normalize_type("duckdb")

    @property
    def client_class(self) -> type[DuckDbClient]:
        return _ChangeCountingDuckDbClient


class ChangeCountingPostgres(dlt.destinations.postgres):
    """The PostgreSQL destination, counting what its merges change; to dlt the same type as PostgreSQL's (see
    :class:`ChangeCountingDuckDb`)."""

    @property
    def destination_type(self) -> str:
        return DestinationReference.normalize_type("postgres")

    @property
    def client_class(self) -> type[PostgresClient]:
        return _ChangeCountingPostgresClient

