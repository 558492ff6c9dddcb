"""The Meta connector against the sandbox: paging.next to the end, string metrics made exact, deleted objects
and their spend kept, async report runs, Meta's throttle codes and usage headers, token exchange, secrets."""

import json
import logging
import threading
import time
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from connectors import schema
from connectors.ad_metrics import MetricWindow
from connectors.errors import AuthenticationError, SourceError, SourceLimitReached
from connectors.http import Action, RetryPolicy
from connectors.meta_ads.client import (
    REPORT_RUN_ATTEMPTS,
    REPORT_RUN_RETRY_SECONDS,
    TOO_BIG_FOR_SYNC,
    UNESTIMATED_THROTTLE_SECONDS,
    _wants_a_report_run,
    classify,
    list_decoder,
)
from connectors.meta_ads.stamps import InsightStamp
from connectors.meta_ads.streams import AD_ACCOUNTS, ADSET_DAILY_INSIGHTS, ADSETS, CAMPAIGN_DAILY_INSIGHTS, CAMPAIGNS
from connectors.schema import to_arrow
from sandbox import auth
from tests.ads_fixtures import (
    DAYS,
    M_ADSETS,
    M_CAMPAIGNS,
    M_EU,
    M_US,
    clearing_faults,
    m_delivers,
    m_spend,
    meta_client,
    rows_of,
    running_ads_sandbox,
    typed_rows,
)
from tests.connectors.test_ads_acceptance import Warehouse
from tests.connectors.test_pages import _read_as_the_loader_does
from tests.support.responses import json_response

INSIGHTS = "/insights"
ADSET_ROWS = len(M_ADSETS) * len(DAYS) - 6  # ad set 2 is dark on six days


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory) as running:
        yield running


@pytest.fixture
def meta(sandbox):
    yield from clearing_faults(sandbox)


def _keys(rows) -> list[str]:
    return sorted(row["_row_key"] for row in rows)


def test_accounts_campaigns_and_adsets_include_deleted_and_archived_ones(meta):
    client = meta_client(meta.url)
    accounts = {r["account_id"]: (r["currency"], r["timezone_name"])
                for r in typed_rows(AD_ACCOUNTS, rows_of(client.read_pages(AD_ACCOUNTS)))}
    assert accounts == {M_EU: ("EUR", "Europe/Berlin"), M_US: ("USD", "America/Los_Angeles")}
    campaigns = typed_rows(CAMPAIGNS, rows_of(client.read_pages(CAMPAIGNS)))
    assert {r["id"]: r["effective_status"] for r in campaigns} == {c: s for c, (_, s) in M_CAMPAIGNS.items()}
    first = next(r for r in campaigns if r["id"] == "120208811223340001")
    assert first["daily_budget"] == 15000  # minor units, as Meta sends budgets
    assert first["created_time"] == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    adsets = typed_rows(ADSETS, rows_of(client.read_pages(ADSETS)))
    assert {r["id"]: r["effective_status"] for r in adsets} == {a: s for a, (_, s) in M_ADSETS.items()}


def test_insights_are_exact_complete_and_paged_until_next_is_absent(meta):
    client = meta_client(meta.url, page_limit=25)  # 11 pages: the first ten all carry paging.next
    pages = list(client.read_pages(ADSET_DAILY_INSIGHTS))
    assert len(pages) > 10
    table = typed_rows(ADSET_DAILY_INSIGHTS, rows_of(pages))
    assert len(table) == len({r["row_key"] for r in table}) == ADSET_ROWS
    by_key = {(r["adset_id"], r["date"].isoformat()): r for r in table}
    for n, day in enumerate(DAYS):
        for adset in M_ADSETS:
            if m_delivers(adset, n):
                assert by_key[(adset, day.isoformat())]["spend"] == Decimal(m_spend(adset, n))
    deleted = by_key[("120208811223350004", "2026-05-01")]  # an ad set of a deleted campaign still spent
    assert deleted["spend"] == Decimal("10.12") and deleted["impressions"] == 1004
    even, odd = by_key[("120208811223350001", "2026-05-03")], by_key[("120208811223350001", "2026-05-04")]
    assert (even["link_clicks"], even["leads"], even["website_leads"], even["website_lead_value"]) == (
        Decimal(5), Decimal(2), Decimal(1), Decimal("9.5"))
    assert '"action_type": "lead"' in even["actions"] and "9.5" in even["action_values"]
    assert (odd["leads"], odd["actions"], odd["action_values"]) == (Decimal(0), None, None)
    zones = {M_EU: ("EUR", "Europe/Berlin"), M_US: ("USD", "America/Los_Angeles")}
    assert all((r["currency_code"], r["account_time_zone"]) == zones[r["account_id"]] for r in table)


