"""The raw tables' suites: the loader's guarantees block, the source's health warns, and each names what broke."""

import pandas as pd
import pytest

from connectors.google_ads.streams import STREAMS as GOOGLE_ADS
from connectors.hubspot.streams import STREAMS as HUBSPOT
from connectors.linkedin_ads.streams import STREAMS as LINKEDIN_ADS
from connectors.meta_ads.streams import STREAMS as META_ADS
from connectors.salesforce.streams import STREAMS as SALESFORCE
from expectations.registry import SUITES, suites_for
from tests.expectations.helpers import DAY, FUTURE, FUTURE_DAY, LATER, PAST, Broken, assert_suite

BETWEEN = "expect_column_values_to_be_between"
NOT_NULL = "expect_column_values_to_not_be_null"
REGEX = "expect_column_values_to_match_regex"
IN_SET = "expect_column_values_to_be_in_set"
ORDERED = "expect_column_pair_values_a_to_be_greater_than_b"
SF_STAMPS = {"created_date": PAST, "last_modified_date": LATER, "system_modstamp": LATER}
HS_STAMPS = {"created_at": PAST, "updated_at": LATER, "archived_at": None}

# Per raw table: its key column, good rows (only the columns its health suite reads), and broken copies.
CASES = {
    ("raw_salesforce", "account"): ("id", [
        {"id": "001A", "name": "Acme Inc", "type": "Prospect", "annual_revenue": 1_000_000.0,
         "currency_iso_code": "USD", "number_of_employees": 50, "is_deleted": False, **SF_STAMPS},
        {"id": "001B", "name": "Globex", "type": None, "annual_revenue": None, "currency_iso_code": None,
         "number_of_employees": None, "is_deleted": True, **SF_STAMPS},
    ], [
        Broken("annual_revenue", -250_000.0, f"{BETWEEN}(annual_revenue)"),
        Broken("currency_iso_code", None, f"{NOT_NULL}(currency_iso_code)"),
        Broken("type", "Customer (Direct)", f"{IN_SET}(type)"),
        Broken("system_modstamp", FUTURE, f"{BETWEEN}(system_modstamp)"),
    ]),
    ("raw_salesforce", "contact"): ("id", [
        {"id": "003A", "last_name": "Lovelace", "email": "Ada.Lovelace@Example.COM", "is_deleted": False,
         **SF_STAMPS},
        {"id": "003B", "last_name": "Hopper", "email": None, "is_deleted": False, **SF_STAMPS},
    ], [
        Broken("email", "ada lovelace@example", f"{REGEX}(email)"),
        Broken("last_name", None, f"{NOT_NULL}(last_name)"),
        Broken("created_date", FUTURE, f"{BETWEEN}(created_date)"),
    ]),
    ("raw_salesforce", "lead"): ("id", [
        {"id": "00QA", "last_name": "Turing", "company": "Bletchley", "status": "Closed - Converted",
         "email": "alan@bletchley.co.uk", "number_of_employees": 10, "converted_date": DAY, "is_deleted": False,
         **SF_STAMPS},
    ], [
        Broken("status", "Converted", f"{IN_SET}(status)"),
        Broken("email", "alan@", f"{REGEX}(email)"),
        Broken("converted_date", FUTURE_DAY, f"{BETWEEN}(converted_date)"),
        Broken("company", None, f"{NOT_NULL}(company)"),
    ]),
    ("raw_salesforce", "opportunity"): ("id", [
        {"id": "006A", "name": "Big deal", "stage_name": "Prospecting", "close_date": FUTURE_DAY, "amount": 5000.0,
         "expected_revenue": 500.0, "currency_iso_code": "EUR", "probability": 10.0, "type": "New Business",
         "forecast_category_name": "Pipeline", "is_deleted": False, **SF_STAMPS},
    ], [
        Broken("amount", -1.0, f"{BETWEEN}(amount)"),
        Broken("currency_iso_code", "eur", f"{REGEX}(currency_iso_code)"),
        Broken("probability", 120.0, f"{BETWEEN}(probability)"),
        Broken("forecast_category_name", "Maybe", f"{IN_SET}(forecast_category_name)"),
    ]),
    ("raw_salesforce", "opportunity_history"): ("id", [
        {"id": "008A", "opportunity_id": "006A", "stage_name": "Prospecting", "amount": 5000.0, "prev_amount": None,
         "probability": 10.0, "forecast_category": "Pipeline", "created_date": PAST, "system_modstamp": PAST},
    ], [
        Broken("opportunity_id", None, f"{NOT_NULL}(opportunity_id)"),
        Broken("prev_amount", -5.0, f"{BETWEEN}(prev_amount)"),
    ]),
    ("raw_salesforce", "campaign"): ("id", [
        {"id": "701A", "name": "Webinar", "status": "Completed", "budgeted_cost": 1000.0, "actual_cost": 900.0,
         "currency_iso_code": "USD", "number_of_leads": 3, "number_of_contacts": 2, "number_of_responses": 1,
         "number_of_opportunities": 0, "start_date": DAY, "end_date": FUTURE_DAY, "is_deleted": False,
         **SF_STAMPS},
    ], [
        Broken("end_date", pd.Timestamp("2025-01-01"), f"{ORDERED}"),
        Broken("number_of_leads", -3, f"{BETWEEN}(number_of_leads)"),
        Broken("status", "Done", f"{IN_SET}(status)"),
    ]),
    ("raw_salesforce", "campaign_member"): ("id", [
        {"id": "00vA", "campaign_id": "701A", "status": "Responded", "first_responded_date": DAY,
         "is_deleted": False, **SF_STAMPS},
    ], [
        Broken("campaign_id", None, f"{NOT_NULL}(campaign_id)"),
        Broken("first_responded_date", FUTURE_DAY, f"{BETWEEN}(first_responded_date)"),
    ]),
    ("raw_salesforce", "user"): ("id", [
        {"id": "005A", "name": "Sam Seller", "email": "sam@example.com", "username": "sam@example.com.prod",
         "is_active": True, "last_login_date": LATER, **SF_STAMPS},
    ], [
        Broken("username", "sam", f"{REGEX}(username)"),
        Broken("last_login_date", FUTURE, f"{BETWEEN}(last_login_date)"),
    ]),
    ("raw_hubspot", "companies"): ("id", [
        {"id": "1", "archived": False, "annualrevenue": 250000.0, "numberofemployees": 12,
         "lifecyclestage": "customer", "createdate": PAST, "hs_lastmodifieddate": LATER, **HS_STAMPS},
    ], [
        Broken("annualrevenue", -1.0, f"{BETWEEN}(annualrevenue)"),
        Broken("lifecyclestage", "Customer", f"{IN_SET}(lifecyclestage)"),
        Broken("hs_lastmodifieddate", FUTURE, f"{BETWEEN}(hs_lastmodifieddate)"),
    ]),
    ("raw_hubspot", "contacts"): ("id", [
        {"id": "51", "archived": False, "email": "grace@navy.mil", "lifecyclestage": "lead", "hs_lead_status": "NEW",
         "hs_analytics_source": "PAID_SEARCH", "createdate": PAST, "lastmodifieddate": LATER,
         "hs_lifecyclestage_lead_date": PAST, "hs_lifecyclestage_marketingqualifiedlead_date": None,
         "hs_lifecyclestage_salesqualifiedlead_date": None, "hs_lifecyclestage_customer_date": None, **HS_STAMPS},
    ], [
        Broken("email", "grace at navy.mil", f"{REGEX}(email)"),
        Broken("hs_lead_status", "MAYBE", f"{IN_SET}(hs_lead_status)"),
        Broken("hs_analytics_source", "TIKTOK", f"{IN_SET}(hs_analytics_source)"),
        Broken("hs_lifecyclestage_customer_date", FUTURE, f"{BETWEEN}(hs_lifecyclestage_customer_date)"),
    ]),
    ("raw_hubspot", "deals"): ("id", [
        {"id": "9", "archived": False, "dealstage": "closedwon", "pipeline": "default", "amount": 900.0,
         "deal_currency_code": "GBP", "hs_deal_stage_probability": 1.0, "dealtype": "newbusiness",
         "createdate": PAST, "hs_lastmodifieddate": LATER, **HS_STAMPS},
    ], [
        Broken("deal_currency_code", None, f"{NOT_NULL}(deal_currency_code)"),
        Broken("hs_deal_stage_probability", 1.5, f"{BETWEEN}(hs_deal_stage_probability)"),
        Broken("dealtype", "upsell", f"{IN_SET}(dealtype)"),
    ]),
    ("raw_hubspot", "owners"): ("id", [
        {"id": "7", "archived": False, "email": "owner@example.com", "created_at": PAST, "updated_at": LATER},
    ], [
        Broken("email", "owner@example", f"{REGEX}(email)"),
    ]),
    ("raw_hubspot", "deal_pipeline_stages"): ("stage_key", [
        {"stage_key": "default:closedwon", "pipeline_id": "default", "stage_id": "closedwon",
         "stage_label": "Closed won", "probability": 1.0},
    ], [
        Broken("probability", 100.0, f"{BETWEEN}(probability)"),
        Broken("stage_label", None, f"{NOT_NULL}(stage_label)"),
    ]),
    ("raw_hubspot", "email_events"): ("id", [
        {"id": "e1", "created": PAST, "type": "OPEN", "recipient": "reader@example.org"},
    ], [
        Broken("type", "READ", f"{IN_SET}(type)"),
        Broken("created", FUTURE, f"{BETWEEN}(created)"),
    ]),
    ("raw_hubspot", "form_submissions"): ("conversion_id", [
        {"conversion_id": "c1", "form_guid": "f1", "submitted_at": PAST},
    ], [
        Broken("submitted_at", FUTURE, f"{BETWEEN}(submitted_at)"),
        Broken("form_guid", None, f"{NOT_NULL}(form_guid)"),
    ]),
    ("raw_google_ads", "customers"): ("customer_id", [
        {"customer_id": "1234567890", "currency_code": "EUR", "time_zone": "Europe/Berlin", "status": "ENABLED"},
    ], [
        Broken("currency_code", "Euro", f"{REGEX}(currency_code)"),
        Broken("status", "ON", f"{IN_SET}(status)"),
    ]),
    ("raw_google_ads", "campaigns"): ("campaign_id", [
        {"campaign_id": "11", "customer_id": "1234567890", "name": "Brand", "status": "ENABLED",
         "advertising_channel_type": "SEARCH", "start_date_time": "2026-01-14 00:00:00", "end_date_time": None},
    ], [
        Broken("advertising_channel_type", "RADIO", f"{IN_SET}(advertising_channel_type)"),
        Broken("end_date_time", "2020-01-01 23:59:59", ORDERED),
        Broken("start_date_time", "soon", f"{REGEX}(start_date_time)"),
    ]),
    ("raw_google_ads", "ad_groups"): ("ad_group_id", [
        {"ad_group_id": "21", "campaign_id": "11", "customer_id": "1234567890", "status": "PAUSED", "cpc_bid": 1.25},
    ], [
        Broken("cpc_bid", -0.5, f"{BETWEEN}(cpc_bid)"),
    ]),
    ("raw_google_ads", "campaign_daily_metrics"): ("row_key", [
        {"row_key": "k1", "date": DAY, "customer_id": "1234567890", "campaign_id": "11", "impressions": 1000,
         "clicks": 30, "cost_micros": 12_500_000, "cost": 12.5, "currency_code": "EUR", "conversions": 2.0,
         "conversions_value": 80.0},
    ], [
        Broken("clicks", -1, f"{BETWEEN}(clicks)"),
        Broken("cost", -12.5, f"{BETWEEN}(cost)"),
        Broken("date", FUTURE_DAY, f"{BETWEEN}(date)"),
    ]),
    ("raw_google_ads", "ad_group_daily_metrics"): ("row_key", [
        {"row_key": "k1", "date": DAY, "customer_id": "1234567890", "campaign_id": "11", "ad_group_id": "21",
         "impressions": 1000, "clicks": 30, "cost_micros": 12_500_000, "cost": 12.5, "currency_code": "EUR",
         "conversions": 2.0, "conversions_value": 80.0},
    ], [
        Broken("currency_code", None, f"{NOT_NULL}(currency_code)"),
        Broken("ad_group_id", None, f"{NOT_NULL}(ad_group_id)"),
    ]),
    ("raw_meta_ads", "ad_accounts"): ("account_id", [
        {"account_id": "act_1", "currency": "USD", "timezone_name": "America/New_York", "account_status": 1},
    ], [
        Broken("account_status", 4, f"{IN_SET}(account_status)"),
    ]),
    ("raw_meta_ads", "campaigns"): ("id", [
        {"id": "c1", "account_id": "act_1", "name": "Leads Q1", "status": "ACTIVE", "effective_status": "ACTIVE",
         "daily_budget": 5000, "lifetime_budget": None, "budget_remaining": 1200, "created_time": PAST,
         "updated_time": LATER},
    ], [
        Broken("created_time", FUTURE, f"{BETWEEN}(created_time)"),
        Broken("status", "RUNNING", f"{IN_SET}(status)"),
        Broken("daily_budget", -100, f"{BETWEEN}(daily_budget)"),
    ]),
    ("raw_meta_ads", "adsets"): ("id", [
        {"id": "s1", "account_id": "act_1", "campaign_id": "c1", "status": "ACTIVE",
         "effective_status": "CAMPAIGN_PAUSED", "daily_budget": None, "lifetime_budget": 90000,
         "budget_remaining": 100, "created_time": PAST, "updated_time": LATER},
    ], [
        Broken("effective_status", "SLEEPING", f"{IN_SET}(effective_status)"),
        Broken("campaign_id", None, f"{NOT_NULL}(campaign_id)"),
    ]),
    ("raw_meta_ads", "campaign_daily_insights"): ("row_key", [
        {"row_key": "k1", "date": DAY, "account_id": "act_1", "campaign_id": "c1", "impressions": 500, "reach": 400,
         "clicks": 12, "inline_link_clicks": 10, "spend": 20.0, "currency_code": "USD", "website_lead_value": None,
         "purchase_value": 0.0},
    ], [
        Broken("spend", -20.0, f"{BETWEEN}(spend)"),
        Broken("reach", -1, f"{BETWEEN}(reach)"),
    ]),
    ("raw_meta_ads", "adset_daily_insights"): ("row_key", [
        {"row_key": "k1", "date": DAY, "account_id": "act_1", "campaign_id": "c1", "adset_id": "s1",
         "impressions": 500, "reach": 400, "clicks": 12, "inline_link_clicks": 10, "spend": 20.0,
         "currency_code": "USD", "website_lead_value": 3.0, "purchase_value": None},
    ], [
        Broken("currency_code", "usd", f"{REGEX}(currency_code)"),
        Broken("date", FUTURE_DAY, f"{BETWEEN}(date)"),
    ]),
    ("raw_linkedin_ads", "ad_accounts"): ("id", [
        {"id": "5001", "currency": "EUR", "status": "ACTIVE"},
    ], [
        Broken("status", "LIVE", f"{IN_SET}(status)"),
    ]),
    ("raw_linkedin_ads", "campaign_groups"): ("id", [
        {"id": "g1", "account": "urn:li:sponsoredAccount:5001", "status": "ACTIVE", "total_budget_amount": None,
         "total_budget_currency_code": None, "run_schedule_start": PAST, "run_schedule_end": None},
    ], [
        Broken("total_budget_amount", 500.0, f"{NOT_NULL}(total_budget_currency_code)"),
        Broken("run_schedule_end", pd.Timestamp("2020-01-01", tz="UTC"), ORDERED),
    ]),
    ("raw_linkedin_ads", "campaigns"): ("id", [
        {"id": "lc1", "account": "urn:li:sponsoredAccount:5001", "status": "PAUSED", "daily_budget_amount": 50.0,
         "daily_budget_currency_code": "EUR", "unit_cost_amount": 5.0, "unit_cost_currency_code": "EUR",
         "run_schedule_start": PAST, "run_schedule_end": FUTURE, "created_at": PAST, "last_modified_at": LATER},
    ], [
        Broken("unit_cost_amount", -5.0, f"{BETWEEN}(unit_cost_amount)"),
        Broken("last_modified_at", FUTURE, f"{BETWEEN}(last_modified_at)"),
    ]),
    ("raw_linkedin_ads", "campaign_daily_analytics"): ("row_key", [
        {"row_key": "k1", "date": DAY, "account_id": "5001", "campaign_id": "lc1", "impressions": 900, "clicks": 9,
         "landing_page_clicks": 8, "one_click_leads": 1, "total_engagements": 20, "cost_in_local_currency": 45.0,
         "cost_in_usd": 49.0, "currency_code": "EUR", "conversion_value_in_local_currency": 0.0},
    ], [
        Broken("cost_in_local_currency", -45.0, f"{BETWEEN}(cost_in_local_currency)"),
        Broken("one_click_leads", -1, f"{BETWEEN}(one_click_leads)"),
    ]),
}

