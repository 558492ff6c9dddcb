"""The LinkedIn raw assets warn ahead of the refresh token's expiry: their `refresh_token_lifetime` asset check (on
the ad accounts, the stream read first) fails with severity WARN once the token has `CREDENTIAL_EXPIRY_WARNING_DAYS`
days left or fewer, which the check-failure alert posts. Run through Dagster against the hand-written ad sandbox."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import requests

from pipelines.defs.ingest.linkedin_ads import linkedin_ads_raw
from pipelines.lib.credential_expiry import (
    CREDENTIAL_CHECK,
    CREDENTIAL_WARNING_SETTING,
    credential_expiry_result,
)
from pipelines.lib.sources import LinkedInAdsResource
from pipelines.lib.sync_progress import SYNC_PROGRESS_CHECK
from sandbox import auth
from sandbox.apis.linkedin_ads import REFRESH_TOKEN_SECONDS
from tests.ads_fixtures import restoring_linkedin_refresh_token, running_ads_sandbox
from tests.support.warehouse import warehouse_resource

DAY = 86_400
ACCOUNTS = dg.AssetKey(["raw", "linkedin_ads", "ad_accounts"])
CAMPAIGNS = dg.AssetKey(["raw", "linkedin_ads", "campaigns"])
CHECK = dg.AssetCheckKey(ACCOUNTS, CREDENTIAL_CHECK)


@pytest.fixture(scope="module")
def linkedin_sandbox(tmp_path_factory):
    """The module's own ad sandbox, since its tests change the refresh token's expiry."""
    with running_ads_sandbox(tmp_path_factory) as running:
        yield running


@pytest.fixture
def sandbox(linkedin_sandbox):
    """The ad sandbox, its refresh token given its default lifetime back after the test."""
    yield from restoring_linkedin_refresh_token(linkedin_sandbox)


def _resources(sandbox, env: dict[str, str], **linkedin) -> dict:
    url = sandbox.url
    clock = datetime.fromisoformat(requests.get(f"{url}/_sandbox/health", timeout=10).json()["clock"])
    settings = {"base_url": url, "auth_url": url, "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET,
                "refresh_token": auth.REFRESH_TOKEN, "history_days": (datetime.now(UTC) - clock).days + 60,
                **linkedin}
    return {"warehouse": warehouse_resource(env),
            "linkedin_ads": LinkedInAdsResource(**settings)}


def _evaluations(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def test_a_token_expiring_within_the_warning_days_fails_the_check_with_warn_naming_days_and_date(sandbox,
                                                                                                 pipeline_env):
    env = pipeline_env(sandbox)
    sandbox.set_linkedin_refresh_token_expiry(5 * DAY)
    before = datetime.now(UTC)
    result = dg.materialize([linkedin_ads_raw], resources=_resources(sandbox, env))
    after = datetime.now(UTC)
    assert result.success  # a warning, not a failed night
    check = _evaluations(result)[CREDENTIAL_CHECK]
    assert check.asset_key == ACCOUNTS
    assert check.passed is False and check.severity == dg.AssetCheckSeverity.WARN
    expected_dates = {(moment + timedelta(days=5)).date().isoformat() for moment in (before, after)}
    assert any(f"expires in 5 days ({day}): re-authorize the app" in check.description for day in expected_dates), \
        check.description
    assert "LINKEDIN_ADS_REFRESH_TOKEN" in check.description and auth.REFRESH_TOKEN not in check.description
    metadata = {name: value.value for name, value in check.metadata.items()}
    assert metadata["days_left"] == 5 and metadata["warning_days"] == 14
    expires_at = datetime.fromtimestamp(metadata["expires_at"], UTC)
    assert before + timedelta(days=5) - timedelta(seconds=1) <= expires_at <= after + timedelta(days=5)
    (accounts,) = [event for event in result.get_asset_materialization_events() if event.asset_key == ACCOUNTS]
    assert accounts.materialization.metadata["credentials_expire_at"].value == metadata["expires_at"]


def test_a_token_with_the_default_lifetime_passes_the_check(sandbox, pipeline_env):
    env = pipeline_env(sandbox)
    result = dg.materialize([linkedin_ads_raw], resources=_resources(sandbox, env))
    check = _evaluations(result)[CREDENTIAL_CHECK]
    assert check.passed is True
    assert check.metadata["days_left"].value == REFRESH_TOKEN_SECONDS // DAY
    assert f"expires in {REFRESH_TOKEN_SECONDS // DAY} days" in check.description


def test_the_warning_days_come_from_the_setting(sandbox, pipeline_env, monkeypatch):
    env = pipeline_env(sandbox)
    sandbox.set_linkedin_refresh_token_expiry(5 * DAY)
    monkeypatch.setenv(CREDENTIAL_WARNING_SETTING, "4")
    result = dg.materialize([linkedin_ads_raw], resources=_resources(sandbox, env))
    assert _evaluations(result)[CREDENTIAL_CHECK].passed is True


def test_a_subset_run_of_a_stream_without_the_check_materializes_it_alone(sandbox, pipeline_env):
    env = pipeline_env(sandbox)
    result = dg.materialize([linkedin_ads_raw], selection=[CAMPAIGNS], resources=_resources(sandbox, env))
    assert result.success
    assert [event.asset_key for event in result.get_asset_materialization_events()] == [CAMPAIGNS]
    # Only the campaigns' own check (sync_progress): not the credential check of the ad accounts.
    assert [(evaluation.asset_key, evaluation.check_name) for evaluation in result.get_asset_check_evaluations()] \
        == [(CAMPAIGNS, SYNC_PROGRESS_CHECK)]


def test_a_bad_warning_setting_fails_the_linkedin_sync_naming_the_variable_before_any_read(sandbox, pipeline_env,
                                                                                          monkeypatch):
    env = pipeline_env(sandbox)
    monkeypatch.setenv(CREDENTIAL_WARNING_SETTING, "abc")
    resources = _resources(sandbox, env)
    served = sandbox.stats()["requests"].get("linkedin_ads", 0)
    result = dg.materialize([linkedin_ads_raw], resources=resources, raise_on_error=False)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_failure_data.error.cause.message.strip() == (
        f"ValueError: {CREDENTIAL_WARNING_SETTING} must be a whole number of days of at least 0 (default 14), "
        "not 'abc'")
    assert sandbox.stats()["requests"].get("linkedin_ads", 0) == served  # failed before reading anything


def test_an_unconfigured_source_passes_the_check_without_failing(sandbox, pipeline_env):
    env = pipeline_env(sandbox)
    result = dg.materialize([linkedin_ads_raw], resources=_resources(sandbox, env, client_secret="", refresh_token=""))
    assert result.success
    check = _evaluations(result)[CREDENTIAL_CHECK]
    assert check.passed is True and check.description.startswith("Not checked: linkedin_ads is not configured")


@pytest.mark.parametrize(("days", "passed", "said"), [
    (15, True, "in 15 days"), (14, False, "in 14 days"), (1, False, "in 1 day "), (0, False, "today"),
])
def test_the_check_fails_from_the_warning_day_on_counting_calendar_days(days, passed, said):
    now = datetime(2026, 6, 15, 23, 0, tzinfo=UTC)
    expires_at = datetime(2026, 6, 15, 1, 0, tzinfo=UTC) + timedelta(days=days)
    result = credential_expiry_result(CHECK, "linkedin_ads", expires_at, 14, "LINKEDIN_ADS_REFRESH_TOKEN", now)
    assert result.passed is passed and said in result.description
    assert result.metadata["days_left"].value == days


def test_an_unknown_expiry_passes_saying_so():
    result = credential_expiry_result(CHECK, "linkedin_ads", None, 14, "LINKEDIN_ADS_REFRESH_TOKEN",
                                      datetime.now(UTC))
    assert result.passed is True and "expiry is unknown" in result.description
