"""``python -m benchmarks``: time the nightly sync against the sandbox at each scale, next to a floor and a peer.

Per scale, against one sandbox (``sandbox.launcher.running_sandbox``):

1. **extract** -- extraction + load of the CRM list endpoints by the bare fetch loop (floor), our
   connectors + raw loader (ours) and dlt's ``rest_api`` source (peer); see ``benchmarks.extract``.
2. **night** -- the Dagster job ``nightly_sync`` on an empty warehouse: per-source sync, ``dbt
   build``, checks and publish as the job's step timings, and end to end.
3. **incremental** -- for each change rate r: a fresh sandbox (same seed, so the same day-0 data),
   ``advance(days=1, change_rate=r)``, and the same job on a copy of the full night's warehouse.

Every sample runs in its own process (``benchmarks.worker``) and passes the correctness gates of
``benchmarks.checks`` before its time counts; a failed sample is kept in the raw samples with its
problems and left out of the medians. Results: ``benchmarks/results/latest.json`` and
``latest.md``, ``time_vs_scale.svg``, and the table block of ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

from benchmarks import checks, sandbox_limits
from benchmarks.measure import ROOT, hwm_mb, run_worker

RESULTS = Path(__file__).resolve().parent / "results"
MARTS_YML = ROOT / "dbt_project" / "models" / "marts" / "_marts__models.yml"
TOOLS = ("floor", "ours", "peer")
#: Variants measured for information (not the issue's targets): see benchmarks.extract.
EXTRA_TOOLS = ("peer_parquet",)
RATES = (0.001, 0.01, 0.1)
PACKAGES = ("dlt", "duckdb", "pyarrow", "requests", "orjson", "dagster", "dagster-dbt", "dbt-core", "dbt-duckdb",
            "great_expectations", "pandas", "starlette", "uvicorn")
SOURCES = ("salesforce", "hubspot", "google_ads", "meta_ads", "linkedin_ads")


def log(message: str) -> None:
    """Progress on stderr, with the wall clock."""
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- environment ------------------------------------------------------------------------------------------


def machine() -> dict:
    """Cores, memory and platform of this machine, and how loaded it was."""
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal:"))
    return {"cpus": os.cpu_count(), "memory_gb": round(memory_kb / 1024 / 1024, 1), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "python": sys.version.split()[0]}


def versions() -> dict:
    """Installed versions of the packages the measured code runs on."""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def git_state() -> dict:
    """The commit measured, whether the working tree had uncommitted changes, and a digest of the measured code.

    The digest covers every source file the measured code runs (connectors, pipelines, sandbox,
    dbt project, expectations, benchmarks), committed or not, so two results with the same digest
    measured the same code even in a working tree that has no git metadata (a copied snapshot).
    """
    state: dict = {"tree_digest": tree_digest()}
    copied_from = ROOT / ".snapshot-of.json"  # a copy of a working tree made to measure it while it changes
    if copied_from.exists():
        state.update(json.loads(copied_from.read_text()))
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return state
    if commit.returncode == 0:
        state.update(commit=commit.stdout.strip(), uncommitted_changes=bool(status.stdout.strip()))
    return state


def tree_digest() -> str:
    """sha256 (first 16 hex digits) over the paths and contents of the measured source files."""
    import hashlib

    digest = hashlib.sha256()
    for folder in ("connectors", "pipelines", "sandbox", "dbt_project", "expectations", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*")):
            if _is_measured_source(path):
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _is_measured_source(path: Path) -> bool:
    """A source file, not one dbt or Python generated: dbt's target folders (``target``, and the ``target-gw0``, ...
    of test workers, where dbt also compiles folders named like files: ``compiled/.../dbt_project.yml/``), its logs
    and packages, and bytecode caches are left out."""
    generated = any(part in {"target", "logs", "dbt_packages", "__pycache__"} or part.startswith("target-")
                    for part in path.relative_to(ROOT).parts)
    return path.suffix in {".py", ".sql", ".yml", ".yaml", ".csv"} and not generated and path.is_file()


def source_streams() -> tuple[dict, dict]:
    """Declared streams per source that import, and the import error of those that do not."""
    import importlib

    streams, broken = {}, {}
    for source in SOURCES:
        try:
            streams[source] = importlib.import_module(f"connectors.{source}.streams").STREAMS
        except Exception as exc:  # noqa: BLE001  (a source being finished elsewhere may not import yet)
            broken[source] = f"{type(exc).__name__}: {exc}"
    return streams, broken


# --- statistics -------------------------------------------------------------------------------------------


def _valid_values(samples: list[dict], path: tuple[str, ...]) -> list[float]:
    """The numbers at `path` in the valid samples that have one."""
    values = []
    for sample in samples:
        if not sample.get("valid"):
            continue
        value = sample
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, (int, float)):
            values.append(value)
    return values


def median_of(samples: list[dict], path: tuple[str, ...]) -> float | None:
    """Median of the value at `path` over valid samples that have it."""
    values = _valid_values(samples, path)
    return round(statistics.median(values), 3) if values else None


def range_of(samples: list[dict], path: tuple[str, ...]) -> list[float] | None:
    """[lowest, highest] of the value at `path` over valid samples, or None with fewer than two: the spread a
    median hides (on a shared 2-core machine the same night varies by 10-20%)."""
    values = _valid_values(samples, path)
    return [round(min(values), 3), round(max(values), 3)] if len(values) > 1 else None


def stage_times(steps: dict[str, float]) -> dict[str, float]:
    """Group the job's step timings into stages: ``sync:<source>``, ``dbt_build``, ``checks``, ``publish``."""
    stages: dict[str, float] = {}
    for key, seconds in steps.items():
        if key.endswith("_raw"):
            stage = f"sync:{key[:-4]}"
        elif key.startswith("dbt"):
            stage = "dbt_build"
        elif "published_snapshot" in key:
            stage = "publish"
        elif key.startswith("gx_") or key.endswith(("_suite", "_health")) or "check" in key:
            stage = "checks"
        else:
            stage = "other"
        stages[stage] = stages.get(stage, 0.0) + seconds
    stages["sync:all"] = sum(v for k, v in stages.items() if k.startswith("sync:"))
    return {k: round(v, 3) for k, v in stages.items()}


