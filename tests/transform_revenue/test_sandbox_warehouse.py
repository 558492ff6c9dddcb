"""The revenue marts on the scale-S sandbox: loaded by the Dagster raw assets, built by `dbt build`, then a second
night after the sandbox advanced a day (the session's two nights, tests/support/two_nights.py, read from copies).

Checks the invariants on real volumes (credits sum to 1, the funnel narrows, the shared metrics equal the semantic
layer), the alignment work list against the misalignments the generator planted, the incremental alignment model
across the two nights against a full refresh. How long the models take to build is measured in benchmarks/
(`python -m benchmarks.transform_build`), not asserted here.
MetricFlow's answers (``mf``, installed with the dev extras beside dbt) are compared with shared_metrics_daily too.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from pipelines.defs.transform.project import DBT_PROJECT_DIR
from tests.support.two_nights import SCALE, SEED
from tests.transform_revenue.support import (
    assert_same_metrics,
    query,
    run_dbt,
    semantic_layer_values,
    shared_metrics,
)

pytestmark = pytest.mark.e2e

ISSUES_SQL = "select issue_id, entity_type, entity_id, issue_type, severity, detail, first_detected_at from " \
             "marts.alignment_issues"


@pytest.fixture(scope="module")
def nights(two_nights, tmp_path_factory):
    """The session's two nights, copied: the first night's alignment issues and shared metrics, and the second
    night's warehouse for the tests."""
    from sandbox.generate import generate

    folder = tmp_path_factory.mktemp("revenue_sandbox")
    first_night = two_nights.copy("first", folder / "first" / "warehouse.duckdb")
    first_issues = {row[0]: row for row in query(first_night, ISSUES_SQL)}
    as_of = query(first_night, "select as_of_date from intermediate.int_reporting_dates")[0][0]
    first_metrics = semantic_layer_values(first_night, two_nights.semantic_manifest("first"), as_of)
    first_table = shared_metrics(first_night)
    warehouse = two_nights.copy("second", folder / "second" / "warehouse.duckdb")
    return {"warehouse": warehouse, "semantic_manifest": two_nights.semantic_manifest("second"),
            "as_of": as_of, "first_issues": first_issues,
            "first_metrics": first_metrics, "first_table": first_table, "truth": generate(SCALE, SEED).ground_truth}


def test_credits_sum_to_one_per_deal_and_model(nights):
    warehouse = nights["warehouse"]
    assert query(warehouse, """
        select count(*) from (
            select opportunity_id, attribution_model from marts.attribution
            group by 1, 2 having abs(sum(credit) - 1) > 1e-9)""") == [(0,)]
    [(deals, models)] = query(warehouse, "select count(distinct opportunity_id), count(distinct attribution_model) "
                                         "from marts.attribution")
    assert deals > 1000 and models == 5


def test_funnel_is_monotone(nights):
    warehouse = nights["warehouse"]
    assert query(warehouse, """
        select count(*) from marts.funnel_monthly
        where not (leads >= mqls and mqls >= sqls and sqls >= opportunities and opportunities >= customers)
        """) == [(0,)]
    # Among people who skipped no stage, each stage's count is at most the previous one's, per cohort and channel.
    assert query(warehouse, """
        select count(*) from (
            select cohort_month, channel, count(lead_date) as leads, count(mql_date) as mqls, count(sql_date) as sqls,
                count(opportunity_date) as opportunities, count(customer_date) as customers
            from marts.prospect_funnel
            where not (is_lead_skipped or is_mql_skipped or is_sql_skipped or is_opportunity_skipped)
            group by 1, 2
        ) as counts
        where not (leads >= mqls and mqls >= sqls and sqls >= opportunities and opportunities >= customers)
        """) == [(0,)]
    [(skipped,)] = query(warehouse, "select sum(mqls_skipped + sqls_skipped + opportunities_skipped) "
                                    "from marts.funnel_monthly")
    assert skipped > 0  # the sandbox has Salesforce conversions without a HubSpot MQL date


def test_shared_metrics_equal_the_semantic_layer(nights):
    assert_same_metrics(nights["first_metrics"], nights["first_table"])
    warehouse = nights["warehouse"]
    as_of = query(warehouse, "select as_of_date from intermediate.int_reporting_dates")[0][0]
    expected = semantic_layer_values(warehouse, nights["semantic_manifest"], as_of)
    assert_same_metrics(expected, shared_metrics(warehouse))
    metrics = {metric for metric, _, _ in expected}
    assert {"mqls", "sqls", "mql_to_sql_rate", "pipeline_created", "bookings", "win_rate", "avg_sales_cycle_days",
            "new_customers", "logo_retention_rate"} <= metrics


