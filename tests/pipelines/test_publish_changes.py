"""Publishing only what dbt rebuilt: the next snapshot starts from the previous one and replaces the partitions the
publish log names; whatever the log cannot vouch for is copied whole. Every case ends with the snapshot equal to
the warehouse's marts.

The log is written here as dbt's macros write it (tests/support/publish_log.py); the real builds' logs are
published in tests/transform_revenue/test_incremental.py.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import duckdb
import pytest

from pipelines.lib.publish import publish_duckdb
from tests.support.publish_log import FIRST_BUILD, Warehouse, mart_rows


@pytest.fixture
def published_once(tmp_path):
    """A warehouse after a full first build, and its snapshot."""
    warehouse, analytics = Warehouse(tmp_path / "warehouse.duckdb"), tmp_path / "analytics.duckdb"
    warehouse.build("full", FIRST_BUILD)
    first = publish_duckdb(warehouse.path, analytics)
    assert first.methods["pipeline_daily"] == "copied: no previous snapshot to start from"
    return warehouse, analytics


def test_a_scoped_build_is_published_by_replacing_its_partitions_and_window(published_once):
    warehouse, analytics = published_once
    warehouse.build("scoped", [
        "delete from marts.pipeline_daily where opportunity_id in ('o2', 'o3') or date_day >= date '2026-10-30'",
        # o2 restated, o3 deleted in the CRM (a tombstone: named, no rows), a new day for the others
        "insert into marts.pipeline_daily select 'o2', date '2026-10-01' + day::int, -day, 'new@example.com' "
        "from range(0, 31) as days(day)",
        "insert into marts.pipeline_daily select 'o' || deal, date '2026-10-30' + day::int, 7, null "
        "from range(1, 6) as deals(deal), range(0, 2) as days(day) where deal not in (2, 3)",
    ], scopes=("o2", "o3"), replace_from=date(2026, 10, 30))

    publication = publish_duckdb(warehouse.path, analytics)

    assert publication.methods["pipeline_daily"].startswith("replayed")
    assert mart_rows(analytics) == warehouse.rows()
    assert publication.rows["pipeline_daily"] == len(warehouse.rows()) == 4 * 31  # o3 gone, the others to Oct 31
    with duckdb.connect(str(analytics), read_only=True) as connection:
        assert connection.execute("select table_name, invocation_id, method like 'replayed%' "
                                  "from common_ground.published_tables").fetchall() == [
            ("pipeline_daily", "invocation-2", True)]


def test_builds_of_nights_that_were_not_published_are_replayed_together(published_once):
    warehouse, analytics = published_once
    warehouse.build("scoped", ["update marts.pipeline_daily set amount = 0 where opportunity_id = 'o1'"],
                    scopes=("o1",))
    warehouse.build("scoped", ["delete from marts.pipeline_daily where opportunity_id = 'o5'"], scopes=("o5",))

    publication = publish_duckdb(warehouse.path, analytics)

    assert publication.methods["pipeline_daily"] == "replayed: 2 incremental build(s) since the previous snapshot"
    assert mart_rows(analytics) == warehouse.rows()


def test_a_table_not_rebuilt_is_kept_and_a_full_build_is_copied(published_once):
    warehouse, analytics = published_once
    assert publish_duckdb(warehouse.path, analytics).methods["pipeline_daily"].startswith("kept")

    warehouse.build("full", ["create or replace table marts.pipeline_daily as select 'o9' as opportunity_id, "
                             "date '2026-11-01' as date_day, 1 as amount, null::varchar as owner_email"])
    publication = publish_duckdb(warehouse.path, analytics)

    assert publication.methods["pipeline_daily"] == "copied: rebuilt whole since the previous snapshot"
    assert mart_rows(analytics) == warehouse.rows() == [("o9", date(2026, 11, 1), 1, None)]


def test_a_change_the_log_does_not_name_is_caught_by_the_count_and_copied(published_once):
    warehouse, analytics = published_once
    warehouse.build("scoped", ["delete from marts.pipeline_daily where opportunity_id in ('o1', 'o4')"],
                    scopes=("o1",))  # o4's deletion is not in the log

    publication = publish_duckdb(warehouse.path, analytics)

    assert publication.methods["pipeline_daily"] == \
        "copied: replayed gave 120 rows, the warehouse has 90: copied whole instead"
    assert mart_rows(analytics) == warehouse.rows()


def test_new_columns_and_tables_are_copied_and_dropped_tables_leave(published_once):
    warehouse, analytics = published_once
    warehouse.build("scoped", ["alter table marts.pipeline_daily add column stage varchar"], scopes=("o1",))
    warehouse.build("full", ["create table marts.accounts as select 1 as account_id"], model="accounts")
    publication = publish_duckdb(warehouse.path, analytics)
    assert publication.methods == {"accounts": "copied: not in the previous snapshot",
                                   "pipeline_daily": "copied: its columns changed"}
    assert mart_rows(analytics) == warehouse.rows()

    with warehouse.connect() as connection:
        connection.execute("drop table marts.accounts")
    assert set(publish_duckdb(warehouse.path, analytics).rows) == {"pipeline_daily"}
    with duckdb.connect(str(analytics), read_only=True) as connection:
        assert connection.execute("select table_name from duckdb_tables() where schema_name = 'marts'"
                                  ).fetchall() == [("pipeline_daily",)]


def test_replayed_rows_are_hashed_and_a_new_key_copies_everything(tmp_path):
    warehouse, analytics = Warehouse(tmp_path / "warehouse.duckdb"), tmp_path / "analytics.duckdb"
    warehouse.build("full", FIRST_BUILD)
    publish_duckdb(warehouse.path, analytics, email_key="first-key")
    warehouse.build("scoped", ["update marts.pipeline_daily set owner_email = 'changed@example.com' "
                               "where opportunity_id = 'o1'"], scopes=("o1",))

    assert publish_duckdb(warehouse.path, analytics, email_key="first-key").methods["pipeline_daily"].startswith(
        "replayed")
    hashed = {email for _, _, _, email in mart_rows(analytics)}
    assert hashed == {hmac.new(b"first-key", email.encode(), hashlib.sha256).hexdigest()
                      for email in ["changed@example.com", *(f"deal{deal}@example.com" for deal in range(2, 6))]}

    assert publish_duckdb(warehouse.path, analytics, email_key="second-key").methods["pipeline_daily"] == \
        "copied: the previous snapshot hashed e-mails with another key"
    with duckdb.connect(str(analytics), read_only=True) as connection:
        assert "first-key" not in str(connection.execute("select * from common_ground.published_tables").fetchall())
        assert connection.execute("select count(*) from marts.pipeline_daily where owner_email = ?",
                                  [hmac.new(b"second-key", b"changed@example.com", hashlib.sha256).hexdigest()]
                                  ).fetchone() == (30,)


def test_the_snapshot_starts_from_a_new_file_once_a_week_whatever_the_log_says(published_once):
    warehouse, analytics = published_once
    with duckdb.connect(str(analytics)) as connection:
        connection.execute("update common_ground.published_tables set copied_at = copied_at - interval 7 days")
    warehouse.build("scoped", ["delete from marts.pipeline_daily where opportunity_id = 'o1'"], scopes=("o1",))

    assert publish_duckdb(warehouse.path, analytics).methods["pipeline_daily"] == \
        "copied: a new file: the oldest whole copy in the previous snapshot is 7 days old"
    with duckdb.connect(str(analytics), read_only=True) as connection:
        assert connection.execute("select method from common_ground.published_tables").fetchall() == [
            ("copied: a new file: the oldest whole copy in the previous snapshot is 7 days old",)]
    warehouse.build("scoped", ["delete from marts.pipeline_daily where opportunity_id = 'o2'"], scopes=("o2",))
    assert publish_duckdb(warehouse.path, analytics).methods["pipeline_daily"].startswith("replayed")
    assert mart_rows(analytics) == warehouse.rows()


def test_a_previous_snapshot_duckdb_cannot_open_is_replaced_by_a_new_file(published_once):
    warehouse, analytics = published_once
    analytics.write_bytes(b"not a database")
    assert publish_duckdb(warehouse.path, analytics).methods["pipeline_daily"].startswith("copied")
    assert mart_rows(analytics) == warehouse.rows()
