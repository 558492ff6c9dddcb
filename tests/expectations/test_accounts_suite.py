"""The accounts suite passes on good data and names the expectation that data broke."""

import pandas as pd

from expectations.registry import SUITES
from expectations.runner import validate
from tests.expectations.helpers import Broken, assert_suite

SUITE = next(spec for spec in SUITES if spec.table == "accounts" and spec.blocking)
PAST = pd.Timestamp("2026-01-05", tz="UTC")


def _accounts() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": ["a1", "a2", "a3"],
        "account_name": ["Acme Inc", "Globex GmbH", "Initech Ltd"],
        "annual_revenue": [1_000_000.0, None, 250.5],
        "annual_revenue_currency": ["USD", None, "GBP"],
        "primary_domain": ["acme.com", None, "initech.co.uk"],
        "match_confidence": [1.0, 0.9, 0.75],
        "match_rule": ["single_record", "domain", "name"],
        "lifecycle_stage": ["customer", "lead", None],
        "country": ["US", "DE", None],
        "employee_count": [120, None, 4],
        "is_customer": [True, False, False],
        "is_deleted": [False, False, True],
        "created_at": [PAST, PAST, PAST],
        "first_closed_won_at": [PAST, None, None],
    })


def test_good_accounts_pass():
    outcome = validate(_accounts(), SUITE.name, SUITE.expectations)
    assert outcome.success
    assert outcome.rows == 3


BROKEN = [
    Broken("account_id", "a1", "expect_column_values_to_be_unique(account_id)"),
    Broken("account_id", None, "expect_column_values_to_not_be_null(account_id)"),
    Broken("account_name", None, "expect_column_values_to_not_be_null(account_name)"),
    Broken("annual_revenue", -5.0, "expect_column_values_to_be_between(annual_revenue)"),
    Broken("annual_revenue_currency", "usd", "expect_column_values_to_match_regex(annual_revenue_currency)"),
    Broken("annual_revenue_currency", None, "expect_column_values_to_not_be_null(annual_revenue_currency)"),
    Broken("primary_domain", "https://www.acme.com/", "expect_column_values_to_match_regex(primary_domain)"),
    Broken("match_confidence", 1.5, "expect_column_values_to_be_between(match_confidence)"),
    Broken("match_rule", "fuzzy", "expect_column_values_to_be_in_set(match_rule)"),
    Broken("lifecycle_stage", "Customer", "expect_column_values_to_be_in_set(lifecycle_stage)"),
    Broken("country", "USA", "expect_column_values_to_match_regex(country)"),
    Broken("created_at", pd.Timestamp("2099-01-01", tz="UTC"), "expect_column_values_to_be_between(created_at)"),
]


def test_broken_accounts_fail_on_the_right_expectation_and_name_the_account():
    assert_suite(SUITE, _accounts().to_dict("records"), "account_id", BROKEN)


def test_failures_report_counts_a_sample_of_bad_values_and_the_failing_keys():
    frame = _accounts()
    frame.loc[0, "annual_revenue"] = -1.0
    frame.loc[2, "annual_revenue"] = -2.0
    (failure,) = validate(frame, SUITE.name, SUITE.expectations, key_columns=SUITE.key).failed
    assert failure.unexpected_count == 2
    assert sorted(failure.unexpected_sample) == [-2.0, -1.0]
    assert sorted(failure.unexpected_keys) == ["a1", "a3"]


def test_a_missing_column_fails_with_the_reason():
    frame = _accounts().drop(columns=["country"])
    (failure,) = validate(frame, SUITE.name, SUITE.expectations).failed
    assert failure.label == "expect_column_values_to_match_regex(country)"
    assert "country" in (failure.error or "")