def test_insights_pages_are_read_and_stamped_by_arrow_once_the_first_showed_the_types(meta):
    stream = replace(ADSET_DAILY_INSIGHTS, name="adset_daily_insights_pages")  # no types known yet
    window = MetricWindow(lookback_days=7, history_days=60, chunk_days=10)  # several chunks
    client = meta_client(meta.url, page_limit=25, window=window)
    read = _read_as_the_loader_does((stream, page) for page in client.read_pages(stream))
    # The first page goes Python's way and shows the types; every page after it is Arrow's, actions included, from
    # the first chunk on (its pages are all read before the loader takes the first).
    assert [by_arrow for by_arrow, _, _ in read] == [False] + [True] * (len(read) - 1) and len(read) > 3
    for _, table, records in read:
        assert table.equals(schema.convert_by_columns(stream, records).table)
    tables = [table for _, table, _ in read]
    assert sum(table.num_rows for table in tables) == ADSET_ROWS
    assert any('"action_type": "lead"' in (text or "") for table in tables[1:]
               for text in table.column("actions").to_pylist())
    assert sum(sum(filter(None, table.column("leads").to_pylist()), Decimal(0)) for table in tables[1:])


def _insight(**changes) -> dict:
    row = {"account_id": M_EU, "campaign_id": "120208811223340001", "campaign_name": "Prospecting",
           "impressions": "1004", "reach": "900", "clicks": "31", "spend": "10.12",
           "actions": [{"action_type": "link_click", "value": "5"}, {"action_type": "lead", "value": "2"}],
           "action_values": [{"action_type": "offsite_conversion.fb_pixel_lead", "value": "9.5"}],
           "adset_id": "120208811223350001", "adset_name": "Lookalike", "date_start": "2026-05-03",
           "date_stop": "2026-05-03"}
    return {key: value for key, value in {**row, **changes}.items() if value is not None}


def _insights_body(*rows: dict) -> bytes:
    return json.dumps({"data": list(rows), "paging": {"cursors": {"before": "MA", "after": "MQ"}}},
                      separators=(",", ":")).encode()


def test_an_insights_row_arrow_cannot_read_as_python_does_sends_its_page_the_python_way():
    stream = replace(ADSET_DAILY_INSIGHTS, name="adset_daily_insights_quirks")
    decode = list_decoder(stream, InsightStamp.for_stream(stream, M_EU, "EUR", "Europe/Berlin"))
    to_arrow(stream, list(decode(_insights_body(_insight()))))  # the first page shows the types
    good = decode(_insights_body(_insight(), _insight(actions=None, adset_id="120208811223350002")))
    assert good.conversion is not None
    assert good.conversion.table.equals(to_arrow(stream, list(good)).table)
    first, second = good.conversion.table.to_pylist()
    assert (first["link_clicks"], first["leads"], first["website_lead_value"]) == (Decimal(5), Decimal(2),
                                                                                    Decimal("9.5"))
    assert first["actions"] == json.dumps(_insight()["actions"]) and second["actions"] is None
    assert (second["leads"], second["row_key"]) == (Decimal(0), f"{M_EU}:120208811223340001:120208811223350002:"
                                                                "2026-05-03")
    kept_apart = [
        _insight(actions=[{"value": "2", "action_type": "lead"}]),  # keys in the other order: written as they came
        _insight(actions=[{"action_type": "lead", "value": "2", "1d_click": "1"}]),  # a key the type lacks
        _insight(actions=[{"action_type": "lead"}]),  # no value
        _insight(actions=[{"action_type": "lead", "value": "2"}, {"action_type": "lead", "value": "3"}]),  # twice
        _insight(actions=[{"action_type": "lead_é", "value": "2"}]),  # text JSON writes escaped
        _insight(objective="LEADS"),  # a field the stream does not read
    ]
    for quirk in kept_apart:
        page = decode(_insights_body(_insight(), quirk))
        assert page.conversion is None, quirk
        reference = to_arrow(stream, list(page))
        assert reference.rejected == [] and reference.table.num_rows == 2
        assert reference.table.column("actions")[1].as_py() == json.dumps(quirk["actions"])
    twice = to_arrow(stream, list(decode(_insights_body(kept_apart[3])))).table
    assert twice.column("leads").to_pylist() == [Decimal(3)]  # Python keeps the last
    for quarantined in (_insight(adset_id=None), _insight(campaign_id=""), _insight(date_start=None)):
        page = decode(_insights_body(_insight(), quarantined))
        assert page.conversion is None, quarantined
        reference = to_arrow(stream, list(page))
        assert len(reference.rejected) == 1 and reference.table.num_rows == 1


