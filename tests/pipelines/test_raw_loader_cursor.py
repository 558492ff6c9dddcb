"""The cursor a load commits: never past a record the read did not hand over, whatever order the source reads in."""

from datetime import UTC, datetime

import duckdb
import pytest

from connectors.errors import SourceLimitReached
from connectors.loader_state import loader_state
from connectors.salesforce.streams import ACCOUNT
from connectors.schema import Field, Stream
from pipelines.lib.raw_loader import load_streams
from tests.conftest import salesforce_account

QUOTA = "daily API request limit exceeded"
#: A stream read in no cursor order, like HubSpot's: records keyed by id, stamped by `Modified`.
UNORDERED = Stream(name="things", primary_key="id", cursor="Modified",
                   fields=(Field("id", "Id"), Field("name", "Name"), Field("modified", "Modified", "timestamp")))


@pytest.fixture
def warehouse(tmp_path):
    return tmp_path / "warehouse.duckdb", tmp_path / "dlt"


def _load(warehouse, stream, read_pages, run_id="run-1"):
    path, pipelines_dir = warehouse
    return load_streams("test", [stream], read_pages, str(path), pipelines_dir, run_id)[stream.name]


def _query(warehouse, sql):
    with duckdb.connect(str(warehouse[0]), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _pages_then_stop(*pages):
    """A reader that hands over `pages`, then stops as a spent quota does."""

    def read_pages(_stream, _since):
        yield from pages
        raise SourceLimitReached(QUOTA)

    return read_pages


def _thing(number: int, modified: str, name: str = "") -> dict:
    return {"Id": f"t{number}", "Name": name or f"thing {number}", "Modified": modified}


def test_a_read_in_cursor_order_stopped_early_commits_the_last_row_read_not_the_newest(warehouse):
    stamp = "2026-01-01T00:00:0{}.000+0000".format
    modified_mid_read = salesforce_account(4, SystemModstamp="2026-01-01T09:00:00.000+0000")
    first = [salesforce_account(n, SystemModstamp=stamp(n)) for n in range(3)]
    second = [salesforce_account(3, SystemModstamp=stamp(3)), modified_mid_read,
              salesforce_account(5, SystemModstamp=stamp(5))]
    assert ACCOUNT.cursor_ordered
    result = _load(warehouse, ACCOUNT, _pages_then_stop(first, second))
    assert QUOTA in result.stopped_early and result.rows == 6
    # Records 6 and on, stamped before 09:00 and not read yet, are still ahead of the cursor.
    assert datetime.fromisoformat(result.cursor_after) == datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)


def test_a_read_in_no_cursor_order_stopped_early_keeps_its_cursor_and_merges_what_it_read(warehouse, caplog):
    whole = _load(warehouse, UNORDERED, lambda _stream, _since: iter([[_thing(1, "2026-01-01T00:00:00Z")]]))
    newest_first = [_thing(3, "2026-01-03T00:00:00Z"), _thing(2, "2026-01-02T00:00:00Z", name="renamed")]
    stopped = _load(warehouse, UNORDERED, _pages_then_stop(newest_first), run_id="run-2")
    assert QUOTA in stopped.stopped_early
    assert stopped.cursor_after == stopped.cursor_before == whole.cursor_after
    assert "do not come in cursor order" in caplog.text
    assert _query(warehouse, "select id, name from raw_test.things order by id") == [
        ("t1", "thing 1"), ("t2", "renamed"), ("t3", "thing 3")]


def test_a_read_that_left_a_ceiling_commits_no_cursor_past_it_and_the_ceiling_is_not_kept(warehouse):
    began = "2026-01-02T00:00:00+00:00"

    def read_pages(_stream, _since):
        loader_state()[Stream.CURSOR_CEILING_KEY] = began
        return iter([[_thing(1, "2026-01-01T00:00:00Z"), _thing(2, "2026-01-05T00:00:00Z")]])

    capped = _load(warehouse, UNORDERED, read_pages)
    assert capped.cursor_after == began
    uncapped = _load(warehouse, UNORDERED, lambda _stream, _since: iter([[_thing(3, "2026-01-06T00:00:00Z")]]),
                     run_id="run-2")
    assert datetime.fromisoformat(uncapped.cursor_after) == datetime(2026, 1, 6, tzinfo=UTC)


@pytest.mark.parametrize("order", ["older first", "newer first"])
def test_a_key_read_twice_in_one_load_keeps_its_newest_version(warehouse, order):
    older, newer = _thing(1, "2026-01-01T00:00:00Z", name="before"), _thing(1, "2026-01-02T00:00:00Z", name="after")
    pages = [[older], [_thing(2, "2026-01-01T12:00:00Z")], [newer]]
    if order == "newer first":
        pages.reverse()
    result = _load(warehouse, UNORDERED, lambda _stream, _since: iter(pages))
    assert result.rows == 3
    assert _query(warehouse, "select id, name from raw_test.things order by id") == [("t1", "after"), ("t2", "thing 2")]
