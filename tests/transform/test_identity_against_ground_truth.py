"""Identity resolution on the scale-S sandbox: scored against its ground truth, and ids stable across two nights.

The warehouse of each night comes from the session's two nights (tests/support/two_nights.py): raw tables loaded
from the sandbox by the Dagster raw assets, then `dbt build`; the sandbox then advances a day with changes and the
second night is loaded and built on top. This module reads its own copies of both. Scores are printed (run with
-s to see them).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from tests.support.two_nights import NIGHTS, SCALE, SEED
from tests.transform.helpers import pairwise_scores, rows

pytestmark = pytest.mark.e2e

MIN_PRECISION, MIN_RECALL = 0.98, 0.95


def _memberships(warehouse: Path) -> dict[str, dict[tuple[str, str], str]]:
    return {
        "accounts": {(system, record): entity for entity, system, record in rows(
            warehouse, "select account_id, source_system, source_record_id from marts.account_source_records")},
        "people": {(system, record): entity for entity, system, record in rows(
            warehouse, "select prospect_id, source_system, source_record_id from marts.prospect_source_records")},
    }


@pytest.fixture(scope="module")
def nights(two_nights, tmp_path_factory):
    """Memberships of both nights (from copies of their warehouses), the ground truth and the advance summary."""
    from sandbox.generate import generate

    folder = tmp_path_factory.mktemp("identity")
    memberships = {night: _memberships(two_nights.copy(night, folder / night / "warehouse.duckdb"))
                   for night in NIGHTS}
    return {**memberships, "truth": generate(SCALE, SEED).ground_truth, "summary": two_nights.advance_summary}


@pytest.mark.parametrize(("entity", "truth_key"), [("accounts", "companies"), ("people", "people")])
def test_matching_scores_against_ground_truth(nights, entity, truth_key):
    scores = pairwise_scores(nights["truth"][truth_key], nights["first"][entity])
    print(f"\n{entity}: {scores['records']} records, {scores['true_pairs']} true same-entity pairs, "
          f"{scores['predicted_pairs']} predicted; precision {scores['precision']:.4f}, recall {scores['recall']:.4f}")
    assert scores["precision"] >= MIN_PRECISION, scores
    assert scores["recall"] >= MIN_RECALL, scores


@pytest.mark.parametrize("entity", ["accounts", "people"])
def test_ids_are_stable_from_one_night_to_the_next(nights, entity):
    first, second = nights["first"][entity], nights["second"][entity]
    assert nights["summary"], "the sandbox advanced without changes"
    assert len(second) > len(first) * 0.99
    first_members, second_members = defaultdict(set), defaultdict(set)
    for record, entity_id in first.items():
        first_members[entity_id].add(record)
    for record, entity_id in second.items():
        if record in first:
            second_members[entity_id].add(record)
    kept = [record for record in first if second.get(record) == first[record]]
    changed = [record for record in first if record in second and second[record] != first[record]]
    # An id may only change when its cluster really changed: two clusters of the first night merged
    # (the younger one's id gives way), or the first night's cluster split.
    unexplained = [
        record for record in changed
        if len({first[other] for other in second_members[second[record]]}) < 2
        and len({second[other] for other in first_members[first[record]] if other in second}) < 2
    ]
    share = len(kept) / len(first)
    print(f"\n{entity}: {share:.4%} of {len(first)} records keep their id; {len(changed)} changed with a merge "
          f"or split; {len(second) - len(first)} records more")
    assert not unexplained, unexplained[:10]
    assert share >= 0.99