def test_each_next_page_is_asked_for_while_a_page_is_read_and_only_once(meta):
    client = meta_client(meta.url, page_limit=1)
    client.accounts()
    before = client.http.stats.requests
    pages = client.read_pages(ADSETS)
    next(pages)
    deadline = time.monotonic() + 5
    while client.http.stats.requests - before < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert client.http.stats.requests - before >= 2  # the first page, and the next ones sent ahead
    rest = list(pages)
    assert len(rest) >= len(M_ADSETS) - 1 and client.http.stats.requests - before == 1 + len(rest)


def test_the_next_range_of_insights_is_asked_for_ahead_and_each_request_goes_once(meta):
    client = meta_client(meta.url, page_limit=25)
    sent, request = [], client.http.session.request

    def spy(method, url, **kwargs):
        sent.append(("-ahead" in threading.current_thread().name, url, json.dumps(kwargs.get("params"))))
        return request(method, url, **kwargs)

    client.http.session.request = spy
    assert len(_keys(rows_of(client.read_pages(ADSET_DAILY_INSIGHTS)))) == ADSET_ROWS
    insights = [request for request in sent if INSIGHTS in request[1]]
    assert len({(url, params) for _, url, params in insights}) == len(insights)
    first_pages_ahead = [url for ahead, url, params in insights if ahead and params != "null"]
    assert first_pages_ahead, "no account's date range was asked for while the one before it was read"


def test_campaign_insights_add_up_to_the_adset_spend_per_account_and_day(meta):
    table = typed_rows(CAMPAIGN_DAILY_INSIGHTS, rows_of(meta_client(meta.url).read_pages(CAMPAIGN_DAILY_INSIGHTS)))
    assert len(table) == len({r["row_key"] for r in table}) == len(M_CAMPAIGNS) * len(DAYS)
    loaded, truth = defaultdict(Decimal), defaultdict(Decimal)
    for row in table:
        loaded[(row["account_id"], row["date"].isoformat())] += row["spend"]
    for n, day in enumerate(DAYS):
        for adset, (campaign, _) in M_ADSETS.items():
            if m_delivers(adset, n):
                truth[(M_CAMPAIGNS[campaign][0], day.isoformat())] += Decimal(m_spend(adset, n))
    assert loaded == truth


def test_long_ranges_go_through_async_report_runs_and_return_the_same_rows(meta):
    synced = rows_of(meta_client(meta.url, async_after_days=400).read_pages(ADSET_DAILY_INSIGHTS))
    client = meta_client(meta.url, async_after_days=7)
    reported = rows_of(client.read_pages(ADSET_DAILY_INSIGHTS))
    assert _keys(reported) == _keys(synced) and len(reported) == ADSET_ROWS
    assert [r["spend"] for r in sorted(reported, key=lambda r: r["_row_key"])] == [
        r["spend"] for r in sorted(synced, key=lambda r: r["_row_key"])]
    # Two 30-day chunks per account went async: each run was polled until "Job Completed".
    assert client.sleep == [0.0] * 2 * 4


def test_throttling_waits_for_the_estimated_time_to_regain_access(meta):
    clean = _keys(rows_of(meta_client(meta.url).read_pages(ADSET_DAILY_INSIGHTS)))
    meta.inject(api="meta_ads", kind="rate_limit", path_contains=INSIGHTS, skip=1, retry_after=2)
    meta.inject(api="meta_ads", kind="rate_limit", path_contains="/adsets", retry_after=1)
    client = meta_client(meta.url)
    assert _keys(rows_of(client.read_pages(ADSET_DAILY_INSIGHTS))) == clean
    assert len(rows_of(client.read_pages(ADSETS))) == len(M_ADSETS)
    assert client.sleep == [120.0, 60.0]  # minutes in x-business-use-case-usage, honoured in full


