"""The Google Ads connector against the sandbox: searchStream batches, exact micros, restatement windows in
each customer's time zone, Google's retryDelay, token refresh, and no secret in logs or errors."""

import json
import logging
from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from connectors import schema
from connectors.ad_metrics import MetricWindow
from connectors.errors import AuthenticationError, SourceLimitReached
from connectors.google_ads.client import CUSTOMER_NOT_ENABLED, classify
from connectors.google_ads.stamps import MetricStamp
from connectors.google_ads.streams import (
    AD_GROUP_DAILY_METRICS,
    AD_GROUPS,
    CAMPAIGN_DAILY_METRICS,
    CAMPAIGNS,
    CUSTOMERS,
)
from connectors.http import Action, RetryPolicy
from connectors.pages import PageDecoder
from connectors.read_ahead import DEPTH
from connectors.schema import to_arrow
from sandbox.apis.google_ads import DEVELOPER_TOKEN
from tests.ads_fixtures import (
    DAYS,
    G_AD_GROUPS,
    G_CAMPAIGNS,
    G_DE,
    G_MANAGER,
    G_US,
    clearing_faults,
    g_cost_micros,
    g_impressions,
    google_client,
    rows_of,
    running_ads_sandbox,
    typed_rows,
)
from tests.connectors.test_pages import _read_as_the_loader_does
from tests.support.responses import json_response

BATCH = 7  # rows per searchStream batch, so every answer holds many batches
STREAM = ":searchStream"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory, extra_args=("--page-size", str(BATCH))) as running:
        yield running


@pytest.fixture
def google(sandbox):
    yield from clearing_faults(sandbox)


def _keys(rows) -> list[str]:
    return [row["_row_key"] for row in rows]


def _queries(client) -> list[tuple[str, str]]:
    """Record the date range of every metrics query the client sends, in the order sent: (customer, range)."""
    seen, request = [], client.http.session.request

    def spy(method, url, **kwargs):
        query = (kwargs.get("json") or {}).get("query", "")
        if "BETWEEN" in query:
            seen.append((url.split("/customers/")[1].split("/")[0], query.split("BETWEEN ")[-1]))
        return request(method, url, **kwargs)

    client.http.session.request = spy
    return seen


def test_entities_are_read_whole_with_removed_ones_kept(google):
    client = google_client(google.url, login_customer_id="123-456-7890")  # dashes are not sent
    assert sorted(client.check()["resourceNames"]) == [f"customers/{c}" for c in sorted((G_DE, G_US, G_MANAGER))]
    customers = {r["customer_id"]: (r["currency_code"], r["time_zone"], r["manager"]) for r in
                 typed_rows(CUSTOMERS, rows_of(client.read_pages(CUSTOMERS)))}
    assert customers == {G_DE: ("EUR", "Europe/Berlin", None), G_US: ("USD", "America/Los_Angeles", None),
                         G_MANAGER: ("USD", "America/New_York", True)}
    campaigns = {r["campaign_id"]: r["status"] for r in typed_rows(CAMPAIGNS, rows_of(client.read_pages(CAMPAIGNS)))}
    assert campaigns == {campaign: status for campaign, (_, status, _) in G_CAMPAIGNS.items()}
    groups = typed_rows(AD_GROUPS, rows_of(client.read_pages(AD_GROUPS)))
    assert sorted(r["ad_group_id"] for r in groups) == sorted(G_AD_GROUPS)
    assert {(r["cpc_bid_micros"], r["cpc_bid"]) for r in groups} == {(1_250_000, Decimal("1.25"))}


