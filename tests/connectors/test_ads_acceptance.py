"""Acceptance tests for the ad-platform connectors (issue #5): the CRM acceptance set for every ad stream,
the per-account history backfill and schema drift as each platform shows it on the wire.

Everything runs for real: the sandbox over HTTP, the clients, dlt into DuckDB. The hand-written dataset of
``tests/ads_fixtures.py`` (two or three accounts per platform, 2026-05-01 to 2026-06-14, clients' clock at
2026-06-15 06:00 UTC) keeps every test small. Tests that change records start a sandbox of their own (it is
up in well under a second); the others share one per module and clear its faults after each test.
Restated days inside and outside the window, a run killed mid-sync and malformed metric rows are covered
per platform in ``tests/pipelines/test_ads_ingest.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import pytest

from connectors.ad_metrics import MetricWindow
from connectors.errors import AuthenticationError, SourceLimitReached, SourceUnavailable
from connectors.google_ads.streams import AD_GROUPS, CAMPAIGN_DAILY_METRICS, CAMPAIGNS
from connectors.google_ads.streams import STREAMS as GOOGLE_STREAMS
from connectors.http import RetryPolicy
from connectors.linkedin_ads.streams import CAMPAIGN_DAILY_ANALYTICS
from connectors.linkedin_ads.streams import CAMPAIGNS as LINKEDIN_CAMPAIGNS
from connectors.linkedin_ads.streams import STREAMS as LINKEDIN_STREAMS
from connectors.meta_ads.streams import ADSET_DAILY_INSIGHTS
from connectors.meta_ads.streams import CAMPAIGNS as META_CAMPAIGNS
from connectors.meta_ads.streams import STREAMS as META_STREAMS
from connectors.schema import Stream, to_arrow
from pipelines.lib.raw_loader import load_streams
from sandbox import auth
from sandbox.apis.google_ads import DEVELOPER_TOKEN
from sandbox.launcher import RunningSandbox
from tests.ads_fixtures import (
    DAYS,
    clearing_faults,
    google_client,
    linkedin_client,
    meta_client,
    rows_of,
    running_ads_sandbox,
)

#: A nightly window whose first run reaches back past the first day of data.
NIGHTLY = MetricWindow(lookback_days=28, history_days=60, chunk_days=30)
FIRST_DAY, LAST_DAY = DAYS[0], DAYS[-1]
#: The earliest first day of a 28-day window ending today in any synced time zone (Los Angeles lags a day).
WINDOW_START = date(2026, 5, 18)


def _li_day(day: date) -> dict:
    stamp = {"year": day.year, "month": day.month, "day": day.day}
    return {"start": stamp, "end": dict(stamp)}


def _google_new_account() -> dict[str, list[dict]]:
    customer = "3333333333"
    return {
        "customer": [{"customer.id": customer, "customer.descriptive_name": "Acme UK", "customer.currency_code": "GBP",
                      "customer.time_zone": "Europe/London"}],
        "campaign": [{"customer.id": customer, "campaign.id": "777", "campaign.name": "Campaign 777",
                      "campaign.status": "ENABLED", "campaign.advertising_channel_type": "SEARCH"}],
        "campaign_metrics": [{"customer.id": customer, "campaign.id": "777", "segments.date": day.isoformat(),
                              "metrics.impressions": "500", "metrics.clicks": "9", "metrics.cost_micros": "2500000",
                              "metrics.conversions": 1.0, "metrics.conversions_value": 10.0} for day in DAYS],
    }


def _meta_new_account() -> dict[str, list[dict]]:
    account, campaign, adset = "104857600777777", "120208811223340077", "120208811223350077"
    return {
        "ad_accounts": [{"id": f"act_{account}", "account_id": account, "name": "Acme UK", "currency": "GBP",
                         "timezone_name": "Europe/London", "account_status": 1}],
        "campaigns": [{"id": campaign, "account_id": account, "name": "UK leads", "objective": "OUTCOME_LEADS",
                       "status": "ACTIVE", "effective_status": "ACTIVE"}],
        "adsets": [{"id": adset, "account_id": account, "campaign_id": campaign, "name": "adset 7",
                    "status": "ACTIVE", "effective_status": "ACTIVE"}],
        "adset_insights": [{"account_id": account, "account_currency": "GBP", "campaign_id": campaign,
                            "campaign_name": "UK leads", "adset_id": adset, "adset_name": "adset 7",
                            "date_start": day.isoformat(), "date_stop": day.isoformat(), "impressions": "500",
                            "reach": "400", "clicks": "9", "spend": "12.34"} for day in DAYS],
    }


def _linkedin_new_account() -> dict[str, list[dict]]:
    account, campaign = 508877777, 312456799
    return {
        "ad_accounts": [{"id": account, "name": "Acme UK", "currency": "GBP", "status": "ACTIVE",
                         "type": "BUSINESS"}],
        "campaigns": [{"id": campaign, "account": f"urn:li:sponsoredAccount:{account}",
                       "campaignGroup": "urn:li:sponsoredCampaignGroup:7009", "name": "UK", "status": "ACTIVE",
                       "type": "SPONSORED_UPDATES", "costType": "CPM"}],
        "ad_analytics": [{"pivotValues": [f"urn:li:sponsoredCampaign:{campaign}"], "dateRange": _li_day(day),
                          "impressions": 500, "clicks": 9, "costInLocalCurrency": "12.34", "costInUsd": "15.6"}
                         for day in DAYS],
    }


@dataclass(frozen=True)
class Platform:
    """One ad platform as the acceptance set sees it."""

    make_client: Callable
    streams: tuple[Stream, ...]
    metrics: Stream
    metrics_path: str  # the part of every metrics request's path, for faults
    requests_before_metrics: int  # matching requests sent before the first metrics one (Google: customer reads)
    bad_credentials: tuple[dict, ...]
    new_account: Callable[[], dict[str, list[dict]]]
    throttle_waits: tuple[float, ...] | None  # the waits a 3-throttle storm with retry_after=2 asks for
    served: dict[str, str]  # entity stream → sandbox object, for counts


PLATFORMS = {
    "google_ads": Platform(
        google_client, GOOGLE_STREAMS, CAMPAIGN_DAILY_METRICS, ":searchStream", 3,
        ({"refresh_token": "wrong-refresh"}, {"developer_token": "wrong-developer-token"}),
        _google_new_account, (2.0, 2.0, 2.0),  # retryDelay "2s"
        {"customers": "customer", "campaigns": "campaign", "ad_groups": "ad_group"}),
    "meta_ads": Platform(
        meta_client, META_STREAMS, ADSET_DAILY_INSIGHTS, "/insights", 0,
        ({"access_token": "EAAB-wrong-user-token"}, {"app_secret": "wrong-app-secret"}),
        _meta_new_account, (120.0, 120.0, 120.0),  # estimated_time_to_regain_access: 2 minutes
        {"ad_accounts": "ad_accounts", "campaigns": "campaigns", "adsets": "adsets"}),
    "linkedin_ads": Platform(
        linkedin_client, LINKEDIN_STREAMS, CAMPAIGN_DAILY_ANALYTICS, "/rest/adAnalytics", 0,
        ({"refresh_token": "wrong-refresh"}, {"client_secret": "wrong-client-secret"}),
        _linkedin_new_account, None,  # the APPLICATION DAY throttle: no wait helps before midnight UTC
        {"ad_accounts": "ad_accounts", "campaign_groups": "campaign_groups", "campaigns": "campaigns"}),
}
STREAM_CASES = [pytest.param(name, stream, id=f"{name}.{stream.name}")
                for name, platform in PLATFORMS.items() for stream in platform.streams]
ALL_SECRETS = (auth.CLIENT_SECRET, auth.REFRESH_TOKEN, DEVELOPER_TOKEN)


class Warehouse:
    """A DuckDB file and dlt folder for one test, loading the way the Dagster assets do (discovery included)."""

    def __init__(self, folder):
        self.path = str(folder / "warehouse.duckdb")
        self.dlt = folder / "dlt"
        self.runs = 0

    def load(self, platform: str, streams, client) -> dict:
        self.runs += 1
        return load_streams(platform, streams, client.read_pages, self.path, self.dlt, f"run-{self.runs}",
                            discover=client.discover)

    def rows(self, sql: str) -> list[tuple]:
        with duckdb.connect(self.path, read_only=True) as connection:
            return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """The hand-written sandbox, shared by the tests that do not change records."""
    with running_ads_sandbox(tmp_path_factory) as running:
        yield running


@pytest.fixture
def ads(shared) -> RunningSandbox:
    yield from clearing_faults(shared)


@pytest.fixture
def own(tmp_path_factory) -> RunningSandbox:
    """A sandbox of this test's own, for tests that change records."""
    with running_ads_sandbox(tmp_path_factory) as running:
        yield running


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    return Warehouse(tmp_path)


