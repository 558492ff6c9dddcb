"""The Dagster home's storage (dagster.yaml, pipelines/lib/dagster_storage.py): Dagster's SQLite storage with the
event log's connections kept open. A run's events are stored through a handful of connections instead of one or
more per event, and are the same to Dagster's default storage and to another process reading the home."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.instance.ref import InstanceRef

from pipelines.lib.dagster_storage import OPEN_DATABASES, PooledSqliteEventLogStorage
from pipelines.local import PROJECT_ROOT, prepare_dagster_home

CHECKS = 60


@dg.asset(check_specs=[dg.AssetCheckSpec(f"check_{number}", asset="checked") for number in range(CHECKS)])
def checked():
    """An asset with many checks, as the dbt models with their tests."""
    yield dg.MaterializeResult()
    for number in range(CHECKS):
        yield dg.AssetCheckResult(check_name=f"check_{number}", passed=number % 7 != 0)


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    prepare_dagster_home(home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def event_log_connections():
    """How many database connections were opened to each event log file (run databases and the index)."""
    opened: Counter[str] = Counter()

    def count(connection, _record) -> None:
        path = connection.execute("pragma database_list").fetchone()[2]
        if f"{os.sep}history{os.sep}runs{os.sep}" in path:
            opened[Path(path).name] += 1

    sa.event.listen(sa.engine.Engine, "connect", count)
    yield opened
    sa.event.remove(sa.engine.Engine, "connect", count)


def test_a_run_stores_its_events_through_a_few_connections(dagster_home, event_log_connections):
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        event_log_connections.clear()  # a new home's databases are made first
        result = dg.materialize([checked], instance=instance)
        events = len(instance.all_logs(result.run_id))
    assert result.success and events > 2 * CHECKS
    # Dagster's own SQLite event log opens a connection per write, and some writes take three: hundreds here.
    assert sum(event_log_connections.values()) <= 8, event_log_connections


def test_the_events_read_the_same_through_dagsters_default_storage(dagster_home, tmp_path):
    with dg.DagsterInstance.get() as instance:
        run_id = dg.materialize([checked], instance=instance).run_id
        stored = [(entry.dagster_event_type, entry.step_key) for entry in instance.all_logs(run_id)]
    plain_config = tmp_path / "plain"
    plain_config.mkdir()
    (plain_config / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home), config_dir=str(plain_config))) as plain:
        assert type(plain.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert [(entry.dagster_event_type, entry.step_key) for entry in plain.all_logs(run_id)] == stored
        failed = [key.name for key in checked.check_keys
                  if not plain.event_log_storage.get_latest_asset_check_execution_by_key([key])[key].evaluation.passed]
    assert sorted(failed) == sorted(f"check_{number}" for number in range(0, CHECKS, 7))


def test_only_the_most_recently_used_databases_stay_open(tmp_path):
    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    for shard in [f"run_{number}" for number in range(OPEN_DATABASES + 4)]:
        with storage.run_connection(shard) as connection:
            connection.execute(sa.text("select 1"))
    with storage.run_connection("run_2") as connection:  # long closed: opened again
        connection.execute(sa.text("select 1"))
    assert [shard for _, shard in storage._engines] == [f"run_{n}" for n in range(5, OPEN_DATABASES + 4)] + ["run_2"]
    storage.dispose()
    assert not storage._engines


def test_another_process_loads_the_dagster_home(dagster_home):
    """The webserver and the `dagster` CLI load the same dagster.yaml, and so this module, in their own process."""
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([str(Path(sys.executable).parent / "dagster"), "instance", "info"], env=env,
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "event_log_storage: PooledSqliteEventLogStorage" in result.stdout, result.stdout


def test_a_forked_process_leaves_its_parents_connections_open(tmp_path, monkeypatch):
    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    opened = []
    with storage.run_connection("run_a") as connection:
        opened.append(connection.connection.dbapi_connection)
    parent = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: parent + 1)  # as in a forked child
    storage.dispose()
    assert opened[0].execute("select 1").fetchone() == (1,)  # the parent's connection is still usable
    monkeypatch.undo()
    storage.dispose()
