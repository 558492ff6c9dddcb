"""Loading streams with dlt: merge on key, cursor kept with the data, quarantine, clean stop on a spent quota."""

import shutil
from datetime import datetime

import duckdb
import pytest

from connectors.errors import SourceLimitReached
from connectors.salesforce.streams import ACCOUNT
from pipelines.lib.raw_loader import load_streams
from tests.conftest import salesforce_account


def _pages_from(records, page_size=1000, fail_after_pages=None):
    """A page reader over in-memory records that honours the cursor like the real client."""

    def read_pages(stream, since):
        selected = [r for r in records if since is None or r["SystemModstamp"] >= _sf(since)]
        selected.sort(key=lambda r: r["SystemModstamp"])
        for number, start in enumerate(range(0, len(selected), page_size)):
            if fail_after_pages is not None and number >= fail_after_pages:
                raise SourceLimitReached("salesforce: daily API request limit exceeded (REQUEST_LIMIT_EXCEEDED)")
            yield [dict(r) for r in selected[start : start + page_size]]

    return read_pages


def _sf(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@pytest.fixture
def warehouse(tmp_path):
    return tmp_path / "warehouse.duckdb", tmp_path / "dlt"


def _load(records, warehouse, run_id="run-1", **reader):
    path, pipelines_dir = warehouse
    return load_streams("salesforce", [ACCOUNT], _pages_from(records, **reader), str(path), pipelines_dir, run_id)


def _query(warehouse, sql):
    with duckdb.connect(str(warehouse[0]), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_merge_on_primary_key_and_cursor_committed_with_the_rows(warehouse):
    records = [salesforce_account(n) for n in range(3000)]
    records[9]["IsDeleted"] = True
    first = _load(records, warehouse)["account"]
    assert (first.rows, first.pages, first.cursor_before) == (3000, 3, None)
    assert (first.inserted, first.updated, first.deleted) == (3000, 0, 1)
    assert first.cursor_after.startswith("2026-01-28T")

    records[5] = salesforce_account(5, Name="Renamed Ltd", SystemModstamp="2026-02-01T00:00:00.000+0000")
    shutil.rmtree(warehouse[1])  # the cursor must come back from the warehouse, not from local files
    second = _load(records, warehouse, run_id="run-2")["account"]
    assert second.cursor_before == first.cursor_after
    assert second.rows < 3000
    assert (second.inserted, second.updated, second.deleted) == (0, second.rows, 0)
    assert _query(warehouse, "select count(*), count(distinct id) from raw_salesforce.account") == [(3000, 3000)]
    assert _query(warehouse, "select name, _run_id from raw_salesforce.account where id = '001SANDBOX00000005'") == [
        ("Renamed Ltd", "run-2")
    ]


def test_unparseable_records_are_quarantined_with_reason_and_run_id(warehouse):
    records = [salesforce_account(n) for n in range(10)]
    records[3]["AnnualRevenue"] = "a lot"
    result = _load(records, warehouse, run_id="run-q")["account"]
    assert (result.rows, result.quarantined) == (9, 1)
    quarantined = _query(warehouse, "select stream, reason, run_id, raw_record from raw_salesforce._quarantine")
    assert len(quarantined) == 1
    stream, reason, run_id, raw_record = quarantined[0]
    assert (stream, run_id) == ("account", "run-q")
    assert "AnnualRevenue" in reason and "a lot" in raw_record


def test_a_spent_daily_quota_keeps_what_was_read_and_resumes_next_run(warehouse):
    records = [salesforce_account(n) for n in range(3000)]
    stopped = _load(records, warehouse, fail_after_pages=1)["account"]
    assert stopped.stopped_early and "REQUEST_LIMIT_EXCEEDED" in stopped.stopped_early
    assert _query(warehouse, "select count(*) from raw_salesforce.account") == [(1000,)]
    resumed = _load(records, warehouse, run_id="run-2")["account"]
    assert resumed.cursor_before == stopped.cursor_after
    assert _query(warehouse, "select count(*), count(distinct id) from raw_salesforce.account") == [(3000, 3000)]


def test_a_restated_window_replaces_every_row_of_its_days(warehouse):
    from connectors.schema import Field, Stream

    stream = Stream(
        name="daily_metrics", primary_key="row_key", cursor="Day", window_column="day",
        fields=(Field("row_key", "Key"), Field("day", "Day", "date"), Field("clicks", "Clicks", "int")),
    )

    def reader(rows):
        return lambda _stream, _since: iter([rows])

    path, pipelines_dir = warehouse
    first = [{"Key": f"c{c}:2026-05-0{d}", "Day": f"2026-05-0{d}", "Clicks": 10} for c in (1, 2) for d in (1, 2, 3)]
    load_streams("ads", [stream], reader(first), str(path), pipelines_dir, "run-1")
    # The platform restates days 2 and 3: campaign 2 had no delivery on day 3 after all, campaign 1 more clicks.
    restated = [{"Key": "c1:2026-05-02", "Day": "2026-05-02", "Clicks": 12},
                {"Key": "c2:2026-05-02", "Day": "2026-05-02", "Clicks": 9},
                {"Key": "c1:2026-05-03", "Day": "2026-05-03", "Clicks": 14}]
    load_streams("ads", [stream], reader(restated), str(path), pipelines_dir, "run-2")
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute("select row_key, clicks from raw_ads.daily_metrics order by 1").fetchall()
    assert rows == [("c1:2026-05-01", 10), ("c1:2026-05-02", 12), ("c1:2026-05-03", 14),
                    ("c2:2026-05-01", 10), ("c2:2026-05-02", 9)]
