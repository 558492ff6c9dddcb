"""A Google Ads account skipped because it is not enabled is named in the raw assets' materialization metadata,
not only in a log line: the run succeeds without it, and whoever looks at the assets sees why it is missing. An
account cancelled after it was loaded keeps its rows, flagged gone from the source.

Everything runs for real: the sandbox over HTTP, the connector, dlt into DuckDB, the Dagster asset.
"""

import dagster as dg
import pytest

from connectors.google_ads.streams import STREAMS
from pipelines.defs.ingest.google_ads import google_ads_raw
from sandbox import auth
from sandbox.apis.google_ads import DEVELOPER_TOKEN
from tests.ads_fixtures import G_US, google_ads_resources, running_ads_sandbox
from tests.support.warehouse import warehouse_rows

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


def test_an_account_cancelled_after_it_was_loaded_keeps_its_rows_flagged_deleted(tmp_path_factory, pipeline_env):
    # Its campaigns and ad groups are read whole every night; the night Google refuses the account, the read no
    # longer has them. Their spend history stays, so their names and the account must stay too, flagged.
    with running_ads_sandbox(tmp_path_factory) as google:
        env = pipeline_env(google)
        assert dg.materialize([google_ads_raw], resources=google_ads_resources(google.url, env)).success
        google.upsert("google_ads", "customer", [{
            "customer.id": G_US, "customer.descriptive_name": "Acme US", "customer.currency_code": "USD",
            "customer.time_zone": "America/Los_Angeles", "customer.status": "CANCELED"}])
        result = dg.materialize([google_ads_raw], resources=google_ads_resources(google.url, env))
    assert result.success
    vanished = {event.asset_key.path[-1]: event.materialization.metadata["rows_vanished"].value
                for event in result.get_asset_materialization_events()}
    assert (vanished["customers"], vanished["campaigns"], vanished["ad_groups"]) == (1, 1, 1)
    warehouse = env["WAREHOUSE_DUCKDB_PATH"]
    flagged = warehouse_rows(warehouse, "select customer_id, _vanished_at is not null from raw_google_ads.campaigns "
                                        "order by campaign_id")
    assert flagged == [("1234567890", False)] * 3 + [(G_US, True)]
