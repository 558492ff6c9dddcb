"""One definition per metric: shared_metrics_daily (the semantic layer) and channel_performance_monthly count every
metric they share under the same channel, on a hand-built case where the people's CRM channel, their first touch's
channel and the deals' lead sources all differ.

The world (as-of date 2026-04-15, reporting currency USD, time zone UTC):

- Google Ads campaign CAMP_G (paid_search) spends 100 on 2026-03-01 and 100 on 2026-03-02 (1,000 impressions and
  10 clicks a day).
- Q1 and Q2 (CRM original channel organic_search), Q3 (paid_search) and Q4 (none) each click CAMP_G (K1-K4) just
  before becoming a lead on 2026-03-01 or 2026-03-02, and all four become MQLs on 2026-03-02: sourcing channel
  paid_search for all four, so 4 paid-search MQLs (by original channel: 2 organic_search, 1 paid_search, 1 unknown).
- Q5 (original channel email) first touches K5, whose channel is unknown, becomes a lead on 2026-03-03 and an MQL on
  2026-03-05: counted under email, the channel the CRM knows.
- Q6 (organic_search) has no touch: MQL on 2026-03-06 under organic_search.
- D1 (account of Q1, lead source Trade Show = events): created 2026-03-10, won 2026-03-20 for 1,000, its account's
  first win; its only touch in the lookback window is K1: all the credit to paid_search / CAMP_G.
- D2 (an account without people, lead source Paid Search): created 2026-03-12, won 2026-03-25 for 500, its account's
  first win; no touch: 'unattributed'.
- D3 (Q5's account, lead source Email): created 2026-03-15, open, 300; its only touch K5: channel unknown.

Right answers for March, paid_search: spend 200, 4 MQLs -> cost per MQL 200 / 4 = 50 (the MQLs all fall on the
second spend day: 25 if days with spend and no MQL were dropped); 1 new customer (D1 credited to K1) -> CAC 200;
attributed revenue 1,000 -> ROAS 5.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from datetime import UTC, date, datetime

import duckdb
import pytest

from tests.transform_revenue.support import (
    assert_same_metrics,
    build_marts,
    build_world,
    insert,
    query,
    semantic_layer_values,
    shared_metrics,
)

AS_OF = date(2026, 4, 15)
MARCH = date(2026, 3, 1)

#: Shared metric -> channel_performance_monthly column of the same meaning.
SHARED_COLUMNS = {
    "ad_spend": "spend_reporting", "ad_impressions": "impressions", "ad_clicks": "clicks", "leads": "leads",
    "mqls": "mqls", "sqls": "sqls", "attributed_opportunities": "opportunities",
    "attributed_pipeline": "attributed_pipeline_reporting", "attributed_revenue": "attributed_revenue_reporting",
    "new_customers": "new_customers",
}
#: Shared ratio metric -> (numerator column, denominator column) of channel_performance_monthly.
SHARED_RATIOS = {
    "cost_per_mql": ("spend_reporting", "mqls"),
    "cac": ("spend_reporting", "new_customers"),
    "roas": ("attributed_revenue_reporting", "spend_reporting"),
}


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def person(prospect_id: str, account_id: str, channel: str | None, lead: datetime, mql: datetime) -> dict:
    return {"prospect_id": prospect_id, "account_id": account_id, "original_channel": channel,
            "lifecycle_stage": "mql", "became_lead_at": lead, "became_mql_at": mql, "is_deleted": False}


def touch(touchpoint_id: str, prospect_id: str, account_id: str, occurred: datetime, channel: str,
          campaign_id: str | None = None, platform: str | None = None) -> dict:
    return {"touchpoint_id": touchpoint_id, "prospect_id": prospect_id, "account_id": account_id,
            "occurred_at": occurred, "touchpoint_type": "ad_click", "channel": channel, "campaign_id": campaign_id,
            "platform": platform}


def deal(opportunity_id: str, account_id: str, prospect_id: str | None, created: datetime, amount: float,
         lead_source: str, won: datetime | None = None) -> dict:
    return {"opportunity_id": opportunity_id, "source_system": "salesforce", "source_opportunity_id": opportunity_id,
            "account_id": account_id, "primary_prospect_id": prospect_id, "owner_name": "Ann Owner",
            "opportunity_name": opportunity_id, "opportunity_type": "new_business",
            "stage_category": "won" if won else "open", "is_closed": won is not None, "is_won": won is not None,
            "created_at": created, "closed_at": won, "amount": amount, "currency_code": "USD",
            "amount_reporting": amount, "sales_cycle_days": (won.date() - created.date()).days if won else None,
            "lead_source": lead_source}


PROSPECTS = [
    person("Q1", "A1", "organic_search", at(1, 10), at(2, 12)),
    person("Q2", "A2", "organic_search", at(1, 11), at(2, 12)),
    person("Q3", "A3", "paid_search", at(2, 8), at(2, 12)),
    person("Q4", "A4", None, at(2, 9), at(2, 13)),
    person("Q5", "A5", "email", at(3, 10), at(5)),
    person("Q6", "A6", "organic_search", at(6), at(6, 15)),
]
TOUCHPOINTS = [
    touch("K1", "Q1", "A1", at(1, 9), "paid_search", "CAMP_G", "google_ads"),
    touch("K2", "Q2", "A2", at(1, 10), "paid_search", "CAMP_G", "google_ads"),
    touch("K3", "Q3", "A3", at(2, 7), "paid_search", "CAMP_G", "google_ads"),
    touch("K4", "Q4", "A4", at(2, 8), "paid_search", "CAMP_G", "google_ads"),
    touch("K5", "Q5", "A5", at(3, 9), "unknown"),
]
OPPORTUNITIES = [
    deal("D1", "A1", "Q1", at(10, 12), 1000, "Trade Show", won=at(20, 12)),
    deal("D2", "A9", None, at(12, 12), 500, "Paid Search", won=at(25, 12)),
    deal("D3", "A5", "Q5", at(15, 12), 300, "Email"),
]
CAMPAIGNS = [{"campaign_id": "CAMP_G"}]


def ad_day(day: date, spend: float) -> dict:
    return {"date_day": day, "reporting_date_day": day, "platform": "google_ads", "ad_account_id": "1",
            "platform_campaign_id": "g1", "ad_group_id": "a1", "campaign_id": "CAMP_G", "impressions": 1000,
            "clicks": 10, "spend": spend, "currency_code": "USD", "spend_reporting": spend}


AD_PERFORMANCE = [ad_day(date(2026, 3, 1), 100), ad_day(date(2026, 3, 2), 100)]


def build(folder):
    inputs = {"marts.prospects": PROSPECTS, "marts.touchpoints": TOUCHPOINTS, "marts.opportunities": OPPORTUNITIES,
              "marts.campaigns": CAMPAIGNS, "marts.ad_performance_daily": AD_PERFORMANCE}
    return build_world(folder, AS_OF, inputs)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("metric_definitions")
    return {"warehouse": build(folder), "folder": folder}


def ratio_rows(warehouse, metric: str, channel: str) -> dict[date, tuple]:
    return {day: (numerator, denominator, value) for day, numerator, denominator, value in query(warehouse, """
        select date_day, numerator, denominator, value from marts.shared_metrics_daily
        where metric_name = ? and channel = ? order by date_day""", [metric, channel])}


def shared_by_month(warehouse) -> dict[tuple[str, date, str], tuple[float, float]]:
    """(metric, month, channel) -> (sum of value, 0) for simple metrics, (sum of numerator, sum of denominator) for
    ratio metrics: what a BI tool sums from shared_metrics_daily."""
    sums = {}
    for metric, month, channel, value, numerator, denominator in query(warehouse, """
            select metric_name, cast(date_trunc('month', date_day) as date), channel,
                sum(case when metric_type = 'simple' then value end), sum(numerator), sum(denominator)
            from marts.shared_metrics_daily group by 1, 2, 3"""):
        sums[(metric, month, channel)] = (value, 0.0) if metric not in SHARED_RATIOS else (numerator, denominator)
    return sums


def report_by_month(warehouse) -> tuple[dict, dict]:
    """channel_performance_monthly summed per (month, channel): {(column, month, channel): sum}, and the rows of
    the (month, channel) pairs that have a single row (platform and campaign included): {(month, channel): row}."""
    columns = [*SHARED_COLUMNS.values(), *SHARED_RATIOS]
    rows = query(warehouse, f"select month, channel, {', '.join(columns)} from marts.channel_performance_monthly")
    sums, single, counts = defaultdict(float), {}, defaultdict(int)
    for month, channel, *values in rows:
        row = dict(zip(columns, (None if value is None else float(value) for value in values), strict=True))
        counts[(month, channel)] += 1
        single[(month, channel)] = row
        for column in SHARED_COLUMNS.values():
            sums[(column, month, channel)] += row[column]
    return sums, {key: row for key, row in single.items() if counts[key] == 1}


def test_a_first_touch_without_channel_gives_way_to_the_original_channel(world):
    channels = dict(query(world["warehouse"], "select prospect_id, sourcing_channel from marts.prospect_funnel"))
    assert channels == {"Q1": "paid_search", "Q2": "paid_search", "Q3": "paid_search", "Q4": "paid_search",
                        "Q5": "email", "Q6": "organic_search"}
    [(mqls,)] = query(world["warehouse"], "select sum(mqls) from marts.channel_performance_monthly "
                                          "where month = ? and channel = 'email'", [MARCH])
    assert mqls == 1
    assert query(world["warehouse"], "select count(*) from marts.channel_performance_monthly "
                                     "where channel = 'unknown' and mqls > 0") == [(0,)]


def test_ratio_rows_keep_the_days_only_one_side_has(world):
    warehouse = world["warehouse"]
    # Spend on 2026-03-01 without MQLs: a row with denominator 0 and no value, so the month sums to 200 / 4.
    assert ratio_rows(warehouse, "cost_per_mql", "paid_search") == {
        date(2026, 3, 1): (100, 0, None), date(2026, 3, 2): (100, 4, 25)}
    # MQLs without spend: a cost of 0 per MQL.
    assert ratio_rows(warehouse, "cost_per_mql", "email") == {date(2026, 3, 5): (0, 1, 0)}
    # CAC: the spend days, then D1's win (credited to CAMP_G's click) on 2026-03-20; 200 / 1 over the month.
    assert ratio_rows(warehouse, "cac", "paid_search") == {
        date(2026, 3, 1): (100, 0, None), date(2026, 3, 2): (100, 0, None), date(2026, 3, 20): (0, 1, 0)}
    # ROAS: attributed revenue / spend; D2's revenue has no spend under 'unattributed'.
    assert ratio_rows(warehouse, "roas", "paid_search") == {
        date(2026, 3, 1): (0, 100, 0), date(2026, 3, 2): (0, 100, 0), date(2026, 3, 20): (1000, 0, None)}
    assert ratio_rows(warehouse, "roas", "unattributed") == {date(2026, 3, 25): (500, 0, None)}
    sums = shared_by_month(warehouse)
    numerator, denominator = sums[("cost_per_mql", MARCH, "paid_search")]
    assert numerator / denominator == 50


def assert_report_equals_shared_metrics(warehouse) -> tuple[dict, dict, dict]:
    """channel_performance_monthly and shared_metrics_daily agree on every metric they share, per month and channel;
    returns shared_by_month and report_by_month's two results."""
    shared = shared_by_month(warehouse)
    report, single_rows = report_by_month(warehouse)
    pairs = {(month, channel) for _, month, channel in shared} | {(month, channel) for _, month, channel in report}
    for month, channel in sorted(pairs):
        for metric, column in SHARED_COLUMNS.items():
            expected = report.get((column, month, channel), 0.0)
            actual = shared.get((metric, month, channel), (0.0, 0.0))[0] or 0.0
            assert actual == pytest.approx(expected, abs=0.005), (metric, month, channel)
        for metric, (numerator_column, denominator_column) in SHARED_RATIOS.items():
            numerator = report.get((numerator_column, month, channel), 0.0)
            denominator = report.get((denominator_column, month, channel), 0.0)
            assert shared.get((metric, month, channel), (0.0, 0.0)) == pytest.approx((numerator, denominator),
                                                                                     abs=0.005), (metric, month)
            if (month, channel) in single_rows:
                value = single_rows[(month, channel)][metric]
                if denominator:
                    assert value == pytest.approx(numerator / denominator, abs=0.005), (metric, month, channel)
                else:
                    assert value is None, (metric, month, channel)
    return shared, report, single_rows


