"""Raw Meta Ads tables: ad accounts, campaigns, ad sets and their daily insights."""

import dagster as dg

from connectors.meta_ads.streams import STREAMS
from pipelines.lib.ingest import build_source_assets

meta_ads_raw = build_source_assets(
    source="meta_ads",
    streams=STREAMS,
    resource_key="meta_ads",
    description="Meta Marketing API records, deleted and archived ones included; insights with string metrics "
    "typed, actions kept as JSON, days in the ad account's time zone, the trailing window restated each run (a new "
    "account backfills its whole history); fields Meta adds to a node type are found by introspection and read.",
)


@dg.definitions
def defs() -> dg.Definitions:
    """The Meta Ads raw assets."""
    return dg.Definitions(assets=[meta_ads_raw])
