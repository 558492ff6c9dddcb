"""The GX suites as Dagster checks on a small DuckDB warehouse, the freshness policies, and the quality report."""

import datetime as dt
import uuid

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import defs
from pipelines.defs.quality.gx_checks import build_suite_checks
from pipelines.defs.quality.settings import QualityResource
from pipelines.lib.quality_report import CheckLine, markdown, summary
from pipelines.lib.warehouse import WarehouseResource

ACCOUNTS = dg.AssetKey(["marts", "accounts"])


def _warehouse(path, rows: list[tuple]) -> None:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema if not exists marts")
        connection.execute("create or replace table marts.accounts (account_id varchar, account_name varchar, "
                           "primary_domain varchar, annual_revenue decimal(18, 2), annual_revenue_currency varchar, "
                           "match_confidence decimal(4, 3), match_rule varchar, lifecycle_stage varchar, "
                           "country varchar, employee_count bigint, is_customer boolean, is_deleted boolean, "
                           "created_at timestamptz, first_closed_won_at timestamptz, owner_name varchar)")
        connection.executemany("insert into marts.accounts values (?, ?, ?, ?, ?, 1, 'domain', 'lead', 'US', 5, "
                               "false, false, ?, null, 'Sam')", rows)


def _account(number: int, revenue: float = 100.0) -> tuple:
    return (f"a{number}", f"Company {number}", f"company{number}.com", revenue, "USD",
            dt.datetime(2026, 1, 5, tzinfo=dt.UTC))


def _run_checks(instance, tmp_path, asset: dg.AssetKey, sample_rows: int = 0,
                run_id: str | None = None) -> dg.ExecuteInProcessResult:
    """The suites of `asset` over the warehouse in `tmp_path`, as a run of their own (with `run_id` when given)."""
    definitions = dg.Definitions(
        assets=[dg.AssetSpec(asset)],
        asset_checks=build_suite_checks([asset]),
        jobs=[dg.define_asset_job("checks", selection=dg.AssetSelection.checks_for_assets(asset))],
        resources={
            "warehouse": WarehouseResource(duckdb_path=str(tmp_path / "warehouse.duckdb"), analytics_path="unused"),
            "quality": QualityResource(report_dir=str(tmp_path / "quality_report"), sample_rows=sample_rows),
        },
    )
    return definitions.resolve_job_def("checks").execute_in_process(instance=instance, raise_on_error=False,
                                                                    run_id=run_id)


def _check_accounts(instance, tmp_path, sample_rows: int = 0) -> dg.ExecuteInProcessResult:
    return _run_checks(instance, tmp_path, ACCOUNTS, sample_rows)


def test_a_table_missing_from_the_warehouse_fails_its_checks_by_name(tmp_path):
    duckdb.connect(str(tmp_path / "warehouse.duckdb")).close()
    with dg.DagsterInstance.ephemeral() as instance:
        result = _check_accounts(instance, tmp_path)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"accounts_suite", "accounts_health"}
    assert all(e.description == "table marts.accounts does not exist" for e in evaluations.values())
    assert evaluations["accounts_suite"].severity == dg.AssetCheckSeverity.ERROR
    assert evaluations["accounts_health"].severity == dg.AssetCheckSeverity.WARN
    assert not result.success  # the blocking suite failed, so nothing downstream would run


def test_checks_name_failing_rows_compare_row_counts_with_the_last_run_and_write_data_docs(tmp_path):
    with dg.DagsterInstance.ephemeral() as instance:
        _warehouse(tmp_path / "warehouse.duckdb", [_account(n) for n in range(10)])
        first = _check_accounts(instance, tmp_path)
        assert first.success
        assert {e.check_name: e.passed for e in first.get_asset_check_evaluations()} == {
            "accounts_suite": True, "accounts_health": True}

        _warehouse(tmp_path / "warehouse.duckdb", [_account(1, revenue=-5.0), *(_account(n) for n in range(2, 7))])
        second = _check_accounts(instance, tmp_path, sample_rows=4)

    evaluations = {e.check_name: e for e in second.get_asset_check_evaluations()}
    suite, health = evaluations["accounts_suite"], evaluations["accounts_health"]
    assert not second.success
    assert suite.passed is False and "expect_column_values_to_be_between(annual_revenue)" in suite.description
    assert suite.metadata["table_rows"].value == 6
    assert 0 < suite.metadata["rows_validated"].value < 6 and suite.metadata["sampled"].value is True
    # The health suite counts the whole table in SQL, whatever the sample: 6 rows after 10 is a 40% drop.
    assert health.passed is False and health.severity == dg.AssetCheckSeverity.WARN
    assert "expect_column_values_to_be_between(table_row_count)" in health.description
    index = tmp_path / "quality_report" / "index.html"
    assert index.exists() and "accounts_suite" in index.read_text()


def test_a_failing_row_is_named_by_its_key_in_the_check_metadata(tmp_path):
    _warehouse(tmp_path / "warehouse.duckdb", [_account(1, revenue=-5.0), _account(2)])
    with dg.DagsterInstance.ephemeral() as instance:
        result = _check_accounts(instance, tmp_path)
    suite = next(e for e in result.get_asset_check_evaluations() if e.check_name == "accounts_suite")
    failed = suite.metadata["failed_expectations"].value["expect_column_values_to_be_between(annual_revenue)"]
    assert failed["unexpected_count"] == 1 and failed["failing_keys"] == ["a1"] and failed["sample"] == [-5.0]


