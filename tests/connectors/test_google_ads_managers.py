"""Google Ads accounts reached through a manager account (MCC): the OAuth user can reach only the manager
directly, so ``listAccessibleCustomers`` names only it; the client accounts under it are found with
``FROM customer_client`` on the manager and read with the manager's ``login-customer-id``. Accounts that are not
enabled (canceled, suspended) are skipped: under a manager by the query's status filter, reached directly because
Google refuses them (``CUSTOMER_NOT_ENABLED``)."""

import logging
from collections import defaultdict

import pytest
import requests

from connectors.errors import SourceError
from connectors.google_ads.streams import CAMPAIGN_DAILY_METRICS, CAMPAIGNS, CUSTOMERS
from sandbox import auth
from sandbox.apis.google_ads import DEVELOPER_TOKEN
from tests.ads_fixtures import DAYS, google_client, rows_of, running_ads_sandbox

MCC, SUB, OTHER_MCC = "5555555555", "4444444444", "6666666666"
DE, US, DIRECT, CANCELED, STRANGER = "1234567890", "9876543210", "2222222222", "1111111111", "3333333333"
#: Accounts the user reaches directly that are not enabled: Google refuses every query on them.
GONE, BARRED = "7777777777", "8888888888"
#: Customers with their currency and time zone; the managers and the accounts not enabled have no metrics read.
CUSTOMER_ROWS = {
    MCC: ("USD", "America/New_York", {"customer.manager": True}),
    SUB: ("USD", "America/New_York", {"customer.manager": True}),
    OTHER_MCC: ("EUR", "Europe/Berlin", {"customer.manager": True}),
    DE: ("EUR", "Europe/Berlin", {"customer.status": "ENABLED"}),
    US: ("USD", "America/Los_Angeles", {}),
    DIRECT: ("GBP", "Europe/London", {"customer.status": "ENABLED"}),
    CANCELED: ("EUR", "Europe/Berlin", {"customer.status": "CANCELED"}),
    STRANGER: ("USD", "America/Chicago", {}),
    GONE: ("EUR", "Europe/Paris", {"customer.status": "CANCELED"}),
    BARRED: ("USD", "America/Denver", {"customer.status": "SUSPENDED"}),
}
#: MCC → DE, CANCELED, DIRECT and SUB → US (level 2); OTHER_MCC → DE too; STRANGER belongs to nobody.
LINKS = [(MCC, DE), (MCC, CANCELED), (MCC, DIRECT), (MCC, SUB), (SUB, US), (OTHER_MCC, DE)]
ACCESSIBLE = (MCC, DIRECT, OTHER_MCC, GONE, BARRED)
CLIENTS = "SELECT customer_client.id, customer_client.level, customer_client.manager, customer_client.status FROM " \
          "customer_client"


def _dataset() -> dict:
    customers = [{"customer.id": cid, "customer.descriptive_name": f"Account {cid}", "customer.currency_code": currency,
                  "customer.time_zone": zone, **extra} for cid, (currency, zone, extra) in CUSTOMER_ROWS.items()]
    campaigns = {cid: str(n) * 3 for n, cid in enumerate((DE, US, DIRECT, CANCELED, STRANGER, GONE, BARRED), start=1)}
    metrics = [{"customer.id": cid, "campaign.id": campaign, "campaign.name": f"Campaign {campaign}",
                "campaign.status": "ENABLED", "segments.date": day.isoformat(), "metrics.impressions": "100",
                "metrics.clicks": "5", "metrics.cost_micros": "2500000", "metrics.conversions": 1.0,
                "metrics.conversions_value": 10.0} for cid, campaign in campaigns.items() for day in DAYS]
    links = [{"customer.id": manager, "customer_client_link.client_customer": f"customers/{client}",
              "customer_client_link.status": "ACTIVE"} for manager, client in LINKS]
    links.append({"customer.id": OTHER_MCC, "customer_client_link.client_customer": f"customers/{STRANGER}",
                  "customer_client_link.status": "INACTIVE"})
    return {("google_ads", "customer"): customers,
            ("google_ads", "campaign"): [{k: v for k, v in row.items() if not k.startswith(("segments", "metrics"))}
                                         for row in metrics[::len(DAYS)]],
            ("google_ads", "campaign_metrics"): metrics,
            ("google_ads", "customer_client_link"): links,
            ("google_ads", "accessible_customers"): [{"customer.id": cid} for cid in ACCESSIBLE]}


