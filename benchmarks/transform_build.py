"""Benchmark: `dbt build` of the CRM transform (staging, identity resolution, marts, tests) at a sandbox scale.

    python -m benchmarks.transform_build --scale S
        start the sandbox at scale S, load the Salesforce and HubSpot raw tables with the Dagster raw assets,
        then time `dbt build` (twice: the second run is a warm rebuild of the same raw data).
    python -m benchmarks.transform_build --replicate-from WAREHOUSE --factor 50
        M-sized without serving M over HTTP: copy the CRM raw tables of an already loaded warehouse FACTOR times,
        every copy with its own ids, domains, e-mail domains and company names (so the copies are different
        companies and people with the same duplicate structure), then time `dbt build`. Scale S x 50 is about
        scale M's record counts (165k company records, 1.1M person records, 375k deals, 950k history rows).
    python -m benchmarks.transform_build --scale S --factor 50 --incremental --all
        the nightly case: load the sandbox at S (replicated x50 when --factor is given), time the full
        `dbt build`, advance the sandbox one day with --change-rate (default 0.01) of the records changed, sync
        again (the replicas are made again from the new raw tables, so every copy sees the same 1% change),
        then time the incremental `dbt build` and the ratio incremental / full. The marts are published after
        each build, as the nightly job does, and timed too: the second publish takes only what dbt rebuilt.
        Last, one more build with nothing changed: the floor of an incremental build (finding that nothing
        changed, the models rebuilt whole, the tests, dbt's own cost per node), which no change set goes below.

    python -m benchmarks.transform_build --scale S --warehouse postgres [--incremental] [--postgres-url URL]
        the same on PostgreSQL: in a new database on the server at URL (its user may create databases), or on a
        throwaway server on loopback started for the run (initdb and pg_ctl on the PATH; JIT and fsync off).

Per build: wall and CPU seconds (dbt's own: a PostgreSQL server's work shows in the wall time only) and the slowest
models and tests (dbt's run_results.json); on PostgreSQL, the server's version and settings.

Prints the timings and writes them to benchmarks/results/transform_build_<label>.json (e.g.
transform_build_sandbox_S_incremental_postgres.json; with --memory-limit 2GB: transform_build_<label>_limit2GB.json).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.build_targets import BuildTarget, DuckDBTarget, postgres_target
from benchmarks.measure import Sampler

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"


def sync_crm(url: str) -> None:
    """Load the CRM raw tables from the sandbox at `url` with the Dagster raw assets (environment already set)."""
    import dagster as dg

    from pipelines.definitions import defs
    from sandbox.launcher import connector_env

    os.environ.update(connector_env(url))
    definitions = defs()
    crm = (["raw", "salesforce"], ["raw", "hubspot"])
    keys = [key for key in definitions.resolve_all_asset_keys() if key.path[:2] in crm]
    with dg.DagsterInstance.ephemeral() as instance:
        result = definitions.resolve_job_def("nightly_sync").execute_in_process(
            instance=instance, asset_selection=keys, raise_on_error=True)
    assert result.success


def load_from_sandbox(scale: str, seed: int, target: BuildTarget) -> dict[str, int]:
    """Serve the sandbox at `scale`, load its CRM raw tables into `target` (a benchmarks.build_targets target) and
    prepare the build's raw tables; rows per replicated table."""
    from benchmarks.sandbox_limits import LIFTED
    from sandbox.launcher import running_sandbox

    _use_warehouse(target)
    with running_sandbox(scale=scale, seed=seed, startup_timeout=1800, **LIFTED) as sandbox:
        sync_crm(sandbox.url)
    return target.prepare_raw()


def _use_warehouse(target: BuildTarget) -> None:
    """Point this process (the raw assets) at the loader's side of `target`, and parse the dbt project for it."""
    from pipelines.local import prepare_dbt_manifest

    os.environ.update(target.loader_environment)
    prepare_dbt_manifest()


#: The CRM marts of issue 6; the benchmark builds them and everything upstream (with their tests).
CRM_MARTS = ("accounts", "account_source_records", "prospects", "prospect_source_records", "opportunities",
             "opportunity_stage_history", "pipeline_daily", "touchpoints", "campaigns")


def slowest_nodes(work: Path, count: int = 12) -> list[list]:
    """[[seconds, node], ...]: the slowest models and tests of the last dbt run in `work` (run_results.json)."""
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    ranked = sorted(results, key=lambda result: result["execution_time"], reverse=True)[:count]
    return [[round(result["execution_time"], 1), result["unique_id"].split(".", 1)[1]] for result in ranked]


@dataclass(frozen=True)
class BuildTiming:
    """One `dbt build`: wall and CPU seconds, and dbt's peak resident memory."""

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float

    def fields(self, prefix: str) -> dict[str, float]:
        """The result file's fields for this build, e.g. ``dbt_build_seconds`` for prefix ``dbt_build``."""
        return {f"{prefix}_seconds": round(self.seconds, 1), f"{prefix}_cpu_seconds": round(self.cpu_seconds, 1),
                f"{prefix}_peak_rss_mb": round(self.peak_rss_mb)}


