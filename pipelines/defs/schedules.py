"""The nightly job over every asset, and its 02:00 schedule in the team's time zone."""

import os

import dagster as dg

from pipelines.lib.memory import release_freed_memory


@dg.success_hook(name="release_freed_memory")
def release_memory_after_step(context: dg.HookContext) -> None:
    """After each step: return the memory it freed, so the next step of the one-process night starts lean."""
    release_freed_memory()


nightly_sync = dg.define_asset_job(
    name="nightly_sync",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    hooks={release_memory_after_step},
    description="Sync every source, build and test the dbt models, run the quality checks, publish to BI.",
    tags={"common_ground/kind": "nightly"},
)

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_sync_schedule",
    job=nightly_sync,
    cron_schedule="0 2 * * *",
    execution_timezone=os.getenv("NIGHTLY_TIMEZONE", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Runs the nightly sync at 02:00 in NIGHTLY_TIMEZONE (default UTC).",
)


@dg.definitions
def defs() -> dg.Definitions:
    """The nightly job and schedule."""
    return dg.Definitions(jobs=[nightly_sync], schedules=[nightly_schedule])
