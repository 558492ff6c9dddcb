"""Checkpoints inside a long stream read: a stream read in cursor order (or by windows) commits its rows and cursor
every ``RAW_CHECKPOINT_SECONDS`` of its load, so a run that dies mid-read keeps what it loaded and the next one reads
on from there. A stream read in no cursor order, or read whole, is still one load.

Fake reads in batches of `BATCH` rows, two pages a batch, loaded through the real loader and dlt into DuckDB (and
PostgreSQL for the counters); ``RAW_CHECKPOINT_SECONDS=0`` commits after every batch.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from connectors.errors import SourceError
from connectors.loader_state import loader_state
from connectors.schema import Field, Stream
from pipelines.lib import raw_loader
from pipelines.lib.raw_loader import CHECKPOINT_SETTING, StreamLoad, load_streams
from tests.support.warehouse import warehouse_rows

SOURCE = "test"
FIELDS = (Field("id", "Id"), Field("name", "Name"), Field("modified", "Modified", "timestamp"))
ORDERED = Stream("things", "id", FIELDS, cursor="Modified", cursor_ordered=True)
UNORDERED = Stream("things", "id", FIELDS, cursor="Modified")  # like HubSpot's: no cursor order
WHOLE = Stream("things", "id", FIELDS[:2])  # no cursor: read whole, replacing its table
METRICS = Stream("metrics", "row_key", (Field("row_key", "Key"), Field("day", "Day", "date"),
                                        Field("window_key", "Window"), Field("clicks", "Clicks", "int")),
                 cursor="Day", window_column="window_key")
BATCH, PAGE = 4, 2
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    """Batches of `BATCH` rows, the setting unset unless a test sets it."""
    monkeypatch.setattr(raw_loader, "BATCH_ROWS", BATCH)
    monkeypatch.delenv(CHECKPOINT_SETTING, raising=False)


@pytest.fixture
def warehouse(tmp_path):
    """A DuckDB warehouse and its dlt folder."""
    return str(tmp_path / "warehouse.duckdb"), tmp_path / "dlt"


def _stamp(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def _things(count: int, first: int = 0, name: str = "thing") -> list[dict]:
    """`count` records numbered from `first`, each modified a minute after the one before."""
    return [{"Id": f"t{n:03d}", "Name": f"{name} {n}", "Modified": _stamp(n)} for n in range(first, first + count)]


class FakeSource:
    """A source whose reads hand over the records modified at or after the cursor (start-inclusive, as the real
    clients), oldest first, `PAGE` a page; `fail_after_pages` raises a plain `SourceError` after that many pages.
    `calls` records the cursor each read was asked from."""

    def __init__(self, records: list[dict]) -> None:
        self.records = records
        self.fail_after_pages: int | None = None
        self.calls: list[datetime | None] = []

    def read_pages(self, stream: Stream, since: datetime | None):
        self.calls.append(since)
        selected = [r for r in self.records if stream.cursor is None or since is None
                    or datetime.fromisoformat(r["Modified"]) >= since]
        selected.sort(key=lambda r: r["Modified"] if stream.cursor_ordered else r["Id"])
        for number, start in enumerate(range(0, len(selected), PAGE)):
            if self.fail_after_pages is not None and number >= self.fail_after_pages:
                raise SourceError("the source answered 400: query failed")
            yield selected[start:start + PAGE]


def _load(warehouse, stream: Stream, source: FakeSource, run_id: str) -> StreamLoad:
    target, pipelines_dir = warehouse
    return load_streams(SOURCE, [stream], source.read_pages, target, pipelines_dir, run_id)[stream.name]


def _rows(warehouse, sql: str) -> list[tuple]:
    return warehouse_rows(warehouse[0], sql)


def _loads(warehouse, table: str = "things") -> int:
    """How many dlt loads wrote the rows of `table`."""
    return _rows(warehouse, f"select count(distinct _dlt_load_id) from raw_{SOURCE}.{table}")[0][0]


def _stored_cursor(warehouse, stream: Stream) -> datetime | None:
    """The cursor the warehouse holds for `stream`: the one the next run's read is asked from."""
    probe = FakeSource([])
    _load(warehouse, stream, probe, "probe")
    return probe.calls[0]