# --- the three parts ----------------------------------------------------------------------------------------


def measure_extract(sandbox, plan: list[dict], stats: dict, keys: dict, repeats: dict[str, int], work: Path,
                    memory_limit_mb: float | None) -> dict:
    """Each tool over the comparison set, ``repeats[tool]`` times in rotating order (after one warm-up)."""
    tables = sorted({f"raw_{e['source']}.{e['stream']}" for e in plan})
    expected = checks.expected_rows(tables, stats)
    comparison_keys = {table: keys[table] for table in tables if table in keys}
    tools = tuple(repeats)
    samples: dict[str, list[dict]] = {tool: [] for tool in tools}
    log("extract: warm-up pass of the floor (builds the sandbox's page caches; not counted)")
    warmup = run_worker({"task": "extract", "tool": "floor", "url": sandbox.url, "work": str(work / "warmup"),
                         "plan": plan}, work / "warmup", sandbox.process.pid)
    for repeat in range(max(repeats.values())):
        order = tools[repeat % len(tools):] + tools[:repeat % len(tools)]
        for tool in (t for t in order if repeat < repeats[t]):
            folder = work / f"{tool}-{repeat}"
            sample = run_worker({"task": "extract", "tool": tool, "url": sandbox.url, "work": str(folder),
                                 "plan": plan}, folder, sandbox.process.pid, memory_limit_mb=memory_limit_mb)
            sample["repeat"] = repeat
            _gate_extract(sample, tool, expected, comparison_keys, tables)
            samples[tool].append(sample)
            log(f"extract {tool} #{repeat + 1}: " + (
                f"{sample['total_rows']:,} rows in {sample['total_seconds']:.1f}s "
                f"({sample['rows_per_second']:,.0f} rows/s), peak {sample.get('peak_rss_mb')} MB"
                if sample["valid"] else f"FAILED: {sample['problems'][:3]}"))
            shutil.rmtree(folder, ignore_errors=True)
    result = {"rows_expected": sum(e.rows for e in expected.values()), "tables": tables, "tools": {},
              "warmup_seconds": round(sum(warmup.get("seconds", {}).values()), 3) if "seconds" in warmup else None}
    for tool, tool_samples in samples.items():
        result["tools"][tool] = {
            "valid_samples": sum(1 for s in tool_samples if s["valid"]),
            "median": {
                "seconds": median_of(tool_samples, ("total_seconds",)),
                "rows_per_second": median_of(tool_samples, ("rows_per_second",)),
                "seconds_salesforce": median_of(tool_samples, ("seconds", "salesforce")),
                "seconds_hubspot": median_of(tool_samples, ("seconds", "hubspot")),
                "peak_rss_mb": median_of(tool_samples, ("peak_rss_mb",)),
                "tree_peak_rss_mb": median_of(tool_samples, ("tree_peak_rss_mb",)),
                "worker_cpu_seconds": median_of(tool_samples, ("worker_cpu_seconds",)),
                "sandbox_cpu_seconds": median_of(tool_samples, ("sandbox_cpu_seconds",)),
                "requests": median_of(tool_samples, ("requests",)),
            },
            "range": {"seconds": range_of(tool_samples, ("total_seconds",))},
            "samples": tool_samples,
        }
    rates = {tool: result["tools"].get(tool, {}).get("median", {}).get("rows_per_second") for tool in TOOLS}
    result["ours_vs_floor"] = _ratio(rates["ours"], rates["floor"])
    result["ours_vs_peer"] = _ratio(rates["ours"], rates["peer"])
    return result


