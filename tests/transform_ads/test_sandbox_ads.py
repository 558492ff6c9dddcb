"""The ad-platform transform on the scale-S sandbox: every raw table loaded by the Dagster raw assets, the whole
project built by `dbt build`, then a second night after the sandbox advanced a day (platforms restate past days):
the session's two nights (tests/support/two_nights.py), read from copies.

Checks spend per platform, account and day against the raw tables and against the generator's own rows (the
ground truth), the unified campaigns against the generator's campaign truth, spend reaching the revenue report
and the shared metrics (which still equal the semantic layer), and the incremental night against a full refresh.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from tests.support.two_nights import SCALE, SEED
from tests.transform.helpers import pairwise_scores
from tests.transform_ads.support import dbt
from tests.transform_revenue.support import assert_same_metrics, query, semantic_layer_values, shared_metrics

pytestmark = pytest.mark.e2e

AD_PLATFORMS = ("google_ads", "meta_ads", "linkedin_ads")
MART_SPEND = "select platform, ad_account_id, date_day, sum(spend) from marts.ad_performance_daily group by 1, 2, 3"
RAW_SPEND = """
    select 'google_ads', customer_id, date, sum(cost) from raw_google_ads.campaign_daily_metrics group by 1, 2, 3
    union all
    select 'meta_ads', account_id, date, sum(spend) from raw_meta_ads.campaign_daily_insights group by 1, 2, 3
    union all
    select 'linkedin_ads', account_id, date, sum(cost_in_local_currency) from raw_linkedin_ads.campaign_daily_analytics
    group by 1, 2, 3
"""
PERFORMANCE = "select * exclude (loaded_at) from marts.ad_performance_daily order by ad_performance_key"


@pytest.fixture(scope="module")
def nights(two_nights, tmp_path_factory):
    """The session's two nights (CRM and ad platforms), copied: what the tests compare read from the first night's
    warehouse, and the second night's warehouse for the tests."""
    from sandbox.generate import generate

    folder = tmp_path_factory.mktemp("ads_sandbox")
    first_night = two_nights.copy("first", folder / "first" / "warehouse.duckdb")
    first = {
        "mart": {tuple(row[:3]): row[3] for row in query(first_night, MART_SPEND)},
        "raw": {tuple(row[:3]): row[3] for row in query(first_night, RAW_SPEND)},
        "records": {(system, record): campaign for system, record, campaign in query(
            first_night, "select source_system, source_campaign_id, campaign_id "
                         "from intermediate.int_campaign_source_records")},
    }
    as_of = query(first_night, "select as_of_date from intermediate.int_reporting_dates")[0][0]
    first["semantic"] = semantic_layer_values(first_night, two_nights.semantic_manifest("first"), as_of)
    first["table"] = shared_metrics(first_night)
    first["report"] = query(first_night, "select sum(spend_reporting) from marts.channel_performance_monthly")
    first["spend"] = query(first_night, "select sum(spend_reporting) from marts.ad_performance_daily")
    first["spend_until_as_of"] = query(first_night, "select sum(spend_reporting) from marts.ad_performance_daily "
                                                    "where date_day <= ?", [as_of])
    warehouse = two_nights.copy("second", folder / "second" / "warehouse.duckdb")
    return {"warehouse": warehouse, "first": first, "dataset": generate(SCALE, SEED)}


def truth_spend(dataset) -> dict[tuple[str, str, date], Decimal]:
    """(platform, ad account, day) -> spend in the account's currency, from the generator's own rows."""
    spend: dict[tuple[str, str, date], Decimal] = defaultdict(Decimal)
    for row in dataset.table("google_ads", "campaign_metrics"):
        spend[("google_ads", row["customer.id"], date.fromisoformat(row["segments.date"]))] += \
            Decimal(row["metrics.cost_micros"]) / 1_000_000
    for row in dataset.table("meta_ads", "adset_insights"):
        spend[("meta_ads", row["account_id"], date.fromisoformat(row["date_start"]))] += Decimal(row["spend"])
    accounts = {str(campaign["id"]): campaign["account"].rsplit(":", 1)[1]
                for campaign in dataset.table("linkedin_ads", "campaigns")}
    for row in dataset.table("linkedin_ads", "ad_analytics"):
        campaign = row["pivotValues"][0].rsplit(":", 1)[1]
        day = date(row["dateRange"]["start"]["year"], row["dateRange"]["start"]["month"],
                   row["dateRange"]["start"]["day"])
        spend[("linkedin_ads", accounts[campaign], day)] += Decimal(row["costInLocalCurrency"])
    return spend


