"""The `channel_performance_monthly` mart: spend, funnel and attributed results per month and channel."""

from expectations.suites.common import counts, days_not_in_future, money, required, unique

TABLE = "channel_performance_monthly"
KEY = ("month", "channel", "platform", "campaign_id")


def expectations() -> list:
    """One row per (month, channel, platform, campaign); counts, spend, attributed amounts and ratios
    non-negative; no month after this one."""
    return [
        *required(*KEY[:2]),  # organic channels have no platform or campaign
        *unique(*KEY),
        *counts("impressions", "clicks", "leads", "mqls", "sqls", "opportunities"),
        *money("spend_reporting"),
        *money("attributed_pipeline_reporting"),
        *money("attributed_revenue_reporting"),
        *money("cost_per_mql"),
        *money("cac"),
        *money("roas"),
        *days_not_in_future("month"),
    ]


def health() -> list:
    """The row count holds against the previous night."""
    return []