def test_a_throttle_longer_than_allowed_ends_the_stream_cleanly(meta):
    meta.inject(api="meta_ads", kind="rate_limit", path_contains=INSIGHTS, retry_after=60)
    client = meta_client(meta.url, policy=RetryPolicy(max_wait=900))
    with pytest.raises(SourceLimitReached, match="code 80000"):
        rows_of(client.read_pages(CAMPAIGN_DAILY_INSIGHTS))
    assert client.sleep == []


def _throttle_answer(code: int, path: str, usage: dict) -> requests.Response:
    """A throttle answer of Meta's to a request on `path`, with `usage` as its ``x-business-use-case-usage``."""
    response = json_response(400, {"error": {"code": code, "error_subcode": 2446079, "is_transient": True}},
                             {"x-business-use-case-usage": json.dumps(usage)})
    response.request = requests.Request("GET", f"https://graph.facebook.com/v23.0{path}").prepare()
    return response


def _use_case(kind: str, minutes: int) -> dict:
    return {"type": kind, "call_count": 100, "total_cputime": 40, "total_time": 40,
            "estimated_time_to_regain_access": minutes, "ads_api_access_tier": "standard_access"}


def test_a_use_case_throttle_waits_for_its_own_account_and_use_case_not_the_longest_block_in_the_header():
    # Meta's header lists every ad account and use case the app has called; the estimates differ between them.
    usage = {M_EU: [_use_case("ads_insights", 3), _use_case("ads_management", 50)],
             M_US: [_use_case("ads_insights", 40), _use_case("ads_management", 0)]}
    assert classify(_throttle_answer(80000, f"/act_{M_EU}/insights", usage)).wait == 3 * 60
    assert classify(_throttle_answer(80004, f"/act_{M_EU}/adsets", usage)).wait == 50 * 60
    assert classify(_throttle_answer(80000, f"/act_{M_US}/insights", usage)).wait == 40 * 60
    # A request the header says nothing precise about waits for the longest block it could be held by.
    assert classify(_throttle_answer(80000, "/1203957/insights", usage)).wait == 40 * 60  # a report run: no account
    assert classify(_throttle_answer(80000, f"/act_{M_EU}/insights", {M_US: usage[M_US]})).wait == 40 * 60
    assert classify(_throttle_answer(80001, f"/act_{M_EU}/insights", usage)).wait == 50 * 60  # a use case not listed
    assert classify(_throttle_answer(17, f"/act_{M_US}/campaigns", usage)).wait == 40 * 60


def test_a_throttle_without_a_business_use_case_estimate_waits_the_accounts_reset_time_else_a_minute(meta):
    clean = _keys(rows_of(meta_client(meta.url).read_pages(ADSET_DAILY_INSIGHTS)))
    meta.inject(api="meta_ads", kind="app_rate_limit", path_contains=INSIGHTS, skip=1, times=2)  # no time anywhere
    meta.inject(api="meta_ads", kind="account_rate_limit", path_contains="/adsets", retry_after=45)  # reset in 45 s
    client = meta_client(meta.url)
    assert _keys(rows_of(client.read_pages(ADSET_DAILY_INSIGHTS))) == clean
    assert len(rows_of(client.read_pages(ADSETS))) == len(M_ADSETS)
    assert client.sleep == [UNESTIMATED_THROTTLE_SECONDS] * 2 + [45.0]


