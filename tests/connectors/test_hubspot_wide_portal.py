"""A HubSpot portal with so many contact properties that a list naming them all is longer than HubSpot's edge takes
(a 414): its contacts are listed by id and read whole by batch read, and nothing of them is lost.

Everything runs for real: the sandbox over HTTP, the connector, dlt into DuckDB.
"""

import logging
import math
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from connectors.errors import SourceError
from connectors.http import RetryPolicy
from connectors.hubspot.client import LIST_LIMIT
from connectors.hubspot.streams import CONTACTS
from pipelines.lib import raw_loader
from pipelines.lib.raw_loader import CHECKPOINT_SETTING
from sandbox.apis.hubspot import MAX_REQUEST_URI
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset
from tests.connectors.test_crm_acceptance import Warehouse, hubspot_client
from tests.support.hubspot import portal_session

#: Custom contact properties: with names this long, a list naming them all is about 17,000 characters.
CUSTOM_PROPERTIES = 460
LIVE, ARCHIVED = 230, 30  # contacts 1000-1229 live (three list pages), 1230-1259 archived (one)
COMPANIES = 3
MODIFIED = "2026-01-01T00:00:00.000Z"
#: An incremental read's cursor past every contact's modification: its search finds none, its archived sweep all.
SINCE = datetime(2026, 3, 1, tzinfo=UTC)
#: Contacts without associations: each page is then its list request and its batch read, and they can be counted.
BARE_CONTACTS = replace(CONTACTS, options={**CONTACTS.options, "associations": ()})
LIST_PAGES = 3 + 1


def _custom(i: int) -> str:
    return f"commonground_custom_property_{i:03d}"


def _contact(n: int) -> dict:
    """Contact `n` (id 1000 + n) with its custom properties: a few left unset, every tenth a number."""
    record_id = str(1000 + n)
    properties = {"email": f"person{n}@example.org", "firstname": f"P{n}", "lastname": "Doe", "lifecyclestage": "lead",
                  "hs_object_id": record_id, "createdate": "2025-01-01T00:00:00.000Z", "lastmodifieddate": MODIFIED}
    properties |= {_custom(i): str(n * i) if i % 10 == 0 else f"value {n}-{i}"
                   for i in range(CUSTOM_PROPERTIES) if (n + i) % 7}
    record = {"id": record_id, "properties": properties, "createdAt": "2025-01-01T00:00:00.000Z",
              "updatedAt": MODIFIED, "archived": n >= LIVE}
    if n >= LIVE:
        record["archivedAt"] = "2026-02-01T00:00:00.000Z"
    return record


def _company_of(n: int) -> str | None:
    return str(5000 + n % COMPANIES) if n % 4 else None


def _dataset() -> dict:
    contacts = [_contact(n) for n in range(LIVE + ARCHIVED)]
    companies = [{"id": str(5000 + k), "properties": {"name": f"Company {k}", "hs_object_id": str(5000 + k),
                                                       "createdate": MODIFIED, "hs_lastmodifieddate": MODIFIED},
                  "createdAt": MODIFIED, "updatedAt": MODIFIED, "archived": False} for k in range(COMPANIES)]
    associations = [{"from_type": "contacts", "from_id": str(1000 + n), "to_type": "companies",
                     "to_id": _company_of(n), "type": "contact_to_company"}
                    for n in range(LIVE + ARCHIVED) if _company_of(n)]
    return {("hubspot", "contacts"): contacts, ("hubspot", "companies"): companies,
            ("hubspot", "associations"): associations}


@pytest.fixture
def wide_portal(tmp_path):
    """A sandbox serving `LIVE` live and `ARCHIVED` archived contacts with `CUSTOM_PROPERTIES` properties beyond
    the declared ones."""
    folder = write_dataset(tmp_path / "dataset", _dataset())
    with running_sandbox(dataset=folder) as running:
        yield running


def _records(pages) -> dict[str, dict]:
    """The records of a read by id, each read once."""
    records = [record for page in pages for record in page]
    by_id = {record["id"]: record for record in records}
    assert len(by_id) == len(records)
    return by_id


