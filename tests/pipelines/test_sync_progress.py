"""Every raw asset's `sync_progress` check warns when its stream keeps stopping early: it fails with severity WARN
once the stream stopped early in `SYNC_STOPPED_EARLY_RUNS` materializations in a row, saying whether the cursor still
moves or has stalled, so a stream stuck at the same place every night no longer hides behind a fresh asset.

The streak logic runs over plain metadata dicts; the Dagster test syncs Salesforce from its own sandbox, the org's
API usage set past the budget (`SALESFORCE_API_BUDGET_PERCENT`) so every run stops before the first query, with one
instance keeping the materializations between runs.
"""

import dagster as dg
import pytest

from connectors.salesforce.client import API_BUDGET_SETTING
from pipelines.defs.ingest.salesforce import salesforce_raw
from pipelines.lib.sources import SalesforceResource
from pipelines.lib.sync_progress import (
    STOPPED_EARLY_RUNS_SETTING,
    SYNC_PROGRESS_CHECK,
    plain_metadata,
    stopped_early_runs,
    stopped_early_streak,
    sync_progress_result,
)
from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset
from tests.pipelines.test_source_wide_limits import _contact
from tests.support.warehouse import salesforce_resources

ACCOUNT = dg.AssetKey(["raw", "salesforce", "account"])
CONTACT = dg.AssetKey(["raw", "salesforce", "contact"])
CHECK = dg.AssetCheckKey(ACCOUNT, SYNC_PROGRESS_CHECK)
REASON = "salesforce org has used 950 of its 1,000 daily API requests (95%)"


def _stopped(before: str = "2026-01-05T00:00:00Z", after: str | None = None, reason: str = REASON) -> dict:
    """The (plain) metadata of a materialization that stopped early, its cursor moved from `before` to `after`."""
    return {"status": "stopped early", "stopped_early": reason, "cursor_before": before,
            "cursor_after": after or before}


SYNCED = {"status": "synced", "stopped_early": "no", "cursor_before": "2026-01-01T00:00:00Z",
          "cursor_after": "2026-01-05T00:00:00Z"}
NOT_CONFIGURED = {"status": "not configured (missing SALESFORCE_CLIENT_SECRET)", "rows_loaded": 0}


# --- the streak, over metadata ----------------------------------------------------------------------------------


def test_the_streak_counts_the_newest_materializations_that_stopped_early_up_to_one_that_did_not():
    assert len(stopped_early_streak([_stopped(), _stopped(), SYNCED, _stopped()])) == 2
    assert stopped_early_streak([SYNCED, _stopped()]) == []
    assert len(stopped_early_streak([_stopped(), NOT_CONFIGURED, _stopped()])) == 1  # a skipped night read nothing
    assert stopped_early_streak([]) == []


@pytest.mark.parametrize(("previous", "streak"), [([], 1), ([_stopped()], 2), ([SYNCED, _stopped(), _stopped()], 1),
                                                  ([_stopped(), NOT_CONFIGURED], 2)])
def test_fewer_runs_in_a_row_than_the_setting_pass_with_the_streak_in_the_metadata(previous, streak):
    result = sync_progress_result(CHECK, "salesforce", _stopped(), previous, runs=3)
    assert result.passed is True and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["stopped_early_runs"].value == streak
    assert f"stopped early in {streak} run" in result.description


def test_a_run_that_synced_passes_whatever_came_before():
    result = sync_progress_result(CHECK, "salesforce", SYNCED, [_stopped()] * 5, runs=3)
    assert result.passed is True and result.metadata["stopped_early_runs"].value == 0
    assert result.description == "salesforce.account read to its end in this run."


def test_the_setting_number_of_runs_in_a_row_fails_with_warn_saying_stalled_and_the_latest_reason():
    result = sync_progress_result(CHECK, "salesforce", _stopped(reason="throttled for 900 s"),
                                  [_stopped(), _stopped()], runs=3)
    assert result.passed is False and result.severity == dg.AssetCheckSeverity.WARN
    assert result.description == (
        "salesforce.account stopped early in each of its last 3 runs; stalled: the cursor has stayed at "
        "2026-01-05T00:00:00Z. The latest reason: throttled for 900 s")
    assert result.metadata["stopped_early_runs"].value == 3
    assert result.metadata["latest_reason"].value == "throttled for 900 s"


def test_a_streak_whose_cursor_moved_is_still_catching_up():
    newest_first = [_stopped("2026-01-03", "2026-01-04"), _stopped("2026-01-02", "2026-01-03"),
                    _stopped("2026-01-01", "2026-01-02")]
    result = sync_progress_result(CHECK, "salesforce", newest_first[0], newest_first[1:], runs=3)
    assert result.passed is False
    assert "still catching up: cursor moved from 2026-01-01 to 2026-01-04" in result.description


def test_only_the_setting_number_of_runs_is_counted():
    result = sync_progress_result(CHECK, "salesforce", _stopped("b", "c"), [_stopped("a", "b"), _stopped("x", "a")],
                                  runs=2)
    assert result.passed is False and result.metadata["stopped_early_runs"].value == 2
    assert "moved from a to c" in result.description  # the run before the last 2 is not part of it


def test_metadata_values_are_read_as_plain_values():
    metadata = {"stopped_early": dg.MetadataValue.text("no"), "rows_loaded": dg.MetadataValue.int(3), "raw": "x"}
    assert plain_metadata(metadata) == {"stopped_early": "no", "rows_loaded": 3, "raw": "x"}