def test_campaign_flights_are_read_from_the_v23_date_time_fields_as_the_text_google_writes(google):
    """API v23 replaced ``campaign.start_date`` / ``end_date`` by ``start_date_time`` / ``end_date_time``: the
    campaigns stream, with what discovery adds, selects only the new ones, and keeps their text as sent."""
    google.upsert("google_ads", "campaign", [
        {"campaign.id": "111", "campaign.start_date_time": "2026-05-01 00:00:00",
         "campaign.end_date_time": "2026-06-30 23:59:59"},
        {"campaign.id": "444", "campaign.start_date_time": "2026-05-15 00:00:00"},  # open-ended: no end at all
    ])
    client = google_client(google.url)
    stream = client.discover(CAMPAIGNS)
    sent, request = [], client.http.session.request

    def spy(method, url, **kwargs):
        sent.append((kwargs.get("json") or {}).get("query", ""))
        return request(method, url, **kwargs)

    client.http.session.request = spy
    rows = typed_rows(stream, rows_of(client.read_pages(stream)))
    selected = {name.strip() for query in sent for name in query.split(" FROM ")[0].split(",")}
    assert {"campaign.start_date_time", "campaign.end_date_time"} <= selected
    assert not selected & {"campaign.start_date", "campaign.end_date"}
    assert not {"start_date", "end_date"} & {f.column for f in stream.fields}
    flights = {row["campaign_id"]: (row["start_date_time"], row["end_date_time"]) for row in rows}
    assert flights["111"] == ("2026-05-01 00:00:00", "2026-06-30 23:59:59")
    assert flights["444"] == ("2026-05-15 00:00:00", None)


def test_a_date_time_attribute_only_discovery_knows_is_loaded_as_the_text_google_sends(google):
    """Google's catalogue types date-times DATE: a ``*_date_time`` attribute Google adds (a made-up one here) must
    not be read as a date, which "2026-05-03 07:08:09" is not."""
    google.upsert("google_ads", "campaign", [
        {"campaign.id": "444", "campaign.start_date_time": "2026-05-15 00:00:00",
         "campaign.paused_date_time": "2026-05-03 07:08:09"},
    ])
    client = google_client(google.url)
    stream = client.discover(CAMPAIGNS)
    assert "paused_date_time" in {f.column for f in stream.fields}
    conversion = to_arrow(stream, rows_of(client.read_pages(stream)))
    assert not conversion.rejected
    paused = dict(zip(conversion.table["campaign_id"].to_pylist(), conversion.table["paused_date_time"].to_pylist(),
                      strict=True))
    assert paused["444"] == "2026-05-03 07:08:09"


def test_metric_values_are_exact_and_carry_the_customer_currency_and_time_zone(google):
    rows = rows_of(google_client(google.url).read_pages(CAMPAIGN_DAILY_METRICS))
    table = typed_rows(CAMPAIGN_DAILY_METRICS, rows)
    expected = {(campaign, day.isoformat()) for n, day in enumerate(DAYS) for campaign in G_CAMPAIGNS
                if g_impressions(campaign, n)}
    assert len(table) == len({r["row_key"] for r in table}) == len(expected) == 176
    by_key = {(r["campaign_id"], r["date"].isoformat()): r for r in table}
    assert set(by_key) == expected
    first = by_key[("111", "2026-05-01")]
    assert (first["impressions"], first["cost_micros"], first["cost"]) == (1001, 1_501_500_010, Decimal("1501.50001"))
    assert (first["conversions"], first["conversions_value"]) == (Decimal("1.333333"), Decimal("50.25"))
    assert by_key[("111", "2026-05-20")]["cost"] == Decimal("987654321987.654321")  # beyond a float's precision
    assert first["row_key"] == f"{G_DE}:111:2026-05-01" and first["window_key"] == f"{G_DE}:2026-05-01"
    zones = {G_DE: ("EUR", "Europe/Berlin"), G_US: ("USD", "America/Los_Angeles")}
    assert all((r["currency_code"], r["account_time_zone"]) == zones[r["customer_id"]] for r in table)
    # Spend per customer and day equals the source's micros summed as integers, to the last micro.
    loaded, truth = defaultdict(Decimal), defaultdict(int)
    for row in table:
        loaded[(row["customer_id"], row["date"].isoformat())] += row["cost"]
    for n, day in enumerate(DAYS):
        for campaign, (customer, _, _) in G_CAMPAIGNS.items():
            if g_impressions(campaign, n):
                truth[(customer, day.isoformat())] += int(g_cost_micros(campaign, n))
    assert loaded == {key: Decimal(micros).scaleb(-6) for key, micros in truth.items()}


