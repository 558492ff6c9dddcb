"""The marts' suites: the contract's rules block publishing, and each failure names the rule and the row."""

import pytest

from expectations.registry import SUITES, suites_for
from tests.expectations.helpers import DAY, FUTURE, FUTURE_DAY, LATER, PAST, Broken, assert_passes, assert_suite

# The marts of the warehouse contract (docs: the design's warehouse-contract.md).
CONTRACT_MARTS = ("accounts", "account_source_records", "prospects", "prospect_source_records", "opportunities",
                  "opportunity_stage_history", "pipeline_daily", "campaigns", "ad_performance_daily", "touchpoints",
                  "attribution", "channel_performance_monthly", "funnel_monthly", "customer_retention",
                  "alignment_issues", "shared_metrics_daily")
BETWEEN = "expect_column_values_to_be_between"
NOT_NULL = "expect_column_values_to_not_be_null"
REGEX = "expect_column_values_to_match_regex"
IN_SET = "expect_column_values_to_be_in_set"
UNIQUE = "expect_column_values_to_be_unique"
COMPOUND = "expect_compound_columns_to_be_unique"
ORDERED = "expect_column_pair_values_a_to_be_greater_than_b"

# Per mart: the key column that names a row, good rows (the columns its suites read), broken copies.
CASES = {
    "account_source_records": ("source_record_id", [
        {"account_id": "a1", "source_system": "salesforce", "source_record_id": "001A", "match_rule": "domain",
         "match_confidence": 0.95, "created_at": PAST},
        {"account_id": "a1", "source_system": "hubspot", "source_record_id": "001A", "match_rule": "single_record",
         "match_confidence": 1.0, "created_at": PAST},
    ], [
        Broken("source_system", "pipedrive", f"{IN_SET}(source_system)"),
        Broken("match_confidence", 1.2, f"{BETWEEN}(match_confidence)"),
        Broken("account_id", None, f"{NOT_NULL}(account_id)"),
    ]),
    "prospects": ("prospect_id", [
        {"prospect_id": "p1", "email": "ada.lovelace@example.com", "email_domain": "example.com",
         "lifecycle_stage": "mql", "match_rule": "email", "is_deleted": False, "account_id": "a1",
         "became_lead_at": PAST, "became_mql_at": LATER, "became_sql_at": None, "became_opportunity_at": None,
         "became_customer_at": None, "created_at": PAST},
    ], [
        Broken("email", "Ada.Lovelace@Example.com", f"{REGEX}(email)"),
        Broken("lifecycle_stage", "marketingqualifiedlead", f"{IN_SET}(lifecycle_stage)"),
        Broken("became_customer_at", FUTURE, f"{BETWEEN}(became_customer_at)"),
        Broken("prospect_id", "p1", f"{UNIQUE}(prospect_id)"),
    ]),
    "prospect_source_records": ("source_record_id", [
        {"prospect_id": "p1", "source_system": "hubspot_contact", "source_record_id": "51", "match_rule": "email",
         "source_email": "ada@example.com"},
    ], [
        Broken("source_email", " ada@example.com", f"{REGEX}(source_email)"),
        Broken("prospect_id", None, f"{NOT_NULL}(prospect_id)"),
    ]),
    "opportunities": ("opportunity_id", [
        {"opportunity_id": "o1", "source_system": "salesforce", "source_opportunity_id": "006A",
         "stage_category": "won", "opportunity_type": "renewal", "amount": 1200.0, "currency_code": "EUR",
         "amount_reporting": 1300.0, "probability_pct": 100.0, "sales_cycle_days": 30, "is_closed": True,
         "is_won": True, "created_at": PAST, "closed_at": LATER, "account_id": "a1", "owner_name": "Sam"},
    ], [
        Broken("stage_category", "closed", f"{IN_SET}(stage_category)"),
        Broken("opportunity_type", "upsell", f"{IN_SET}(opportunity_type)"),
        Broken("amount", -1200.0, f"{BETWEEN}(amount)"),
        Broken("currency_code", None, f"{NOT_NULL}(currency_code)"),
        Broken("closed_at", FUTURE, f"{BETWEEN}(closed_at)"),
    ]),
    "opportunity_stage_history": ("opportunity_id", [
        {"opportunity_id": "o1", "stage": "Prospecting", "stage_category": "open", "entered_at": PAST,
         "exited_at": LATER, "days_in_stage": 15, "amount_at_entry": 1000.0, "currency_code": "USD"},
    ], [
        Broken("exited_at", PAST.replace(year=2025), ORDERED),
        Broken("days_in_stage", -2, f"{BETWEEN}(days_in_stage)"),
    ]),
    "pipeline_daily": ("opportunity_id", [
        {"date_day": DAY, "opportunity_id": "o1", "stage_category": "open", "is_open": True,
         "amount_reporting": 100.0},
    ], [
        Broken("date_day", FUTURE_DAY, f"{BETWEEN}(date_day)"),
        Broken("stage_category", "pending", f"{IN_SET}(stage_category)"),
        Broken("opportunity_id", "o1", COMPOUND),
    ]),
    "campaigns": ("campaign_id", [
        {"campaign_id": "c1", "campaign_name": "Spring webinar", "channel": "events", "start_date": DAY,
         "end_date": FUTURE_DAY, "budgeted_cost_reporting": 100.0, "actual_cost_reporting": 80.0},
    ], [
        Broken("channel", None, f"{NOT_NULL}(channel)"),
    ]),
    "ad_performance_daily": ("platform_campaign_id", [
        {"date_day": DAY, "platform": "google_ads", "ad_account_id": "123", "platform_campaign_id": "11",
         "ad_group_id": "21", "impressions": 100, "clicks": 3, "spend": 5.5, "currency_code": "EUR",
         "spend_reporting": 6.0, "platform_conversions": 1.0, "platform_conversion_value_reporting": 10.0},
        {"date_day": DAY, "platform": "linkedin_ads", "ad_account_id": "5001", "platform_campaign_id": "lc1",
         "ad_group_id": None, "impressions": 100, "clicks": 3, "spend": 5.5, "currency_code": "EUR",
         "spend_reporting": 6.0, "platform_conversions": None, "platform_conversion_value_reporting": None},
    ], [
        Broken("platform", "tiktok_ads", f"{IN_SET}(platform)"),
        Broken("spend", -5.5, f"{BETWEEN}(spend)"),
        Broken("date_day", FUTURE_DAY, f"{BETWEEN}(date_day)"),
    ]),
    "touchpoints": ("touchpoint_id", [
        {"touchpoint_id": "t1", "prospect_id": "p1", "occurred_at": PAST, "touchpoint_type": "form_submission",
         "source_system": "hubspot"},
    ], [
        Broken("occurred_at", FUTURE, f"{BETWEEN}(occurred_at)"),
        Broken("prospect_id", None, f"{NOT_NULL}(prospect_id)"),
    ]),
    "attribution": ("touchpoint_id", [
        {"opportunity_id": "o1", "touchpoint_id": "t1", "attribution_model": "linear", "credit": 0.5,
         "attributed_pipeline_reporting": 500.0, "attributed_revenue_reporting": 0.0},
    ], [
        Broken("credit", 1.5, f"{BETWEEN}(credit)"),
        Broken("attribution_model", "u_shaped", f"{IN_SET}(attribution_model)"),
    ]),
    "channel_performance_monthly": ("campaign_id", [
        {"month": DAY, "channel": "paid_search", "platform": "google_ads", "campaign_id": "c1", "impressions": 10,
         "clicks": 1, "leads": 1, "mqls": 1, "sqls": 0, "opportunities": 0, "spend_reporting": 10.0,
         "attributed_pipeline_reporting": 0.0, "attributed_revenue_reporting": 0.0, "cost_per_mql": 10.0,
         "cac": None, "roas": 0.0},
    ], [
        Broken("cac", -1.0, f"{BETWEEN}(cac)"),
        Broken("channel", None, f"{NOT_NULL}(channel)"),
    ]),
    "funnel_monthly": ("original_channel", [
        {"cohort_month": DAY, "original_channel": "web", "leads": 10, "mqls": 5, "sqls": 2, "opportunities": 1,
         "customers": 1},
    ], [
        Broken("customers", -1, f"{BETWEEN}(customers)"),
        Broken("cohort_month", FUTURE_DAY, f"{BETWEEN}(cohort_month)"),
    ]),
    "customer_retention": ("period_month", [
        {"cohort_month": DAY, "period_month": DAY, "customers_at_start": 10, "customers_retained": 9,
         "logo_retention_rate": 0.9, "renewal_amount_reporting": 1000.0},
    ], [
        Broken("logo_retention_rate", 1.1, f"{BETWEEN}(logo_retention_rate)"),
        Broken("period_month", DAY.replace(year=2025), ORDERED),
    ]),
    "alignment_issues": ("issue_id", [
        {"issue_id": "i1", "entity_type": "account", "entity_id": "a1", "issue_type": "stage_conflict",
         "severity": "high", "first_detected_at": PAST},
    ], [
        Broken("severity", None, f"{NOT_NULL}(severity)"),
        Broken("first_detected_at", FUTURE, f"{BETWEEN}(first_detected_at)"),
    ]),
    "shared_metrics_daily": ("metric_name", [
        {"date_day": DAY, "metric_name": "pipeline_created", "metric_type": "simple", "value": 10.0,
         "numerator": None, "denominator": None},
        # a day of spend without MQLs: no cost per MQL of its own, but its spend counts in the month's
        {"date_day": DAY, "metric_name": "cost_per_mql", "metric_type": "ratio", "value": None, "numerator": 100.0,
         "denominator": 0.0},
        {"date_day": DAY, "metric_name": "cost_per_mql", "metric_type": "ratio", "value": 25.0, "numerator": 100.0,
         "denominator": 4.0},
    ], [
        Broken("value", None, f"{NOT_NULL}(value)"),
        Broken("metric_type", None, f"{NOT_NULL}(metric_type)"),
    ]),
}