def _keys(pages) -> list[str]:
    return sorted(record["_row_key"] for record in rows_of(pages))


# --- check and discover ---------------------------------------------------------------------------

@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_check_succeeds_with_valid_credentials_and_fails_clearly_with_invalid(platform, ads, caplog):
    caplog.set_level(logging.DEBUG)
    spec = PLATFORMS[platform]
    assert spec.make_client(ads.url).check()
    for bad in spec.bad_credentials:
        with pytest.raises(AuthenticationError, match="refused") as raised:
            spec.make_client(ads.url, **bad).check()
        for secret in (*bad.values(), *ALL_SECRETS):
            assert secret not in str(raised.value) and secret not in caplog.text


@pytest.mark.parametrize("platform, stream", STREAM_CASES)
def test_every_stream_reads_typed_rows_with_its_primary_key_and_cursor(platform, stream, ads):
    spec = PLATFORMS[platform]
    client = spec.make_client(ads.url)
    discovered = client.discover(stream)
    assert [f.column for f in discovered.fields[:len(stream.fields)]] == [f.column for f in stream.fields]
    conversion = to_arrow(discovered, rows_of(client.read_pages(discovered)))
    table = conversion.table
    assert conversion.rejected == [] and table.num_rows > 0
    keys = table[stream.primary_key].to_pylist()
    assert None not in keys and len(set(keys)) == len(keys)
    if stream.name in spec.served:
        assert table.num_rows == ads.stats()["records"][f"{platform}/{spec.served[stream.name]}"]
    if stream.cursor:  # a metrics stream: its day, and the window it restates (account:day), on every row
        days = table[stream.cursor_column].to_pylist()
        windows = table[stream.window_column].to_pylist()
        assert None not in days and min(days) == FIRST_DAY and max(days) <= LAST_DAY
        assert all(window.endswith(f":{day.isoformat()}") for window, day in zip(windows, days, strict=True))
        assert table["currency_code"].null_count == table["account_time_zone"].null_count == 0