def test_every_batch_of_every_stream_answer_is_read_once(google):
    rows = rows_of(google_client(google.url).read_pages(AD_GROUP_DAILY_METRICS))
    assert len(rows) == len(set(_keys(rows))) == len(G_AD_GROUPS) * len(DAYS)  # 180 rows in batches of 7
    assert {r["_row_key"] for r in rows if r["adGroup"]["id"] == "9003"} >= {f"{G_DE}:333:9003:2026-06-14"}


def test_first_run_backfills_in_date_chunks_ending_today_in_each_time_zone(google):
    window = MetricWindow(lookback_days=7, history_days=30, chunk_days=10)
    client = google_client(google.url, window=window)
    queries = _queries(client)
    rows = rows_of(client.read_pages(CAMPAIGN_DAILY_METRICS))
    # 06:00 UTC: already 15 June in Berlin, still 14 June in Los Angeles; chunks share one grid, oldest first;
    # the manager account has no metrics to ask for.
    assert queries == [
        (G_DE, "'2026-05-17' AND '2026-05-25'"), (G_US, "'2026-05-16' AND '2026-05-25'"),
        (G_DE, "'2026-05-26' AND '2026-06-04'"), (G_US, "'2026-05-26' AND '2026-06-04'"),
        (G_DE, "'2026-06-05' AND '2026-06-14'"), (G_US, "'2026-06-05' AND '2026-06-14'"),
        (G_DE, "'2026-06-15' AND '2026-06-15'"),
    ]
    dates = defaultdict(set)
    for row in rows:
        dates[row["customer"]["id"]].add(row["segments"]["date"])
    assert (min(dates[G_DE]), min(dates[G_US]), max(dates[G_DE])) == ("2026-05-17", "2026-05-16", "2026-06-14")

    queries.clear()
    rows_of(client.read_pages(CAMPAIGN_DAILY_METRICS, since=datetime(2026, 6, 14)))
    assert queries == [(G_DE, "'2026-06-09' AND '2026-06-15'"), (G_US, "'2026-06-08' AND '2026-06-14'")]


def test_metrics_answers_are_read_and_stamped_by_arrow_once_the_first_showed_the_types(google):
    stream = replace(AD_GROUP_DAILY_METRICS, name="ad_group_daily_metrics_pages")  # no types known yet
    window = MetricWindow(lookback_days=7, history_days=60, chunk_days=10)  # several chunks
    read = _read_as_the_loader_does((stream, page) for page in google_client(google.url, window=window).read_pages(
        stream))
    # The first answer goes Python's way and shows the types; every answer after it, all its batches, is Arrow's.
    assert [by_arrow for by_arrow, _, _ in read] == [False] + [True] * (len(read) - 1) and len(read) > 3
    for _, table, records in read:
        assert table.equals(schema.convert_by_columns(stream, records).table)
    tables = [table for _, table, _ in read[1:]]
    assert any(table.num_rows > BATCH for table in tables)  # answers of many batches
    assert sum(table.num_rows for _, table, _ in read) == len(G_AD_GROUPS) * len(DAYS)
    costs = [cost for table in tables for cost in table.column("cost").to_pylist()]
    assert min(costs) >= 0 and any(cost != cost.to_integral_value() for cost in costs)  # micros made exact


def _metric_row(**metrics) -> dict:
    row = {"customer": {"id": G_DE}, "campaign": {"id": "111"}, "adGroup": {"id": "9001", "name": "Brand"},
           "segments": {"date": "2026-05-03"},
           "metrics": {"impressions": "1200", "clicks": "31", "costMicros": "12360000", "conversions": 1.5,
                       "conversionsValue": 186.64}}
    row["metrics"] = {name: value for name, value in {**row["metrics"], **metrics}.items() if value != "absent"}
    return row


def _search_body(*batches: list[dict]) -> bytes:
    return json.dumps([{"results": rows, "fieldMask": "metrics.clicks", "requestId": "r1"} if rows else
                       {"fieldMask": "metrics.clicks", "requestId": "r2"} for rows in batches]).encode()


