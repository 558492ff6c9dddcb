"""The runner: what a failure reports, and the GX work it leaves out."""

import gc
import json

import great_expectations as gx
import pandas as pd
from great_expectations.execution_engine import pandas_execution_engine

from expectations.runner import MASKED, SAMPLE_SIZE, validate


def _not_null(column: str) -> list:
    return [gx.expectations.ExpectColumnValuesToNotBeNull(column=column)]


def _people(rows: int, missing_every: int) -> pd.DataFrame:
    """People keyed (source, id), every `missing_every`-th without an e-mail; the index is not 0..n-1."""
    frame = pd.DataFrame({
        "source": ["crm" if number % 2 else "ads" for number in range(rows)],
        "id": [f"p{number}" for number in range(rows)],
        "email": [None if number % missing_every == 0 else f"p{number}@example.com" for number in range(rows)],
    })
    return frame.set_axis(range(5000, 5000 + rows))


def test_failing_keys_are_the_compound_keys_of_failing_rows_and_only_a_sample_of_them():
    frame = _people(1000, missing_every=7)
    (failure,) = validate(frame, "people", lambda: _not_null("email"), key_columns=["source", "id"]).failed

    failing = {(row.source, row.id) for row in frame.itertuples() if pd.isna(row.email)}
    assert failure.unexpected_count == len(failing) == 143
    assert len(failure.unexpected_keys) == SAMPLE_SIZE
    assert all(isinstance(key, list) and tuple(key) in failing for key in failure.unexpected_keys)


def test_a_single_key_is_reported_as_its_value_and_masked_values_stay_hidden():
    frame = _people(30, missing_every=10).assign(email=lambda people: people["email"].fillna("not-an-address"))
    expectations = [gx.expectations.ExpectColumnValuesToMatchRegex(column="email", regex=r"@")]
    (failure,) = validate(frame, "people", lambda: expectations, key_columns=["id"], masked_columns=["email"]).failed

    assert sorted(failure.unexpected_keys) == ["p0", "p10", "p20"]
    assert failure.unexpected_sample == [MASKED] * 3


def test_masked_values_stay_out_of_the_result_saved_for_data_docs():
    # The result is saved as JSON and rendered into Data Docs: a masked column's values must not be in it either.
    frame = _people(30, missing_every=10).assign(
        email=lambda people: people["email"].fillna(people["id"] + " at example.com"))
    expectations = [gx.expectations.ExpectColumnValuesToMatchRegex(column="email", regex=r"@"),
                    gx.expectations.ExpectColumnPairValuesToBeEqual(column_A="id", column_B="email"),
                    gx.expectations.ExpectColumnValuesToBeInSet(column="source", value_set=["crm"]),
                    gx.expectations.ExpectColumnMostCommonValueToBeInSet(column="email", value_set=["x@y.org"])]
    outcome = validate(frame, "people", lambda: expectations, key_columns=["id"], masked_columns=["email"])

    # the saved result, and the outcomes' metadata the Dagster UI shows (a most common value is an observed one)
    for saved in (json.dumps(outcome.result), json.dumps([o.as_metadata() for o in outcome.outcomes])):
        assert not [address for address in frame["email"] if address in saved]
        assert "example.com" not in saved
    by_type = {r["expectation_config"]["type"]: r["result"] for r in outcome.result["results"]}
    regex, pair, in_set = (by_type[f"expect_{name}"] for name in ("column_values_to_match_regex",
                                                                  "column_pair_values_to_be_equal",
                                                                  "column_values_to_be_in_set"))
    assert (regex["unexpected_count"], regex["element_count"]) == (3, 30)
    assert regex["partial_unexpected_list"] == [MASKED] * 3
    assert pair["unexpected_count"] == 30
    assert in_set["unexpected_count"] == 15
    assert set(in_set["partial_unexpected_list"]) == {"ads"}


def test_batches_are_not_fingerprinted(monkeypatch):
    def refuse(frame):
        raise AssertionError("GX hashed the whole frame for a batch fingerprint")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", refuse)
    outcome = validate(_people(100, missing_every=7), "people", lambda: _not_null("id"), key_columns=["id"])

    assert outcome.success
    assert "pandas_data_fingerprint" not in outcome.result["meta"]["batch_markers"]


def test_only_failed_expectations_are_asked_for_their_rows():
    # SUMMARY would locate the unexpected rows of every expectation (and write them all into a query text);
    # the suite's own run is BASIC, and only the failed expectation runs again to name its keys.
    frame = _people(50, missing_every=5)
    expectations = [*_not_null("email"), *_not_null("id")]
    outcome = validate(frame, "people", lambda: expectations, key_columns=["id"])

    (failure,) = outcome.failed
    assert sorted(failure.unexpected_keys) == sorted(f"p{number}" for number in range(0, 50, 5))
    assert [r["result"].keys() & {"partial_unexpected_index_list", "partial_unexpected_counts",
                                  "unexpected_index_query"} for r in outcome.result["results"]] == [set(), set()]


def test_one_context_serves_every_validation(monkeypatch):
    # A context, its data source and asset cost about as much as validating a small table: they are made once.
    validate(_people(20, missing_every=7), "people", lambda: _not_null("id"))

    def refuse(*args, **kwargs):
        raise AssertionError("a new GX context for one validation")

    monkeypatch.setattr(gx, "get_context", refuse)
    first = validate(_people(40, missing_every=4), "people", lambda: _not_null("email"), key_columns=["id"])
    second = validate(_people(30, missing_every=10), "contacts", lambda: _not_null("email"), key_columns=["id"])
    assert [first.failed[0].unexpected_count, second.failed[0].unexpected_count] == [10, 3]
    assert (first.result["suite_name"], second.result["suite_name"]) == ("people", "contacts")


def test_the_shared_context_keeps_no_frame_after_a_validation():
    rows = 4321  # a length no other frame of the test session has
    validate(_people(rows, missing_every=7), "people", lambda: _not_null("id"))
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, pd.DataFrame) and len(o) == rows]