@pytest.fixture(scope="module")
def google(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory, records=_dataset(), extra_args=("--page-size", "7")) as running:
        yield running


def _sent(client) -> list[tuple[str, str | None, str]]:
    """Record every query the client sends: (customer, its login-customer-id header, the resource it reads)."""
    seen, request = [], client.http.session.request

    def spy(method, url, **kwargs):
        if "/customers/" in url:
            query = (kwargs.get("json") or {}).get("query", "")
            resource = query.split(" FROM ")[1].split()[0]
            seen.append((url.split("/customers/")[1].split("/")[0], kwargs["headers"].get("login-customer-id"),
                         resource))
        return request(method, url, **kwargs)

    client.http.session.request = spy
    return seen


def _logins(sent) -> dict[str, set]:
    by_customer = defaultdict(set)
    for customer, login, _ in sent:
        by_customer[customer].add(login)
    return dict(by_customer)


def test_clients_reached_only_through_a_manager_are_synced_with_the_managers_login_customer_id(google):
    client = google_client(google.url)
    sent = _sent(client)
    rows = rows_of(client.read_pages(CAMPAIGN_DAILY_METRICS))
    by_customer = defaultdict(list)
    for row in rows:
        by_customer[row["customer"]["id"]].append(row)
    # Both clients of the manager, one of them two levels down; the canceled one and the stranger are not read.
    assert sorted(by_customer) == sorted((DE, US, DIRECT))
    assert all(len(rows) == len(DAYS) for rows in by_customer.values())  # each account once, though reachable twice
    assert {cid: {(r["_currency_code"], r["_account_time_zone"]) for r in rows} for cid, rows in by_customer.items()} \
        == {DE: {("EUR", "Europe/Berlin")}, US: {("USD", "America/Los_Angeles")}, DIRECT: {("GBP", "Europe/London")}}
    # Clients found under a manager carry its id; the accounts the user reaches directly need none.
    assert _logins(sent) == {MCC: {None}, OTHER_MCC: {None}, DIRECT: {None}, DE: {MCC}, US: {MCC}, GONE: {None},
                             BARRED: {None}}
    assert sorted(customer for customer, _, resource in sent if resource == "customer_client") == [MCC, OTHER_MCC]


def test_the_customers_stream_holds_the_direct_accounts_and_the_enabled_clients_under_them(google):
    rows = rows_of(google_client(google.url).read_pages(CUSTOMERS))
    assert sorted(row["customer"]["id"] for row in rows) == sorted((MCC, OTHER_MCC, DIRECT, DE, US))
    assert {row["customer"]["id"]: row["customer"]["currencyCode"] for row in rows}[US] == "USD"


def test_configured_customer_ids_are_read_as_configured(google):
    client = google_client(google.url, customer_ids=("123-456-7890",), login_customer_id="555-555-5555")
    sent = _sent(client)
    rows = rows_of(client.read_pages(CAMPAIGN_DAILY_METRICS))
    assert {row["customer"]["id"] for row in rows} == {DE} and len(rows) == len(DAYS)
    assert {(customer, login) for customer, login, _ in sent} == {(DE, MCC)}  # no discovery, the configured login
    with pytest.raises(SourceError, match="USER_PERMISSION_DENIED"):  # a client without its manager's id
        google_client(google.url, customer_ids=(DE,)).customers()


