"""Helpers of the revenue-analytics tests: hand-written marts in a temporary DuckDB, dbt runs, the semantic layer.

The revenue models only read the core marts (plus two intermediate tables and one seed), so a test creates
those tables by hand (``marts.touchpoints``, ``marts.opportunities``, ...: ``ref()`` resolves to
``<schema>.<name>``) and runs just the revenue models with ``dbt build --select``.
"""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb

from pipelines.defs.transform.project import DBT_PROJECT_DIR
from tests.support.warehouse import warehouse_rows
from tests.transform.helpers import run_dbt as run_dbt_on

#: The revenue models (issue #7), in no particular order; dbt orders them.
REVENUE_MODELS = [
    "metricflow_time_spine", "sem_opportunities", "sem_ad_spend_daily", "prospect_funnel", "sem_prospect_funnel",
    "attribution", "sem_attributed_results", "funnel_monthly", "customer_retention", "channel_performance_monthly",
    "alignment_issues", "shared_metrics_daily",
]

#: The inputs of the revenue models: table -> {column: type}. Only the columns the models read.
INPUT_TABLES: dict[str, dict[str, str]] = {
    "marts.accounts": {
        "account_id": "varchar", "account_name": "varchar", "is_customer": "boolean", "is_deleted": "boolean",
        "salesforce_account_id": "varchar", "hubspot_company_id": "varchar",
    },
    "marts.prospects": {
        "prospect_id": "varchar", "account_id": "varchar", "first_name": "varchar", "last_name": "varchar",
        "email": "varchar", "original_channel": "varchar", "lead_source": "varchar", "lifecycle_stage": "varchar",
        "salesforce_lead_id": "varchar", "salesforce_contact_id": "varchar", "hubspot_contact_id": "varchar",
        "became_lead_at": "timestamptz", "became_mql_at": "timestamptz", "became_sql_at": "timestamptz",
        "became_opportunity_at": "timestamptz", "became_customer_at": "timestamptz", "is_deleted": "boolean",
        "is_lead_inferred": "boolean", "is_mql_inferred": "boolean", "is_sql_inferred": "boolean",
        "is_opportunity_inferred": "boolean", "is_lead_recorded_late": "boolean", "is_mql_recorded_late": "boolean",
        "is_sql_recorded_late": "boolean", "is_opportunity_recorded_late": "boolean",
    },
    "marts.opportunities": {
        "opportunity_id": "varchar", "source_system": "varchar", "source_opportunity_id": "varchar",
        "account_id": "varchar", "primary_prospect_id": "varchar", "owner_name": "varchar",
        "opportunity_name": "varchar", "opportunity_type": "varchar", "stage_category": "varchar",
        "is_closed": "boolean", "is_won": "boolean", "created_at": "timestamptz", "closed_at": "timestamptz",
        "amount": "numeric(18, 2)", "currency_code": "varchar", "amount_reporting": "numeric(18, 2)",
        "sales_cycle_days": "integer", "lead_source": "varchar",
    },
    "marts.touchpoints": {
        "touchpoint_id": "varchar", "prospect_id": "varchar", "account_id": "varchar", "occurred_at": "timestamptz",
        "touchpoint_type": "varchar", "channel": "varchar", "campaign_id": "varchar", "platform": "varchar",
    },
    "marts.campaigns": {"campaign_id": "varchar"},
    "marts.ad_performance_daily": {
        "date_day": "date", "reporting_date_day": "date", "platform": "varchar", "ad_account_id": "varchar",
        "platform_campaign_id": "varchar",
        "ad_group_id": "varchar", "campaign_id": "varchar", "impressions": "bigint", "clicks": "bigint",
        "spend": "numeric(18, 2)", "currency_code": "varchar", "spend_reporting": "numeric(18, 2)",
    },
    "intermediate.int_reporting_dates": {"as_of_date": "date"},
    "intermediate.int_account_records_clustered": {
        "entity_id": "varchar", "source_system": "varchar", "source_record_id": "varchar", "record_key": "varchar",
        "account_name": "varchar", "account_type": "varchar", "lifecycle_stage": "varchar", "owner_name": "varchar",
        "owner_email": "varchar", "domain_key": "varchar", "match_rule": "varchar", "is_deleted": "boolean",
        "is_merged": "boolean",
    },
    "intermediate.int_person_records_clustered": {
        "entity_id": "varchar", "source_system": "varchar", "source_record_id": "varchar", "record_key": "varchar",
        "email": "varchar", "lifecycle_stage": "varchar", "is_converted": "boolean", "match_rule": "varchar",
        "owner_name": "varchar", "owner_email": "varchar", "is_deleted": "boolean", "is_merged": "boolean",
    },
    "intermediate.int_account_native_ids_checked": {
        "record_key": "varchar", "target_record_key": "varchar", "domain_agreement": "varchar",
        "name_agreement": "varchar", "is_trusted": "boolean",
    },
    "intermediate.int_person_native_ids_checked": {
        "record_key": "varchar", "target_record_key": "varchar", "email_agreement": "varchar",
        "name_agreement": "varchar", "is_trusted": "boolean",
    },
    "seeds.channel_mapping": {"source_type": "varchar", "source_value": "varchar", "channel": "varchar"},
}


