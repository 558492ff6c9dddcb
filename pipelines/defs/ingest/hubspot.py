"""Raw HubSpot tables: CRM objects with their associations, owners, deal stages and marketing touches."""

import dagster as dg

from connectors.hubspot.streams import STREAMS
from pipelines.lib.ingest import build_source_assets

hubspot_raw = build_source_assets(
    source="hubspot",
    streams=STREAMS,
    resource_key="hubspot",
    description="HubSpot records with their properties typed, archived ones flagged.",
)


@dg.definitions
def defs() -> dg.Definitions:
    """The HubSpot raw assets."""
    return dg.Definitions(assets=[hubspot_raw])
