"""Which suite validates which warehouse table, and whether a failure blocks publishing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from expectations.suites import accounts


@dataclass(frozen=True)
class SuiteSpec:
    """A suite bound to a table: `blocking` suites stop the publish step when they fail."""

    name: str
    schema: str
    table: str
    expectations: Callable[[], list]
    blocking: bool = True
    description: str = ""


SUITES: tuple[SuiteSpec, ...] = (
    SuiteSpec(
        name="accounts_suite",
        schema="marts",
        table="accounts",
        expectations=accounts.expectations,
        blocking=True,
        description=accounts.__doc__,
    ),
)
