"""The `prospect_source_records` bridge: every lead, contact and HubSpot contact in exactly one prospect."""

from expectations.suites.common import emails, key, one_of, required

TABLE = "prospect_source_records"
KEY = ("source_system", "source_record_id")
MASKED = ("source_email",)
MATCH_RULES = {"single_record", "source_merge", "lead_conversion", "native_id", "email", "email_and_name"}


def expectations() -> list:
    """One row per source record, each with its prospect, a known rule, and a normalized e-mail."""
    return [
        *key(*KEY),
        *required("prospect_id", "match_rule"),
        *one_of("source_system", {"salesforce_lead", "salesforce_contact", "hubspot_contact"}),
        *one_of("match_rule", MATCH_RULES),
        *emails("source_email", normalized=True),
    ]


def health() -> list:
    """The bridge's row count holds against the previous night."""
    return []
