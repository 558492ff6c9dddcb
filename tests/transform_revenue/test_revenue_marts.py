"""The revenue marts on hand-written core marts whose right answers are worked out below, through a real dbt build.

The world (as-of date 2026-04-15, reporting currency USD, time zone UTC):

- ACC1 (people P1, P2): touches T1 (P1, 2026-01-04 08:00, Google Ads campaign CAMP_G), T2 (P2, 2026-01-08, paid
  search without campaign), T3 (P1, 2026-01-25, e-mail campaign CAMP_E), T5 (P1, after O1 was created), T6 (P1,
  2025-09-01, older than the 90-day lookback).
  O1 created 2026-02-01 12:00, won 2026-03-01 12:00, 10,000: touches T1, T2, T3 (3 touches).
  O4 created 2026-01-09 00:00, open, 2,000: touches T1, T2 (2 touches).
- ACC2 (P3, P4): T4 (P3, 2026-01-19, CAMP_G). O2 created 2026-01-20 12:00 with P3 as primary person, open, 4,000:
  T4 once (the primary person's touch and the account's touch are the same touch; 1 touch).
- ACC3 (P5, deleted): O3 created 2026-02-02, lost 2026-02-10, 500: no touch (0 touches: unattributed).
- ACC8: O10 created 2026-03-10 with P1 (of ACC1) as primary person, open, 1,000: its own account has no touch,
  its primary person brings T1, T3 and T5 (T6 is older than 90 days).
- Retention: ACC5 won 2025-01-15 (1,000) and renewed 2026-01-10 (1,200); ACC6 won 2025-01-20 and never renewed;
  ACC7 won 2025-03-05 and has an open renewal created 2026-02-15; ACC9 won 2025-02-10, its renewal created
  2026-01-05 and won late, 2026-03-20.
- Ad spend on CAMP_G (google_ads): 600 on 2026-01-10, 400 on 2026-01-20, 300 on 2026-02-05.
"""

from __future__ import annotations

import math
import shutil
from datetime import UTC, date, datetime

import pytest

from tests.transform_revenue import support
from tests.transform_revenue.support import (
    assert_same_metrics,
    build_marts,
    query,
    semantic_layer_values,
    shared_metrics,
)

AS_OF = date(2026, 4, 15)


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def person(prospect_id: str, account_id: str, channel: str | None, lead: datetime, mql=None, sql=None, opportunity=None,
           customer=None, deleted=False, mql_inferred=False) -> dict:
    return {"prospect_id": prospect_id, "account_id": account_id, "original_channel": channel,
            "lifecycle_stage": "lead", "became_lead_at": lead, "became_mql_at": mql, "became_sql_at": sql,
            "became_opportunity_at": opportunity, "became_customer_at": customer, "is_deleted": deleted,
            "is_mql_inferred": mql_inferred}


def touch(touchpoint_id: str, prospect_id: str, account_id: str, occurred: datetime, channel: str,
          campaign_id: str | None = None, platform: str | None = None) -> dict:
    return {"touchpoint_id": touchpoint_id, "prospect_id": prospect_id, "account_id": account_id,
            "occurred_at": occurred, "touchpoint_type": "form_submission", "channel": channel,
            "campaign_id": campaign_id, "platform": platform}


def deal(opportunity_id: str, account_id: str, prospect_id: str | None, created: datetime, amount: float,
         won: datetime | None = None, lost: datetime | None = None, kind: str = "new_business",
         lead_source: str = "Paid Search") -> dict:
    closed = won or lost
    return {"opportunity_id": opportunity_id, "source_system": "salesforce", "source_opportunity_id": opportunity_id,
            "account_id": account_id, "primary_prospect_id": prospect_id, "owner_name": "Ann Owner",
            "opportunity_name": opportunity_id, "opportunity_type": kind,
            "stage_category": "won" if won else "lost" if lost else "open", "is_closed": closed is not None,
            "is_won": won is not None, "created_at": created, "closed_at": closed, "amount": amount,
            "currency_code": "USD", "amount_reporting": amount,
            "sales_cycle_days": (closed.date() - created.date()).days if closed else None, "lead_source": lead_source}