# --- the setting ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "runs"), [(None, 3), ("", 3), (" 2 ", 2), ("10", 10)])
def test_the_setting_defaults_to_3_runs(monkeypatch, value, runs):
    if value is None:
        monkeypatch.delenv(STOPPED_EARLY_RUNS_SETTING, raising=False)
    else:
        monkeypatch.setenv(STOPPED_EARLY_RUNS_SETTING, value)
    assert stopped_early_runs() == runs


@pytest.mark.parametrize("value", ["1", "0", "-3", "2.5", "three"])
def test_a_setting_below_2_or_not_a_whole_number_is_refused_naming_it(monkeypatch, value):
    monkeypatch.setenv(STOPPED_EARLY_RUNS_SETTING, value)
    with pytest.raises(ValueError) as raised:
        stopped_early_runs()
    assert str(raised.value) == (f"{STOPPED_EARLY_RUNS_SETTING} must be a whole number of runs of at least 2 "
                                 f"(default 3), not {value!r}")


# --- through Dagster, against the sandbox -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    """The module's own small Salesforce org: its tests set its API usage."""
    folder = write_dataset(tmp_path_factory.mktemp("org"), {
        ("salesforce", "Account"): [salesforce_account(n) for n in range(20)],
        ("salesforce", "Contact"): [_contact(n) for n in range(5)],
    })
    with running_sandbox(dataset=folder) as running:
        yield running


def _checks(result) -> dict[dg.AssetKey, dg.AssetCheckEvaluation]:
    return {evaluation.asset_key: evaluation for evaluation in result.get_asset_check_evaluations()
            if evaluation.check_name == SYNC_PROGRESS_CHECK}


def test_a_stream_stopping_early_run_after_run_warns_on_the_third_and_a_complete_run_resets_it(org, pipeline_env,
                                                                                                 monkeypatch):
    env = pipeline_env(org)
    monkeypatch.delenv(STOPPED_EARLY_RUNS_SETTING, raising=False)
    monkeypatch.delenv(API_BUDGET_SETTING, raising=False)
    resources = salesforce_resources(org.url, env)
    with dg.DagsterInstance.ephemeral() as instance:

        def night(*keys: dg.AssetKey) -> dict[dg.AssetKey, dg.AssetCheckEvaluation]:
            result = dg.materialize([salesforce_raw], selection=list(keys or (ACCOUNT, CONTACT)), instance=instance,
                                    resources=resources)
            assert result.success  # a warning, never a failed night
            return _checks(result)

        org.set_salesforce_api_usage(used=0, limit=100_000)
        synced = night()[ACCOUNT]
        assert synced.passed and synced.metadata["stopped_early_runs"].value == 0
        cursor = instance.get_latest_materialization_event(ACCOUNT).asset_materialization.metadata["cursor_after"]

        org.set_salesforce_api_usage(used=950, limit=1000)  # past the budget of 90%: every run stops at once
        streaks = []
        for _ in range(2):
            check = night()[ACCOUNT]
            assert check.passed and check.severity == dg.AssetCheckSeverity.WARN
            streaks.append(check.metadata["stopped_early_runs"].value)
            assert list(night(CONTACT)) == [CONTACT]  # a run of another stream: no check of this one, nor a break
        assert streaks == [1, 2]

        stalled = night()[ACCOUNT]
        assert stalled.passed is False and stalled.severity == dg.AssetCheckSeverity.WARN
        assert stalled.metadata["stopped_early_runs"].value == 3
        assert f"stopped early in each of its last 3 runs; stalled: the cursor has stayed at {cursor.value}" \
               in stalled.description
        assert API_BUDGET_SETTING in stalled.description  # the latest reason

        org.set_salesforce_api_usage(used=0, limit=100_000)
        resumed = night(ACCOUNT)[ACCOUNT]
        assert resumed.passed and resumed.metadata["stopped_early_runs"].value == 0


def test_a_bad_setting_fails_the_sync_naming_it_before_any_read(org, pipeline_env, monkeypatch):
    env = pipeline_env(org)
    monkeypatch.setenv(STOPPED_EARLY_RUNS_SETTING, "1")
    served = org.stats()["requests"].get("salesforce", 0)
    result = dg.materialize([salesforce_raw], selection=[ACCOUNT], resources=salesforce_resources(org.url, env),
                            raise_on_error=False)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_failure_data.error.cause.message.strip() == (
        f"ValueError: {STOPPED_EARLY_RUNS_SETTING} must be a whole number of runs of at least 2 (default 3), not '1'")
    assert org.stats()["requests"].get("salesforce", 0) == served


def test_an_unconfigured_source_passes_every_streams_check_without_reading(org, pipeline_env):
    env = pipeline_env(org)
    resources = {**salesforce_resources(org.url, env),
                 "salesforce": SalesforceResource(login_url=org.url, client_id=auth.CLIENT_ID, client_secret="",
                                                  refresh_token=auth.REFRESH_TOKEN)}
    result = dg.materialize([salesforce_raw], selection=[ACCOUNT, CONTACT], resources=resources)
    checks = _checks(result)
    assert set(checks) == {ACCOUNT, CONTACT}
    assert all(check.passed and check.description.startswith("Not checked: salesforce is not configured")
               for check in checks.values())
