"""Salesforce fields the org does not expose to the integration user (field-level security, or no multi-currency)
leave the read of their object, named in a warning and the stream's notes, instead of failing it with INVALID_FIELD.

Run for real against the shared scale-S sandbox, its hidden fields set through ``/_sandbox/salesforce/hidden-fields``
and shown again after each test: the sandbox, the connector, dlt into DuckDB (and Dagster for the metadata).
"""

import logging

import dagster as dg
import pytest

from connectors.errors import SourceError
from connectors.salesforce.streams import ACCOUNT, CAMPAIGN, CONTACT, LEAD, OPPORTUNITY, USER
from connectors.salesforce.streams import STREAMS as SALESFORCE_STREAMS
from pipelines.defs.ingest.salesforce import salesforce_raw
from tests.connectors.test_crm_acceptance import Warehouse, salesforce_client
from tests.support.warehouse import salesforce_resources

#: A single-currency org whose integration user may not read leads' email addresses.
HIDDEN = {"*": ["CurrencyIsoCode"], "Lead": ["Email"]}
MULTI_CURRENCY_STREAMS = (ACCOUNT, CONTACT, LEAD, OPPORTUNITY, CAMPAIGN)


@pytest.fixture
def org(sandbox):
    """The shared sandbox, every field shown again after the test: the other tests of the session read them."""
    yield sandbox
    sandbox.hide_salesforce_fields(None)


def _columns(warehouse: Warehouse, table: str) -> set[str]:
    return {name for (name,) in warehouse.rows("select column_name from information_schema.columns "
                                               f"where table_schema = 'raw_salesforce' and table_name = '{table}'")}


def test_a_sync_leaves_out_the_fields_not_exposed_and_loads_every_record(org, tmp_path, caplog):
    org.hide_salesforce_fields(HIDDEN)
    warehouse, client = Warehouse(tmp_path), salesforce_client(org.url)
    with caplog.at_level(logging.WARNING, logger="connectors.salesforce"):
        results = warehouse.load("salesforce", SALESFORCE_STREAMS, client)

    served = org.stats()["records"]
    for stream in SALESFORCE_STREAMS:
        assert results[stream.name].stopped_early is None, stream.name
        [(rows,)] = warehouse.rows(f"select count(*) from raw_salesforce.{stream.name}")
        assert rows == served[f"salesforce/{stream.options['object']}"] > 0, stream.name
    for stream in MULTI_CURRENCY_STREAMS:
        assert "currency_iso_code" not in _columns(warehouse, stream.name), stream.name
    assert "email" not in _columns(warehouse, "lead")
    assert {"email", "phone"} <= _columns(warehouse, "contact") and "email" in _columns(warehouse, "user")
    assert warehouse.rows("select count(*) from raw_salesforce.contact where email is not null")[0][0] > 0

    assert client.stream_notes(LEAD) == ["fields not exposed to the integration user: Email, CurrencyIsoCode"]
    assert client.stream_notes(ACCOUNT) == ["fields not exposed to the integration user: CurrencyIsoCode"]
    assert client.stream_notes(USER) == []
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any(message.startswith("salesforce Lead: fields not exposed to the integration user: Email, "
                                  "CurrencyIsoCode") for message in warnings)


def test_the_raw_asset_reports_the_fields_not_exposed_in_its_metadata(org, pipeline_env):
    env = pipeline_env(org)
    org.hide_salesforce_fields(HIDDEN)
    resources = salesforce_resources(org.url, env)
    keys = [dg.AssetKey(["raw", "salesforce", name]) for name in ("lead", "user")]
    result = dg.materialize([salesforce_raw], selection=keys, resources=resources)

    metadata = {event.asset_key.path[-1]: {name: value.value for name, value in event.materialization.metadata.items()}
                for event in result.get_asset_materialization_events()}
    assert metadata["lead"]["status"] == "synced"
    assert metadata["lead"]["notes"] == ["fields not exposed to the integration user: Email, CurrencyIsoCode"]
    assert metadata["lead"]["rows_loaded"] == org.stats()["records"]["salesforce/Lead"]
    assert "notes" not in metadata["user"]  # every field of users is exposed


@pytest.mark.parametrize(("field", "role"), [("Id", "primary key"), ("SystemModstamp", "cursor"),
                                             ("IsDeleted", "deleted flag")])
def test_a_sync_without_access_to_a_field_it_cannot_do_without_fails_naming_it(org, tmp_path, field, role):
    org.hide_salesforce_fields({"Account": [field]})
    warehouse = Warehouse(tmp_path)
    with pytest.raises(SourceError) as raised:
        warehouse.load("salesforce", [ACCOUNT], salesforce_client(org.url))
    message = str(raised.value)
    assert f"describe does not report {field}, the {role} of stream account" in message
    assert f"grant the integration user read access to Account.{field}" in message
    assert not warehouse.path.exists() or "account" not in {
        name for (name,) in warehouse.rows("select table_name from information_schema.tables")}