def test_shared_metrics_equal_channel_performance_per_month_and_channel(world):
    shared, report, single_rows = assert_report_equals_shared_metrics(world["warehouse"])
    # by hand
    assert shared[("mqls", MARCH, "paid_search")] == (4, 0)
    assert report[("mqls", MARCH, "organic_search")] == 1 and ("mqls", MARCH, "unknown") not in shared
    paid = single_rows[(MARCH, "paid_search")]
    assert (paid["spend_reporting"], paid["mqls"], paid["cost_per_mql"], paid["new_customers"], paid["cac"],
            paid["roas"]) == (200, 4, 50, 1, 200, 5)
    unattributed = single_rows[(MARCH, "unattributed")]
    assert (unattributed["opportunities"], unattributed["attributed_pipeline_reporting"],
            unattributed["attributed_revenue_reporting"], unattributed["new_customers"]) == (1, 500, 500, 1)
    assert single_rows[(MARCH, "unknown")]["attributed_pipeline_reporting"] == 300  # D3's only touch K5


#: The as-of date in the middle of March: D1's and D2's wins (2026-03-20, 2026-03-25) fall after it.
MID_MARCH = date(2026, 3, 15)
#: After the as-of date, in its month: 50 more spend, D4 created (Q5's account, only touch K5), Q7 becomes a lead.
AFTER_MID_MARCH = {
    "marts.ad_performance_daily": [ad_day(date(2026, 3, 20), 50)],
    "marts.opportunities": [deal("D4", "A5", "Q5", at(20, 12), 700, "Email")],
    "marts.prospects": [person("Q7", "A7", "organic_search", at(16, 10), at(18))],
}


