"""The per-run quality report: which checks ran, passed and failed, with counts, and the GX Data Docs.

Read from the run's own asset check evaluation events (dbt tests, source tests and GX suites alike),
so the report describes exactly the night that produced the snapshot.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from expectations.data_docs import build_site

MAX_LISTED = 50


@dataclass(frozen=True)
class CheckLine:
    """One check's evaluation in this run."""

    asset: str
    check: str
    passed: bool
    severity: str
    failing_rows: int | None
    description: str

    @property
    def layer(self) -> str:
        """``raw``, ``staging``, ``marts``, ... (the first part of the asset key)."""
        return self.asset.split("/", 1)[0]


def run_check_lines(instance: dg.DagsterInstance, run_id: str) -> list[CheckLine]:
    """Every asset check evaluated in the run `run_id`."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    return [_line(record.event_log_entry.dagster_event.event_specific_data) for record in records]


def _line(evaluation) -> CheckLine:
    metadata = evaluation.metadata or {}
    failing = metadata.get("dagster_dbt/failed_row_count")
    failed_expectations = metadata.get("failed_expectations")
    if failing is None and failed_expectations is not None:
        failing = sum(int(e.get("unexpected_count") or 0) for e in (failed_expectations.value or {}).values())
    else:
        failing = failing.value if failing is not None else None
    return CheckLine(
        asset=evaluation.asset_key.to_user_string(),
        check=evaluation.check_name,
        passed=bool(evaluation.passed),
        severity=evaluation.severity.value,
        failing_rows=int(failing) if failing is not None else None,
        description=evaluation.description or "",
    )


def summary(lines: list[CheckLine]) -> dict[str, int]:
    """Counts: checks run, passed, failed with ERROR severity, failed with WARN severity."""
    failed = [line for line in lines if not line.passed]
    return {
        "checks_run": len(lines),
        "checks_passed": len(lines) - len(failed),
        "checks_failed_error": sum(1 for line in failed if line.severity == "ERROR"),
        "checks_failed_warn": sum(1 for line in failed if line.severity == "WARN"),
    }


def markdown(lines: list[CheckLine]) -> str:
    """Checks per layer, then every failed check with its failing rows."""
    ran, passed = Counter(line.layer for line in lines), Counter(line.layer for line in lines if line.passed)
    text = ["| layer | checks | passed | failed |", "|---|---:|---:|---:|"]
    text += [f"| {layer} | {ran[layer]} | {passed[layer]} | {ran[layer] - passed[layer]} |" for layer in sorted(ran)]
    failed = sorted((line for line in lines if not line.passed), key=lambda line: (line.severity, line.asset))
    if failed:
        text += ["", "| failed check | asset | severity | failing rows | detail |", "|---|---|---|---:|---|"]
        text += [f"| {line.check} | {line.asset} | {line.severity} | "
                 f"{'' if line.failing_rows is None else line.failing_rows} | {_cell(line.description)} |"
                 for line in failed[:MAX_LISTED]]
        if len(failed) > MAX_LISTED:
            text.append(f"| … {len(failed) - MAX_LISTED} more | | | | |")
    return "\n".join(text)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:200]


def build_data_docs(report_dir: Path, run_id: str, log) -> Path | None:
    """Build the run's great-expectations Data Docs into `report_dir`; its index.html, or None if it failed."""
    try:
        return build_site(Path(report_dir), run_id)
    except Exception as error:  # the report is a convenience: the checks' own results stand without it
        log.warning(f"could not build the great-expectations Data Docs: {error}")
        return None


def report_metadata(instance: dg.DagsterInstance, run_id: str, report_dir: Path, log) -> dict:
    """The quality report of `run_id` as asset metadata: counts, a table of failures, the Data Docs path."""
    lines = run_check_lines(instance, run_id)
    metadata = {name: dg.MetadataValue.int(count) for name, count in summary(lines).items()}
    metadata["quality_report"] = dg.MetadataValue.md(markdown(lines))
    index = build_data_docs(report_dir, run_id, log)
    if index is not None:
        metadata["data_docs"] = dg.MetadataValue.path(str(index.resolve()))
    return metadata
