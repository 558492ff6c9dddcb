"""HubSpot reads that stop early or meet records modified mid-read lose none of them, through the sandbox and dlt."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from connectors.hubspot.streams import CONTACTS
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset
from tests.connectors.test_crm_acceptance import Warehouse, after_first_page, hubspot_client, hubspot_contact

CLOCK = datetime(2026, 6, 1, tzinfo=UTC)  # the sandbox's "now": every planted record is older
PAGE_SIZE = 100
CONTACT_COUNT = 1000
#: Contacts without associations: each page is then one request, and the requests can be counted.
BARE_CONTACTS = replace(CONTACTS, options={**CONTACTS.options, "associations": ()})


def _stamp(second: int) -> str:
    return f"2026-01-01T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000Z"


def _after_clock(minutes: int) -> str:
    return f"2026-06-01T00:{minutes:02d}:00.000Z"


@pytest.fixture
def hubspot(tmp_path):
    """A sandbox serving contacts 1000-1999 in pages of 100, the higher the id the older the record."""
    contacts = [hubspot_contact(n, _stamp(CONTACT_COUNT - n)) for n in range(CONTACT_COUNT)]
    folder = write_dataset(tmp_path / "dataset", {("hubspot", "contacts"): contacts})
    (folder / "clock.txt").write_text(CLOCK.isoformat() + "\n")
    with running_sandbox(dataset=folder, extra_args=("--page-size", str(PAGE_SIZE))) as running:
        yield running


@pytest.fixture
def warehouse(tmp_path):
    return Warehouse(tmp_path)


def _load(warehouse, client, read_pages=None):
    """One night's load of the contacts."""
    return warehouse.load("hubspot", [CONTACTS], client, read_pages)["contacts"]


def _modified_after_first_page(read_pages, hubspot, changes):
    """A page reader that has the sandbox change `changes` once the loader took the first page."""
    return after_first_page(read_pages, lambda _page: hubspot.upsert("hubspot", "contacts", changes))


def test_a_first_read_stopped_by_the_daily_quota_keeps_no_cursor_and_the_next_read_gets_every_record(hubspot,
                                                                                                     warehouse):
    hubspot.inject(api="hubspot", kind="daily_limit", path_contains="/crm/v3/objects/contacts", skip=1)
    stopped = _load(warehouse, hubspot_client(hubspot.url))
    assert "429 DAILY" in stopped.stopped_early
    assert stopped.rows == PAGE_SIZE  # the newest records, listed first by id: their stamps pass every other one
    assert stopped.cursor_after is None
    hubspot.clear_faults()
    _load(warehouse, hubspot_client(hubspot.url))
    assert warehouse.rows("select count(*), count(distinct id) from raw_hubspot.contacts") == [
        (CONTACT_COUNT, CONTACT_COUNT)]


def test_a_record_modified_during_a_first_read_is_read_again_by_the_next(hubspot, warehouse):
    # Listed first (by id), then modified; the last record listed is modified later still.
    early = hubspot_contact(0, _after_clock(1))
    early["properties"]["lastname"] = "Changed"
    late = hubspot_contact(CONTACT_COUNT - 1, _after_clock(20))
    client = hubspot_client(hubspot.url)
    read = _modified_after_first_page(client.read_pages, hubspot, [early, late])
    first = _load(warehouse, client, read)
    assert first.rows == CONTACT_COUNT
    assert datetime.fromisoformat(first.cursor_after) <= CLOCK  # the read began at the sandbox's clock

    second = _load(warehouse, hubspot_client(hubspot.url))
    assert second.rows < CONTACT_COUNT  # incremental
    assert warehouse.rows("select lastname from raw_hubspot.contacts where id = '1000'") == [("Changed",)]


def test_a_record_modified_during_a_search_makes_it_skip_no_other_record(hubspot):
    client = hubspot_client(hubspot.url)
    pages = client.read_pages(BARE_CONTACTS, datetime(2025, 12, 31, tzinfo=UTC))
    ids = [record["id"] for record in next(pages)]
    moved = ids[5]  # read on the first page, and moved to the end of the results
    hubspot.upsert("hubspot", "contacts", [hubspot_contact(int(moved) - 1000, _after_clock(5))])
    ids += [record["id"] for page in pages for record in page]
    assert set(ids) == {str(1000 + n) for n in range(CONTACT_COUNT)}
    assert ids.count(moved) == 2  # read again at its new place, after every other record


def test_a_search_is_read_ahead_without_a_wasted_request(hubspot):
    client = hubspot_client(hubspot.url)
    pages = list(client.read_pages(BARE_CONTACTS, datetime(2025, 12, 31, tzinfo=UTC)))
    assert sum(map(len, pages)) > CONTACT_COUNT  # each page after the first starts at the newest stamp read
    assert len({record["id"] for page in pages for record in page}) == CONTACT_COUNT
    assert client.http.stats.requests == len(pages)  # every guessed page was the one asked for next
