"""The Salesforce emulator, driven with plain `requests` the way the real REST API is driven."""

from urllib.parse import quote

import pytest
import requests

from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset

ACCOUNTS = 4500
DELETED = {7, 99, 4000}


@pytest.fixture(scope="module")
def salesforce(tmp_path_factory):
    records = [salesforce_account(n, IsDeleted=n in DELETED) for n in range(ACCOUNTS)]
    folder = write_dataset(tmp_path_factory.mktemp("dataset"), {("salesforce", "Account"): records})
    with running_sandbox(dataset=folder) as running:
        yield running


def _token(base: str, **overrides) -> requests.Response:
    form = {"grant_type": "refresh_token", "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET,
            "refresh_token": auth.REFRESH_TOKEN, **overrides}
    return requests.post(f"{base}/services/oauth2/token", data=form, timeout=10)


def _session(base: str) -> tuple[requests.Session, str]:
    body = _token(base).json()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {body['access_token']}"
    return session, body["instance_url"]


def _query(session, instance, soql, endpoint="queryAll", **kwargs):
    return session.get(f"{instance}/services/data/v60.0/{endpoint}?q={quote(soql, safe='')}", timeout=30, **kwargs)


def test_token_response_has_instance_url_and_no_expiry(salesforce):
    response = _token(salesforce.url)
    assert response.status_code == 200
    body = response.json()
    assert body["instance_url"] == salesforce.url
    assert body["token_type"] == "Bearer"
    assert "expires_in" not in body
    assert body["issued_at"].isdigit()


def test_bad_refresh_token_gets_the_oauth_error_object(salesforce):
    response = _token(salesforce.url, refresh_token="revoked")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}


def test_paging_to_the_end_with_relative_next_records_urls(salesforce):
    session, instance = _session(salesforce.url)
    response = _query(session, instance, "SELECT Id, Name, SystemModstamp FROM Account ORDER BY SystemModstamp ASC",
                      endpoint="query")
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")
    seen, pages = [], 0
    body = response.json()
    while True:
        pages += 1
        assert body["totalSize"] == ACCOUNTS - len(DELETED)
        for record in body["records"]:
            assert record["attributes"]["type"] == "Account"
            assert set(record) == {"attributes", "Id", "Name", "SystemModstamp"}
        seen += [r["Id"] for r in body["records"]]
        if body["done"]:
            assert "nextRecordsUrl" not in body
            break
        assert body["nextRecordsUrl"].startswith("/services/data/v60.0/query/0r8")
        body = session.get(instance + body["nextRecordsUrl"], timeout=30).json()
    assert pages == 3
    assert len(seen) == len(set(seen)) == ACCOUNTS - len(DELETED)


def test_deleted_records_only_through_query_all(salesforce):
    session, instance = _session(salesforce.url)
    soql = "SELECT Id, IsDeleted FROM Account WHERE IsDeleted = true"
    assert _query(session, instance, soql, endpoint="query").json()["totalSize"] == 0
    all_deleted = _query(session, instance, soql).json()
    assert {r["Id"] for r in all_deleted["records"]} == {f"001SANDBOX{n:08d}" for n in DELETED}


def test_incremental_where_clause_with_unquoted_datetime_and_batch_size(salesforce):
    session, instance = _session(salesforce.url)
    soql = ("SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp >= 2026-01-28T00:00:00Z "
            "AND SystemModstamp < 2026-01-28T12:00:00.000+0000 ORDER BY SystemModstamp ASC")
    body = _query(session, instance, soql, headers={"Sforce-Query-Options": "batchSize=200"}).json()
    stamps = [r["SystemModstamp"] for r in body["records"]]
    assert stamps and all("2026-01-28T00" <= s < "2026-01-28T12" for s in stamps)
    assert stamps == sorted(stamps)
    assert len(body["records"]) == min(200, body["totalSize"])


def test_quoted_datetimes_and_unknown_fields_are_refused_with_array_bodies(salesforce):
    session, instance = _session(salesforce.url)
    quoted = _query(session, instance, "SELECT Id FROM Account WHERE SystemModstamp >= '2026-01-01T00:00:00Z'")
    assert quoted.status_code == 400
    assert quoted.json()[0]["errorCode"] == "INVALID_FIELD"
    unknown = _query(session, instance, "SELECT Id, Nme FROM Account")
    assert unknown.status_code == 400
    assert unknown.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nme' on entity 'Account'" in unknown.json()[0]["message"]
    malformed = _query(session, instance, "SELEC Id FROM Account")
    assert malformed.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_missing_or_expired_token_gets_invalid_session_id(salesforce):
    response = requests.get(f"{salesforce.url}/services/data/v60.0/limits", timeout=10)
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    session, instance = _session(salesforce.url)
    assert session.get(f"{instance}/services/data/v60.0/limits", timeout=10).status_code == 200
    salesforce.inject(api="salesforce", kind="expire_token", path_contains="/limits")
    assert session.get(f"{instance}/services/data/v60.0/limits", timeout=10).status_code == 401


