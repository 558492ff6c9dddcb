"""One measured task in a fresh process: ``python -m benchmarks.worker SPEC.json RESULT.json``.

A fresh process per sample keeps each sample's peak RSS its own (VmHWM never goes down)
and keeps imports, caches and dlt state of one sample out of the next. The spec names the task:

* ``{"task": "extract", "tool": "floor" | "ours" | "peer", "url": ..., "work": ..., "plan": [...]}``
* ``{"task": "night", "url": ..., "warehouse_dir": ..., "simulated_now": ISO or null}`` -- the
  Dagster job ``nightly_sync`` over every asset (all sources, dbt build, checks, publish), in
  process on an ephemeral instance; a full night on an empty warehouse folder, an incremental
  night on a copy of a loaded one. ``simulated_now`` is the moment the simulated night runs at:
  after ``advance()`` the sandbox's records are stamped up to its new clock, which can be ahead
  of the wall clock, and the checks' "not in the future" bound then uses this moment instead
  of the wall clock (only when it is later), as it would on the real night after that day.

The result holds the timings the task measured itself, and the process's peak RSS (self and its
largest child, e.g. the dbt subprocess) in MB.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path


def _rss_mb() -> dict:
    """This process's own peak RSS (its subprocesses' is sampled by the parent: benchmarks/measure.py).

    The peak is VmHWM, not ``ru_maxrss``: Linux keeps a parent's RSS at fork in the child's ``ru_maxrss``
    across exec, so a worker started by a harness that held 3 GB (its gates had just queried a warehouse)
    reported 3 GB it never used.
    """
    return {"peak_rss_mb": round(_status_mb("VmHWM"), 1)}


def _current_rss_mb() -> float:
    return _status_mb("VmRSS")


def _status_mb(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssTimeline(threading.Thread):
    """This process's resident memory ten times a second, stamped with the wall clock, so that a night can say
    in which step its memory peaked (the peak alone does not say what to fix)."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval, self.samples = interval, []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append((time.time(), _current_rss_mb()))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def peak_between(self, start: float, end: float) -> float | None:
        """The highest sample from `start` to `end` (wall clock), None when none was taken then."""
        inside = [rss for stamp, rss in self.samples if start <= stamp <= end]
        return round(max(inside), 1) if inside else None


def step_peaks(timeline: RssTimeline, entries) -> dict[str, float]:
    """Each step's highest resident memory, from the run's event log entries (STEP_START to its end)."""
    started, peaks = {}, {}
    for entry in entries:
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in started:
            peak = timeline.peak_between(started[event.step_key], entry.timestamp)
            if peak is not None:
                peaks[event.step_key] = peak
    return peaks


def run_extract(spec: dict) -> dict:
    from benchmarks.extract import TOOLS

    work = Path(spec["work"])
    work.mkdir(parents=True, exist_ok=True)
    if spec["tool"] in ("ours", "peer"):
        import dlt  # noqa: F401  (import cost stays out of the timed region, as for the floor's requests)
    baseline = _current_rss_mb()
    started = time.perf_counter()
    result = TOOLS[spec["tool"]](spec["url"], spec["plan"], work)
    result["wall_seconds"] = time.perf_counter() - started
    result["baseline_rss_mb"] = round(baseline, 1)
    return result


def run_night(spec: dict) -> dict:
    from pipelines.local import local_environment, prepare_dagster_home, prepare_dbt_manifest
    from sandbox.launcher import connector_env

    night = Path(spec["warehouse_dir"])
    # The Dagster instance lives with the warehouse, as a deployment's does: an incremental night, run on a copy of
    # the full night's folder, has its history (the checks compare row counts with the last run's) and pays for
    # storing its events in SQLite.
    os.environ.update({**local_environment(night), "DAGSTER_HOME": str(night / "dagster_home")})
    prepare_dagster_home(night / "dagster_home")
    os.environ.update(connector_env(spec["url"]))
    # Untimed, as a deployment parses once with its own settings: dbt reuses a parse made under the same
    # profile only, and this night's warehouse path is its own.
    prepare_dbt_manifest(os.environ)
    import dagster as dg

    from pipelines.definitions import defs

    if spec.get("simulated_now"):
        from datetime import UTC, datetime

        import expectations.suites.common as suite_helpers

        simulated = datetime.fromisoformat(spec["simulated_now"])
        if simulated > datetime.now(UTC):
            suite_helpers.now = lambda: simulated
    job = defs().resolve_job_def("nightly_sync")
    baseline = _current_rss_mb()
    timeline = RssTimeline()
    timeline.start()
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        seconds = time.perf_counter() - started
        timeline.stop()
        peaks = step_peaks(timeline, instance.all_logs(result.run_id))
    steps, failed_steps = {}, []
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS":
            steps[event.step_key] = event.event_specific_data.duration_ms / 1000
        elif event.event_type_value == "STEP_FAILURE":
            failed_steps.append(event.step_key)
    rows_loaded = {}
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        if "rows_loaded" in metadata:
            rows_loaded[event.asset_key.to_user_string()] = metadata["rows_loaded"].value
    checks = [{"asset": c.asset_key.to_user_string(), "check": c.check_name, "passed": c.passed,
               "severity": c.severity.value, **({} if c.passed else {"description": c.description})}
              for c in result.get_asset_check_evaluations()]
    published = any(e.asset_key.path[-1] == "published_snapshot" for e in result.get_asset_materialization_events())
    return {"success": result.success, "wall_seconds": seconds, "steps": steps, "failed_steps": failed_steps,
            "rows_loaded": rows_loaded, "checks": checks, "published": published,
            "baseline_rss_mb": round(baseline, 1), "step_peak_rss_mb": peaks}


def main(argv: list[str]) -> int:
    spec_path, result_path = Path(argv[0]), Path(argv[1])
    spec = json.loads(spec_path.read_text())
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    task = {"extract": run_extract, "night": run_night}[spec["task"]]
    result = task(spec)
    result.update(_rss_mb())
    result_path.write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
