"""The snapshots of the shared two nights (tests/support/two_nights.py): taken only of a closed warehouse, and read
by each module through copies of its own."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.support.two_nights import TwoNights, snapshot


def _night(folder: Path) -> tuple[Path, Path]:
    """A closed warehouse holding one row, and a dbt work folder with a semantic manifest."""
    warehouse = folder / "warehouse" / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create table night as select 1 as number")
    work_dir = folder / "work"
    (work_dir / "target").mkdir(parents=True)
    (work_dir / "target" / "semantic_manifest.json").write_text('{"metrics": []}')
    return warehouse, work_dir


def test_a_warehouse_with_an_open_connection_is_not_snapshotted(tmp_path):
    warehouse, work_dir = _night(tmp_path)
    connection = duckdb.connect(str(warehouse))
    try:
        connection.execute("insert into night values (2)")
        with pytest.raises(RuntimeError, match=r"cannot snapshot .*warehouse\.duckdb: .*\.wal exists"):
            snapshot(warehouse, work_dir, tmp_path / "nights" / "first")
    finally:
        connection.close()
    snapshot(warehouse, work_dir, tmp_path / "nights" / "first")  # closed: checkpointed, no WAL left


def test_modules_read_private_copies_of_the_snapshots(tmp_path):
    warehouse, work_dir = _night(tmp_path)
    snapshot(warehouse, work_dir, tmp_path / "nights" / "first")
    nights = TwoNights(folder=tmp_path / "nights", advance_summary={})
    assert nights.semantic_manifest("first").read_text() == '{"metrics": []}'
    copy = nights.copy("first", tmp_path / "module" / "warehouse.duckdb")
    with duckdb.connect(str(copy)) as connection:
        connection.execute("insert into night values (2)")
    with duckdb.connect(str(nights.warehouse("first")), read_only=True) as connection:
        assert connection.execute("select number from night").fetchall() == [(1,)]


def test_an_unknown_night_is_named(tmp_path):
    nights = TwoNights(folder=tmp_path, advance_summary={})
    with pytest.raises(ValueError, match=r"night must be one of \('first', 'second'\), not 'third'"):
        nights.copy("third", tmp_path / "copy.duckdb")
