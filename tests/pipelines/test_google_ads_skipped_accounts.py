"""A Google Ads account skipped because it is not enabled is named in the raw assets' materialization metadata,
not only in a log line: the run succeeds without it, and whoever looks at the assets sees why it is missing.

Everything runs for real: the sandbox over HTTP, the connector, dlt into DuckDB, the Dagster asset.
"""

import dagster as dg
import pytest

from connectors.google_ads.streams import STREAMS
from pipelines.defs.ingest.google_ads import google_ads_raw
from sandbox import auth
from sandbox.apis.google_ads import DEVELOPER_TOKEN
from tests.ads_fixtures import google_ads_resources, running_ads_sandbox

#: An account the user reaches directly that was canceled: Google refuses every query on it.
CANCELED = "1111111111"


@pytest.fixture(scope="module")
def google(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory) as running:
        running.upsert("google_ads", "customer", [{
            "customer.id": CANCELED, "customer.descriptive_name": "Acme FR (closed)", "customer.currency_code": "EUR",
            "customer.time_zone": "Europe/Paris", "customer.status": "CANCELED"}])
        yield running


def test_an_account_skipped_as_not_enabled_is_named_in_every_google_ads_assets_metadata(google, pipeline_env):
    env = pipeline_env(google)
    resources = google_ads_resources(google.url, env)
    result = dg.materialize([google_ads_raw], resources=resources)
    assert result.success
    metadata = {event.asset_key.path[-1]: event.materialization.metadata
                for event in result.get_asset_materialization_events()}
    assert sorted(metadata) == sorted(stream.name for stream in STREAMS)
    for stream, values in metadata.items():
        assert values["status"].value == "synced", stream
        assert values["notes"].value == [f"customer {CANCELED} skipped: not ENABLED (CUSTOMER_NOT_ENABLED)"], stream
    assert metadata["customers"]["rows_loaded"].value == 3  # the two accounts and their manager, not the canceled
    for secret in (auth.CLIENT_SECRET, auth.REFRESH_TOKEN, DEVELOPER_TOKEN):
        assert all(secret not in str(values) for values in metadata.values())
