"""The hand-written raw ad rows of the ad-platform transform tests (the world is described in
test_ad_performance_daily), and the build of a warehouse from them.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb

from tests.transform_ads.support import ADS_SELECTION, create_raw_ad_tables, dbt, insert

DAY = date(2026, 1, 14)
AS_OF = {"as_of_date": "2026-02-28"}
LOADED = datetime(2026, 2, 28, 6, tzinfo=UTC)
UTM = "2026q1_webinar_dataops"


def google_metrics(customer: str, campaign: str, day: date, impressions: int, clicks: int, cost: str,
                   conversions: str = "0", value: str = "0", ad_group: str | None = None,
                   currency: str = "USD", zone: str = "America/New_York") -> dict:
    row = {"row_key": f"{customer}:{campaign}:{ad_group or ''}:{day}", "window_key": f"{customer}:{day}",
           "currency_code": currency, "account_time_zone": zone, "date": day, "customer_id": customer,
           "campaign_id": campaign, "impressions": impressions, "clicks": clicks,
           "cost_micros": int(Decimal(cost) * 1_000_000), "cost": Decimal(cost), "conversions": Decimal(conversions),
           "conversions_value": Decimal(value), "_loaded_at": LOADED}
    if ad_group:
        row["ad_group_id"] = ad_group
    return row


def meta_insight(campaign: str, day: date, spend: str, actions: list | None = None, values: list | None = None,
                 adset: str | None = None) -> dict:
    row = {"row_key": f"333:{campaign}:{adset or ''}:{day}", "window_key": f"333:{day}", "currency_code": "USD",
           "account_time_zone": "America/Los_Angeles", "date": day, "account_id": "333", "campaign_id": campaign,
           "impressions": 800, "clicks": 9, "spend": Decimal(spend), "actions": actions, "action_values": values,
           "_loaded_at": LOADED}
    if adset:
        row["adset_id"] = adset
    return row


def linkedin_analytics(campaign: str, day: date, local: str, usd: str, website: int = 0, leads: int = 0,
                       value: str = "0") -> dict:
    return {"row_key": f"444:{campaign}:{day}", "window_key": f"444:{day}", "currency_code": "EUR",
            "account_time_zone": "UTC", "date": day, "account_id": "444", "campaign_id": campaign,
            "pivot_values": [f"urn:li:sponsoredCampaign:{campaign}"], "impressions": 5000, "clicks": 40,
            "cost_in_local_currency": Decimal(local), "cost_in_usd": Decimal(usd),
            "external_website_conversions": website, "one_click_leads": leads,
            "conversion_value_in_local_currency": Decimal(value), "_loaded_at": LOADED}


ACTIONS = [{"action_type": "link_click", "value": "9"}, {"action_type": "lead", "value": "5"},
           {"action_type": "offsite_conversion.fb_pixel_lead", "value": "4"}]
ACTION_VALUES = [{"action_type": "offsite_conversion.fb_pixel_lead", "value": "160.00"}]

RAW = {
    "raw_google_ads.customers": [
        {"customer_id": "111", "descriptive_name": "NA", "currency_code": "USD", "time_zone": "America/New_York"},
        {"customer_id": "222", "descriptive_name": "EMEA", "currency_code": "EUR", "time_zone": "Europe/Berlin"},
    ],
    "raw_google_ads.campaigns": [
        {"campaign_id": "G1", "customer_id": "111", "name": "2026Q1_WEBINAR_DATAOPS | Search | NA",
         "status": "ENABLED", "advertising_channel_type": "SEARCH", "start_date_time": "2026-01-01 00:00:00"},
        {"campaign_id": "G2", "customer_id": "111", "name": "brand_search_na | Performance Max | NA",
         "status": "ENABLED", "advertising_channel_type": "PERFORMANCE_MAX",
         "start_date_time": "2025-01-01 00:00:00"},
        {"campaign_id": "G3", "customer_id": "222", "name": "2026q1_webinar_dataops_emea | Display | EMEA",
         "status": "REMOVED", "advertising_channel_type": "DISPLAY", "start_date_time": "2026-01-01 00:00:00",
         "end_date_time": "2026-01-31 23:59:59"},
        {"campaign_id": "21085985229", "customer_id": "111", "name": "Spring promo | Search", "status": "PAUSED",
         "advertising_channel_type": "SEARCH", "start_date_time": "2026-03-01 08:00:00"},
    ],
    "raw_google_ads.ad_groups": [
        {"ad_group_id": "AG1", "campaign_id": "G1", "customer_id": "111", "name": "dataops - Generic",
         "status": "ENABLED"},
        {"ad_group_id": "AG2", "campaign_id": "G1", "customer_id": "111", "name": "dataops - Competitors",
         "status": "ENABLED"},
        {"ad_group_id": "AG3", "campaign_id": "G3", "customer_id": "222", "name": "dataops - Remarketing",
         "status": "ENABLED"},
    ],
    "raw_google_ads.campaign_daily_metrics": [
        google_metrics("111", "G1", DAY, 300, 12, "30.50", "2", "400"),
        google_metrics("111", "G2", DAY, 1000, 20, "55.123456"),
        google_metrics("222", "G3", DAY, 500, 10, "40.00", "1", "90", currency="EUR", zone="Europe/Berlin"),
    ],
    "raw_google_ads.ad_group_daily_metrics": [
        google_metrics("111", "G1", DAY, 200, 8, "20.25", "1.5", "300", ad_group="AG1"),
        google_metrics("111", "G1", DAY, 100, 4, "10.25", "0.5", "100", ad_group="AG2"),
        google_metrics("222", "G3", DAY, 500, 10, "40.00", "1", "90", ad_group="AG3", currency="EUR",
                       zone="Europe/Berlin"),
    ],
    "raw_meta_ads.ad_accounts": [
        {"account_id": "333", "id": "act_333", "name": "US", "currency": "USD", "timezone_name": "America/Los_Angeles",
         "account_status": 1},
    ],
    "raw_meta_ads.campaigns": [
        {"id": "M1", "account_id": "333", "name": "2026q1_webinar_dataops – Leads – US", "status": "ACTIVE",
         "effective_status": "ACTIVE", "objective": "OUTCOME_LEADS",
         "start_time": datetime(2026, 1, 2, 8, tzinfo=UTC)},
        {"id": "M2", "account_id": "333", "name": "2025q4_launch_security_na – Awareness – NA", "status": "DELETED",
         "effective_status": "DELETED", "objective": "OUTCOME_AWARENESS"},
    ],
    "raw_meta_ads.adsets": [
        {"id": "S1", "account_id": "333", "campaign_id": "M1", "name": "dataops | Lookalike 1%",
         "effective_status": "ACTIVE"},
        {"id": "S2", "account_id": "333", "campaign_id": "M2", "name": "security | Broad",
         "effective_status": "DELETED"},
    ],
    "raw_meta_ads.campaign_daily_insights": [
        meta_insight("M1", DAY, "12.34", ACTIONS, ACTION_VALUES),
        meta_insight("M2", date(2026, 1, 13), "5.00"),
    ],
    "raw_meta_ads.adset_daily_insights": [
        meta_insight("M1", DAY, "12.34", ACTIONS, ACTION_VALUES, adset="S1"),
        meta_insight("M2", date(2026, 1, 13), "5.00", adset="S2"),
    ],
    "raw_linkedin_ads.ad_accounts": [{"id": "444", "name": "EMEA", "currency": "EUR", "status": "ACTIVE"}],
    "raw_linkedin_ads.campaign_groups": [
        {"id": "900", "account": "urn:li:sponsoredAccount:444", "name": "2026Q1 Demand Gen", "status": "ACTIVE"},
    ],
    "raw_linkedin_ads.campaigns": [
        {"id": "555", "account": "urn:li:sponsoredAccount:444", "campaign_group": "urn:li:sponsoredCampaignGroup:900",
         "name": "LI - 2026q1_webinar_dataops - Sponsored Content", "status": "ACTIVE"},
        {"id": "556", "account": "urn:li:sponsoredAccount:444", "campaign_group": "urn:li:sponsoredCampaignGroup:900",
         "name": "LI - 2026q1_abm_fintech - Conversation Ads", "status": "REMOVED"},
    ],
    "raw_linkedin_ads.campaign_daily_analytics": [
        linkedin_analytics("555", DAY, "100.00", "109.50", website=2, leads=1, value="40.00"),
        linkedin_analytics("556", date(2026, 1, 15), "20.00", "21.90"),
    ],
    "raw_salesforce.campaign": [
        {"id": "701A", "is_deleted": False, "name": "2026q1_webinar_dataops | Webinar: Dataops", "type": "Webinar",
         "status": "In Progress", "start_date": date(2026, 1, 1), "currency_iso_code": "USD"},
        {"id": "701B", "is_deleted": False, "name": "Spring promo (Google Ads 21085985229)", "type": "Advertisement",
         "status": "Planned", "start_date": date(2026, 3, 1), "currency_iso_code": "USD"},
    ],
}


def build(folder, raw: dict[str, list[dict]]):
    """A DuckDB warehouse in `folder` with the raw tables holding `raw`, built by dbt up to the ad marts."""
    warehouse = folder / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        create_raw_ad_tables(connection)
        for table, rows in raw.items():
            insert(connection, table, rows)
    dbt(warehouse, folder, ["build", *ADS_SELECTION, "--vars", json.dumps(AS_OF)])
    return warehouse