def test_a_ratio_with_a_denominator_must_have_its_value():
    suite = next(s for s in suites_for("marts", "shared_metrics_daily") if s.blocking)
    good = [{"date_day": DAY, "metric_name": "cac", "metric_type": "ratio", "value": 3.0, "numerator": 6.0,
             "denominator": 2.0}]
    assert_suite(suite, good, "metric_name", [Broken("value", None, f"{NOT_NULL}(value)")])


@pytest.mark.parametrize("table", sorted(CASES))
def test_mart_suite_passes_on_good_rows_and_names_each_broken_rule(table):
    name_column, good, broken = CASES[table]
    suite, health = (next(s for s in suites_for("marts", table) if s.blocking is flag) for flag in (True, False))
    assert_suite(suite, good, name_column, broken)
    if health.expectations():
        assert_passes(health, good)


def test_health_suites_warn_when_usual_fields_go_missing():
    health = next(s for s in suites_for("marts", "prospects") if not s.blocking)
    good = [{"prospect_id": f"p{n}", "email": f"p{n}@example.com", "account_id": "a1"} for n in range(10)]
    assert_suite(health, good, "prospect_id", [Broken("email", None, f"{NOT_NULL}(email)")] * 2)


def test_every_mart_of_the_contract_has_a_blocking_suite_and_a_warning_health_suite():
    for table in CONTRACT_MARTS:
        flags = sorted(spec.blocking for spec in suites_for("marts", table))
        assert flags == [False, True], table
        assert table in CASES or table == "accounts", f"marts.{table} needs a test case"
    assert {spec.name for spec in SUITES if spec.table == "accounts" and spec.blocking} == {"accounts_suite"}
    assert all(spec.max_row_drop for spec in SUITES if spec.schema == "marts" and not spec.blocking)