def test_a_metrics_row_arrow_cannot_read_as_python_does_sends_its_answer_the_python_way():
    stream = replace(AD_GROUP_DAILY_METRICS, name="ad_group_daily_metrics_quirks")
    decode = PageDecoder(stream, "results", {}, stamp=MetricStamp.for_stream(stream, G_DE, "EUR", "Europe/Berlin"),
                         batched=True)
    to_arrow(stream, list(decode(_search_body([_metric_row()]))))  # the first answer shows the types
    # proto3 leaves zero metrics out, and an empty batch has no "results": Arrow reads both as Python does.
    zeros = _metric_row(clicks="absent", conversions="absent", costMicros=None)
    good = decode(_search_body([_metric_row()], [], [zeros, _metric_row(adGroup={"id": "9002"})]))
    assert good.conversion is not None and len(good) == 3
    assert good.conversion.table.equals(to_arrow(stream, list(good)).table)
    first, second = good.conversion.table.to_pylist()[:2]
    assert (first["cost"], first["cost_micros"], first["conversions_value"]) == (Decimal("12.36"), 12360000,
                                                                                 Decimal("186.64"))
    assert (second["clicks"], second["conversions"], second["cost"]) == (0, Decimal(0), Decimal(0))
    for quirk in (_metric_row(costMicros="-5000"),  # a refund: Python reads the sign
                  _metric_row(conversions=0.1234567891)):  # more places than the column keeps: Python rounds
        page = decode(_search_body([_metric_row()], [quirk]))
        assert page.conversion is None, quirk
        reference = to_arrow(stream, list(page))
        assert reference.rejected == [] and reference.table.num_rows == 2
    rounded = to_arrow(stream, list(decode(_search_body([_metric_row(conversions=0.1234567891)])))).table
    assert rounded.column("conversions").to_pylist() == [Decimal("0.123456789")]
    for quarantined in ({**_metric_row(), "adGroup": {"name": "no id"}}, {**_metric_row(), "segments": {}}):
        page = decode(_search_body([_metric_row(), quarantined]))
        assert page.conversion is None, quarantined
        reference = to_arrow(stream, list(page))
        assert len(reference.rejected) == 1 and reference.table.num_rows == 1


def test_the_next_query_is_sent_while_an_answer_is_read_and_each_query_goes_once(google):
    """Every query after the first is sent ahead, while the answer before it is decoded; none is sent twice."""
    window = MetricWindow(lookback_days=7, history_days=30, chunk_days=10)
    client = google_client(google.url, window=window)
    client.customers()
    queries, before = _queries(client), client.http.stats.requests
    pages = client.read_pages(AD_GROUP_DAILY_METRICS)
    next(pages)  # the first chunk: its two queries answered, and the queries after it sent ahead (at most DEPTH)
    assert 2 + 1 <= client.http.stats.requests - before <= 2 + DEPTH
    assert list(pages)
    assert len(queries) == 7 and client.http.stats.requests - before == 7


def test_throttling_waits_at_least_googles_retry_delay(google):
    clean = _keys(rows_of(google_client(google.url).read_pages(AD_GROUP_DAILY_METRICS)))
    google.inject(api="google_ads", kind="rate_limit", path_contains=STREAM, skip=1, times=2, retry_after=3)
    client = google_client(google.url)
    rows = rows_of(client.read_pages(AD_GROUP_DAILY_METRICS))
    assert sorted(_keys(rows)) == sorted(clean)
    assert client.sleep == [3.0, 3.0]
    assert client.http.stats.retries == 2


def test_a_retry_delay_longer_than_allowed_ends_the_stream_cleanly(google):
    google.inject(api="google_ads", kind="rate_limit", path_contains=STREAM, skip=3, retry_after=7200)
    client = google_client(google.url, policy=RetryPolicy(max_wait=600))
    with pytest.raises(SourceLimitReached, match="7200s"):
        rows_of(client.read_pages(CAMPAIGN_DAILY_METRICS))
    assert client.sleep == []


