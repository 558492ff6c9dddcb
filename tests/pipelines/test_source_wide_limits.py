"""A limit of the whole source (the app's, account's or org's quota) ends the source's remaining streams too.

Each stream would meet the same limit and pay its waits again, so they are left to the next run: reported as
stopped early, naming the stream that met the limit, with their cursors and tables kept. A limit of one stream
or endpoint still lets the next streams load. Everything runs for real: the sandbox over HTTP, the connectors,
dlt into DuckDB; throttle waits are recorded instead of slept.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.ad_metrics import MetricWindow
from connectors.errors import SourceLimitReached
from connectors.google_ads.client import classify as google_classify
from connectors.http import Action, HttpClient, RetryPolicy
from connectors.hubspot.client import classify as hubspot_classify
from connectors.linkedin_ads.client import classify as linkedin_classify
from connectors.meta_ads.client import UNESTIMATED_THROTTLE_SECONDS
from connectors.meta_ads.client import classify as meta_classify
from connectors.meta_ads.streams import ADSET_DAILY_INSIGHTS, CAMPAIGN_DAILY_INSIGHTS
from connectors.meta_ads.streams import STREAMS as META_STREAMS
from connectors.salesforce.client import classify as salesforce_classify
from connectors.salesforce.streams import ACCOUNT, CONTACT
from sandbox.launcher import running_sandbox
from tests.ads_fixtures import clearing_faults, meta_client, rows_of, running_ads_sandbox
from tests.conftest import salesforce_account, write_dataset
from tests.connectors.test_ads_acceptance import Warehouse
from tests.connectors.test_crm_acceptance import salesforce_client
from tests.support.responses import json_response

#: Several chunks of insights, each a step of the stream's cursor.
CHUNKED = MetricWindow(lookback_days=7, history_days=60, chunk_days=10)
INSIGHTS = "/insights"


# --- which limits are the whole source's -----------------------------------------------------------------------


def _meta_error(code: int, subcode: int) -> requests.Response:
    return json_response(400, {"error": {"message": "throttled", "code": code, "error_subcode": subcode}})


def _salesforce_limit(message: str) -> requests.Response:
    return json_response(403, [{"message": message, "errorCode": "REQUEST_LIMIT_EXCEEDED"}])


def _google_quota() -> requests.Response:
    failure = {"errorCode": {"quotaError": "RESOURCE_EXHAUSTED"}, "message": "Too many requests.",
               "details": {"quotaErrorDetails": {"rateScope": "DEVELOPER", "retryDelay": "86400s"}}}
    return json_response(429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                                     "details": [{"errors": [failure]}]}})


LIMITS = {  # name: (classifier, response, action, whole source's)
    "meta app (4)": (meta_classify, _meta_error(4, 1504022), Action.RETRY, True),
    "meta user (17)": (meta_classify, _meta_error(17, 2446079), Action.RETRY, True),
    "meta ad account (613)": (meta_classify, _meta_error(613, 1487742), Action.RETRY, True),
    "meta insights use case (80000)": (meta_classify, _meta_error(80000, 2446079), Action.RETRY, False),
    "meta ads management use case (80004)": (meta_classify, _meta_error(80004, 2446079), Action.RETRY, False),
    "salesforce org daily limit": (salesforce_classify, _salesforce_limit("TotalRequests Limit exceeded."),
                                   Action.STOP, True),
    "salesforce concurrent long requests": (
        salesforce_classify, _salesforce_limit("ConcurrentPerOrgLongTxn Limit exceeded."), Action.STOP, False),
    "hubspot daily": (hubspot_classify, json_response(429, {"policyName": "DAILY"}), Action.STOP, True),
    "hubspot ten-secondly": (hubspot_classify, json_response(429, {"policyName": "TEN_SECONDLY_ROLLING"}),
                             Action.RETRY, False),
    "linkedin resource day throttle": (linkedin_classify, json_response(429, {
        "status": 429, "code": "TOO_MANY_REQUESTS",
        "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}),
        Action.STOP, False),
    "google ads quota": (google_classify, _google_quota(), Action.RETRY, True),
}


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_each_sources_limits_are_the_whole_sources_only_where_its_api_says_so(name):
    classify, response, action, source_wide = LIMITS[name]
    verdict = classify(response)
    assert (verdict.action, verdict.source_wide) == (action, source_wide)


class _Answers:
    """A session answering every request with one canned response."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response

    def request(self, *args, **kwargs) -> requests.Response:
        return self.response


