"""The HubSpot emulator's GDPR delete (``POST /_sandbox/hubspot/hard-delete``): the records it names, live or archived,
vanish from the list (``archived`` or not), reads by id, search and the v4 associations, and from the sandbox's record
counts, even where a view or a search of them was built before; a request naming an unknown object or id, or a body of
another shape, removes nothing and is refused with a 400 naming what was wrong."""

import pytest
import requests

from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset
from tests.support.hubspot import portal_session

CONTROL = "/_sandbox/hubspot/hard-delete"
CONTACTS = 12
ARCHIVED = {10, 11}
STAMP = "2026-01-01T00:00:00.000Z"


def _contact_id(number: int) -> str:
    return str(1000 + number)


def _contact(number: int) -> dict:
    record_id = _contact_id(number)
    record = {"id": record_id, "createdAt": STAMP, "updatedAt": STAMP, "archived": number in ARCHIVED,
              "properties": {"email": f"person{number}@example.org", "hs_object_id": record_id,
                             "createdate": STAMP, "lastmodifieddate": f"2026-01-01T00:00:{number:02d}.000Z"}}
    return {**record, "archivedAt": STAMP} if number in ARCHIVED else record


def _associations() -> list[dict]:
    rows = [{"from_type": "contacts", "from_id": _contact_id(n), "to_type": "companies", "to_id": "5001",
             "type": "contact_to_company"} for n in range(CONTACTS)]
    return rows + [{"from_type": "deals", "from_id": "7001", "to_type": "contacts", "to_id": _contact_id(n),
                    "type": "deal_to_contact"} for n in (1, 2)]


@pytest.fixture
def hubspot(tmp_path):
    """A sandbox of its own per test: a GDPR delete cannot be undone."""
    company = {"id": "5001", "createdAt": STAMP, "updatedAt": STAMP, "archived": False,
               "properties": {"name": "Acme", "hs_object_id": "5001", "createdate": STAMP,
                              "hs_lastmodifieddate": STAMP}}
    deal = {"id": "7001", "createdAt": STAMP, "updatedAt": STAMP, "archived": False,
            "properties": {"dealname": "Big", "hs_object_id": "7001", "createdate": STAMP,
                           "hs_lastmodifieddate": STAMP}}
    objects = {("hubspot", "contacts"): [_contact(n) for n in range(CONTACTS)],
               ("hubspot", "companies"): [company], ("hubspot", "deals"): [deal],
               ("hubspot", "associations"): _associations()}
    with running_sandbox(dataset=write_dataset(tmp_path, objects)) as running:
        yield running


class _Portal:
    """Plain REST calls to the sandbox's HubSpot, as the real API is called."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = portal_session(url)

    def listed(self, archived: bool) -> set[str]:
        """Every contact id the list endpoint answers, its pages followed."""
        ids, after = set(), None
        while True:
            params = {"limit": 5, "archived": str(archived).lower(), **({"after": after} if after else {})}
            body = self.session.get(f"{self.url}/crm/v3/objects/contacts", params=params, timeout=10).json()
            ids |= {record["id"] for record in body["results"]}
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return ids

    def searched(self) -> set[str]:
        body = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE",
                                               "value": "0"}]}], "limit": 100, "after": "0"}
        answer = self.session.post(f"{self.url}/crm/v3/objects/contacts/search", json=body, timeout=10).json()
        return {record["id"] for record in answer["results"]}

    def read_status(self, record_id: str, archived: bool = False) -> int:
        return self.session.get(f"{self.url}/crm/v3/objects/contacts/{record_id}",
                                params={"archived": str(archived).lower()}, timeout=10).status_code

    def associated(self, from_type: str, record_id: str, to_type: str) -> set[str]:
        answer = self.session.post(f"{self.url}/crm/v4/associations/{from_type}/{to_type}/batch/read",
                                   json={"inputs": [{"id": record_id}]}, timeout=10).json()
        return {str(target["toObjectId"]) for result in answer["results"] for target in result["to"]}


def test_deleted_records_vanish_from_lists_reads_search_associations_and_the_stats(hubspot):
    portal = _Portal(hubspot.url)
    live, archived = _contact_id(2), _contact_id(10)
    everyone = {_contact_id(n) for n in range(CONTACTS)}
    # Views and a cached search built before the delete must not keep the records.
    assert portal.listed(archived=False) == everyone - {_contact_id(n) for n in ARCHIVED}
    assert live in portal.searched() and live in portal.associated("companies", "5001", "contacts")

    answer = hubspot.hard_delete_hubspot("contacts", [live, archived, live])

    assert answer == {"object": "contacts", "removed": [live, archived]}
    assert portal.listed(archived=False) == everyone - {_contact_id(n) for n in ARCHIVED} - {live}
    assert portal.listed(archived=True) == {_contact_id(11)}
    assert live not in portal.searched() and len(portal.searched()) == CONTACTS - len(ARCHIVED) - 1
    assert portal.read_status(live) == 404 and portal.read_status(archived, archived=True) == 404
    assert portal.associated("companies", "5001", "contacts") == everyone - {live, archived}
    assert portal.associated("deals", "7001", "contacts") == {_contact_id(1)}
    assert hubspot.stats()["records"]["hubspot/contacts"] == CONTACTS - 2


@pytest.mark.parametrize(("body", "named"), [
    (b"{not json", "not JSON"),
    ({"object": "contacts"}, "must be a JSON object such as"),
    ({"object": "contacts", "ids": ["1001"], "cascade": True}, "must be a JSON object such as"),
    ({"object": "tickets", "ids": ["1001"]}, "'tickets' is no CRM object of the portal"),
    ({"object": "contacts", "ids": []}, "must be a non-empty list of record ids"),
    ({"object": "contacts", "ids": [1001]}, "must be a non-empty list of record ids"),
    ({"object": "contacts", "ids": ["1001", "999"]}, "contacts holds no record with the id(s) 999"),
])
def test_a_bad_request_is_refused_naming_what_was_wrong_and_removes_nothing(hubspot, body, named):
    sent = {"data": body} if isinstance(body, bytes) else {"json": body}
    answer = requests.post(f"{hubspot.url}{CONTROL}", timeout=10, **sent)
    assert answer.status_code == 400
    assert named in answer.json()["error"]
    assert hubspot.stats()["records"]["hubspot/contacts"] == CONTACTS
    assert _contact_id(1) in _Portal(hubspot.url).listed(archived=False)