def test_events_after_the_as_of_date_count_in_neither_mart(tmp_path):
    """As of 2026-03-15, March holds its first fifteen days only, in channel_performance_monthly as in
    shared_metrics_daily. By hand: paid_search spend 200 (not 250), 4 MQLs -> cost per MQL 50; D1 created
    (1,000 credited to K1) but not yet won: no revenue, no new customer; D2 created, not won: 500 under
    unattributed; D3's 300 under unknown, D4 (created 2026-03-20) nowhere; Q6's lead and MQL under organic_search,
    Q7's (2026-03-16, 2026-03-18) nowhere. The build's singular test assert_channel_performance_pipeline_is_complete
    expects the deals created up to the as-of date (D1, D2, D3), not D4 of the same month."""
    inputs = {"marts.prospects": PROSPECTS, "marts.touchpoints": TOUCHPOINTS, "marts.opportunities": OPPORTUNITIES,
              "marts.campaigns": CAMPAIGNS, "marts.ad_performance_daily": AD_PERFORMANCE}
    for table, rows in AFTER_MID_MARCH.items():
        inputs[table] = [*inputs[table], *rows]
    warehouse = build_world(tmp_path, MID_MARCH, inputs)
    _, report, single_rows = assert_report_equals_shared_metrics(warehouse)
    assert {month for _, month, _ in report} == {MARCH}
    paid = single_rows[(MARCH, "paid_search")]
    assert (paid["spend_reporting"], paid["mqls"], paid["cost_per_mql"], paid["opportunities"],
            paid["attributed_pipeline_reporting"], paid["attributed_revenue_reporting"], paid["new_customers"],
            paid["cac"], paid["roas"]) == (200, 4, 50, 1, 1000, 0, 0, None, 0)
    unattributed = single_rows[(MARCH, "unattributed")]
    assert (unattributed["opportunities"], unattributed["attributed_pipeline_reporting"],
            unattributed["attributed_revenue_reporting"], unattributed["new_customers"]) == (1, 500, 0, 0)
    assert single_rows[(MARCH, "unknown")]["attributed_pipeline_reporting"] == 300
    assert (report[("leads", MARCH, "organic_search")], report[("mqls", MARCH, "organic_search")]) == (1, 1)


