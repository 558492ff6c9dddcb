"""The `customer_retention` mart: how many customers of each cohort are still customers months later."""

from expectations.suites.common import between, counts, days_not_in_future, key, money, ordered

TABLE = "customer_retention"
KEY = ("cohort_month", "period_month")


def expectations() -> list:
    """One row per (cohort, period); periods not before their cohort nor after this month; counts and
    renewal amounts non-negative; retention between 0 and 1."""
    return [
        *key(*KEY),
        *ordered("cohort_month", "period_month"),
        *days_not_in_future("cohort_month", "period_month"),
        *counts("customers_at_start", "customers_retained"),
        *between("logo_retention_rate", 0, 1),
        *money("renewal_amount_reporting"),
    ]


def health() -> list:
    """The row count holds against the previous night."""
    return []
