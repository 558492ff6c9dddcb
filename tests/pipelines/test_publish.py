"""Publishing the marts: atomic swap, readers never blocked, previous snapshots kept, nothing half-written."""

import duckdb
import pytest

from pipelines.lib.publish import publish_duckdb


def _warehouse(path, accounts: int):
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema if not exists marts")
        connection.execute(
            f"create or replace table marts.accounts as select range as account_id from range({accounts})"
        )


def test_publish_swaps_in_a_new_file_while_a_reader_keeps_the_old_one(tmp_path):
    warehouse, analytics = tmp_path / "warehouse.duckdb", tmp_path / "bi" / "analytics.duckdb"
    _warehouse(warehouse, 3)
    assert publish_duckdb(warehouse, analytics).rows == {"accounts": 3}

    reader = duckdb.connect(str(analytics), read_only=True)
    first = analytics.stat().st_ino
    _warehouse(warehouse, 5)
    assert publish_duckdb(warehouse, analytics, keep_snapshots=2).rows == {"accounts": 5}
    assert reader.execute("select count(*) from marts.accounts").fetchone() == (3,)
    reader.close()
    with duckdb.connect(str(analytics), read_only=True) as reconnected:
        assert reconnected.execute("select count(*) from marts.accounts").fetchone() == (5,)
    [kept] = (analytics.parent / "snapshots").glob("analytics-*.duckdb")
    assert kept.stat().st_ino == first != analytics.stat().st_ino  # the file published before, kept without a copy
    assert not list(analytics.parent.glob(".*.tmp"))


def test_only_the_newest_snapshots_are_kept(tmp_path):
    warehouse, analytics = tmp_path / "warehouse.duckdb", tmp_path / "analytics.duckdb"
    for accounts in range(1, 6):
        _warehouse(warehouse, accounts)
        publish_duckdb(warehouse, analytics, keep_snapshots=2)
    kept = sorted((tmp_path / "snapshots").glob("analytics-*.duckdb"))
    assert len(kept) == 2
    with duckdb.connect(str(kept[-1]), read_only=True) as newest_backup:
        assert newest_backup.execute("select count(*) from marts.accounts").fetchone() == (4,)


def test_an_empty_warehouse_publishes_nothing_and_keeps_the_old_snapshot(tmp_path):
    warehouse, analytics = tmp_path / "warehouse.duckdb", tmp_path / "analytics.duckdb"
    _warehouse(warehouse, 2)
    publish_duckdb(warehouse, analytics)
    before = analytics.read_bytes()
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("drop table marts.accounts")
    with pytest.raises(RuntimeError, match="nothing to publish"):
        publish_duckdb(warehouse, analytics)
    assert analytics.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))
