"""Raw Google Ads tables: customers, campaigns, ad groups and their daily metrics, through GAQL."""

import dagster as dg

from connectors.google_ads.streams import STREAMS
from pipelines.lib.ingest import build_source_assets

google_ads_raw = build_source_assets(
    source="google_ads",
    streams=STREAMS,
    resource_key="google_ads",
    description="Google Ads rows as searchStream returns them, removed entities kept; money from micros to exact "
    "decimals in the customer's currency, days in its time zone, the trailing window restated each run (a new "
    "customer backfills its whole history); attributes Google adds are found in its field catalogue and selected.",
)


@dg.definitions
def defs() -> dg.Definitions:
    """The Google Ads raw assets."""
    return dg.Definitions(assets=[google_ads_raw])
