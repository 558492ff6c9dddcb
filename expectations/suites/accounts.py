"""The `accounts` mart: one row per company, keys present and unique, money non-negative with a currency."""

import great_expectations.expectations as gxe

CURRENCY_CODE = r"^[A-Z]{3}$"
DOMAIN = r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$"


def expectations() -> list:
    """The structural expectations on `marts.accounts`."""
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="account_id"),
        gxe.ExpectColumnValuesToBeUnique(column="account_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="account_name"),
        gxe.ExpectColumnValuesToBeBetween(column="annual_revenue", min_value=0),
        gxe.ExpectColumnValuesToMatchRegex(column="annual_revenue_currency", regex=CURRENCY_CODE),
        gxe.ExpectColumnValuesToMatchRegex(column="primary_domain", regex=DOMAIN),
        gxe.ExpectColumnValuesToBeBetween(column="match_confidence", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="match_rule"),
    ]
