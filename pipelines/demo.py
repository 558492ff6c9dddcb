"""``python -m pipelines.demo``: start the sandbox, run the nightly job end to end, print what happened."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from pipelines.local import PROJECT_ROOT, local_environment, prepare_dagster_home, prepare_dbt_manifest


def main(argv: list[str] | None = None) -> int:
    """Run one night against a fresh sandbox on DuckDB and print the report; exit 1 if the run failed."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.demo", description=__doc__)
    parser.add_argument("--scale", default="S", choices=["S", "M", "L"])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    from sandbox.launcher import connector_env, running_sandbox

    os.environ.update(local_environment())
    prepare_dagster_home(Path(os.environ["DAGSTER_HOME"]))
    started = time.monotonic()
    print(f"Starting the sandbox (scale {args.scale}, seed {args.seed}) ...", flush=True)
    with running_sandbox(scale=args.scale, seed=args.seed) as sandbox:
        print(f"Sandbox serving the source APIs at {sandbox.url}", flush=True)
        os.environ.update(connector_env(sandbox.url))
        prepare_dbt_manifest()
        result = run_nightly_job()
    print(render_report(result, time.monotonic() - started))
    return 0 if result.success else 1


def run_nightly_job():
    """Execute `nightly_sync` in this process on the persistent instance, so `make ui` shows the run."""
    import dagster as dg

    from pipelines.definitions import defs

    job = defs().get_job_def("nightly_sync")
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)


def render_report(result, seconds: float) -> str:
    """The demo's closing report: raw rows, models built, checks, and the published snapshot."""
    from pipelines.lib.report import nightly_report

    return nightly_report(result, seconds, relative_to=PROJECT_ROOT)


if __name__ == "__main__":
    sys.exit(main())
