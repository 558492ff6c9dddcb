"""The HubSpot emulator, driven with plain `requests` against a hand-written dataset, the way connectors drive
the real API."""

from datetime import UTC, datetime, timedelta

import pytest
import requests

from sandbox import auth
from sandbox.apis.hubspot import MAX_REQUEST_URI, OBJECT_BATCH_INPUTS
from sandbox.dataset import hubspot_datetime
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset

TOKEN_TTL = 1800
BASE = datetime(2026, 1, 1, tzinfo=UTC)
CONTACTS = 10_250  # live contacts: enough to cross the search API's 10,000-result cap
ARCHIVED = 7
COMPANIES = 20
DEALS = 10
CROWDED_COMPANY = 20  # company number whose contact list is too long to inline in full
PACKED_COMPANY = 19  # company number with more contacts than one v4 page holds (500)
EVENT_MS0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
EVENTS = 2_500
SUBMISSIONS = 120
ALWAYS_RETURNED = ("createdate", "hs_object_id", "lastmodifieddate")


def _at(minutes: int) -> str:
    return hubspot_datetime(BASE + timedelta(minutes=minutes))


def _ms(minutes: int) -> int:
    return int((BASE + timedelta(minutes=minutes)).timestamp() * 1000)


def contact_id(n: int) -> str:
    """Ids 901, 904, ... cross from three to four digits at n=33 (id 1000): string order is not id order."""
    return str(901 + 3 * n)


def company_of(n: int) -> int | None:
    """The company number (1-based) a contact belongs to, if any."""
    if n < 60:
        return 1 + n % COMPANIES
    if 100 <= n < 160:
        return CROWDED_COMPANY
    if 200 <= n < 800:
        return PACKED_COMPANY
    return None


def _contact(n: int, archived: bool = False) -> dict:
    properties = {
        "email": f"person{n}@example.com", "firstname": f"First{n}", "lastname": f"Last{n}",
        "jobtitle": "Engineer" if n % 5 == 0 else None, "lifecyclestage": "lead" if n % 2 else "customer",
        "hubspotscore": str(n % 100), "createdate": _at(n - 100_000), "lastmodifieddate": _at(n),
        "hs_object_id": contact_id(n),
    }
    if n == 0:
        properties["hubspotscore"] = 42  # not a string in the data: the API still sends a string
    record = {"id": contact_id(n), "properties": properties, "createdAt": properties["createdate"],
              "updatedAt": properties["lastmodifieddate"], "archived": archived}
    if archived:
        record["archivedAt"] = _at(n + 5)
    return record


def _company(number: int) -> dict:
    record_id = str(5000 + number)
    properties = {"name": f"Company {number}", "domain": f"company{number}.example.com",
                  "createdate": _at(-5000), "hs_lastmodifieddate": _at(number), "hs_object_id": record_id}
    return {"id": record_id, "properties": properties, "createdAt": _at(-5000), "updatedAt": _at(number),
            "archived": False}


def _deal(number: int) -> dict:
    record_id = str(7000 + number)
    properties = {"dealname": f"Deal {number}", "amount": "1000.50", "dealstage": "appointmentscheduled",
                  "pipeline": "default", "createdate": _at(-100), "hs_lastmodifieddate": _at(number),
                  "hs_object_id": record_id, "hs_v2_date_entered_appointmentscheduled": _at(-100)}
    return {"id": record_id, "properties": properties, "createdAt": _at(-100), "updatedAt": _at(number),
            "archived": False}


def _associations() -> list[dict]:
    rows = [{"from_type": "contacts", "from_id": contact_id(n), "to_type": "companies",
             "to_id": str(5000 + company_of(n)), "type": "contact_to_company"}
            for n in range(CONTACTS) if company_of(n) is not None]
    for number in range(1, DEALS + 1):
        rows.append({"from_type": "deals", "from_id": str(7000 + number), "to_type": "companies",
                     "to_id": str(5000 + number), "type": "deal_to_company"})
        rows.append({"from_type": "deals", "from_id": str(7000 + number), "to_type": "contacts",
                     "to_id": contact_id(number), "type": "deal_to_contact"})
    return rows


def _email_event(i: int) -> dict:
    return {"id": f"evt-{i:05d}", "created": EVENT_MS0 + i * 1000,
            "type": ("SENT", "DELIVERED", "OPEN", "CLICK")[i % 4],
            "recipient": f"person{i % 300}@example.com", "emailCampaignId": 111 if i % 2 else 222,
            "portalId": 4815162, "appId": 113, "appName": "BatchEmail"}