def assert_same_spend(expected: dict, actual: dict) -> None:
    missing, extra = sorted(set(expected) - set(actual))[:5], sorted(set(actual) - set(expected))[:5]
    assert not missing and not extra, f"missing from the mart: {missing}; only in the mart: {extra}"
    different = [(key, expected[key], actual[key]) for key in expected if abs(expected[key] - actual[key]) > 1e-6]
    assert not different, f"{len(different)} platform-days differ, e.g. {different[:5]}"


def test_spend_per_platform_account_and_day_equals_the_raw_totals(nights):
    first = nights["first"]
    assert {platform for platform, _, _ in first["mart"]} == set(AD_PLATFORMS)
    assert_same_spend(first["raw"], first["mart"])
    warehouse = nights["warehouse"]
    assert_same_spend({tuple(row[:3]): row[3] for row in query(warehouse, RAW_SPEND)},
                      {tuple(row[:3]): row[3] for row in query(warehouse, MART_SPEND)})


def test_spend_equals_the_sandbox_ground_truth(nights):
    mart = nights["first"]["mart"]
    truth = truth_spend(nights["dataset"])
    # The connectors read each account's history window, which ends on the account's own local today (so near
    # midnight UTC, accounts east and west of UTC read windows a day apart); compare every day the truth has
    # inside each account's window.
    window: dict[tuple[str, str], tuple[date, date]] = {}
    for platform, account, day in mart:
        first, last = window.get((platform, account), (day, day))
        window[(platform, account)] = (min(first, day), max(last, day))
    expected = {key: value for key, value in truth.items()
                if key[:2] in window and window[key[:2]][0] <= key[2] <= window[key[:2]][1]}
    assert {account for _, account, _ in truth} == {account for _, account in window}  # no account left out
    assert len(expected) > 500
    assert_same_spend(expected, mart)


def test_campaigns_unify_as_the_ground_truth_says(nights):
    predicted = nights["first"]["records"]
    # HubSpot marketing e-mails carry no UTM key in the raw tables yet (CRM half), so they are left out.
    truth = [row for row in nights["dataset"].ground_truth["campaigns"] if row["source_system"] != "hubspot"]
    assert {row["source_system"] for row in truth} >= {"salesforce", *AD_PLATFORMS}
    assert all((row["source_system"], row["source_record_id"]) in predicted for row in truth)
    scores = pairwise_scores(truth, predicted)
    print(f"\ncampaign unification (Salesforce + ad platforms): {scores}")
    assert scores["precision"] == 1.0 and scores["recall"] == 1.0


def test_spend_reaches_the_revenue_report_and_the_shared_metrics_equal_the_semantic_layer(nights):
    first = nights["first"]
    assert first["report"][0][0] > 0
    assert first["report"] == first["spend"]
    assert_same_metrics(first["semantic"], first["table"])
    spend_metrics = {metric for metric, _, _ in first["semantic"]} & {"ad_spend", "cost_per_mql", "cac", "roas"}
    assert spend_metrics == {"ad_spend", "cost_per_mql", "cac", "roas"}
    ad_spend = sum(value for (metric, _, _), value in first["table"].items() if metric == "ad_spend")
    assert ad_spend == pytest.approx(float(first["spend_until_as_of"][0][0]), abs=0.01)


def test_the_incremental_second_night_equals_a_full_refresh(nights, tmp_path):
    warehouse = nights["warehouse"]
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouse, copy)
    dbt(copy, tmp_path, ["run", "--select", "ad_performance_daily", "--full-refresh"])
    incremental, refreshed = query(warehouse, PERFORMANCE), query(copy, PERFORMANCE)
    assert len(incremental) == len(refreshed) > 1000
    assert incremental == refreshed
