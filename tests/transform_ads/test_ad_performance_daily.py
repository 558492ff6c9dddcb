"""ad_performance_daily and the unified campaigns from hand-written raw ad rows, through a real dbt build.

The world (all on 2026-01-14 unless said otherwise):

- Google Ads customer 111 (USD, America/New_York): campaign G1 "2026Q1_WEBINAR_DATAOPS | Search | NA" with ad
  groups AG1 (20.25) and AG2 (10.25) adding up to the campaign's 30.50; campaign G2 "brand_search_na | ..." with
  no ad group (Performance Max): 55.123456. Customer 222 (EUR, Europe/Berlin): removed campaign G3
  "2026q1_webinar_dataops_emea ..." with ad group AG3: 40.00 EUR.
- Meta account 333 (USD, America/Los_Angeles): campaign M1 "2026q1_webinar_dataops – Leads – US", ad set S1:
  12.34 with actions link_click 9, lead 5, pixel lead 4 (value 160.00); deleted campaign M2, ad set S2: 5.00 on
  2026-01-13.
- LinkedIn account 444 (EUR): campaign 555 "LI - 2026q1_webinar_dataops - Sponsored Content" in group 900:
  100.00 EUR (LinkedIn's own USD figure 109.50), 2 website conversions + 1 one-click lead, value 40.00 EUR;
  removed campaign 556 "LI - 2026q1_abm_fintech - Conversation Ads": 20.00 EUR on 2026-01-15.
- Salesforce campaign 701A "2026q1_webinar_dataops | Webinar: Dataops"; Salesforce campaign 701B "Spring promo
  (Google Ads 21085985229)" that stores the id of Google campaign 21085985229 "Spring promo | Search" (no UTM key).

So: one unified campaign 2026q1_webinar_dataops (701A, G1, M1, 555); G3, G2, M2 and 556 are campaigns of their
own (ad-platform only). EUR on 2026-01-14 converts at the seed's rate of 2026-01-12.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pytest

from pipelines.lib.publish import publish_duckdb
from tests.support.publish_log import snapshot_differences
from tests.transform_ads.ad_world import AS_OF, DAY, RAW, UTM, build, google_metrics
from tests.transform_ads.support import cents, dbt, dicts, insert, seed_rate_to_usd


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ads")
    return {"warehouse": build(folder, RAW), "folder": folder}


def performance(warehouse) -> dict[tuple, dict]:
    return {(row["platform"], row["platform_campaign_id"], row["ad_group_id"], row["date_day"]): row
            for row in dicts(warehouse, "select * from marts.ad_performance_daily")}


def test_one_row_per_ad_group_and_a_campaign_row_for_what_no_ad_group_reports(world):
    rows = performance(world["warehouse"])
    assert set(rows) == {
        ("google_ads", "G1", "AG1", DAY), ("google_ads", "G1", "AG2", DAY), ("google_ads", "G2", None, DAY),
        ("google_ads", "G3", "AG3", DAY), ("meta_ads", "M1", "S1", DAY), ("meta_ads", "M2", "S2", date(2026, 1, 13)),
        ("linkedin_ads", "555", None, DAY), ("linkedin_ads", "556", None, date(2026, 1, 15)),
    }
    performance_max = rows[("google_ads", "G2", None, DAY)]
    assert performance_max["spend"] == Decimal("55.123456")
    assert (performance_max["impressions"], performance_max["clicks"]) == (1000, 20)
    assert rows[("google_ads", "G1", "AG1", DAY)]["ad_group_name"] == "dataops - Generic"
    assert rows[("google_ads", "G1", "AG1", DAY)]["platform_conversions"] == 1.5


def test_every_row_carries_its_accounts_currency_and_time_zone(world):
    rows = performance(world["warehouse"])
    google_na, google_emea = rows[("google_ads", "G2", None, DAY)], rows[("google_ads", "G3", "AG3", DAY)]
    meta, linkedin = rows[("meta_ads", "M1", "S1", DAY)], rows[("linkedin_ads", "555", None, DAY)]
    assert (google_na["currency_code"], google_na["account_time_zone"]) == ("USD", "America/New_York")
    assert (google_emea["currency_code"], google_emea["account_time_zone"]) == ("EUR", "Europe/Berlin")
    assert (meta["currency_code"], meta["account_time_zone"]) == ("USD", "America/Los_Angeles")
    assert (linkedin["currency_code"], linkedin["account_time_zone"]) == ("EUR", "UTC")
    # The platform's day stays the account's day; the instant it began is in UTC.
    assert google_na["day_started_at"] == datetime(2026, 1, 14, 5, tzinfo=UTC)
    assert google_emea["day_started_at"] == datetime(2026, 1, 13, 23, tzinfo=UTC)
    assert meta["day_started_at"] == datetime(2026, 1, 14, 8, tzinfo=UTC)
    assert {row["reporting_date_day"] for row in (google_na, google_emea, meta, linkedin)} == {DAY}


def test_spend_is_converted_with_the_days_rate_and_never_mixed(world):
    rows = performance(world["warehouse"])
    rate = seed_rate_to_usd("EUR", DAY)
    google_emea = rows[("google_ads", "G3", "AG3", DAY)]
    assert google_emea["spend"] == Decimal("40")
    assert google_emea["spend_reporting"] == cents(Decimal("40") * rate)
    assert google_emea["platform_conversion_value_reporting"] == cents(Decimal("90") * rate)
    linkedin = rows[("linkedin_ads", "555", None, DAY)]
    assert linkedin["spend"] == Decimal("100")  # local currency, not LinkedIn's USD figure
    assert linkedin["spend_usd_reported"] == Decimal("109.50")
    assert linkedin["spend_reporting"] == cents(Decimal("100") * rate)
    assert linkedin["platform_conversions"] == 3  # website conversions + one-click leads
    assert linkedin["platform_conversion_value_reporting"] == cents(Decimal("40") * rate)
    assert linkedin["linkedin_campaign_group_id"] == "900"
    usd = rows[("google_ads", "G2", None, DAY)]
    assert usd["spend_reporting"] == Decimal("55.12")


def test_meta_conversions_come_from_the_pixel_lead_action_not_the_sum_of_actions(world):
    rows = performance(world["warehouse"])
    meta = rows[("meta_ads", "M1", "S1", DAY)]
    assert meta["platform_conversions"] == 4
    assert meta["platform_conversion_value"] == Decimal("160")
    assert rows[("meta_ads", "M2", "S2", date(2026, 1, 13))]["platform_conversions"] == 0


def test_campaigns_unify_crm_and_ad_platforms_on_the_utm_key(world):
    warehouse = world["warehouse"]
    campaigns = {row["utm_campaign"]: row for row in dicts(warehouse, "select * from marts.campaigns")}
    webinar = campaigns[UTM]
    assert webinar["salesforce_campaign_id"] == "701A"
    assert webinar["source_campaign_count"] == 4
    assert webinar["campaign_name"] == "2026q1_webinar_dataops | Webinar: Dataops"  # the CRM's name wins
    records = {(row["source_system"], row["source_campaign_id"]): row["campaign_id"] for row in dicts(
        warehouse, "select * from intermediate.int_campaign_source_records")}
    assert records[("google_ads", "G1")] == records[("meta_ads", "M1")] == records[("linkedin_ads", "555")] \
        == records[("salesforce", "701A")] == webinar["campaign_id"]
    # Campaigns that run only on an ad platform are campaigns too, with the platform's paid channel.
    assert campaigns["brand_search_na"]["platform"] == "google_ads"
    assert campaigns["brand_search_na"]["channel"] == "paid_search"
    assert campaigns["2026q1_webinar_dataops_emea"]["salesforce_campaign_id"] is None
    assert campaigns["2025q4_launch_security_na"]["is_deleted"] is True
    assert campaigns["2026q1_abm_fintech"]["channel"] == "paid_social"
    rows = performance(warehouse)
    for key in [("google_ads", "G1", "AG1", DAY), ("meta_ads", "M1", "S1", DAY), ("linkedin_ads", "555", None, DAY)]:
        assert rows[key]["campaign_id"] == webinar["campaign_id"]
    assert rows[("google_ads", "G2", None, DAY)]["campaign_id"] == campaigns["brand_search_na"]["campaign_id"]


def test_a_crm_campaign_storing_the_platforms_campaign_id_is_the_same_campaign(world):
    records = {(row["source_system"], row["source_campaign_id"]): row["campaign_id"] for row in dicts(
        world["warehouse"], "select * from intermediate.int_campaign_source_records")}
    assert records[("salesforce", "701B")] == records[("google_ads", "21085985229")]
    [promo] = dicts(world["warehouse"], "select * from marts.campaigns where salesforce_campaign_id = '701B'")
    assert (promo["ad_platform_campaign_id"], promo["source_campaign_count"]) == ("21085985229", 2)


def test_a_hubspot_email_whose_id_equals_an_ad_campaigns_id_stays_a_campaign_of_its_own(tmp_path):
    """HubSpot marketing e-mails are named after their own ids (the raw layer has no e-mail names), so an e-mail
    id that happens to equal an ad campaign's id says nothing about the e-mail running that campaign."""
    email_event = {"id": "ev1", "created": datetime(2026, 1, 14, 9, tzinfo=UTC), "type": "CLICK",
                   "recipient": "ada@example.com", "email_campaign_id": 21085985229, "portal_id": 62515}
    warehouse = build(tmp_path, {**RAW, "raw_hubspot.email_events": [email_event]})
    records = {(row["source_system"], row["source_campaign_id"]): row for row in dicts(
        warehouse, "select * from intermediate.int_campaign_source_records")}
    email, google = records[("hubspot", "21085985229")], records[("google_ads", "21085985229")]
    assert email["campaign_id"] != google["campaign_id"]
    assert email["platform"] is None
    assert records[("salesforce", "701B")]["campaign_id"] == google["campaign_id"]