def test_a_throttle_that_outlasts_the_retries_stops_its_stream_and_the_next_sync_resumes(meta, tmp_path):
    window = MetricWindow(lookback_days=7, history_days=60, chunk_days=10)  # several chunks, each a cursor step
    clean = _keys(rows_of(meta_client(meta.url, window=window).read_pages(ADSET_DAILY_INSIGHTS)))
    warehouse = Warehouse(tmp_path)
    meta.inject(api="meta_ads", kind="app_rate_limit", path_contains=INSIGHTS, skip=8, times=1000)
    client = meta_client(meta.url, window=window)
    stopped = warehouse.load("meta_ads", [ADSET_DAILY_INSIGHTS, CAMPAIGNS], client)
    meta.clear_faults()
    insights = stopped[ADSET_DAILY_INSIGHTS.name]
    assert "still throttled after 6 attempts" in insights.stopped_early and "code 4/1504022" in insights.stopped_early
    assert "x-app-usage 100%" in insights.stopped_early  # the run reports which quota is spent
    assert client.sleep == [UNESTIMATED_THROTTLE_SECONDS] * 5
    assert 0 < insights.rows < len(clean) and insights.cursor_after < DAYS[-1].isoformat()
    # The app's quota is the whole source's: the next stream is left to the next run (tests/pipelines/
    # test_source_wide_limits.py), where a use case's throttle lets it load.
    assert "not read: stream adset_daily_insights" in stopped[CAMPAIGNS.name].stopped_early

    resumed = warehouse.load("meta_ads", [ADSET_DAILY_INSIGHTS], meta_client(meta.url, window=window))
    resumed = resumed[ADSET_DAILY_INSIGHTS.name]
    assert resumed.cursor_before == insights.cursor_after and resumed.stopped_early is None
    assert resumed.rows < len(clean)  # the chunks loaded before the throttle were not read again
    loaded = warehouse.rows("select row_key from raw_meta_ads.adset_daily_insights order by 1")
    assert [key for (key,) in loaded] == clean


def test_an_expired_token_mid_sync_is_exchanged_again(meta):
    client = meta_client(meta.url)
    meta.inject(api="meta_ads", kind="expire_token", path_contains=INSIGHTS, skip=2)
    assert len(set(_keys(rows_of(client.read_pages(ADSET_DAILY_INSIGHTS))))) == ADSET_ROWS
    assert client.auth.refreshes == 2


def test_a_refused_token_is_an_authentication_error_that_does_not_show_it(meta, caplog):
    caplog.set_level(logging.DEBUG)
    canary = "EAAB-canary-meta-user-token-7731"
    with pytest.raises(AuthenticationError, match="code\":190|190") as raised:
        meta_client(meta.url, access_token=canary).check()
    assert canary not in str(raised.value) and canary not in caplog.text


def test_a_next_page_link_to_another_host_is_refused_and_never_sent_the_token(meta, monkeypatch):
    client = meta_client(meta.url)
    asked, get_json = [], client.http.get_json

    def answered_with_a_foreign_next(url, *args, **kwargs):
        asked.append(url)
        page = get_json(url, *args, **kwargs)
        paging = page.envelope.get("paging") or {}
        if paging.get("next"):
            paging["next"] = paging["next"].replace(meta.url, "https://graph.facebook.com.attacker.example")
        return page

    monkeypatch.setattr(client.http, "get_json", answered_with_a_foreign_next)
    with pytest.raises(SourceError, match="paging.next leads away .*graph.facebook.com.attacker.example"):
        rows_of(client.read_pages(ADSET_DAILY_INSIGHTS))
    assert asked and not any("attacker" in url for url in asked)


def test_a_relative_next_page_link_is_refused_without_quoting_its_token(meta, monkeypatch):
    client = meta_client(meta.url)
    get_json = client.http.get_json

    def answered_with_a_relative_next(url, *args, **kwargs):
        page = get_json(url, *args, **kwargs)
        paging = page.envelope.get("paging") or {}
        if paging.get("next"):
            paging["next"] = "/v23.0/act_1/insights?access_token=EAAB-relative-canary&after=QVFI"
        return page

    monkeypatch.setattr(client.http, "get_json", answered_with_a_relative_next)
    with pytest.raises(SourceError, match="paging.next leads away .*a relative link") as raised:
        rows_of(client.read_pages(ADSET_DAILY_INSIGHTS))
    assert "canary" not in str(raised.value)


def test_server_errors_on_a_next_page_are_retried_and_the_token_never_logged(meta, caplog):
    caplog.set_level(logging.DEBUG)
    clean = _keys(rows_of(meta_client(meta.url).read_pages(ADSET_DAILY_INSIGHTS)))
    meta.inject(api="meta_ads", kind="server_error", path_contains=INSIGHTS, skip=1, times=2)  # page 2 = paging.next
    client = meta_client(meta.url)
    rows = rows_of(client.read_pages(ADSET_DAILY_INSIGHTS))
    assert _keys(rows) == clean and client.http.stats.retries == 2
    assert "retrying" in caplog.text and "after=" in caplog.text  # the logged URL is the paging.next one
    for secret in (client.auth.access_token(), auth.CLIENT_SECRET, auth.REFRESH_TOKEN):
        assert secret not in caplog.text
    assert "access_token=" not in caplog.text