def _gate_extract(sample: dict, tool: str, expected: dict, keys: dict, tables: list[str]) -> None:
    if "error" in sample:
        sample.update(valid=False, problems=[sample["error"]])
        return
    if "rows" in sample and not sample.get("warehouse"):  # the floor stores nothing: compare what it counted
        counts = {}
        for stream, rows in sample["rows"].items():
            table = next(t for t in tables if t.split(".", 1)[1] == stream)
            counts[table] = rows
        problems = checks.count_problems(counts, expected)
    else:
        problems, counts = checks.warehouse_problems(Path(sample["warehouse"]), {}, keys)
        problems += checks.count_problems(counts, expected)
        sample["rows"] = counts
    sample["total_rows"] = sum(counts.get(t, 0) for t in tables)
    sample["total_seconds"] = round(sum(sample["seconds"].values()), 3)
    seconds = sample["total_seconds"]
    sample["rows_per_second"] = round(sample["total_rows"] / seconds, 1) if seconds else 0
    sample["problems"] = problems
    sample["valid"] = not problems


def run_night(sandbox, folder: Path, stats: dict, keys: dict, grains: dict, after_first_load: bool,
              simulated_now: str | None = None, memory_limit_mb: float | None = None) -> dict:
    """One nightly job in a worker on the warehouse in `folder`, then the gates."""
    sample = run_worker({"task": "night", "url": sandbox.url, "warehouse_dir": str(folder),
                         "simulated_now": simulated_now}, folder / "_worker", sandbox.process.pid,
                        memory_limit_mb=memory_limit_mb)
    if "error" in sample:
        sample.update(valid=False, problems=[sample["error"]])
        return sample
    problems = []
    if not sample["success"]:
        problems.append(f"the run failed (steps {sample['failed_steps']})")
    if not sample["published"]:
        problems.append("the snapshot was not published")
    problems += [f"check failed: {c['asset']} {c['check']} ({c['severity']}): {c.get('description')}"
                 for c in sample["checks"] if not c["passed"] and c["severity"] == "ERROR"]
    if not sample["success"]:
        problems.append("log tail: " + (folder / "_worker" / "worker.log").read_text(errors="replace")[-1500:])
    gate_problems, counts = checks.warehouse_problems(folder / "warehouse.duckdb", stats, keys, after_first_load,
                                                      grains, folder / "analytics.duckdb")
    problems += gate_problems
    sample["warnings"] = [f"{c['asset']} {c['check']}" for c in sample["checks"] if not c["passed"]
                          and c["severity"] != "ERROR"]
    sample["raw_rows"] = counts
    sample["rows_loaded_total"] = sum(sample["rows_loaded"].values())
    sample["stages"] = stage_times(sample["steps"])
    sample["problems"] = problems
    sample["valid"] = not problems
    return sample


def _night_summary(samples: list[dict]) -> dict:
    stages = sorted({stage for s in samples for stage in s.get("stages", {})})
    return {
        "valid_samples": sum(1 for s in samples if s["valid"]),
        "median": {
            "end_to_end_seconds": median_of(samples, ("wall_seconds",)),
            "stages": {stage: median_of(samples, ("stages", stage)) for stage in stages},
            "rows_loaded": median_of(samples, ("rows_loaded_total",)),
            "peak_rss_mb": median_of(samples, ("peak_rss_mb",)),
            "peak_child_rss_mb": median_of(samples, ("peak_child_rss_mb",)),
            "tree_peak_rss_mb": median_of(samples, ("tree_peak_rss_mb",)),
            "sandbox_peak_rss_mb": median_of(samples, ("sandbox_peak_rss_mb",)),
            "worker_cpu_seconds": median_of(samples, ("worker_cpu_seconds",)),
        },
        "range": {
            "end_to_end_seconds": range_of(samples, ("wall_seconds",)),
            "stages": {stage: range_of(samples, ("stages", stage)) for stage in stages},
        },
        "samples": samples,
    }


