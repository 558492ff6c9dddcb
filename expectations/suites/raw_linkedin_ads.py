"""Health of the raw LinkedIn Ads tables (warn only). Enum values are those of the Marketing API."""

from expectations.suites.common import (
    counts,
    currencies,
    days_not_in_future,
    money,
    not_in_future,
    one_of,
    ordered,
    required,
)

ACCOUNT_STATUSES = {"ACTIVE", "CANCELED", "DRAFT", "PENDING_DELETION", "REMOVED"}
GROUP_STATUSES = {"ACTIVE", "ARCHIVED", "CANCELED", "DRAFT", "PAUSED", "PENDING_DELETION", "REMOVED"}
CAMPAIGN_STATUSES = {"ACTIVE", "PAUSED", "ARCHIVED", "COMPLETED", "CANCELED", "DRAFT", "PENDING_DELETION", "REMOVED"}
METRICS = ("impressions", "clicks", "landing_page_clicks", "one_click_leads", "total_engagements")


def ad_accounts() -> list:
    """Ad accounts: a currency each, known statuses."""
    return [*required("currency", "status"), *currencies("currency"), *one_of("status", ACCOUNT_STATUSES)]


def campaign_groups() -> list:
    """Campaign groups: each belongs to an account, known statuses, budgets non-negative in a currency,
    schedules start before they end."""
    return [
        *required("account", "status"),
        *one_of("status", GROUP_STATUSES),
        *money("total_budget_amount", "total_budget_currency_code"),
        *ordered("run_schedule_start", "run_schedule_end"),
    ]


def campaigns() -> list:
    """Campaigns: each belongs to an account, known statuses, budgets and unit costs non-negative in a
    currency, schedules in order, creation and changes not in the future."""
    return [
        *required("account", "status"),
        *one_of("status", CAMPAIGN_STATUSES),
        *money("daily_budget_amount", "daily_budget_currency_code"),
        *money("unit_cost_amount", "unit_cost_currency_code"),
        *ordered("run_schedule_start", "run_schedule_end"),
        *not_in_future("created_at", "last_modified_at"),
    ]


def campaign_daily_analytics() -> list:
    """Daily campaign analytics: counts and cost non-negative, cost in the account's currency,
    no day in the future."""
    return [
        *required("date", "account_id", "campaign_id"),
        *counts(*METRICS),
        *money("cost_in_local_currency", "currency_code"),
        *money("cost_in_usd"),
        *money("conversion_value_in_local_currency"),
        *days_not_in_future("date"),
    ]
