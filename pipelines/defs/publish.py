"""The BI snapshot: the marts, published only after every blocking check passed."""

from concurrent.futures import ThreadPoolExecutor

import dagster as dg

from pipelines.defs.quality.gate import failed_blocking_checks, raw_tables_behind_the_marts
from pipelines.defs.quality.settings import QualityResource
from pipelines.defs.transform.assets import mart_keys
from pipelines.lib.quality_report import report_metadata
from pipelines.lib.warehouse import WarehouseResource

# The raw tables too: their blocking suites then hold back publishing (see pipelines/defs/quality/gate.py).
PUBLISHED_FROM = [*mart_keys(), *raw_tables_behind_the_marts()]


@dg.asset(
    key=["analytics", "published_snapshot"],
    deps=PUBLISHED_FROM,
    group_name="publish",
    kinds={"duckdb"},
    owners=["team:data-engineering"],
    pool="warehouse",
)
def published_snapshot(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, quality: QualityResource
) -> dg.MaterializeResult:
    """Write the marts into a fresh ``analytics.duckdb`` (or the ``analytics`` schema on PostgreSQL) and swap it
    in atomically for BI to read. On DuckDB the new file starts from the previous snapshot and takes only the
    partitions dbt rebuilt since; the metadata says how each table was published (copied, replayed or kept).

    Dagster runs this step only when the blocking checks on the marts passed in the same run,
    so a failed check leaves the previous snapshot in place. Run alone (no check in its run), it refuses to
    publish while the latest evaluation of one of those checks failed. The metadata carries the night's quality
    report (checks run, passed, failed, with failing rows) and the path of its great-expectations Data Docs.
    """
    failed = failed_blocking_checks(context.instance, set(PUBLISHED_FROM))
    if failed:
        raise dg.Failure(
            description=f"Not published: the latest evaluation of {len(failed)} blocking check(s) on the data behind "
                        f"the marts failed ({', '.join(failed[:5])}{', ...' if len(failed) > 5 else ''}); BI keeps "
                        "the previous snapshot. Fix the data and run the night (or those checks) again.")
    # The report (mostly Python: GX's Data Docs) is built while DuckDB writes the snapshot, which leaves the
    # interpreter free: about 1 s of the step at scale M.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="quality-report") as background:
        report = background.submit(report_metadata, context.instance, context.run.run_id, quality.report_path,
                                   context.log)
        published = warehouse.publish_marts()
        context.log.info(f"published {len(published.rows)} marts to {warehouse.published_location}")
        for table, method in published.methods.items():
            context.log.debug(f"{table}: {method}")
        return dg.MaterializeResult(
            metadata={
                "location": dg.MetadataValue.text(warehouse.published_location),
                "tables": dg.MetadataValue.json(published.rows),
                "how": dg.MetadataValue.json(published.methods),
                **report.result(),
            }
        )


@dg.definitions
def defs() -> dg.Definitions:
    """The publish asset."""
    return dg.Definitions(assets=[published_snapshot])
