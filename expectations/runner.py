"""Validate a pandas DataFrame against a suite, in one ephemeral great-expectations context per process."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

import expectations  # noqa: F401  (sets GX_ANALYTICS_ENABLED before GX is imported)

SAMPLE_SIZE = 10
MASKED = "<masked>"


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result, in the terms a person fixing the data needs."""

    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    unexpected_sample: list
    observed: object
    unexpected_keys: list = field(default_factory=list)
    error: str | None = None

    @property
    def label(self) -> str:
        """``expect_column_values_to_not_be_null(account_id)``."""
        return f"{self.expectation}({self.column})" if self.column else self.expectation

    def as_metadata(self) -> dict:
        """What a person needs to act on this expectation: counts, a sample of values and of failing keys."""
        details = {"unexpected_count": self.unexpected_count, "sample": self.unexpected_sample,
                   "failing_keys": self.unexpected_keys, "observed": self.observed}
        if self.error:
            details["error"] = self.error
        return details


@dataclass(frozen=True)
class SuiteOutcome:
    """A whole suite's result over one table."""

    suite: str
    rows: int
    outcomes: list[ExpectationOutcome]
    result: dict = field(default_factory=dict, repr=False)  # the GX validation result, JSON-ready, for Data Docs

    @property
    def success(self) -> bool:
        """True when every expectation passed."""
        return all(outcome.success for outcome in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        """The expectations that failed."""
        return [outcome for outcome in self.outcomes if not outcome.success]


def validate(
    frame: pd.DataFrame,
    suite_name: str,
    build_expectations: Callable[[], list],
    key_columns: Sequence[str] = (),
    masked_columns: Iterable[str] = (),
) -> SuiteOutcome:
    """Run the expectations `build_expectations()` returns over `frame`.

    `key_columns` name each failing row in the outcome (a sample of failing keys); values of
    `masked_columns` (e-mail addresses, say) never appear in the outcome, only their rows' keys.
    """
    import great_expectations as gx

    frame = normalized(frame).reset_index(drop=True)  # row labels are then row numbers, for _failing_keys

    def run(name: str, listed: list, ids: list[str], result_format: str):
        suite = gx.ExpectationSuite(name=name, expectations=listed)
        for expectation, expectation_id in zip(listed, ids, strict=True):
            expectation.id = expectation_id  # a result names its expectation by id; a suite not saved gives none
        return batch.validate(suite, result_format={"result_format": result_format,
                                                    "partial_unexpected_count": SAMPLE_SIZE})

    listed = build_expectations()
    ids = [str(uuid.uuid4()) for _ in listed]  # Data Docs read only UUIDs
    with _VALIDATING, _forgetting_frames():
        batch = _frames().get_batch(batch_parameters={"dataframe": frame})
        # BASIC: counts and sample values. SUMMARY also finds the rows of every expectation's unexpected values (and
        # lists them all in a query text), passing ones included; only the failed ones need rows, to name their keys.
        # The rows come back as row numbers: with unexpected_index_column_names GX would read the key of every
        # unexpected row one cell at a time (17,742 rows for one null check at M) to keep ten; _failing_keys reads ten.
        validated = run(suite_name, listed, ids, "BASIC")
        results = _by_id(validated)
        keys = [column for column in key_columns if column in frame.columns]
        failed = [expectation_id for expectation_id, r in results.items()
                  if not r.success and (r.result or {}).get("unexpected_count")]
        failing_rows = {}
        if keys and failed:
            originals = dict(zip(ids, listed, strict=True))
            copies = [copy.copy(originals[expectation_id]) for expectation_id in failed]  # one suite each
            again = run(f"{suite_name} (failing rows)", copies, failed, "SUMMARY")
            failing_rows = {expectation_id: (r.result or {}).get("partial_unexpected_index_list")
                            for expectation_id, r in _by_id(again).items()}
    masked = set(masked_columns)
    return SuiteOutcome(
        suite=suite_name,
        rows=len(frame),
        outcomes=[_outcome(results[key], _failing_keys(frame, keys, failing_rows.get(key)), masked) for key in ids],
        result=_masked_result(validated.to_json_dict(), masked),
    )


#: One thread validates at a time: the context and its batch definition are shared.
_VALIDATING = threading.Lock()


@functools.cache
def _frames():
    """The batch definition every frame is validated through: a whole pandas DataFrame, in an ephemeral context.

    Made once per process: a context, its data source and asset cost about as much as validating a small table, and
    a night validates some 135 (at scale S a night's checks went from 5.7 s to 4.3 s). Suites are not saved in it
    either: `Batch.validate` runs them as given, without the suite and validation-definition stores.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _skip_batch_fingerprints()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return (context.data_sources.add_pandas("frames")
            .add_dataframe_asset(name="warehouse_table")
            .add_batch_definition_whole_dataframe("all_rows"))


@contextlib.contextmanager
def _forgetting_frames() -> Iterator[None]:
    """The shared context's pandas engine keeps the last frame it validated: drop it after each validation, so a
    night's last (and largest) frame is not held until the process ends."""
    try:
        yield
    finally:
        batches = _frames().data_asset.datasource.get_execution_engine().batch_manager
        batches.reset_batch_cache()  # the batches
        batches.batch_data_cache.clear()  # and their data


def _by_id(result) -> dict:
    """The expectation results of a suite's validation `result`, by their expectation's id."""
    return {r.expectation_config.id: r for r in result.results}


def _skip_batch_fingerprints() -> None:
    """Stop GX fingerprinting every pandas batch.

    For a frame under ``HASH_THRESHOLD`` bytes, GX's pandas engine puts an MD5 over ``pd.util.hash_pandas_object``
    of the whole frame into the batch markers, which nothing here reads; on Arrow-backed text columns that took a
    fifth of the marts' checks. A threshold of 0 bytes skips it for every frame (great-expectations is pinned;
    tests/expectations/test_runner.py fails if a new version fingerprints again).
    """
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


def _failing_keys(frame: pd.DataFrame, keys: list[str], rows: list | None) -> list:
    """The key values (one value, or a list for a compound key) of the failing `rows` (row numbers of `frame`)."""
    if not keys or not rows:
        return []
    failing = frame.loc[rows[:SAMPLE_SIZE], keys].itertuples(index=False)
    return [_plain(row[0]) if len(keys) == 1 else [_plain(value) for value in row] for row in failing]


def combined(first: SuiteOutcome, second: SuiteOutcome) -> SuiteOutcome:
    """One suite's outcome from two validations of it (its rows, and its table-level facts)."""
    results = [*first.result.get("results", []), *second.result.get("results", [])]
    passed = sum(1 for r in results if r.get("success"))
    result = {
        **first.result,
        "success": first.success and second.success,
        "results": results,
        "statistics": {"evaluated_expectations": len(results), "successful_expectations": passed,
                       "unsuccessful_expectations": len(results) - passed,
                       "success_percent": 100.0 * passed / len(results) if results else 100.0},
    }
    return SuiteOutcome(first.suite, first.rows, [*first.outcomes, *second.outcomes], result)


def columns_used(expectation_list: Iterable) -> set[str]:
    """The columns a list of expectations reads (so a large table is read column-pruned)."""
    used: set[str] = set()
    for expectation in expectation_list:
        for name in ("column", "column_A", "column_B"):
            if getattr(expectation, name, None):
                used.add(getattr(expectation, name))
        used.update(getattr(expectation, "column_list", None) or [])
        used.update(_condition_columns(getattr(expectation, "row_condition", None)))
    return used


def _condition_columns(condition) -> set[str]:
    if condition is None or isinstance(condition, str):
        return set()
    if hasattr(condition, "conditions"):
        return set().union(*(_condition_columns(c) for c in condition.conditions))
    column = getattr(condition, "column", None)
    return {column.name} if column is not None else set()


def normalized(frame: pd.DataFrame) -> pd.DataFrame:
    """One comparable type per kind of value, whatever the warehouse driver returned.

    Naive timestamps and dates become UTC timestamps (DuckDB returns DATE as naive datetime64,
    psycopg2 returns `date` objects), and decimals become floats, so a suite compares every
    time column with one timezone-aware "now" and every amount with plain numbers.
    """
    frame = frame.copy(deep=False)
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            if getattr(column.dt, "tz", None) is None:
                frame[name] = column.dt.tz_localize("UTC")
            continue
        if column.dtype != object:
            continue
        sample = column.dropna()
        if sample.empty:
            continue
        first = sample.iloc[0]
        if isinstance(first, Decimal):
            frame[name] = pd.to_numeric(column, errors="coerce").astype("float64")
        elif isinstance(first, dt.date):  # also datetime.datetime
            frame[name] = pd.to_datetime(column, utc=True)
    return frame


def _outcome(result, failing_keys: list, masked: set[str]) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    column = config.kwargs.get("column")
    sample = [_plain(v) for v in (details.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]]
    observed = _plain(details.get("observed_value"))
    if _columns(config.kwargs) & masked:
        sample = [MASKED for _ in sample]
        if observed is not None and not isinstance(observed, int | float):  # a count stays; a max e-mail does not
            observed = MASKED
    return ExpectationOutcome(
        expectation=config.type,
        column=column,
        success=bool(result.success),
        unexpected_count=int(details.get("unexpected_count") or 0),
        unexpected_sample=sample,
        observed=observed,
        unexpected_keys=[k for k in failing_keys if k is not None],
        error=_error(result.exception_info),
    )


def _masked_result(result: dict, masked: set[str]) -> dict:
    """`result` (a GX validation result, JSON-ready) with no value of a `masked` column left in it.

    In the result of each expectation on a masked column (one of its :func:`_columns`), every value becomes
    MASKED, as in the outcome's sample: list items and dict values one by one, so Data Docs still render its
    tables. Counts and percentages (``unexpected_count``, ``unexpected_percent``, a value's ``count``) stay.
    """
    def hidden(name: str, value: object) -> object:
        if name == "count" or name.endswith("_count") or "_percent" in name:
            return value
        if isinstance(value, dict):
            return {key: hidden(key, item) for key, item in value.items()}
        if isinstance(value, list):
            return [hidden(name, item) for item in value]
        return MASKED

    for r in result.get("results", []):
        if _columns(r.get("expectation_config", {}).get("kwargs", {})) & masked and r.get("result"):
            r["result"] = hidden("result", r["result"])
    return result


def _columns(kwargs: dict) -> set[str]:
    """The columns an expectation reads: its `column`, `column_A`, `column_B` and `column_list`."""
    return {kwargs[name] for name in ("column", "column_A", "column_B") if kwargs.get(name)} | set(
        kwargs.get("column_list") or [])


def _error(info: object) -> str | None:
    """The first exception message GX recorded for an expectation (a missing column, a type clash)."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "error")[:300]
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "error")[:300]
    return None


def _plain(value: object) -> object:
    """A JSON-friendly version of a value GX reports (numpy scalars, decimals, timestamps)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if value != value else value  # NaN is "missing", and JSON has no NaN
    if hasattr(value, "item"):
        return _plain(value.item())
    return str(value)
