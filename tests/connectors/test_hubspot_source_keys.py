"""`HubSpotClient.source_keys`: the id of every CRM record HubSpot still holds, live then archived, page by page through
the list endpoint (never search, which stops at 10,000), so the loader can find the warehouse rows GDPR-deleted or
merged away at the source. Everything runs for real against the sandbox over HTTP."""

import pytest

from connectors.errors import SourceError, SourceLimitReached
from connectors.hubspot.client import KEY_PROPERTY
from connectors.hubspot.streams import CONTACTS, EMAIL_EVENTS
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset
from tests.connectors.test_crm_acceptance import hubspot_client, hubspot_contact

LIVE = 250
ARCHIVED = 30
STAMP = "2026-01-01T00:00:00.000Z"


def _contact(number: int) -> dict:
    record = hubspot_contact(number, STAMP)
    return {**record, "archived": True, "archivedAt": STAMP} if number >= LIVE else record


def _contact_id(number: int) -> str:
    return hubspot_contact(number, STAMP)["id"]


@pytest.fixture
def hubspot(tmp_path):
    """A sandbox of its own per test (deletes and faults change it for good): 250 live contacts, 30 archived."""
    contacts = [_contact(n) for n in range(LIVE + ARCHIVED)]
    with running_sandbox(dataset=write_dataset(tmp_path, {("hubspot", "contacts"): contacts})) as running:
        yield running


def _recording(client) -> list[tuple[str, str, dict]]:
    """The requests `client` sends from now on, as (method, path, query parameters)."""
    sent = []
    session = client.http.session
    send = session.request

    def request(method, url, **kwargs):
        sent.append((method, url.split("//", 1)[1].split("/", 1)[1], dict(kwargs.get("params") or {})))
        return send(method, url, **kwargs)

    session.request = request
    return sent


def test_the_keys_are_every_live_then_archived_id_in_pages_of_the_list_endpoint(hubspot):
    client = hubspot_client(hubspot.url)
    sent = _recording(client)

    pages = list(client.source_keys(CONTACTS))

    assert [len(page) for page in pages] == [100, 100, 50, 30]
    assert all(type(key) is str for page in pages for key in page)
    assert [key for page in pages[:3] for key in page] == [_contact_id(n) for n in range(LIVE)]
    assert pages[3] == [_contact_id(n) for n in range(LIVE, LIVE + ARCHIVED)]
    listed = [(path, params) for method, path, params in sent if method == "GET"]
    assert [path for path, _ in listed] == ["crm/v3/objects/contacts"] * 4
    assert [params["archived"] for _, params in listed] == ["false"] * 3 + ["true"]
    assert all(params["limit"] == 100 and params["properties"] == KEY_PROPERTY and "associations" not in params
               for _, params in listed)
    assert not any("/search" in path or "associations" in path for _, path, _ in sent)


def test_gdpr_deleted_records_are_missing_from_the_keys_and_archived_ones_are_not(hubspot):
    gone = [_contact_id(n) for n in (0, 120, LIVE + 3)]  # an archived one among them
    hubspot.hard_delete_hubspot("contacts", gone)

    keys = {key for page in hubspot_client(hubspot.url).source_keys(CONTACTS) for key in page}

    assert keys == {_contact_id(n) for n in range(LIVE + ARCHIVED)} - set(gone)


def test_the_daily_limit_ends_the_listing_as_a_limit_of_the_whole_source(hubspot):
    hubspot.inject(api="hubspot", kind="daily_limit", path_contains="/crm/v3/objects/contacts", skip=2)
    pages = hubspot_client(hubspot.url).source_keys(CONTACTS)
    assert [len(next(pages)), len(next(pages))] == [100, 100]
    with pytest.raises(SourceLimitReached, match="429 DAILY") as raised:
        next(pages)
    assert raised.value.source_wide


def test_a_record_listed_without_an_id_fails_the_listing_rather_than_look_deleted(hubspot, monkeypatch):
    client = hubspot_client(hubspot.url)
    listed = client._list

    def with_an_id_lost(url, params, stream=None):  # the sandbox cannot hold a record without an id: break a page
        for page in listed(url, params, stream):
            yield [{"id": None}, *page] if params["archived"] == "true" else page

    monkeypatch.setattr(client, "_list", with_an_id_lost)
    with pytest.raises(SourceError, match="contacts: a record listed without a usable id .*the key list is incomplete"):
        list(client.source_keys(CONTACTS))


def test_streams_other_than_crm_objects_have_no_key_listing(hubspot):
    with pytest.raises(ValueError, match="email_events: HubSpot lists the keys of CRM objects only"):
        next(hubspot_client(hubspot.url).source_keys(EMAIL_EVENTS))
