"""Spend from ad_performance_daily in channel_performance_monthly: cost per MQL, CAC and ROAS on a hand-computed case.

The ad world of test_ad_performance_daily (January 2026 spend on the unified campaign U = 2026q1_webinar_dataops:
Google 30.50 USD, Meta 12.34 USD, LinkedIn 100.00 EUR; Google's brand campaign 55.123456 USD), built from raw rows,
plus hand-written CRM marts:

- P1 (account A1) touched by a paid-search click (Google Ads) on U on 2026-01-10, lead that day, MQL on 2026-01-12;
- P2 (account A2) touched by a paid-search click (Google Ads) on U on 2026-01-11, lead that day, MQL on 2026-01-13;
- O1 (A1, primary person P1) created 2026-01-20, won 2026-01-30 for 1,000 USD: A1's first win, one touch (T1).

Right answers for January, paid_search, google_ads, U (position-based: one touch gets the whole deal):
spend 30.50, 2 MQLs -> cost per MQL 15.25; 1 new customer -> CAC 30.50; revenue 1,000 -> ROAS 1000 / 30.50.
Meta and LinkedIn spend on U stay rows of their own (paid_social, no MQLs): no cost per MQL or CAC, ROAS 0.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pytest

from tests.transform_ads.ad_world import AS_OF, DAY, RAW, UTM, build
from tests.transform_ads.support import cents, dbt, dicts, insert, seed_rate_to_usd
from tests.transform_revenue.support import INPUT_TABLES

JANUARY = date(2026, 1, 1)
CRM_MARTS = ("marts.accounts", "marts.prospects", "marts.touchpoints", "marts.opportunities",
             "intermediate.int_reporting_dates")
REVENUE_CHAIN = ["sem_ad_spend_daily", "sem_opportunities", "prospect_funnel", "attribution",
                 "channel_performance_monthly"]


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("channel_spend")
    warehouse = build(folder, RAW)
    [(campaign_id,)] = duckdb.connect(str(warehouse), read_only=True).execute(
        "select campaign_id from marts.campaigns where utm_campaign = ?", [UTM]).fetchall()
    with duckdb.connect(str(warehouse)) as connection:
        for name in CRM_MARTS:
            columns = ", ".join(f"{column} {kind}" for column, kind in INPUT_TABLES[name].items())
            connection.execute(f"create or replace table {name} ({columns})")
        as_of = date.fromisoformat(AS_OF["as_of_date"])
        insert(connection, "intermediate.int_reporting_dates", [{"as_of_date": as_of}])
        insert(connection, "marts.accounts", [
            {"account_id": account, "account_name": account, "is_customer": account == "A1", "is_deleted": False}
            for account in ("A1", "A2")])
        insert(connection, "marts.prospects", [
            {"prospect_id": "P1", "account_id": "A1", "original_channel": "paid_search", "lifecycle_stage": "customer",
             "became_lead_at": at(10, 9), "became_mql_at": at(12), "is_deleted": False},
            {"prospect_id": "P2", "account_id": "A2", "original_channel": "paid_search", "lifecycle_stage": "mql",
             "became_lead_at": at(11, 9), "became_mql_at": at(13), "is_deleted": False},
        ])
        insert(connection, "marts.touchpoints", [
            {"touchpoint_id": "T1", "prospect_id": "P1", "account_id": "A1", "occurred_at": at(10, 8),
             "touchpoint_type": "form_submission", "channel": "paid_search", "campaign_id": campaign_id,
             "platform": "google_ads"},
            {"touchpoint_id": "T2", "prospect_id": "P2", "account_id": "A2", "occurred_at": at(11, 8),
             "touchpoint_type": "form_submission", "channel": "paid_search", "campaign_id": campaign_id,
             "platform": "google_ads"},
        ])
        insert(connection, "marts.opportunities", [
            {"opportunity_id": "O1", "source_system": "salesforce", "source_opportunity_id": "006A",
             "account_id": "A1", "primary_prospect_id": "P1", "owner_name": "Ann", "opportunity_name": "O1",
             "opportunity_type": "new_business", "stage_category": "won", "is_closed": True, "is_won": True,
             "created_at": at(20, 12), "closed_at": at(30, 12), "amount": 1000, "currency_code": "USD",
             "amount_reporting": 1000, "sales_cycle_days": 10, "lead_source": "Paid Search"},
        ])
    dbt(warehouse, folder / "revenue", ["build", "--select", *REVENUE_CHAIN, "--vars", json.dumps(AS_OF)])
    rows = dicts(warehouse, "select * from marts.channel_performance_monthly where month = ?", [JANUARY])
    return {"rows": {(row["channel"], row["platform"], row["campaign_id"]): row for row in rows},
            "campaign_id": campaign_id, "warehouse": warehouse}


def test_cost_per_mql_cac_and_roas_of_the_paid_search_campaign(report):
    row = report["rows"][("paid_search", "google_ads", report["campaign_id"])]
    assert row["spend_reporting"] == Decimal("30.50")
    assert (row["impressions"], row["clicks"], row["leads"], row["mqls"]) == (300, 12, 2, 2)
    assert row["new_customers"] == 1
    assert row["attributed_revenue_reporting"] == Decimal("1000")
    assert row["cost_per_mql"] == Decimal("15.25")
    assert row["cac"] == Decimal("30.50")
    assert row["roas"] == pytest.approx(1000 / 30.50)


def test_social_spend_on_the_same_campaign_stays_per_platform_in_the_reporting_currency(report):
    rows, campaign_id = report["rows"], report["campaign_id"]
    meta = rows[("paid_social", "meta_ads", campaign_id)]
    linkedin = rows[("paid_social", "linkedin_ads", campaign_id)]
    assert meta["spend_reporting"] == Decimal("12.34")
    assert linkedin["spend_reporting"] == cents(Decimal("100") * seed_rate_to_usd("EUR", DAY))
    for row in (meta, linkedin):
        assert row["mqls"] == 0 and row["cost_per_mql"] is None and row["cac"] is None and row["roas"] == 0


def test_all_spend_of_the_month_reaches_the_report(report):
    [(mart_spend,)] = duckdb.connect(str(report["warehouse"]), read_only=True).execute(
        "select sum(spend_reporting) from marts.ad_performance_daily where date_day >= ? and date_day < ?",
        [JANUARY, date(2026, 2, 1)]).fetchall()
    assert sum(row["spend_reporting"] for row in report["rows"].values()) == mart_spend
