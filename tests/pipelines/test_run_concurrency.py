"""One run at a time writes the warehouse: the project's dagster.yaml makes the "warehouse" pool a limit on runs,
not only on steps. With a limit on steps alone, two runs take turns step by step (the catch-up of missed nights, a
manual run during the scheduled one): one night's publish could copy the marts the other night's dbt had just
rebuilt, before that night's checks ran."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.op_concurrency_limits_counter import GlobalOpConcurrencyLimitsCounter

from pipelines.local import prepare_dagster_home


@dg.asset(pool="warehouse")
def marts():
    """Stands for the night's dbt build."""


@dg.asset(deps=[marts], pool="warehouse")
def published_snapshot():
    """Stands for the publish."""


NIGHT = dg.Definitions(assets=[marts, published_snapshot],
                       jobs=[dg.define_asset_job("nightly", selection=[marts, published_snapshot])])


@pytest.fixture
def instance(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    prepare_dagster_home(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        yield instance


def _blocked_by_the_run_queue(instance: dg.DagsterInstance, waiting: dg.DagsterRun) -> bool:
    """Whether Dagster's run queue holds `waiting` back for the pools of the runs in progress, as the daemon decides
    on its first pass over a new home (prepare_dagster_home must have stored the pool's limit: that pass reads the
    pools before it stores a new one's default, and so would let every queued run start)."""
    config = instance.get_concurrency_config()
    in_progress = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    counter = GlobalOpConcurrencyLimitsCounter(
        instance, [waiting], in_progress, concurrency_keys=instance.event_log_storage.get_concurrency_keys(),
        pool_limits=instance.event_log_storage.get_pool_limits(),
        pool_granularity=config.pool_config.pool_granularity)
    return counter.is_blocked(waiting)


def test_a_run_that_writes_the_warehouse_waits_for_the_one_in_progress(instance):
    nightly = NIGHT.resolve_job_def("nightly")
    instance.create_run_for_job(job_def=nightly, status=dg.DagsterRunStatus.STARTED)
    # a publish started by hand while the night runs: it must not copy marts the night's checks have not passed
    publish_only = instance.create_run_for_job(
        job_def=nightly.get_subset(asset_selection={published_snapshot.key}), status=dg.DagsterRunStatus.NOT_STARTED)
    another_night = instance.create_run_for_job(job_def=nightly, status=dg.DagsterRunStatus.NOT_STARTED)

    assert _blocked_by_the_run_queue(instance, publish_only)
    assert _blocked_by_the_run_queue(instance, another_night)


def test_a_run_that_writes_the_warehouse_starts_when_none_is_in_progress(instance):
    nightly = NIGHT.resolve_job_def("nightly")
    finished = instance.create_run_for_job(job_def=nightly, status=dg.DagsterRunStatus.SUCCESS)
    waiting = instance.create_run_for_job(job_def=nightly, status=dg.DagsterRunStatus.NOT_STARTED)

    assert finished.run_id != waiting.run_id
    assert not _blocked_by_the_run_queue(instance, waiting)
