"""The `campaigns` mart: one row per unified campaign, named, with a channel."""

from expectations.suites.common import key, money, ordered, required

TABLE = "campaigns"
KEY = ("campaign_id",)


def expectations() -> list:
    """One row per campaign, each named and with a channel."""
    return [*key(*KEY), *required("campaign_name", "channel")]


def health() -> list:
    """Campaigns start before they end, their costs are non-negative, and the row count holds against the
    previous night."""
    return [*ordered("start_date", "end_date"), *money("budgeted_cost_reporting"), *money("actual_cost_reporting")]