@pytest.mark.parametrize("case", ["stop", "retries spent", "wait too long"])
def test_the_error_that_ends_a_stream_says_whether_its_limit_is_the_whole_sources(case):
    response, classify = {
        "stop": (_salesforce_limit("TotalRequests Limit exceeded."), salesforce_classify),
        "retries spent": (_meta_error(4, 1504022), meta_classify),
        "wait too long": (_google_quota(), google_classify),
    }[case]
    client = HttpClient("source", classify=classify, session=_Answers(response), sleep=lambda _: None,
                        policy=RetryPolicy(max_attempts=2, max_wait=UNESTIMATED_THROTTLE_SECONDS))
    with pytest.raises(SourceLimitReached) as raised:
        client.get_json("https://api.example/x")
    assert raised.value.source_wide


# --- Meta, over the sandbox ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ads_sandbox(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory) as running:
        yield running


@pytest.fixture
def ads(ads_sandbox):
    yield from clearing_faults(ads_sandbox)


class _RecordingSession(requests.Session):
    """A session that records every request it sends: method, URL and query parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, dict]] = []

    def request(self, method, url, *args, **kwargs):
        self.sent.append((method, url, dict(kwargs.get("params") or {})))
        return super().request(method, url, *args, **kwargs)


def _recorded(client):
    """`client` with its requests recorded (``client.http.session.sent``) and the streams whose read it was asked
    for (``client.reads``)."""
    client.http.session = _RecordingSession()
    client.reads = []
    read_pages = client.read_pages

    def recording_read_pages(stream, since=None):
        client.reads.append(stream.name)
        return read_pages(stream, since)

    client.read_pages = recording_read_pages
    return client


def _table(warehouse: Warehouse, name: str) -> list[tuple]:
    """Every row's key and the run that loaded it, in key order."""
    key = next(stream.primary_key for stream in META_STREAMS if stream.name == name)
    return warehouse.rows(f"select {key}, _run_id from raw_meta_ads.{name} order by 1")


def test_a_persistent_app_throttle_leaves_the_remaining_meta_streams_unread_with_their_cursors_and_tables(
        ads, tmp_path):
    warehouse = Warehouse(tmp_path)
    night_one = warehouse.load("meta_ads", META_STREAMS, meta_client(ads.url))
    tables = {stream.name: _table(warehouse, stream.name) for stream in META_STREAMS}

    # The app's quota is spent from the campaigns' read on (their discovery, one request, still passes).
    ads.inject(api="meta_ads", kind="app_rate_limit", path_contains="/campaigns", skip=1, times=1000)
    client = _recorded(meta_client(ads.url))
    night_two = warehouse.load("meta_ads", META_STREAMS, client)
    ads.clear_faults()

    assert client.reads == ["ad_accounts", "campaigns"]  # the reader started no stream after the throttled one
    sent = client.http.session.sent
    assert not [url for _, url, _ in sent if url.endswith(INSIGHTS)]
    assert len([url for _, url, _ in sent if url.endswith("/adsets")]) == 1  # its discovery, before any read
    assert client.sleep == [UNESTIMATED_THROTTLE_SECONDS] * 5  # the waits were paid once, not once per stream
    assert night_two["ad_accounts"].stopped_early is None
    assert "code 4/1504022" in night_two["campaigns"].stopped_early
    for name in ("adsets", CAMPAIGN_DAILY_INSIGHTS.name, ADSET_DAILY_INSIGHTS.name):
        skipped = night_two[name]
        assert skipped.stopped_early.startswith("not read: stream campaigns met a limit of the whole source")
        assert "code 4/1504022" in skipped.stopped_early
        assert skipped.rows == 0
        assert skipped.cursor_before == skipped.cursor_after == night_one[name].cursor_after
    for name in ("campaigns", "adsets", CAMPAIGN_DAILY_INSIGHTS.name, ADSET_DAILY_INSIGHTS.name):
        assert _table(warehouse, name) == tables[name]  # untouched: the full refreshes were not emptied

    night_three = warehouse.load("meta_ads", META_STREAMS, meta_client(ads.url))
    assert all(load.stopped_early is None for load in night_three.values())
    for stream in META_STREAMS:  # every row of night one, none twice
        assert [key for key, _ in _table(warehouse, stream.name)] == [key for key, _ in tables[stream.name]]