def test_alignment_issues_find_the_planted_misalignments(nights):
    planted = nights["truth"]["misalignments"]
    found = {(entity, hubspot, kind) for entity, hubspot, kind in query(
        nights["warehouse"], "select entity_type, hubspot_record_id, issue_type from marts.alignment_issues")}

    def recall(kind: str, system: str, entity: str, issue_types: set[str]) -> float:
        records = [m["source_record_id"] for m in planted if m["kind"] == kind and m["source_system"] == system]
        hits = [record for record in records if any((entity, record, t) in found for t in issue_types)]
        print(f"\n{kind} {system}: {len(hits)} of {len(records)} found")
        return len(hits) / len(records) if records else 1.0

    assert recall("lifecycle_conflict", "hubspot_company", "account", {"lifecycle_stage_conflict"}) >= 0.9
    assert recall("lifecycle_conflict", "hubspot_contact", "prospect", {"lifecycle_stage_conflict"}) >= 0.6
    assert recall("wrong_synced_id", "hubspot_company", "account", {"domain_conflict", "sync_link_conflict"}) == 1
    assert recall("wrong_synced_id", "hubspot_contact", "prospect", {"sync_link_conflict"}) == 1


def test_alignment_details_name_no_email_address(nights):
    # The published snapshot may carry e-mails hashed (PUBLISH_HASHED_EMAILS): a detail must not give them away.
    [(details, with_address)] = query(nights["warehouse"], """
        select count(*), count(*) filter (where regexp_matches(detail, '[^\\s(]+@[^\\s)]+'))
        from marts.alignment_issues where entity_type = 'prospect'""")
    assert details > 0 and with_address == 0


def test_alignment_issues_keep_their_first_detection_and_match_a_full_refresh(nights, tmp_path):
    warehouse, first = nights["warehouse"], nights["first_issues"]
    second = {row[0]: row for row in query(warehouse, ISSUES_SQL)}
    kept = set(first) & set(second)
    assert len(kept) > 0.9 * len(first)
    assert all(second[issue][6] == first[issue][6] for issue in kept)
    assert all(second[issue][6] > max(row[6] for row in first.values()) for issue in set(second) - kept)
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouse, copy)
    run_dbt(copy, tmp_path, ["run", "--select", "alignment_issues", "--full-refresh"])
    refreshed = {row[0]: row for row in query(copy, ISSUES_SQL)}
    assert set(refreshed) == set(second)
    assert all(refreshed[issue][:6] == second[issue][:6] for issue in second)


def test_metricflow_gives_the_same_numbers(nights, tmp_path):
    mf = Path(sys.executable).parent / "mf"
    assert mf.exists(), f"MetricFlow is a dev dependency (make install-dev), but {mf} is missing"
    project = tmp_path / "project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target*", "logs", "dbt_packages"))
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(nights["warehouse"], warehouse)
    # the copy's own target folder, where mf reads the semantic manifest (not a test worker's DBT_TARGET_PATH)
    env = {**{key: value for key, value in os.environ.items() if key != "DBT_TARGET_PATH"},
           "WAREHOUSE_TARGET": "duckdb", "WAREHOUSE_DUCKDB_PATH": str(warehouse), "DBT_PROFILES_DIR": str(project),
           "DO_NOT_TRACK": "1"}
    subprocess.run([str(mf.parent / "dbt"), "parse", "--quiet"], cwd=project, env=env, check=True)
    metrics = [row[0] for row in query(warehouse, "select distinct metric_name from marts.shared_metrics_daily")]
    monthly = ["customers_at_start", "customers_retained", "logo_retention_rate"]
    answers = {}
    for names, group_by, time_column in [([m for m in metrics if m not in monthly], "metric_time__day,channel",
                                          "metric_time__day"), (monthly, "metric_time__month", "metric_time__month")]:
        output = tmp_path / f"{time_column}.csv"
        subprocess.run([mf, "query", "--metrics", ",".join(names), "--group-by", group_by, "--csv", str(output)],
                       cwd=project, env=env, check=True, capture_output=True)
        for row in csv.DictReader(output.open()):
            if not row[time_column]:
                continue
            day = date.fromisoformat(row[time_column][:10])
            for name in names:
                if name in row and day <= nights["as_of"]:  # an empty value is MetricFlow's null
                    answers[(name, day, row.get("channel", "all"))] = float(row[name]) if row[name] else None
    table = shared_metrics(warehouse)
    assert_same_metrics({key: answers[key] for key in table if key in answers}, table)
    assert all(value in (0, None) for key, value in answers.items() if key not in table)

    # Over a quarter, customers at the start and retained are the quarter's last month's counts, never a sum.
    counts = {}
    for grain in ("month", "quarter"):
        output = tmp_path / f"counts_by_{grain}.csv"
        subprocess.run([mf, "query", "--metrics", "customers_at_start,customers_retained", "--group-by",
                        f"metric_time__{grain}", "--csv", str(output)], cwd=project, env=env, check=True,
                       capture_output=True)
        counts[grain] = {date.fromisoformat(row[f"metric_time__{grain}"][:10]): row
                         for row in csv.DictReader(output.open()) if row[f"metric_time__{grain}"]}
    assert len(counts["quarter"]) > 1
    for start, quarter in counts["quarter"].items():
        last_month = max(month for month in counts["month"] if start <= month < _add_months(start, 3))
        for name in ("customers_at_start", "customers_retained"):
            assert float(quarter[name] or 0) == float(counts["month"][last_month][name] or 0), (name, start)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)