def time_dbt_build(target: BuildTarget, work: Path, everything: bool = False) -> BuildTiming:
    """One `dbt build` of the CRM marts (or of the whole project) in `target`'s warehouse. CPU time is the robust
    number on a shared machine: wall time grows with other load. It is dbt's own: a PostgreSQL server's work is
    not in it. dbt's memory is sampled while it runs (its ``ru_maxrss`` would start at this process's, which holds
    the replicas' counts and the sandbox client).

    The project is parsed first, untimed, into the build's target folder: the nightly job's builds start from the
    parse made when its definitions load (pipelines/local.py, prepare_dbt_manifest), so they only check it."""
    from pipelines.defs.transform.project import DBT_EXECUTABLE, DBT_PROJECT_DIR

    env = {**os.environ, **target.dbt_environment(), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR), "DO_NOT_TRACK": "1"}
    subprocess.run([DBT_EXECUTABLE, "parse", "--quiet", "--target-path", str(work / "target"), "--log-path",
                    str(work / "logs")], cwd=DBT_PROJECT_DIR, env=env, check=True)
    started, cpu_before = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    selection = [] if everything else [
        "--select", *(f"+{mart}" for mart in CRM_MARTS), "--indirect-selection", "cautious"]
    with open(work.parent / f"{work.name}.out", "w+") as output:
        process = subprocess.Popen([DBT_EXECUTABLE, "build", *selection, "--target-path", str(work / "target"),
                                    "--log-path", str(work / "logs")], cwd=DBT_PROJECT_DIR, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, text=True)
        sampler = Sampler(process.pid, None)
        sampler.start()
        try:
            returncode = process.wait()
        finally:
            sampler.stop()
        output.seek(0)
        printed = output.read()
    seconds = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    if returncode != 0:
        raise SystemExit(f"dbt build failed:\n{printed[-5000:]}")
    return BuildTiming(seconds, cpu, sampler.tree_peak_mb)


def _mart_rows(target: BuildTarget) -> dict[str, int]:
    tables = target.query("select table_name from information_schema.tables where table_schema = 'marts' "
                          "and table_type = 'BASE TABLE' order by 1")
    return {name: target.query(f"select count(*) from marts.{name}")[0][0] for (name,) in tables}


def _incremental_night(args: argparse.Namespace, target: BuildTarget) -> dict:
    """Full build, sandbox advance, sync, incremental build (see --incremental); the result's timings."""
    from benchmarks.sandbox_limits import LIFTED
    from sandbox.launcher import running_sandbox

    _use_warehouse(target)
    work = args.work
    timings = {}
    with running_sandbox(scale=args.scale, seed=args.seed, startup_timeout=1800, **LIFTED) as sandbox:
        sync_crm(sandbox.url)
        counts = target.prepare_raw()
        if args.keep:
            target.keep("raw_before")
        timings["full"] = time_dbt_build(target, work / "full", args.all)
        timings["full_slowest"] = slowest_nodes(work / "full")
        timings["publish_full"] = target.publish()
        if args.keep:
            target.keep("built_before")
        advanced = sandbox.advance(days=1, change_rate=args.change_rate)
        sync_crm(sandbox.url)
    target.prepare_raw()
    if args.keep:
        target.keep("synced_before_incremental")
    timings["incremental"] = time_dbt_build(target, work / "incremental", args.all)
    timings["incremental_slowest"] = slowest_nodes(work / "incremental")
    timings["publish_incremental"] = target.publish()
    timings["unchanged"] = time_dbt_build(target, work / "unchanged", args.all)
    timings["unchanged_slowest"] = slowest_nodes(work / "unchanged")
    return {"raw_rows": counts, "advanced": advanced.get("changes", advanced), "timings": timings,
            "mart_rows": _mart_rows(target)}


def _incremental_result(args: argparse.Namespace, target: BuildTarget) -> dict:
    night = _incremental_night(args, target)
    full, incremental, unchanged = (night["timings"][build] for build in ("full", "incremental", "unchanged"))
    return {"change_rate": args.change_rate, **full.fields("dbt_build"), **incremental.fields("incremental_build"),
            "incremental_share_of_full": round(incremental.seconds / full.seconds, 3),
            "incremental_cpu_share_of_full": round(incremental.cpu_seconds / full.cpu_seconds, 3),
            **unchanged.fields("unchanged_build"),
            "unchanged_share_of_full": round(unchanged.seconds / full.seconds, 3),
            "full_slowest": night["timings"]["full_slowest"],
            "incremental_slowest": night["timings"]["incremental_slowest"],
            "unchanged_slowest": night["timings"]["unchanged_slowest"],
            "publish_after_full": night["timings"]["publish_full"],
            "publish_after_incremental": night["timings"]["publish_incremental"],
            "advanced": night["advanced"], "raw_rows": night["raw_rows"], "mart_rows": night["mart_rows"]}


