"""Validate a suite once over good rows plus one broken copy per rule, and read both verdicts from the result.

Exactly the broken rules fail, each only on its broken rows: so the good rows pass every expectation,
and every failure names its expectation and the row that broke it. (One GX validation instead of two
keeps the many suites' tests fast.)
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from expectations.registry import SuiteSpec
from expectations.runner import SuiteOutcome, validate

PAST = pd.Timestamp("2026-01-05 10:00", tz="UTC")
LATER = pd.Timestamp("2026-01-20 10:00", tz="UTC")
FUTURE = pd.Timestamp("2099-01-01", tz="UTC")
DAY = dt.date(2026, 1, 5)
FUTURE_DAY = dt.date(2099, 1, 1)


@dataclass(frozen=True)
class Broken:
    """One broken copy of the first good row: `column` set to `value` must fail `expectation`."""

    column: str
    value: object
    expectation: str


def run(spec: SuiteSpec, rows: list[dict]) -> SuiteOutcome:
    """The suite's outcome over `rows`."""
    return validate(pd.DataFrame(rows), spec.name, spec.expectations, spec.key, spec.masked)


def assert_passes(spec: SuiteSpec, good: list[dict]) -> None:
    """Every expectation of the suite holds on the good rows."""
    outcome = run(spec, good)
    assert outcome.success, {o.label: o.as_metadata() for o in outcome.failed}
    assert outcome.outcomes, "the suite has no expectations"


def assert_suite(spec: SuiteSpec, good: list[dict], name_column: str, broken: list[Broken]) -> None:
    """The good rows pass; each broken row fails exactly the expectation it breaks, which names the row."""
    rows, markers = list(good), defaultdict(list)
    for number, case in enumerate(broken):
        marker = _marker(good[0][name_column], number)
        rows.append({**good[0], name_column: marker, case.column: case.value})
        markers[case.expectation].append(None if case.column in spec.key else str(marker))
    outcome = run(spec, rows)
    assert outcome.outcomes, "the suite has no expectations"
    failures = {o.label: o for o in outcome.failed}
    assert set(failures) == set(markers), {label: o.as_metadata() for label, o in failures.items()}
    for label, expected in markers.items():
        if None in expected:  # a broken key: the duplicate's twin is a good row, so only the verdict counts
            continue
        failure = failures[label]
        assert failure.unexpected_count == len(expected), (label, failure.as_metadata())
        named = [marker for marker in expected if any(marker in str(key) for key in failure.unexpected_keys)]
        assert len(failure.unexpected_keys) == len(named) == len(expected), (label, failure.as_metadata())


def _marker(good_value: object, number: int) -> object:
    """A value of the name column's kind that tells the broken row apart (the next days for a date key)."""
    if isinstance(good_value, dt.date):
        return good_value + dt.timedelta(days=1 + number)
    return f"broken-{number}"
