"""The LinkedIn connector against the sandbox: Rest.li queries built by hand, status searches, finder paging,
exact decimal-string money kept apart per currency, adAnalytics read under its silent cap, the DAY throttle,
token refresh, version headers and secrets."""

import json
import logging
import threading
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import connectors.linkedin_ads.client as linkedin_module
from connectors import schema
from connectors.ad_metrics import MetricWindow
from connectors.errors import AuthenticationError, SourceError, SourceLimitReached
from connectors.http import Action
from connectors.linkedin_ads.client import classify, restli_date_range, restli_list
from connectors.linkedin_ads.stamps import AnalyticsStamp
from connectors.linkedin_ads.streams import (
    AD_ACCOUNTS,
    ANALYTICS_METRICS,
    CAMPAIGN_DAILY_ANALYTICS,
    CAMPAIGN_GROUPS,
    CAMPAIGNS,
    MAX_ANALYTICS_FIELDS,
)
from connectors.pages import PageDecoder
from connectors.schema import to_arrow
from tests.ads_fixtures import (
    DAYS,
    L_CAMPAIGNS,
    L_CLOSED,
    L_DELIVERING,
    L_EU,
    L_US,
    clearing_faults,
    l_cost,
    linkedin_client,
    rows_of,
    running_ads_sandbox,
    typed_rows,
)
from tests.connectors.test_pages import _read_as_the_loader_does

ANALYTICS = "/rest/adAnalytics"
ELEMENTS = len(L_DELIVERING) * len(DAYS)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory, extra_args=("--page-size", "2")) as running:
        yield running


@pytest.fixture
def linkedin(sandbox):
    yield from clearing_faults(sandbox)


def _keys(rows) -> list[str]:
    return sorted(row["_row_key"] for row in rows)


def test_restli_structure_stays_literal_and_values_are_encoded():
    assert restli_list(["urn:li:sponsoredAccount:508812345"]) == "List(urn%3Ali%3AsponsoredAccount%3A508812345)"
    assert restli_date_range(date(2026, 5, 1), date(2026, 5, 31)) == (
        "(start:(year:2026,month:5,day:1),end:(year:2026,month:5,day:31))")


def test_every_status_is_searched_and_every_finder_page_read(linkedin):
    client = linkedin_client(linkedin.url)  # two elements per finder page
    assert client.check()["elements"]
    accounts = {r["id"]: r["status"] for r in typed_rows(AD_ACCOUNTS, rows_of(client.read_pages(AD_ACCOUNTS)))}
    assert accounts == {str(L_EU): "ACTIVE", str(L_US): "ACTIVE", str(L_CLOSED): "REMOVED"}
    groups = {r["id"]: r["status"] for r in typed_rows(CAMPAIGN_GROUPS, rows_of(client.read_pages(CAMPAIGN_GROUPS)))}
    assert groups == {"7001": "ACTIVE", "7002": "REMOVED", "7003": "ACTIVE"}
    campaigns = typed_rows(CAMPAIGNS, rows_of(client.read_pages(CAMPAIGNS)))
    assert {r["id"]: r["status"] for r in campaigns} == {str(c): s for c, (_, _, s) in L_CAMPAIGNS.items()}
    first = next(r for r in campaigns if r["id"] == "312456781")
    assert (first["daily_budget_amount"], first["created_at"]) == (
        Decimal("50"), datetime(2026, 4, 1, tzinfo=UTC))


def test_analytics_money_is_exact_kept_apart_and_stamped_with_the_account(linkedin):
    table = typed_rows(CAMPAIGN_DAILY_ANALYTICS, rows_of(linkedin_client(linkedin.url).read_pages(
        CAMPAIGN_DAILY_ANALYTICS)))
    assert len(table) == len({r["row_key"] for r in table}) == ELEMENTS
    row = next(r for r in table if r["row_key"] == f"{L_EU}:312456781:2026-05-01")
    assert (row["cost_in_local_currency"], row["cost_in_usd"]) == (Decimal("1.13"), Decimal("1.1"))
    assert (row["impressions"], row["clicks"], row["external_website_conversions"]) == (1000, 21, 312456781 % 3)
    currencies = {str(L_EU): "EUR", str(L_US): "USD"}
    assert all((r["currency_code"], r["account_time_zone"]) == (currencies[r["account_id"]], "UTC") for r in table)
    assert {r["campaign_id"] for r in table} == {str(c) for c in L_DELIVERING}  # the removed campaign spent too
    loaded, truth = defaultdict(Decimal), defaultdict(Decimal)
    for row in table:
        loaded[(row["account_id"], row["date"])] += row["cost_in_local_currency"]
    for n, day in enumerate(DAYS):
        for campaign in L_DELIVERING:
            truth[(str(L_CAMPAIGNS[campaign][0]), day)] += Decimal(l_cost(campaign, n))
    cents = Decimal("0.01")
    assert {k: v.quantize(cents) for k, v in loaded.items()} == {k: v.quantize(cents) for k, v in truth.items()}