def test_staging_flags_deleted_entities(world):
    warehouse = world["warehouse"]
    deleted = {row["platform_campaign_id"] for row in dicts(warehouse, """
        select platform_campaign_id from staging.stg_google_ads__campaigns where is_deleted
        union all select platform_campaign_id from staging.stg_meta_ads__campaigns where is_deleted
        union all select platform_campaign_id from staging.stg_linkedin_ads__campaigns where is_deleted""")}
    assert deleted == {"G3", "M2", "556"}
    [google] = dicts(warehouse, "select end_date from staging.stg_google_ads__campaigns "
                                "where platform_campaign_id = 'G1'")
    assert google["end_date"] is None  # Google's 2037-12-30 means no end date


def test_a_restated_window_rebuilt_incrementally_equals_a_full_refresh(world, tmp_path):
    incremental, full = tmp_path / "incremental.duckdb", tmp_path / "full.duckdb"
    shutil.copyfile(world["warehouse"], incremental)
    with duckdb.connect(str(incremental)) as connection:
        # Google restates AG1 (and its campaign); Meta no longer reports M2's day; a new day arrives for G2.
        restate = "set cost = cost + 1.25, cost_micros = cost_micros + 1250000"
        connection.execute(f"update raw_google_ads.campaign_daily_metrics {restate} where campaign_id = 'G1'")
        connection.execute(f"update raw_google_ads.ad_group_daily_metrics {restate} where ad_group_id = 'AG1'")
        connection.execute("delete from raw_meta_ads.campaign_daily_insights where campaign_id = 'M2'")
        connection.execute("delete from raw_meta_ads.adset_daily_insights where campaign_id = 'M2'")
        insert(connection, "raw_google_ads.campaign_daily_metrics",
               [google_metrics("111", "G2", date(2026, 1, 16), 900, 18, "50.00")])
    shutil.copyfile(incremental, full)
    # Staging and intermediate models are views over raw: rebuilding the mart is enough.
    dbt(incremental, tmp_path / "run", ["run", "--select", "ad_performance_daily", "--vars", json.dumps(AS_OF)])
    dbt(full, tmp_path / "refresh", ["run", "--select", "ad_performance_daily", "--full-refresh",
                                     "--vars", json.dumps(AS_OF)])
    sql = "select * exclude (loaded_at) from marts.ad_performance_daily order by ad_performance_key"
    rebuilt, refreshed = dicts(incremental, sql), dicts(full, sql)
    assert rebuilt == refreshed
    rows = performance(incremental)
    assert rows[("google_ads", "G1", "AG1", DAY)]["spend"] == Decimal("21.50")
    assert ("meta_ads", "M2", "S2", date(2026, 1, 13)) not in rows
    assert rows[("google_ads", "G2", None, date(2026, 1, 16))]["spend"] == Decimal("50")


