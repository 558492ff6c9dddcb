"""The Salesforce API budget: a sync stops cleanly at a configured share of the org's daily API allocation.

The allocation is shared with every other integration of the org, so the sync reads ``Sforce-Limit-Info`` on each
answer and, once the usage reaches `SALESFORCE_API_BUDGET_PERCENT` of the limit, ends the stream after the page it
just received (loaded, its cursor committed) and leaves the remaining streams to the next night. Everything runs for
real: the sandbox over HTTP (its usage set through ``/_sandbox/salesforce/api-usage``), the connector, dlt into
DuckDB.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import requests

from connectors.errors import SourceLimitReached
from connectors.salesforce.client import API_BUDGET_SETTING, ApiUsage, SalesforceClient, api_usage
from connectors.salesforce.streams import ACCOUNT, CONTACT
from pipelines.defs.ingest.salesforce import salesforce_raw
from pipelines.lib.sources import SalesforceResource
from pipelines.lib.warehouse import WarehouseResource
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset
from tests.connectors.test_ads_acceptance import Warehouse
from tests.connectors.test_crm_acceptance import salesforce_client
from tests.pipelines.test_source_wide_limits import _contact, _counts, _queried_objects, _recorded

ACCOUNTS, CONTACTS, PAGE = 3000, 50, 500
#: A small allocation, so a few requests cross 90 % of it.
LIMIT = 1000
BUDGET_REACHED = LIMIT * 90 // 100
# Credentials of the tests that send no request: distinct from any word, as the redaction masks them everywhere.
CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = "budget-test-app", "budget-test-app-secret", "budget-test-refresh-token"


# --- reading the header --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "usage"), [
    ("api-usage=48213/100000", ApiUsage(48213, 100000)),
    ("api-usage=48213/100000; api-bursts=1/750", ApiUsage(48213, 100000)),
    ("api-usage=17/250; per-app-api-usage=17/250(appName=sample-connected-app)", ApiUsage(17, 250)),
    ("per-app-api-usage=17/250(appName=app); api-usage=90/100", ApiUsage(90, 100)),
    ("  API-Usage = 5/10 ", ApiUsage(5, 10)),
    ("per-app-api-usage=17/250(appName=app)", None),  # the app's own share is not the org's allocation
    ("api-bursts=1/750", None),
    ("api-usage=many/100000", None),
    ("api-usage=5/0", None),
    ("api-usage=", None),
    ("", None),
    (None, None),
])
def test_the_orgs_usage_is_read_from_sforce_limit_info_and_anything_else_is_tolerated(header, usage):
    assert api_usage(header) == usage


def test_the_budget_is_reached_at_its_share_of_the_limit_not_before():
    assert not ApiUsage(899, 1000).reaches(90)
    assert ApiUsage(900, 1000).reaches(90) and ApiUsage(901, 1000).reaches(90)


# --- the setting ---------------------------------------------------------------------------------------------


def _resource(**settings) -> SalesforceResource:
    return SalesforceResource(login_url="http://127.0.0.1:9", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                              refresh_token=REFRESH_TOKEN, **settings)


def test_the_budget_defaults_to_90_percent_and_its_variable_reaches_the_client(monkeypatch):
    assert _resource().client().api_budget_percent == 90
    assert SalesforceResource.ENVIRONMENT["api_budget_percent"] == API_BUDGET_SETTING
    for name, value in {"SALESFORCE_CLIENT_ID": CLIENT_ID, "SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
                        "SALESFORCE_REFRESH_TOKEN": REFRESH_TOKEN, API_BUDGET_SETTING: "75"}.items():
        monkeypatch.setenv(name, value)
    with dg.build_resources({"salesforce": SalesforceResource.from_environment()}) as resources:
        assert resources.salesforce.client().api_budget_percent == 75


@pytest.mark.parametrize("value", [" 100 ", "1", "75%"])
def test_a_whole_percent_from_1_to_100_is_a_budget(value):
    assert _resource(api_budget_percent=value).client().api_budget_percent == int(value.strip(" %"))


@pytest.mark.parametrize("value", ["0", "101", "-5", "90.5", "ninety", ""])
def test_a_bad_budget_fails_with_a_message_naming_the_setting(value):
    with pytest.raises(ValueError, match=f"{API_BUDGET_SETTING} must be a whole number of percent from 1 to 100"):
        _resource(api_budget_percent=value).client()


@pytest.mark.parametrize("value", [0, 101, 90.0, True])
def test_the_client_refuses_a_budget_out_of_range(value):
    with pytest.raises(ValueError, match="api_budget_percent must be a whole number from 1 to 100"):
        SalesforceClient(login_url="http://127.0.0.1:9", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                         refresh_token=REFRESH_TOKEN, api_budget_percent=value)


def test_a_bad_budget_fails_the_salesforce_sync_with_a_message_naming_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv(API_BUDGET_SETTING, "150")
    warehouse = WarehouseResource(duckdb_path=str(tmp_path / "warehouse.duckdb"), analytics_path="unused",
                                  dlt_pipelines_dir=str(tmp_path / "dlt"))
    salesforce = SalesforceResource(login_url="http://127.0.0.1:9", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                    refresh_token=REFRESH_TOKEN, api_budget_percent=dg.EnvVar(API_BUDGET_SETTING))
    result = dg.materialize([salesforce_raw], resources={"warehouse": warehouse, "salesforce": salesforce},
                            raise_on_error=False)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_failure_data.error.cause.message.strip() == (
        f"ValueError: {API_BUDGET_SETTING} must be a whole number of percent from 1 to 100 (100: no budget), "
        "not '150'")


# --- the sandbox's usage ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crm_sandbox(tmp_path_factory):
    folder = write_dataset(tmp_path_factory.mktemp("crm"), {
        ("salesforce", "Account"): [salesforce_account(n) for n in range(ACCOUNTS)],  # six pages of 500
        ("salesforce", "Contact"): [_contact(n) for n in range(CONTACTS)],
    })
    with running_sandbox(dataset=folder, extra_args=("--page-size", str(PAGE))) as running:
        yield running


@pytest.fixture
def crm(crm_sandbox):
    yield crm_sandbox
    crm_sandbox.set_salesforce_api_usage(used=0, limit=100_000)


def _usage(crm) -> dict:
    return requests.get(f"{crm.url}/_sandbox/salesforce/api-usage", timeout=10).json()


def test_the_sandbox_reports_the_usage_it_was_set_to_and_refuses_requests_past_the_limit(crm):
    assert crm.set_salesforce_api_usage(used=997, limit=LIMIT) == {"used": 997, "limit": LIMIT}
    client = salesforce_client(crm.url, api_budget_percent=100)
    assert client.check()["DailyApiRequests"] == {"Max": LIMIT, "Remaining": 1}  # the token's request counts too
    assert client.http.session.get(f"{client.instance_url}/services/data/v60.0/limits", timeout=10,
                                   headers={"Authorization": f"Bearer {client.auth.access_token()}"},
                                   ).headers["Sforce-Limit-Info"] == f"api-usage=1000/{LIMIT}"
    with pytest.raises(SourceLimitReached, match="REQUEST_LIMIT_EXCEEDED") as raised:
        client.check()  # the 1,001st request of the day
    assert raised.value.source_wide
    assert _usage(crm) == {"used": 1001, "limit": LIMIT}


@pytest.mark.parametrize("body", ['{"used": -1}', '{"limit": 0}', '{"used": "5"}', "[1]", "{"])
def test_the_sandbox_refuses_a_usage_that_is_not_one(crm, body):
    response = requests.post(f"{crm.url}/_sandbox/salesforce/api-usage", data=body, timeout=10)
    assert response.status_code == 400 and "error" in response.json()


# --- a sync against the budget, over the sandbox ---------------------------------------------------------------


def _newest_stamp(warehouse: Warehouse, table: str) -> datetime:
    return warehouse.rows(f"select max(system_modstamp) from raw_salesforce.{table}")[0][0]


def test_usage_crossing_the_budget_ends_the_read_after_that_page_and_the_next_night_completes(crm, tmp_path, caplog):
    warehouse = Warehouse(tmp_path)
    # 3 requests before the first page (token, two describes): the third page's answer reports 900 of 1,000.
    crm.set_salesforce_api_usage(used=BUDGET_REACHED - 6, limit=LIMIT)
    client = _recorded(salesforce_client(crm.url))
    with caplog.at_level(logging.WARNING):
        stopped = warehouse.load("salesforce", [ACCOUNT, CONTACT], client)

    account, contact = stopped["account"], stopped["contact"]
    assert f"has used 900 of its 1,000 daily API requests (90%), the budget of 90% this sync may use " \
           f"({API_BUDGET_SETTING})" in account.stopped_early
    assert account.rows == 3 * PAGE and _counts(warehouse, "account") == [(3 * PAGE, 3 * PAGE)]
    assert _usage(crm)["used"] == BUDGET_REACHED  # nothing was sent after the answer that reached the budget
    assert datetime.fromisoformat(account.cursor_after) == _newest_stamp(warehouse, "account")
    assert _queried_objects(client) == ["Account"] and client.reads == ["account"]  # no query of contacts
    assert contact.stopped_early.startswith("not read: stream account met a limit of the whole source")
    assert API_BUDGET_SETTING in contact.stopped_early and (contact.rows, contact.cursor_after) == (0, None)
    assert any(API_BUDGET_SETTING in record.getMessage() for record in caplog.records
               if record.name == "pipelines.raw_loader")

    crm.set_salesforce_api_usage(used=0)  # the next night, with room left
    resumed = warehouse.load("salesforce", [ACCOUNT, CONTACT], salesforce_client(crm.url))
    assert resumed["account"].cursor_before == account.cursor_after
    assert all(load.stopped_early is None for load in resumed.values())
    assert _counts(warehouse, "account") == [(ACCOUNTS, ACCOUNTS)]  # no row lost, none twice
    assert _counts(warehouse, "contact") == [(CONTACTS, CONTACTS)]
    assert warehouse.rows("select min(id), max(id) from raw_salesforce.account") == [
        (salesforce_account(0)["Id"], salesforce_account(ACCOUNTS - 1)["Id"])]


def test_usage_past_the_budget_when_the_run_starts_sends_no_query_at_all(crm, tmp_path):
    warehouse = Warehouse(tmp_path)
    crm.set_salesforce_api_usage(used=950, limit=LIMIT)
    client = _recorded(salesforce_client(crm.url))
    stopped = warehouse.load("salesforce", [ACCOUNT, CONTACT], client)

    describes = [url for _, url, _ in client.http.session.sent if url.endswith("/describe")]
    assert [url.split("/")[-2] for url in describes] == ["Account"]  # its answer told the usage: nothing more
    assert _queried_objects(client) == [] and client.reads == []
    assert all(API_BUDGET_SETTING in load.stopped_early and load.rows == 0 for load in stopped.values())
    with pytest.raises(SourceLimitReached, match=API_BUDGET_SETTING):  # nor a count for the checks' metadata
        client.source_total(ACCOUNT)
    assert _queried_objects(client) == []


def test_a_stream_that_ends_on_the_page_reaching_the_budget_is_complete_and_the_next_is_not_started(crm, tmp_path):
    warehouse = Warehouse(tmp_path)
    crm.set_salesforce_api_usage(used=BUDGET_REACHED - 9, limit=LIMIT)  # the sixth and last page reaches it
    client = _recorded(salesforce_client(crm.url))
    stopped = warehouse.load("salesforce", [ACCOUNT, CONTACT], client)

    assert (stopped["account"].rows, stopped["account"].stopped_early) == (ACCOUNTS, None)
    assert _queried_objects(client) == ["Account"] and client.reads == ["account", "contact"]
    assert API_BUDGET_SETTING in stopped["contact"].stopped_early and stopped["contact"].rows == 0


def test_a_budget_of_100_percent_reads_to_the_end(crm, tmp_path):
    warehouse = Warehouse(tmp_path)
    crm.set_salesforce_api_usage(used=BUDGET_REACHED - 6, limit=LIMIT)
    loads = warehouse.load("salesforce", [ACCOUNT, CONTACT], salesforce_client(crm.url, api_budget_percent=100))
    assert all(load.stopped_early is None for load in loads.values())
    assert _counts(warehouse, "account") == [(ACCOUNTS, ACCOUNTS)]
    assert _counts(warehouse, "contact") == [(CONTACTS, CONTACTS)]
    assert _usage(crm)["used"] > BUDGET_REACHED



def test_a_page_read_ahead_is_still_handed_over_when_the_page_before_it_was_within_the_budget(crm):
    crm.set_salesforce_api_usage(used=BUDGET_REACHED - 5, limit=LIMIT)  # the token, a describe, then pages
    client = salesforce_client(crm.url)
    client.discover(ACCOUNT)
    pages = client.read_pages(ACCOUNT)
    handed = [next(pages), next(pages)]  # the second answer reports 899: the third page is sent ahead
    deadline = time.monotonic() + 10
    while _usage(crm)["used"] < BUDGET_REACHED and time.monotonic() < deadline:  # it reached the budget
        time.sleep(0.01)
    with pytest.raises(SourceLimitReached, match="has used 900 of its 1,000 daily API requests"):
        handed.extend(pages)
    # The third page, already paid for, is handed over and ends the read: its own answer reached the budget.
    assert [len(page) for page in handed] == [PAGE] * 3
    assert _usage(crm)["used"] == BUDGET_REACHED


# --- the sandbox's allocation: per day, and sized to the org ---------------------------------------------------


def _emulator(accounts: int, requests_served: int = 0):
    """The Salesforce emulator over `accounts` accounts, in this process, `requests_served` requests into its day."""
    from sandbox.apis.salesforce import SalesforceEmulator
    from sandbox.auth import TokenStore
    from sandbox.dataset import Dataset
    from sandbox.server import SandboxState

    dataset = Dataset(clock=datetime(2026, 3, 2, 23, tzinfo=UTC),
                      records={("salesforce", "Account"): [salesforce_account(n) for n in range(accounts)]})
    state = SandboxState(dataset=dataset, tokens=TokenStore(ttl_seconds=3600),
                         requests_served={"salesforce": requests_served})
    return SalesforceEmulator(state), state


def test_a_new_day_on_the_sandbox_clock_starts_the_usage_count_again():
    emulator, state = _emulator(accounts=10, requests_served=95_000)
    assert emulator._api_usage() == 95_000
    emulator.prepare()  # prepared again the same day (records upserted): the count goes on
    assert emulator._api_usage() == 95_000
    state.dataset.clock += timedelta(hours=2)  # an advance past midnight
    emulator.prepare()
    state.requests_served["salesforce"] += 3
    assert emulator._api_usage() == 3


def test_a_large_orgs_allocation_grows_with_its_records(monkeypatch):
    from sandbox.apis import salesforce as emulated

    monkeypatch.setattr(emulated, "DAILY_LIMIT", 100)
    assert _emulator(accounts=1_000)[0].daily_limit == 100  # 1,000 / 20 = 50: the floor holds
    assert _emulator(accounts=4_000)[0].daily_limit == 4_000 // emulated.RECORDS_PER_ALLOCATED_REQUEST
