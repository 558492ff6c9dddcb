"""Alerts: a failed run and a failed asset check each post one short message to a chat webhook.

The message is Slack-compatible JSON (``{"text": ...}``; Mattermost, Rocket.Chat and Teams
workflows accept the same) sent to ``ALERT_WEBHOOK_URL``; without a URL it is only logged. It names
the job, the run, the failed step or check and its asset, never a value from the data or a secret.
"""

import json
import os
import re

import dagster as dg
import requests
from pydantic import Field

from connectors.redact import redact, register_secret
from pipelines.lib.quality_report import CheckLine, run_check_lines

MAX_LINES = 8
QUALIFIED_ERROR = re.compile(r"^(?:[a-z_][\w]*\.)+([A-Z]\w*:)")
PUBLISHED = dg.AssetKey(["analytics", "published_snapshot"])
MAX_LINE = 240
# Only succeeded runs: a failed run's checks are in the run-failure alert, so a failed night posts once.
WATCHED_RUN_EVENTS = (dg.DagsterEventType.RUN_SUCCESS,)
# How dagster-dbt's DagsterDbtCliRuntimeError words a failed dbt command (dagster_dbt/core/dbt_cli_invocation.py).
DBT_CLI_FAILURE = "The dbt CLI process with command"
DBT_ERRORS = "Errors parsed from dbt logs:"
DBT_EXIT_CODE = re.compile(r"failed with exit code `?-?\d+`?")
DBT_NODE = re.compile(r"\b(?:Error|Failure) in (\w+ \S+)")  # "Database Error in model attribution (models/…)"
DBT_PROGRESS = re.compile(r"^\d+ of \d+ ")  # "1 of 9 ERROR creating sql table model …"
ANSI_COLOR = re.compile(r"\x1b\[[0-9;]*m")


class AlertWebhookResource(dg.ConfigurableResource):
    """Where alerts go: a Slack-compatible incoming webhook; alerts are only logged when no URL is set."""

    webhook_url: str = Field(default="", description="Incoming webhook URL (secret: it embeds a token).")
    timeout_seconds: float = 10.0

    def send(self, text: str, log) -> bool:
        """Post ``{"text": text}``; True when the webhook accepted it. Failures are logged, never raised."""
        text = redact(text)
        if not self.webhook_url:
            log.info(f"alert (ALERT_WEBHOOK_URL is not set, so only logged):\n{text}")
            return False
        register_secret(self.webhook_url)
        try:
            response = requests.post(self.webhook_url, json={"text": text}, timeout=self.timeout_seconds)
        except requests.RequestException as error:  # the message of a connection error contains the URL
            log.warning(f"alert webhook unreachable ({type(error).__name__}); the alert was:\n{text}")
            return False
        if response.status_code >= 300:
            log.warning(f"alert webhook answered HTTP {response.status_code}; the alert was:\n{text}")
            return False
        return True


def alerts_from_environment() -> AlertWebhookResource:
    """The webhook of ``ALERT_WEBHOOK_URL`` (through `dg.EnvVar`), or a log-only resource when it is unset."""
    register_secret(os.environ.get("ALERT_WEBHOOK_URL"))
    if os.environ.get("ALERT_WEBHOOK_URL"):
        return AlertWebhookResource(webhook_url=dg.EnvVar("ALERT_WEBHOOK_URL"))
    return AlertWebhookResource()


def run_failure_text(job: str, run_id: str, failed_steps: dict[str, str], step_assets: dict[str, list[str]],
                     failed_checks: list[CheckLine], not_published: bool = False) -> str:
    """``Run failed`` message: each failed step with its error and assets, then failed checks (ERROR first).

    A step's error is its first line, or for a failed dbt command the first failed dbt node and its error.
    """
    lines = [f":red_circle: Common Ground: run `{run_id[:8]}` of `{job}` failed."
             + (" BI keeps the previous snapshot (nothing was published)." if not_published else "")]
    for step, error in failed_steps.items():
        assets = _assets(step_assets.get(step, []))
        lines.append(f"• step `{step}` failed{assets}: {_error_line(error)}")
    lines += [_check_line(check) for check in sorted(failed_checks, key=lambda check: check.severity != "ERROR")]
    return _clip(lines)


def check_failure_text(job: str, run_id: str, failed_checks: list[CheckLine]) -> str:
    """``Checks failed`` message: each failed check with its asset, severity and what failed."""
    lines = [f":warning: Common Ground: {len(failed_checks)} asset check(s) failed in run `{run_id[:8]}` of `{job}`."]
    lines += [_check_line(check) for check in failed_checks]
    return _clip(lines)


def _check_line(check: CheckLine) -> str:
    rows = f", {check.failing_rows} failing rows" if check.failing_rows else ""
    detail = f": {_first_line(check.description)}" if check.description else ""
    return f"• check `{check.check}` on `{check.asset}` failed ({check.severity}{rows}){detail}"


def _assets(keys: list[str]) -> str:
    if not keys:
        return ""
    shown = ", ".join(f"`{key}`" for key in keys[:3])
    return f" (assets {shown}{f' and {len(keys) - 3} more' if len(keys) > 3 else ''})"


def _first_line(text: str) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    line = QUALIFIED_ERROR.sub(r"\1", line)  # "dagster._core.errors.XError: …" reads as "XError: …"
    return _shorten(line)


def _shorten(line: str) -> str:
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def _error_line(error: str) -> str:
    """A step error in one line: its first, unless it is a dbt CLI failure, whose first line names nothing."""
    first = _first_line(error)
    return _dbt_error_line(error) if DBT_CLI_FAILURE in first else first