# --- reads ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_full_refresh_twice_gives_identical_tables(platform, ads, tmp_path):
    spec = PLATFORMS[platform]
    tables = []
    for attempt in ("a", "b"):
        warehouse = Warehouse(tmp_path / attempt)
        warehouse.load(platform, spec.streams, spec.make_client(ads.url))
        tables.append({stream.name: warehouse.rows(f"select * exclude (_loaded_at, _run_id, _dlt_load_id) "
                                                   f"from raw_{platform}.{stream.name} order by all")
                       for stream in spec.streams})
    assert tables[0] == tables[1]
    assert all(tables[0].values())


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_new_account_gets_the_full_history_and_the_others_only_their_window(platform, own, warehouse):
    spec = PLATFORMS[platform]
    table = f"raw_{platform}.{spec.metrics.name}"
    first = warehouse.load(platform, [spec.metrics], spec.make_client(own.url, window=NIGHTLY))[spec.metrics.name]
    new_records = spec.new_account()
    for obj, records in new_records.items():
        own.upsert(platform, obj, records)
    second = warehouse.load(platform, [spec.metrics], spec.make_client(own.url, window=NIGHTLY))[spec.metrics.name]

    assert second.cursor_before == first.cursor_after
    per_account = warehouse.rows(f"select split_part(window_key, ':', 1) as account, min(date), count(*) "
                                 f"from {table} where _run_id = 'run-2' group by 1 order by 1")
    [new_account] = {str(next(iter(records[0].values()))).removeprefix("act_")
                     for obj, records in new_records.items() if obj in ("customer", "ad_accounts")}
    reread = {account: (first_day, rows) for account, first_day, rows in per_account}
    # The new account: every day it has, from the first (the whole configured history lies before it).
    assert reread.pop(new_account) == (FIRST_DAY, len(DAYS))
    # The accounts synced before: only their trailing window, the older days kept from the first run.
    assert reread and all(first_day >= WINDOW_START for first_day, _ in reread.values())
    assert warehouse.rows(f"select min(date) from {table} where _run_id = 'run-1'") == [(FIRST_DAY,)]
    assert warehouse.rows(f"select count(*) - count(distinct row_key) from {table}") == [(0,)]


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_far_future_cursor_reads_only_the_trailing_window(platform, ads):
    spec = PLATFORMS[platform]
    far_future = datetime(2100, 1, 1, tzinfo=UTC)
    rows = rows_of(spec.make_client(ads.url, window=NIGHTLY).read_pages(spec.metrics, far_future))
    days = {date.fromisoformat(row["_window_key"].rsplit(":", 1)[1]) for row in rows}
    assert days and min(days) >= WINDOW_START and max(days) == LAST_DAY  # nothing after today is asked for


