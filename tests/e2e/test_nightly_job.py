"""The whole nightly job against the sandbox: real HTTP, real dlt and DuckDB, real dbt, real GX, real publish.

The module runs three nights in one warehouse (a night is most of a test's time): a first night, a second over
unchanged sources, and, in the last test, a night after a bad record was planted at the source.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.demo import run_nightly_job
from sandbox.launcher import running_sandbox
from tests.conftest import isolated_pipeline_env, salesforce_account
from tests.support.publish_log import snapshot_differences

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_sandbox():
    """A sandbox this module may change (its last test plants a bad record)."""
    with running_sandbox(scale="S") as running:
        yield running


@dataclass(frozen=True)
class Nights:
    """Two nights over the same sources, and what the tests compare across them."""

    env: dict[str, str]
    first: dg.ExecuteInProcessResult
    second: dg.ExecuteInProcessResult
    accounts_after_first: list[tuple]


@pytest.fixture(scope="module")
def nights(own_sandbox, tmp_path_factory) -> Nights:
    """A first night into an empty warehouse, then a second night over unchanged sources."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        env = isolated_pipeline_env(tmp_path_factory.mktemp("nights"), monkeypatch)(own_sandbox)
        first = run_nightly_job()
        accounts = _rows(env["ANALYTICS_DUCKDB_PATH"], "select * from marts.accounts order by account_id")
        yield Nights(env, first, run_nightly_job(), accounts)


def _rows(path: str, sql: str) -> list[tuple]:
    with duckdb.connect(path, read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_nightly_job_loads_builds_checks_and_publishes(own_sandbox, nights):
    accounts_in_source = own_sandbox.stats()["records"]["salesforce/Account"]
    assert accounts_in_source > 1000
    assert nights.first.success
    warehouse, analytics = nights.env["WAREHOUSE_DUCKDB_PATH"], nights.env["ANALYTICS_DUCKDB_PATH"]

    (raw,) = _rows(warehouse, "select count(*), count(distinct id) from raw_salesforce.account")
    assert raw == (accounts_in_source, accounts_in_source)
    (staged,) = _rows(warehouse, "select count(*) from staging.stg_salesforce__accounts")
    assert staged[0] == accounts_in_source
    deleted_in_source = _rows(warehouse, "select count(*) from raw_salesforce.account where is_deleted")[0][0]
    # marts.accounts has one row per real company (Salesforce and HubSpot records matched); every Salesforce
    # account is in it through the bridge account_source_records.
    (published,) = _rows(analytics, "select count(*), count(*) filter (where is_deleted) "
                                    "from marts.account_source_records where source_system = 'salesforce'")
    assert published == (accounts_in_source, deleted_in_source)
    hubspot_companies = _rows(warehouse, "select count(*) from raw_hubspot.companies")[0][0]
    (companies,) = _rows(analytics, "select count(*), count(distinct salesforce_account_id) from marts.accounts")
    assert companies[1] < companies[0] <= accounts_in_source + hubspot_companies
    # HubSpot deals' stage visits come from the "date entered <stage>" properties the connector found in the portal:
    # none estimated, and the deals that moved through their pipeline visited several stages
    (hubspot_visits,) = _rows(analytics, """
        select count(*) filter (where is_entered_at_estimated),
            count(distinct source_opportunity_id) filter (where stage_sequence > 1),
            count(distinct source_opportunity_id)
        from marts.opportunity_stage_history where source_system = 'hubspot'""")
    estimated, moved, deals = hubspot_visits
    assert estimated == 0 and 0 < moved < deals
    checks = {c.check_name: c.passed for c in nights.first.get_asset_check_evaluations()}
    assert checks["accounts_suite"] is True
    # Warnings too: the sandbox's clean night trips no health suite, whatever the date (freshness is judged at the
    # sandbox's clock).
    assert [name for name, passed in checks.items() if not passed] == []


def test_a_second_night_over_unchanged_sources_reads_only_the_newest_records_and_gives_the_same_marts(
        own_sandbox, nights):
    second, analytics = nights.second, nights.env["ANALYTICS_DUCKDB_PATH"]
    assert second.success
    raw_materialization = next(
        e for e in second.get_asset_materialization_events() if e.asset_key.to_user_string() == "raw/salesforce/account"
    )
    rows_reloaded = raw_materialization.materialization.metadata["rows_loaded"].value
    assert 0 < rows_reloaded < own_sandbox.stats()["records"]["salesforce/Account"]
    assert _rows(analytics, "select * from marts.accounts order by account_id") == nights.accounts_after_first

    # The second snapshot took only the partitions dbt rebuilt of the incremental marts, and equals the marts.
    publish = next(e for e in second.get_asset_materialization_events()
                   if e.asset_key.to_user_string() == "analytics/published_snapshot")
    how = publish.materialization.metadata["how"].value
    assert {table for table, method in how.items() if method.startswith("replayed")} >= {
        "pipeline_daily", "touchpoints", "attribution"}, how
    assert snapshot_differences(nights.env["WAREHOUSE_DUCKDB_PATH"], analytics, how) == {}


def test_no_secret_reaches_the_event_log_or_any_table(nights):
    from sandbox import auth
    from sandbox.apis.google_ads import DEVELOPER_TOKEN

    # every source's client secret and refresh token (Meta's app secret and token too), Google's developer token,
    # and the prefix of every Salesforce access token
    secrets = [auth.CLIENT_SECRET, auth.REFRESH_TOKEN, DEVELOPER_TOKEN, "00DSANDBOX!"]
    with dg.DagsterInstance.get() as instance:
        for night in (nights.first, nights.second):
            event_log = "\n".join(str(entry) for entry in instance.all_logs(night.run_id))
            assert "raw/salesforce/account" in event_log
            for secret in secrets:
                assert secret not in event_log

    for path in (nights.env["WAREHOUSE_DUCKDB_PATH"], nights.env["ANALYTICS_DUCKDB_PATH"]):
        with duckdb.connect(path, read_only=True) as connection:
            tables = connection.execute("select schema_name, table_name from duckdb_tables()").fetchall()
            assert tables
            for schema, table in tables:
                for secret in secrets:
                    found = connection.execute(
                        f'select count(*) from "{schema}"."{table}" as row_ where contains(cast(row_ as varchar), ?)',
                        [secret],
                    ).fetchone()[0]
                    assert found == 0, (schema, table, secret)


def _publish_alone():
    """The nightly job's publish step alone, in this process on the persistent instance."""
    from pipelines.definitions import defs

    publish = dg.AssetKey(["analytics", "published_snapshot"])
    job = defs().get_job_def("nightly_sync").get_subset(asset_selection={publish})
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)