def create_inputs(warehouse: Path, as_of: date) -> None:
    """Create every input table, empty, plus the as-of date and the project's channel_mapping seed rows."""
    with duckdb.connect(str(warehouse)) as connection:
        for name, columns in INPUT_TABLES.items():
            schema, _ = name.split(".")
            connection.execute(f"create schema if not exists {schema}")
            connection.execute(f"create or replace table {name} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
        connection.execute("insert into intermediate.int_reporting_dates values (?)", [as_of])
        with (DBT_PROJECT_DIR / "seeds" / "channel_mapping.csv").open() as seed:
            insert(connection, "seeds.channel_mapping", csv.DictReader(seed))


def insert(connection: duckdb.DuckDBPyConnection, table: str, rows: Iterable[dict]) -> None:
    """Insert dicts of column -> value into ``schema.table`` (missing columns stay null)."""
    for row in rows:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        connection.execute(f"insert into {table} ({columns}) values ({marks})", list(row.values()))


def run_dbt(warehouse: Path | dict[str, str], work_dir: Path, args: list[str]) -> subprocess.CompletedProcess:
    """dbt on the project against the DuckDB file ``warehouse`` (or the warehouse a dict of environment settings
    names); target and logs in ``work_dir``; raises on failure."""
    result = run_dbt_on(warehouse, args, work_dir)
    if result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}")
    return result


#: The models a hand-written world is built with: the revenue models but alignment_issues (it reads CRM raw rows);
#: the world's ad spend is the rows written into marts.ad_performance_daily.
WORLD_MODELS = [model for model in REVENUE_MODELS if model != "alignment_issues"]
WORLD_VARS = {"ad_performance_daily_relation": "marts.ad_performance_daily"}


def build_marts(warehouse: Path, work_dir: Path, *args: str, extra_vars: dict | None = None) -> None:
    """``dbt build`` of WORLD_MODELS on a hand-written world (`args` such as ``--full-refresh``; more dbt vars)."""
    run_dbt(warehouse, work_dir, ["build", "--select", *WORLD_MODELS, *args,
                                  *vars_arg({**WORLD_VARS, **(extra_vars or {})})])


def build_world(folder: Path, as_of: date, inputs: dict[str, list[dict]], extra_vars: dict | None = None) -> Path:
    """A warehouse in `folder` whose input tables hold the hand-written `inputs` (table -> rows), built."""
    warehouse = folder / "warehouse.duckdb"
    create_inputs(warehouse, as_of)
    with duckdb.connect(str(warehouse)) as connection:
        for table, rows in inputs.items():
            insert(connection, table, rows)
    build_marts(warehouse, folder, extra_vars=extra_vars)
    return warehouse


def vars_arg(values: dict) -> list[str]:
    """``--vars`` for dbt."""
    return ["--vars", json.dumps(values)]


def query(warehouse: Path | str, sql: str, parameters: list | None = None) -> list[tuple]:
    """Rows of a query on the warehouse (a DuckDB file, read-only, or a PostgreSQL URL; ``?`` placeholders)."""
    return warehouse_rows(str(warehouse), sql, parameters)