def _dbt_error_line(error: str) -> str:
    """The first failed dbt node and its error, from the errors dagster-dbt parsed from the dbt logs.

    ``dbt (N failed nodes): …`` when more than one failed; without parsed errors, the dbt exit code.
    """
    lines = _dbt_log_errors(error)
    nodes = [index for index, line in enumerate(lines) if DBT_NODE.search(line)]
    if nodes:
        failed = len({_node(lines[index]) for index in nodes})
        return _shorten(f"dbt{f' ({failed} failed nodes)' if failed > 1 else ''}: {_node_error(lines, nodes)}")
    if lines:
        return _shorten("dbt: " + " — ".join(lines[:2]))
    exit_code = DBT_EXIT_CODE.search(error)
    return f"dbt {exit_code.group(0) if exit_code else 'failed'}."


def _dbt_log_errors(error: str) -> list[str]:
    """The non-empty lines after "Errors parsed from dbt logs:", without colors and "1 of 9 ERROR …" lines."""
    _, _, parsed = error.partition(DBT_ERRORS)
    lines = [line.strip() for line in ANSI_COLOR.sub("", parsed).splitlines()]
    return [line for line in lines if line and not DBT_PROGRESS.match(line)]


def _node_error(lines: list[str], nodes: list[int]) -> str:
    first = nodes[0]
    # dbt logs "Failure in model x" and then the detail, "Database Error in model x": show the detail.
    if first + 1 in nodes and _node(lines[first + 1]) == _node(lines[first]):
        first += 1
    following = first + 1 < len(lines) and first + 1 not in nodes
    return lines[first] + (f" — {lines[first + 1]}" if following else "")


def _node(line: str) -> str:
    return DBT_NODE.search(line).group(1)


def _clip(lines: list[str]) -> str:
    if len(lines) > MAX_LINES + 1:
        lines = [*lines[: MAX_LINES + 1], f"… and {len(lines) - MAX_LINES - 1} more"]
    return "\n".join(lines)


def _root_cause(error) -> str:
    """The innermost error's message (Dagster wraps the user's exception in a step execution error)."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message if error is not None else ""


def _materialized(instance: dg.DagsterInstance, run_id: str, key: dg.AssetKey) -> bool:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    return any(record.event_log_entry.dagster_event.asset_key == key for record in records)


def _step_assets(instance: dg.DagsterInstance, run_id: str) -> dict[str, list[str]]:
    """The assets each step of the run was planned to materialize."""
    planned = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
    by_step: dict[str, list[str]] = {}
    for record in planned.records:
        event = record.event_log_entry.dagster_event
        by_step.setdefault(event.step_key, []).append(event.asset_key.to_user_string())
    return by_step


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts the failed run, its failed steps and their assets to ALERT_WEBHOOK_URL (or logs it).",
)
def run_failure_alert(context: dg.RunFailureSensorContext, alerts: AlertWebhookResource) -> None:
    """Alert on a failed run: which steps failed, with which error, on which assets, and which checks failed."""
    run = context.dagster_run
    failed_steps = {event.step_key: _root_cause(event.event_specific_data.error)
                    for event in context.get_step_failure_events()}
    if not failed_steps:
        failed_steps = {"run": context.failure_event.message or "the run failed before any step ran"}
    failed_checks = [line for line in run_check_lines(context.instance, run.run_id) if not line.passed]
    step_assets = _step_assets(context.instance, run.run_id)
    planned = {key for keys in step_assets.values() for key in keys}
    text = run_failure_text(run.job_name, run.run_id, failed_steps, step_assets, failed_checks,
                            not_published=PUBLISHED.to_user_string() in planned
                            and not _materialized(context.instance, run.run_id, PUBLISHED))
    alerts.send(text, context.log)


@dg.sensor(
    name="check_failure_alert",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts every asset check that failed in a succeeded run to ALERT_WEBHOOK_URL (or logs it).",
)
def check_failure_alert(context: dg.SensorEvaluationContext, alerts: AlertWebhookResource) -> dg.SkipReason | None:
    """Alert once per succeeded run that had failing asset checks (a failed run's are in `run_failure_alert`).

    The cursor remembers the last run-finished event seen per outcome; the first evaluation only sets it,
    so turning the sensor on does not replay the history.
    """
    cursor = json.loads(context.cursor) if context.cursor else None
    newest = {event.value: _newest_storage_id(context.instance, event) for event in WATCHED_RUN_EVENTS}
    if cursor is None:
        context.update_cursor(json.dumps(newest))
        return dg.SkipReason("started watching finished runs")
    alerted = 0
    for event in WATCHED_RUN_EVENTS:
        after = cursor.get(event.value, 0)
        records = context.instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event, after_storage_id=after), limit=100, ascending=True
        ).records
        for record in records:
            run_id = record.event_log_entry.run_id
            run = context.instance.get_run_by_id(run_id)
            failed = [line for line in run_check_lines(context.instance, run_id) if not line.passed]
            if run is not None and failed:
                alerts.send(check_failure_text(run.job_name, run.run_id, failed), context.log)
                alerted += 1
            after = max(after, record.storage_id)
        cursor[event.value] = after
    context.update_cursor(json.dumps(cursor))
    return None if alerted else dg.SkipReason("no succeeded run with failed checks")


def _newest_storage_id(instance: dg.DagsterInstance, event: dg.DagsterEventType) -> int:
    records = instance.fetch_run_status_changes(event, limit=1, ascending=False).records
    return records[0].storage_id if records else 0


@dg.definitions
def defs() -> dg.Definitions:
    """The two alert sensors."""
    return dg.Definitions(sensors=[run_failure_alert, check_failure_alert])