def test_a_throttle_mid_stream_keeps_what_was_read_sends_nothing_for_the_next_stream_and_the_next_run_completes(
        ads, tmp_path, caplog):
    streams = [CAMPAIGN_DAILY_INSIGHTS, ADSET_DAILY_INSIGHTS]
    clean = {stream.name: sorted(row["_row_key"] for row in rows_of(meta_client(ads.url, window=CHUNKED)
                                                                     .read_pages(stream)))
             for stream in streams}
    warehouse = Warehouse(tmp_path)
    ads.inject(api="meta_ads", kind="app_rate_limit", path_contains=INSIGHTS, skip=4, times=1000)
    client = _recorded(meta_client(ads.url, window=CHUNKED))
    stopped = warehouse.load("meta_ads", streams, client)
    ads.clear_faults()

    first, second = stopped[CAMPAIGN_DAILY_INSIGHTS.name], stopped[ADSET_DAILY_INSIGHTS.name]
    assert "still throttled after 6 attempts" in first.stopped_early
    assert 0 < first.rows < len(clean[CAMPAIGN_DAILY_INSIGHTS.name])  # what was read is merged
    assert {params.get("level") for _, _, params in client.http.session.sent} <= {"campaign", None}
    assert second.stopped_early.startswith("not read: stream campaign_daily_insights met a limit of the whole")
    assert (second.rows, second.cursor_after) == (0, None)
    assert warehouse.rows("select table_name from information_schema.tables "
                          f"where table_name = '{ADSET_DAILY_INSIGHTS.name}'") == []  # not even created empty
    loader_warnings = [record.getMessage() for record in caplog.records if record.name == "pipelines.raw_loader"]
    assert len([message for message in loader_warnings if ADSET_DAILY_INSIGHTS.name in message]) == 1

    resumed = warehouse.load("meta_ads", streams, meta_client(ads.url, window=CHUNKED))
    assert resumed[CAMPAIGN_DAILY_INSIGHTS.name].cursor_before == first.cursor_after
    assert all(load.stopped_early is None for load in resumed.values())
    for stream in streams:  # no row lost, none twice
        loaded = warehouse.rows(f"select row_key from raw_meta_ads.{stream.name} order by 1")
        assert [key for (key,) in loaded] == clean[stream.name]


def test_a_business_use_case_throttle_ends_its_own_stream_and_the_next_stream_still_loads(ads, tmp_path):
    streams = [CAMPAIGN_DAILY_INSIGHTS, ADSET_DAILY_INSIGHTS]
    clean = len(rows_of(meta_client(ads.url).read_pages(ADSET_DAILY_INSIGHTS)))
    # Code 80000, regain access in 7,200 minutes: longer than a run waits, so the stream ends at once.
    ads.inject(api="meta_ads", kind="rate_limit", path_contains=INSIGHTS, times=1, retry_after=7200)
    client = meta_client(ads.url)
    loads = Warehouse(tmp_path).load("meta_ads", streams, client)
    assert "code 80000" in loads[CAMPAIGN_DAILY_INSIGHTS.name].stopped_early
    assert (loads[ADSET_DAILY_INSIGHTS.name].rows, loads[ADSET_DAILY_INSIGHTS.name].stopped_early) == (clean, None)
    assert client.sleep == []


# --- Salesforce, over the sandbox ------------------------------------------------------------------------------


def _contact(number: int) -> dict:
    stamp = f"2026-01-{1 + number % 28:02d}T{number % 24:02d}:30:00.000+0000"
    return {"Id": f"003SANDBOX{number:08d}", "IsDeleted": False, "MasterRecordId": None,
            "AccountId": f"001SANDBOX{number:08d}", "FirstName": f"F{number}", "LastName": "Doe",
            "Name": f"F{number} Doe", "Email": f"person{number}@example.org",
            "CreatedDate": "2025-06-01T08:00:00.000+0000", "LastModifiedDate": stamp, "SystemModstamp": stamp}


