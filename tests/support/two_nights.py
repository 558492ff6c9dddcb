"""Two nights of the scale-S sandbox through the whole dbt project, built once and kept as closed DuckDB snapshots.

Night 1: every raw table (CRM and ad platforms) loaded from the sandbox by the Dagster raw assets, then the whole
project's `dbt build`. The sandbox then advances a day with changes (platforms restate past days too), night 2 is
loaded on top and built again, incrementally. Each night's warehouse is copied aside once its build has closed it,
with the dbt semantic manifest of that build. Modules that read these nights copy the snapshots
(:meth:`TwoNights.copy`) and work on their copies, so none can change what another reads.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sandbox.launcher import HUBSPOT_LIMITS_LIFTED, RunningSandbox, running_sandbox
from tests.transform_ads.support import dbt, load_all_raw

SCALE, SEED = "S", 7
ADVANCE_DAYS, CHANGE_RATE = 1, 0.02
NIGHTS = ("first", "second")


@dataclass(frozen=True)
class TwoNights:
    """The snapshots of the two nights and what the live sandbox said between them."""

    folder: Path
    #: The sandbox's answer to the advance between the nights (its clock and the changes per object).
    advance_summary: dict

    def warehouse(self, night: str) -> Path:
        """The snapshot of `night` ("first" or "second"): read it only through a copy (:meth:`copy`)."""
        if night not in NIGHTS:
            raise ValueError(f"night must be one of {NIGHTS}, not {night!r}")
        return self.folder / night / "warehouse.duckdb"

    def semantic_manifest(self, night: str) -> Path:
        """dbt's semantic_manifest.json of `night`'s build (the semantic layer the warehouse was built with)."""
        return self.warehouse(night).with_name("semantic_manifest.json")

    def copy(self, night: str, destination: Path) -> Path:
        """A private copy of `night`'s warehouse at `destination` (a file path, its folder created); returns it."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.warehouse(night), destination)
        return destination


def snapshot(warehouse: Path, work_dir: Path, destination: Path) -> None:
    """Copy the closed DuckDB file `warehouse` and the semantic manifest dbt left in `work_dir` into `destination`."""
    pending = Path(f"{warehouse}.wal")
    if pending.exists():  # a WAL means a connection is still open or was not checkpointed: the copy would lack it
        raise RuntimeError(f"cannot snapshot {warehouse}: {pending} exists (is a connection still open?)")
    destination.mkdir(parents=True)
    shutil.copyfile(warehouse, destination / "warehouse.duckdb")
    shutil.copyfile(work_dir / "target" / "semantic_manifest.json", destination / "semantic_manifest.json")


def timed_build(warehouse: Path, work_dir: Path) -> float:
    """The whole project's `dbt build` on `warehouse`; returns the seconds it took."""
    started = time.monotonic()
    dbt(warehouse, work_dir, ["build"])
    return time.monotonic() - started


def build_two_nights(folder: Path, point_at: Callable[[RunningSandbox], dict[str, str]]) -> TwoNights:
    """Run both nights under `folder` and return their snapshots.

    `point_at` sets the environment of an isolated warehouse pointed at a sandbox and returns it
    (:func:`tests.conftest.isolated_pipeline_env`); the caller undoes it.
    """
    work_dir = folder / "work"
    build_seconds = {}
    with running_sandbox(scale=SCALE, seed=SEED, **HUBSPOT_LIMITS_LIFTED) as sandbox:  # for the marts, not the sync
        environment = point_at(sandbox)
        warehouse = Path(environment["WAREHOUSE_DUCKDB_PATH"])
        load_all_raw(sandbox.url, environment)
        build_seconds["first"] = timed_build(warehouse, work_dir)
        snapshot(warehouse, work_dir, folder / "first")
        summary = sandbox.advance(days=ADVANCE_DAYS, change_rate=CHANGE_RATE)
        point_at(sandbox)  # the quality checks' clock follows the sandbox's
        load_all_raw(sandbox.url, environment)
        build_seconds["second"] = timed_build(warehouse, work_dir)
        snapshot(warehouse, work_dir, folder / "second")
    print(f"\nwhole project at scale {SCALE} with ad platforms: dbt build {build_seconds['first']:.1f}s first night, "
          f"{build_seconds['second']:.1f}s second night")
    return TwoNights(folder=folder, advance_summary=summary)