PROSPECTS = [
    person("P1", "ACC1", "paid_search", at(2026, 1, 5, 9), at(2026, 1, 10), at(2026, 1, 20), at(2026, 2, 1),
           at(2026, 3, 1)),
    # MQL skipped: the prospects mart gave it the SQL's time and flagged it inferred
    person("P2", "ACC1", "paid_search", at(2026, 1, 7), at(2026, 1, 15, 10), at(2026, 1, 15, 10), mql_inferred=True),
    person("P3", "ACC2", "paid_search", at(2026, 1, 20)),
    person("P4", "ACC2", "organic_search", at(2026, 2, 3), at(2026, 2, 4)),
    person("P5", "ACC3", "paid_search", at(2026, 1, 3), at(2026, 1, 4), deleted=True),
    person("P6", "ACC4", None, at(2026, 1, 2)),
]
TOUCHPOINTS = [
    touch("T1", "P1", "ACC1", at(2026, 1, 4, 8), "paid_search", "CAMP_G", "google_ads"),
    touch("T2", "P2", "ACC1", at(2026, 1, 8), "paid_search"),
    touch("T3", "P1", "ACC1", at(2026, 1, 25), "email", "CAMP_E"),
    touch("T4", "P3", "ACC2", at(2026, 1, 19), "paid_search", "CAMP_G", "google_ads"),
    touch("T5", "P1", "ACC1", at(2026, 3, 1), "email", "CAMP_E"),
    touch("T6", "P1", "ACC1", at(2025, 9, 1), "paid_search", "CAMP_G", "google_ads"),
]
OPPORTUNITIES = [
    deal("O1", "ACC1", "P1", at(2026, 2, 1, 12), 10000, won=at(2026, 3, 1, 12)),
    deal("O2", "ACC2", "P3", at(2026, 1, 20, 12), 4000),
    deal("O3", "ACC3", None, at(2026, 2, 2), 500, lost=at(2026, 2, 10)),
    deal("O4", "ACC1", "P2", at(2026, 1, 9), 2000, kind="expansion"),
    deal("O5", "ACC5", None, at(2024, 12, 1), 1000, won=at(2025, 1, 15)),
    deal("O6", "ACC5", None, at(2025, 12, 1), 1200, won=at(2026, 1, 10), kind="renewal"),
    deal("O7", "ACC6", None, at(2024, 12, 5), 800, won=at(2025, 1, 20)),
    deal("O8", "ACC7", None, at(2025, 2, 1), 700, won=at(2025, 3, 5)),
    deal("O9", "ACC7", None, at(2026, 2, 15), 700, kind="renewal"),
    deal("O10", "ACC8", "P1", at(2026, 3, 10), 1000),
    deal("O11", "ACC9", None, at(2025, 2, 1), 900, won=at(2025, 2, 10), lead_source="Partner"),
    deal("O12", "ACC9", None, at(2026, 1, 5), 900, won=at(2026, 3, 20), kind="renewal", lead_source="Partner"),
]
CAMPAIGNS = [{"campaign_id": "CAMP_G"}, {"campaign_id": "CAMP_E"}]
AD_PERFORMANCE = [
    {"date_day": day, "reporting_date_day": day, "platform": "google_ads", "ad_account_id": "1",
     "platform_campaign_id": "g1", "ad_group_id": "a1",
     "campaign_id": "CAMP_G", "impressions": impressions, "clicks": clicks, "spend": spend, "currency_code": "USD",
     "spend_reporting": spend}
    for day, impressions, clicks, spend in [(date(2026, 1, 10), 1000, 50, 600), (date(2026, 1, 20), 500, 25, 400),
                                            (date(2026, 2, 5), 300, 10, 300)]
]


def build_world(folder, extra_vars: dict | None = None, as_of: date = AS_OF):
    inputs = {"marts.prospects": PROSPECTS, "marts.touchpoints": TOUCHPOINTS, "marts.opportunities": OPPORTUNITIES,
              "marts.campaigns": CAMPAIGNS, "marts.ad_performance_daily": AD_PERFORMANCE}
    return support.build_world(folder, as_of, inputs, extra_vars)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("revenue")
    return {"warehouse": build_world(folder), "folder": folder}


