"""The dbt parse that `make manifest` leaves behind is one the nightly runs reuse."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pipelines.defs.transform.project import DBT_EXECUTABLE, DBT_PROJECT_DIR, dbt_project
from pipelines.local import local_environment, prepare_dbt_manifest

FULL_PARSE = "Unable to do partial parsing"


def _dbt_list_output(environment: dict[str, str], work: Path) -> str:
    """What a dbt command prints when started as the nightly step starts it: from a copy of the project's parse."""
    target = work / "target"
    target.mkdir(parents=True)
    shutil.copy(DBT_PROJECT_DIR / dbt_project.target_path / "partial_parse.msgpack", target)
    result = subprocess.run(
        [DBT_EXECUTABLE, "ls", "--select", "int_reporting_dates", "--target-path", str(target),
         "--log-path", str(work / "logs")],
        cwd=DBT_PROJECT_DIR, env={**os.environ, **environment, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)},
        capture_output=True, text=True, check=True,
    )
    return result.stdout + result.stderr


def test_a_night_reuses_the_parse_made_with_its_environment(tmp_path: Path) -> None:
    night = local_environment(tmp_path / "warehouse")
    prepare_dbt_manifest(night)

    assert os.environ.get("WAREHOUSE_DUCKDB_PATH") != night["WAREHOUSE_DUCKDB_PATH"]  # the parse left it as it was
    assert FULL_PARSE not in _dbt_list_output(night, tmp_path / "same")
    # the check can tell: a night with another warehouse path parses the whole project again
    elsewhere = local_environment(tmp_path / "elsewhere")
    assert FULL_PARSE in _dbt_list_output(elsewhere, tmp_path / "other")