# --- failures mid-sync ----------------------------------------------------------------------------

@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_server_error_after_a_page_was_served_is_retried_without_duplicates(platform, ads, warehouse):
    spec = PLATFORMS[platform]
    clean = _keys(spec.make_client(ads.url).read_pages(spec.metrics))
    ads.inject(api=platform, kind="server_error", path_contains=spec.metrics_path,
               skip=spec.requests_before_metrics + 2, times=2)
    client = spec.make_client(ads.url)
    result = warehouse.load(platform, [spec.metrics], client)[spec.metrics.name]
    assert client.http.stats.retries == 2 and result.rows == len(clean)
    loaded = warehouse.rows(f"select row_key from raw_{platform}.{spec.metrics.name} order by 1")
    assert [key for (key,) in loaded] == clean


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_throttling_storm_waits_as_long_as_the_platform_says_and_never_less(platform, ads):
    spec = PLATFORMS[platform]
    clean = _keys(spec.make_client(ads.url).read_pages(spec.metrics))
    ads.inject(api=platform, kind="rate_limit", path_contains=spec.metrics_path,
               skip=spec.requests_before_metrics + 1, times=3, retry_after=2)
    client = spec.make_client(ads.url)
    if spec.throttle_waits is None:
        # LinkedIn's day throttle: the run ends at once and leaves the rest to tomorrow's run.
        with pytest.raises(SourceLimitReached, match="DAY"):
            rows_of(client.read_pages(spec.metrics))
        assert client.sleep == [] and client.http.stats.retries == 0
        return
    assert _keys(client.read_pages(spec.metrics)) == clean
    assert client.sleep == list(spec.throttle_waits)  # each retry only after the full advertised wait
    assert client.http.stats.retries == 3


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_run_stopped_by_the_platforms_long_throttle_resumes_where_it_stopped(platform, ads, warehouse):
    spec = PLATFORMS[platform]
    window = MetricWindow(lookback_days=7, history_days=60, chunk_days=10)
    clean = _keys(spec.make_client(ads.url, window=window).read_pages(spec.metrics))
    # Long enough that no platform's wait is allowed (Google seconds, Meta minutes, LinkedIn: the day).
    ads.inject(api=platform, kind="rate_limit", path_contains=spec.metrics_path,
               skip=spec.requests_before_metrics + 8, retry_after=7200)
    stopped = warehouse.load(platform, [spec.metrics], spec.make_client(ads.url, window=window))[spec.metrics.name]
    ads.clear_faults()
    assert stopped.stopped_early and 0 < stopped.rows < len(clean)
    assert stopped.cursor_after < LAST_DAY.isoformat()

    resumed = warehouse.load(platform, [spec.metrics], spec.make_client(ads.url, window=window))[spec.metrics.name]
    assert resumed.cursor_before == stopped.cursor_after and resumed.stopped_early is None
    assert resumed.rows < len(clean)  # the chunks the stopped run loaded were not read again
    loaded = warehouse.rows(f"select row_key from raw_{platform}.{spec.metrics.name} order by 1")
    assert [key for (key,) in loaded] == clean


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_token_expiring_mid_sync_is_renewed_with_the_platforms_own_flow(platform, ads):
    spec = PLATFORMS[platform]
    clean = _keys(spec.make_client(ads.url).read_pages(spec.metrics))
    ads.inject(api=platform, kind="expire_token", path_contains=spec.metrics_path,
               skip=spec.requests_before_metrics + 1)
    client = spec.make_client(ads.url)
    assert _keys(client.read_pages(spec.metrics)) == clean
    assert client.auth.refreshes == 2  # the first token, then one renewal after the 401 / code 190