def _assert_read_whole(read: dict[str, dict], numbers) -> None:
    """Every contact numbered in `numbers` was read, with every property it holds and its associations."""
    expected = {str(1000 + n): _contact(n) for n in numbers}
    assert read.keys() == expected.keys()
    for record_id, record in read.items():
        assert record["properties"] == expected[record_id]["properties"]
        assert (record["archived"], record.get("archivedAt")) == (expected[record_id]["archived"],
                                                                  expected[record_id].get("archivedAt"))
        company = _company_of(int(record_id) - 1000)
        assert record["_associations"] == {"companies": [company] if company else []}


def test_a_list_naming_every_property_of_the_portal_is_refused_by_hubspots_edge(wide_portal):
    stream = hubspot_client(wide_portal.url).discover(CONTACTS)
    names = [f.source.removeprefix("properties.") for f in stream.fields if f.source.startswith("properties.")]
    assert len(names) > CUSTOM_PROPERTIES
    response = portal_session(wide_portal.url).get(f"{wide_portal.url}/crm/v3/objects/contacts", timeout=30, params={
        "limit": LIST_LIMIT, "properties": ",".join(names), "archived": "false"})
    assert len(response.request.path_url) > MAX_REQUEST_URI
    assert response.status_code == 414  # what every first read and archived sweep met before the batch reads


def test_a_first_read_gives_every_live_and_archived_contact_with_every_property(wide_portal):
    client = hubspot_client(wide_portal.url)
    read = _records(client.read_pages(client.discover(CONTACTS)))
    _assert_read_whole(read, range(LIVE + ARCHIVED))


def test_an_incremental_reads_archived_sweep_gives_every_archived_contact_with_every_property(wide_portal):
    client = hubspot_client(wide_portal.url)
    stream = client.discover(CONTACTS)
    read = _records(client.read_pages(stream, since=SINCE))
    _assert_read_whole(read, range(LIVE, LIVE + ARCHIVED))


def test_a_wide_portal_takes_one_batch_read_a_page_and_a_narrow_one_none(wide_portal):
    narrow = hubspot_client(wide_portal.url)
    assert len(_records(narrow.read_pages(BARE_CONTACTS))) == LIVE + ARCHIVED  # the declared properties fit
    assert narrow.http.stats.requests == LIST_PAGES  # the list pages alone, as ever

    wide = hubspot_client(wide_portal.url)
    stream = wide.discover(BARE_CONTACTS)
    before = wide.http.stats.requests
    assert len(_records(wide.read_pages(stream))) == LIVE + ARCHIVED
    assert wide.http.stats.requests - before == 2 * LIST_PAGES


def test_properties_too_many_for_one_batch_read_are_read_in_parts_and_merged(wide_portal):
    client = hubspot_client(wide_portal.url, batch_read_properties=200)
    stream = client.discover(CONTACTS)
    parts = math.ceil(sum(f.source.startswith("properties.") for f in stream.fields) / 200)
    assert parts > 1
    bare = replace(stream, options=BARE_CONTACTS.options)
    before = client.http.stats.requests
    read = _records(client.read_pages(bare))
    assert client.http.stats.requests - before == LIST_PAGES * (1 + parts)
    expected = {str(1000 + n): _contact(n)["properties"] for n in range(LIVE + ARCHIVED)}
    assert {record_id: record["properties"] for record_id, record in read.items()} == expected


def test_a_contact_gone_between_its_listing_and_its_batch_read_is_left_out_with_a_warning(wide_portal, caplog,
                                                                                          monkeypatch):
    """Contacts 1150 and 1160 are on the second live page: once it is listed, and before the batch read of its records
    asks for them, 1150 is deleted for good and 1160 archived."""
    client = hubspot_client(wide_portal.url)
    read_listed = client._read_listed

    def gone_after_the_second_listing(url, listed, stream, archived):
        if "1150" in {str(record["id"]) for record in listed}:
            wide_portal.hard_delete_hubspot("contacts", ["1150"])
            wide_portal.upsert("hubspot", "contacts",
                               [{**_contact(160), "archived": True, "archivedAt": "2026-03-01T00:00:00.000Z"}])
        return read_listed(url, listed, stream, archived)

    monkeypatch.setattr(client, "_read_listed", gone_after_the_second_listing)
    with caplog.at_level(logging.WARNING, logger="connectors.hubspot"):
        read = _records(client.read_pages(client.discover(CONTACTS)))
    assert len(read) == LIVE + ARCHIVED - 1 and "1150" not in read
    assert read["1160"]["archived"] is True  # not loaded half-empty from the live page: whole, by the archived sweep
    assert read["1160"]["properties"] == _contact(160)["properties"]
    [warning] = [record.getMessage() for record in caplog.records if record.name == "connectors.hubspot"]
    assert "contacts (live)" in warning and "2 record(s)" in warning and "1150, 1160" in warning


