"""The Salesforce connector against the sandbox: paging, incremental reads, retries, refresh, limits, secrets."""

import logging
from datetime import UTC, datetime

import pytest

from connectors.errors import AuthenticationError, SourceLimitReached
from connectors.http import RetryPolicy
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.streams import ACCOUNT
from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset
from tests.connectors.test_crm_acceptance import Warehouse

ACCOUNTS = 5000


@pytest.fixture
def salesforce(tmp_path):
    records = [salesforce_account(n, IsDeleted=n % 500 == 0) for n in range(ACCOUNTS)]
    folder = write_dataset(tmp_path / "dataset", {("salesforce", "Account"): records})
    with running_sandbox(dataset=folder) as running:
        yield running


def _client(url: str, **overrides) -> SalesforceClient:
    settings = {"login_url": url, "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET,
                "refresh_token": auth.REFRESH_TOKEN, "policy": RetryPolicy(backoff_base=0.01), **overrides}
    return SalesforceClient(**settings)


def _ids(pages) -> list[str]:
    return [record["Id"] for page in pages for record in page]


def test_reads_every_record_once_including_deletes(salesforce):
    ids = _ids(_client(salesforce.url).read_pages(ACCOUNT))
    assert len(ids) == len(set(ids)) == ACCOUNTS


def test_incremental_read_starts_at_the_cursor(salesforce):
    since = datetime(2026, 1, 28, tzinfo=UTC)
    pages = list(_client(salesforce.url).read_pages(ACCOUNT, since))
    stamps = [record["SystemModstamp"] for page in pages for record in page]
    assert stamps and min(stamps) >= "2026-01-28T00:00:00.000+0000"
    assert len(stamps) == sum(1 for n in range(ACCOUNTS) if 1 + n % 28 == 28)


def test_an_incremental_read_reads_the_last_five_minutes_before_the_cursor_again(tmp_path):
    # Records a transaction stamped before the cursor but committed after the last run had read past them.
    stamps = {"late": "2026-01-27T23:56:00.000+0000", "older": "2026-01-27T23:54:59.000+0000",
              "new": "2026-01-28T00:00:00.000+0000"}
    records = [salesforce_account(n, Id=f"001LATE{name}", SystemModstamp=stamp)
               for n, (name, stamp) in enumerate(stamps.items())]
    folder = write_dataset(tmp_path / "dataset", {("salesforce", "Account"): records})
    with running_sandbox(dataset=folder) as sandbox:
        ids = _ids(_client(sandbox.url).read_pages(ACCOUNT, datetime(2026, 1, 28, tzinfo=UTC)))
    assert ids == ["001LATElate", "001LATEnew"]


def test_server_errors_and_a_dropped_connection_are_retried_without_duplicates(salesforce):
    salesforce.inject(api="salesforce", kind="server_error", path_contains="/query/", times=2)
    salesforce.inject(api="salesforce", kind="drop", path_contains="/query/", skip=1, times=1)
    client = _client(salesforce.url)
    ids = _ids(client.read_pages(ACCOUNT))
    assert len(ids) == len(set(ids)) == ACCOUNTS
    assert client.http.stats.retries == 3


def test_token_expiring_mid_sync_is_refreshed(salesforce):
    client = _client(salesforce.url)
    salesforce.inject(api="salesforce", kind="expire_token", path_contains="/query/", skip=1)
    ids = _ids(client.read_pages(ACCOUNT))
    assert len(ids) == ACCOUNTS
    assert client.auth.refreshes == 2


def test_daily_limit_ends_the_stream_instead_of_retrying(salesforce):
    salesforce.inject(api="salesforce", kind="rate_limit", path_contains="/query/")
    client = _client(salesforce.url)
    pages = client.read_pages(ACCOUNT)
    assert len(next(pages)) == 2000
    with pytest.raises(SourceLimitReached, match="REQUEST_LIMIT_EXCEEDED"):
        next(pages)
    assert client.http.stats.retries == 0
    assert client.auth.refreshes == 1


def test_refused_credentials_fail_clearly_without_leaking_them(salesforce, caplog):
    secret = "s3cr3t-refresh-token-value"
    caplog.set_level(logging.DEBUG)
    client = _client(salesforce.url, refresh_token=secret)
    with pytest.raises(AuthenticationError) as raised:
        client.check()
    assert "token refresh" in str(raised.value) and "HTTP 400" in str(raised.value)
    assert secret not in str(raised.value)
    assert secret not in caplog.text


def test_a_response_slower_than_the_read_timeout_is_abandoned_and_retried(salesforce):
    salesforce.inject(api="salesforce", kind="slow", path_contains="/query/", seconds=3)
    client = _client(salesforce.url, policy=RetryPolicy(backoff_base=0.01, read_timeout=1.0))
    ids = _ids(client.read_pages(ACCOUNT))
    assert len(ids) == len(set(ids)) == ACCOUNTS
    assert client.http.stats.retries == 1


def test_a_raw_table_that_had_a_field_keeps_loading_once_it_is_hidden_with_the_new_rows_null(salesforce, tmp_path):
    warehouse = Warehouse(tmp_path)
    first = warehouse.load("salesforce", [ACCOUNT], _client(salesforce.url))["account"]
    assert warehouse.rows("select count(*), count(currency_iso_code) from raw_salesforce.account") == [
        (ACCOUNTS, ACCOUNTS)]

    salesforce.hide_salesforce_fields({"Account": ["CurrencyIsoCode"]})  # the org turns multi-currency off
    changed, new = (salesforce_account(n, Name=f"Changed {n}", SystemModstamp="2026-02-01T00:00:00.000+0000")
                    for n in (7, ACCOUNTS))  # both still carry a currency at the source
    salesforce.upsert("salesforce", "Account", [changed, new])
    client = _client(salesforce.url)
    second = warehouse.load("salesforce", [ACCOUNT], client)["account"]

    assert second.stopped_early is None and second.cursor_after > first.cursor_after
    assert client.stream_notes(ACCOUNT) == ["fields not exposed to the integration user: CurrencyIsoCode"]
    # The rows this load wrote (the two above and the lookback's) have no currency; the others keep theirs.
    assert warehouse.rows("select _run_id, count(*) - count(currency_iso_code) from raw_salesforce.account "
                          "group by _run_id order by _run_id") == [("run-1", 0), ("run-2", second.rows)]
    assert warehouse.rows("select count(*), count(distinct id) from raw_salesforce.account") == [
        (ACCOUNTS + 1, ACCOUNTS + 1)]
    assert warehouse.rows(f"select name, currency_iso_code from raw_salesforce.account where id in "
                          f"('{changed['Id']}', '{new['Id']}') order by id") == [
        (changed["Name"], None), (new["Name"], None)]