def credits(warehouse, model: str, opportunity_id: str) -> dict[str, float]:
    return dict(query(warehouse, "select touchpoint_id, credit from marts.attribution "
                                 "where attribution_model = ? and opportunity_id = ?", [model, opportunity_id]))


def decay(*days_before: float, half_life: float = 7.0) -> list[float]:
    weights = [math.pow(2, -days / half_life) for days in days_before]
    return [weight / sum(weights) for weight in weights]


# --- attribution --------------------------------------------------------------------------------------------

def test_no_touch_gives_no_credit(world):
    assert query(world["warehouse"], "select count(*) from marts.attribution where opportunity_id = 'O3'") == [(0,)]


def test_one_touch_gets_all_the_credit_in_every_model(world):
    for model in ("first_touch", "last_touch", "linear", "position_based", "time_decay"):
        assert credits(world["warehouse"], model, "O2") == pytest.approx({"T4": 1.0}), model


def test_two_touches(world):
    warehouse = world["warehouse"]
    assert credits(warehouse, "first_touch", "O4") == {"T1": 1.0}
    assert credits(warehouse, "last_touch", "O4") == {"T2": 1.0}
    assert credits(warehouse, "linear", "O4") == pytest.approx({"T1": 0.5, "T2": 0.5})
    assert credits(warehouse, "position_based", "O4") == pytest.approx({"T1": 0.5, "T2": 0.5})
    # T1 is 4 days 16 hours before O4, T2 exactly 1 day before.
    expected = decay(4 + 16 / 24, 1)
    assert credits(warehouse, "time_decay", "O4") == pytest.approx({"T1": expected[0], "T2": expected[1]})


def test_three_touches_with_touches_after_creation_and_outside_the_lookback_left_out(world):
    warehouse = world["warehouse"]
    # T5 (after O1 was created) and T6 (153 days before) do not count.
    assert credits(warehouse, "first_touch", "O1") == {"T1": 1.0}
    assert credits(warehouse, "last_touch", "O1") == {"T3": 1.0}
    assert credits(warehouse, "linear", "O1") == pytest.approx({"T1": 1 / 3, "T2": 1 / 3, "T3": 1 / 3})
    assert credits(warehouse, "position_based", "O1") == pytest.approx({"T1": 0.4, "T2": 0.2, "T3": 0.4})
    expected = decay(28 + 4 / 24, 24.5, 7.5)
    assert credits(warehouse, "time_decay", "O1") == pytest.approx(dict(zip(["T1", "T2", "T3"], expected, strict=True)))


def test_primary_person_at_another_account_brings_their_touches(world):
    # O10 is ACC8's, whose people never touched; its primary person P1 (of ACC1) did: T1 and T3 within 90 days
    # of 2026-03-10, and T5 on 2026-03-01.
    assert credits(world["warehouse"], "linear", "O10") == pytest.approx({"T1": 1 / 3, "T3": 1 / 3, "T5": 1 / 3})
    assert credits(world["warehouse"], "position_based", "O10") == pytest.approx({"T1": 0.4, "T3": 0.2, "T5": 0.4})


def test_credits_sum_to_one_and_amounts_split_the_deal(world):
    rows = query(world["warehouse"], """
        select opportunity_id, attribution_model, sum(credit), sum(attributed_pipeline_reporting),
            sum(attributed_revenue_reporting)
        from marts.attribution group by 1, 2""")
    amounts = {deal["opportunity_id"]: deal["amount"] for deal in OPPORTUNITIES}
    assert {opportunity for opportunity, *_ in rows} == {"O1", "O2", "O4", "O10"}
    for opportunity, model, credit, pipeline, revenue in rows:
        assert credit == pytest.approx(1.0), (opportunity, model)
        assert float(pipeline) == pytest.approx(amounts[opportunity], abs=0.01)
        assert float(revenue) == pytest.approx(amounts[opportunity] if opportunity == "O1" else 0, abs=0.01)


