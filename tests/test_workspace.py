"""`workspace.yaml` loads the code location the way `dagster dev` (and so `make ui`) does."""

import os
import subprocess
import sys
from pathlib import Path

from pipelines.local import PROJECT_ROOT


def test_dagster_loads_the_workspace_without_errors(tmp_path):
    dagster = Path(sys.executable).parent / "dagster"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "common_ground" in output
    assert "error" not in output.lower(), output
