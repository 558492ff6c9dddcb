"""Raw LinkedIn Ads tables: ad accounts, campaign groups, campaigns and daily campaign analytics; the ad accounts
asset carries the refresh token's expiry check (`refresh_token_lifetime`)."""

import dagster as dg

from connectors.linkedin_ads.streams import STREAMS
from pipelines.lib.ingest import build_source_assets

linkedin_ads_raw = build_source_assets(
    source="linkedin_ads",
    streams=STREAMS,
    resource_key="linkedin_ads",
    description="LinkedIn Marketing API elements, removed and archived ones included; analytics with local and "
    "USD cost kept apart as exact decimals, UTC days, the trailing window restated each run (a new account "
    "backfills its whole history); fields LinkedIn adds to its objects arrive as new columns.",
    # LinkedIn's refresh token lives 365 days from the member's consent: warn ahead, before a night fails on it.
    credential_check=True,
)


@dg.definitions
def defs() -> dg.Definitions:
    """The LinkedIn Ads raw assets."""
    return dg.Definitions(assets=[linkedin_ads_raw])
