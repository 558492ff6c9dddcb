"""The `ad_performance_daily` mart: spend and results per day, platform, account, campaign and ad group."""

from expectations.suites.common import counts, days_not_in_future, money, one_of, required, unique

TABLE = "ad_performance_daily"
KEY = ("date_day", "platform", "ad_account_id", "platform_campaign_id", "ad_group_id")
PLATFORMS = {"google_ads", "meta_ads", "linkedin_ads"}


def expectations() -> list:
    """One row per (day, platform, account, campaign, ad group); known platforms; counts and spend
    non-negative, spend in a currency; no day after today."""
    return [
        *required(*KEY[:-1], "currency_code"),  # campaign-level platforms leave ad_group_id empty
        *unique(*KEY),
        *one_of("platform", PLATFORMS),
        *counts("impressions", "clicks"),
        *money("spend", "currency_code"),
        *money("spend_reporting"),
        *days_not_in_future("date_day"),
    ]


def health() -> list:
    """Conversions non-negative, the newest day is recent, and the row count holds against the previous
    night."""
    return [*money("platform_conversions"), *money("platform_conversion_value_reporting")]
