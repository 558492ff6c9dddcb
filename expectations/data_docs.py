"""great-expectations Data Docs for one night: every suite's validation result, as static HTML.

Suites run in an ephemeral GX context without being saved in it (``expectations/runner.py``), and a context
builds Data Docs only from the results it holds. So every check saves its result as JSON
(``results/<run id>/<suite>.json``), and the site is rebuilt from all of the night's JSON files in one ephemeral
context with a filesystem Data Docs site: ``<folder>/index.html`` lists every suite's result of the newest night.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import expectations  # noqa: F401  (sets GX_ANALYTICS_ENABLED before GX is imported)

RESULTS = "results"
KEEP_NIGHTS = 7
SITE = "quality_report"


def run_results(folder: Path, run_id: str) -> Path:
    """The folder of one night's saved results (created on first use)."""
    target = Path(folder) / RESULTS / run_id
    target.mkdir(parents=True, exist_ok=True)
    return target


def save_result(folder: Path, run_id: str, suite: str, result: dict) -> Path:
    """Keep one suite's validation result (GX's JSON) with the night's others."""
    path = run_results(folder, run_id) / f"{suite}.json"
    path.write_text(json.dumps(result, default=str))
    _prune(Path(folder) / RESULTS, keep=KEEP_NIGHTS)
    return path


def build_site(folder: Path, run_id: str) -> Path:
    """(Re)build the Data Docs site in `folder` from the results saved for `run_id`; returns its index.html."""
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    folder = Path(folder)
    context = gx.get_context(mode="ephemeral")
    for site in list(context.get_site_names()):  # the ephemeral default writes to a temporary folder
        context.delete_data_docs_site(site)
    context.add_data_docs_site(SITE, {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    run = RunIdentifier(run_name=run_id, run_time=datetime.now(UTC))
    schema = ExpectationSuiteValidationResultSchema()
    for path in sorted(run_results(folder, run_id).glob("*.json")):
        result = schema.load(json.loads(path.read_text()))
        key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=path.stem), run, batch_identifier="warehouse")
        context.validation_results_store.set(key, result)
    context.build_data_docs(site_names=[SITE])
    return folder / "index.html"


def _prune(results: Path, keep: int) -> None:
    nights = sorted((p for p in results.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in nights[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
