"""Helpers of the ad-platform transform tests: raw ad tables from the raw contract, hand-written rows, dbt runs."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.defs.transform.project import DBT_PROJECT_DIR
from tests.transform.helpers import create_raw_tables, insert_rows, run_dbt

RAW_ADS_SCHEMA = Path(__file__).with_name("raw_ads_schema.txt")
#: The ad-platform models (staging, intermediate, marts) and everything upstream of them, with their tests.
ADS_SELECTION = ["--select", "+ad_performance_daily", "+campaigns", "--indirect-selection", "cautious"]


def create_raw_ad_tables(connection: duckdb.DuckDBPyConnection) -> None:
    """Create every raw ad-platform table (as the loaders write them today) and every CRM raw table, empty."""
    create_raw_tables(connection)
    for line in RAW_ADS_SCHEMA.read_text().splitlines():
        if not line.strip():
            continue
        name, _, columns = line.partition(": ")
        schema, table = name.split(".")
        column_sql = ", ".join(f'"{column}" {kind}' for column, _, kind in
                               (part.partition(" ") for part in columns.split(", ")))
        connection.execute(f"create schema if not exists {schema}")
        connection.execute(f'create or replace table {schema}."{table}" ({column_sql})')


def insert(connection: duckdb.DuckDBPyConnection, table: str, rows: Iterable[dict]) -> None:
    """Insert dicts into ``schema.table``; lists and dicts become JSON text (Meta actions, LinkedIn pivots)."""
    insert_rows(connection, table, ({key: json.dumps(value) if isinstance(value, list | dict) else value
                                     for key, value in row.items()} for row in rows))


def dbt(warehouse: Path, work_dir: Path, args: list[str]) -> str:
    """dbt against the DuckDB file ``warehouse``; raises with its output on failure, returns stdout."""
    result = run_dbt(warehouse, args, work_dir)
    if result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args[:2])} failed:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}")
    return result.stdout


def dicts(warehouse: Path, sql: str, parameters: list | None = None) -> list[dict]:
    """The rows of a query on the warehouse as dicts (read-only)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        cursor = connection.execute(sql, parameters or [])
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def seed_rate_to_usd(currency: str, day: date) -> Decimal:
    """The seed's rate of ``currency`` on ``day`` (the latest seed rate on or before it), read from the CSV."""
    with (DBT_PROJECT_DIR / "seeds" / "currency_rates_daily.csv").open() as seed:
        rates = sorted((row["date"], Decimal(row["rate_to_usd"])) for row in csv.DictReader(seed)
                       if row["currency_code"] == currency and row["date"] <= day.isoformat())
    return rates[-1][1]


def cents(amount: Decimal) -> Decimal:
    """An amount rounded to cents, half away from zero (as the models round money)."""
    return amount.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def load_all_raw(url: str, environment: dict[str, str]) -> None:
    """Load every raw table (CRM and ad platforms) from the sandbox at ``url`` with the Dagster raw assets only."""
    import os

    import dagster as dg

    from pipelines.definitions import defs
    from sandbox.launcher import connector_env

    os.environ.update(environment)
    os.environ.update(connector_env(url))
    definitions = defs()
    keys = [key for key in definitions.resolve_all_asset_keys() if key.path[0] == "raw"]
    job = definitions.resolve_job_def("nightly_sync")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, asset_selection=keys, raise_on_error=True)
    assert result.success
