"""HubSpot v4 association reads lose no associated id: every record's pages are followed, every error is heard.

Everything runs for real: the sandbox over HTTP (one association page holds three ids), the connector, dlt into DuckDB.
"""

import json

import pytest

from connectors.errors import SourceError
from connectors.hubspot.streams import DEALS
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset
from tests.connectors.test_crm_acceptance import Warehouse, hubspot_client

PAGE_SIZE = 3  # list pages and association pages alike
#: Deal number -> how many contacts it is associated with: two deals of the first list page have more
#: than one association page (read again together), the second list page has none that does.
CONTACTS_OF_DEAL = {1: 7, 2: 4, 3: 0, 4: PAGE_SIZE, 5: 1}
MODIFIED = "2026-01-01T00:00:00.000Z"


def _deal(number: int) -> dict:
    record_id = str(7000 + number)
    properties = {"dealname": f"Deal {number}", "amount": "1000.50", "dealstage": "appointmentscheduled",
                  "pipeline": "default", "createdate": MODIFIED, "hs_lastmodifieddate": MODIFIED,
                  "hs_object_id": record_id}
    return {"id": record_id, "properties": properties, "createdAt": MODIFIED, "updatedAt": MODIFIED,
            "archived": False}


def _contact_ids(deal: int) -> list[str]:
    return [str(100 * deal + k) for k in range(CONTACTS_OF_DEAL[deal])]


def _associations() -> list[dict]:
    rows = [{"from_type": "deals", "from_id": str(7000 + deal), "to_type": "contacts", "to_id": contact,
             "type": "deal_to_contact"} for deal in CONTACTS_OF_DEAL for contact in _contact_ids(deal)]
    rows += [{"from_type": "deals", "from_id": str(7000 + deal), "to_type": "companies", "to_id": str(5000 + deal),
              "type": "deal_to_company"} for deal in CONTACTS_OF_DEAL if deal != 3]
    return rows


@pytest.fixture
def hubspot(tmp_path):
    folder = write_dataset(tmp_path / "dataset", {("hubspot", "deals"): [_deal(n) for n in CONTACTS_OF_DEAL],
                                                  ("hubspot", "associations"): _associations()})
    with running_sandbox(dataset=folder, extra_args=("--page-size", str(PAGE_SIZE))) as running:
        yield running


def test_a_deal_with_more_contacts_than_one_page_holds_is_loaded_with_all_of_them(hubspot, tmp_path):
    warehouse = Warehouse(tmp_path)
    client = hubspot_client(hubspot.url)
    warehouse.load("hubspot", [DEALS], client)
    loaded = warehouse.rows("select id, associated_contacts_ids, associated_companies_ids from raw_hubspot.deals "
                            "order by id")
    assert [(deal_id, json.loads(contacts), json.loads(companies)) for deal_id, contacts, companies in loaded] == [
        (str(7000 + deal), _contact_ids(deal), [] if deal == 3 else [str(5000 + deal)]) for deal in CONTACTS_OF_DEAL]
    # properties, two list pages, the archived sweep, a batch read per page and direction, and two more for the
    # contacts of deals 1 and 2 (deal 4 fills its one page exactly: nothing follows it)
    assert client.http.stats.requests == 1 + 2 + 1 + 2 * 2 + 2