def _raised(failure: pytest.ExceptionInfo) -> list[BaseException]:
    """The exception raised and every one it was raised from."""
    chain, error = [], failure.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def test_a_read_in_cursor_order_that_fails_keeps_its_checkpoints_and_the_next_run_reads_on_from_the_last(
        warehouse, monkeypatch):
    monkeypatch.setenv(CHECKPOINT_SETTING, "0")
    records = _things(5 * BATCH)
    source = FakeSource(records)
    source.fail_after_pages = 3 * BATCH // PAGE  # fails once the 3rd batch was read
    with pytest.raises(Exception) as failure:
        _load(warehouse, ORDERED, source, "run-1")
    assert any(isinstance(error, SourceError) for error in _raised(failure))
    # the load of the 3rd batch failed with the read; the two before it were committed, each with its cursor
    kept = 2 * BATCH
    assert _rows(warehouse, "select id from raw_test.things order by id") == [(r["Id"],) for r in records[:kept]]
    assert _loads(warehouse) == 2
    checkpoint = datetime.fromisoformat(records[kept - 1]["Modified"])

    source.fail_after_pages = None
    resumed = _load(warehouse, ORDERED, source, "run-2")
    assert source.calls[-1] == checkpoint
    assert resumed.cursor_before == checkpoint.isoformat()
    # the restarted read returns at least the records left after the checkpoint (the one at it, again: the cursor
    # is start-inclusive)
    assert resumed.rows >= len(records) - kept
    assert _rows(warehouse, "select count(*), count(distinct id) from raw_test.things") == [(len(records),) * 2]
    assert datetime.fromisoformat(resumed.cursor_after) == datetime.fromisoformat(records[-1]["Modified"])


def test_the_records_a_checkpoint_s_pages_rejected_are_quarantined_though_the_run_then_fails(warehouse, monkeypatch):
    monkeypatch.setenv(CHECKPOINT_SETTING, "0")
    no_key = {"Id": None, "Name": "no key", "Modified": _stamp(1)}  # read in the first batch
    source = FakeSource([*_things(5 * BATCH), no_key])
    source.fail_after_pages = 3 * BATCH // PAGE
    with pytest.raises(Exception):  # noqa: B017  (the read's error, as dlt wraps it)
        _load(warehouse, ORDERED, source, "run-1")
    # the next run reads on after the checkpoints, so it would never reject this record again
    quarantined = "select run_id, reason from raw_test._quarantine"
    assert _rows(warehouse, quarantined) == [("run-1", "primary key id is missing")]
    source.fail_after_pages = None
    _load(warehouse, ORDERED, source, "run-2")
    assert _rows(warehouse, quarantined) == [("run-1", "primary key id is missing")]


def test_a_read_in_no_cursor_order_that_fails_commits_nothing_and_keeps_its_cursor(warehouse, monkeypatch):
    monkeypatch.setenv(CHECKPOINT_SETTING, "0")
    first = _load(warehouse, UNORDERED, FakeSource(_things(2)), "run-1")
    source = FakeSource(_things(5 * BATCH, first=10))
    source.fail_after_pages = 3 * BATCH // PAGE
    with pytest.raises(Exception) as failure:
        _load(warehouse, UNORDERED, source, "run-2")
    assert any(isinstance(error, SourceError) for error in _raised(failure))
    assert _rows(warehouse, "select count(*), max(_run_id) from raw_test.things") == [(2, "run-1")]
    assert _stored_cursor(warehouse, UNORDERED) == datetime.fromisoformat(first.cursor_after)