# Last in the module: it plants a bad record in the module's sandbox and runs a third night on its warehouse.
def test_a_failing_blocking_check_leaves_the_published_snapshot_untouched(own_sandbox, nights):
    assert nights.second.success
    analytics = nights.env["ANALYTICS_DUCKDB_PATH"]
    snapshot_before = _digest(analytics)

    planted = salesforce_account(1, Id="001PLANTEDBADREV01", AnnualRevenue=-250000.0,
                                 SystemModstamp="2030-01-01T00:00:00.000+0000")
    own_sandbox.upsert("salesforce", "Account", [planted])
    failed_night = run_nightly_job()

    evaluations = {c.check_name: c for c in failed_night.get_asset_check_evaluations()}
    assert evaluations["accounts_suite"].passed is False
    assert "annual_revenue" in evaluations["accounts_suite"].description
    published = [e.asset_key.to_user_string() for e in failed_night.get_asset_materialization_events()]
    assert "analytics/published_snapshot" not in published
    assert _digest(analytics) == snapshot_before

    # The publish step run alone, as after a click on it in the UI: its run holds no check, so it asks the instance.
    publish_only = _publish_alone()
    assert not publish_only.success
    [failure] = [e for e in publish_only.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "marts/accounts:accounts_suite" in str(failure.step_failure_data.user_failure_data.description)
    assert _digest(analytics) == snapshot_before
    planted_published = "select count(*) from marts.accounts where salesforce_account_id = '001PLANTEDBADREV01'"
    assert _rows(analytics, planted_published) == [(0,)]
    # The bad record was loaded, not lost: it is in raw for someone to fix at the source.
    warehouse = nights.env["WAREHOUSE_DUCKDB_PATH"]
    assert _rows(warehouse, "select annual_revenue from raw_salesforce.account where id = '001PLANTEDBADREV01'") == [
        (-250000,)
    ]
