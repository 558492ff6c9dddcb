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
    # Renamed is the one changed row: the others were re-read by the lookback as they were stored.
    assert (second.inserted, second.updated, second.unchanged, second.deleted) == (0, 1, second.rows - 1, 0)
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


def test_a_restated_window_replaces_every_row_of_its_days_after_a_first_load_into_an_empty_table(warehouse):
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
    staged = ("select table_name from duckdb_tables() "
              "where schema_name = 'raw_ads_staging' and table_name = 'daily_metrics'")
    assert _query(warehouse, staged) == []  # the empty table took its first load as it was: nothing to merge with
    # The platform restates days 2 and 3: campaign 2 had no delivery on day 3 after all, campaign 1 more clicks.
    restated = [{"Key": "c1:2026-05-02", "Day": "2026-05-02", "Clicks": 12},
                {"Key": "c2:2026-05-02", "Day": "2026-05-02", "Clicks": 9},
                {"Key": "c1:2026-05-03", "Day": "2026-05-03", "Clicks": 14}]
    load_streams("ads", [stream], reader(restated), str(path), pipelines_dir, "run-2")
    assert _query(warehouse, staged) == [("daily_metrics",)]  # merged through a staging copy
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute("select row_key, clicks from raw_ads.daily_metrics order by 1").fetchall()
    assert rows == [("c1:2026-05-01", 10), ("c1:2026-05-02", 12), ("c1:2026-05-03", 14),
                    ("c2:2026-05-01", 10), ("c2:2026-05-02", 9)]


def test_a_windowed_stream_is_deleted_by_window_alone_and_keeps_each_key_once(warehouse):
    import dlt

    from connectors.schema import Field, Stream

    stream = Stream(
        name="daily_metrics", primary_key="row_key", cursor="Day", window_column="day",
        fields=(Field("row_key", "Key"), Field("day", "Day", "date"), Field("clicks", "Clicks", "int")),
    )
    path, pipelines_dir = warehouse
    pages = [[{"Key": "c1:2026-05-01", "Day": "2026-05-01", "Clicks": 10},
              {"Key": "c1:2026-05-02", "Day": "2026-05-02", "Clicks": 11}],
             [{"Key": "c1:2026-05-02", "Day": "2026-05-02", "Clicks": 99}]]  # the same key again in one load
    loaded = load_streams("ads", [stream], lambda _stream, _since: iter(pages), str(path), pipelines_dir, "run-1")
    assert loaded["daily_metrics"].rows == 2
    assert _query(warehouse, "select row_key, clicks from raw_ads.daily_metrics order by 1") == [
        ("c1:2026-05-01", 10), ("c1:2026-05-02", 11)]
    # dlt deletes by "key or window" when it knows the key: a row-by-row join. It must know the window only.
    pipeline = dlt.pipeline(pipeline_name="common_ground_ads", pipelines_dir=str(pipelines_dir))
    columns = pipeline.default_schema.get_table("daily_metrics")["columns"]
    assert not columns["row_key"].get("primary_key") and columns["day"].get("merge_key")


def _full_refresh_reader(records, page_size=2, fail_after_pages=None):
    """A page reader for a stream without a cursor: every run reads all records, maybe stopped by the source."""

    def read_pages(stream, since):
        assert since is None
        for number, start in enumerate(range(0, len(records), page_size)):
            if fail_after_pages is not None and number >= fail_after_pages:
                raise SourceLimitReached("hubspot: daily limit reached (DAILY)")
            yield [dict(r) for r in records[start : start + page_size]]

    return read_pages


def test_a_full_refresh_stopped_early_keeps_the_previous_table_and_other_streams_still_load(warehouse):
    from connectors.schema import Field, Stream

    owners = Stream(name="owners", primary_key="id", fields=(Field("id", "id"), Field("email", "email")))
    path, pipelines_dir = warehouse
    first = [{"id": str(n), "email": f"owner{n}@example.com"} for n in range(5)]
    loaded = load_streams("crm", [owners], _full_refresh_reader(first), str(path), pipelines_dir, "run-1")["owners"]
    assert (loaded.rows, loaded.stopped_early) == (5, None)

    def both(stream, since):  # a spent quota on the full refresh; the cursor stream is read whole
        if stream.name == "owners":
            return _full_refresh_reader(first[:4], fail_after_pages=1)(stream, since)
        return _pages_from([salesforce_account(n) for n in range(3)])(stream, since)

    loads = load_streams("crm", [owners, ACCOUNT], both, str(path), pipelines_dir, "run-2")
    assert "DAILY" in loads["owners"].stopped_early
    assert (loads["owners"].rows, loads["owners"].inserted, loads["owners"].updated) == (0, 0, 0)
    assert loads["account"].rows == 3
    kept = _query(warehouse, "select count(*), min(_run_id), max(_run_id) from raw_crm.owners")
    assert kept == [(5, "run-1", "run-1")]
    assert _query(warehouse, "select count(*) from raw_crm.account") == [(3,)]

    complete = load_streams("crm", [owners], _full_refresh_reader(first[:4]), str(path), pipelines_dir, "run-3")
    assert (complete["owners"].stopped_early, complete["owners"].vanished) == (None, 1)
    # the owner the complete read lacks is kept, flagged gone; every row carries this load's stamp
    assert _query(warehouse, "select count(*), count(_vanished_at), min(_run_id), max(_run_id) "
                             "from raw_crm.owners") == [(5, 1, "run-3", "run-3")]


