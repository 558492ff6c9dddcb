"""The BI snapshot: the marts, published only after every blocking check passed."""

import dagster as dg

from pipelines.defs.transform.assets import mart_keys
from pipelines.lib.warehouse import WarehouseResource


@dg.asset(
    key=["analytics", "published_snapshot"],
    deps=mart_keys(),
    group_name="publish",
    kinds={"duckdb"},
    owners=["team:data-engineering"],
    pool="warehouse",
)
def published_snapshot(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Copy the marts into a fresh ``analytics.duckdb`` (or the ``analytics`` schema on PostgreSQL) and swap it
    in atomically for BI to read.

    Dagster runs this step only when the blocking checks on the marts passed in the same run,
    so a failed check leaves the previous snapshot in place.
    """
    published = warehouse.publish_marts()
    context.log.info(f"published {len(published)} marts to {warehouse.published_location}")
    return dg.MaterializeResult(
        metadata={
            "location": dg.MetadataValue.text(warehouse.published_location),
            "tables": dg.MetadataValue.json(published),
        }
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The publish asset."""
    return dg.Definitions(assets=[published_snapshot])
