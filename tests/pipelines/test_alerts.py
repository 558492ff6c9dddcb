"""Alerts reach a webhook (a local HTTP receiver here): a failed run names its step and asset, a failed check
names the check and its asset, and no secret is in either."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from connectors.redact import register_secret
from pipelines.defs.alerts import AlertWebhookResource, check_failure_alert, run_failure_alert

SECRET = "sk-live-alert-test-5e1d"


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


def test_a_failed_run_posts_its_failed_step_and_asset(receiver):
    url, received = receiver
    with dg.DagsterInstance.ephemeral() as instance:
        result = _run(instance, accounts, published_snapshot)
        assert not result.success
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert", dagster_event=result.get_run_failure_event(),
            dagster_instance=instance, dagster_run=result.dagster_run,
            resources={"alerts": AlertWebhookResource(webhook_url=url)},
        ).for_run_failure()
        run_failure_alert(context)

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
