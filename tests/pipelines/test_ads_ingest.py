"""Ad-platform syncs into DuckDB: restated days replace old numbers without double counting, older days stay,
a run stopped by a throttle resumes at whole chunks, and the Dagster assets load what the sandbox serves."""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import dagster as dg
import duckdb
import pytest
import requests

from connectors.ad_metrics import MetricWindow
from connectors.google_ads.streams import CAMPAIGN_DAILY_METRICS
from connectors.google_ads.streams import STREAMS as GOOGLE_STREAMS
from connectors.http import RetryPolicy
from connectors.linkedin_ads.streams import CAMPAIGN_DAILY_ANALYTICS
from connectors.linkedin_ads.streams import STREAMS as LINKEDIN_STREAMS
from connectors.meta_ads.streams import ADSET_DAILY_INSIGHTS, CAMPAIGN_DAILY_INSIGHTS
from connectors.meta_ads.streams import STREAMS as META_STREAMS
from connectors.schema import Stream
from pipelines.defs.ingest.google_ads import google_ads_raw
from pipelines.defs.ingest.linkedin_ads import linkedin_ads_raw
from pipelines.defs.ingest.meta_ads import meta_ads_raw
from pipelines.lib.raw_loader import load_streams
from pipelines.lib.sources import GoogleAdsResource, LinkedInAdsResource, MetaAdsResource
from sandbox import auth
from sandbox.apis.google_ads import DEVELOPER_TOKEN
from sandbox.generate import generate
from sandbox.generate.scales import AD_HISTORY_DAYS
from sandbox.generate.truth import ad_spend_cents
from tests.ads_fixtures import (
    G_CAMPAIGNS,
    G_DE,
    L_EU,
    M_EU,
    google_client,
    linkedin_client,
    meta_client,
    running_ads_sandbox,
)
from tests.support.warehouse import warehouse_resource

NIGHTLY = MetricWindow(lookback_days=28, history_days=60, chunk_days=30)
INSIDE, OUTSIDE = "2026-06-10", "2026-05-10"  # the 28-day window of the second night starts on 2026-05-19


@pytest.fixture(scope="module")
def ads_sandbox(tmp_path_factory):
    """A hand-written sandbox this module restates (its own, since it changes records)."""
    with running_ads_sandbox(tmp_path_factory) as running:
        yield running


@pytest.fixture
def warehouse(tmp_path):
    return str(tmp_path / "warehouse.duckdb"), tmp_path / "dlt"


