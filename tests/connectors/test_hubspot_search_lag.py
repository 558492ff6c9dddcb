"""HubSpot's search index can lag recent writes; the contacts stream's lookback re-reads enough before its cursor that a
record the index missed one night is read the next.

Record A is modified at 10:00:00 but not yet indexed when the night runs; record B, modified at 10:00:30, is. The
night reads B and its cursor becomes 10:00:30, so the next night must search from before that to find A. The same
nights without the lookback miss A for good: the sandbox's lag, not some other overlap, is what the test exercises.
"""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from connectors.hubspot.streams import CONTACTS
from pipelines.lib.raw_loader import load_streams
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset
from tests.connectors.test_crm_acceptance import Warehouse, hubspot_client, hubspot_contact

CLOCK = datetime(2026, 6, 1, tzinfo=UTC)  # the sandbox's "now": every record is older
#: Contacts of the first night, days apart, so that a lookback of minutes re-reads none of the older ones.
FIRST_NIGHT = [hubspot_contact(n, f"2026-01-{n + 1:02d}T00:00:00.000Z") for n in range(5)]
LAGGING = hubspot_contact(10, "2026-03-01T10:00:00.000Z")  # A: modified, not yet in the search index
INDEXED = hubspot_contact(11, "2026-03-01T10:00:30.000Z")  # B: modified 30 s later, already indexed


@pytest.fixture
def hubspot(tmp_path):
    """A sandbox of its own per test: the nights change its records."""
    folder = write_dataset(tmp_path / "dataset", {("hubspot", "contacts"): FIRST_NIGHT})
    (folder / "clock.txt").write_text(CLOCK.isoformat() + "\n")
    with running_sandbox(dataset=folder) as running:
        yield running


def _night(warehouse: Warehouse, url: str, stream):
    """One night's load of the contacts `stream`, by a client of its own."""
    warehouse.runs += 1
    client = hubspot_client(url)
    return load_streams("hubspot", [stream], client.read_pages, str(warehouse.path), warehouse.dlt,
                        f"run-{warehouse.runs}", discover=client.discover)[stream.name]


def _loaded_ids(warehouse: Warehouse) -> set[str]:
    return {record_id for (record_id,) in warehouse.rows("select id from raw_hubspot.contacts")}


@pytest.mark.parametrize(("lookback_seconds", "lagging_read"), [(CONTACTS.lookback_seconds, True), (0, False)])
def test_a_record_the_search_index_missed_is_read_the_next_night_thanks_to_the_lookback(hubspot, tmp_path,
                                                                                        lookback_seconds, lagging_read):
    stream = replace(CONTACTS, lookback_seconds=lookback_seconds)
    warehouse = Warehouse(tmp_path)
    first = _night(warehouse, hubspot.url, stream)
    assert (first.rows, first.cursor_after) == (len(FIRST_NIGHT), "2026-01-05T00:00:00+00:00")

    hubspot.upsert("hubspot", "contacts", [LAGGING, INDEXED])
    hubspot.hide_hubspot_from_search("contacts", [LAGGING["id"]])
    lagged = _night(warehouse, hubspot.url, stream)
    assert lagged.inserted == 1
    assert INDEXED["id"] in _loaded_ids(warehouse) and LAGGING["id"] not in _loaded_ids(warehouse)
    assert lagged.cursor_after == "2026-03-01T10:00:30+00:00"  # past A, which the night never saw

    hubspot.release_hubspot_search()
    caught_up = _night(warehouse, hubspot.url, stream)
    assert (LAGGING["id"] in _loaded_ids(warehouse)) is lagging_read
    assert caught_up.inserted == (1 if lagging_read else 0)  # B is read again either way (search is from >= cursor)
