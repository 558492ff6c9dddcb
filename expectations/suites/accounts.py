"""The `accounts` mart: one row per company, keys present and unique, money non-negative with a currency."""

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

from expectations.suites.common import (
    CURRENCY_CODE,
    DOMAIN,
    counts,
    mostly_present,
    not_in_future,
    one_of,
    required,
)

TABLE = "accounts"
KEY = ("account_id",)
LIFECYCLE_STAGES = {"subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist", "other"}
MATCH_RULES = {"single_record", "source_merge", "native_id", "domain", "name", "name_without_domain"}
COUNTRY_CODE = r"^[A-Z]{2}$"


def expectations() -> list:
    """The structural expectations on `marts.accounts`."""
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="account_id"),
        gxe.ExpectColumnValuesToBeUnique(column="account_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="account_name"),
        gxe.ExpectColumnValuesToBeBetween(column="annual_revenue", min_value=0),
        gxe.ExpectColumnValuesToMatchRegex(column="annual_revenue_currency", regex=CURRENCY_CODE),
        gxe.ExpectColumnValuesToNotBeNull(column="annual_revenue_currency",
                                          row_condition=Column("annual_revenue").is_not_null()),
        gxe.ExpectColumnValuesToMatchRegex(column="primary_domain", regex=DOMAIN),
        gxe.ExpectColumnValuesToBeBetween(column="match_confidence", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="match_rule"),
        *one_of("match_rule", MATCH_RULES),
        *one_of("lifecycle_stage", LIFECYCLE_STAGES),
        gxe.ExpectColumnValuesToMatchRegex(column="country", regex=COUNTRY_CODE),
        *counts("employee_count"),
        *required("is_customer", "is_deleted"),
        *not_in_future("created_at", "first_closed_won_at"),
    ]


def health() -> list:
    """Accounts: most companies have a domain, an owner and a country (a drop means a source field
    stopped arriving), and the row count holds against the previous night."""
    return [*mostly_present("primary_domain", 0.8), *mostly_present("owner_name", 0.7),
            *mostly_present("country", 0.8)]
