"""The dbt project that turns raw tables into the shared marts, and the resource that runs its CLI."""

import importlib.metadata
import os
import shutil
import sys
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
# The dbt installed beside this Python, so an un-activated virtualenv still finds it.
_BESIDE_PYTHON = Path(sys.executable).parent / "dbt"
DBT_EXECUTABLE = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else (shutil.which("dbt") or "dbt")

# No fixed target: profiles.yml reads WAREHOUSE_TARGET when dbt runs, so one process can serve both warehouses.
# DBT_TARGET_PATH (dbt's own variable) moves the parse and the runs' folders, e.g. one per parallel test worker.
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR,
                         target_path=os.environ.get("DBT_TARGET_PATH", "target"))
dbt_project.prepare_if_dev()


class _DbtCli(DbtCliResource):
    """dagster-dbt's resource, told dbt's version when it can be known without running dbt.

    DbtCliResource runs `dbt --version` before the first command of every resource instance, which is every run's
    dbt step: 1.5 s of Python start and dbt imports before each nightly build. The dbt installed beside this Python
    is the installed dbt-core package, whose version the package metadata gives.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) == _BESIDE_PYTHON:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version


def dbt_cli() -> DbtCliResource:
    """The resource that runs dbt commands on the project, with the dbt executable found above."""
    return _DbtCli(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
