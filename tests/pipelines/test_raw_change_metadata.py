"""What a raw asset's materialization metadata says a load changed: a full refresh read again reports the rows it
changed, not every row, and how many stored keys it removed.

Real HTTP against the sandbox, the Google Ads connector, dlt into DuckDB and the Dagster asset.
"""

import dagster as dg
import pytest

from connectors.http import RequestStats
from pipelines.defs.ingest.google_ads import google_ads_raw
from pipelines.lib.ingest import _metadata
from pipelines.lib.raw_loader import StreamLoad
from tests.ads_fixtures import G_CAMPAIGNS, G_DE, google_ads_resources, running_ads_sandbox

COUNTS = ("rows_loaded", "rows_inserted", "rows_updated", "rows_unchanged", "rows_removed")
FULL_REFRESH = [dg.AssetKey(["raw", "google_ads", name]) for name in ("campaigns", "ad_groups")]


@pytest.fixture(scope="module")
def google(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory) as running:
        yield running


def _night(google, env) -> dict[str, tuple[int, ...]]:
    """Sync the full-refresh streams once; each one's counts from its materialization metadata."""
    resources = google_ads_resources(google.url, env)
    result = dg.materialize([google_ads_raw], selection=FULL_REFRESH, resources=resources)
    assert result.success
    return {event.asset_key.path[-1]: tuple(event.materialization.metadata[name].value for name in COUNTS)
            for event in result.get_asset_materialization_events()}


def test_a_full_refresh_read_again_reports_only_the_campaign_that_changed(google, pipeline_env):
    env = pipeline_env(google)
    campaigns = len(G_CAMPAIGNS)
    first = _night(google, env)
    assert first["campaigns"] == (campaigns, campaigns, 0, 0, 0)
    google.upsert("google_ads", "campaign", [{"customer.id": G_DE, "campaign.id": "222",
                                              "campaign.name": "Renamed display", "campaign.status": "PAUSED",
                                              "campaign.advertising_channel_type": "DISPLAY"}])
    second = _night(google, env)
    assert second["campaigns"] == (campaigns, 0, 1, campaigns - 1, 0)
    ad_groups = first["ad_groups"][0]
    assert second["ad_groups"] == (ad_groups, 0, 0, ad_groups, 0)


class _Client:
    """What `_metadata` reads of a source client: its request counters."""

    class http:  # noqa: N801  (mirrors the client's attribute)
        stats = RequestStats(requests=3)


def test_the_stored_keys_a_load_removed_are_in_the_metadata():
    load = StreamLoad("owners", rows=48, inserted=1, updated=1, unchanged=46, removed=2)
    metadata = _metadata(load, _Client())
    assert {name: metadata[name].value for name in COUNTS} == {
        "rows_loaded": 48, "rows_inserted": 1, "rows_updated": 1, "rows_unchanged": 46, "rows_removed": 2}
