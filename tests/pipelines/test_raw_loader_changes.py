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
from tests.support.postgres import fresh_database, postgres_server

#: A stamp after every one of the first load's records: a record modified since.
MODIFIED = "2026-02-01T00:00:00.000+0000"
DAILY_METRICS = Stream(
    name="daily_metrics", primary_key="row_key", cursor="Day", window_column="day",
    fields=(Field("row_key", "Key"), Field("day", "Day", "date"), Field("clicks", "Clicks", "int"),
            Field("campaign_name", "Name")),
)


@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server(port=55463) as url:
        yield url


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