def test_lookback_window_is_a_var(tmp_path):
    warehouse = build_world(tmp_path, {"attribution_lookback_days": 20})
    # 20 days before O1 (2026-01-12 12:00): only T3; before O4 (2025-12-20): T1 and T2 still.
    assert credits(warehouse, "position_based", "O1") == {"T3": 1.0}
    assert credits(warehouse, "position_based", "O4") == pytest.approx({"T1": 0.5, "T2": 0.5})


def test_a_half_life_of_minutes_gives_the_latest_touch_all_the_time_decay_credit(tmp_path):
    """With a half-life of 1.44 minutes, O1's touches 7 to 28 days before it weigh less than a double holds: the
    latest one (T3) takes all the credit, the others none, and no credit is undefined (0 / 0)."""
    warehouse = build_world(tmp_path, {"attribution_time_decay_half_life_days": 0.001})
    assert credits(warehouse, "time_decay", "O1") == {"T3": 1.0}
    assert query(warehouse, "select count(*) from marts.attribution where isnan(credit) or credit <= 0") == [(0,)]


def test_a_half_life_of_no_days_is_refused(tmp_path):
    with pytest.raises(AssertionError, match="var attribution_time_decay_half_life_days is 0: it must be a number"):
        build_world(tmp_path, {"attribution_time_decay_half_life_days": 0})


def test_a_misspelt_default_model_is_refused(tmp_path):
    """A default model no attribution model has would put every deal under 'unattributed': dbt refuses it."""
    with pytest.raises(AssertionError, match="var attribution_default_model is 'position-based': it must be one of"):
        build_world(tmp_path, {"attribution_default_model": "position-based"})


def test_amounts_past_a_trillion_in_the_reporting_currency_are_credited(tmp_path):
    """1.5 trillion (USD 60 million in Vietnamese dong) fits opportunities.amount_reporting, so it fits its
    credited shares, which add up to it to the cent."""
    amount = 1_500_000_000_000
    inputs = {"marts.prospects": [person("P1", "ACC1", "paid_search", at(2026, 1, 12))],
              "marts.touchpoints": [touch("T1", "P1", "ACC1", at(2026, 1, 10), "paid_search"),
                                    touch("T2", "P1", "ACC1", at(2026, 1, 11), "email")],
              "marts.opportunities": [deal("O1", "ACC1", "P1", at(2026, 1, 20), amount, won=at(2026, 2, 1))]}
    warehouse = support.build_world(tmp_path, AS_OF, inputs)
    assert query(warehouse, """
        select attribution_model, round(sum(attributed_pipeline_reporting), 2),
            round(sum(attributed_revenue_reporting), 2)
        from marts.attribution
        group by 1
        order by 1""") == [(model, amount, amount) for model in sorted(
            ["first_touch", "last_touch", "linear", "position_based", "time_decay"])]


def test_lookback_window_is_days_of_24_hours_in_any_session_time_zone(tmp_path, monkeypatch):
    # 90 days of 24 hours before O13 (2026-04-01 12:00 UTC) is 2026-01-01 12:00 UTC. In a New York session,
    # 90 calendar days cross the change to summer time and start an hour later, 13:00 UTC, which left T7 out.
    monkeypatch.setenv("TZ", "America/New_York")
    inputs = {"marts.prospects": [person("P7", "ACC10", "email", at(2025, 12, 1))],
              "marts.touchpoints": [touch("T7", "P7", "ACC10", datetime(2026, 1, 1, 12, 30, tzinfo=UTC), "email"),
                                    touch("T8", "P7", "ACC10", datetime(2026, 1, 1, 11, 30, tzinfo=UTC), "email")],
              "marts.opportunities": [deal("O13", "ACC10", "P7", at(2026, 4, 1, 12), 100)],
              "marts.campaigns": [], "marts.ad_performance_daily": []}
    warehouse = support.build_world(tmp_path, AS_OF, inputs)
    assert credits(warehouse, "first_touch", "O13") == {"T7": 1.0}


# --- funnel -------------------------------------------------------------------------------------------------

def funnel_row(warehouse, cohort: date, channel: str) -> dict:
    names = [column for (column,) in query(warehouse, "select column_name from information_schema.columns "
                                                      "where table_name = 'funnel_monthly' order by ordinal_position")]
    rows = query(warehouse, "select * from marts.funnel_monthly where cohort_month = ? and original_channel = ?",
                 [cohort, channel])
    assert len(rows) == 1
    return dict(zip(names, rows[0], strict=True))