# --- the semantic layer, read independently of dbt's macros ---------------------------------------------------

_AGGREGATES = {
    "sum": "sum({})", "count": "count({})", "count_distinct": "count(distinct {})", "average": "avg({})",
    "min": "min({})", "max": "max({})", "sum_boolean": "sum(case when {} then 1 else 0 end)",
}


def semantic_layer_values(warehouse: Path, manifest_path: Path, until: date) -> dict[tuple[str, date, str], float]:
    """What the semantic layer defines, computed straight from ``semantic_manifest.json`` (as MetricFlow reads it):
    (metric, day, channel) -> value for simple and ratio metrics, grouped by each measure's agg_time_dimension
    and the semantic model's ``channel`` entity ('all' without one); null values and days after ``until`` left
    out. A ratio has a value wherever its numerator or denominator is not 0 (the side without data 0, as
    fill_nulls_with: 0 says): numerator / denominator, None when the denominator is 0."""
    manifest = json.loads(manifest_path.read_text())
    measures = {}
    for model in manifest["semantic_models"]:
        dimensions = {dimension["name"]: dimension for dimension in model["dimensions"]}
        channel = next((entity.get("expr") or entity["name"] for entity in model["entities"]
                        if entity["name"] == "channel"), "'all'")
        relation = f'{model["node_relation"]["schema_name"]}.{model["node_relation"]["alias"]}'
        for measure in model["measures"]:
            time_name = measure.get("agg_time_dimension") or model["defaults"]["agg_time_dimension"]
            time = dimensions[time_name].get("expr") or time_name
            aggregate = _AGGREGATES[measure["agg"]].format(measure.get("expr") or measure["name"])
            measures[measure["name"]] = (
                f"select cast({time} as date), cast({channel} as varchar), {aggregate} "
                f"from {relation} where {time} is not null group by 1, 2"
            )
    simple: dict[str, dict[tuple[date, str], float]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for metric in manifest["metrics"]:
            if metric["type"] == "simple":
                sql = measures[metric["type_params"]["measure"]["name"]]
                simple[metric["name"]] = {(day, channel): float(value)
                                          for day, channel, value in connection.execute(sql).fetchall()
                                          if value is not None}
    values = {}
    for metric in manifest["metrics"]:
        if metric["type"] == "simple":
            for (day, channel), value in simple[metric["name"]].items():
                values[(metric["name"], day, channel)] = value
        elif metric["type"] == "ratio":
            numerator = simple[metric["type_params"]["numerator"]["name"]]
            denominator = simple[metric["type_params"]["denominator"]["name"]]
            for key in numerator.keys() | denominator.keys():
                above, below = numerator.get(key, 0.0), denominator.get(key, 0.0)
                if above or below:
                    values[(metric["name"], *key)] = above / below if below else None
        else:
            raise AssertionError(f"metric {metric['name']} is {metric['type']}: extend the reference")
    return {key: value for key, value in values.items() if key[1] <= until}


def shared_metrics(warehouse: Path) -> dict[tuple[str, date, str], float]:
    """marts.shared_metrics_daily as (metric, day, channel) -> value."""
    return {(metric, day, channel): value for metric, day, channel, value in query(
        warehouse, "select metric_name, date_day, channel, value from marts.shared_metrics_daily")}


def assert_same_metrics(expected: dict, actual: dict, tolerance: float = 1e-6) -> None:
    """The two metric sets have the same keys and (relatively) equal values."""
    missing, extra = sorted(set(expected) - set(actual))[:10], sorted(set(actual) - set(expected))[:10]
    assert not missing and not extra, f"only in the semantic layer: {missing}; only in the table: {extra}"
    different = [(key, expected[key], actual[key]) for key in expected
                 if (expected[key] is None) != (actual[key] is None) or expected[key] is not None
                 and abs(expected[key] - actual[key]) > tolerance * max(1.0, abs(expected[key]))]
    assert not different, f"{len(different)} values differ, e.g. {different[:10]}"