def test_suites_attach_only_to_tables_that_are_assets_of_the_graph():
    checks = build_suite_checks([ACCOUNTS, dg.AssetKey(["raw", "salesforce", "account"])])
    keys = {(key.asset_key.to_user_string(), key.name) for c in checks for key in c.check_keys}
    assert keys == {("marts/accounts", "accounts_suite"), ("marts/accounts", "accounts_health"),
                    ("raw/salesforce/account", "salesforce_account_suite"),
                    ("raw/salesforce/account", "salesforce_account_health")}
    graph = defs().resolve_asset_graph()
    attached = {key.asset_key for key in graph.asset_check_keys if key.name.endswith(("_suite", "_health"))}
    assert attached <= set(graph.get_all_asset_keys())
    blocking = graph.get_check_spec(dg.AssetCheckKey(ACCOUNTS, "accounts_suite"))
    health = graph.get_check_spec(dg.AssetCheckKey(ACCOUNTS, "accounts_health"))
    assert blocking.blocking and not health.blocking


def test_raw_and_mart_assets_carry_the_nightly_freshness_policy():
    graph = defs().resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        policy = graph.get(key).freshness_policy
        if key.path[0] in {"raw", "marts"}:
            assert policy == dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=36),
                                                            warn_window=dt.timedelta(hours=26)), key
        else:
            assert policy is None, key


@pytest.mark.parametrize("passed", [True, False])
def test_the_quality_report_counts_checks_per_layer_and_lists_failures(passed):
    lines = [CheckLine("raw/salesforce/account", "salesforce_account_health", passed, "WARN", 0 if passed else 3,
                       "11 of 12 expectations passed; failed: expect_column_max_to_be_between(system_modstamp)"),
             CheckLine("marts/accounts", "unique_accounts_account_id", True, "ERROR", 0, "")]
    assert summary(lines) == {"checks_run": 2, "checks_passed": 2 - (not passed), "checks_failed_error": 0,
                              "checks_failed_warn": int(not passed)}
    report = markdown(lines)
    assert "| raw | 1 |" in report and "| marts | 1 | 1 | 0 |" in report
    assert ("salesforce_account_health | raw/salesforce/account | WARN | 3 |" in report) is not passed


def test_publishing_waits_for_the_blocking_suites_of_the_raw_tables_behind_the_marts():
    job = defs().resolve_job_def("nightly_sync")
    upstream = {output.node_name for outputs in job.graph.dependency_structure.input_to_upstream_outputs_for_node(
        "analytics__published_snapshot").values() for output in outputs}
    assert {"gx_marts", "gx_raw_salesforce", "gx_raw_hubspot"} <= upstream


RAW_ACCOUNT = dg.AssetKey(["raw", "salesforce", "account"])


def _raw_accounts(path, rows: list[tuple[str, float, str]]) -> None:
    """``raw_salesforce.account`` with one row per (id, annual revenue, loading run id), stamped now."""
    now = dt.datetime.now(dt.UTC)
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema raw_salesforce")
        connection.execute("create table raw_salesforce.account (id varchar, name varchar, is_deleted boolean, "
                           "annual_revenue decimal(18, 2), currency_iso_code varchar, number_of_employees bigint, "
                           "type varchar, created_date timestamptz, last_modified_date timestamptz, "
                           "system_modstamp timestamptz, _loaded_at timestamptz, _run_id varchar)")
        connection.executemany("insert into raw_salesforce.account values (?, 'Acme', false, ?, 'USD', 5, 'Prospect', "
                               "?, ?, ?, ?, ?)",
                               [(key, revenue, now, now, now, now, run) for key, revenue, run in rows])


def _check_raw_accounts(instance, tmp_path, run_id: str, sample_rows: int) -> dict[str, dg.AssetCheckEvaluation]:
    result = _run_checks(instance, tmp_path, RAW_ACCOUNT, sample_rows, run_id)
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_a_night_validates_every_row_it_loaded_and_a_sample_of_the_earlier_ones(tmp_path):
    tonight = str(uuid.uuid4())
    earlier = [(f"e{n}", 100.0, "an earlier run") for n in range(980)]
    loaded = [(f"t{n}", 100.0, tonight) for n in range(19)] + [("t19", -5.0, tonight)]
    _raw_accounts(tmp_path / "warehouse.duckdb", earlier + loaded)
    with dg.DagsterInstance.ephemeral() as instance:
        night = _check_raw_accounts(instance, tmp_path, tonight, sample_rows=50)["salesforce_account_health"]
        alone = _check_raw_accounts(instance, tmp_path, str(uuid.uuid4()), sample_rows=50)["salesforce_account_health"]

    # A sample of 50 of the 1,000 rows would hold the one bad row of the night with a chance of 1 in 20.
    assert night.passed is False
    failed = night.metadata["failed_expectations"].value["expect_column_values_to_be_between(annual_revenue)"]
    assert failed["failing_keys"] == ["t19"]
    assert night.metadata["rows_loaded_by_this_run"].value == 20
    assert 20 < night.metadata["rows_validated"].value <= 40  # the night's 20, and about 5 earlier rows
    # Run on their own, the checks loaded nothing: a sample of the whole table, as on a first load.
    assert "rows_loaded_by_this_run" not in alone.metadata
    assert 25 <= alone.metadata["rows_validated"].value <= 80 and alone.metadata["table_rows"].value == 1000
