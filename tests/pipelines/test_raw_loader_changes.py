"""What a load reports it changed, on DuckDB and on PostgreSQL: keys new to the table are inserted, stored rows whose
content changed are updated, rows re-read as they were stored (a lookback, a restated window) are unchanged."""

from dataclasses import replace

import pytest

from connectors.salesforce.streams import ACCOUNT
from connectors.schema import Field, Stream
from pipelines.lib.raw_loader import load_streams
from tests.conftest import salesforce_account
from tests.pipelines.test_raw_loader import _pages_from
from tests.pipelines.test_raw_loader_cursor import UNORDERED, _thing
from tests.support.postgres import fresh_database
from tests.support.warehouse import warehouse_rows

#: A stamp after every one of the first load's records: a record modified since.
MODIFIED = "2026-02-01T00:00:00.000+0000"
DAILY_METRICS = Stream(
    name="daily_metrics", primary_key="row_key", cursor="Day", window_column="day",
    fields=(Field("row_key", "Key"), Field("day", "Day", "date"), Field("clicks", "Clicks", "int"),
            Field("campaign_name", "Name")),
)


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path):
    """Where a test loads, and its dlt folder: a DuckDB file, or a database of its own on the PostgreSQL server."""
    if request.param == "duckdb":
        yield str(tmp_path / "warehouse.duckdb"), tmp_path / "dlt"
        return
    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield url, tmp_path / "dlt"


def _load(warehouse, stream, read_pages, run_id):
    target, pipelines_dir = warehouse
    return load_streams("test", [stream], read_pages, target, pipelines_dir, run_id)[stream.name]


def _accounts(warehouse, records, run_id):
    return _load(warehouse, ACCOUNT, _pages_from(records), run_id)


def test_rows_re_read_unchanged_are_counted_unchanged_not_updated(warehouse):
    records = [salesforce_account(n) for n in range(3000)]
    first = _accounts(warehouse, records, "run-1")
    assert (first.inserted, first.updated, first.unchanged) == (3000, 0, 0)
    quiet = _accounts(warehouse, records, "run-2")  # the lookback reads the newest records again, as they were
    assert quiet.rows > 0
    assert (quiet.inserted, quiet.updated, quiet.unchanged) == (0, 0, quiet.rows)


def test_one_changed_row_among_the_re_read_ones_is_the_one_updated_and_a_new_one_inserted(warehouse):
    records = [salesforce_account(n) for n in range(3000)]
    _accounts(warehouse, records, "run-1")
    records[5] = salesforce_account(5, Name="Renamed Ltd", SystemModstamp=MODIFIED)
    records.append(salesforce_account(3000, SystemModstamp=MODIFIED))
    changed = _accounts(warehouse, records, "run-2")
    assert changed.rows > 2
    assert (changed.inserted, changed.updated, changed.unchanged) == (1, 1, changed.rows - 2)


def test_a_value_that_becomes_empty_is_a_change(warehouse):
    records = [salesforce_account(n) for n in range(3000)]
    _accounts(warehouse, records, "run-1")
    records[7] = salesforce_account(7, Website=None, SystemModstamp=MODIFIED)  # null compared with a value
    emptied = _accounts(warehouse, records, "run-2")
    assert (emptied.inserted, emptied.updated, emptied.unchanged) == (0, 1, emptied.rows - 1)


def test_a_restated_window_counts_only_the_rows_whose_numbers_changed(warehouse):
    def day(campaign, number, clicks, name="Spring"):
        return {"Key": f"c{campaign}:2026-05-0{number}", "Day": f"2026-05-0{number}", "Clicks": clicks,
                "Name": name}

    first = [day(campaign, number, 10) for campaign in (1, 2, 3) for number in (1, 2, 3)]
    _load(warehouse, DAILY_METRICS, lambda _stream, _since: iter([first]), "run-1")
    # Days 2 and 3 restated: one row with more clicks, one renamed to nothing, one campaign new, the rest as before.
    restated = [day(1, 2, 10), day(2, 2, 10), day(3, 2, 10), day(1, 3, 14), day(2, 3, 10, name=None),
                day(3, 3, 10), day(4, 3, 5)]
    result = _load(warehouse, DAILY_METRICS, lambda _stream, _since: iter([restated]), "run-2")
    assert (result.rows, result.inserted, result.updated, result.unchanged) == (7, 1, 2, 4)


