"""The HubSpot emulator's search-index lag (``/_sandbox/hubspot/search-lag``): the records it hides leave search's
results and its ``total``, even where that search was run before, while the list, reads by id and the v4 batch read
still show them; a ``DELETE`` has search find them again; a request naming an unknown object or id, or a body of
another shape, hides nothing and is refused with a 400 naming what was wrong."""

import pytest
import requests

from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset
from tests.support.hubspot import portal_session

CONTROL = "/_sandbox/hubspot/search-lag"
CONTACTS = 8
STAMP = "2026-01-01T00:00:00.000Z"


def _contact_id(number: int) -> str:
    return str(1000 + number)


def _contact(number: int) -> dict:
    record_id = _contact_id(number)
    return {"id": record_id, "createdAt": STAMP, "updatedAt": STAMP, "archived": False,
            "properties": {"email": f"person{number}@example.org", "hs_object_id": record_id, "createdate": STAMP,
                           "lastmodifieddate": f"2026-01-01T00:00:{number:02d}.000Z"}}


EVERYONE = {_contact_id(n) for n in range(CONTACTS)}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    company = {"id": "5001", "createdAt": STAMP, "updatedAt": STAMP, "archived": False,
               "properties": {"name": "Acme", "hs_object_id": "5001", "createdate": STAMP,
                              "hs_lastmodifieddate": STAMP}}
    links = [{"from_type": "contacts", "from_id": _contact_id(n), "to_type": "companies", "to_id": "5001",
              "type": "contact_to_company"} for n in range(CONTACTS)]
    objects = {("hubspot", "contacts"): [_contact(n) for n in range(CONTACTS)], ("hubspot", "companies"): [company],
               ("hubspot", "associations"): links}
    # Bare searches in quick succession: search's rate limit is off here (tests/sandbox/test_hubspot_throttling.py).
    with running_sandbox(dataset=write_dataset(tmp_path_factory.mktemp("search-lag"), objects),
                         hubspot_search_per_second=0) as running:
        yield running


@pytest.fixture
def hubspot(sandbox):
    """The module's sandbox, with every record searchable again after each test."""
    yield sandbox
    sandbox.release_hubspot_search()


class _Portal:
    """Plain REST calls to the sandbox's HubSpot, as the real API is called."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = portal_session(url)

    def searched(self) -> tuple[set[str], int]:
        """The contact ids search answers (pages of 3, followed) and the ``total`` it reports."""
        ids, after, totals = set(), "0", set()
        while after is not None:
            body = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE",
                                                   "value": "0"}]}],
                    "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}], "limit": 3,
                    "after": after}
            answer = self.session.post(f"{self.url}/crm/v3/objects/contacts/search", json=body, timeout=10).json()
            ids |= {record["id"] for record in answer["results"]}
            totals.add(answer["total"])
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
        assert len(totals) == 1, f"the pages of one search report different totals: {totals}"
        return ids, totals.pop()

    def listed(self) -> set[str]:
        body = self.session.get(f"{self.url}/crm/v3/objects/contacts", params={"limit": 100}, timeout=10).json()
        return {record["id"] for record in body["results"]}

    def read_status(self, record_id: str) -> int:
        return self.session.get(f"{self.url}/crm/v3/objects/contacts/{record_id}", timeout=10).status_code

    def associated(self) -> set[str]:
        """The contacts the v4 batch read links company 5001 to."""
        answer = self.session.post(f"{self.url}/crm/v4/associations/companies/contacts/batch/read",
                                   json={"inputs": [{"id": "5001"}]}, timeout=10).json()
        return {str(target["toObjectId"]) for result in answer["results"] for target in result["to"]}


def test_hidden_records_leave_search_and_its_total_but_not_the_list_reads_or_batch_reads(hubspot):
    portal = _Portal(hubspot.url)
    lagging = {_contact_id(2), _contact_id(5)}
    assert portal.searched() == (EVERYONE, CONTACTS)  # the search is run (and kept) before the hide

    answer = hubspot.hide_hubspot_from_search("contacts", [_contact_id(5), _contact_id(2), _contact_id(5)])

    assert answer == {"object": "contacts", "hidden": sorted(lagging)}
    assert portal.searched() == (EVERYONE - lagging, CONTACTS - len(lagging))
    assert portal.listed() == EVERYONE
    assert all(portal.read_status(record_id) == 200 for record_id in lagging)
    assert portal.associated() == EVERYONE


def test_hides_add_up_and_a_release_has_search_find_every_record_again(hubspot):
    portal = _Portal(hubspot.url)
    hubspot.hide_hubspot_from_search("contacts", [_contact_id(1)])
    assert hubspot.hide_hubspot_from_search("contacts", [_contact_id(3)])["hidden"] == [_contact_id(1), _contact_id(3)]
    assert portal.searched() == (EVERYONE - {_contact_id(1), _contact_id(3)}, CONTACTS - 2)

    assert hubspot.release_hubspot_search() == {"released": {"contacts": [_contact_id(1), _contact_id(3)]}}

    assert portal.searched() == (EVERYONE, CONTACTS)
    assert hubspot.release_hubspot_search() == {"released": {}}


@pytest.mark.parametrize(("body", "named"), [
    (b"{not json", "not JSON"),
    ({"object": "contacts"}, "must be a JSON object such as"),
    ({"object": "contacts", "ids": ["1001"], "minutes": 5}, "must be a JSON object such as"),
    ({"object": "tickets", "ids": ["1001"]}, "'tickets' is no CRM object of the portal"),
    ({"object": "contacts", "ids": []}, "records to hide from search must be a non-empty list of record ids"),
    ({"object": "contacts", "ids": [1001]}, "records to hide from search must be a non-empty list of record ids"),
    ({"object": "contacts", "ids": ["1001", "999"]}, "contacts holds no record with the id(s) 999: nothing was hidden"),
])
def test_a_bad_request_is_refused_naming_what_was_wrong_and_hides_nothing(hubspot, body, named):
    sent = {"data": body} if isinstance(body, bytes) else {"json": body}
    answer = requests.post(f"{hubspot.url}{CONTROL}", timeout=10, **sent)
    assert answer.status_code == 400
    assert named in answer.json()["error"]
    assert _Portal(hubspot.url).searched() == (EVERYONE, CONTACTS)
