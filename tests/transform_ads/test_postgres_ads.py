"""The ad-platform models are portable: the hand-written world of test_ad_performance_daily built on PostgreSQL gives
the same ad_performance_daily and campaign unification as on DuckDB (dispatched JSON, time-zone and date macros)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg2
import pytest

from tests.support.postgres import create_raw_tables, insert_rows, postgres_environment, postgres_server
from tests.transform.helpers import raw_tables, run_dbt
from tests.transform_ads.ad_world import AS_OF, DAY, RAW, UTM, google_metrics
from tests.transform_ads.support import ADS_SELECTION, RAW_ADS_SCHEMA

pytestmark = pytest.mark.e2e


def all_raw_tables() -> dict[str, list[tuple[str, str]]]:
    tables = raw_tables()
    for line in RAW_ADS_SCHEMA.read_text().splitlines():
        name, _, columns = line.partition(": ")
        tables[name] = [(column, kind) for column, _, kind in (part.partition(" ") for part in columns.split(", "))]
    return tables


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ads_postgres")
    with postgres_server(port=55447) as url:
        connection = psycopg2.connect(url)
        connection.autocommit = True
        with connection.cursor() as cursor:
            create_raw_tables(cursor, all_raw_tables())
            for name, table_rows in RAW.items():
                insert_rows(cursor, name, table_rows)
        result = run_dbt(postgres_environment(url), ["build", *ADS_SELECTION, "--vars", json.dumps(AS_OF)], folder)
        assert result.returncode == 0, result.stdout[-8000:]
        yield Warehouse(connection, url)
        connection.close()


@dataclass
class Warehouse:
    """The built PostgreSQL warehouse: an open connection and the URL dbt is pointed at."""

    connection: psycopg2.extensions.connection
    url: str


def rows(warehouse: Warehouse, sql: str) -> list[tuple]:
    with warehouse.connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_ad_performance_daily_builds_on_postgres_with_the_same_numbers(warehouse):
    performance = {tuple(row[:4]): row[4:] for row in rows(warehouse, """
        select platform, platform_campaign_id, ad_group_id, date_day, spend, currency_code, account_time_zone,
            platform_conversions, cast(extract(epoch from day_started_at) as bigint)
        from marts.ad_performance_daily""")}
    assert len(performance) == 8
    assert performance[("google_ads", "G2", None, DAY)][:3] == (Decimal("55.123456"), "USD", "America/New_York")
    assert performance[("google_ads", "G2", None, DAY)][4] == 1768366800  # 2026-01-14 05:00 UTC
    assert performance[("meta_ads", "M1", "S1", DAY)][3] == 4  # the pixel leads of the actions JSON
    assert performance[("linkedin_ads", "555", None, DAY)][:2] == (Decimal("100"), "EUR")
    assert ("meta_ads", "M2", "S2", date(2026, 1, 13)) in performance


def test_campaigns_unify_on_postgres(warehouse):
    [(count, salesforce_id)] = rows(warehouse, f"select source_campaign_count, salesforce_campaign_id "
                                               f"from marts.campaigns where utm_campaign = '{UTM}'")
    assert (count, salesforce_id) == (4, "701A")
    assert rows(warehouse, f"select platform, platforms from marts.campaigns where utm_campaign = '{UTM}'") == [
        ("multiple", "google_ads,linkedin_ads,meta_ads")]
    [(promo,)] = rows(warehouse, "select ad_platform_campaign_id from marts.campaigns where salesforce_campaign_id = "
                                 "'701B'")
    assert promo == "21085985229"


def test_an_incremental_run_on_postgres_adds_a_backfilled_account_and_keeps_the_rest(warehouse, tmp_path):
    # The lookback window is computed by a query on the warehouse (cg_lookback_start): it must run on PostgreSQL.
    before = rows(warehouse, "select ad_performance_key, spend from marts.ad_performance_daily order by 1")
    backfill = {**google_metrics("999", "G9", date(2025, 6, 1), 100, 3, "7.00"),
                "_loaded_at": datetime(2026, 3, 1, tzinfo=UTC)}
    with warehouse.connection.cursor() as cursor:
        insert_rows(cursor, "raw_google_ads.campaign_daily_metrics", [backfill])
    try:
        result = run_dbt(postgres_environment(warehouse.url), ["run", "--select", "ad_performance_daily", "--vars",
                                                               json.dumps(AS_OF)], tmp_path)
        assert result.returncode == 0, result.stdout[-8000:]
        after = rows(warehouse, "select ad_performance_key, spend from marts.ad_performance_daily order by 1")
        assert set(before) < set(after) and len(after) == len(before) + 1
        assert rows(warehouse, "select spend from marts.ad_performance_daily where platform_campaign_id = 'G9'") == [
            (Decimal("7.00"),)]
    finally:  # the other tests of this module read the warehouse as the fixture built it
        with warehouse.connection.cursor() as cursor:
            cursor.execute("delete from raw_google_ads.campaign_daily_metrics where customer_id = '999'")
            cursor.execute("delete from marts.ad_performance_daily where ad_account_id = '999'")


def _rename_google_campaign(warehouse: Warehouse, campaign_id: str, name: str, work_dir) -> None:
    """Rename a Google campaign in raw and rebuild its campaign mapping and ad_performance_daily incrementally, with
    a lookback of 0 days (only the newest day built, 2026-01-15, is rebuilt)."""
    with warehouse.connection.cursor() as cursor:
        cursor.execute("update raw_google_ads.campaigns set name = %s where campaign_id = %s", [name, campaign_id])
    models = ["int_campaign_source_records", "campaigns", "ad_performance_daily"]
    result = run_dbt(postgres_environment(warehouse.url), ["run", "--select", *models, "--vars", json.dumps(
        {**AS_OF, "incremental_lookback_days": 0})], work_dir)
    assert result.returncode == 0, result.stdout[-8000:]


def test_an_incremental_run_on_postgres_moves_old_days_to_a_campaigns_new_utm_key(warehouse, tmp_path):
    # The remap of the days before the window is an UPDATE ... FROM (cg_remap_ad_campaigns): it must run on PostgreSQL.
    mapping = """
        select performance.campaign_id = campaigns.campaign_id, campaigns.utm_campaign
        from marts.ad_performance_daily as performance
        left join marts.campaigns on campaigns.campaign_id = performance.campaign_id
        where performance.platform_campaign_id = 'G2'"""
    try:
        _rename_google_campaign(warehouse, "G2", "brand_search_us | Performance Max | NA", tmp_path / "renamed")
        assert rows(warehouse, mapping) == [(True, "brand_search_us")]
    finally:  # the other tests of this module read the warehouse as the fixture built it
        _rename_google_campaign(warehouse, "G2", "brand_search_na | Performance Max | NA", tmp_path / "restored")
    assert rows(warehouse, mapping) == [(True, "brand_search_na")]
