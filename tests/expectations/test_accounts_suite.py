"""The accounts suite passes on good data and names the expectation that data broke."""

import pandas as pd
import pytest

from expectations.registry import SUITES
from expectations.runner import validate

SUITE = next(spec for spec in SUITES if spec.table == "accounts")


def _accounts() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": ["a1", "a2", "a3"],
        "account_name": ["Acme Inc", "Globex GmbH", "Initech Ltd"],
        "annual_revenue": [1_000_000.0, None, 250.5],
        "annual_revenue_currency": ["USD", None, "GBP"],
        "primary_domain": ["acme.com", None, "initech.co.uk"],
        "match_confidence": [1.0, 0.9, 0.75],
        "match_rule": ["salesforce_only", "domain", "name"],
    })


def _failed(frame: pd.DataFrame) -> set[str]:
    return {outcome.label for outcome in validate(frame, SUITE.name, SUITE.expectations).failed}


def test_good_accounts_pass():
    outcome = validate(_accounts(), SUITE.name, SUITE.expectations)
    assert outcome.success
    assert outcome.rows == 3


@pytest.mark.parametrize(
    ("column", "row", "value", "expectation"),
    [
        ("account_id", 1, None, "expect_column_values_to_not_be_null(account_id)"),
        ("account_id", 1, "a1", "expect_column_values_to_be_unique(account_id)"),
        ("account_name", 0, None, "expect_column_values_to_not_be_null(account_name)"),
        ("annual_revenue", 2, -5.0, "expect_column_values_to_be_between(annual_revenue)"),
        ("annual_revenue_currency", 0, "usd", "expect_column_values_to_match_regex(annual_revenue_currency)"),
        ("primary_domain", 0, "https://www.acme.com/", "expect_column_values_to_match_regex(primary_domain)"),
        ("match_confidence", 1, 1.5, "expect_column_values_to_be_between(match_confidence)"),
    ],
)
def test_broken_accounts_fail_on_the_right_expectation(column, row, value, expectation):
    frame = _accounts()
    frame.loc[row, column] = value
    assert _failed(frame) == {expectation}


def test_failures_report_counts_and_a_sample_of_bad_values():
    frame = _accounts()
    frame.loc[0, "annual_revenue"] = -1.0
    frame.loc[2, "annual_revenue"] = -2.0
    (failure,) = validate(frame, SUITE.name, SUITE.expectations).failed
    assert failure.unexpected_count == 2
    assert sorted(failure.unexpected_sample) == [-2.0, -1.0]