def test_funnel_counts_skips_rates_and_medians(world):
    row = funnel_row(world["warehouse"], date(2026, 1, 1), "paid_search")
    # P1, P2, P3 (P5 is deleted): P1 reaches customer, P2 skips MQL (MQL = SQL time), P3 stays a lead.
    assert (row["leads"], row["mqls"], row["sqls"], row["opportunities"], row["customers"]) == (3, 2, 2, 1, 1)
    assert (row["mqls_skipped"], row["sqls_skipped"], row["opportunities_skipped"]) == (1, 0, 0)
    assert row["lead_to_mql_rate"] == pytest.approx(2 / 3)
    assert row["mql_to_sql_rate"] == pytest.approx(1.0)
    assert row["opportunity_to_customer_rate"] == pytest.approx(1.0)
    # Medians leave P2's skipped MQL out: P1 only (5, 10, 12 and 28 days).
    assert (row["median_days_lead_to_mql"], row["median_days_mql_to_sql"], row["median_days_sql_to_opportunity"],
            row["median_days_opportunity_to_customer"]) == (5, 10, 12, 28)
    assert row["first_lead_at"] == at(2026, 1, 5, 9)


def test_funnel_unknown_channel_and_other_cohorts(world):
    assert funnel_row(world["warehouse"], date(2026, 1, 1), "unknown")["leads"] == 1
    organic = funnel_row(world["warehouse"], date(2026, 2, 1), "organic_search")
    assert (organic["leads"], organic["mqls"], organic["median_days_lead_to_mql"]) == (1, 1, 1)
    assert query(world["warehouse"], "select count(*) from marts.funnel_monthly") == [(3,)]


@pytest.fixture(scope="module")
def world_on_january_9(tmp_path_factory):
    """The same world rebuilt as of 2026-01-09: what happened after that day has not happened yet."""
    return build_world(tmp_path_factory.mktemp("revenue_2026_01_09"), as_of=date(2026, 1, 9))


def test_funnel_counts_only_what_happened_by_the_as_of_date(world_on_january_9):
    # By 2026-01-09, P1 (lead 01-05) and P2 (lead 01-07) are leads; P1's MQL (01-10), P2's inferred MQL (01-15) and
    # P3's lead (01-20) come later, as does February's cohort (P4).
    row = funnel_row(world_on_january_9, date(2026, 1, 1), "paid_search")
    assert (row["leads"], row["mqls"], row["sqls"], row["opportunities"], row["customers"]) == (2, 0, 0, 0, 0)
    assert (row["mqls_skipped"], row["median_days_lead_to_mql"], row["first_mql_at"]) == (0, None, None)
    assert row["first_lead_at"] == at(2026, 1, 5, 9)
    assert query(world_on_january_9, "select count(*) from marts.funnel_monthly") == [(2,)]


# --- channel performance (ROI) -------------------------------------------------------------------------------

def channel_row(warehouse, month: date, channel: str, campaign: str | None) -> tuple:
    rows = query(warehouse, """
        select spend_reporting, impressions, clicks, leads, mqls, sqls, opportunities, attributed_pipeline_reporting,
            attributed_revenue_reporting, new_customers, cost_per_mql, cac, roas
        from marts.channel_performance_monthly
        where month = ? and channel = ? and campaign_id is not distinct from ?""", [month, channel, campaign])
    assert len(rows) == 1, (month, channel, campaign, rows)
    return tuple(float(value) if value is not None else None for value in rows[0])