@pytest.fixture(scope="module")
def small_sync(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory, env={"SANDBOX_META_SYNC_ROW_LIMIT": "50"}) as running:
        yield running


def test_a_sync_request_meta_finds_too_big_falls_back_to_a_report_run(small_sync):
    client = meta_client(small_sync.url, async_after_days=400)
    rows = rows_of(client.read_pages(ADSET_DAILY_INSIGHTS))
    assert len(set(_keys(rows))) == len(rows) == ADSET_ROWS
    assert client.sleep  # report runs were polled


def test_a_sync_request_meta_gives_up_on_falls_back_to_a_report_run(meta):
    expected = sorted(_keys(rows_of(meta_client(meta.url, async_after_days=400).read_pages(ADSET_DAILY_INSIGHTS))))
    meta.inject(api="meta_ads", kind="insights_timeout", path_contains="/insights")  # code 100 / 1504018, once
    try:
        client = meta_client(meta.url, async_after_days=400)
        rows = rows_of(client.read_pages(ADSET_DAILY_INSIGHTS))
    finally:
        meta.clear_faults()
    assert sorted(_keys(rows)) == expected
    assert client.sleep  # a report run was polled


def _error_response(status: int, code: int, subcode: int, message: str) -> requests.Response:
    return json_response(status, {"error": {"message": message, "code": code, "error_subcode": subcode}})


def test_a_report_run_is_chosen_by_the_cause_meta_signals_not_by_the_wording_of_the_error():
    reworded = classify(_error_response(400, 100, 1504018, "The request took too long. Try a smaller date range."))
    too_much = classify(_error_response(500, 1, 99, "Please reduce the amount of data you're asking for, then retry "
                                                    "your request"))
    unknown = classify(_error_response(500, 1, 99, "An unknown error occurred"))
    assert (reworded.action, reworded.kind) == (too_much.action, too_much.kind) == (Action.FAIL, TOO_BIG_FOR_SYNC)
    assert (unknown.action, unknown.kind) == (Action.RETRY, "")
    # The fallback reads the cause the error carries, never its text: text alike without the cause is not one.
    assert _wants_a_report_run(SourceError("meta_ads: the request took too long", kind=TOO_BIG_FOR_SYNC))
    assert not _wants_a_report_run(SourceError("meta_ads: GET /v23.0/act_1/insights failed: HTTP 400 code 100/1504018: "
                                               "(#100) please reduce the amount of data"))


REPORT_RUNS_OF_EU = f"act_{M_EU}/insights"  # a report-run fault rule on it fires on the EU account's runs only


def _spy_report_runs(client) -> list[tuple[str, str, str]]:
    """The (account, first day, last day) of every report run `client` starts from now on, in order."""
    started, request = [], client.http.session.request

    def spy(method, url, **kwargs):
        if method == "POST":
            window = json.loads(kwargs["data"]["time_range"])
            started.append((url.split("/act_")[1].split("/")[0], window["since"], window["until"]))
        return request(method, url, **kwargs)

    client.http.session.request = spy
    return started


def _days(run: tuple[str, str, str]) -> int:
    return (datetime.fromisoformat(run[2]) - datetime.fromisoformat(run[1])).days + 1


@pytest.mark.parametrize("kind", ["report_run_failed", "report_run_skipped"])
def test_a_report_run_meta_gives_up_on_is_started_again_and_the_rows_are_those_of_a_clean_read(meta, kind):
    clean = rows_of(meta_client(meta.url, async_after_days=7).read_pages(ADSET_DAILY_INSIGHTS))
    meta.inject(api="meta_ads", kind=kind, path_contains=REPORT_RUNS_OF_EU)  # the first EU run ends without results
    client = meta_client(meta.url, async_after_days=7)
    started = _spy_report_runs(client)
    rows = rows_of(client.read_pages(ADSET_DAILY_INSIGHTS))
    assert _keys(rows) == _keys(clean) and len(rows) == ADSET_ROWS
    assert sorted(rows, key=lambda r: r["_row_key"]) == sorted(clean, key=lambda r: r["_row_key"])
    eu = [run for run in started if run[0] == M_EU]
    assert eu[0] == eu[1] and len(set(eu)) == len(eu) - 1  # the same range started again, nothing else twice
    assert client.sleep.count(REPORT_RUN_RETRY_SECONDS) == 1  # one pause before starting it again


