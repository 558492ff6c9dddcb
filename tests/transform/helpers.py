"""Helpers of the transform tests: raw tables from the raw contract, dbt runs, raw loads from the sandbox, scores."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import duckdb

from pipelines.defs.transform.project import DBT_EXECUTABLE, DBT_PROJECT_DIR

RAW_SCHEMA = Path(__file__).with_name("raw_schema.txt")
#: The CRM marts of issue 6 and everything upstream of them (seeds, staging, intermediate), with their tests.
CRM_MARTS = ("accounts", "account_source_records", "prospects", "prospect_source_records", "opportunities",
             "opportunity_stage_history", "pipeline_daily", "touchpoints", "campaigns")
CRM_SELECTION = ["--select", *(f"+{mart}" for mart in CRM_MARTS), "--indirect-selection", "cautious"]


def raw_tables() -> dict[str, list[tuple[str, str]]]:
    """``schema.table`` -> [(column, type)] of the CRM raw tables, as the loaders write them today."""
    tables = {}
    for line in RAW_SCHEMA.read_text().splitlines():
        if not line.strip():
            continue
        name, _, columns = line.partition(": ")
        parsed = []
        for column in columns.split(", "):
            column_name, _, column_type = column.partition(" ")
            parsed.append((column_name, column_type))
        tables[name] = parsed
    return tables


def create_raw_tables(connection: duckdb.DuckDBPyConnection,
                      tables: dict[str, list[tuple[str, str]]] | None = None) -> None:
    """Create every CRM raw table, empty, with the columns of the raw contract (or of `tables`, as
    :func:`raw_tables` gives them)."""
    for name, columns in (tables or raw_tables()).items():
        schema, table = name.split(".")
        connection.execute(f"create schema if not exists {schema}")
        column_sql = ", ".join(f'"{column}" {column_type}' for column, column_type in columns)
        connection.execute(f'create or replace table {schema}."{table}" ({column_sql})')


def insert_rows(connection: duckdb.DuckDBPyConnection, table: str, rows: Iterable[dict]) -> None:
    """Insert hand-written rows (dicts of column -> value; missing columns stay null) into ``schema.table``."""
    schema, name = table.split(".")
    for row in rows:
        columns = ", ".join(f'"{column}"' for column in row)
        marks = ", ".join("?" for _ in row)
        connection.execute(f'insert into {schema}."{name}" ({columns}) values ({marks})', list(row.values()))


def raw_warehouse(path: Path, raw: dict[str, list[dict]],
                  tables: dict[str, list[tuple[str, str]]] | None = None) -> Path:
    """A DuckDB warehouse at `path` with every raw table (of the raw contract, or `tables`), empty but for the
    hand-written `raw` (table -> rows)."""
    with duckdb.connect(str(path)) as connection:
        create_raw_tables(connection, tables)
        for table, table_rows in raw.items():
            insert_rows(connection, table, table_rows)
    return path


def run_dbt(warehouse: Path | dict[str, str], args: list[str], work_dir: Path) -> subprocess.CompletedProcess:
    """Run dbt on the project against the DuckDB file ``warehouse`` (or the warehouse a dict of environment
    settings names, such as :func:`tests.support.postgres.postgres_environment`'s); target and logs stay in
    ``work_dir``."""
    settings = warehouse if isinstance(warehouse, dict) else {"WAREHOUSE_DUCKDB_PATH": str(warehouse),
                                                              "WAREHOUSE_TARGET": "duckdb"}
    env = {**os.environ, **settings, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR), "DO_NOT_TRACK": "1"}
    command = [DBT_EXECUTABLE, *args, "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs")]
    return subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900)


def dbt_build(warehouse: Path | dict[str, str], work_dir: Path, extra: list[str] | None = None) -> float:
    """``dbt build`` of the CRM marts and everything upstream (models, seeds and tests) on `warehouse` (as for
    :func:`run_dbt`); returns the seconds it took, raises with dbt's output on failure."""
    started = time.monotonic()
    result = run_dbt(warehouse, ["build", *CRM_SELECTION, *(extra or [])], work_dir)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise AssertionError(f"dbt build failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    return seconds


def load_crm_raw(url: str, environment: dict[str, str]) -> None:
    """Load the Salesforce and HubSpot raw tables from the sandbox at ``url`` with the Dagster raw assets only."""
    import dagster as dg

    from pipelines.definitions import defs
    from sandbox.launcher import connector_env

    os.environ.update(environment)
    os.environ.update(connector_env(url))
    definitions = defs()
    crm = (["raw", "salesforce"], ["raw", "hubspot"])
    keys = [key for key in definitions.resolve_all_asset_keys() if key.path[:2] in crm]
    job = definitions.resolve_job_def("nightly_sync")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, asset_selection=keys, raise_on_error=True)
    assert result.success


def rows(warehouse: Path, sql: str) -> list[tuple]:
    """The rows of a query on the warehouse (read-only)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def built_world(folder: Path, raw: dict[str, list[dict]],
                tables: dict[str, list[tuple[str, str]]] | None = None) -> Path:
    """A warehouse in `folder` whose raw tables (those of the raw contract, or `tables`) hold only the hand-written
    `raw` rows, built by dbt (the CRM marts and everything upstream, with their tests)."""
    warehouse = raw_warehouse(folder / "warehouse.duckdb", raw, tables)
    dbt_build(warehouse, folder)
    return warehouse


def assert_pipeline_daily_equals_full_refresh(incremental: Path, work_dir: Path) -> None:
    """A copy of the incrementally built `incremental`, its pipeline_daily rebuilt by a full refresh, holds the same
    rows."""
    refreshed = Path(shutil.copy(incremental, work_dir / "refreshed.duckdb"))
    result = run_dbt(refreshed, ["run", "--select", "pipeline_daily", "--full-refresh"], work_dir)
    assert result.returncode == 0, result.stdout[-4000:]
    sql = "select * from marts.pipeline_daily"
    assert sorted(rows(incremental, sql), key=repr) == sorted(rows(refreshed, sql), key=repr)


def account_of(warehouse: Path, source_system: str, record_id: str) -> str:
    """The account a company record of `source_system` resolved to (account_source_records)."""
    return rows(warehouse, "select account_id from marts.account_source_records "
                           f"where source_system = '{source_system}' and source_record_id = '{record_id}'")[0][0]


def same_entity_pairs(groups: dict[str, list]) -> set[tuple]:
    """Every unordered pair of records that share an entity."""
    pairs = set()
    for members in groups.values():
        pairs.update(itertools.combinations(sorted(members), 2))
    return pairs


def pairwise_scores(truth: list[dict], predicted: dict[tuple[str, str], str]) -> dict[str, float]:
    """Pairwise precision and recall of ``predicted`` ((source_system, source_record_id) -> entity) against the
    ground-truth rows (entity_id, source_system, source_record_id) of the records that were loaded."""
    true_groups, predicted_groups = defaultdict(list), defaultdict(list)
    for row in truth:
        key = (row["source_system"], row["source_record_id"])
        if key in predicted:
            true_groups[row["entity_id"]].append(key)
    for key, entity in predicted.items():
        predicted_groups[entity].append(key)
    true_pairs, predicted_pairs = same_entity_pairs(true_groups), same_entity_pairs(predicted_groups)
    hits = len(true_pairs & predicted_pairs)
    return {
        "records": len(predicted),
        "true_pairs": len(true_pairs),
        "predicted_pairs": len(predicted_pairs),
        "precision": hits / len(predicted_pairs) if predicted_pairs else 1.0,
        "recall": hits / len(true_pairs) if true_pairs else 1.0,
    }
