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

Per build: wall and CPU seconds and the slowest models and tests (dbt's run_results.json).

Prints the timings and writes them to benchmarks/results/transform_build_<label>.json (with --memory-limit 2GB:
transform_build_<label>_limit2GB.json).
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
from dataclasses import dataclass
from pathlib import Path

import duckdb

from benchmarks.measure import Sampler

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

#: How each replicated raw column changes per copy k: "id" appends _r<k>, "ids_json" does it inside a JSON array,
#: "ids_list" inside an "a;b" list, "domain" puts r<k>x before the host, "email" before the e-mail domain,
#: "name" prefixes R<k>. Columns not listed are copied as they are; tables not listed are not replicated.
REPLICATED = {
    "raw_salesforce.account": {"id": "id", "master_record_id": "id", "parent_id": "id", "website": "domain",
                               "name": "name"},
    "raw_salesforce.contact": {"id": "id", "master_record_id": "id", "account_id": "id", "email": "email"},
    "raw_salesforce.lead": {"id": "id", "master_record_id": "id", "converted_account_id": "id",
                            "converted_contact_id": "id", "converted_opportunity_id": "id", "email": "email",
                            "company": "name"},
    "raw_salesforce.opportunity": {"id": "id", "account_id": "id"},
    "raw_salesforce.opportunity_history": {"id": "id", "opportunity_id": "id"},
    "raw_salesforce.campaign_member": {"id": "id", "lead_id": "id", "contact_id": "id"},
    "raw_hubspot.companies": {"id": "id", "salesforceaccountid": "id", "hs_merged_object_ids": "ids_list",
                              "domain": "domain", "website": "domain", "name": "name"},
    "raw_hubspot.contacts": {"id": "id", "associatedcompanyid": "id", "salesforcecontactid": "id",
                             "salesforceleadid": "id", "hs_merged_object_ids": "ids_list",
                             "associated_companies_ids": "ids_json", "email": "email"},
    "raw_hubspot.deals": {"id": "id", "hs_merged_object_ids": "ids_list", "associated_companies_ids": "ids_json",
                          "associated_contacts_ids": "ids_json"},
    "raw_hubspot.email_events": {"id": "id", "recipient": "email"},
    "raw_hubspot.form_submissions": {"conversion_id": "id", "values": "email"},
}


def _replica_expression(column: str, kind: str | None, copy: int) -> str:
    quoted = f'"{column}"'
    if kind is None or copy == 0:
        return quoted
    if kind == "id":
        return f"{quoted} || '_r{copy}'"
    if kind == "ids_json":
        return f"""regexp_replace({quoted}, '"([^"]+)"', '"\\1_r{copy}"', 'g')"""
    if kind == "ids_list":
        return f"regexp_replace({quoted}, '([^;]+)', '\\1_r{copy}', 'g')"
    if kind == "domain":
        return f"regexp_replace({quoted}, '^([A-Za-z]+://)?([Ww][Ww][Ww][0-9]*[.])?', '\\1\\2r{copy}x')"
    if kind == "email":
        return f"replace({quoted}, '@', '@r{copy}x')"
    if kind == "name":
        return f"'R{copy} ' || {quoted}"
    raise ValueError(kind)


def replicate(source: Path, target: Path, factor: int) -> dict[str, int]:
    """Copy the CRM raw tables of `source` into `target` `factor` times; returns rows per table."""
    shutil.copyfile(source, target)
    with duckdb.connect(str(target)) as connection:
        return _replicate_in_place(connection, factor)


def _replicate_in_place(connection: duckdb.DuckDBPyConnection, factor: int) -> dict[str, int]:
    """Append `factor` - 1 copies of each CRM raw table to itself (see REPLICATED); returns rows per table."""
    counts = {}
    for table, kinds in REPLICATED.items():
        columns = [row[0] for row in connection.execute(f"describe {table}").fetchall()]
        connection.execute(f"create temp table original as select * from {table}")
        for copy in range(1, factor):
            select = ", ".join(_replica_expression(column, kinds.get(column), copy) for column in columns)
            connection.execute(f"insert into {table} select {select} from original")
        connection.execute("drop table original")
        counts[table] = connection.execute(f"select count(*) from {table}").fetchone()[0]
    return counts


def replace_raw(source: Path, target: Path, factor: int) -> dict[str, int]:
    """Replace every raw table of `target` (schemas raw*) with those of `source`, the CRM ones replicated
    `factor` times as `replicate` does; the transformed tables of `target` stay. Returns rows per table."""
    with duckdb.connect(str(target)) as connection:
        connection.execute(f"attach '{source}' as source_warehouse (read_only)")
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = 'source_warehouse' and schema_name like 'raw%'").fetchall()
        for schema, table in tables:
            connection.execute(f'create schema if not exists "{schema}"')
            connection.execute(f'create or replace table "{schema}"."{table}" as '
                               f'select * from source_warehouse."{schema}"."{table}"')
        connection.execute("detach source_warehouse")
        return _replicate_in_place(connection, factor)


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


def load_from_sandbox(scale: str, seed: int, folder: Path) -> Path:
    """Serve the sandbox at `scale` and load its CRM raw tables into a fresh warehouse under `folder`."""
    from benchmarks.sandbox_limits import LIFTED
    from pipelines.local import local_environment, prepare_dbt_manifest
    from sandbox.launcher import running_sandbox

    environment = local_environment(folder)
    os.environ.update(environment)
    prepare_dbt_manifest()
    with running_sandbox(scale=scale, seed=seed, startup_timeout=1800, **LIFTED) as sandbox:
        sync_crm(sandbox.url)
    return Path(environment["WAREHOUSE_DUCKDB_PATH"])


#: The CRM marts of issue 6; the benchmark builds them and everything upstream (with their tests).
CRM_MARTS = ("accounts", "account_source_records", "prospects", "prospect_source_records", "opportunities",
             "opportunity_stage_history", "pipeline_daily", "touchpoints", "campaigns")


def slowest_nodes(work: Path, count: int = 12) -> list[list]:
    """[[seconds, node], ...]: the slowest models and tests of the last dbt run in `work` (run_results.json)."""
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    ranked = sorted(results, key=lambda result: result["execution_time"], reverse=True)[:count]
    return [[round(result["execution_time"], 1), result["unique_id"].split(".", 1)[1]] for result in ranked]


def time_publish(warehouse: Path, analytics: Path) -> dict:
    """Publish the marts of `warehouse` to `analytics` as the nightly job does: the seconds, and how each table
    got there (copied, replayed, kept; pipelines/lib/publish_plan.py)."""
    from pipelines.lib.publish import publish_duckdb

    started = time.monotonic()
    publication = publish_duckdb(warehouse, analytics, keep_snapshots=0)
    return {"seconds": round(time.monotonic() - started, 1),
            "tables": {table: method.split(":")[0] for table, method in publication.methods.items()}}


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


def time_dbt_build(warehouse: Path, work: Path, everything: bool = False) -> BuildTiming:
    """One `dbt build` of the CRM marts (or of the whole project) against `warehouse`. CPU time is the robust
    number on a shared machine: wall time grows with other load. dbt's memory is sampled while it runs (its
    ``ru_maxrss`` would start at this process's, which holds the replicas' counts and the sandbox client).

    The project is parsed first, untimed, into the build's target folder: the nightly job's builds start from the
    parse made when its definitions load (pipelines/local.py, prepare_dbt_manifest), so they only check it."""
    from pipelines.defs.transform.project import DBT_EXECUTABLE, DBT_PROJECT_DIR

    env = {**os.environ, "WAREHOUSE_DUCKDB_PATH": str(warehouse), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
           "WAREHOUSE_TARGET": "duckdb", "DO_NOT_TRACK": "1"}
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


def _mart_rows(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return {name: connection.execute(f"select count(*) from marts.{name}").fetchone()[0]
                for (name,) in connection.execute(
                    "select table_name from duckdb_tables() where schema_name = 'marts' order by 1").fetchall()}


def _raw_rows(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return {table: connection.execute(f"select count(*) from {table}").fetchone()[0] for table in REPLICATED}


def _incremental_night(args: argparse.Namespace, work: Path) -> dict:
    """Full build, sandbox advance, sync, incremental build (see --incremental); the result's timings."""
    from benchmarks.sandbox_limits import LIFTED
    from pipelines.local import local_environment, prepare_dbt_manifest
    from sandbox.launcher import running_sandbox

    environment = local_environment(work / "loaded")
    os.environ.update(environment)
    prepare_dbt_manifest()
    loaded = Path(environment["WAREHOUSE_DUCKDB_PATH"])
    warehouse = work / "warehouse.duckdb" if args.factor > 1 else loaded
    timings = {}
    with running_sandbox(scale=args.scale, seed=args.seed, startup_timeout=1800, **LIFTED) as sandbox:
        sync_crm(sandbox.url)
        counts = replicate(loaded, warehouse, args.factor) if args.factor > 1 else _raw_rows(warehouse)
        if args.keep:
            shutil.copy(warehouse, work / "raw_before.duckdb")
        timings["full"] = time_dbt_build(warehouse, work / "full", args.all)
        timings["full_slowest"] = slowest_nodes(work / "full")
        timings["publish_full"] = time_publish(warehouse, work / "analytics.duckdb")
        if args.keep:
            shutil.copy(warehouse, work / "built_before.duckdb")
        advanced = sandbox.advance(days=1, change_rate=args.change_rate)
        sync_crm(sandbox.url)
    if args.factor > 1:
        replace_raw(loaded, warehouse, args.factor)
    if args.keep:
        shutil.copy(warehouse, work / "synced_before_incremental.duckdb")
    timings["incremental"] = time_dbt_build(warehouse, work / "incremental", args.all)
    timings["incremental_slowest"] = slowest_nodes(work / "incremental")
    timings["publish_incremental"] = time_publish(warehouse, work / "analytics.duckdb")
    timings["unchanged"] = time_dbt_build(warehouse, work / "unchanged", args.all)
    timings["unchanged_slowest"] = slowest_nodes(work / "unchanged")
    return {"raw_rows": counts, "advanced": advanced.get("changes", advanced), "timings": timings,
            "mart_rows": _mart_rows(warehouse)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.transform_build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["S", "M", "L"], help="load the sandbox at this scale")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--replicate-from", type=Path, help="a warehouse with CRM raw tables already loaded")
    parser.add_argument("--factor", type=int, help="copies of the CRM raw tables (default 50 with --replicate-from,"
                                                    " else 1)")
    parser.add_argument("--all", action="store_true", help="build the whole dbt project, not only the CRM marts")
    parser.add_argument("--incremental", action="store_true",
                        help="with --scale: after the full build, advance the sandbox a day, sync and time the "
                             "incremental build")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder (with --incremental: raw_before.duckdb, built_before.duckdb and "
                             "synced_before_incremental.duckdb, the warehouse before the full build, after it and "
                             "after the next day's sync) and print its path")
    parser.add_argument("--change-rate", type=float, default=0.01, help="share of records the advance changes")
    parser.add_argument("--memory-limit", help="DuckDB's memory limit for dbt (WAREHOUSE_DUCKDB_MEMORY_LIMIT), e.g. "
                                               "2GB; the result file's name says it")
    args = parser.parse_args(argv)
    if not args.scale and not args.replicate_from:
        parser.error("give --scale or --replicate-from")
    if args.incremental and not args.scale:
        parser.error("--incremental needs --scale (the sandbox advances a day)")
    args.factor = args.factor or (50 if args.replicate_from and not args.scale else 1)

    if args.memory_limit:
        os.environ["WAREHOUSE_DUCKDB_MEMORY_LIMIT"] = args.memory_limit
    limit = os.environ.get("WAREHOUSE_DUCKDB_MEMORY_LIMIT")
    suffix = f"_limit{limit.replace(' ', '').replace('%', 'pct')}" if limit else ""
    common = {"cpus": os.cpu_count(), "duckdb_memory_limit": limit or "DuckDB's default (80% of RAM)"}
    work = Path(tempfile.mkdtemp(prefix="cg-transform-bench-"))
    selection = "all" if args.all else "crm_marts"
    try:
        if args.incremental:
            label = f"sandbox_{args.scale}" + (f"_x{args.factor}" if args.factor > 1 else "") + "_incremental"
            night = _incremental_night(args, work)
            full, incremental, unchanged = (night["timings"][build] for build in ("full", "incremental", "unchanged"))
            result = {"label": label, "selection": selection, **common, "change_rate": args.change_rate,
                      **full.fields("dbt_build"), **incremental.fields("incremental_build"),
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
        else:
            if args.scale:
                label = f"sandbox_{args.scale}"
                loaded = load_from_sandbox(args.scale, args.seed, work / "loaded")
                if args.factor > 1:
                    label += f"_x{args.factor}"
                    warehouse = work / "warehouse.duckdb"
                    counts = replicate(loaded, warehouse, args.factor)
                else:
                    warehouse, counts = loaded, _raw_rows(loaded)
            else:
                label = f"replica_x{args.factor}"
                warehouse = work / "warehouse.duckdb"
                counts = replicate(args.replicate_from, warehouse, args.factor)
            first = time_dbt_build(warehouse, work / "first", args.all)
            first_slowest = slowest_nodes(work / "first")
            second = time_dbt_build(warehouse, work / "second", args.all)
            result = {"label": label, "selection": selection, **common, **first.fields("dbt_build"),
                      **second.fields("dbt_rebuild"),
                      "full_slowest": first_slowest, "raw_rows": counts, "mart_rows": _mart_rows(warehouse)}
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    result["load_average"] = [round(value, 2) for value in os.getloadavg()]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"transform_build_{label}{suffix}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