def test_each_analytics_request_stays_within_twenty_fields_counting_date_range_and_pivot_values(linkedin):
    client = linkedin_client(linkedin.url)
    sent, request = [], client.http.session.request

    def spy(method, url, **kwargs):
        sent.append(url)
        return request(method, url, **kwargs)

    client.http.session.request = spy
    assert rows_of(client.read_pages(CAMPAIGN_DAILY_ANALYTICS))
    asked = [parse_qs(urlsplit(url).query)["fields"][0].split(",") for url in sent if "/adAnalytics?" in url]
    assert asked and all(len(fields) <= MAX_ANALYTICS_FIELDS for fields in asked)
    assert all({"dateRange", "pivotValues", *ANALYTICS_METRICS} == set(fields) for fields in asked)


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory, env={"SANDBOX_LINKEDIN_ANALYTICS_CAP": "10"}) as running:
        yield running


def test_analytics_are_sliced_and_split_until_no_answer_reaches_the_cap(capped, monkeypatch):
    unaware = linkedin_client(capped.url, analytics_cap=10**6)
    decode = unaware._analytics_decoder(CAMPAIGN_DAILY_ANALYTICS, str(L_EU))  # its answers are truncated silently
    assert sum(map(len, unaware._analytics_slice(str(L_EU), DAYS[0], DAYS[-1], decode))) == 10 < 3 * len(DAYS)
    client = linkedin_client(capped.url, analytics_cap=10)
    assert len(set(_keys(rows_of(client.read_pages(CAMPAIGN_DAILY_ANALYTICS))))) == ELEMENTS
    monkeypatch.setattr(linkedin_module, "CAP_HEADROOM", 100.0)  # slices sized far too big: full answers get split
    client = linkedin_client(capped.url, analytics_cap=10)
    rows = rows_of(client.read_pages(CAMPAIGN_DAILY_ANALYTICS))
    assert len(rows) == len(set(_keys(rows))) == ELEMENTS


def test_the_next_slice_is_asked_for_ahead_and_each_slice_only_once(capped):
    client = linkedin_client(capped.url, analytics_cap=10)  # small slices: several per account
    sent, request = [], client.http.session.request

    def spy(method, url, **kwargs):
        sent.append(("-ahead" in threading.current_thread().name, url))
        return request(method, url, **kwargs)

    client.http.session.request = spy
    rows = rows_of(client.read_pages(CAMPAIGN_DAILY_ANALYTICS))
    analytics = [(ahead, url) for ahead, url in sent if "/adAnalytics?" in url]
    assert len(set(_keys(rows))) == ELEMENTS and len({url for _, url in analytics}) == len(analytics)
    assert sum(ahead for ahead, _ in analytics) == len(analytics) - 1  # every slice but the very first


def test_the_day_throttle_ends_the_stream_without_waiting(linkedin):
    linkedin.inject(api="linkedin_ads", kind="rate_limit", path_contains=ANALYTICS)
    client = linkedin_client(linkedin.url)
    with pytest.raises(SourceLimitReached, match="APPLICATION DAY"):
        rows_of(client.read_pages(CAMPAIGN_DAILY_ANALYTICS))
    assert client.sleep == [] and client.http.stats.retries == 0


def test_a_short_throttle_waits_for_retry_after():
    response = requests.Response()
    response.status_code, response.headers["Retry-After"] = 429, "7"
    response._content = b'{"status":429,"code":"TOO_MANY_REQUESTS","message":"Too many requests in this minute"}'
    verdict = classify(response)
    assert (verdict.action, verdict.wait) == (Action.RETRY, 7.0)


