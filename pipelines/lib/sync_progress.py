"""The asset check that warns when a raw stream keeps stopping early.

A stream stops early on an API budget, a throttle that outlasts the wait, or (Meta) a day whose report runs always
fail; the next run resumes from its cursor. A stream that stops at the same place every night would stall silently,
its asset still materialized nightly (so fresh): the `SYNC_PROGRESS_CHECK` of each raw asset fails with severity
WARN once the stream stopped early `STOPPED_EARLY_RUNS_SETTING` materializations in a row, and says whether its
cursor still moves (catching up on a backlog) or stays put (stalled).
"""

from collections.abc import Iterable, Mapping, Sequence
from itertools import takewhile
from typing import Any

import dagster as dg

from pipelines.lib.check_results import warning_result
from pipelines.lib.settings import whole_count

#: The asset check on every raw stream's asset.
SYNC_PROGRESS_CHECK = "sync_progress"
#: The setting: after how many materializations in a row that stopped early the check fails (with severity WARN).
STOPPED_EARLY_RUNS_SETTING = "SYNC_STOPPED_EARLY_RUNS"
DEFAULT_STOPPED_EARLY_RUNS = 3
#: The ``stopped_early`` metadata of a stream that read to its end.
NOT_STOPPED = "no"


def stopped_early_runs() -> int:
    """``SYNC_STOPPED_EARLY_RUNS``: how many runs in a row (2 or more, default 3) a stream may stop early before its
    check fails; a `ValueError` naming the variable otherwise."""
    return whole_count(STOPPED_EARLY_RUNS_SETTING, DEFAULT_STOPPED_EARLY_RUNS, least=2, unit="runs")


def sync_progress_keys(asset_keys: Iterable[dg.AssetKey]) -> dict[dg.AssetKey, dg.AssetCheckKey]:
    """The `SYNC_PROGRESS_CHECK` key of each raw asset."""
    return {key: dg.AssetCheckKey(key, SYNC_PROGRESS_CHECK) for key in asset_keys}


def sync_progress_check_spec(source: str, check_key: dg.AssetCheckKey) -> dg.AssetCheckSpec:
    """The spec of one raw asset's `SYNC_PROGRESS_CHECK`; not blocking, so it never holds back the publish step."""
    stream = check_key.asset_key.path[-1]
    return dg.AssetCheckSpec(
        check_key.name, asset=check_key.asset_key,
        description=f"Warns when {source}.{stream} keeps stopping early: fails (WARN) once it stopped early in "
                    f"{STOPPED_EARLY_RUNS_SETTING} runs in a row (default {DEFAULT_STOPPED_EARLY_RUNS}), saying "
                    "whether its cursor still moves or has stalled.")


def sync_progress_evaluation(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, source: str, run_id: str,
                             metadata: Mapping[str, Any], runs: int) -> dg.AssetCheckResult:
    """The `SYNC_PROGRESS_CHECK` result of the materialization of this run `run_id` with `metadata`.

    The asset's earlier materializations are read from `instance` only when this one stopped early (a stream that
    synced has no streak to count), in one query of `runs` records at most.
    """
    current = plain_metadata(metadata)
    previous = previous_materializations(instance, check_key.asset_key, run_id, runs) if stopped_early(current) else []
    return sync_progress_result(check_key, source, current, previous, runs)


def previous_materializations(instance: dg.DagsterInstance, asset_key: dg.AssetKey, run_id: str,
                              runs: int) -> list[dict[str, Any]]:
    """The metadata of the last `runs` - 1 materializations of `asset_key` by runs other than `run_id`, newest
    first. The run's own materialization, stored once yielded, is left out: `runs` are read to leave enough."""
    records = instance.fetch_materializations(asset_key, limit=runs).records
    return [plain_metadata(record.asset_materialization.metadata) for record in records
            if record.run_id != run_id and record.asset_materialization is not None][:runs - 1]


def plain_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Materialization metadata as plain values: a `MetadataValue`'s ``value``, anything else as it is."""
    return {name: value.value if isinstance(value, dg.MetadataValue) else value for name, value in metadata.items()}


def stopped_early(metadata: Mapping[str, Any]) -> bool:
    """Whether the materialization with (plain) `metadata` stopped early; one of a source not configured, which
    read nothing and has no ``stopped_early``, did not."""
    reason = metadata.get("stopped_early")
    return bool(reason) and reason != NOT_STOPPED


def stopped_early_streak(newest_first: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The materializations at the head of `newest_first` that stopped early, newest first: the current streak."""
    return list(takewhile(stopped_early, newest_first))


def sync_progress_result(check_key: dg.AssetCheckKey, source: str, current: Mapping[str, Any],
                         previous: Sequence[Mapping[str, Any]], runs: int) -> dg.AssetCheckResult:
    """The `SYNC_PROGRESS_CHECK` result: failed (WARN) when the `current` materialization and each of the `runs` - 1
    `previous` ones (newest first) stopped early; passed otherwise. Metadata are plain values."""
    name = f"{source}.{check_key.asset_key.path[-1]}"
    streak = stopped_early_streak([current, *previous[:runs - 1]])
    if len(streak) < runs:
        return warning_result(check_key, True, _passed_description(name, len(streak), runs),
                              {"stopped_early_runs": len(streak), "runs_warned_at": runs})
    cursor_from, cursor_to = streak[-1].get("cursor_before", "none"), streak[0].get("cursor_after", "none")
    reason = streak[0]["stopped_early"]
    return warning_result(check_key, False,
                          f"{name} stopped early in each of its last {runs} runs; {_progress(cursor_from, cursor_to)}. "
                          f"The latest reason: {reason}",
                          {"stopped_early_runs": len(streak), "runs_warned_at": runs,
                           "cursor_from": dg.MetadataValue.text(cursor_from),
                           "cursor_to": dg.MetadataValue.text(cursor_to),
                           "latest_reason": dg.MetadataValue.text(reason)})


def _passed_description(name: str, streak: int, runs: int) -> str:
    """What a passed check says: synced, or how many runs in a row stopped early, short of `runs`."""
    if streak == 0:
        return f"{name} read to its end in this run."
    return (f"{name} stopped early in {streak} run{'s' if streak != 1 else ''} in a row, fewer than the {runs} "
            f"{STOPPED_EARLY_RUNS_SETTING} warns at.")


def _progress(cursor_from: str, cursor_to: str) -> str:
    """Whether the cursor moved over the streak: still catching up on a backlog, or stalled where it was."""
    if cursor_from != cursor_to:
        return f"still catching up: cursor moved from {cursor_from} to {cursor_to}"
    return f"stalled: the cursor has stayed at {cursor_from}"


def sync_progress_not_checked(check_keys: Iterable[dg.AssetCheckKey], source: str,
                              status: str) -> list[dg.AssetCheckResult]:
    """A skipped source's checks: passed, as nothing was read (which ends any streak of stopping early)."""
    return [warning_result(key, True, f"Not checked: {source} is {status}.", {"stopped_early_runs": 0})
            for key in check_keys]
