"""Alerts reach a webhook (a local HTTP receiver here): a failed run names its step and asset, a failed check
names the check and its asset, and no secret is in either."""

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest
from dagster_dbt import DagsterDbtTranslator
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from packaging import version

from connectors.redact import register_secret
from pipelines.defs.alerts import AlertWebhookResource, check_failure_alert, run_failure_alert

SECRET = "sk-live-alert-test-5e1d"
# What dbt-core 1.11 logs at level "error" (dagster-dbt runs it with --no-use-color) when a model's SQL and a test fail.
DBT_ERROR_LOGS = [
    "1 of 3 ERROR creating sql table model main.attribution ........................ [ERROR in 0.05s]",
    "3 of 3 FAIL 1 not_null_attribution_account_id ................................. [FAIL 1 in 0.03s]",
    "Failure in model attribution (models/marts/attribution.sql)",
    "  Database Error in model attribution (models/marts/attribution.sql)\n"
    "  Catalog Error: Table with name touches does not exist!\n  \n  LINE 3:     select * from touches",
    "Failure in test not_null_attribution_account_id (models/marts/schema.yml)",
    "  Got 1 result, configured to fail if != 0",
]


@pytest.fixture
def receiver():
    """A webhook on 127.0.0.1 that records every JSON body posted to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/services/T000/B000/{SECRET}", received
    server.shutdown()
    server.server_close()


@dg.asset(key=["marts", "accounts"])
def accounts() -> None:
    """An asset that fails the way a connector does, its error already redacted."""
    register_secret(SECRET)
    raise RuntimeError(f"warehouse rejected the load (token {SECRET})")


@dg.asset(key=["analytics", "published_snapshot"], deps=[accounts])
def published_snapshot() -> None:
    """The publish step, which the failure upstream skips."""


@dg.asset(key=["marts", "prospects"])
def prospects() -> None:
    """An asset that materializes."""


@dg.asset_check(asset=prospects, name="prospects_health")
def prospects_health() -> dg.AssetCheckResult:
    """A warning check that fails."""
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                               description="9 of 10 expectations passed; failed: expect_column_values_to_not_be_null"
                                           "(email) (2 rows)")


def _run(instance: dg.DagsterInstance, *assets, checks=()) -> dg.ExecuteInProcessResult:
    job = dg.define_asset_job("nightly_sync", selection=dg.AssetSelection.all())
    definitions = dg.Definitions(assets=list(assets), asset_checks=list(checks), jobs=[job])
    return definitions.resolve_job_def("nightly_sync").execute_in_process(instance=instance, raise_on_error=False)


def _dbt_cli_error(tmp_path) -> Exception:
    """The error dagster-dbt raises for a failed ``dbt build``, made by its own code from dbt's JSON log lines."""
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps({"info": {"level": "error", "msg": msg}}) + "\n" for msg in DBT_ERROR_LOGS))
    dbt = tmp_path / "dbt"
    dbt.write_text(f"#!/bin/sh\ncat '{events}'\nexit 1\n")
    dbt.chmod(0o755)
    invocation = DbtCliInvocation(
        process=subprocess.Popen([str(dbt), "build", "--select", "attribution"], stdout=subprocess.PIPE),
        manifest={}, dagster_dbt_translator=DagsterDbtTranslator(), project_dir=tmp_path,
        target_path=tmp_path / "target", raise_on_error=True, cli_version=version.Version("1.11.0"),
    )
    return invocation.get_error()


def _alert_run_failure(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult, url: str) -> None:
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_event=result.get_run_failure_event(),
        dagster_instance=instance, dagster_run=result.dagster_run,
        resources={"alerts": AlertWebhookResource(webhook_url=url)},
    ).for_run_failure()
    run_failure_alert(context)


def test_a_failed_run_posts_its_failed_step_and_asset(receiver):
    url, received = receiver
    with dg.DagsterInstance.ephemeral() as instance:
        result = _run(instance, accounts, published_snapshot)
        assert not result.success
        _alert_run_failure(instance, result, url)

    (message,) = received
    assert set(message) == {"text"}
    text = message["text"]
    assert result.run_id[:8] in text and "nightly_sync" in text
    assert "BI keeps the previous snapshot" in text
    assert "step `marts__accounts` failed" in text and "`marts/accounts`" in text
    assert "RuntimeError: warehouse rejected the load" in text
    assert SECRET not in text


def test_a_failed_check_posts_the_check_and_its_asset_once(receiver):
    url, received = receiver
    alerts = AlertWebhookResource(webhook_url=url)
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.build_sensor_context(instance=instance, resources={"alerts": alerts})
        assert isinstance(check_failure_alert(first), dg.SkipReason)  # the first tick only starts watching
        assert _run(instance, prospects, checks=[prospects_health]).success

        tick = dg.build_sensor_context(instance=instance, cursor=first.cursor, resources={"alerts": alerts})
        check_failure_alert(tick)
        again = dg.build_sensor_context(instance=instance, cursor=tick.cursor, resources={"alerts": alerts})
        check_failure_alert(again)

    (message,) = received
    text = message["text"]
    assert "check `prospects_health` on `marts/prospects` failed (WARN" in text
    assert "expect_column_values_to_not_be_null(email)" in text
    assert SECRET not in text


def test_without_a_webhook_the_alert_is_logged():
    logged = []

    class Log:
        def info(self, message):
            logged.append(message)

        warning = info

    assert AlertWebhookResource().send("run `abc` failed", Log()) is False
    assert logged == ["alert (ALERT_WEBHOOK_URL is not set, so only logged):\nrun `abc` failed"]


def test_the_webhook_url_comes_from_the_environment_through_envvar(monkeypatch):
    from pipelines.defs.alerts import alerts_from_environment

    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    assert alerts_from_environment().webhook_url == ""
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    assert isinstance(alerts_from_environment().webhook_url, dg.EnvVar)


def test_a_failed_dbt_step_names_the_failed_model_and_its_error(receiver, tmp_path):
    url, received = receiver
    error = _dbt_cli_error(tmp_path)
    assert "Errors parsed from dbt logs:" in str(error)

    @dg.asset(key=["marts", "attribution"])
    def attribution() -> None:
        """A dbt asset whose ``dbt build`` failed."""
        raise error

    with dg.DagsterInstance.ephemeral() as instance:
        result = _run(instance, attribution)
        assert not result.success
        _alert_run_failure(instance, result, url)

    (message,) = received
    text = message["text"]
    assert "step `marts__attribution` failed (assets `marts/attribution`): dbt (2 failed nodes): " in text
    assert "Database Error in model attribution (models/marts/attribution.sql)" in text
    assert "Catalog Error: Table with name touches does not exist!" in text
    assert "The dbt CLI process with command" not in text


def test_a_failed_run_with_a_failed_check_posts_once(receiver):
    url, received = receiver
    alerts = AlertWebhookResource(webhook_url=url)
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.build_sensor_context(instance=instance, resources={"alerts": alerts})
        check_failure_alert(first)
        result = _run(instance, accounts, published_snapshot, prospects, checks=[prospects_health])
        assert not result.success
        _alert_run_failure(instance, result, url)
        tick = dg.build_sensor_context(instance=instance, cursor=first.cursor, resources={"alerts": alerts})
        assert isinstance(check_failure_alert(tick), dg.SkipReason)

    (message,) = received
    text = message["text"]
    assert "step `marts__accounts` failed" in text
    assert "check `prospects_health` on `marts/prospects` failed (WARN" in text  # not lost with the check alert
