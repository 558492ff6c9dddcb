"""Where the quality report goes and how much of a very large table a suite reads."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

#: Rows a suite validates row by row, about, on a larger table. A repeatable random sample of about 200,000 rows
#: (each row kept with probability 200,000 / rows) misses a fault in 1 row in 20,000 with probability e^-10; the
#: whole-table guarantees (keys unique and not null) are the dbt tests'. At scale M a 1,000,000-row sample per
#: table made the checks a minute of the night.
DEFAULT_SAMPLE_ROWS = 200_000


class QualityResource(dg.ConfigurableResource):
    """Settings of the great-expectations checks and of the quality report."""

    report_dir: str = Field(description="Folder of the quality report: GX Data Docs (index.html) and raw results.")
    sample_rows: int = Field(
        default=DEFAULT_SAMPLE_ROWS,
        description="Tables with more rows are validated row by row on a repeatable random sample of about this many "
        "rows (freshness and row counts always use the whole table; 0 disables sampling).",
    )

    @property
    def report_path(self) -> Path:
        """The report folder, created on first use."""
        path = Path(self.report_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path


def quality_from_environment() -> QualityResource:
    """``QUALITY_REPORT_DIR``, else ``quality_report`` beside the DuckDB warehouse file; ``QUALITY_SAMPLE_ROWS``."""
    warehouse_dir = Path(os.environ.get("WAREHOUSE_DUCKDB_PATH") or "warehouse/warehouse.duckdb").parent
    return QualityResource(
        report_dir=os.environ.get("QUALITY_REPORT_DIR") or str(warehouse_dir / "quality_report"),
        sample_rows=int(os.environ.get("QUALITY_SAMPLE_ROWS") or DEFAULT_SAMPLE_ROWS),
    )