def test_a_stream_whose_discovery_is_throttled_is_not_read_and_keeps_its_cursor_while_the_others_load(warehouse):
    from connectors.schema import Field, Stream

    owners = Stream(name="owners", primary_key="id", fields=(Field("id", "id"), Field("email", "email")))
    path, pipelines_dir = warehouse
    records = [salesforce_account(n) for n in range(3)]
    first = _load(records, warehouse)["account"]

    def discover(stream):  # the source throttles the description of accounts, not of owners
        if stream.name == "account":
            raise SourceLimitReached("salesforce: still throttled after 6 attempts; ending the stream")
        return stream

    def both(stream, since):
        if stream.name == "owners":
            return _full_refresh_reader([{"id": "1", "email": "owner1@example.com"}])(stream, since)
        return _pages_from(records)(stream, since)

    loads = load_streams("salesforce", [ACCOUNT, owners], both, str(path), pipelines_dir, "run-2", discover=discover)
    left_out = loads["account"]
    assert "throttled" in left_out.stopped_early
    assert (left_out.rows, left_out.cursor_before, left_out.cursor_after) == (0, first.cursor_after, first.cursor_after)
    assert _query(warehouse, "select count(*), min(_run_id), max(_run_id) from raw_salesforce.account") == [
        (3, "run-1", "run-1")]
    assert (loads["owners"].rows, loads["owners"].stopped_early) == (1, None)

    resumed = load_streams("salesforce", [ACCOUNT], both, str(path), pipelines_dir, "run-3", discover=lambda s: s)
    assert resumed["account"].cursor_before == first.cursor_after and resumed["account"].stopped_early is None


def test_pages_are_loaded_in_batches_larger_than_a_page_with_every_row_and_the_newest_cursor(warehouse, monkeypatch):
    from pipelines.lib import raw_loader

    monkeypatch.setattr(raw_loader, "BATCH_ROWS", 2500)
    records = [salesforce_account(n) for n in range(6000)]
    result = _load(records, warehouse, page_size=1000)["account"]
    assert (result.rows, result.pages, result.inserted) == (6000, 6, 6000)
    assert result.cursor_after == max(r["SystemModstamp"] for r in records).replace(".000+0000", "+00:00")
    assert _query(warehouse, "select count(*), count(distinct id) from raw_salesforce.account") == [(6000, 6000)]


def test_a_stream_is_loaded_while_the_next_is_read_one_page_at_a_time_and_finished_reads_load_together(
        warehouse, monkeypatch):
    import threading
    import time

    import dlt

    from connectors.schema import Field, Stream
    from pipelines.lib import raw_loader

    streams = [Stream(name=f"s{n}", primary_key="id", cursor="at",
                      fields=(Field("id", "id"), Field("at", "at", "timestamp"))) for n in range(4)]
    slow = {"s1": 0.3}  # s1 is slow to serve: s0 is loaded meanwhile; s2 and s3 are read by the time s1 is loaded
    active, overlaps, readers, events = [0], [0], set(), []
    guard = threading.Lock()

    def read_pages(stream, since):
        for page in range(8):
            with guard:
                active[0] += 1
                overlaps[0] += active[0] > 1
                readers.add(threading.current_thread().name)
            time.sleep(slow.get(stream.name, 0.002))  # a request in flight: a second reader would run now
            with guard:
                active[0] -= 1
            yield [{"id": f"{stream.name}-{page}-{n}", "at": "2026-05-01T00:00:00Z"} for n in range(10)]
        events.append(f"read {stream.name}")

    runs = []
    run = dlt.Pipeline.run

    def recorded_run(pipeline, resources, **kwargs):
        runs.append(sorted(resource.name for resource in resources))
        info = run(pipeline, resources, **kwargs)
        events.extend(f"loaded {name}" for name in runs[-1])
        return info

    monkeypatch.setattr(dlt.Pipeline, "run", recorded_run)
    path, pipelines_dir = warehouse
    loads = raw_loader.load_streams("crm", streams, read_pages, str(path), pipelines_dir, "run-1")
    assert [loads[s.name].rows for s in streams] == [80, 80, 80, 80]
    assert overlaps[0] == 0 and len(readers) == 1 and threading.main_thread().name not in readers
    assert events.index("loaded s0") < events.index("read s1")  # s0 was committed while s1 was still being read
    assert runs[0] == ["s0"] and runs[-1] == ["s2", "s3"]  # read while s1 loaded: one load for both


def test_duckdb_loads_under_a_memory_limit(warehouse):
    import dlt

    from pipelines.lib.raw_loader import open_destination

    path, pipelines_dir = warehouse
    with open_destination(str(path)) as destination:
        pipeline = dlt.pipeline(pipeline_name="limits", destination=destination, dataset_name="raw_x",
                                pipelines_dir=str(pipelines_dir))
        with pipeline.sql_client() as client:
            [(limit,)] = client.execute_sql("select current_setting('memory_limit')")
    assert limit == "732.4 MiB"  # 768 MB, well below DuckDB's default of 80% of the machine


def test_a_sync_opens_the_duckdb_file_once(warehouse, monkeypatch):
    opened, connect = [], duckdb.connect

    def counted(database, *args, **kwargs):
        opened.append(str(database))
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", counted)
    loaded = _load([salesforce_account(n) for n in range(3000)], warehouse)["account"]
    assert loaded.rows == 3000
    assert opened == [str(warehouse[0])]  # dlt's loads, state and row counts share it (9 opens before)
