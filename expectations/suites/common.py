"""The expectation patterns every suite is made of, so a suite reads as a list of rules.

Each helper returns a list of GX expectations; suites concatenate them. Time bounds are computed
when the suite is built, which the runner does at every validation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

CURRENCY_CODE = r"^[A-Z]{3}$"
# As a source stores it: any case, but one @, no spaces, a dot in the domain.
EMAIL_AS_ENTERED = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# As the marts promise it (normalized): trimmed and lower-case.
EMAIL_NORMALIZED = r"^[a-z0-9._%+'-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+$"
DOMAIN = r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$"
# A date-time as a source sends it as text ("2026-03-01 08:00:00", ISO 8601 too): what staging reads is its date.
DATE_TIME_TEXT = r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
# Clock skew between a source and us; and the reporting time zone can be up to 14 h ahead of UTC.
TIMESTAMP_SKEW = timedelta(hours=1)
DATE_SKEW = timedelta(days=1)
LOAD_COLUMNS = ("_loaded_at", "_run_id")


def now() -> datetime:
    """The moment a suite is built (the validation time)."""
    return datetime.now(UTC)


def key(*columns: str) -> list:
    """The grain: every key column present, and the combination unique."""
    return [*required(*columns), *unique(*columns)]


def unique(*columns: str) -> list:
    """The combination of `columns` identifies a row (rows with every column empty are ignored)."""
    if len(columns) == 1:
        return [gxe.ExpectColumnValuesToBeUnique(column=columns[0])]
    return [gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns))]


def required(*columns: str) -> list:
    """Columns that must never be empty."""
    return [gxe.ExpectColumnValuesToNotBeNull(column=column) for column in columns]


def loaded(*key_columns: str) -> list:
    """A raw table as the loader guarantees it: its key present and unique, and every row stamped with its load."""
    return [*key(*key_columns), *required(*LOAD_COLUMNS)]


def emails(*columns: str, normalized: bool = False) -> list:
    """E-mail columns are well formed (and trimmed and lower-case when `normalized`); empty is allowed."""
    pattern = EMAIL_NORMALIZED if normalized else EMAIL_AS_ENTERED
    return [gxe.ExpectColumnValuesToMatchRegex(column=column, regex=pattern) for column in columns]


def money(amount: str, currency: str | None = None, mostly: float = 1.0) -> list:
    """An amount is never negative, and (when the table has one) says its currency whenever it is set."""
    rules = [gxe.ExpectColumnValuesToBeBetween(column=amount, min_value=0, mostly=mostly)]
    if currency:
        rules += [
            gxe.ExpectColumnValuesToNotBeNull(column=currency, row_condition=Column(amount).is_not_null()),
            gxe.ExpectColumnValuesToMatchRegex(column=currency, regex=CURRENCY_CODE),
        ]
    return rules


def currencies(*columns: str) -> list:
    """Currency columns hold ISO 4217 codes."""
    return [gxe.ExpectColumnValuesToMatchRegex(column=column, regex=CURRENCY_CODE) for column in columns]


def date_time_texts(*columns: str) -> list:
    """Text columns of date-times read as dates downstream start with a yyyy-MM-dd date (empty is allowed)."""
    return [gxe.ExpectColumnValuesToMatchRegex(column=column, regex=DATE_TIME_TEXT) for column in columns]


def counts(*columns: str) -> list:
    """Counts (impressions, clicks, rows) are never negative."""
    return [gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0) for column in columns]


def between(column: str, low: float | None, high: float | None) -> list:
    """A bounded number: a share, a probability, a confidence."""
    return [gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high)]


def not_in_future(*columns: str) -> list:
    """Things that already happened (created, modified, loaded) carry no stamp later than now (+1 h skew)."""
    latest = now() + TIMESTAMP_SKEW
    return [gxe.ExpectColumnValuesToBeBetween(column=column, max_value=latest) for column in columns]


def days_not_in_future(*columns: str) -> list:
    """Calendar days that already happened are no later than today in any time zone (today + 1 day)."""
    latest = now() + DATE_SKEW
    return [gxe.ExpectColumnValuesToBeBetween(column=column, max_value=latest) for column in columns]


def one_of(column: str, values: Iterable[str], mostly: float = 1.0) -> list:
    """A category stays within its allowed values (empty is allowed; pair with `required` when it is not)."""
    return [gxe.ExpectColumnValuesToBeInSet(column=column, value_set=sorted(values), mostly=mostly)]


def mostly_present(column: str, share: float) -> list:
    """A column that is usually filled: warn when fewer than `share` of the rows have it."""
    return [gxe.ExpectColumnValuesToNotBeNull(column=column, mostly=share)]


def ordered(first: str, then: str) -> list:
    """Two stamps in order (start before end) wherever both are set."""
    return [gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=then, column_B=first, or_equal=True,
                                                        ignore_row_if="either_value_is_missing")]
