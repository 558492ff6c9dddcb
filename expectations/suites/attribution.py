"""The `attribution` mart: each touch's credit for each deal under each attribution model."""

from expectations.suites.common import between, key, money, one_of, required

TABLE = "attribution"
KEY = ("opportunity_id", "touchpoint_id", "attribution_model")
MODELS = {"first_touch", "last_touch", "linear", "position_based", "time_decay"}


def expectations() -> list:
    """One row per (deal, touch, model); the five models only; credit between 0 and 1; attributed amounts
    non-negative."""
    return [
        *key(*KEY),
        *required("credit"),
        *one_of("attribution_model", MODELS),
        *between("credit", 0, 1),
        *money("attributed_pipeline_reporting"),
        *money("attributed_revenue_reporting"),
    ]


def health() -> list:
    """The row count holds against the previous night."""
    return []
