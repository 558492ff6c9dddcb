"""The `opportunities` mart: one row per deal, amounts non-negative with a currency, known categories."""

from expectations.suites.common import between, counts, key, money, mostly_present, not_in_future, one_of, required

TABLE = "opportunities"
KEY = ("opportunity_id",)
STAGE_CATEGORIES = {"open", "won", "lost"}
OPPORTUNITY_TYPES = {"new_business", "renewal", "expansion"}


def expectations() -> list:
    """One row per deal; open/won/lost and new_business/renewal/expansion only; amounts non-negative in a
    currency; probability 0-100; nothing created or closed in the future (the close date may be)."""
    return [
        *key(*KEY),
        *required("source_system", "source_opportunity_id", "stage_category", "is_closed", "is_won"),
        *one_of("source_system", {"salesforce", "hubspot"}),
        *one_of("stage_category", STAGE_CATEGORIES),
        *one_of("opportunity_type", OPPORTUNITY_TYPES),
        *money("amount", "currency_code"),
        *money("amount_reporting"),
        *between("probability_pct", 0, 100),
        *counts("sales_cycle_days"),
        *not_in_future("created_at", "closed_at"),
    ]


def health() -> list:
    """Opportunities: nearly every deal has a company and an owner, and the row count holds against the
    previous night."""
    return [*mostly_present("account_id", 0.9), *mostly_present("owner_name", 0.7)]
