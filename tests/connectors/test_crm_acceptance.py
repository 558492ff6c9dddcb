"""Airbyte-style acceptance tests for the CRM connectors, and the failure modes users report past them.

Everything runs for real: the sandbox over HTTP, the connectors, dlt into DuckDB.
"""

from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from connectors.errors import AuthenticationError, SourceUnavailable
from connectors.http import RetryPolicy
from connectors.hubspot.client import HubSpotClient, column_type
from connectors.hubspot.streams import CONTACTS, OWNERS
from connectors.hubspot.streams import STREAMS as HUBSPOT_STREAMS
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.streams import ACCOUNT
from connectors.salesforce.streams import STREAMS as SALESFORCE_STREAMS
from pipelines.lib.raw_loader import load_streams
from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset

FAST = RetryPolicy(backoff_base=0.01, max_attempts=3)


def salesforce_client(url: str, **overrides) -> SalesforceClient:
    return SalesforceClient(login_url=url, client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET,
                            refresh_token=overrides.pop("refresh_token", auth.REFRESH_TOKEN), policy=FAST, **overrides)


def hubspot_client(url: str, **overrides) -> HubSpotClient:
    return HubSpotClient(base_url=url, client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET,
                         refresh_token=overrides.pop("refresh_token", auth.REFRESH_TOKEN),
                         policy=overrides.pop("policy", FAST), **overrides)


def after_first_page(read_pages, action):
    """A page reader like `read_pages` that calls `action(first_page)` once the loader took the first page: the
    source changing while a read is under way."""

    def read(stream, since):
        pages = read_pages(stream, since)  # asked for here, inside the loader's context

        def acting():
            for number, page in enumerate(pages):
                yield page
                if number == 0:
                    action(page)

        return acting()

    return read


def hubspot_contact(number: int, modified: str) -> dict:
    return {
        "id": str(1000 + number),
        "properties": {"email": f"person{number}@example.org", "firstname": f"P{number}", "lastname": "Doe",
                       "lifecyclestage": "lead", "hs_object_id": str(1000 + number),
                       "createdate": "2025-01-01T00:00:00.000Z", "lastmodifieddate": modified},
        "createdAt": "2025-01-01T00:00:00.000Z", "updatedAt": modified, "archived": False,
    }


class Warehouse:
    """A DuckDB file and dlt folder for one test, with the loads a night would run."""

    def __init__(self, folder):
        self.path = folder / "warehouse.duckdb"
        self.dlt = folder / "dlt"
        self.runs = 0

    def load(self, source, streams, client, read_pages=None):
        """One night's load of `streams`, read by `read_pages` (by default the client's own)."""
        self.runs += 1
        return load_streams(source, streams, read_pages or client.read_pages, str(self.path), self.dlt,
                            f"run-{self.runs}", discover=getattr(client, "discover", None))

    def rows(self, sql):
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.execute(sql).fetchall()


@pytest.fixture
def warehouse(tmp_path):
    return Warehouse(tmp_path)


# --- check and discover ---------------------------------------------------------------------------

def test_check_succeeds_with_valid_credentials_and_fails_clearly_with_invalid(sandbox):
    assert "DailyApiRequests" in salesforce_client(sandbox.url).check()
    assert "results" in hubspot_client(sandbox.url).check()
    for client in (salesforce_client(sandbox.url, refresh_token="wrong"), hubspot_client(sandbox.url,
                                                                                        refresh_token="wrong")):
        with pytest.raises(AuthenticationError, match="refused"):
            client.check()


@pytest.mark.parametrize("make_client, streams", [(salesforce_client, SALESFORCE_STREAMS),
                                                  (hubspot_client, HUBSPOT_STREAMS)])
def test_every_stream_has_its_primary_key_and_cursor_in_the_records_it_reads(sandbox, make_client, streams):
    client = make_client(sandbox.url)
    for stream in streams:
        page = next(page for page in client.read_pages(stream) if page)
        columns = {f.column: f.source for f in stream.fields}
        for record in page:
            assert record_value(record, columns[stream.primary_key]) is not None, stream.name
            if stream.cursor:
                assert record_value(record, stream.cursor) is not None, stream.name


def record_value(record, path):
    for key in path.split("."):
        record = (record or {}).get(key)
    return record


# --- reads ------------------------------------------------------------------------------------------

