"""Write-audit-publish for DuckDB: copy the marts into a new file, then swap it in with one rename.

BI opens the published file read-only. Building the next snapshot in a temporary file and
renaming it over the old one means a reader never sees a half-written file and never blocks
the nightly run: a client that still has the old file open keeps reading the old snapshot
until it reconnects.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

PUBLISHED_SCHEMA = "marts"


def publish_duckdb(warehouse_path: Path, analytics_path: Path, keep_snapshots: int = 3) -> dict[str, int]:
    """Publish every table of the warehouse's `marts` schema to `analytics_path`; returns rows per table."""
    analytics_path = Path(analytics_path)
    analytics_path.parent.mkdir(parents=True, exist_ok=True)
    staging = analytics_path.with_name(f".{analytics_path.name}.{uuid.uuid4().hex}.tmp")
    try:
        published = _copy_marts(Path(warehouse_path), staging)
        if analytics_path.exists() and keep_snapshots > 0:
            _keep_previous(analytics_path, keep_snapshots)
        os.replace(staging, analytics_path)
    finally:
        staging.unlink(missing_ok=True)
    return published


def _copy_marts(warehouse_path: Path, target: Path) -> dict[str, int]:
    connection = duckdb.connect(str(target))
    try:
        connection.execute("attach ? as warehouse (read_only)", [str(warehouse_path)])
        tables = [name for (name,) in connection.execute(
            "select table_name from duckdb_tables() where database_name = 'warehouse' and schema_name = ? "
            "order by 1", [PUBLISHED_SCHEMA]).fetchall()]
        if not tables:
            raise RuntimeError(f"nothing to publish: the warehouse has no tables in schema {PUBLISHED_SCHEMA!r}")
        connection.execute(f"create schema {PUBLISHED_SCHEMA}")
        counts = {}
        for name in tables:
            connection.execute(
                f'create table {PUBLISHED_SCHEMA}."{name}" as select * from warehouse.{PUBLISHED_SCHEMA}."{name}"'
            )
            counts[name] = connection.execute(f'select count(*) from {PUBLISHED_SCHEMA}."{name}"').fetchone()[0]
        connection.execute("detach warehouse")
        connection.execute("checkpoint")
        return counts
    finally:
        connection.close()


def _keep_previous(analytics_path: Path, keep: int) -> None:
    """Copy the current snapshot aside for rollback and prune all but the newest `keep` copies."""
    folder = analytics_path.parent / "snapshots"
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    shutil.copy2(analytics_path, folder / f"{analytics_path.stem}-{stamp}{analytics_path.suffix}")
    for old in sorted(folder.glob(f"{analytics_path.stem}-*{analytics_path.suffix}"))[:-keep]:
        old.unlink()