def test_a_range_whose_report_runs_keep_failing_is_read_in_halves_with_the_rows_of_a_clean_read(meta):
    clean = rows_of(meta_client(meta.url, async_after_days=7).read_pages(ADSET_DAILY_INSIGHTS))
    meta.inject(api="meta_ads", kind="report_run_failed", path_contains=REPORT_RUNS_OF_EU, times=REPORT_RUN_ATTEMPTS)
    client = meta_client(meta.url, async_after_days=7)
    started = _spy_report_runs(client)
    rows = rows_of(client.read_pages(ADSET_DAILY_INSIGHTS))
    assert sorted(rows, key=lambda r: r["_row_key"]) == sorted(clean, key=lambda r: r["_row_key"])
    assert len(rows) == len(set(_keys(rows))) == ADSET_ROWS  # no day read twice
    eu = [run for run in started if run[0] == M_EU]
    whole, first_half, second_half = eu[0], eu[REPORT_RUN_ATTEMPTS], eu[REPORT_RUN_ATTEMPTS + 1]
    assert eu[:REPORT_RUN_ATTEMPTS] == [whole] * REPORT_RUN_ATTEMPTS
    assert (first_half[1], second_half[2]) == (whole[1], whole[2])  # the halves cover the range, in order
    assert (datetime.fromisoformat(second_half[1]) - datetime.fromisoformat(first_half[2])).days == 1
    assert _days(first_half) - _days(second_half) in (0, 1)
    assert client.sleep.count(REPORT_RUN_RETRY_SECONDS) == REPORT_RUN_ATTEMPTS - 1


def test_a_day_whose_report_runs_always_fail_ends_the_stream_naming_it_and_keeps_the_chunks_before(meta, tmp_path):
    clean = _keys(rows_of(meta_client(meta.url).read_pages(ADSET_DAILY_INSIGHTS)))
    warehouse = Warehouse(tmp_path)
    # The first EU chunk (2026-04-17..05-15) completes; every EU run after it fails, so the next chunk
    # (2026-05-16..06-14) is halved down to its first day, which still fails.
    meta.inject(api="meta_ads", kind="report_run_failed", path_contains=REPORT_RUNS_OF_EU, skip=1, times=1000)
    client = meta_client(meta.url, async_after_days=7)
    started = _spy_report_runs(client)
    loads = warehouse.load("meta_ads", [ADSET_DAILY_INSIGHTS, CAMPAIGNS], client)
    meta.clear_faults()
    stopped = loads[ADSET_DAILY_INSIGHTS.name]
    assert loads[CAMPAIGNS.name].stopped_early is None  # the stream's own end: the source's next streams are read
    assert f"ad account act_{M_EU}" in stopped.stopped_early and "every report run of 2026-05-16 ended" in (
        stopped.stopped_early)
    assert "'Job Failed' (error -2/2490547: Report Failed)" in stopped.stopped_early
    failing = [run for run in started if run[0] == M_EU][1:]
    assert [_days(run) for run in failing[::REPORT_RUN_ATTEMPTS]] == [30, 15, 8, 4, 2, 1]
    assert failing[-1] == (M_EU, "2026-05-16", "2026-05-16") and len(failing) == 6 * REPORT_RUN_ATTEMPTS
    assert client.sleep.count(REPORT_RUN_RETRY_SECONDS) == 6 * (REPORT_RUN_ATTEMPTS - 1)
    # Both accounts' first chunk is loaded, nothing of the chunk the day belongs to; the cursor stops before it.
    before = [key for key in clean if key[-10:] <= "2026-05-15"]
    loaded = warehouse.rows("select row_key from raw_meta_ads.adset_daily_insights order by 1")
    assert [key for (key,) in loaded] == before and stopped.rows == len(before) > 0
    assert stopped.cursor_after == "2026-05-15"

    resumed = warehouse.load("meta_ads", [ADSET_DAILY_INSIGHTS], meta_client(meta.url, async_after_days=7))
    assert resumed[ADSET_DAILY_INSIGHTS.name].stopped_early is None
    loaded = warehouse.rows("select row_key from raw_meta_ads.adset_daily_insights order by 1")
    assert [key for (key,) in loaded] == clean