def test_a_key_read_twice_in_one_load_is_counted_once_by_the_version_the_merge_keeps(warehouse):
    stored = _thing(1, "2026-01-01T00:00:00Z", name="before")
    _load(warehouse, UNORDERED, lambda _stream, _since: iter([[stored, _thing(2, "2026-01-01T00:00:00Z")]]), "run-1")
    # A search read hands over the stored version again, then the newer one, modified during the read.
    pages = [[stored], [_thing(2, "2026-01-01T00:00:00Z")], [_thing(1, "2026-01-02T00:00:00Z", name="after")]]
    result = _load(warehouse, UNORDERED, lambda _stream, _since: iter(pages), "run-2")
    assert result.rows == 3
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)


def test_streams_merged_in_one_load_each_count_their_own_changes(warehouse):
    # A load's merges run at once: on PostgreSQL they must not create one shared table of counts together. The
    # full refresh loads first, alone and without a merge, so the merges after it are the first ones of the source.
    owners = Stream(name="owners", primary_key="id", fields=(Field("id", "id"),))
    accounts = [replace(ACCOUNT, name=f"account_{number}") for number in range(12)]
    records = [salesforce_account(n) for n in range(300)]

    def read_pages(stream, since):
        return iter([[{"id": "1"}]]) if stream.name == "owners" else _pages_from(records)(stream, since)

    target, pipelines_dir = warehouse
    first = load_streams("test", [owners, *accounts], read_pages, target, pipelines_dir, "run-1")
    assert {name: load.inserted for name, load in first.items()} == {"owners": 1, **{s.name: 300 for s in accounts}}
    records[5] = salesforce_account(5, Name="Renamed Ltd", SystemModstamp=MODIFIED)
    loads = load_streams("test", accounts, read_pages, target, pipelines_dir, "run-2")
    counts = {name: (load.inserted, load.updated, load.unchanged + 1 == load.rows) for name, load in loads.items()}
    assert counts == {stream.name: (0, 1, True) for stream in accounts}



#: A full-refresh stream: no cursor, no window, read whole each night (HubSpot owners, ad campaigns).
OWNERS = Stream(name="owners", primary_key="id",
                fields=(Field("id", "id"), Field("email", "email"), Field("archived", "archived", "bool")))


def _owner(number, email=None):
    return {"id": str(number), "email": email or f"owner{number}@example.com", "archived": False}


def _full_refresh(warehouse, owners, run_id):
    return _load(warehouse, OWNERS, lambda _stream, _since: iter([owners] if owners else []), run_id)


def _stored(warehouse, query):
    """The rows of `query` over the warehouse's ``raw_test`` schema."""
    return warehouse_rows(warehouse[0], query)


def test_a_full_refresh_read_again_as_it_was_counts_every_row_unchanged(warehouse):
    owners = [_owner(n) for n in range(50)]
    first = _full_refresh(warehouse, owners, "run-1")
    assert (first.inserted, first.updated, first.unchanged, first.removed) == (50, 0, 0, 0)
    quiet = _full_refresh(warehouse, owners, "run-2")  # a quiet night: the same 50 owners
    assert (quiet.rows, quiet.inserted, quiet.updated, quiet.unchanged, quiet.removed) == (50, 0, 0, 50, 0)


