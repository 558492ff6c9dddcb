"""The `alignment_issues` mart: the work list of open disagreements between Salesforce and HubSpot."""

from expectations.suites.common import key, not_in_future, required

TABLE = "alignment_issues"
KEY = ("issue_id",)


def expectations() -> list:
    """One row per issue, each saying what it is about, what kind it is and how severe; detected no later
    than now."""
    return [
        *key(*KEY),
        *required("entity_type", "entity_id", "issue_type", "severity", "first_detected_at"),
        *not_in_future("first_detected_at"),
    ]


def health() -> list:
    """The row count holds against the previous night (a sudden drop usually means a broken rule)."""
    return []
