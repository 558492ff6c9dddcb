"""dbt's DuckDB connection takes the operator's memory limit from the environment."""

import json
import re

from tests.transform.helpers import run_dbt


def test_dbt_runs_duckdb_under_warehouse_duckdb_memory_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DUCKDB_MEMORY_LIMIT", "300MB")
    result = run_dbt(tmp_path / "warehouse.duckdb",
                     ["show", "--inline", "select current_setting('memory_limit') as memory_limit", "--output", "json"],
                     tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    shown = json.loads(re.search(r"^\{.*^\}", result.stdout, re.MULTILINE | re.DOTALL).group(0))
    # DuckDB reports 300 MB (10^6 bytes) in MiB; its default would be 80% of this machine's memory
    assert shown["show"] == [{"memory_limit": "286.1 MiB"}]