def test_a_full_refresh_counts_the_changed_the_new_and_the_stored_keys_it_no_longer_reads(warehouse):
    owners = [_owner(n) for n in range(50)]
    _full_refresh(warehouse, owners, "run-1")
    owners[3] = _owner(3, email="renamed@example.com")
    owners[7:8] = []  # owner 7 archived: the API no longer lists it
    owners.append(_owner(50))
    changed = _full_refresh(warehouse, owners, "run-2")
    assert (changed.rows, changed.inserted, changed.updated, changed.unchanged, changed.removed) == (50, 1, 1, 48, 0)
    assert changed.vanished == 1
    # owner 7 stays, flagged gone from the source (a delete becomes a flag, never a hard delete)
    stored = dict(_stored(warehouse, "select id, _vanished_at is not null from raw_test.owners"))
    assert stored == {**{str(n): False for n in range(51)}, "7": True}
    _full_refresh(warehouse, [*owners, _owner(7)], "run-3")  # back at the source: the flag clears
    assert _stored(warehouse, "select count(_vanished_at) from raw_test.owners") == [(0,)]


def test_a_full_refresh_that_reads_nothing_flags_every_stored_row(warehouse, monkeypatch):
    monkeypatch.setenv("RAW_EMPTY_REFRESH_ALLOWED", "*")  # otherwise the table is kept (test_empty_full_refresh.py)
    _full_refresh(warehouse, [_owner(n) for n in range(5)], "run-1")
    emptied = _full_refresh(warehouse, [], "run-2")
    assert (emptied.rows, emptied.inserted, emptied.updated, emptied.unchanged, emptied.removed) == (0, 0, 0, 0, 0)
    assert emptied.vanished == 5
    assert _stored(warehouse, "select count(*), count(_vanished_at) from raw_test.owners") == [(5, 5)]


def test_a_full_refresh_missing_most_of_a_large_table_flags_nothing(warehouse):
    # 150 of 200 rows unread: more likely a read cut short without an error than 75% of the records deleted
    _full_refresh(warehouse, [_owner(n) for n in range(200)], "run-1")
    cut = _full_refresh(warehouse, [_owner(n) for n in range(50)], "run-2")
    assert cut.vanished == 0 and any("refused: 150 of 200" in note for note in cut.notes)
    assert _stored(warehouse, "select count(*), count(_vanished_at) from raw_test.owners") == [(200, 0)]


def _metric_day(campaign, number, clicks=10):
    return {"Key": f"c{campaign}:2026-05-0{number}", "Day": f"2026-05-0{number}", "Clicks": clicks, "Name": "Spring"}


def test_a_row_a_restated_window_no_longer_reports_is_counted_removed(warehouse):
    first = [_metric_day(campaign, number) for campaign in (1, 2, 3) for number in (1, 2, 3)]
    _load(warehouse, DAILY_METRICS, lambda _stream, _since: iter([first]), "run-1")
    # Days 2 and 3 restated: campaign 2 no longer reported on day 2, campaign 3 on day 3; day 1 is not re-read,
    # so its rows are not removed, whatever the re-read lacks.
    restated = [_metric_day(1, 2), _metric_day(3, 2), _metric_day(1, 3, clicks=12), _metric_day(2, 3)]
    result = _load(warehouse, DAILY_METRICS, lambda _stream, _since: iter([restated]), "run-2")
    assert (result.rows, result.inserted, result.updated, result.unchanged, result.removed) == (4, 0, 1, 3, 2)
    stored = {row[0] for row in _stored(warehouse, "select row_key from raw_test.daily_metrics")}
    assert stored == {f"c{c}:2026-05-01" for c in (1, 2, 3)} | {"c1:2026-05-02", "c3:2026-05-02", "c1:2026-05-03",
                                                              "c2:2026-05-03"}


def test_a_merge_on_the_key_removes_nothing(warehouse):
    records = [salesforce_account(n) for n in range(300)]
    _accounts(warehouse, records, "run-1")
    again = _accounts(warehouse, records, "run-2")  # a cursor read hands over only its lookback's newest records
    assert 0 < again.rows < 300
    assert again.removed == 0