def test_a_full_refresh_is_never_split(warehouse, monkeypatch):
    monkeypatch.setenv(CHECKPOINT_SETTING, "0")
    _load(warehouse, WHOLE, FakeSource(_things(BATCH)), "run-1")
    refreshed = FakeSource(_things(5 * BATCH, first=100))
    result = _load(warehouse, WHOLE, refreshed, "run-2")
    # one load, whose whole read flags the stored rows it no longer has (the first run's batch), once
    assert (result.rows, result.inserted, result.removed, result.vanished) == (5 * BATCH, 5 * BATCH, 0, BATCH)
    assert _rows(warehouse, "select count(*), count(_vanished_at), min(_run_id) from raw_test.things") == [
        (6 * BATCH, BATCH, "run-2")]
    # the rows it read came in one load (the flagged ones keep the first run's)
    assert _rows(warehouse, "select count(distinct _dlt_load_id) from raw_test.things where _vanished_at is null") \
        == [(1,)]


def test_with_the_default_setting_a_short_read_is_one_load(warehouse):
    result = _load(warehouse, ORDERED, FakeSource(_things(5 * BATCH)), "run-1")
    assert (result.rows, result.pages) == (5 * BATCH, 5 * BATCH // PAGE)
    assert _loads(warehouse) == 1


def test_a_checkpointed_stream_reports_what_an_unsplit_load_of_the_same_pages_does(any_warehouse, tmp_path,
                                                                                  monkeypatch):
    target, pipelines_dir = any_warehouse
    unsplit = (str(tmp_path / "unsplit.duckdb"), tmp_path / "dlt-unsplit")
    split = (target, pipelines_dir)
    first = _things(5 * BATCH)
    rejected = {"Id": None, "Name": "no key", "Modified": _stamp(250)}
    # run 2: the newest record again as it was (the start-inclusive cursor), three modified, four new, one rejected
    second = (first[-1:] + [dict(r, Name=f"renamed {r['Id']}", Modified=_stamp(200 + n))
                            for n, r in enumerate(first[1:4])]
              + [rejected] + _things(4, first=300))
    reports = {}
    for name, warehouse, seconds in (("unsplit", unsplit, None), ("split", split, "0")):
        if seconds is None:
            monkeypatch.delenv(CHECKPOINT_SETTING, raising=False)
        else:
            monkeypatch.setenv(CHECKPOINT_SETTING, seconds)
        before = _load(warehouse, ORDERED, FakeSource(first), "run-1")
        after = _load(warehouse, ORDERED, FakeSource(second), "run-2")
        reports[name] = (before, after)
    for unsplit_load, split_load in zip(reports["unsplit"], reports["split"], strict=True):
        assert split_load == unsplit_load
    assert (reports["split"][1].inserted, reports["split"][1].updated, reports["split"][1].unchanged) == (4, 3, 1)
    assert _loads(split) > 2  # it was split: one load a batch of each run
    stored = "select id, name, modified from raw_test.things order by id"
    assert _rows(split, stored) == _rows(unsplit, stored)
    quarantined = "select stream, reason from raw_test._quarantine"
    assert _rows(split, quarantined) == _rows(unsplit, quarantined) != []


def test_a_bad_setting_fails_before_any_read_naming_the_variable(warehouse, monkeypatch):
    monkeypatch.setenv(CHECKPOINT_SETTING, "ten minutes")
    source = FakeSource(_things(BATCH))
    with pytest.raises(ValueError, match=CHECKPOINT_SETTING):
        _load(warehouse, ORDERED, source, "run-1")
    assert source.calls == []


def _metric(account: str, day: date, ad: int) -> dict:
    return {"Key": f"{account}:{ad}:{day}", "Day": day.isoformat(), "Window": f"{account}:{day}", "Clicks": ad}


class FakeMetrics:
    """An ad source read by chunks of `CHUNK_DAYS` days, like :func:`connectors.ad_metrics.read_in_chunks`: each
    chunk's pages hold its days' rows interleaved (every window spread over several pages), and the read records
    the chunk's last day in the loader's state once the loader took the chunk's last page. `fail_in_chunk` raises a
    `SourceError` midway through that chunk."""

    CHUNK_DAYS, ADS = 2, 3

    def __init__(self, days: int) -> None:
        self.days = [date(2026, 1, 1) + timedelta(days=n) for n in range(days)]
        self.fail_in_chunk: int | None = None
        self.states: list[dict] = []
        self.read_to_the_end = threading.Event()

    def read_pages(self, _stream: Stream, _since: datetime | None):
        state = loader_state()
        self.states.append(dict(state))
        done = state.get("days_read")
        return self._pages(state, [day for day in self.days if done is None or day.isoformat() > done])

    def _pages(self, state: dict, days: list[date]):
        for number, start in enumerate(range(0, len(days), self.CHUNK_DAYS)):
            chunk = days[start:start + self.CHUNK_DAYS]
            rows = [_metric("acct", day, ad) for ad in range(self.ADS) for day in chunk]  # ad by ad: days mixed
            for page_start in range(0, len(rows), PAGE):
                if number == self.fail_in_chunk and page_start >= PAGE:
                    raise SourceError("the report failed")
                yield rows[page_start:page_start + PAGE]
            state["days_read"] = chunk[-1].isoformat()
        self.read_to_the_end.set()


def test_a_windowed_read_is_checkpointed_only_between_chunks_with_the_state_of_the_chunks_loaded(
        warehouse, monkeypatch):
    monkeypatch.setenv(CHECKPOINT_SETTING, "0")
    source = FakeMetrics(days=6)
    source.fail_in_chunk = 2
    with pytest.raises(Exception) as failure:
        _load(warehouse, METRICS, source, "run-1")
    assert any(isinstance(error, SourceError) for error in _raised(failure))
    per_chunk = FakeMetrics.CHUNK_DAYS * FakeMetrics.ADS
    # a checkpoint after each batch falls due inside a chunk, whose windows are spread over its pages: each load
    # ends where the chunk does, with every row of its windows
    assert _rows(warehouse, "select count(*), count(distinct window_key) from raw_test.metrics") == [
        (2 * per_chunk, 2 * FakeMetrics.CHUNK_DAYS)]
    assert _loads(warehouse, "metrics") == 2

    source.fail_in_chunk = None
    resumed = _load(warehouse, METRICS, source, "run-2")
    assert source.states[-1]["days_read"] == source.days[2 * FakeMetrics.CHUNK_DAYS - 1].isoformat()
    assert resumed.rows == per_chunk
    assert _rows(warehouse, "select count(*), count(distinct row_key) from raw_test.metrics") == [(3 * per_chunk,) * 2]


def test_a_checkpoint_commits_the_read_state_of_the_pages_it_loaded_not_of_those_read_ahead(warehouse, monkeypatch):
    monkeypatch.setenv(CHECKPOINT_SETTING, "0")
    source, row_count, counted = FakeMetrics(days=6), raw_loader._row_count, []

    def loader_dies_after_the_first_load(pipeline, table):
        """Before the first load: wait for the whole read (its state then says every day was read). Before the
        second: the loader dies."""
        counted.append(table)
        if len(counted) == 1:
            assert source.read_to_the_end.wait(timeout=30)
            return row_count(pipeline, table)
        raise RuntimeError("the loader died")

    monkeypatch.setattr(raw_loader, "_row_count", loader_dies_after_the_first_load)
    with pytest.raises(RuntimeError, match="the loader died"):
        _load(warehouse, METRICS, source, "run-1")
    monkeypatch.setattr(raw_loader, "_row_count", row_count)
    per_chunk = FakeMetrics.CHUNK_DAYS * FakeMetrics.ADS
    assert _rows(warehouse, "select count(*) from raw_test.metrics") == [(per_chunk,)]

    _load(warehouse, METRICS, source, "run-2")
    # the first load held the first chunk alone: the next run reads from the second, though the read had read all
    assert source.states[-1]["days_read"] == source.days[FakeMetrics.CHUNK_DAYS - 1].isoformat()
    assert _rows(warehouse, "select count(*), count(distinct row_key) from raw_test.metrics") == [(3 * per_chunk,) * 2]