def test_server_errors_and_an_expired_token_mid_sync_are_recovered_without_duplicates(linkedin):
    clean = _keys(rows_of(linkedin_client(linkedin.url).read_pages(CAMPAIGN_DAILY_ANALYTICS)))
    linkedin.inject(api="linkedin_ads", kind="server_error", path_contains=ANALYTICS, skip=1, times=2)
    linkedin.inject(api="linkedin_ads", kind="expire_token", path_contains=ANALYTICS, skip=3)
    client = linkedin_client(linkedin.url)
    assert _keys(rows_of(client.read_pages(CAMPAIGN_DAILY_ANALYTICS))) == clean
    assert (client.http.stats.retries, client.auth.refreshes) == (2, 2)


def test_a_sunset_version_fails_clearly(linkedin):
    with pytest.raises(SourceError, match="LinkedIn-Version is no longer served"):
        linkedin_client(linkedin.url, api_version="202401").check()


def test_refused_credentials_fail_without_showing_them(linkedin, caplog):
    caplog.set_level(logging.DEBUG)
    canary = "AQV-canary-linkedin-refresh-9921"
    with pytest.raises(AuthenticationError, match="invalid_grant") as raised:
        linkedin_client(linkedin.url, refresh_token=canary).check()
    assert canary not in str(raised.value) and canary not in caplog.text


def test_analytics_pages_are_read_and_stamped_by_arrow_once_the_first_showed_the_types(capped):
    stream = replace(CAMPAIGN_DAILY_ANALYTICS, name="campaign_daily_analytics_pages")  # no types known yet
    window = MetricWindow(lookback_days=7, history_days=60, chunk_days=10)  # several chunks
    client = linkedin_client(capped.url, analytics_cap=10, window=window)  # small slices: several pages per chunk
    read = _read_as_the_loader_does((stream, page) for page in client.read_pages(stream))
    # The first page goes Python's way and shows the types; every page after it is Arrow's, from the first chunk on
    # (a chunk's pages are all read before the loader takes the first: a stopped run never loads half a chunk).
    assert [by_arrow for by_arrow, _, _ in read] == [False] + [True] * (len(read) - 1) and len(read) > 3
    for _, table, records in read:
        assert table.equals(schema.convert_by_columns(stream, records).table)
    assert sum(table.num_rows for _, table, _ in read) == ELEMENTS


def _element(day: int = 5, **changes) -> dict:
    element = {"dateRange": {"start": {"year": 2026, "month": 6, "day": day}, "end": {"year": 2026, "month": 6,
                                                                                      "day": day}},
               "pivotValues": ["urn:li:sponsoredCampaign:77"], "impressions": 10, "clicks": 2,
               "costInLocalCurrency": "12.50", "costInUsd": "13.10"}
    return {**element, **changes}


def test_an_element_arrow_cannot_stamp_as_python_does_sends_its_page_the_python_way():
    stream = replace(CAMPAIGN_DAILY_ANALYTICS, name="campaign_daily_analytics_quirks")
    decode = PageDecoder(stream, "elements", {}, stamp=AnalyticsStamp("501", "EUR", "UTC"))

    def body(*elements: dict) -> bytes:
        return json.dumps({"elements": list(elements), "paging": {"start": 0}}).encode()

    to_arrow(stream, list(decode(body(_element()))))  # the first page shows the types
    good = decode(body(_element(), _element(6, pivotValues=["urn:li:sponsoredCampaign:78", "x"])))
    assert good.conversion is not None
    assert good.conversion.table.equals(to_arrow(stream, list(good)).table)
    assert good.conversion.table.column("row_key").to_pylist() == ["501:77:2026-06-05", "501:78:2026-06-06"]
    quirks = [
        _element(31),  # June 31: no such day
        _element(dateRange={"end": {"year": 2026, "month": 6, "day": 5}}),  # no start
        _element(pivotValues=[]),  # no campaign
        _element(pivotValues=["urn:li:sponsoredCampaign:"]),  # an empty campaign id
        _element(dateRange={"start": {"year": 0, "month": 1, "day": 1}}),  # a year Python's calendar lacks
    ]
    for quirk in quirks:
        page = decode(body(_element(), quirk))
        assert page.conversion is None, quirk
        reference = to_arrow(stream, list(page))
        assert len(reference.rejected) == 1 and reference.table.num_rows == 1  # quarantined, the good one kept