# --- schema drift ------------------------------------------------------------------------------------

def test_google_ads_a_field_added_to_a_resource_is_found_in_the_field_catalogue_and_selected(own, warehouse):
    warehouse.load("google_ads", [CAMPAIGNS], google_client(own.url))
    own.upsert("google_ads", "campaign", [{"campaign.id": "111", "campaign.optimization_score": 0.82,
                                           "campaign.url_expansion_opt_out": True}])
    client = google_client(own.url)
    assert {"optimization_score", "url_expansion_opt_out"} <= {f.column for f in client.discover(CAMPAIGNS).fields}
    warehouse.load("google_ads", [CAMPAIGNS], client)
    assert warehouse.rows("select campaign_id, optimization_score, url_expansion_opt_out "
                          "from raw_google_ads.campaigns order by 1") == [
        ("111", 0.82, True), ("222", None, None), ("333", None, None), ("444", None, None)]


def test_meta_a_field_added_to_a_node_type_is_found_by_introspection_and_requested(own, warehouse):
    warehouse.load("meta_ads", [META_CAMPAIGNS], meta_client(own.url))
    issues = [{"level": "CAMPAIGN", "error_code": 1815869, "error_summary": "Ad account has no payment method"}]
    own.upsert("meta_ads", "campaigns", [{"id": "120208811223340001", "account_id": "104857600123456",
                                          "smart_promotion_type": "GUIDED_CREATION", "issues_info": issues}])
    warehouse.load("meta_ads", [META_CAMPAIGNS], meta_client(own.url))
    rows = warehouse.rows("select id, smart_promotion_type, issues_info from raw_meta_ads.campaigns "
                          "where smart_promotion_type is not null")
    assert [(id_, kind, json.loads(info)) for id_, kind, info in rows] == [
        ("120208811223340001", "GUIDED_CREATION", issues)]
    assert warehouse.rows("select count(*) from raw_meta_ads.campaigns") == [(5,)]


def test_meta_a_new_action_type_is_kept_in_the_actions_json(own, warehouse):
    day = "2026-06-10"
    new_action = {"action_type": "onsite_conversion.messaging_first_reply", "value": "4"}
    own.upsert("meta_ads", "adset_insights", [{"adset_id": "120208811223350001", "date_start": day, "actions": [
        {"action_type": "lead", "value": "2"}, new_action]}])
    warehouse.load("meta_ads", [ADSET_DAILY_INSIGHTS], meta_client(own.url, window=NIGHTLY))
    [(actions, leads)] = warehouse.rows(
        f"select actions, leads from raw_meta_ads.adset_daily_insights "
        f"where adset_id = '120208811223350001' and date = '{day}'")
    assert new_action in json.loads(actions) and leads == 2