def _log_night(label: str, sample: dict) -> None:
    if sample["valid"]:
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in sample["stages"].items())
        highest = sorted((sample.get("step_peak_rss_mb") or {}).items(), key=lambda item: -item[1])[:3]
        log(f"{label}: {sample['wall_seconds']:.1f}s end to end ({stages}); peak {sample['peak_rss_mb']} MB "
            f"(highest steps: {', '.join(f'{step} {mb:.0f} MB' for step, mb in highest) or '-'}), "
            f"dbt {sample['peak_child_rss_mb']} MB")
    else:
        log(f"{label}: FAILED: {sample['problems'][:3]}")


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


# --- one scale ------------------------------------------------------------------------------------------


def measure_scale(scale: str, parts: set[str], repeats: dict[str, int], night_repeats: int,
                  rates: tuple[float, ...], seed: int, work: Path, memory_limit_mb: float | None = None,
                  limits: str = "lifted") -> dict:
    """Everything `parts` asks for at one scale, from a sandbox with `limits` (:mod:`benchmarks.sandbox_limits`)."""
    from sandbox.launcher import running_sandbox

    streams, broken = source_streams()
    keys = checks.raw_keys_from_streams(streams)
    grains = checks.mart_grains(MARTS_YML)
    section: dict = {"sources_not_importable": broken}
    base: Path | None = None
    started = time.perf_counter()
    log(f"scale {scale}: starting the sandbox (seed {seed})")
    with running_sandbox(scale=scale, seed=seed, startup_timeout=3600, **sandbox_limits.CHOICES[limits]) as sandbox:
        startup = time.perf_counter() - started
        stats = sandbox.stats()["records"]
        section["sandbox"] = {"startup_seconds": round(startup, 1), "records": stats,
                              "crm_records": sum(v for k, v in stats.items()
                                                 if k.startswith(("salesforce/", "hubspot/")))}
        log(f"scale {scale}: sandbox up in {startup:.0f}s, {section['sandbox']['crm_records']:,} CRM records")
        if "extract" in parts:
            from benchmarks.extract import plan

            section["extract"] = measure_extract(sandbox, plan(sandbox.url), stats, keys, repeats, work / "extract",
                                                 memory_limit_mb)
        if parts & {"night", "incremental"}:
            samples = []
            for repeat in range(night_repeats):
                folder = work / f"night-{repeat}"
                sample = run_night(sandbox, folder, stats, keys, grains, after_first_load=False,
                                   memory_limit_mb=memory_limit_mb)
                sample["repeat"] = repeat
                samples.append(sample)
                _log_night(f"full night #{repeat + 1}", sample)
                if sample["valid"] and base is None:
                    base = folder
                else:
                    shutil.rmtree(folder, ignore_errors=True)
            section["night"] = _night_summary(samples)
        section["sandbox"]["peak_rss_mb"] = round(hwm_mb(sandbox.process.pid), 1)
    if "incremental" in parts:
        section["incremental"] = {}
        if base is None:
            section["incremental"]["error"] = "no valid full night to start from"
        for rate in rates if base is not None else ():
            section["incremental"][str(rate)] = measure_incremental(scale, seed, rate, stats, base, keys, grains,
                                                                    night_repeats, work, memory_limit_mb, limits)
        full = (section.get("night") or {}).get("median", {}).get("end_to_end_seconds")
        for result in section["incremental"].values():
            if isinstance(result, dict) and "median" in result:
                result["share_of_full_night"] = _ratio(result["median"]["end_to_end_seconds"], full)
    if base is not None:
        shutil.rmtree(base, ignore_errors=True)
    return section


def measure_incremental(scale: str, seed: int, rate: float, stats_day0: dict, base: Path, keys: dict,
                        grains: dict, repeats: int, work: Path, memory_limit_mb: float | None = None,
                        limits: str = "lifted") -> dict:
    """A fresh sandbox advanced one day at `rate`, and the nightly job on copies of the full night's warehouse."""
    from sandbox.launcher import running_sandbox

    with running_sandbox(scale=scale, seed=seed, startup_timeout=3600, **sandbox_limits.CHOICES[limits]) as sandbox:
        if sandbox.stats()["records"] != stats_day0:
            return {"error": "the restarted sandbox does not serve the same day-0 data", "samples": []}
        started = time.perf_counter()
        advanced = sandbox.advance(days=1, change_rate=rate)
        advance_seconds = time.perf_counter() - started
        changes = advanced.get("changes", advanced)
        # The night after the simulated day runs at 02:00 (the schedule), three hours after the 23:00 clock.
        simulated_now = (datetime.fromisoformat(advanced["clock"]) + timedelta(hours=3)).isoformat()
        stats = sandbox.stats()["records"]
        samples = []
        for repeat in range(repeats):
            folder = work / f"incremental-{rate}-{repeat}"
            shutil.copytree(base, folder, symlinks=True, ignore=shutil.ignore_patterns("_worker"))
            sample = run_night(sandbox, folder, stats, keys, grains, after_first_load=True,
                               simulated_now=simulated_now, memory_limit_mb=memory_limit_mb)
            sample["repeat"] = repeat
            samples.append(sample)
            _log_night(f"incremental night r={rate} #{repeat + 1}", sample)
            shutil.rmtree(folder, ignore_errors=True)
    summary = _night_summary(samples)
    summary["changes"] = changes
    summary["advance_seconds"] = round(advance_seconds, 1)
    summary["simulated_now"] = simulated_now
    return summary


