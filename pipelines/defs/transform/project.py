"""The dbt project that turns raw tables into the shared marts."""

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
# The dbt installed beside this Python, so an un-activated virtualenv still finds it.
_BESIDE_PYTHON = Path(sys.executable).parent / "dbt"
DBT_EXECUTABLE = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else (shutil.which("dbt") or "dbt")

# No fixed target: profiles.yml reads WAREHOUSE_TARGET when dbt runs, so one process can serve both warehouses.
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()