def test_linkedin_a_field_added_to_its_objects_arrives_as_a_new_column(own, warehouse):
    warehouse.load("linkedin_ads", [LINKEDIN_CAMPAIGNS], linkedin_client(own.url))
    own.upsert("linkedin_ads", "campaigns", [{"id": 312456781, "offsiteDeliveryEnabled": True,
                                              "format": "STANDARD_UPDATE", "locale": {"country": "DE",
                                                                                     "language": "de"}}])
    warehouse.load("linkedin_ads", [LINKEDIN_CAMPAIGNS], linkedin_client(own.url))
    rows = warehouse.rows("select id, offsite_delivery_enabled, format, locale from raw_linkedin_ads.campaigns "
                          "where format is not null")
    assert [(id_, flag, kind, json.loads(locale)) for id_, flag, kind, locale in rows] == [
        ("312456781", True, "STANDARD_UPDATE", {"country": "DE", "language": "de"})]
    assert warehouse.rows("select count(*) from raw_linkedin_ads.campaigns") == [(6,)]


# --- bad data -------------------------------------------------------------------------------------------

MALFORMED_ENTITIES = {  # one object per platform whose number or timestamp is not one, and the field the reason names
    "google_ads": (AD_GROUPS, "ad_group", {"ad_group.id": "9001", "ad_group.cpc_bid_micros": "lots"},
                   "adGroup.cpcBidMicros"),
    "meta_ads": (META_CAMPAIGNS, "campaigns", {"id": "120208811223340002", "account_id": "104857600123456",
                                               "created_time": "last tuesday"}, "created_time"),
    "linkedin_ads": (LINKEDIN_CAMPAIGNS, "campaigns", {"id": 312456782, "changeAuditStamps": {
        "created": {"time": "soon"}, "lastModified": {"time": 1775001600002}}}, "changeAuditStamps.created.time"),
}


@pytest.mark.parametrize("platform", sorted(MALFORMED_ENTITIES))
def test_a_malformed_object_is_quarantined_and_the_rest_of_its_table_loaded(platform, own, warehouse):
    stream, obj, record, field = MALFORMED_ENTITIES[platform]
    own.upsert(platform, obj, [record])
    result = warehouse.load(platform, [stream], PLATFORMS[platform].make_client(own.url))[stream.name]
    served = own.stats()["records"][f"{platform}/{obj}"]
    assert (result.quarantined, result.rows) == (1, served - 1)
    assert warehouse.rows(f"select count(*) from raw_{platform}.{stream.name}") == [(served - 1,)]
    [(name, reason, raw)] = warehouse.rows(f"select stream, reason, raw_record from raw_{platform}._quarantine")
    assert name == stream.name and reason.startswith(f"field {field}:")
    assert str(next(iter(record.values()))) in raw  # the record is kept whole, to be looked at and replayed


# --- secrets ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_no_secret_reaches_logs_errors_or_tables(platform, ads, warehouse, caplog):
    caplog.set_level(logging.DEBUG)
    spec = PLATFORMS[platform]
    ads.inject(api=platform, kind="expire_token", path_contains=spec.metrics_path,
               skip=spec.requests_before_metrics + 1)
    ads.inject(api=platform, kind="server_error", path_contains=spec.metrics_path,
               skip=spec.requests_before_metrics + 3)
    client = spec.make_client(ads.url)
    warehouse.load(platform, spec.streams, client)
    tokens = [client.auth.access_token()]
    ads.inject(api=platform, kind="server_error", path_contains=spec.metrics_path, times=RetryPolicy().max_attempts)
    failing = spec.make_client(ads.url, policy=RetryPolicy(backoff_base=0.01, max_attempts=2))
    with pytest.raises(SourceUnavailable, match="still failing") as raised:
        rows_of(failing.read_pages(spec.metrics))
    tokens.append(failing.auth.access_token())
    tables = warehouse.rows(f"select table_name from information_schema.tables where table_schema = 'raw_{platform}' "
                            "and table_name not like '_dlt%'")
    stored = "".join(str(warehouse.rows(f"select * from raw_{platform}.{name}")) for (name,) in tables)
    assert len(tables) >= len(spec.streams)
    for secret in (*ALL_SECRETS, *tokens):
        assert secret not in caplog.text and secret not in str(raised.value) and secret not in stored
