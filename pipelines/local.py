"""Local runs against the sandbox: the environment they need and a project-local Dagster home."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def local_environment(warehouse_dir: Path | None = None) -> dict[str, str]:
    """Warehouse paths under `warehouse_dir` (default ``warehouse/``), unless the environment sets them."""
    folder = Path(warehouse_dir or PROJECT_ROOT / "warehouse")
    defaults = {
        "WAREHOUSE_TARGET": "duckdb",
        "WAREHOUSE_DUCKDB_PATH": str(folder / "warehouse.duckdb"),
        "ANALYTICS_DUCKDB_PATH": str(folder / "analytics.duckdb"),
        "DLT_PIPELINES_DIR": str(folder / ".dlt"),
        "DAGSTER_HOME": str(PROJECT_ROOT / ".dagster_home"),
        "DO_NOT_TRACK": "1",
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "GX_ANALYTICS_ENABLED": "false",
    }
    if warehouse_dir is not None:
        return defaults
    return {key: os.environ.get(key, value) for key, value in defaults.items()}


def postgres_environment(url: str) -> dict[str, str]:
    """The warehouse settings that point the pipeline (and dbt) at the PostgreSQL database `url`."""
    parts = urlparse(url)
    return {
        "WAREHOUSE_TARGET": "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": parts.username or "",
        "POSTGRES_PASSWORD": parts.password or "",
        "POSTGRES_DB": parts.path.lstrip("/"),
    }


@contextmanager
def throwaway_postgres_server(port: int) -> Iterator[str]:
    """The URL of the database common_ground on a new PostgreSQL server on loopback at `port`
    (scripts/postgres-server.sh: for tests and trials, without fsync), stopped and deleted after the block."""
    if not shutil.which("initdb"):
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not on the PATH")
    script = PROJECT_ROOT / "scripts" / "postgres-server.sh"
    # in /tmp: as root, the server runs as `postgres`, which must reach its data directory
    folder = Path(tempfile.mkdtemp(prefix="cg-postgres.", dir="/tmp"))
    try:
        yield subprocess.run([str(script), "start", str(folder), str(port)], check=True, capture_output=True,
                             text=True).stdout.strip()
    finally:
        subprocess.run([str(script), "stop", str(folder)], check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


#: The concurrency pool of every asset that writes the warehouse (dagster.yaml limits it to one run at a time).
WAREHOUSE_POOL = "warehouse"


def prepare_dagster_home(dagster_home: Path) -> None:
    """Create the Dagster home with the project's instance settings (telemetry off, one warehouse writer).

    The warehouse pool's limit is stored in the instance now, not on the run queue's first pass: that pass reads
    the pools before it stores the default limit of a new one, so two runs queued together on a new home (a
    night's catch-up, two clicks) would both start, and write DuckDB at once."""
    import dagster as dg

    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    with _environment({"DAGSTER_HOME": str(dagster_home)}), dg.DagsterInstance.get() as instance:
        instance.event_log_storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)


def prepare_dbt_manifest(environment: Mapping[str, str] | None = None) -> Path:
    """Parse the dbt project so the Dagster definitions can load its manifest.

    The parse sees the environment the nightly runs see (`environment`, default :func:`local_environment`):
    dbt reuses the parse it leaves behind (``partial_parse.msgpack``, which dagster-dbt copies into every run)
    only when the profile renders the same, warehouse path included; otherwise every night parses the whole
    project again (about 3 s).
    """
    from pipelines.defs.transform.project import dbt_cli, dbt_project

    dbt = dbt_cli()
    with _environment(local_environment() if environment is None else environment):
        dbt.cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()
    return dbt_project.manifest_path


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` updated with `values` inside the block, and restored after it."""
    saved = os.environ.copy()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
