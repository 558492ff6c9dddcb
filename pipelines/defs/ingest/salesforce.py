"""Raw Salesforce tables: every object of `connectors.salesforce.streams`, through `queryAll`."""

import dagster as dg

from connectors.salesforce.streams import STREAMS
from pipelines.lib.ingest import build_source_assets

salesforce_raw = build_source_assets(
    source="salesforce",
    streams=STREAMS,
    resource_key="salesforce",
    description="Salesforce records as the REST query API returns them, deleted and merged ones flagged.",
)


@dg.definitions
def defs() -> dg.Definitions:
    """The Salesforce raw assets."""
    return dg.Definitions(assets=[salesforce_raw])