def _skipped(caplog) -> list[str]:
    """The warnings of the Google Ads client that say an account is skipped."""
    return [record.getMessage() for record in caplog.records if record.name == "connectors.google_ads"
            and record.levelno == logging.WARNING and "skipped" in record.getMessage()]


def test_directly_reached_accounts_that_are_not_enabled_are_skipped_with_a_warning_naming_them(google, caplog):
    client = google_client(google.url)
    sent = _sent(client)
    rows = rows_of(client.read_pages(CAMPAIGN_DAILY_METRICS))
    per_customer = defaultdict(int)
    for row in rows:
        per_customer[row["customer"]["id"]] += 1
    assert per_customer == {DE: len(DAYS), US: len(DAYS), DIRECT: len(DAYS)}  # every row of every enabled account
    campaigns = rows_of(client.read_pages(CAMPAIGNS))
    assert sorted(row["customer"]["id"] for row in campaigns) == sorted((DE, US, DIRECT))
    # The canceled and the suspended account were asked one thing, their customer row, and were refused it.
    assert sorted((customer, resource) for customer, _, resource in sent if customer in (GONE, BARRED)) \
        == [(GONE, "customer"), (BARRED, "customer")]
    skipped = _skipped(caplog)
    assert len(skipped) == 2
    for customer, message in zip((GONE, BARRED), skipped, strict=True):
        assert f"customer {customer} skipped" in message and "not ENABLED" in message
        assert "CUSTOMER_NOT_ENABLED" in message and "configured" not in message


def test_configured_customer_ids_naming_an_account_that_is_not_enabled_skip_it_with_a_warning(google, caplog):
    rows = rows_of(google_client(google.url, customer_ids=(DIRECT, GONE)).read_pages(CAMPAIGN_DAILY_METRICS))
    assert {row["customer"]["id"] for row in rows} == {DIRECT} and len(rows) == len(DAYS)
    # A client under a manager that is not enabled itself, configured with that manager's login: skipped the same way.
    through_manager = google_client(google.url, customer_ids=(CANCELED, DE), login_customer_id=MCC)
    rows = rows_of(through_manager.read_pages(CAMPAIGN_DAILY_METRICS))
    assert {row["customer"]["id"] for row in rows} == {DE} and len(rows) == len(DAYS)
    skipped = _skipped(caplog)
    assert [customer for customer in (GONE, CANCELED) if any(f"configured customer {customer} skipped" in message
                                                              for message in skipped)] == [GONE, CANCELED]
    assert all("removed from customer_ids" in message for message in skipped) and len(skipped) == 2


def test_only_the_refusal_of_an_account_that_is_not_enabled_is_tolerated_and_only_on_its_customer_row(google):
    # A permission error on an enabled account still fails the read, after an account that is not enabled.
    with pytest.raises(SourceError, match="USER_PERMISSION_DENIED"):
        google_client(google.url, customer_ids=(GONE, DE)).customers()
    with pytest.raises(SourceError, match="USER_PERMISSION_DENIED"):  # discovery through the wrong manager
        google_client(google.url, login_customer_id=OTHER_MCC).customers()
    # An account canceled after its customer row was read fails the read of its rows: nothing is dropped silently.
    client = google_client(google.url, customer_ids=(DIRECT, GONE))
    assert list(client.customers()) == [DIRECT]
    google.upsert("google_ads", "customer", [{"customer.id": DIRECT, "customer.status": "CANCELED"}])
    try:
        with pytest.raises(SourceError, match="CUSTOMER_NOT_ENABLED"):
            rows_of(client.read_pages(CAMPAIGN_DAILY_METRICS))
    finally:
        google.upsert("google_ads", "customer", [{"customer.id": DIRECT, "customer.status": "ENABLED"}])


