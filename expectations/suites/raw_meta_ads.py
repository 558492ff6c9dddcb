"""Health of the raw Meta Ads tables (warn only). Enum values are those of the Marketing API."""

from expectations.suites.common import (
    counts,
    currencies,
    days_not_in_future,
    money,
    not_in_future,
    one_of,
    required,
)

STATUSES = {"ACTIVE", "PAUSED", "DELETED", "ARCHIVED"}
EFFECTIVE_STATUSES = STATUSES | {"IN_PROCESS", "WITH_ISSUES", "CAMPAIGN_PAUSED", "ADSET_PAUSED", "PENDING_REVIEW",
                                 "DISAPPROVED", "PREAPPROVED", "PENDING_BILLING_INFO"}
ACCOUNT_STATUSES = {1, 2, 3, 7, 8, 9, 100, 101, 201, 202}
METRICS = ("impressions", "reach", "clicks", "inline_link_clicks")
MONEY = ("spend", "website_lead_value", "purchase_value")


def ad_accounts() -> list:
    """Ad accounts: a currency and a time zone each, known account statuses."""
    return [
        *required("currency", "timezone_name"),
        *currencies("currency"),
        *one_of("account_status", ACCOUNT_STATUSES),
    ]


def campaigns() -> list:
    """Campaigns: each belongs to an account, known statuses, budgets non-negative,
    creation and updates not in the future (start and stop may be)."""
    return [
        *required("account_id", "name", "status"),
        *one_of("status", STATUSES),
        *one_of("effective_status", EFFECTIVE_STATUSES),
        *counts("daily_budget", "lifetime_budget", "budget_remaining"),
        *not_in_future("created_time", "updated_time"),
    ]


def adsets() -> list:
    """Ad sets: each belongs to a campaign, known statuses, budgets non-negative,
    creation and updates not in the future."""
    return [
        *required("account_id", "campaign_id", "status"),
        *one_of("status", STATUSES),
        *one_of("effective_status", EFFECTIVE_STATUSES),
        *counts("daily_budget", "lifetime_budget", "budget_remaining"),
        *not_in_future("created_time", "updated_time"),
    ]


def _insights(*keys: str) -> list:
    return [
        *required("date", "account_id", *keys),
        *counts(*METRICS),
        *money("spend", "currency_code"),
        *[rule for column in MONEY[1:] for rule in money(column)],
        *days_not_in_future("date"),
    ]


def campaign_daily_insights() -> list:
    """Daily campaign insights: counts and spend non-negative, spend in the account's currency,
    no day in the future."""
    return _insights("campaign_id")


def adset_daily_insights() -> list:
    """Daily ad set insights: counts and spend non-negative, spend in the account's currency,
    no day in the future."""
    return _insights("campaign_id", "adset_id")