def test_channel_performance_joins_spend_people_and_credit_without_fanning_out(world):
    warehouse = world["warehouse"]
    # January, CAMP_G: spend 1,000; P1 and P3 sourced by CAMP_G (T1, T4); P1's MQL and SQL; O2 (T4, 1.0) and
    # O4 (T1, 0.5) credited: 1.5 deals, 4,000 + 1,000 pipeline; cost per MQL 1,000; no customer; ROAS 0.
    assert channel_row(warehouse, date(2026, 1, 1), "paid_search", "CAMP_G") == (
        1000, 1500, 75, 2, 1, 1, 1.5, 5000, 0, 0, 1000, None, 0)
    # January, paid search without campaign: P2 (touched after becoming a lead: original channel), O4's T2; an MQL
    # without spend costs 0 (cost per MQL = spend / MQLs, null only without MQLs, as in shared_metrics_daily).
    assert channel_row(warehouse, date(2026, 1, 1), "paid_search", None) == (
        0, 0, 0, 1, 1, 1, 0.5, 1000, 0, 0, 0, None, None)
    # February: O1 created (T1 0.4, T2 0.2, T3 0.4); CAMP_G spent 300.
    assert channel_row(warehouse, date(2026, 2, 1), "paid_search", "CAMP_G") == (
        300, 300, 10, 0, 0, 0, 0.4, 4000, 0, 0, None, None, 0)
    assert channel_row(warehouse, date(2026, 2, 1), "email", "CAMP_E")[6:8] == (0.4, 4000)
    assert channel_row(warehouse, date(2026, 2, 1), "unattributed", None)[6:8] == (2, 1200)  # O3 and O9
    # March: O1 won (10,000), ACC1's first win: 40% to CAMP_G; no March spend: CAC 0, no ROAS.
    march = channel_row(warehouse, date(2026, 3, 1), "paid_search", "CAMP_G")
    assert march[8:] == (4000, 0.4, None, 0, None)


def test_channel_performance_totals_equal_the_sources(world):
    warehouse = world["warehouse"]
    [(spend, pipeline, deals, leads)] = query(warehouse, """
        select sum(spend_reporting), sum(attributed_pipeline_reporting), sum(opportunities), sum(leads)
        from marts.channel_performance_monthly""")
    assert float(spend) == 1300
    assert float(pipeline) == pytest.approx(sum(deal["amount"] for deal in OPPORTUNITIES), abs=0.05)
    assert float(deals) == pytest.approx(len(OPPORTUNITIES))
    assert leads == 5


# --- retention ----------------------------------------------------------------------------------------------

def test_customer_retention(world):
    rows = {(cohort, period): (start, retained, renewals, float(amount)) for cohort, period, start, retained, renewals,
            amount in query(world["warehouse"], """
                select cohort_month, period_month, customers_at_start, customers_retained, renewals_won,
                    renewal_amount_reporting
                from marts.customer_retention""")}
    january, march = date(2025, 1, 1), date(2025, 3, 1)
    # ACC5 and ACC6 (cohort 2025-01): both covered for 12 months; ACC5 renewed in 2026-01, ACC6 churned.
    assert rows[(january, january)] == (2, 2, 0, 0)
    assert rows[(january, date(2025, 12, 1))] == (2, 2, 0, 0)
    assert rows[(january, date(2026, 1, 1))] == (2, 1, 1, 1200)
    assert rows[(january, date(2026, 4, 1))] == (2, 1, 0, 0)
    # ACC7 (cohort 2025-03): its term ends 2026-02, but its renewal has been open since 2026-02.
    assert all(rows[(march, period)][1] == 1 for cohort, period in rows if cohort == march)
    # ACC9 (cohort 2025-02): its term ends 2026-01; its renewal, open from 2026-01 and won in 2026-03, covers
    # 2026-02 as it did while open (winning it late must not read as a churn and a return).
    assert all(rows[(date(2025, 2, 1), period)][1] == 1 for cohort, period in rows if cohort == date(2025, 2, 1))
    assert rows[(date(2025, 2, 1), date(2026, 3, 1))] == (1, 1, 1, 900)
    # ACC1 (cohort 2026-03, O1).
    assert rows[(date(2026, 3, 1), date(2026, 4, 1))] == (1, 1, 0, 0)
    # Periods run from the cohort month to the as-of month: 16 + 15 + 14 + 2.
    assert len(rows) == 47