def test_new_customers_follow_attribution_and_first_won_deals_the_lead_source(world):
    metrics = shared_metrics(world["warehouse"])
    assert {key: value for key, value in metrics.items() if key[0] == "new_customers"} == {
        ("new_customers", date(2026, 3, 20), "paid_search"): 1, ("new_customers", date(2026, 3, 25), "unattributed"): 1}
    assert {key: value for key, value in metrics.items() if key[0] == "first_won_deals"} == {
        ("first_won_deals", date(2026, 3, 20), "events"): 1, ("first_won_deals", date(2026, 3, 25), "paid_search"): 1}


def test_shared_metrics_equal_the_semantic_layer(world):
    warehouse, folder = world["warehouse"], world["folder"]
    expected = semantic_layer_values(warehouse, folder / "target" / "semantic_manifest.json", AS_OF)
    assert_same_metrics(expected, shared_metrics(warehouse))


def test_only_the_customers_counted_at_a_moment_are_not_summed_over_months(world):
    """Customers at the start and retained are counts at a moment: over a quarter MetricFlow must take the last
    month's (non_additive_dimension), never add three months up; every flow measure adds up."""
    manifest = json.loads((world["folder"] / "target" / "semantic_manifest.json").read_text())
    non_additive = {(model["name"], measure["name"]): measure["non_additive_dimension"]
                    for model in manifest["semantic_models"] for measure in model["measures"]
                    if measure.get("non_additive_dimension")}
    last_month = {"name": "period_month", "window_choice": "max", "window_groupings": []}
    assert non_additive == {("customer_retention_cohorts", "customers_at_start"): last_month,
                            ("customer_retention_cohorts", "customers_retained"): last_month}


def test_an_incremental_run_after_new_spend_equals_a_full_refresh(world, tmp_path):
    warehouse = tmp_path / "incremental.duckdb"
    shutil.copyfile(world["warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        insert(connection, "marts.ad_performance_daily", [ad_day(date(2026, 3, 5), 50)])
    build_marts(warehouse, tmp_path)
    incremental = shared_metrics(warehouse)
    # 2026-03-05 now has spend and Q5's email MQL: two rows of cost_per_mql, paid_search and email.
    assert incremental[("cost_per_mql", date(2026, 3, 5), "paid_search")] is None
    assert incremental[("cost_per_mql", date(2026, 3, 5), "email")] == 0
    build_marts(warehouse, tmp_path, "--full-refresh")
    assert_same_metrics(shared_metrics(warehouse), incremental)