def _submission(i: int, guid: str) -> dict:
    # Three submissions share each moment, so a page boundary falls inside a tie.
    return {"formGuid": guid, "conversionId": f"conv-{guid}-{i:04d}",
            "submittedAt": EVENT_MS0 + (i // 3) * 60_000,
            "values": [{"name": "email", "value": f"person{i}@example.com"}],
            "pageUrl": "https://example.com/demo"}


@pytest.fixture(scope="module")
def hubspot(tmp_path_factory):
    objects = {
        ("hubspot", "contacts"): [_contact(n) for n in range(CONTACTS)]
        + [_contact(CONTACTS + k, archived=True) for k in range(ARCHIVED)],
        ("hubspot", "companies"): [_company(number) for number in range(1, COMPANIES + 1)],
        ("hubspot", "deals"): [_deal(number) for number in range(1, DEALS + 1)],
        ("hubspot", "associations"): _associations(),
        ("hubspot", "owners"): [
            {"id": str(41000000 + k), "email": f"owner{k}@example.com", "firstName": f"Owner{k}",
             "lastName": "Smith", "userId": 9100000 + k, "createdAt": _at(-9000), "updatedAt": _at(-10),
             "archived": k == 2}
            for k in range(3)],
        ("hubspot", "pipelines"): [{"id": "default", "label": "Sales Pipeline", "displayOrder": 0, "stages": [
            {"id": "appointmentscheduled", "label": "Appointment Scheduled", "displayOrder": 0,
             "metadata": {"probability": "0.2", "isClosed": "false"}},
            {"id": "closedwon", "label": "Closed Won", "displayOrder": 1,
             "metadata": {"probability": "1.0", "isClosed": "true"}}]}],
        ("hubspot", "marketing_emails"): [
            {"id": 5400111, "name": "Webinar - Invite", "subject": "Join us", "appId": 113,
             "appName": "BatchEmail", "lastUpdatedTime": EVENT_MS0},
            {"id": 5400222, "name": "Webinar - Reminder", "subject": "Tomorrow", "appId": 113,
             "appName": "BatchEmail", "lastUpdatedTime": EVENT_MS0 + 1}],
        ("hubspot", "email_events"): [_email_event(i) for i in range(EVENTS)],
        ("hubspot", "forms"): [
            {"guid": "form-a", "name": "Demo request", "createdAt": EVENT_MS0, "updatedAt": EVENT_MS0},
            {"guid": "form-b", "name": "Newsletter", "createdAt": EVENT_MS0, "updatedAt": EVENT_MS0}],
        ("hubspot", "form_submissions"): [_submission(i, "form-a") for i in range(SUBMISSIONS)]
        + [_submission(i, "form-b") for i in range(3)],
    }
    folder = write_dataset(tmp_path_factory.mktemp("dataset"), objects)
    # The API's answers are checked with bare requests, in quick succession: its rate limits are off here (they have
    # tests/sandbox/test_hubspot_throttling.py), the rate headers still counted.
    with running_sandbox(dataset=folder, extra_args=("--token-ttl", str(TOKEN_TTL)), hubspot_burst=0,
                         hubspot_search_per_second=0) as running:
        yield running


def _token(base: str, version: str = "2026-03", **overrides) -> requests.Response:
    form = {"grant_type": "refresh_token", "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET,
            "refresh_token": auth.REFRESH_TOKEN, **overrides}
    return requests.post(f"{base}/oauth/{version}/token", data=form, timeout=10)


def _session(base: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_token(base).json()['access_token']}"
    return session


def _search(session, base, body, object_type="contacts") -> requests.Response:
    return session.post(f"{base}/crm/v3/objects/{object_type}/search", json=body, timeout=30)


def _batch_read(session, base, body, archived=None, object_type="contacts") -> requests.Response:
    params = {} if archived is None else {"archived": archived}
    return session.post(f"{base}/crm/v3/objects/{object_type}/batch/read", params=params, json=body, timeout=30)


def _window(low_ms, high_ms, prop="lastmodifieddate") -> dict:
    return {"filters": [{"propertyName": prop, "operator": "GTE", "value": str(low_ms)},
                        {"propertyName": prop, "operator": "LT", "value": str(high_ms)}]}


# --- OAuth and authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2026-03", "v1"])
def test_refresh_returns_bearer_tokens_living_the_configured_ttl(hubspot, version):
    response = _token(hubspot.url, version)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == TOKEN_TTL
    assert body["refresh_token"] == auth.REFRESH_TOKEN
    assert body["access_token"]


def test_bad_refresh_token_gets_bad_refresh_token_400(hubspot):
    response = _token(hubspot.url, refresh_token="revoked")
    assert response.status_code == 400
    assert response.json()["status"] == "BAD_REFRESH_TOKEN"
    assert response.json()["message"] == "missing or unknown refresh token"


def test_the_2026_03_token_endpoint_refuses_credentials_in_the_query_string(hubspot):
    secrets = {"client_secret": auth.CLIENT_SECRET, "refresh_token": auth.REFRESH_TOKEN}
    response = requests.post(f"{hubspot.url}/oauth/2026-03/token", params=secrets,
                             data={"grant_type": "refresh_token", "client_id": auth.CLIENT_ID}, timeout=10)
    assert response.status_code == 400
    assert response.json()["message"] == (
        "client_secret, refresh_token must be sent in the request body, not the query string")
    assert response.json()["error"] == "invalid_request"


def test_missing_token_is_invalid_authentication(hubspot):
    response = requests.get(f"{hubspot.url}/crm/v3/objects/contacts", timeout=10)
    assert response.status_code == 401
    assert response.json()["category"] == "INVALID_AUTHENTICATION"
    bogus = requests.get(f"{hubspot.url}/crm/v3/objects/contacts", headers={"Authorization": "Bearer nope"},
                         timeout=10)
    assert bogus.json()["category"] == "INVALID_AUTHENTICATION"


def test_expired_token_gets_expired_authentication_until_refreshed(hubspot):
    session = _session(hubspot.url)
    assert session.get(f"{hubspot.url}/crm/v3/owners", timeout=10).status_code == 200
    hubspot.inject(api="hubspot", kind="expire_token", path_contains="/crm/v3/owners")
    expired = session.get(f"{hubspot.url}/crm/v3/owners", timeout=10)
    assert expired.status_code == 401
    body = expired.json()
    assert body["category"] == "EXPIRED_AUTHENTICATION"
    assert body["message"].startswith("The OAuth token used to make this call expired")
    assert body["context"]["expire time"][0].endswith("Z")
    assert session.get(f"{hubspot.url}/crm/v3/owners", timeout=10).status_code == 401
    assert _session(hubspot.url).get(f"{hubspot.url}/crm/v3/owners", timeout=10).status_code == 200


# --- list endpoint ---------------------------------------------------------------------------------------


def test_list_pages_to_the_end_without_duplicates_and_no_paging_on_last_page(hubspot):
    session = _session(hubspot.url)
    url, params = f"{hubspot.url}/crm/v3/objects/contacts", {"limit": 100}
    seen, pages = [], 0
    while pages < 200:  # bounded: a cursor that never ends fails instead of hanging
        body = session.get(url, params=params, timeout=30).json()
        pages += 1
        seen += [record["id"] for record in body["results"]]
        if "paging" not in body:
            break
        assert body["paging"]["next"]["link"].startswith(f"{hubspot.url}/crm/v3/objects/contacts?")
        params = {"limit": 100, "after": body["paging"]["next"]["after"]}
    assert pages == (CONTACTS + 99) // 100
    assert len(seen) == len(set(seen)) == CONTACTS
    assert set(seen) == {contact_id(n) for n in range(CONTACTS)}


def test_next_link_fetches_the_next_page(hubspot):
    session = _session(hubspot.url)
    first = session.get(f"{hubspot.url}/crm/v3/objects/contacts?limit=5&properties=email", timeout=10).json()
    second = session.get(first["paging"]["next"]["link"], timeout=10).json()
    assert [r["id"] for r in second["results"]] == [contact_id(n) for n in range(5, 10)]
    assert set(second["results"][0]["properties"]) == {"email", *ALWAYS_RETURNED}


def test_default_limit_is_ten_and_limits_over_100_are_refused(hubspot):
    session = _session(hubspot.url)
    assert len(session.get(f"{hubspot.url}/crm/v3/objects/contacts", timeout=10).json()["results"]) == 10
    for bad in ("101", "0", "ten"):
        response = session.get(f"{hubspot.url}/crm/v3/objects/contacts?limit={bad}", timeout=10)
        assert response.status_code == 400
        assert response.json()["category"] == "VALIDATION_ERROR"


def test_only_requested_and_always_returned_properties_all_strings_or_null(hubspot):
    session = _session(hubspot.url)
    url = f"{hubspot.url}/crm/v3/objects/contacts?limit=3&properties=hubspotscore,jobtitle,no_such_property"
    records = session.get(url, timeout=10).json()["results"]
    for record in records:
        assert set(record["properties"]) == {"hubspotscore", "jobtitle", *ALWAYS_RETURNED}
        assert all(value is None or isinstance(value, str) for value in record["properties"].values())
        assert set(record) == {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert records[0]["properties"]["hubspotscore"] == "42"
    assert records[1]["properties"]["jobtitle"] is None
    defaults = session.get(f"{hubspot.url}/crm/v3/objects/contacts?limit=1", timeout=10).json()["results"][0]
    assert set(defaults["properties"]) == {"email", "firstname", "lastname", *ALWAYS_RETURNED}


def test_archived_listing_returns_only_archived_records_with_archived_at(hubspot):
    session = _session(hubspot.url)
    body = session.get(f"{hubspot.url}/crm/v3/objects/contacts?archived=true&limit=100", timeout=10).json()
    assert "paging" not in body
    assert [r["id"] for r in body["results"]] == [contact_id(CONTACTS + k) for k in range(ARCHIVED)]
    assert all(r["archived"] is True and r["archivedAt"].endswith("Z") for r in body["results"])


# --- records batch read, and the edge's URI limit --------------------------------------------------------


def test_a_request_uri_longer_than_the_edge_takes_is_refused_414_before_anything_else(hubspot):
    session = _session(hubspot.url)
    start = "/crm/v3/objects/contacts?limit=1&properties=email,"

    def uri(length: int) -> str:  # path and query string of `length` characters, naming an unknown property last
        return start + "x" * (length - len(start))

    longest = session.get(hubspot.url + uri(MAX_REQUEST_URI), timeout=10)
    assert longest.status_code == 200
    assert longest.json()["results"][0]["properties"]["email"] == "person0@example.com"
    refused = session.get(hubspot.url + uri(MAX_REQUEST_URI + 1), timeout=10)
    assert refused.status_code == 414
    assert refused.headers["content-type"].startswith("text/html") and "414 Request-URI Too Large" in refused.text
    assert "X-HubSpot-RateLimit-Max" not in refused.headers  # the edge's answer: HubSpot's API never saw it
    assert requests.get(hubspot.url + uri(MAX_REQUEST_URI + 1), timeout=10).status_code == 414  # no token either


def test_batch_read_answers_each_record_as_the_list_does_with_the_requested_properties(hubspot):
    session = _session(hubspot.url)
    asked = {"properties": ["jobtitle", "hubspotscore"], "inputs": [{"id": contact_id(5)}, {"id": contact_id(0)}]}
    response = _batch_read(session, hubspot.url, asked)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "COMPLETE" and "errors" not in body and {"startedAt", "completedAt"} <= set(body)
    assert [record["id"] for record in body["results"]] == [contact_id(5), contact_id(0)]
    by_id = session.get(f"{hubspot.url}/crm/v3/objects/contacts/{contact_id(5)}?properties=jobtitle,hubspotscore",
                        timeout=10).json()
    assert body["results"][0] == by_id
    assert set(body["results"][1]["properties"]) == {"jobtitle", "hubspotscore", *ALWAYS_RETURNED}
    assert body["results"][1]["properties"]["hubspotscore"] == "42"  # a string, as the list sends it
    defaults = _batch_read(session, hubspot.url, {"inputs": [{"id": contact_id(1)}]}).json()["results"][0]
    assert set(defaults["properties"]) == {"email", "firstname", "lastname", *ALWAYS_RETURNED}
    by_email = _batch_read(session, hubspot.url, {"idProperty": "email", "properties": ["firstname"],
                                                  "inputs": [{"id": "person7@example.com"}]}).json()
    assert [(record["id"], record["properties"]["firstname"]) for record in by_email["results"]] == [
        (contact_id(7), "First7")]


def test_batch_read_finds_archived_records_only_when_asked_for_archived_ones(hubspot):
    session = _session(hubspot.url)
    archived_id, live_id = contact_id(CONTACTS), contact_id(1)
    asked = {"properties": ["email"], "inputs": [{"id": archived_id}, {"id": live_id}]}
    archived = _batch_read(session, hubspot.url, asked, archived="true")
    assert archived.status_code == 207
    body = archived.json()
    [record] = body["results"]
    assert (record["id"], record["archived"], record["archivedAt"]) == (archived_id, True, _at(CONTACTS + 5))
    assert body["numErrors"] == 1
    assert body["errors"] == [{"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": [live_id]},
                               "message": "Could not get some CONTACT objects, they may be deleted or not exist. "
                                          "Check that ids are valid."}]
    live = _batch_read(session, hubspot.url, asked).json()
    assert [record["id"] for record in live["results"]] == [live_id]
    assert live["errors"][0]["context"] == {"ids": [archived_id]}


def test_batch_read_names_every_id_not_found_in_one_error_and_refuses_more_than_100_inputs(hubspot):
    session = _session(hubspot.url)
    response = _batch_read(session, hubspot.url, {"inputs": [{"id": contact_id(2)}, {"id": "999999"}, {"id": "x"}]})
    assert response.status_code == 207
    body = response.json()
    assert [record["id"] for record in body["results"]] == [contact_id(2)]
    assert (body["numErrors"], body["errors"][0]["context"]) == (1, {"ids": ["999999", "x"]})
    deal = _batch_read(session, hubspot.url, {"inputs": [{"id": "7999"}]}, object_type="deals").json()
    assert deal["results"] == [] and deal["errors"][0]["message"].startswith("Could not get some DEAL objects")
    most = [{"id": contact_id(n)} for n in range(OBJECT_BATCH_INPUTS)]
    assert len(_batch_read(session, hubspot.url, {"inputs": most}).json()["results"]) == OBJECT_BATCH_INPUTS
    too_many = _batch_read(session, hubspot.url, {"inputs": [*most, {"id": contact_id(OBJECT_BATCH_INPUTS)}]})
    assert too_many.status_code == 400 and too_many.json()["category"] == "VALIDATION_ERROR"
    named_badly = _batch_read(session, hubspot.url, {"inputs": [{"id": contact_id(2)}], "properties": "email"})
    assert named_badly.status_code == 400


def test_inline_associations_repeat_each_company_labeled_and_unlabeled(hubspot):
    session = _session(hubspot.url)
    body = session.get(f"{hubspot.url}/crm/v3/objects/contacts?limit=100&associations=companies",
                       timeout=10).json()
    by_id = {r["id"]: r for r in body["results"]}
    assert by_id[contact_id(0)]["associations"]["companies"]["results"] == [
        {"id": "5001", "type": "contact_to_company"}, {"id": "5001", "type": "contact_to_company_unlabeled"}]
    assert "associations" not in by_id[contact_id(60)]
    deal = session.get(f"{hubspot.url}/crm/v3/objects/deals/7003?associations=contacts,company",
                       timeout=10).json()
    assert deal["associations"]["contacts"]["results"] == [{"id": contact_id(3), "type": "deal_to_contact"}]
    assert {e["type"] for e in deal["associations"]["companies"]["results"]} == {
        "deal_to_company", "deal_to_company_unlabeled"}


def test_long_inline_association_lists_are_truncated_with_a_v4_link(hubspot):
    session = _session(hubspot.url)
    company_id = str(5000 + CROWDED_COMPANY)
    url = f"{hubspot.url}/crm/v3/objects/companies/{company_id}?associations=contacts"
    inline = session.get(url, timeout=10).json()["associations"]["contacts"]
    assert len(inline["results"]) == 100
    assert {e["type"] for e in inline["results"]} == {"company_to_contact", "company_to_contact_unlabeled"}
    rest = session.get(hubspot.url + inline["paging"]["next"]["link"], timeout=10).json()
    ids = {e["id"] for e in inline["results"]} | {str(e["toObjectId"]) for e in rest["results"]}
    assert ids == {contact_id(n) for n in range(CONTACTS) if company_of(n) == CROWDED_COMPANY}


def test_v4_batch_read_gives_type_ids_and_errors_for_unassociated_ids(hubspot):
    session = _session(hubspot.url)
    url = f"{hubspot.url}/crm/v4/associations/contacts/companies/batch/read"
    response = session.post(url, json={"inputs": [{"id": contact_id(0)}, {"id": contact_id(60)}]}, timeout=10)
    assert response.status_code == 207
    body = response.json()
    assert body["status"] == "COMPLETE"
    primary_and_unlabeled = [{"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
                             {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}]
    assert body["results"] == [{"from": {"id": contact_id(0)},
                                "to": [{"toObjectId": 5001, "associationTypes": primary_and_unlabeled}]}]
    assert body["numErrors"] == 1
    assert body["errors"][0]["context"] == {"fromObjectId": [contact_id(60)]}
    deals = session.post(f"{hubspot.url}/crm/v4/associations/deals/contacts/batch/read",
                         json={"inputs": [{"id": "7001"}]}, timeout=10)
    assert deals.status_code == 200
    assert deals.json()["results"][0]["to"] == [{"toObjectId": int(contact_id(1)), "associationTypes": [
        {"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}]}]
    too_many = session.post(url, json={"inputs": [{"id": str(i)} for i in range(1001)]}, timeout=10)
    assert too_many.status_code == 400


def test_v4_batch_read_pages_a_record_by_the_after_of_its_input_and_links_the_rest(hubspot):
    session = _session(hubspot.url)
    url = f"{hubspot.url}/crm/v4/associations/companies/contacts/batch/read"
    packed, small = str(5000 + PACKED_COMPANY), "5001"
    first = session.post(url, json={"inputs": [{"id": packed}, {"id": small}]}, timeout=10).json()
    by_id = {result["from"]["id"]: result for result in first["results"]}
    assert len(by_id[packed]["to"]) == 500
    assert "paging" not in by_id[small]
    following = by_id[packed]["paging"]["next"]
    rest = session.post(url, json={"inputs": [{"id": packed, "after": following["after"]}]}, timeout=10).json()
    [last] = rest["results"]
    assert "paging" not in last
    ids = [str(target["toObjectId"]) for target in by_id[packed]["to"] + last["to"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == {contact_id(n) for n in range(CONTACTS) if company_of(n) == PACKED_COMPANY}
    linked = session.get(following["link"], timeout=10).json()
    assert linked["results"] == last["to"] and "paging" not in linked


def test_injected_failed_input_moves_the_first_result_of_a_batch_read_to_errors(hubspot):
    session = _session(hubspot.url)
    url = f"{hubspot.url}/crm/v4/associations/contacts/companies/batch/read"
    inputs = {"inputs": [{"id": contact_id(1)}, {"id": contact_id(2)}, {"id": contact_id(60)}]}
    hubspot.inject(api="hubspot", kind="failed_input", path_contains="/batch/read")
    response = session.post(url, json=inputs, timeout=10)
    assert response.status_code == 207
    body = response.json()
    assert [result["from"]["id"] for result in body["results"]] == [contact_id(2)]
    assert body["numErrors"] == 2
    assert [error["context"] for error in body["errors"]] == [{"fromObjectId": [contact_id(1)]},
                                                            {"fromObjectId": [contact_id(60)]}]
    assert body["errors"][0]["category"] == "INTERNAL_ERROR"
    assert body["errors"][1]["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    assert len(session.post(url, json=inputs, timeout=10).json()["results"]) == 2  # the fault fired once


def test_unknown_record_is_404_and_unknown_object_type_400(hubspot):
    session = _session(hubspot.url)
    missing = session.get(f"{hubspot.url}/crm/v3/objects/contacts/1", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["category"] == "OBJECT_NOT_FOUND"
    assert session.get(f"{hubspot.url}/crm/v3/objects/widgets", timeout=10).status_code == 400


# --- search ----------------------------------------------------------------------------------------------


def test_search_date_window_in_ms_and_iso_pages_by_offset_with_total(hubspot):
    session = _session(hubspot.url)
    body = {"filterGroups": [_window(_ms(100), _ms(300))],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "properties": ["email", "lastmodifieddate"], "limit": 150}
    first = _search(session, hubspot.url, body).json()
    assert first["total"] == 200
    assert first["paging"]["next"]["after"] == "150"
    second = _search(session, hubspot.url, {**body, "after": first["paging"]["next"]["after"]}).json()
    assert "paging" not in second
    records = first["results"] + second["results"]
    assert [r["id"] for r in records] == [contact_id(n) for n in range(100, 300)]
    assert all("associations" not in r for r in records)
    iso = {**body, "filterGroups": [_window("2026-01-01T01:40:00Z", "2026-01-01T05:00:00.000Z")],
           "limit": 200}
    iso_ids = [r["id"] for r in _search(session, hubspot.url, iso).json()["results"]]
    assert iso_ids == [r["id"] for r in records]


def test_search_reads_an_epoch_in_seconds_as_milliseconds(hubspot):
    session = _session(hubspot.url)
    seconds = {"filterGroups": [{"filters": [
        {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(_ms(10_000) // 1000)}]}]}
    assert _search(session, hubspot.url, seconds).json()["total"] == CONTACTS  # 1970: everything matches


def test_search_on_the_other_objects_modified_property_matches_nothing_for_contacts(hubspot):
    session = _session(hubspot.url)
    body = {"filterGroups": [_window(_ms(0), _ms(CONTACTS), prop="hs_lastmodifieddate")]}
    assert _search(session, hubspot.url, body).json()["total"] == 0
    deal_window = {"filterGroups": [_window(_ms(0), _ms(5), prop="hs_lastmodifieddate")]}
    deals = _search(session, hubspot.url, deal_window, object_type="deals").json()
    assert sorted(r["id"] for r in deals["results"]) == ["7001", "7002", "7003", "7004"]


def test_search_or_between_groups_and_within_with_every_operator(hubspot):
    session = _session(hubspot.url)

    def ids(*groups):
        body = {"filterGroups": [{"filters": g} for g in groups], "limit": 200}
        response = _search(session, hubspot.url, body)
        assert response.status_code == 200, response.text
        return {r["id"] for r in response.json()["results"]}

    early = {"propertyName": "lastmodifieddate", "operator": "LT", "value": str(_ms(50))}
    by_email = {"propertyName": "email", "operator": "EQ", "value": "PERSON5@example.com"}
    by_ids = {"propertyName": "hs_object_id", "operator": "IN", "values": [contact_id(7), contact_id(8)]}
    assert ids([by_email], [by_ids]) == {contact_id(5), contact_id(7), contact_id(8)}
    scores = {"propertyName": "hubspotscore", "operator": "BETWEEN", "value": "10", "highValue": "12"}
    assert ids([early, scores]) == {contact_id(n) for n in (10, 11, 12)}
    assert ids([early, {"propertyName": "lifecyclestage", "operator": "NEQ", "value": "lead"}]) == {
        contact_id(n) for n in range(0, 50, 2)}
    assert ids([early, {"propertyName": "lifecyclestage", "operator": "NOT_IN", "values": ["customer"]}]) == {
        contact_id(n) for n in range(1, 50, 2)}
    assert ids([early, {"propertyName": "jobtitle", "operator": "HAS_PROPERTY"}]) == {
        contact_id(n) for n in range(0, 50, 5)}
    assert len(ids([early, {"propertyName": "jobtitle", "operator": "NOT_HAS_PROPERTY"}])) == 40
    assert ids([early, {"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "person4*"}]) == {
        contact_id(n) for n in (4, *range(40, 50))}


def test_search_compares_object_ids_as_numbers_and_sorts_descending(hubspot):
    session = _session(hubspot.url)
    above_999 = {"propertyName": "hs_object_id", "operator": "GT", "value": "999"}
    body = {"filterGroups": [{"filters": [above_999]}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "limit": 3}
    response = _search(session, hubspot.url, body).json()
    assert [r["id"] for r in response["results"]] == ["1000", "1003", "1006"]
    assert response["total"] == CONTACTS - 33
    newest = {"filterGroups": [_window(_ms(0), _ms(10))],
              "sorts": [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}]}
    assert [r["id"] for r in _search(session, hubspot.url, newest).json()["results"]] == [
        contact_id(n) for n in range(9, -1, -1)]


def test_search_never_returns_archived_records(hubspot):
    session = _session(hubspot.url)
    archived_ids = [contact_id(CONTACTS + k) for k in range(ARCHIVED)]
    archived = {"propertyName": "hs_object_id", "operator": "IN", "values": archived_ids}
    body = {"filterGroups": [{"filters": [archived]}]}
    assert _search(session, hubspot.url, body).json() == {"total": 0, "results": []}


def test_search_refuses_oversized_requests(hubspot):
    session = _session(hubspot.url)
    one = {"propertyName": "email", "operator": "HAS_PROPERTY"}
    bad_bodies = [
        {"limit": 201},
        {"filterGroups": [{"filters": [one]}] * 6},
        {"filterGroups": [{"filters": [one] * 11}]},
        {"filterGroups": [{"filters": [one] * 9}, {"filters": [one] * 9}, {"filters": [one] * 8}]},
        {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "LIKE", "value": "x"}]}]},
        {"filterGroups": [{"filters": [{"propertyName": "email"}]}]},
        {"sorts": [{"propertyName": "email"}, {"propertyName": "lastname"}]},
    ]
    for body in bad_bodies:
        response = _search(session, hubspot.url, body)
        assert response.status_code == 400, body
        assert response.json()["category"] == "VALIDATION_ERROR"
    assert _search(session, hubspot.url, {"limit": 200}).status_code == 200


def test_search_stops_at_ten_thousand_results_but_reports_the_full_total(hubspot):
    session = _session(hubspot.url)
    body = {"sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}], "limit": 200}
    near_cap = _search(session, hubspot.url, {**body, "after": "9900"}).json()
    assert near_cap["total"] == CONTACTS
    assert [r["id"] for r in near_cap["results"]] == [contact_id(n) for n in range(9900, 10_000)]
    assert near_cap["paging"]["next"]["after"] == "10000"
    beyond = _search(session, hubspot.url, {**body, "after": near_cap["paging"]["next"]["after"]})
    assert beyond.status_code == 400
    assert beyond.json()["category"] == "VALIDATION_ERROR"
    # The documented way round: restart the window after the last id seen, sorted by id.
    restart = {"filterGroups": [{"filters": [
        {"propertyName": "hs_object_id", "operator": "GT", "value": contact_id(9_999)}]}],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "limit": 200}
    rest = _search(session, hubspot.url, restart).json()
    assert rest["total"] == CONTACTS - 10_000
    assert rest["results"][0]["id"] == contact_id(10_000)


# --- owners, pipelines, headers, faults ---------------------------------------------------------------------


def test_owners_page_by_cursor_and_archived_owners_are_separate(hubspot):
    session = _session(hubspot.url)
    first = session.get(f"{hubspot.url}/crm/v3/owners/?limit=1", timeout=10).json()
    params = {"limit": 1, "after": first["paging"]["next"]["after"]}
    second = session.get(f"{hubspot.url}/crm/v3/owners/", params=params, timeout=10).json()
    assert [o["id"] for o in first["results"] + second["results"]] == ["41000000", "41000001"]
    assert "paging" not in second
    archived = session.get(f"{hubspot.url}/crm/v3/owners?archived=true", timeout=10).json()
    assert [o["id"] for o in archived["results"]] == ["41000002"]


def test_deal_pipelines_list_stages(hubspot):
    session = _session(hubspot.url)
    body = session.get(f"{hubspot.url}/crm/v3/pipelines/deals", timeout=10).json()
    assert [p["id"] for p in body["results"]] == ["default"]
    assert [s["id"] for s in body["results"][0]["stages"]] == ["appointmentscheduled", "closedwon"]
    one = session.get(f"{hubspot.url}/crm/v3/pipelines/deals/default", timeout=10).json()
    assert one["label"] == "Sales Pipeline"


def test_rate_limit_headers_on_list_but_not_on_search(hubspot):
    session = _session(hubspot.url)
    listed = session.get(f"{hubspot.url}/crm/v3/objects/companies", timeout=10)
    assert listed.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    remaining = int(listed.headers["X-HubSpot-RateLimit-Remaining"])
    assert remaining < int(listed.headers["X-HubSpot-RateLimit-Max"])
    searched = _search(session, hubspot.url, {}, object_type="companies")
    assert "X-HubSpot-RateLimit-Remaining" not in searched.headers


def test_injected_rate_limit_is_the_ten_secondly_429_with_retry_after(hubspot):
    session = _session(hubspot.url)
    hubspot.inject(api="hubspot", kind="rate_limit", path_contains="/crm/v3/objects/companies", retry_after=3)
    limited = session.get(f"{hubspot.url}/crm/v3/objects/companies", timeout=10)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    body = limited.json()
    assert body["status"] == "error"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["correlationId"] and body["requestId"]
    assert session.get(f"{hubspot.url}/crm/v3/objects/companies", timeout=10).status_code == 200


def test_injected_server_error_is_an_html_502(hubspot):
    session = _session(hubspot.url)
    hubspot.inject(api="hubspot", kind="server_error", path_contains="/crm/v3/objects/deals")
    failed = session.get(f"{hubspot.url}/crm/v3/objects/deals", timeout=10)
    assert failed.status_code == 502
    assert failed.headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in failed.text


def test_injected_malformed_page_breaks_one_record_and_keeps_paging(hubspot):
    session = _session(hubspot.url)
    hubspot.inject(api="hubspot", kind="malformed", path_contains="/crm/v3/objects/deals")
    broken = session.get(f"{hubspot.url}/crm/v3/objects/deals?limit=4", timeout=10)
    assert broken.status_code == 200
    page = broken.json()
    assert isinstance(page["results"][0]["properties"], str)
    assert all(isinstance(r["properties"], dict) for r in page["results"][1:])
    ids = [r["id"] for r in page["results"]]
    for _ in range(DEALS):
        if "paging" not in page:
            break
        page = session.get(page["paging"]["next"]["link"], timeout=10).json()
        ids += [r["id"] for r in page["results"]]
    assert ids == [str(7000 + number) for number in range(1, DEALS + 1)]


# --- marketing -------------------------------------------------------------------------------------------


def test_email_events_newest_first_through_offset_pages(hubspot):
    session = _session(hubspot.url)
    window = {"startTimestamp": EVENT_MS0 + 100_000, "endTimestamp": EVENT_MS0 + 1_599_000, "limit": 1000}
    seen, pages, params = [], 0, dict(window)
    while pages < 10:
        body = session.get(f"{hubspot.url}/email/public/v1/events", params=params, timeout=30).json()
        pages += 1
        seen += body["events"]
        if not body["hasMore"]:
            break
        params = {**window, "offset": body["offset"]}
    assert pages == 2
    assert [e["id"] for e in seen] == [f"evt-{i:05d}" for i in range(1599, 99, -1)]
    assert all(isinstance(e["created"], int) for e in seen)
    opens = session.get(f"{hubspot.url}/email/public/v1/events", params={**window, "eventType": "OPEN"},
                        timeout=10).json()
    assert {e["type"] for e in opens["events"]} == {"OPEN"}
    assert len(opens["events"]) == 375
    assert session.get(f"{hubspot.url}/email/public/v1/events?limit=1001", timeout=10).status_code == 400


def test_campaign_list_and_detail(hubspot):
    session = _session(hubspot.url)
    body = session.get(f"{hubspot.url}/email/public/v1/campaigns?limit=1", timeout=10).json()
    assert body["hasMore"] is True
    assert set(body["campaigns"][0]) == {"id", "lastUpdatedTime", "appId", "appName"}
    rest = session.get(f"{hubspot.url}/email/public/v1/campaigns",
                       params={"limit": 1, "offset": body["offset"]}, timeout=10).json()
    assert [c["id"] for c in body["campaigns"] + rest["campaigns"]] == [5400111, 5400222]
    assert rest["hasMore"] is False
    detail = session.get(f"{hubspot.url}/email/public/v1/campaigns/5400222", timeout=10).json()
    assert detail["name"] == "Webinar - Reminder"


def test_form_submissions_newest_first_fifty_at_most(hubspot):
    session = _session(hubspot.url)
    url, params = f"{hubspot.url}/form-integrations/v1/submissions/forms/form-a", {"limit": 50}
    pages = []
    for _ in range(10):
        body = session.get(url, params=params, timeout=10).json()
        pages.append(body["results"])
        if "paging" not in body:
            break
        params = {"limit": 50, "after": body["paging"]["next"]["after"]}
    assert [len(page) for page in pages] == [50, 50, 20]
    submissions = [s for page in pages for s in page]
    stamps = [s["submittedAt"] for s in submissions]
    assert stamps == sorted(stamps, reverse=True)
    assert len({s["conversionId"] for s in submissions}) == SUBMISSIONS
    assert set(submissions[0]) == {"conversionId", "submittedAt", "values", "pageUrl"}
    assert session.get(url, params={"limit": 51}, timeout=10).status_code == 400
    unknown = session.get(f"{hubspot.url}/form-integrations/v1/submissions/forms/nope", timeout=10)
    assert unknown.status_code == 404


def test_forms_listing(hubspot):
    session = _session(hubspot.url)
    body = session.get(f"{hubspot.url}/marketing/v3/forms", timeout=10).json()
    assert [f["id"] for f in body["results"]] == ["form-a", "form-b"]
    assert body["results"][0]["createdAt"] == "2026-01-01T00:00:00.000Z"


# --- properties -----------------------------------------------------------------------------------------


def test_properties_list_every_property_of_the_data_with_hubspot_types(hubspot):
    session = _session(hubspot.url)
    response = session.get(f"{hubspot.url}/crm/v3/properties/deals", timeout=10)
    assert response.status_code == 200 and "paging" not in response.json()
    by_name = {p["name"]: p for p in response.json()["results"]}
    assert {"dealname", "amount", "dealstage", "pipeline", "createdate", "hs_lastmodifieddate"} <= set(by_name)
    assert (by_name["amount"]["type"], by_name["amount"]["fieldType"]) == ("number", "number")
    assert by_name["amount"]["showCurrencySymbol"] is True
    assert by_name["hs_lastmodifieddate"]["type"] == "datetime"
    assert by_name["dealstage"]["type"] == "enumeration"
    assert [o["value"] for o in by_name["dealstage"]["options"]] == ["appointmentscheduled"]
    assert by_name["dealname"]["type"] == "string"
    # HubSpot's calculated "date entered <stage>": a read-only datetime
    entered = by_name["hs_v2_date_entered_appointmentscheduled"]
    assert (entered["type"], entered["calculated"], entered["modificationMetadata"]["readOnlyValue"]) == (
        "datetime", True, True)
    assert by_name["dealname"]["calculated"] is False
    for definition in by_name.values():
        assert {"label", "groupName", "hidden", "calculated", "hubspotDefined", "archived"} <= set(definition)
    contacts = {p["name"] for p in session.get(f"{hubspot.url}/crm/v3/properties/0-1", timeout=10).json()["results"]}
    assert {"email", "hubspotscore", "jobtitle", "lifecyclestage"} <= contacts


def test_one_property_by_name_unknown_ones_404_and_unknown_objects_400(hubspot):
    session = _session(hubspot.url)
    one = session.get(f"{hubspot.url}/crm/v3/properties/contacts/hubspotscore", timeout=10)
    assert one.status_code == 200 and one.json()["type"] == "number"
    assert session.get(f"{hubspot.url}/crm/v3/properties/contacts/no_such_thing", timeout=10).status_code == 404
    assert session.get(f"{hubspot.url}/crm/v3/properties/widgets", timeout=10).status_code == 400
    assert requests.get(f"{hubspot.url}/crm/v3/properties/contacts", timeout=10).status_code == 401


# --- data changes (last: mutates the shared sandbox) -----------------------------------------------------


def test_upserted_records_are_seen_by_list_and_search(hubspot):
    session = _session(hubspot.url)
    window = {"filterGroups": [_window(_ms(50_000), _ms(50_001))]}
    assert _search(session, hubspot.url, window).json()["total"] == 0
    moved = _contact(5000)
    moved["properties"]["lastmodifieddate"] = moved["updatedAt"] = _at(50_000)
    hubspot.upsert("hubspot", "contacts", [moved])
    assert [r["id"] for r in _search(session, hubspot.url, window).json()["results"]] == [contact_id(5000)]
    record = session.get(f"{hubspot.url}/crm/v3/objects/contacts/{contact_id(5000)}", timeout=10).json()
    assert record["properties"]["lastmodifieddate"] == _at(50_000)


def test_a_property_added_through_the_records_api_is_listed_with_a_type_from_its_values(hubspot):
    session = _session(hubspot.url)
    url = f"{hubspot.url}/crm/v3/properties/companies"
    assert "renewal_date" not in {p["name"] for p in session.get(url, timeout=10).json()["results"]}
    changed = _company(3)
    changed["properties"].update(renewal_date="2026-09-30", seats="25", is_partner="true",
                                 renewed_at="2026-01-02T03:04:05.000Z", tier="gold")
    hubspot.upsert("hubspot", "companies", [changed])
    by_name = {p["name"]: p for p in session.get(url, timeout=10).json()["results"]}
    assert {name: by_name[name]["type"] for name in ("renewal_date", "seats", "is_partner", "renewed_at", "tier")} == {
        "renewal_date": "date", "seats": "number", "is_partner": "bool", "renewed_at": "datetime", "tier": "string"}