def _headers(base: str, login: str | None = None) -> dict:
    token = requests.post(f"{base}/token", data={"grant_type": "refresh_token", "client_id": auth.CLIENT_ID,
                                                 "client_secret": auth.CLIENT_SECRET,
                                                 "refresh_token": auth.REFRESH_TOKEN}, timeout=10).json()
    headers = {"Authorization": f"Bearer {token['access_token']}", "developer-token": DEVELOPER_TOKEN}
    return {**headers, "login-customer-id": login} if login else headers


def _search(base: str, cid: str, query: str, login: str | None = None) -> requests.Response:
    return requests.post(f"{base}/v26/customers/{cid}/googleAds:search", json={"query": query},
                         headers=_headers(base, login), timeout=30)


def test_the_sandbox_lets_the_user_reach_clients_only_through_an_accessible_manager(google):
    listed = requests.get(f"{google.url}/v26/customers:listAccessibleCustomers", headers=_headers(google.url),
                          timeout=10).json()
    assert sorted(listed["resourceNames"]) == sorted(f"customers/{cid}" for cid in ACCESSIBLE)
    query = "SELECT customer.id FROM customer"
    allowed = [(DE, MCC), (DE, OTHER_MCC), (US, MCC), (MCC, None), (MCC, MCC), (DIRECT, None), (DIRECT, MCC)]
    refused = [(DE, None), (DE, DIRECT), (US, SUB), (US, OTHER_MCC), (STRANGER, MCC), (STRANGER, OTHER_MCC),
               (OTHER_MCC, MCC)]
    assert [_search(google.url, cid, query, login).status_code for cid, login in allowed] == [200] * len(allowed)
    for cid, login in refused:
        answer = _search(google.url, cid, query, login)
        assert answer.status_code == 403, (cid, login)
        assert answer.json()["error"]["details"][0]["errors"][0]["errorCode"] == {
            "authorizationError": "USER_PERMISSION_DENIED"}


def test_the_sandbox_refuses_an_account_that_is_not_enabled_only_to_a_user_who_may_reach_it(google):
    query = "SELECT customer.id, customer.status FROM customer"
    not_enabled = [(GONE, None), (BARRED, None), (CANCELED, MCC)]
    for cid, login in not_enabled:
        answer = _search(google.url, cid, query, login)
        assert answer.status_code == 403 and answer.json()["error"]["status"] == "PERMISSION_DENIED", (cid, login)
        assert answer.json()["error"]["details"][0]["errors"][0]["errorCode"] == {
            "authorizationError": "CUSTOMER_NOT_ENABLED"}
    stranger = _search(google.url, CANCELED, query)  # not reachable without its manager: its status stays hidden
    assert stranger.json()["error"]["details"][0]["errors"][0]["errorCode"] == {
        "authorizationError": "USER_PERMISSION_DENIED"}


def test_the_sandbox_answers_customer_client_with_the_whole_hierarchy_of_a_manager(google):
    answer = _search(google.url, MCC, CLIENTS).json()
    clients = {row["customerClient"]["id"]: row["customerClient"] for row in answer["results"]}
    assert {cid: (c["level"], c["manager"], c["status"]) for cid, c in clients.items()} == {
        MCC: ("0", True, "ENABLED"), SUB: ("1", True, "ENABLED"), DE: ("1", False, "ENABLED"),
        CANCELED: ("1", False, "CANCELED"), DIRECT: ("1", False, "ENABLED"), US: ("2", False, "ENABLED")}
    assert clients[US]["resourceName"] == f"customers/{MCC}/customerClients/{US}"
    enabled = _search(google.url, MCC, f"{CLIENTS} WHERE customer_client.status = 'ENABLED'").json()["results"]
    assert CANCELED not in {row["customerClient"]["id"] for row in enabled}
    assert "results" not in _search(google.url, DE, CLIENTS, MCC).json()  # only managers have clients
    metrics = _search(google.url, MCC, "SELECT customer_client.id, metrics.clicks FROM customer_client")
    assert metrics.status_code == 400 and "PROHIBITED_METRIC_IN_SELECT_OR_WHERE_CLAUSE" in metrics.text
