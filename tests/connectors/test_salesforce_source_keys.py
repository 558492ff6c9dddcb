"""`SalesforceClient.source_keys`: the ids of every record ``queryAll`` still returns, page by page, so the loader can
find the warehouse rows hard-deleted at the source. Everything runs for real against the sandbox over HTTP."""

import pytest
import requests

from connectors.errors import SourceError, SourceLimitReached
from connectors.http import RetryPolicy
from connectors.salesforce.client import API_BUDGET_SETTING, SalesforceClient
from connectors.salesforce.slices import QUERY_TIMEOUT
from connectors.salesforce.streams import ACCOUNT
from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset

ACCOUNTS = 4500
SOFT_DELETED = {7, 99, 4000}


@pytest.fixture
def salesforce(tmp_path):
    """A sandbox of its own per test: hard deletes, faults and API usage change it for good."""
    records = [salesforce_account(n, IsDeleted=n in SOFT_DELETED) for n in range(ACCOUNTS)]
    with running_sandbox(dataset=write_dataset(tmp_path, {("salesforce", "Account"): records})) as running:
        yield running


def _client(url: str, **overrides) -> SalesforceClient:
    settings = {"login_url": url, "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET,
                "refresh_token": auth.REFRESH_TOKEN, "policy": RetryPolicy(backoff_base=0.01), **overrides}
    return SalesforceClient(**settings)


def _account_id(number: int) -> str:
    return salesforce_account(number)["Id"]


def _requests(salesforce) -> int:
    return salesforce.stats()["requests"].get("salesforce", 0)


def test_the_keys_are_every_id_query_all_returns_soft_deleted_ones_included(salesforce):
    read = {record["Id"] for page in _client(salesforce.url).read_pages(ACCOUNT) for record in page}

    pages = list(_client(salesforce.url).source_keys(ACCOUNT))

    assert [len(page) for page in pages] == [2000, 2000, 500]
    assert all(type(key) is str for page in pages for key in page)
    keys = [key for page in pages for key in page]
    assert len(keys) == len(set(keys)) and set(keys) == read == {_account_id(n) for n in range(ACCOUNTS)}
    assert {_account_id(n) for n in SOFT_DELETED} <= set(keys)


def test_listing_the_keys_sends_one_query_and_its_next_pages_and_no_describe(salesforce):
    before = _requests(salesforce)
    list(_client(salesforce.url).source_keys(ACCOUNT))
    assert _requests(salesforce) - before == 1 + 3  # the token, then the query's three pages


def test_hard_deleted_records_are_missing_from_the_keys_and_soft_deleted_ones_are_not(salesforce):
    gone = [_account_id(n) for n in (0, 7, 2500)]  # a soft-deleted one purged from the recycle bin among them
    salesforce.hard_delete_salesforce("Account", gone)

    keys = {key for page in _client(salesforce.url).source_keys(ACCOUNT) for key in page}

    assert keys == {_account_id(n) for n in range(ACCOUNTS)} - set(gone)
    assert {_account_id(n) for n in SOFT_DELETED - {7}} <= keys


def test_the_api_budget_ends_the_listing_after_the_page_that_reached_it(salesforce):
    salesforce.set_salesforce_api_usage(used=898, limit=1000)  # the token is the 899th: the first page reports 900
    pages = _client(salesforce.url).source_keys(ACCOUNT)
    assert len(next(pages)) == 2000
    sent = _requests(salesforce)
    with pytest.raises(SourceLimitReached, match=API_BUDGET_SETTING) as raised:
        next(pages)
    assert raised.value.kind == "api_budget" and raised.value.source_wide
    assert _requests(salesforce) == sent  # nothing sent after the answer that reached the budget


def test_a_usage_past_the_budget_before_the_listing_sends_no_query(salesforce):
    salesforce.set_salesforce_api_usage(used=950, limit=1000)
    client = _client(salesforce.url)
    client.check()  # an earlier answer of the run reported the usage
    sent = _requests(salesforce)
    with pytest.raises(SourceLimitReached, match=API_BUDGET_SETTING):
        next(client.source_keys(ACCOUNT))
    assert _requests(salesforce) == sent


def test_a_key_query_refused_as_running_too_long_is_listed_in_slices_of_the_cursor(salesforce):
    salesforce.inject(api="salesforce", kind="query_timeout", path_contains="/queryAll", rows=1000, times=100)
    pages = list(_client(salesforce.url).source_keys(ACCOUNT))
    keys = [key for page in pages for key in page]
    assert set(keys) == {_account_id(n) for n in range(ACCOUNTS)} and len(keys) == ACCOUNTS
    assert len(pages) > 3 and max(map(len, pages)) <= 1000  # slices' pages, each within the rows the fault allows
    refused = requests.get(f"{salesforce.url}/_sandbox/faults", timeout=10).json()[0]["fired"]
    assert refused >= 2  # the key query, then the whole object's query of the slicing before its first slice


def test_a_key_listing_refused_after_pages_were_handed_over_raises(salesforce):
    salesforce.inject(api="salesforce", kind="query_timeout", rows=0, path_contains="/query/")
    pages = _client(salesforce.url).source_keys(ACCOUNT)
    assert len(next(pages)) == 2000
    with pytest.raises(SourceError, match="QUERY_TIMEOUT") as raised:
        next(pages)
    assert raised.value.kind == QUERY_TIMEOUT


def test_a_record_listed_without_an_id_fails_the_listing_rather_than_look_hard_deleted(tmp_path):
    records = [salesforce_account(n) for n in range(3)] + [salesforce_account(3, Id=None)]
    with (running_sandbox(dataset=write_dataset(tmp_path, {("salesforce", "Account"): records})) as sandbox,
          pytest.raises(SourceError, match="without a usable id .*the key list is incomplete")):
        list(_client(sandbox.url).source_keys(ACCOUNT))