def test_injected_daily_limit_and_server_errors_use_salesforce_bodies(salesforce):
    session, instance = _session(salesforce.url)
    salesforce.inject(api="salesforce", kind="rate_limit", path_contains="/queryAll")
    limited = _query(session, instance, "SELECT Id FROM Account")
    assert limited.status_code == 403
    assert limited.json() == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    salesforce.inject(api="salesforce", kind="server_error", path_contains="/queryAll")
    assert _query(session, instance, "SELECT Id FROM Account").status_code == 503
    assert _query(session, instance, "SELECT Id FROM Account").status_code == 200


def test_describe_lists_fields_with_types(salesforce):
    session, instance = _session(salesforce.url)
    body = session.get(f"{instance}/services/data/v60.0/sobjects/Account/describe", timeout=10).json()
    types = {f["name"]: f["type"] for f in body["fields"]}
    assert types["SystemModstamp"] == "datetime"
    assert types["AnnualRevenue"] == "currency"
    assert body["keyPrefix"] == "001"


# --- field-level security --------------------------------------------------------------------------------------

HIDDEN_FIELDS = "/_sandbox/salesforce/hidden-fields"


@pytest.fixture
def hiding(salesforce):
    """The module's sandbox, every field shown again after the test (the other tests read them)."""
    yield salesforce
    salesforce.hide_salesforce_fields(None)


def _described(session, instance, object_name) -> set[str]:
    body = session.get(f"{instance}/services/data/v60.0/sobjects/{object_name}/describe", timeout=10).json()
    return {field["name"] for field in body["fields"]}


def _no_such_column(field: str, column: int, line: str) -> str:
    return (f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:1:Column:{column}\nNo such column '{field}' on entity "
            "'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom "
            "field name. Please reference your WSDL or the describe call for the appropriate names.")


def test_a_hidden_field_vanishes_from_describe_on_its_objects_only(hiding):
    session, instance = _session(hiding.url)
    assert {"CurrencyIsoCode", "Email"} <= _described(session, instance, "Lead")
    assert hiding.hide_salesforce_fields({"Lead": ["Email"], "*": ["currencyisocode"]}) == {
        "Lead": ["Email"], "*": ["currencyisocode"]}
    lead, contact, account = (_described(session, instance, name) for name in ("Lead", "Contact", "Account"))
    assert "Email" not in lead and {"Id", "Name", "Phone"} <= lead
    assert "Email" in contact  # hidden on Lead only
    assert not {"CurrencyIsoCode"} & (lead | contact | account)  # hidden everywhere, named in any case


@pytest.mark.parametrize(("endpoint", "soql", "field", "column"), [
    ("queryAll", "SELECT Id, CurrencyIsoCode FROM Account", "CurrencyIsoCode", 12),
    ("query", "SELECT Id, Website FROM Account", "Website", 12),
    ("query", "SELECT COUNT() FROM Account WHERE CurrencyIsoCode = 'USD'", "CurrencyIsoCode", 35),
    ("queryAll", "SELECT Id FROM Account ORDER BY Website ASC", "Website", 33),
])
def test_soql_naming_a_hidden_field_anywhere_gets_salesforces_invalid_field_body(hiding, endpoint, soql, field,
                                                                                  column):
    session, instance = _session(hiding.url)
    assert _query(session, instance, soql, endpoint=endpoint).status_code == 200
    hiding.hide_salesforce_fields({"Account": ["website"], "*": ["CurrencyIsoCode"]})  # names in any case
    refused = _query(session, instance, soql, endpoint=endpoint)
    assert refused.status_code == 400
    assert refused.json() == [{"message": _no_such_column(field, column, soql), "errorCode": "INVALID_FIELD"}]
    assert _query(session, instance, "SELECT Id, Name FROM Account LIMIT 5", endpoint=endpoint).status_code == 200


def test_hidden_fields_come_back_with_their_values_once_shown_again(hiding):
    session, instance = _session(hiding.url)
    soql = "SELECT Id, CurrencyIsoCode FROM Account ORDER BY Id ASC LIMIT 3"
    hiding.hide_salesforce_fields({"*": ["CurrencyIsoCode"]})
    assert _query(session, instance, soql).status_code == 400
    assert hiding.hide_salesforce_fields(None) == {}
    assert [record["CurrencyIsoCode"] for record in _query(session, instance, soql).json()["records"]] == ["USD"] * 3
    hiding.hide_salesforce_fields({"Account": ["CurrencyIsoCode"]})
    assert requests.delete(f"{hiding.url}{HIDDEN_FIELDS}", timeout=10).json() == {}
    assert "CurrencyIsoCode" in _described(session, instance, "Account")
    assert requests.get(f"{hiding.url}{HIDDEN_FIELDS}", timeout=10).json() == {}


@pytest.mark.parametrize("body", ['["Email"]', '{"Acount": ["Name"]}', '{"Lead": "Email"}', '{"Lead": [""]}', "{"])
def test_a_hidden_fields_setting_that_is_not_one_is_refused_and_the_last_one_kept(hiding, body):
    hiding.hide_salesforce_fields({"Lead": ["Email"]})
    response = requests.post(f"{hiding.url}{HIDDEN_FIELDS}", data=body, timeout=10)
    assert response.status_code == 400 and "error" in response.json()
    assert requests.get(f"{hiding.url}{HIDDEN_FIELDS}", timeout=10).json() == {"Lead": ["Email"]}