def test_customer_retention_takes_deals_as_they_stood_on_the_as_of_date(world_on_january_9, tmp_path):
    rows = {(cohort, period): (start, retained, renewals) for cohort, period, start, retained, renewals in query(
        world_on_january_9, "select cohort_month, period_month, customers_at_start, customers_retained, renewals_won "
                            "from marts.customer_retention")}
    # On 2026-01-09 ACC5's renewal (won 01-10) was still open: it keeps ACC5 retained, but no renewal was won yet.
    assert rows[(date(2025, 1, 1), date(2026, 1, 1))] == (2, 1, 0)
    # ACC9's renewal (created 01-05, won in March) was open too; ACC1 was no customer yet (O1 created in February).
    assert rows[(date(2025, 2, 1), date(2026, 1, 1))] == (1, 1, 0)
    assert len(rows) == 13 + 12 + 11
    # On 2025-01-16 ACC5 had won (01-15) but ACC6 had not (01-20): January's cohort is ACC5 alone.
    earlier = build_world(tmp_path, as_of=date(2025, 1, 16))
    assert query(earlier, "select cohort_month, period_month, customers_at_start, customers_retained "
                          "from marts.customer_retention") == [(date(2025, 1, 1), date(2025, 1, 1), 1, 1)]


# --- shared metrics = semantic layer ------------------------------------------------------------------------

def test_shared_metrics_equal_the_semantic_layer(world):
    warehouse, folder = world["warehouse"], world["folder"]
    expected = semantic_layer_values(warehouse, folder / "target" / "semantic_manifest.json", AS_OF)
    actual = shared_metrics(warehouse)
    assert_same_metrics(expected, actual)
    # and a few by hand
    assert actual[("mqls", date(2026, 1, 10), "paid_search")] == 1
    assert actual[("bookings", date(2026, 3, 1), "paid_search")] == 10000
    assert actual[("win_rate", date(2026, 3, 1), "paid_search")] == 1
    assert actual[("ad_spend", date(2026, 1, 10), "paid_search")] == 600
    assert actual[("cost_per_mql", date(2026, 1, 10), "paid_search")] == 600  # P1's MQL on 2026-01-10
    assert actual[("logo_retention_rate", date(2026, 4, 1), "all")] == pytest.approx(4 / 5)
    assert ("mqls", date(2026, 1, 4), "paid_search") not in actual  # P5 is deleted


def test_an_sql_after_the_as_of_date_is_no_conversion_yet(tmp_path):
    """As of 2026-01-12, P1 is an MQL (01-10) and not yet an SQL (01-20): January 10's MQL-to-SQL rate is 0, in
    the table and in the semantic layer, as funnel_monthly counts it."""
    as_of = date(2026, 1, 12)
    warehouse = build_world(tmp_path, as_of=as_of)
    actual = shared_metrics(warehouse)
    assert (actual[("mqls", date(2026, 1, 10), "paid_search")],
            actual[("mqls_converted_to_sql", date(2026, 1, 10), "paid_search")],
            actual[("mql_to_sql_rate", date(2026, 1, 10), "paid_search")]) == (1, 0, 0)
    assert_same_metrics(semantic_layer_values(warehouse, tmp_path / "target" / "semantic_manifest.json", as_of),
                        actual)
    assert query(warehouse, "select mqls, sqls from marts.funnel_monthly where cohort_month = '2026-01-01' "
                            "and original_channel = 'paid_search'") == [(1, 0)]


def test_full_rebuild_is_identical(world, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(world["warehouse"], copy)
    before = shared_metrics(copy)
    build_marts(copy, tmp_path, "--full-refresh")
    assert_same_metrics(before, shared_metrics(copy))


def test_dates_are_in_the_reporting_time_zone(tmp_path):
    # In Los Angeles, T1 (2026-01-04 08:00 UTC) is still 2026-01-04 but P1's lead (2026-01-05 09:00 UTC) is 01:00
    # on 2026-01-05; P1's MQL (2026-01-10 00:00 UTC) is 2026-01-09 there.
    warehouse = build_world(tmp_path, {"reporting_timezone": "America/Los_Angeles"})
    metrics = shared_metrics(warehouse)
    assert metrics[("mqls", date(2026, 1, 9), "paid_search")] == 1
    assert ("mqls", date(2026, 1, 10), "paid_search") not in metrics