RAW_SUITES = [spec for spec in SUITES if spec.schema.startswith("raw_")]


def _spec(schema: str, table: str, blocking: bool):
    return next(spec for spec in suites_for(schema, table) if spec.blocking is blocking)


@pytest.mark.parametrize(("schema", "table"), sorted(CASES), ids=lambda value: value)
def test_health_passes_on_good_rows_and_names_each_broken_rule(schema, table):
    key, good, broken = CASES[(schema, table)]
    spec = _spec(schema, table, blocking=False)
    assert_suite(spec, good, key, broken)


def test_the_loaders_guarantees_block_and_name_the_broken_rule():
    spec = _spec("raw_salesforce", "account", blocking=True)
    good = [{"id": "001A", "_loaded_at": PAST, "_run_id": "r1"}, {"id": "001B", "_loaded_at": PAST, "_run_id": "r1"}]
    assert_suite(spec, good, "id", [
        Broken("id", "001A", "expect_column_values_to_be_unique(id)"),
        Broken("id", None, "expect_column_values_to_not_be_null(id)"),
        Broken("_loaded_at", None, "expect_column_values_to_not_be_null(_loaded_at)"),
    ])


def test_every_raw_stream_has_a_blocking_suite_on_its_key_and_a_warning_health_suite():
    streams = {"salesforce": SALESFORCE, "hubspot": HUBSPOT, "google_ads": GOOGLE_ADS, "meta_ads": META_ADS,
               "linkedin_ads": LINKEDIN_ADS}
    for source, declared in streams.items():
        for stream in declared:
            suites = {spec.blocking: spec for spec in suites_for(f"raw_{source}", stream.name)}
            assert set(suites) == {True, False}, f"raw_{source}.{stream.name} needs a suite and a health suite"
            labels = {f"{e.expectation_type}({getattr(e, 'column', '')})" for e in suites[True].expectations()}
            assert f"expect_column_values_to_be_unique({stream.primary_key})" in labels
            assert suites[True].key == (stream.primary_key,)
            assert ("raw_" + source, stream.name) in CASES, f"raw_{source}.{stream.name} needs a test case"
    assert all(spec.max_row_drop and spec.freshness for spec in RAW_SUITES if not spec.blocking)