def _query(path: str, sql: str) -> list[tuple]:
    with duckdb.connect(path, read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _li_day(day: str) -> dict:
    stamp = {"year": int(day[:4]), "month": int(day[5:7]), "day": int(day[8:])}
    return {"start": stamp, "end": dict(stamp)}


@dataclass(frozen=True)
class Restatement:
    """One platform's metric stream, how to restate one row's money at the source, and where to find it."""

    make_client: Callable
    stream: Stream
    obj: str
    record: Callable[[str, str], dict]
    wire_values: tuple[str, str]  # the restated money, inside and outside the window, as the platform sends it
    loaded_value: Decimal  # the inside value once loaded
    row_key: Callable[[str], str]
    money: str


RESTATEMENTS = {
    "google_ads": Restatement(
        google_client, CAMPAIGN_DAILY_METRICS, "campaign_metrics",
        lambda day, value: {"campaign.id": "111", "segments.date": day, "metrics.cost_micros": value},
        ("987000001", "1000000"), Decimal("987.000001"), lambda day: f"{G_DE}:111:{day}", "cost"),
    "meta_ads": Restatement(
        meta_client, ADSET_DAILY_INSIGHTS, "adset_insights",
        lambda day, value: {"adset_id": "120208811223350001", "date_start": day, "spend": value},
        ("987.01", "1.00"), Decimal("987.01"),
        lambda day: f"{M_EU}:120208811223340001:120208811223350001:{day}", "spend"),
    "linkedin_ads": Restatement(
        linkedin_client, CAMPAIGN_DAILY_ANALYTICS, "ad_analytics",
        lambda day, value: {"pivotValues": ["urn:li:sponsoredCampaign:312456781"], "dateRange": _li_day(day),
                            "costInLocalCurrency": value},
        ("987.0100000000000335346", "1.0000000000000335346"), Decimal("987.01"),
        lambda day: f"{L_EU}:312456781:{day}", "cost_in_local_currency"),
}


@pytest.mark.parametrize("platform", sorted(RESTATEMENTS))
def test_restated_days_in_the_window_replace_old_numbers_and_older_days_stay(platform, ads_sandbox, warehouse):
    spec = RESTATEMENTS[platform]
    path, pipelines_dir = warehouse
    table = f"raw_{platform}.{spec.stream.name}"

    def night(run_id: str):
        client = spec.make_client(ads_sandbox.url, window=NIGHTLY)
        return load_streams(platform, [spec.stream], client.read_pages, path, pipelines_dir, run_id)[spec.stream.name]

    def money_on(day: str) -> tuple:
        return _query(path, f"select {spec.money}, _run_id from {table} where row_key = '{spec.row_key(day)}'")[0]

    first = night("run-1")
    before = {day: money_on(day) for day in (INSIDE, OUTSIDE)}
    [(rows_before,)] = _query(path, f"select count(*) from {table}")
    inside, outside = spec.wire_values
    ads_sandbox.upsert(platform, spec.obj, [spec.record(INSIDE, inside), spec.record(OUTSIDE, outside)])

    second = night("run-2")
    assert second.cursor_before == first.cursor_after == "2026-06-14"
    assert 0 < second.rows < first.rows  # only the window was read again
    assert _query(path, f"select count(*), count(distinct row_key) from {table}") == [(rows_before, rows_before)]
    assert money_on(INSIDE) == (spec.loaded_value, "run-2") != before[INSIDE]
    assert money_on(OUTSIDE) == before[OUTSIDE]  # restated at the source too, but outside the window: untouched
    # The second night re-read 28 days ending today in each account's time zone (LinkedIn: UTC days).
    window_start = date(2026, 5, 19) if platform == "linkedin_ads" else date(2026, 5, 18)  # Los Angeles lags
    reloaded = _query(path, f"select count(*), min(date) from {table} where _run_id = 'run-2'")
    kept = _query(path, f"select max(date) from {table} where _run_id = 'run-1'")
    assert reloaded == [(second.rows, window_start)] and kept == [(date(2026, 5, 18),)]


def test_a_row_the_platform_no_longer_reports_leaves_the_window(ads_sandbox, warehouse):
    path, pipelines_dir = warehouse

    def night(run_id: str) -> None:
        client = google_client(ads_sandbox.url, window=NIGHTLY)
        load_streams("google_ads", [CAMPAIGN_DAILY_METRICS], client.read_pages, path, pipelines_dir, run_id)

    night("run-1")
    ads_sandbox.upsert("google_ads", "campaign_metrics",
                       [{"campaign.id": "222", "segments.date": "2026-06-12", "metrics.impressions": "0"}])
    night("run-2")
    day = "select campaign_id from raw_google_ads.campaign_daily_metrics where date = '2026-06-12' order by 1"
    assert _query(path, day) == [(c,) for c in sorted(G_CAMPAIGNS) if c != "222"]


MALFORMED = {  # the request whose answer the sandbox garbles: Google's first metrics query comes after the 3
    # customers' rows and the client list of the manager among them
    "google_ads": (google_client, CAMPAIGN_DAILY_METRICS, ":searchStream", 4, "field metrics.impressions"),
    "meta_ads": (meta_client, ADSET_DAILY_INSIGHTS, "/insights", 0, "field impressions"),
    "linkedin_ads": (linkedin_client, CAMPAIGN_DAILY_ANALYTICS, "/rest/adAnalytics", 0, "field impressions"),
}


@pytest.mark.parametrize("platform", sorted(MALFORMED))
def test_a_malformed_metric_row_is_quarantined_and_the_stream_goes_on(platform, ads_sandbox, warehouse):
    make_client, stream, path_part, skip, reason = MALFORMED[platform]
    path, pipelines_dir = warehouse
    ads_sandbox.inject(api=platform, kind="malformed", path_contains=path_part, skip=skip)
    try:
        client = make_client(ads_sandbox.url, window=NIGHTLY)
        result = load_streams(platform, [stream], client.read_pages, path, pipelines_dir, "run-q")[stream.name]
    finally:
        ads_sandbox.clear_faults()
    assert (result.quarantined, result.stopped_early) == (1, None) and result.rows > 0
    [(name, why, run_id)] = _query(path, f"select stream, reason, run_id from raw_{platform}._quarantine")
    assert (name, run_id) == (stream.name, "run-q") and reason in why


def test_a_run_stopped_by_a_long_throttle_keeps_whole_chunks_and_the_next_run_resumes(ads_sandbox, warehouse):
    path, pipelines_dir = warehouse
    window = MetricWindow(lookback_days=7, history_days=60, chunk_days=10)  # chunks from 2026-04-16, ten days each
    everything = google_client(ads_sandbox.url).read_pages(CAMPAIGN_DAILY_METRICS)
    expected = sorted(row["_row_key"] for page in everything for row in page)
    # Three customer reads, three whole chunks of two customers each, then Berlin's part of the fourth chunk.
    ads_sandbox.inject(api="google_ads", kind="rate_limit", path_contains=":searchStream", skip=10, retry_after=7200)
    client = google_client(ads_sandbox.url, window=window, policy=RetryPolicy(max_wait=600))
    stopped = load_streams("google_ads", [CAMPAIGN_DAILY_METRICS], client.read_pages, path, pipelines_dir, "run-1")
    stopped = stopped[CAMPAIGN_DAILY_METRICS.name]
    ads_sandbox.clear_faults()
    assert stopped.stopped_early and "7200s" in stopped.stopped_early
    assert stopped.cursor_after == "2026-05-15"
    table = "raw_google_ads.campaign_daily_metrics"
    assert _query(path, f"select min(date), max(date) from {table}") == [(date(2026, 5, 1), date(2026, 5, 15))]

    client = google_client(ads_sandbox.url, window=window)
    resumed = load_streams("google_ads", [CAMPAIGN_DAILY_METRICS], client.read_pages, path, pipelines_dir, "run-2")
    assert resumed[CAMPAIGN_DAILY_METRICS.name].cursor_before == "2026-05-15"
    assert [key for (key,) in _query(path, f"select row_key from {table} order by 1")] == expected


PLATFORMS = {
    "google_ads": (google_client, GOOGLE_STREAMS, ":searchStream"),
    "meta_ads": (meta_client, META_STREAMS, "/insights"),
    "linkedin_ads": (linkedin_client, LINKEDIN_STREAMS, "/rest/adAnalytics"),
}


def test_a_full_backfill_twice_gives_identical_tables(ads_sandbox, tmp_path):
    tables = []
    for attempt in ("a", "b"):  # Google's five streams: entities and metrics (the other platforms load alike)
        path, pipelines_dir = str(tmp_path / attempt / "warehouse.duckdb"), tmp_path / attempt / "dlt"
        load_streams("google_ads", GOOGLE_STREAMS, google_client(ads_sandbox.url).read_pages, path, pipelines_dir,
                     attempt)
        tables.append({stream.name: _query(path, f"select * exclude (_loaded_at, _run_id, _dlt_load_id) "
                                                 f"from raw_google_ads.{stream.name} order by 1")
                       for stream in GOOGLE_STREAMS})
    assert tables[0] == tables[1]
    assert all(tables[0].values())


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_run_killed_mid_sync_commits_nothing_and_the_rerun_loads_everything_once(platform, ads_sandbox,
                                                                                  warehouse):
    make_client, streams, metrics_path = PLATFORMS[platform]
    path, pipelines_dir = warehouse
    stream = streams[-1]
    ads_sandbox.inject(api=platform, kind="server_error", path_contains=metrics_path, skip=4, times=3)
    try:
        with pytest.raises(Exception, match="still failing"):
            client = make_client(ads_sandbox.url, policy=RetryPolicy(backoff_base=0.01, max_attempts=3))
            load_streams(platform, [stream], client.read_pages, path, pipelines_dir, "crashed")
    finally:
        ads_sandbox.clear_faults()
    rerun = load_streams(platform, [stream], make_client(ads_sandbox.url).read_pages, path, pipelines_dir, "rerun")
    assert rerun[stream.name].cursor_before is None  # nothing of the crashed run was committed, state included
    table = f"raw_{platform}.{stream.name}"
    assert _query(path, f"select count(*), count(distinct row_key), count(*) filter (where _run_id = 'rerun') "
                        f"from {table}") == [(rerun[stream.name].rows,) * 3]


def _history_days(clock: datetime) -> int:
    """Days from the generated data's first day to today, so a first run reads all of it."""
    first_day = clock.date() - timedelta(days=AD_HISTORY_DAYS)
    return (datetime.now(UTC).date() - first_day).days + 2


def test_dagster_materializes_every_ad_asset_with_what_the_sandbox_serves(sandbox, pipeline_env):
    env = pipeline_env(sandbox)
    clock = datetime.fromisoformat(requests.get(f"{sandbox.url}/_sandbox/health", timeout=10).json()["clock"])
    history = _history_days(clock)
    url = sandbox.url
    resources = {
        "warehouse": warehouse_resource(env),
        "google_ads": GoogleAdsResource(base_url=url, token_url=f"{url}/token", client_id=auth.CLIENT_ID,
                                        client_secret=auth.CLIENT_SECRET, refresh_token=auth.REFRESH_TOKEN,
                                        developer_token=DEVELOPER_TOKEN, history_days=history),
        "meta_ads": MetaAdsResource(base_url=url, app_id=auth.CLIENT_ID, app_secret=auth.CLIENT_SECRET,
                                    access_token=auth.REFRESH_TOKEN, history_days=history, async_after_days=1000),
        "linkedin_ads": LinkedInAdsResource(base_url=url, auth_url=url, client_id=auth.CLIENT_ID,
                                            client_secret=auth.CLIENT_SECRET, refresh_token=auth.REFRESH_TOKEN,
                                            history_days=history),
    }
    result = dg.materialize([google_ads_raw, meta_ads_raw, linkedin_ads_raw], resources=resources)
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert len(materialized) == 14

    served = sandbox.stats()["records"]
    path = env["WAREHOUSE_DUCKDB_PATH"]
    pairs = {
        "google_ads.customers": "google_ads/customer", "google_ads.campaigns": "google_ads/campaign",
        "google_ads.ad_groups": "google_ads/ad_group",
        "google_ads.campaign_daily_metrics": "google_ads/campaign_metrics",
        "google_ads.ad_group_daily_metrics": "google_ads/ad_group_metrics",
        "meta_ads.ad_accounts": "meta_ads/ad_accounts", "meta_ads.campaigns": "meta_ads/campaigns",
        "meta_ads.adsets": "meta_ads/adsets", "meta_ads.adset_daily_insights": "meta_ads/adset_insights",
        "linkedin_ads.ad_accounts": "linkedin_ads/ad_accounts",
        "linkedin_ads.campaign_groups": "linkedin_ads/campaign_groups",
        "linkedin_ads.campaigns": "linkedin_ads/campaigns",
        "linkedin_ads.campaign_daily_analytics": "linkedin_ads/ad_analytics",
    }
    counts = {table: _query(path, f"select count(*) from raw_{table}")[0][0] for table in pairs}
    assert counts == {table: served[obj] for table, obj in pairs.items()}
    assert _query(path, "select count(*) from raw_meta_ads.campaign_daily_insights where currency_code is null "
                        "or account_time_zone is null") == [(0,)]

    # Spend per account and day, to the cent of the generator's truth (Google's ad-group grain leaves out the
    # campaigns without ad groups, so only its campaign grain adds up to the account).
    truth = defaultdict(dict)
    for (platform, account, day), cents in ad_spend_cents(generate(scale="S", seed=7)).items():
        truth[platform][(account, day)] = cents
    spend = {
        ("google_ads", "campaign_daily_metrics"): "customer_id, date::varchar, sum(cost)",
        ("meta_ads", CAMPAIGN_DAILY_INSIGHTS.name): "account_id, date::varchar, sum(spend)",
        ("meta_ads", "adset_daily_insights"): "account_id, date::varchar, sum(spend)",
        ("linkedin_ads", "campaign_daily_analytics"): "account_id, date::varchar, sum(cost_in_local_currency)",
    }
    for (platform, table), columns in spend.items():
        loaded = _query(path, f"select {columns} from raw_{platform}.{table} group by 1, 2")
        in_cents = {(account, day): total * 100 for account, day, total in loaded}
        assert {key: int(cents.quantize(Decimal(1))) for key, cents in in_cents.items()} == truth[platform], table
        if platform != "linkedin_ads":  # micros and Meta's strings carry whole cents: the sums are exact
            assert all(cents == cents.to_integral_value() for cents in in_cents.values()), table


def test_a_connectors_warnings_reach_the_runs_event_log_with_no_secret(ads_sandbox, pipeline_env):
    env = pipeline_env(ads_sandbox)
    clock = datetime.fromisoformat(requests.get(f"{ads_sandbox.url}/_sandbox/health", timeout=10).json()["clock"])
    url = ads_sandbox.url
    resources = {
        "warehouse": warehouse_resource(env),
        "linkedin_ads": LinkedInAdsResource(base_url=url, auth_url=url, client_id=auth.CLIENT_ID,
                                            client_secret=auth.CLIENT_SECRET, refresh_token=auth.REFRESH_TOKEN,
                                            history_days=_history_days(clock)),
    }
    ads_sandbox.inject(api="linkedin_ads", kind="server_error", path_contains="adAnalytics", times=1)
    try:
        with dg.DagsterInstance.get() as instance:  # the Dagster home of `pipeline_env`, with the project's settings
            result = dg.materialize([linkedin_ads_raw], resources=resources, instance=instance)
            logged = [entry for entry in instance.all_logs(result.run_id) if entry.dagster_event is None]
    finally:
        ads_sandbox.clear_faults()
    assert result.success
    retries = [entry for entry in logged if "retrying" in entry.user_message]
    assert retries and all(entry.level == logging.WARNING and entry.step_key for entry in retries), logged
    for entry in logged:
        for secret in (auth.CLIENT_SECRET, auth.REFRESH_TOKEN):
            assert secret not in entry.user_message
