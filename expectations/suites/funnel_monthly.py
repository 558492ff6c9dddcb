"""The `funnel_monthly` mart: each monthly cohort's way through the funnel, per original channel."""

from expectations.suites.common import counts, days_not_in_future, required, unique

TABLE = "funnel_monthly"
KEY = ("cohort_month", "original_channel")


def expectations() -> list:
    """One row per (cohort month, channel); stage counts non-negative; no cohort after this month."""
    return [
        *required(*KEY[:1]),  # people without a known channel form their own row
        *unique(*KEY),
        *counts("leads", "mqls", "sqls", "opportunities", "customers"),
        *days_not_in_future("cohort_month"),
    ]


def health() -> list:
    """The row count holds against the previous night."""
    return []
