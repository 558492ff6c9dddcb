"""Health of the raw Google Ads tables (warn only). Enum values are those of the Google Ads API."""

from expectations.suites.common import (
    counts,
    currencies,
    date_time_texts,
    days_not_in_future,
    money,
    one_of,
    ordered,
    required,
)

STATUSES = {"ENABLED", "PAUSED", "REMOVED", "UNKNOWN", "UNSPECIFIED"}
CUSTOMER_STATUSES = {"ENABLED", "CANCELED", "SUSPENDED", "CLOSED", "UNKNOWN", "UNSPECIFIED"}
CHANNEL_TYPES = {"SEARCH", "DISPLAY", "SHOPPING", "HOTEL", "VIDEO", "MULTI_CHANNEL", "LOCAL", "SMART",
                 "PERFORMANCE_MAX", "LOCAL_SERVICES", "TRAVEL", "DEMAND_GEN", "UNKNOWN", "UNSPECIFIED"}
METRICS = ("impressions", "clicks", "cost_micros")


def customers() -> list:
    """Customers: a currency code and a time zone each, known statuses."""
    return [*required("currency_code", "time_zone"), *currencies("currency_code"), *one_of("status", CUSTOMER_STATUSES)]


def campaigns() -> list:
    """Campaigns: each belongs to a customer, known statuses and channel types, starts before ends (API v23+
    flight bounds, "yyyy-MM-dd HH:mm:ss" text in the customer's time zone, which sorts as the times do) and
    both read as dates (staging takes a malformed one as no date)."""
    return [
        *required("customer_id", "name", "status"),
        *one_of("status", STATUSES),
        *one_of("advertising_channel_type", CHANNEL_TYPES),
        *ordered("start_date_time", "end_date_time"),
        *date_time_texts("start_date_time", "end_date_time"),
    ]


def ad_groups() -> list:
    """Ad groups: each belongs to a campaign, known statuses, bids non-negative."""
    return [*required("campaign_id", "customer_id", "status"), *one_of("status", STATUSES), *money("cpc_bid")]


def campaign_daily_metrics() -> list:
    """Daily campaign metrics: counts and cost non-negative, cost in the customer's currency,
    no day in the future."""
    return [
        *required("date", "customer_id", "campaign_id"),
        *counts(*METRICS),
        *money("cost", "currency_code"),
        *money("conversions"),
        *money("conversions_value"),
        *days_not_in_future("date"),
    ]


def ad_group_daily_metrics() -> list:
    """Daily ad group metrics: counts and cost non-negative, cost in the customer's currency,
    no day in the future."""
    return [
        *required("date", "customer_id", "campaign_id", "ad_group_id"),
        *counts(*METRICS),
        *money("cost", "currency_code"),
        *money("conversions"),
        *money("conversions_value"),
        *days_not_in_future("date"),
    ]
