"""The Dagster code location: every module under `pipelines/defs` contributes its definitions."""

import dagster as dg

import pipelines.defs


@dg.definitions
def defs() -> dg.Definitions:
    """All assets, checks, resources, jobs and schedules of Common Ground."""
    return dg.components.load_defs(pipelines.defs)