def _two_builds_result(args: argparse.Namespace, target: BuildTarget) -> dict:
    """A build of freshly loaded (or replicated) raw tables, then a warm rebuild of the same data."""
    counts = load_from_sandbox(args.scale, args.seed, target) if args.scale else target.prepare_raw()
    first = time_dbt_build(target, args.work / "first", args.all)
    first_slowest = slowest_nodes(args.work / "first")
    second = time_dbt_build(target, args.work / "second", args.all)
    return {**first.fields("dbt_build"), **second.fields("dbt_rebuild"), "full_slowest": first_slowest,
            "raw_rows": counts, "mart_rows": _mart_rows(target)}


@contextmanager
def _target(args: argparse.Namespace) -> Iterator[BuildTarget]:
    """The warehouse the run builds in (benchmarks.build_targets)."""
    if args.warehouse == "postgres":
        with postgres_target(args.postgres_url, args.factor, args.work, keep=args.keep) as target:
            yield target
    else:
        yield DuckDBTarget(args.work, args.factor, args.replicate_from)


def _label(args: argparse.Namespace) -> str:
    """The result file's label: source, scale, copies, incremental, warehouse and DuckDB memory limit."""
    label = f"sandbox_{args.scale}" if args.scale else "replica"
    label += f"_x{args.factor}" if args.factor > 1 else ""
    label += "_incremental" if args.incremental else ""
    label += "_postgres" if args.warehouse == "postgres" else ""
    limit = os.environ.get("WAREHOUSE_DUCKDB_MEMORY_LIMIT") if args.warehouse == "duckdb" else None
    return label + (f"_limit{limit.replace(' ', '').replace('%', 'pct')}" if limit else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.transform_build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["S", "M", "L"], help="load the sandbox at this scale")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--replicate-from", type=Path, help="a DuckDB warehouse with CRM raw tables already loaded")
    parser.add_argument("--factor", type=int, help="copies of the CRM raw tables (default 50 with --replicate-from,"
                                                    " else 1)")
    parser.add_argument("--warehouse", choices=["duckdb", "postgres"], default="duckdb",
                        help="where dbt builds (default duckdb)")
    parser.add_argument("--postgres-url", help="with --warehouse postgres: a server whose user may create databases "
                                               "(the run builds in a new one); default: a throwaway server on "
                                               "loopback")
    parser.add_argument("--all", action="store_true", help="build the whole dbt project, not only the CRM marts")
    parser.add_argument("--incremental", action="store_true",
                        help="with --scale: after the full build, advance the sandbox a day, sync and time the "
                             "incremental build")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder and print its path (with --incremental: the warehouse before "
                             "the full build, after it and after the next day's sync as raw_before, built_before "
                             "and synced_before_incremental: .duckdb files there, or databases <name>_raw_before, "
                             "... beside the run's kept PostgreSQL database)")
    parser.add_argument("--change-rate", type=float, default=0.01, help="share of records the advance changes")
    parser.add_argument("--memory-limit", help="DuckDB's memory limit for dbt (WAREHOUSE_DUCKDB_MEMORY_LIMIT), e.g. "
                                               "2GB; the result file's name says it")
    args = parser.parse_args(argv)
    if not args.scale and not args.replicate_from:
        parser.error("give --scale or --replicate-from")
    if args.incremental and not args.scale:
        parser.error("--incremental needs --scale (the sandbox advances a day)")
    if args.warehouse == "postgres" and (args.replicate_from or args.memory_limit):
        parser.error("--replicate-from and --memory-limit are DuckDB's: give --scale with --warehouse postgres")
    if args.postgres_url and args.warehouse != "postgres":
        parser.error("--postgres-url needs --warehouse postgres")
    if args.keep and args.warehouse == "postgres" and not args.postgres_url:
        parser.error("--keep with --warehouse postgres needs --postgres-url (a throwaway server keeps nothing)")
    args.factor = args.factor or (50 if args.replicate_from and not args.scale else 1)
    if args.memory_limit:
        os.environ["WAREHOUSE_DUCKDB_MEMORY_LIMIT"] = args.memory_limit

    args.work = Path(tempfile.mkdtemp(prefix="cg-transform-bench-"))
    label = _label(args)
    try:
        with _target(args) as target:
            result = {"label": label, "selection": "all" if args.all else "crm_marts", "cpus": os.cpu_count(),
                      **target.describe()}
            result.update(_incremental_result(args, target) if args.incremental else _two_builds_result(args, target))
    finally:
        if args.keep:
            print(f"work folder kept: {args.work}", file=sys.stderr)
        else:
            shutil.rmtree(args.work, ignore_errors=True)
    result["load_average"] = [round(value, 2) for value in os.getloadavg()]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"transform_build_{label}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