def test_days_before_the_lookback_window_are_kept_as_built(world, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(world["warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("delete from raw_meta_ads.adset_daily_insights where campaign_id = 'M2'")
    # Newest day built is 2026-01-15: a one-day lookback rebuilds from 2026-01-14 on, so 2026-01-13 stays.
    dbt(warehouse, tmp_path, ["run", "--select", "ad_performance_daily",
                              "--vars", json.dumps({**AS_OF, "incremental_lookback_days": 1})])
    assert ("meta_ads", "M2", "S2", date(2026, 1, 13)) in performance(warehouse)


def test_an_account_connected_with_its_history_reaches_the_mart_on_the_next_incremental_run(world, tmp_path):
    incremental, full = tmp_path / "incremental.duckdb", tmp_path / "full.duckdb"
    shutil.copyfile(world["warehouse"], incremental)
    history = [date(2025, 6, 1), date(2025, 11, 30)]  # long before the lookback window of the newest day built
    with duckdb.connect(str(incremental)) as connection:
        insert(connection, "raw_google_ads.campaign_daily_metrics",
               [{**google_metrics("999", "G9", day, 100, 3, "7.00"), "_loaded_at": datetime(2026, 3, 1, tzinfo=UTC)}
                for day in history])
    shutil.copyfile(incremental, full)
    dbt(incremental, tmp_path / "run", ["run", "--select", "ad_performance_daily", "--vars", json.dumps(AS_OF)])
    dbt(full, tmp_path / "refresh", ["run", "--select", "ad_performance_daily", "--full-refresh",
                                     "--vars", json.dumps(AS_OF)])
    rows = performance(incremental)
    assert [rows[("google_ads", "G9", None, day)]["spend"] for day in history] == [Decimal("7.00")] * 2
    sql = "select * exclude (loaded_at) from marts.ad_performance_daily order by ad_performance_key"
    assert dicts(incremental, sql) == dicts(full, sql)


def test_days_before_the_window_follow_a_campaign_whose_utm_key_changed(world, tmp_path):
    """Google renames G1 "2026q1_webinar_dataops_emea | Search | NA" (it now runs the EMEA campaign with G3) and G2
    "brand_search_us | ..." (brand_search_na, its campaign of its own, is gone). The next incremental run rebuilds
    only 2026-01-15 (a lookback of 0 days from the newest day built), yet the 2026-01-14 rows of G1 and G2 move to
    their new unified campaigns: the mart equals a full refresh, its relationship to campaigns holds, and the
    snapshot BI reads gets the moved rows."""
    incremental, full, analytics = tmp_path / "incremental.duckdb", tmp_path / "full.duckdb", tmp_path / "bi.duckdb"
    shutil.copyfile(world["warehouse"], incremental)
    publish_duckdb(incremental, analytics)
    with duckdb.connect(str(incremental)) as connection:
        connection.execute("update raw_google_ads.campaigns set name = '2026q1_webinar_dataops_emea | Search | NA' "
                           "where campaign_id = 'G1'")
        connection.execute("update raw_google_ads.campaigns set name = 'brand_search_us | Performance Max | NA' "
                           "where campaign_id = 'G2'")
    shutil.copyfile(incremental, full)
    with duckdb.connect(str(incremental)) as connection:  # marks the rows the run must not rebuild
        connection.execute("update marts.ad_performance_daily set ad_account_name = 'as built' where date_day < ?",
                           [date(2026, 1, 15)])
    models = ["int_campaign_source_records", "campaigns", "ad_performance_daily"]
    no_lookback = json.dumps({**AS_OF, "incremental_lookback_days": 0})
    dbt(incremental, tmp_path / "run", ["run", "--select", *models, "--vars", no_lookback])
    dbt(full, tmp_path / "refresh", ["run", "--select", *models, "--full-refresh", "--vars", no_lookback])

    campaigns = {row["utm_campaign"]: row["campaign_id"] for row in dicts(
        incremental, "select utm_campaign, campaign_id from marts.campaigns")}
    assert "brand_search_na" not in campaigns
    rows = performance(incremental)
    assert {key[2]: (row["campaign_id"], row["utm_campaign"], row["ad_account_name"]) for key, row in rows.items()
            if key[1] in ("G1", "G2")} == {
        "AG1": (campaigns["2026q1_webinar_dataops_emea"], "2026q1_webinar_dataops_emea", "as built"),
        "AG2": (campaigns["2026q1_webinar_dataops_emea"], "2026q1_webinar_dataops_emea", "as built"),
        None: (campaigns["brand_search_us"], "brand_search_us", "as built"),
    }
    sql = "select * exclude (loaded_at, ad_account_name) from marts.ad_performance_daily order by ad_performance_key"
    assert dicts(incremental, sql) == dicts(full, sql)
    dbt(incremental, tmp_path / "test", ["test", "--select", "ad_performance_daily", "--vars", no_lookback])

    publication = publish_duckdb(incremental, analytics)
    assert publication.methods["ad_performance_daily"] == "copied: rebuilt whole since the previous snapshot"
    assert snapshot_differences(incremental, analytics, ["ad_performance_daily", "campaigns"]) == {}
