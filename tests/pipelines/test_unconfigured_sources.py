"""A source without credentials: detected by the variables it misses, skipped with a warning, its tables empty."""

import logging

import dagster as dg
import duckdb
import pytest

from connectors.hubspot.streams import OWNERS
from connectors.hubspot.streams import STREAMS as HUBSPOT_STREAMS
from pipelines.defs.ingest.hubspot import hubspot_raw
from pipelines.lib.raw_loader import load_streams
from pipelines.lib.sources import (
    GoogleAdsResource,
    HubSpotResource,
    LinkedInAdsResource,
    MetaAdsResource,
    SalesforceResource,
)
from pipelines.lib.warehouse import WarehouseResource

RESOURCES = (SalesforceResource, HubSpotResource, GoogleAdsResource, MetaAdsResource, LinkedInAdsResource)
HUBSPOT_ENV = {"HUBSPOT_BASE_URL": "http://127.0.0.1:9", "HUBSPOT_CLIENT_ID": "app-id",
               "HUBSPOT_CLIENT_SECRET": "planted-hubspot-secret", "HUBSPOT_REFRESH_TOKEN": "planted-refresh-token"}


@pytest.fixture
def no_source_env(monkeypatch):
    """No source variable set at all."""
    for resource in RESOURCES:
        for variable in resource.ENVIRONMENT.values():
            monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_a_source_with_every_required_variable_set_is_configured(no_source_env):
    for name, value in HUBSPOT_ENV.items():
        no_source_env.setenv(name, value)
    resource = HubSpotResource.from_environment()
    assert resource.missing_settings() == [] and resource.is_configured


def test_the_missing_variables_are_named_and_no_value_is_repeated(no_source_env):
    for name, value in HUBSPOT_ENV.items():
        if name != "HUBSPOT_CLIENT_SECRET":
            no_source_env.setenv(name, value)
    no_source_env.setenv("HUBSPOT_REFRESH_TOKEN", "")  # set but empty is as good as missing
    missing = HubSpotResource.from_environment().missing_settings()
    assert missing == ["HUBSPOT_CLIENT_SECRET", "HUBSPOT_REFRESH_TOKEN"]
    assert not any(value in " ".join(missing) for value in HUBSPOT_ENV.values())


def test_optional_settings_do_not_make_a_source_unconfigured(no_source_env):
    ads = GoogleAdsResource(base_url="u", token_url="t", client_id="c", client_secret="s", refresh_token="r",
                            developer_token="d")
    assert ads.account_ids == "" and ads.login_customer_id == "" and ads.is_configured
    assert MetaAdsResource(base_url="u", app_id="a", app_secret="s").missing_settings() == ["META_ADS_ACCESS_TOKEN"]
    assert LinkedInAdsResource().missing_settings() == [
        "LINKEDIN_ADS_CLIENT_ID", "LINKEDIN_ADS_CLIENT_SECRET", "LINKEDIN_ADS_REFRESH_TOKEN"]


def test_api_addresses_default_to_the_real_apis_so_credentials_alone_configure_a_source(no_source_env):
    no_source_env.setenv("HUBSPOT_CLIENT_ID", "app-id")
    resource = HubSpotResource.from_environment()
    assert resource.base_url == "https://api.hubapi.com"
    assert resource.missing_settings() == ["HUBSPOT_CLIENT_SECRET", "HUBSPOT_REFRESH_TOKEN"]
    no_source_env.setenv("HUBSPOT_BASE_URL", "http://127.0.0.1:8080")
    assert HubSpotResource.from_environment().base_url == dg.EnvVar("HUBSPOT_BASE_URL")  # read when a run starts
    assert SalesforceResource().login_url == "https://login.salesforce.com"


def test_each_ad_platform_rereads_at_least_the_days_it_restates_by_default():
    # source-apis.md: Google's conversions restate for the conversion window (30 days by default), LinkedIn's for
    # the attribution window (Panoply re-pulls 30), Meta's attribution for up to 28 days.
    restated = {GoogleAdsResource: 30, LinkedInAdsResource: 30, MetaAdsResource: 28}
    for resource, days in restated.items():
        assert resource().window().lookback_days >= days, resource.__name__
        assert resource().client().window.lookback_days == resource().lookback_days


def test_the_code_location_loads_with_no_credentials_at_all(no_source_env):
    from pipelines.definitions import defs

    definitions = defs()
    assert definitions.resolve_job_def("nightly_sync") is not None
    for key in ("salesforce", "hubspot", "google_ads", "meta_ads", "linkedin_ads"):
        assert definitions.resources[key].missing_settings(), key


def test_an_unconfigured_source_is_skipped_with_a_warning_and_its_tables_exist_empty(tmp_path):
    warehouse = WarehouseResource(duckdb_path=str(tmp_path / "warehouse.duckdb"), analytics_path="unused",
                                  dlt_pipelines_dir=str(tmp_path / "dlt"))
    # Owners were synced on an earlier night, when HubSpot was still configured: those rows must stay.
    owner = {"id": "41000001", "email": "owner@example.com", "firstName": "Olive", "lastName": "Owner",
             "userId": 9100001, "archived": False, "createdAt": "2026-01-01T00:00:00Z",
             "updatedAt": "2026-01-01T00:00:00Z"}
    load_streams("hubspot", [OWNERS], lambda stream, since: iter([[owner]]), warehouse.loader_target,
                 tmp_path / "dlt", "earlier-night")

    with dg.DagsterInstance.ephemeral() as instance:
        for _ in range(2):  # a second night without credentials changes nothing either
            result = dg.materialize([hubspot_raw], instance=instance, resources={
                "warehouse": warehouse, "hubspot": HubSpotResource(base_url="http://127.0.0.1:9")})
            assert result.success
        warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING]

    expected = "not configured (missing HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, HUBSPOT_REFRESH_TOKEN)"
    statuses = {e.asset_key.path[-1]: e.materialization.metadata["status"].value
                for e in result.get_asset_materialization_events()}
    assert statuses == {stream.name: expected for stream in HUBSPOT_STREAMS}
    assert len([w for w in warnings if f"Source hubspot is {expected}" in w]) == 1
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        for stream in HUBSPOT_STREAMS:
            columns = {row[0] for row in connection.execute(
                "select column_name from information_schema.columns where table_schema = 'raw_hubspot' "
                "and table_name = ?", [stream.name]).fetchall()}
            assert {f.column for f in stream.fields} | {"_loaded_at", "_run_id"} <= columns, stream.name
            rows = connection.execute(f"select count(*) from raw_hubspot.{stream.name}").fetchone()[0]
            assert rows == (1 if stream.name == "owners" else 0), stream.name
