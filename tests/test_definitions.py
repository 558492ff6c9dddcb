"""The code location loads and holds the assets, checks, job and schedule the nightly run needs."""

import importlib

import dagster as dg

from pipelines.definitions import defs


def _keys(definitions: dg.Definitions) -> set[str]:
    return {key.to_user_string() for key in definitions.resolve_all_asset_keys()}


def test_every_layer_has_its_assets():
    keys = _keys(defs())
    assert {
        "raw/salesforce/account",
        "staging/stg_salesforce__accounts",
        "marts/accounts",
        "analytics/published_snapshot",
    } <= keys


def test_raw_assets_feed_dbt_and_marts_feed_publish():
    graph = defs().resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_salesforce__accounts"]))
    assert dg.AssetKey(["raw", "salesforce", "account"]) in staging.parent_keys
    publish = graph.get(dg.AssetKey(["analytics", "published_snapshot"]))
    assert dg.AssetKey(["marts", "accounts"]) in publish.parent_keys


def test_quality_checks_are_attached_and_the_gx_suite_blocks_publishing():
    graph = defs().resolve_asset_graph()
    check_keys = {(key.asset_key.to_user_string(), key.name) for key in graph.asset_check_keys}
    assert ("marts/accounts", "accounts_suite") in check_keys
    assert any(asset == "marts/accounts" and name.startswith("unique") for asset, name in check_keys), check_keys
    assert any(asset == "raw/salesforce/account" for asset, _ in check_keys), "source tests must surface as checks"
    suite = graph.get_check_spec(dg.AssetCheckKey(dg.AssetKey(["marts", "accounts"]), "accounts_suite"))
    assert suite.blocking


def test_nightly_job_covers_every_asset_in_one_process():
    definitions = defs()
    job = definitions.resolve_job_def("nightly_sync")
    assert job.executor_def is dg.in_process_executor
    job_keys = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert job_keys == _keys(definitions)
    # one process for the whole night: each step gives back what it freed before the next one starts
    assert {hook.name for hook in job.hook_defs} == {"release_freed_memory"}


def test_schedule_runs_at_two_in_the_configured_time_zone(monkeypatch):
    schedule = defs().resolve_schedule_def("nightly_sync_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.job_name == "nightly_sync"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING

    import pipelines.defs.schedules as schedules

    monkeypatch.setenv("NIGHTLY_TIMEZONE", "Europe/Berlin")
    try:
        assert importlib.reload(schedules).nightly_schedule.execution_timezone == "Europe/Berlin"
    finally:
        monkeypatch.delenv("NIGHTLY_TIMEZONE")
        importlib.reload(schedules)


def test_secrets_come_from_the_environment_not_from_code(monkeypatch):
    for variable in ("SALESFORCE_LOGIN_URL", "SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET",
                     "SALESFORCE_REFRESH_TOKEN"):
        monkeypatch.setenv(variable, "set-in-the-environment")
    resources = defs().resources
    salesforce = resources["salesforce"]
    for field in ("client_id", "client_secret", "refresh_token", "login_url"):
        assert isinstance(getattr(salesforce, field), dg.EnvVar), field


def test_the_nightly_job_takes_a_full_refresh_of_the_incremental_models_from_the_launchpad(pipeline_env):
    from pipelines.defs.transform.assets import DbtBuildConfig, dbt_build_args

    job = defs().resolve_job_def("nightly_sync")
    run_config = {"ops": {"dbt_models": {"config": {"full_refresh": True}}}}
    assert dg.validate_run_config(job, run_config)
    assert dbt_build_args(DbtBuildConfig(full_refresh=True)) == ["build", "--full-refresh"]
    assert dbt_build_args(DbtBuildConfig()) == ["build"]