def test_a_throttle_that_outlasts_the_retries_ends_the_stream_cleanly(google):
    google.inject(api="google_ads", kind="rate_limit", path_contains=STREAM, skip=3, times=5, retry_after=2)
    client = google_client(google.url, policy=RetryPolicy(max_attempts=3))
    with pytest.raises(SourceLimitReached, match="still throttled after 3 attempts") as ended:
        rows_of(client.read_pages(CAMPAIGN_DAILY_METRICS))
    assert ended.value.source_wide
    assert client.sleep == [2.0, 2.0]


def test_server_errors_mid_sync_are_retried_without_duplicates(google):
    clean = _keys(rows_of(google_client(google.url).read_pages(CAMPAIGN_DAILY_METRICS)))
    google.inject(api="google_ads", kind="server_error", path_contains=STREAM, skip=2, times=2)
    client = google_client(google.url)
    rows = rows_of(client.read_pages(CAMPAIGN_DAILY_METRICS))
    assert len(rows) == len(set(_keys(rows))) and sorted(_keys(rows)) == sorted(clean)
    assert client.http.stats.retries == 2


def test_a_token_expiring_mid_sync_is_refreshed(google):
    client = google_client(google.url)
    google.inject(api="google_ads", kind="expire_token", path_contains=STREAM, skip=2)
    rows = rows_of(client.read_pages(AD_GROUP_DAILY_METRICS))
    assert len(set(_keys(rows))) == len(G_AD_GROUPS) * len(DAYS)
    assert client.auth.refreshes == 2


def test_an_error_inside_a_successful_stream_is_classified_not_read_as_data():
    ok_batch = {"results": [{"campaign": {"name": "Campaign \"error\" hunting", "id": "1"}}], "fieldMask": "x"}
    throttled = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [{"errors": [{
        "errorCode": {"quotaError": "RESOURCE_EXHAUSTED"}, "message": "Too many requests. Retry in 37 seconds.",
        "details": {"quotaErrorDetails": {"retryDelay": "37s"}}}]}]}}
    assert classify(json_response(200, [ok_batch, ok_batch])).action is Action.OK
    verdict = classify(json_response(200, [ok_batch, throttled]))
    assert (verdict.action, verdict.wait) == (Action.RETRY, 37.0)
    assert classify(json_response(200, [{"error": {"code": 503, "status": "UNAVAILABLE"}}])).action is Action.RETRY
    assert classify(json_response(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}})).action is Action.FAIL


def _refusal(*codes: str) -> dict:
    failures = [{"errorCode": {"authorizationError": code}, "message": code.lower()} for code in codes]
    return {"error": {"code": 403, "status": "PERMISSION_DENIED", "details": [{"errors": failures}]}}


def test_only_a_refusal_of_a_customer_that_is_not_enabled_alone_is_told_apart_from_other_failures():
    for body in (_refusal("CUSTOMER_NOT_ENABLED"), [_refusal("CUSTOMER_NOT_ENABLED")]):  # bare, or in a stream
        verdict = classify(json_response(403, body))
        assert (verdict.action, verdict.kind) == (Action.FAIL, CUSTOMER_NOT_ENABLED)
    for other in (_refusal("USER_PERMISSION_DENIED"), _refusal("CUSTOMER_NOT_ENABLED", "USER_PERMISSION_DENIED"),
                  {"error": {"code": 403, "status": "PERMISSION_DENIED"}}):
        verdict = classify(json_response(403, other))
        assert (verdict.action, verdict.kind) == (Action.FAIL, "")


def test_no_secret_reaches_logs_or_errors(google, caplog):
    caplog.set_level(logging.DEBUG)
    google.inject(api="google_ads", kind="server_error", path_contains=STREAM, skip=1)
    client = google_client(google.url)
    rows_of(client.read_pages(CAMPAIGNS))
    assert "retrying" in caplog.text
    for secret in (client.auth.access_token(), DEVELOPER_TOKEN, client.client_secret, client.refresh_token):
        assert secret not in caplog.text

    canary = "canary-google-refresh-token-0451"
    with pytest.raises(AuthenticationError) as raised:
        google_client(google.url, refresh_token=canary).check()
    assert "invalid_grant" in str(raised.value)
    assert canary not in str(raised.value) and canary not in caplog.text
