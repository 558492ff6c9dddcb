"""A plain-text report of one nightly run, read from its Dagster events and the warehouse."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb


def nightly_report(result, seconds: float, relative_to: Path) -> str:
    """What was loaded, built, checked and published by the run `result` (an in-process job result)."""
    materialized = sorted(
        event.asset_key.to_user_string() for event in result.get_asset_materialization_events()
    )
    checks = result.get_asset_check_evaluations()
    passed = [c for c in checks if c.passed]
    failed = [c for c in checks if not c.passed]
    warehouse = Path(os.environ["WAREHOUSE_DUCKDB_PATH"])
    analytics = Path(os.environ["ANALYTICS_DUCKDB_PATH"])

    lines = [
        "",
        f"Nightly sync {'succeeded' if result.success else 'FAILED'} in {seconds:.0f}s (run {result.run_id}).",
        "",
        "Raw tables (rows):",
        *_table_rows(warehouse, prefix="raw_"),
        "",
        f"Models built: {sum(1 for k in materialized if k.startswith(('staging/', 'intermediate/', 'marts/')))}",
        *(f"  {key}" for key in materialized if key.startswith(("staging/", "intermediate/", "marts/"))),
        "",
        f"Checks: {len(passed)} passed, {len(failed)} failed",
        *(f"  FAILED {c.asset_key.to_user_string()}: {c.check_name} "
          f"({c.description or 'see the Dagster UI'})" for c in failed),
        "",
    ]
    if "analytics/published_snapshot" in materialized:
        lines += [f"Published snapshot: {_shown(analytics, relative_to)}", *_table_rows(analytics, prefix="marts")]
    else:
        kept = _shown(analytics, relative_to) if analytics.exists() else "none yet"
        lines.append(f"Not published: a blocking check failed or a step did not run. BI still reads: {kept}")
    return "\n".join(lines)


def _table_rows(path: Path, prefix: str) -> list[str]:
    if not path.exists():
        return ["  (no file)"]
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name like ? and not schema_name like '%\\_staging' escape '\\' order by 1, 2",
            [f"{prefix}%"],
        ).fetchall()
        return [
            f"  {schema}.{table}: {connection.execute(f'select count(*) from {schema}.{table}').fetchone()[0]:,}"
            for schema, table in tables
            if not table.startswith("_dlt")
        ]


def _shown(path: Path, relative_to: Path) -> str:
    try:
        return str(path.resolve().relative_to(relative_to))
    except ValueError:
        return str(path)