# --- the command ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="scale S only, 2 extraction repeats and 1 night per case: a few minutes")
    parser.add_argument("--scales", help="comma-separated scales (default S,M; --quick: S; L is optional, ~10x M)")
    parser.add_argument("--repeats", type=int, help="extraction samples per tool (default 3; --quick: 2)")
    parser.add_argument("--tools", default=",".join(TOOLS + EXTRA_TOOLS),
                        help="extraction tools, optionally with their own repeats: floor,ours,peer=1,...")
    parser.add_argument("--memory-limit-mb", type=float, default=8192,
                        help="stop a sample whose processes (worker and children, not the sandbox) pass this much "
                             "memory: a guard for shared machines; the sample is reported as failed")
    parser.add_argument("--night-repeats", type=int, help="samples per full and incremental night (default 3; "
                                                          "--quick: 1)")
    parser.add_argument("--only", help="comma-separated parts: extract,night,incremental (default: all)")
    parser.add_argument("--rates", default=",".join(map(str, RATES)), help="incremental change rates")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--hubspot-limits", choices=sorted(sandbox_limits.CHOICES), default="lifted",
                        help="HubSpot's rate limits in the sandbox the nights read (default lifted: the pipeline's "
                             "own cost; real: the Professional tier's 190 requests per 10 s); see "
                             "benchmarks/sandbox_limits.py")
    parser.add_argument("--fresh", action="store_true",
                        help="start latest.json afresh instead of replacing only the sections measured now")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.scales = [s.strip().upper() for s in (args.scales or ("S" if args.quick else "S,M")).split(",")]
    args.repeats = args.repeats or (2 if args.quick else 3)
    args.night_repeats = args.night_repeats or (1 if args.quick else 3)
    tools = {}
    for item in args.tools.split(","):
        name, _, count = item.strip().partition("=")
        if name not in TOOLS + EXTRA_TOOLS:
            parser.error(f"unknown tool {name!r}")
        tools[name] = int(count) if count else (1 if args.quick and name in EXTRA_TOOLS else args.repeats)
    args.tool_repeats = tools
    args.parts = set((args.only or "extract,night,incremental").split(","))
    unknown = args.parts - {"extract", "night", "incremental"}
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if "extract" in args.parts and args.hubspot_limits != "lifted":
        parser.error("the extraction compares tools that send the same requests unpaced: measure it with HubSpot's "
                     "limits lifted (--only night,incremental with --hubspot-limits real)")
    args.rates = tuple(float(r) for r in args.rates.split(","))
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the results; exit 1 if any sample failed its correctness gates."""
    from benchmarks import report

    args = parse_args(argv)
    for key, value in {"DO_NOT_TRACK": "1", "RUNTIME__DLTHUB_TELEMETRY": "false", "GX_ANALYTICS_ENABLED": "false",
                       "RUNTIME__LOG_LEVEL": "ERROR"}.items():
        os.environ.setdefault(key, value)
    run = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
           "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
           "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    if args.parts & {"night", "incremental"}:
        log("parsing the dbt project (once, not timed)")
        from pipelines.local import prepare_dbt_manifest

        prepare_dbt_manifest()
    work = Path(tempfile.mkdtemp(prefix="cg-bench-"))
    measured: dict[str, dict] = {}
    try:
        for scale in args.scales:
            section = measure_scale(scale, args.parts, args.tool_repeats, args.night_repeats, args.rates, args.seed,
                                    work / scale, args.memory_limit_mb, args.hubspot_limits)
            section["run"] = run
            measured[scale] = section
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = report.merge(args.results / "latest.json", measured, fresh=args.fresh,
                           header={"machine": machine(), "versions": versions(), "git": git_state()})
    report.write_all(results, args.results, readme=args.results == RESULTS)
    failed = report.failed_samples(measured)
    print(report.markdown(results))
    if failed:
        log(f"{failed} samples failed their correctness gates (see latest.json)")
    return 1 if failed else 0