def test_a_deals_primary_company_comes_first_whatever_its_id(tmp_path):
    """Staging takes a deal's company from the head of the list: it must be the one HubSpot labels Primary (the
    company the deal's page shows), not the lowest id. Deal 7001's primary company has the highest of its three
    ids; deal 7002 has no primary, so its companies stay in the order of their ids."""
    associations = [{"from_type": "deals", "from_id": "7001", "to_type": "companies", "to_id": company, "type": kind}
                    for company, kind in [("5001", "deal_to_company_unlabeled"), ("5003", "deal_to_company"),
                                          ("5002", "deal_to_company_unlabeled")]]
    associations += [{"from_type": "deals", "from_id": "7002", "to_type": "companies", "to_id": company,
                      "type": "deal_to_company_unlabeled"} for company in ("5005", "5004")]
    folder = write_dataset(tmp_path / "dataset", {("hubspot", "deals"): [_deal(1), _deal(2)],
                                                  ("hubspot", "associations"): associations})
    warehouse = Warehouse(tmp_path)
    with running_sandbox(dataset=folder, extra_args=("--page-size", str(PAGE_SIZE))) as sandbox:
        warehouse.load("hubspot", [DEALS], hubspot_client(sandbox.url))
    loaded = warehouse.rows("select id, associated_companies_ids from raw_hubspot.deals order by id")
    assert [(deal_id, json.loads(companies)) for deal_id, companies in loaded] == [
        ("7001", ["5003", "5001", "5002"]), ("7002", ["5004", "5005"])]


def test_a_batch_read_input_that_failed_stops_the_read_naming_the_record(hubspot):
    hubspot.inject(api="hubspot", kind="failed_input", path_contains="/crm/v4/associations/deals/contacts/")
    with pytest.raises(SourceError, match=r"deals -> contacts: 1 record\(s\) not read: 7001: INTERNAL_ERROR"):
        list(hubspot_client(hubspot.url).read_pages(DEALS))


def test_a_batch_read_that_is_not_complete_stops_the_read_naming_the_endpoint_and_status(hubspot):
    # Still PROCESSING, the batch answers for deal 7001 alone: 7002 and 7003 would pass for deals without contacts.
    hubspot.inject(api="hubspot", kind="incomplete_batch", path_contains="/crm/v4/associations/deals/contacts/")
    with pytest.raises(SourceError, match=r"associations deals -> contacts: batch read POST "
                                          r"/crm/v4/associations/deals/contacts/batch/read of 3 record\(s\) from "
                                          r"7001 answered status 'PROCESSING', not 'COMPLETE'"):
        list(hubspot_client(hubspot.url).read_pages(DEALS))


#: Batch reads the sandbox answers stuck on a page: far more than the read needs, far fewer than would take long.
STUCK_READS = 50


def _read_stuck_deals(hubspot, fault: str, error: str) -> int:
    """Read the deals with `fault` on their contacts' batch reads, expecting `error`; how many batch reads went out."""
    hubspot.inject(api="hubspot", kind=fault, path_contains="/crm/v4/associations/deals/contacts/", times=STUCK_READS)
    client = hubspot_client(hubspot.url)
    sent, request = [], client.http.session.request
    client.http.session.request = lambda method, url, **kwargs: sent.append(url) or request(method, url, **kwargs)
    with pytest.raises(SourceError, match=error):
        list(client.read_pages(DEALS))
    return sum(url.endswith("/deals/contacts/batch/read") for url in sent)


def test_paging_that_does_not_move_on_stops_the_read_naming_the_record(hubspot):
    # Every batch read of deals' contacts sends a record asked from an `after` on that same `after` again; the
    # first read (no `after` asked) is untouched, so deal 7001 is stuck from its second page on.
    reads = _read_stuck_deals(hubspot, "repeated_after", r"associations deals -> contacts of 7001: paging does not "
                                                         r"move on \(after '[^']+' again\)")
    # Stopped at the first repeat: the first read of the page's contacts, then the read that came back unmoved.
    assert reads == 2


def test_paging_that_goes_round_stops_the_read_naming_the_record(hubspot):
    # Deal 7001 (7 contacts, 3 a page) asked from its second page is sent back to its first page, whose next page
    # is the second again: the `after`s alternate, each differing from the one before.
    reads = _read_stuck_deals(hubspot, "cycled_after",
                              r"associations deals -> contacts of 7001: paging does not move on")
    # The first read, the second page sent back to the first, and the first page pointing at the second again.
    assert reads == 3