def test_full_refresh_twice_gives_identical_tables(sandbox, tmp_path):
    tables = []
    for attempt in ("a", "b"):
        warehouse = Warehouse(tmp_path / attempt)
        warehouse.load("salesforce", SALESFORCE_STREAMS, salesforce_client(sandbox.url))
        warehouse.load("hubspot", HUBSPOT_STREAMS, hubspot_client(sandbox.url))
        tables.append({
            f"{schema}.{stream.name}": warehouse.rows(
                f"select * exclude (_loaded_at, _run_id, _dlt_load_id) from {schema}.{stream.name} order by 1")
            for schema, streams in (("raw_salesforce", SALESFORCE_STREAMS), ("raw_hubspot", HUBSPOT_STREAMS))
            for stream in streams
        })
    assert tables[0] == tables[1]
    expected = sandbox.stats()["records"]
    assert len(tables[0]["raw_salesforce.account"]) == expected["salesforce/Account"]
    assert len(tables[0]["raw_hubspot.deals"]) == expected["hubspot/deals"]


@pytest.fixture
def crm(tmp_path):
    accounts = [salesforce_account(n, SystemModstamp=f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000+0000")
                for n in range(3000)]
    contacts = [hubspot_contact(n, f"2026-01-01T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z")
                for n in range(500)]
    folder = write_dataset(tmp_path / "dataset", {("salesforce", "Account"): accounts,
                                                  ("hubspot", "contacts"): contacts})
    with running_sandbox(dataset=folder, extra_args=("--page-size", "500")) as running:
        yield running


def test_incremental_second_read_takes_only_what_changed_and_a_quiet_night_keeps_the_cursor(crm, warehouse):
    first = warehouse.load("salesforce", [ACCOUNT], salesforce_client(crm.url))["account"]
    assert first.rows == 3000
    quiet = warehouse.load("salesforce", [ACCOUNT], salesforce_client(crm.url))["account"]
    # Only the records of the lookback (the five minutes up to the cursor, start-inclusive) are read again.
    lookback_start = datetime.fromisoformat(first.cursor_after) - timedelta(seconds=ACCOUNT.lookback_seconds)
    [(in_lookback,)] = warehouse.rows(f"select count(*) from raw_salesforce.account "
                                      f"where system_modstamp >= '{lookback_start.isoformat()}'")
    assert quiet.rows == in_lookback and 1 <= in_lookback < first.rows
    # Nothing changed at the source: the records read again are stored as they are, none of them updated.
    assert (quiet.inserted, quiet.updated, quiet.unchanged) == (0, 0, in_lookback)
    assert quiet.cursor_after == quiet.cursor_before == first.cursor_after

    crm.upsert("salesforce", "Account", [salesforce_account(n, Name=f"Changed {n}",
                                                            SystemModstamp="2026-02-01T00:00:00.000+0000")
                                         for n in (3, 4, 5)])
    changed = warehouse.load("salesforce", [ACCOUNT], salesforce_client(crm.url))["account"]
    assert changed.rows == 3 + quiet.rows
    assert changed.cursor_after.startswith("2026-02-01")
    assert warehouse.rows("select count(*), count(distinct id) from raw_salesforce.account") == [(3000, 3000)]
    assert warehouse.rows("select count(*) from raw_salesforce.account where name like 'Changed%'") == [(3,)]


def test_a_far_future_cursor_reads_nothing(crm):
    future = datetime(2100, 1, 1, tzinfo=UTC)
    assert sum(map(len, salesforce_client(crm.url).read_pages(ACCOUNT, future))) == 0
    hubspot_pages = hubspot_client(crm.url).read_pages(CONTACTS, future)
    assert sum(1 for page in hubspot_pages for record in page if not record["archived"]) == 0


# --- failures mid-sync ----------------------------------------------------------------------------

@pytest.mark.parametrize("pages_before_the_crash", [0, 2, 4])
def test_a_run_killed_mid_pagination_loses_nothing_and_duplicates_nothing_on_rerun(crm, warehouse,
                                                                                   pages_before_the_crash):
    crm.inject(api="salesforce", kind="server_error", path_contains="/query/", skip=pages_before_the_crash,
               times=FAST.max_attempts)
    with pytest.raises(Exception, match="still failing"):
        warehouse.load("salesforce", [ACCOUNT], salesforce_client(crm.url))
    crm.clear_faults()
    rerun = warehouse.load("salesforce", [ACCOUNT], salesforce_client(crm.url))["account"]
    assert rerun.cursor_before is None  # nothing of the crashed run was committed, state included
    assert warehouse.rows("select count(*), count(distinct id) from raw_salesforce.account") == [(3000, 3000)]


def test_a_server_error_after_a_page_was_served_is_retried_without_duplicates(crm, warehouse):
    crm.inject(api="hubspot", kind="server_error", path_contains="/crm/v3/objects/contacts", skip=2)
    warehouse.load("hubspot", [CONTACTS], hubspot_client(crm.url))
    assert warehouse.rows("select count(*), count(distinct id) from raw_hubspot.contacts") == [(500, 500)]


def test_a_throttling_storm_completes_and_never_calls_before_the_advertised_wait(crm):
    crm.inject(api="hubspot", kind="rate_limit", path_contains="/crm/v3/objects/contacts", skip=1, times=4,
               retry_after=2)
    client = hubspot_client(crm.url, policy=RetryPolicy(max_attempts=6))
    waits = []
    client.http.sleep = waits.append
    records = [record for page in client.read_pages(CONTACTS) for record in page]
    assert len(records) == 500
    assert waits == [2.0, 2.0, 2.0, 2.0]
    assert client.http.stats.wait_seconds == 8.0


def test_a_throttling_storm_outlasting_the_retries_ends_the_stream_early_and_the_next_night_reads_on(crm, warehouse):
    # Another app spends the account's burst: every retry of the second page is throttled too.
    crm.inject(api="hubspot", kind="rate_limit", path_contains="/crm/v3/objects/contacts", skip=1, times=3,
               retry_after=1)
    client = hubspot_client(crm.url)  # three attempts: the storm outlasts them
    client.http.sleep = lambda seconds: None
    first = warehouse.load("hubspot", [CONTACTS, OWNERS], client)
    assert first["contacts"].stopped_early and "throttled" in first["contacts"].stopped_early
    assert first["contacts"].rows > 0  # the pages read before the storm are kept
    assert first["owners"].pages and not first["owners"].stopped_early  # the source's other streams are still read
    warehouse.load("hubspot", [CONTACTS], hubspot_client(crm.url))
    assert warehouse.rows("select count(*), count(distinct id) from raw_hubspot.contacts") == [(500, 500)]


def test_a_token_expiring_mid_sync_is_refreshed_without_failing(crm):
    crm.inject(api="hubspot", kind="expire_token", path_contains="/crm/v3/objects/contacts", skip=1)
    client = hubspot_client(crm.url)
    assert sum(map(len, client.read_pages(CONTACTS))) == 500
    assert client.auth.refreshes == 2


def test_records_sharing_the_cursor_timestamp_across_a_run_boundary_are_all_loaded(tmp_path, warehouse):
    same_stamp = [salesforce_account(n, SystemModstamp="2026-03-03T03:03:03.000+0000") for n in range(2500)]
    later = [salesforce_account(n, SystemModstamp="2026-03-04T00:00:00.000+0000") for n in range(2500, 3000)]
    folder = write_dataset(tmp_path / "dataset", {("salesforce", "Account"): same_stamp + later})
    with running_sandbox(dataset=folder) as running:
        running.inject(api="salesforce", kind="rate_limit", path_contains="/query/")  # the quota ends night one
        first = warehouse.load("salesforce", [ACCOUNT], salesforce_client(running.url))["account"]
        assert first.stopped_early and first.rows == 2000
        warehouse.load("salesforce", [ACCOUNT], salesforce_client(running.url))
    assert warehouse.rows("select count(*), count(distinct id) from raw_salesforce.account") == [(3000, 3000)]


@pytest.mark.parametrize("one_timestamp", [False, True], ids=["spread", "one-timestamp"])
def test_more_than_ten_thousand_hubspot_records_modified_in_one_window_are_all_loaded(crm, warehouse,
                                                                                      one_timestamp):
    warehouse.load("hubspot", [CONTACTS], hubspot_client(crm.url))
    bulk = [hubspot_contact(n, "2026-02-02T02:02:02.000Z" if one_timestamp
                            else f"2026-02-02T02:{n // 600 % 60:02d}:{n // 10 % 60:02d}.{n % 10:03d}Z")
            for n in range(500, 11_000)]
    crm.upsert("hubspot", "contacts", bulk)
    second = warehouse.load("hubspot", [CONTACTS], hubspot_client(crm.url))["contacts"]
    assert second.rows >= 10_500
    assert warehouse.rows("select count(*), count(distinct id) from raw_hubspot.contacts") == [(11_000, 11_000)]


# --- schema drift and bad data ----------------------------------------------------------------------

def test_a_new_field_at_the_source_arrives_as_a_new_column(crm, warehouse):
    warehouse.load("salesforce", [ACCOUNT], salesforce_client(crm.url))
    crm.upsert("salesforce", "Account", [salesforce_account(7, Region__c="EMEA",
                                                            SystemModstamp="2026-02-01T00:00:00.000+0000")])
    warehouse.load("salesforce", [ACCOUNT], salesforce_client(crm.url))
    assert warehouse.rows("select region__c from raw_salesforce.account where id = '001SANDBOX00000007'") == [
        ("EMEA",)]
    assert warehouse.rows("select count(*) from raw_salesforce.account") == [(3000,)]


def test_a_new_hubspot_property_arrives_as_a_typed_column_with_earlier_rows_null(crm, warehouse):
    warehouse.load("hubspot", [CONTACTS], hubspot_client(crm.url))
    changed = hubspot_contact(7, "2026-02-01T00:00:00.000Z")
    changed["properties"].update(preferred_channel="webinar", seats_requested="12.5", renewal_date="2026-09-30")
    crm.upsert("hubspot", "contacts", [changed])

    second = warehouse.load("hubspot", [CONTACTS], hubspot_client(crm.url))["contacts"]
    assert second.rows < 500  # incremental: the new property came with the changed record, not a full reload
    assert warehouse.rows("select id, preferred_channel, seats_requested, renewal_date from raw_hubspot.contacts "
                          "where preferred_channel is not null") == [("1007", "webinar", 12.5, date(2026, 9, 30))]
    assert warehouse.rows("select count(*) from raw_hubspot.contacts where preferred_channel is null "
                          "and seats_requested is null and renewal_date is null") == [(499,)]
    types = dict(warehouse.rows("select column_name, data_type from information_schema.columns "
                                "where table_schema = 'raw_hubspot' and table_name = 'contacts'"))
    assert (types["preferred_channel"], types["seats_requested"], types["renewal_date"]) == (
        "VARCHAR", "DOUBLE", "DATE")


def test_hubspot_property_types_map_to_column_types():
    assert column_type({"type": "number", "showCurrencySymbol": True}) == "decimal"
    assert column_type({"type": "number", "numberDisplayHint": "currency"}) == "decimal"
    assert column_type({"type": "number", "numberDisplayHint": "unformatted"}) == "float"
    assert column_type({"type": "datetime"}) == "timestamp"
    assert column_type({"type": "date"}) == "date"
    assert column_type({"type": "bool"}) == "bool"
    assert column_type({"type": "enumeration"}) == column_type({"type": "phone_number"}) == "string"


def test_the_sources_report_their_own_totals_without_deleted_records(crm):
    salesforce, hubspot = salesforce_client(crm.url), hubspot_client(crm.url)
    assert salesforce.source_total(ACCOUNT) == 3000
    assert hubspot.source_total(CONTACTS) == 500
    assert hubspot.source_total(OWNERS) is None  # the owners API reports no total
    crm.upsert("salesforce", "Account", [salesforce_account(3, IsDeleted=True)])
    archived = hubspot_contact(3, "2026-02-01T00:00:00.000Z")
    archived.update(archived=True, archivedAt="2026-02-01T00:00:00.000Z")
    crm.upsert("hubspot", "contacts", [archived])
    assert salesforce.source_total(ACCOUNT) == 2999  # counted through query: the recycle bin is left out
    assert hubspot.source_total(CONTACTS) == 499  # search never counts archived records


def test_a_malformed_record_is_quarantined_and_the_rest_of_its_page_loaded(crm, warehouse):
    crm.inject(api="hubspot", kind="malformed", path_contains="/crm/v3/objects/contacts")
    result = warehouse.load("hubspot", [CONTACTS], hubspot_client(crm.url))["contacts"]
    assert result.quarantined >= 1
    reasons = warehouse.rows("select reason, run_id from raw_hubspot._quarantine")
    assert reasons and all(run_id == "run-1" for _, run_id in reasons)


def test_no_secret_reaches_logs_or_error_text(crm, caplog):
    caplog.set_level("DEBUG")
    client = salesforce_client(crm.url)
    list(client.read_pages(ACCOUNT))
    token = client.auth.access_token()
    crm.inject(api="salesforce", kind="server_error", path_contains="/query", times=FAST.max_attempts)
    with pytest.raises(SourceUnavailable) as raised:
        list(client.read_pages(ACCOUNT))
    text = caplog.text + str(raised.value)
    for secret in (token, auth.CLIENT_SECRET, auth.REFRESH_TOKEN):
        assert secret not in text