def test_a_batch_read_error_other_than_not_found_fails_the_read(wide_portal):
    wide_portal.inject(api="hubspot", kind="failed_input", path_contains="/crm/v3/objects/contacts/batch/read")
    client = hubspot_client(wide_portal.url)
    with pytest.raises(SourceError, match="INTERNAL_ERROR"):
        list(client.read_pages(client.discover(CONTACTS)))


def _die_after_the_first_page(wide_portal, tmp_path, monkeypatch) -> Warehouse:
    """A first read of the contacts that dies at the third live page, its first page committed: the warehouse."""
    monkeypatch.setattr(raw_loader, "BATCH_ROWS", LIST_LIMIT)  # a batch a page: a checkpoint may fall before each
    monkeypatch.setenv(CHECKPOINT_SETTING, "0")
    warehouse = Warehouse(tmp_path)
    # the batch read of the third live page fails for good: the first page is committed at the checkpoint before the
    # second, which is lost with the run
    wide_portal.inject(api="hubspot", kind="server_error", path_contains="/crm/v3/objects/contacts/batch/read",
                       skip=2, times=1000)
    with pytest.raises(Exception, match="still failing"):
        warehouse.load("hubspot", [CONTACTS], hubspot_client(wide_portal.url, policy=RetryPolicy(max_attempts=1)))
    assert warehouse.rows("select min(id), max(id), count(*) from raw_hubspot.contacts") == [("1000", "1099",
                                                                                                LIST_LIMIT)]
    wide_portal.clear_faults()
    return warehouse


def test_a_batch_read_error_on_a_resumed_reads_first_page_fails_the_read_without_starting_over(
        wide_portal, tmp_path, monkeypatch, caplog):
    """HubSpot took the resumed listing; only the batch read of its records failed. That is not a refused resume:
    the read fails as any read would, and the next run resumes where the dead one left off."""
    warehouse = _die_after_the_first_page(wide_portal, tmp_path, monkeypatch)
    wide_portal.inject(api="hubspot", kind="failed_input", path_contains="/crm/v3/objects/contacts/batch/read")
    with caplog.at_level(logging.WARNING, logger="connectors.hubspot"), pytest.raises(Exception,
                                                                                       match="INTERNAL_ERROR"):
        warehouse.load("hubspot", [CONTACTS], hubspot_client(wide_portal.url))
    assert not [record for record in caplog.records if "starts over" in record.getMessage()]
    wide_portal.clear_faults()
    resumed = warehouse.load("hubspot", [CONTACTS], hubspot_client(wide_portal.url))["contacts"]
    assert resumed.rows == LIVE + ARCHIVED - LIST_LIMIT


def test_a_first_read_that_dies_resumes_from_its_last_checkpoint_and_loads_every_contact_whole(wide_portal, tmp_path,
                                                                                                 monkeypatch):
    warehouse = _die_after_the_first_page(wide_portal, tmp_path, monkeypatch)
    resumed = warehouse.load("hubspot", [CONTACTS], hubspot_client(wide_portal.url))["contacts"]
    assert resumed.rows == LIVE + ARCHIVED - LIST_LIMIT  # from the second page on, where the dead run left off
    assert warehouse.rows("select count(*), count(distinct id), count(*) filter (where archived) "
                          "from raw_hubspot.contacts") == [(LIVE + ARCHIVED, LIVE + ARCHIVED, ARCHIVED)]
    column = _custom(1)
    assert warehouse.rows(f"select {column} from raw_hubspot.contacts where id = '1003'") == [("value 3-1",)]
    assert warehouse.rows(f"select count(*) from raw_hubspot.contacts where {column} is null") == [
        (sum(1 for n in range(LIVE + ARCHIVED) if (n + 1) % 7 == 0),)]
