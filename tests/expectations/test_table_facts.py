"""Freshness of the newest record and the row count against the previous night, from one SQL aggregate row."""

from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd
import pytest

from expectations.registry import suites_for
from expectations.runner import validate
from expectations.table_facts import fact_expectations, facts_sql

HEALTH = next(spec for spec in suites_for("raw_salesforce", "account") if not spec.blocking)
NOW = datetime.now(UTC)


def _facts(rows: int, loaded_hours_ago: float, modified_hours_ago: float) -> pd.DataFrame:
    rows_frame = pd.DataFrame({  # noqa: F841  (DuckDB reads the frame by its variable name)
        "_loaded_at": [NOW - timedelta(hours=loaded_hours_ago)] * rows,
        "system_modstamp": [NOW - timedelta(hours=modified_hours_ago)] * rows,
    })
    return duckdb.sql(facts_sql("rows_frame", [f.column for f in HEALTH.freshness])).df()


def _failed(facts: pd.DataFrame, previous_rows: int | None) -> set[str]:
    outcome = validate(facts, HEALTH.name, lambda: fact_expectations(HEALTH, previous_rows, NOW))
    return {o.label for o in outcome.failed}


def test_fresh_records_and_a_steady_row_count_pass():
    assert HEALTH.max_row_drop == 0.2
    assert _failed(_facts(rows=95, loaded_hours_ago=2, modified_hours_ago=9), previous_rows=100) == set()


def test_a_stale_load_a_silent_source_and_a_drop_in_rows_each_warn():
    failed = _failed(_facts(rows=70, loaded_hours_ago=30, modified_hours_ago=24 * 4), previous_rows=100)
    assert failed == {
        "expect_column_max_to_be_between(_loaded_at)",
        "expect_column_max_to_be_between(system_modstamp)",
        "expect_column_values_to_be_between(table_row_count)",
    }


def test_the_first_night_has_no_row_count_to_compare_with():
    rules = fact_expectations(HEALTH, previous_rows=None, now=NOW)
    assert [type(rule).__name__ for rule in rules] == ["ExpectColumnMaxToBeBetween"] * 2


def test_ages_are_judged_at_the_moment_the_environment_names(monkeypatch):
    """A source frozen at a known moment (the sandbox at its clock): its newest records are as old as that moment
    says. Four days before now is stale; judged at a day after the newest change, it is fresh."""
    facts = _facts(rows=95, loaded_hours_ago=2, modified_hours_ago=24 * 4)
    monkeypatch.setenv("QUALITY_FRESHNESS_AS_OF", (NOW - timedelta(days=3)).isoformat())
    assert validate(facts, HEALTH.name, lambda: fact_expectations(HEALTH, 100)).failed == []

    monkeypatch.delenv("QUALITY_FRESHNESS_AS_OF")
    assert {o.label for o in validate(facts, HEALTH.name, lambda: fact_expectations(HEALTH, 100)).failed} == {
        "expect_column_max_to_be_between(system_modstamp)"}


def test_a_moment_that_is_not_one_is_named(monkeypatch):
    monkeypatch.setenv("QUALITY_FRESHNESS_AS_OF", "last tuesday")
    with pytest.raises(ValueError, match="QUALITY_FRESHNESS_AS_OF is not an ISO 8601 moment: 'last tuesday'"):
        fact_expectations(HEALTH, 100)
