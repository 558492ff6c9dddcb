"""Validate a pandas DataFrame against a suite with an ephemeral great-expectations context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

import expectations  # noqa: F401  (sets GX_ANALYTICS_ENABLED before GX is imported)

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result, in the terms a person fixing the data needs."""

    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    unexpected_sample: list
    observed: object

    @property
    def label(self) -> str:
        """``expect_column_values_to_not_be_null(account_id)``."""
        return f"{self.expectation}({self.column})" if self.column else self.expectation


@dataclass(frozen=True)
class SuiteOutcome:
    """A whole suite's result over one table."""

    suite: str
    rows: int
    outcomes: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        """True when every expectation passed."""
        return all(outcome.success for outcome in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        """The expectations that failed."""
        return [outcome for outcome in self.outcomes if not outcome.success]


def validate(frame: pd.DataFrame, suite_name: str, build_expectations: Callable[[], list]) -> SuiteOutcome:
    """Run the expectations `build_expectations()` returns over `frame`."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    batch_definition = (
        context.data_sources.add_pandas("frames")
        .add_dataframe_asset(name=suite_name)
        .add_batch_definition_whole_dataframe("all_rows")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=suite_name, expectations=build_expectations()))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite_name, data=batch_definition, suite=suite)
    )
    result = definition.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
    return SuiteOutcome(suite=suite_name, rows=len(frame), outcomes=[_outcome(r) for r in result.results])


def _outcome(result) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    return ExpectationOutcome(
        expectation=config.type,
        column=config.kwargs.get("column"),
        success=bool(result.success),
        unexpected_count=int(details.get("unexpected_count") or 0),
        unexpected_sample=[_plain(v) for v in (details.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]],
        observed=_plain(details.get("observed_value")),
    )


def _plain(value: object) -> object:
    """A JSON-friendly version of a value GX reports (numpy scalars, decimals, timestamps)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)