@pytest.fixture(scope="module")
def crm_sandbox(tmp_path_factory):
    folder = write_dataset(tmp_path_factory.mktemp("crm"), {
        ("salesforce", "Account"): [salesforce_account(n) for n in range(3000)],  # two pages of 2,000
        ("salesforce", "Contact"): [_contact(n) for n in range(50)],
    })
    with running_sandbox(dataset=folder) as running:
        yield running


@pytest.fixture
def crm(crm_sandbox):
    yield from clearing_faults(crm_sandbox)


def _queried_objects(client) -> list[str]:
    """The objects of the SOQL queries `client` sent (in their URLs), in order."""
    queries = [parse_qs(urlsplit(url).query).get("q") for _, url, _ in client.http.session.sent]
    return [query[0].split(" FROM ")[1].split()[0] for query in queries if query]


def _counts(warehouse: Warehouse, table: str) -> list[tuple]:
    return warehouse.rows(f"select count(*), count(distinct id) from raw_salesforce.{table}")


def test_the_orgs_daily_limit_leaves_the_remaining_salesforce_streams_to_the_next_run(crm, tmp_path):
    warehouse = Warehouse(tmp_path)
    crm.inject(api="salesforce", kind="rate_limit", path_contains="/query", skip=1)  # the second page of accounts
    client = _recorded(salesforce_client(crm.url))
    stopped = warehouse.load("salesforce", [ACCOUNT, CONTACT], client)
    crm.clear_faults()

    assert "REQUEST_LIMIT_EXCEEDED" in stopped["account"].stopped_early and stopped["account"].rows == 2000
    assert _queried_objects(client) == ["Account"] and client.reads == ["account"]  # no query of contacts
    assert stopped["contact"].stopped_early.startswith("not read: stream account met a limit of the whole source")
    assert "REQUEST_LIMIT_EXCEEDED" in stopped["contact"].stopped_early
    assert (stopped["contact"].rows, stopped["contact"].cursor_after) == (0, None)

    resumed = warehouse.load("salesforce", [ACCOUNT, CONTACT], salesforce_client(crm.url))
    assert resumed["account"].cursor_before == stopped["account"].cursor_after
    assert all(load.stopped_early is None for load in resumed.values())
    assert _counts(warehouse, "account") == [(3000, 3000)] and _counts(warehouse, "contact") == [(50, 50)]


def test_the_orgs_daily_limit_met_in_discovery_discovers_and_reads_nothing_more(crm, tmp_path):
    warehouse = Warehouse(tmp_path)
    crm.inject(api="salesforce", kind="rate_limit", path_contains="/describe")
    client = _recorded(salesforce_client(crm.url))
    stopped = warehouse.load("salesforce", [ACCOUNT, CONTACT], client)
    crm.clear_faults()

    describes = [url for _, url, _ in client.http.session.sent if url.endswith("/describe")]
    assert [url.split("/")[-2] for url in describes] == ["Account"]  # the contacts' discovery was not asked for
    assert client.reads == [] and _queried_objects(client) == []
    assert "REQUEST_LIMIT_EXCEEDED" in stopped["account"].stopped_early
    assert stopped["contact"].stopped_early.startswith("not read: stream account met a limit of the whole source")

    warehouse.load("salesforce", [ACCOUNT, CONTACT], salesforce_client(crm.url))
    assert _counts(warehouse, "account") == [(3000, 3000)] and _counts(warehouse, "contact") == [(50, 50)]


def test_the_orgs_concurrent_request_limit_ends_one_stream_and_the_next_still_loads(crm, tmp_path):
    warehouse = Warehouse(tmp_path)
    crm.inject(api="salesforce", kind="concurrent_limit", path_contains="/query", skip=1, times=1)
    loads = warehouse.load("salesforce", [ACCOUNT, CONTACT], salesforce_client(crm.url))
    assert "ConcurrentPerOrgLongTxn" in loads["account"].stopped_early and loads["account"].rows == 2000
    assert (loads["contact"].rows, loads["contact"].stopped_early) == (50, None)
    assert _counts(warehouse, "contact") == [(50, 50)]
