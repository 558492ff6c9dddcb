"""The Salesforce emulator's hard delete (``POST /_sandbox/salesforce/hard-delete``): the records it names vanish from
``query``, ``queryAll`` and ``COUNT()`` as a purged recycle bin's do, the sandbox's record counts drop with them, and
``describe`` stays as it was; a request naming an unknown object or id removes nothing."""

from urllib.parse import quote

import pytest
import requests

from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset

ACCOUNTS = 30
SOFT_DELETED = {3, 17}
CONTROL = "/_sandbox/salesforce/hard-delete"


@pytest.fixture
def salesforce(tmp_path):
    """A sandbox of its own per test: a hard delete cannot be undone."""
    records = [salesforce_account(n, IsDeleted=n in SOFT_DELETED) for n in range(ACCOUNTS)]
    with running_sandbox(dataset=write_dataset(tmp_path, {("salesforce", "Account"): records})) as running:
        yield running


def _account_id(number: int) -> str:
    return salesforce_account(number)["Id"]


class _Org:
    """Plain REST calls to the sandbox's Salesforce, as the real API is called."""

    def __init__(self, url: str) -> None:
        form = {"grant_type": "refresh_token", "client_id": auth.CLIENT_ID, "client_secret": auth.CLIENT_SECRET,
                "refresh_token": auth.REFRESH_TOKEN}
        grant = requests.post(f"{url}/services/oauth2/token", data=form, timeout=10).json()
        self.base = f"{grant['instance_url']}/services/data/v60.0"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {grant['access_token']}"

    def get(self, path: str) -> dict:
        response = self.session.get(f"{self.base}/{path}", timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def records(self, soql: str, endpoint: str = "queryAll") -> list[dict]:
        """Every record the query answers, its next pages followed."""
        body = self.get(f"{endpoint}?q={quote(soql, safe='')}")
        records = body["records"]
        while not body["done"]:
            body = self.get(body["nextRecordsUrl"].split("/v60.0/", 1)[1])
            records += body["records"]
        return records

    def ids(self, soql: str, endpoint: str = "queryAll") -> set[str]:
        return {record["Id"] for record in self.records(soql, endpoint)}

    def count(self) -> int:
        return self.get(f"query?q={quote('SELECT COUNT() FROM Account', safe='')}")["totalSize"]


def _stats_count(salesforce) -> int:
    return salesforce.stats()["records"]["salesforce/Account"]


def test_hard_deleted_records_vanish_from_query_query_all_count_and_the_stats(salesforce):
    org = _Org(salesforce.url)
    live, soft_deleted = _account_id(5), _account_id(3)
    stamp = salesforce_account(5)["SystemModstamp"]
    in_range = f"SELECT Id FROM Account WHERE SystemModstamp >= {stamp[:19]}Z ORDER BY SystemModstamp ASC"
    described = org.get("sobjects/Account/describe")
    assert {live, soft_deleted} <= org.ids("SELECT Id FROM Account") and live in org.ids(in_range)
    assert org.count() == ACCOUNTS - len(SOFT_DELETED) and _stats_count(salesforce) == ACCOUNTS

    answer = salesforce.hard_delete_salesforce("Account", [live, soft_deleted, live])

    assert answer == {"object": "Account", "removed": [live, soft_deleted]}
    all_ids = org.ids("SELECT Id FROM Account")
    assert live not in all_ids and soft_deleted not in all_ids and len(all_ids) == ACCOUNTS - 2
    assert live not in org.ids("SELECT Id FROM Account", endpoint="query")
    assert live not in org.ids(in_range)  # the SystemModstamp index was rebuilt without it
    assert org.count() == ACCOUNTS - len(SOFT_DELETED) - 1
    assert _stats_count(salesforce) == ACCOUNTS - 2
    assert org.get("sobjects/Account/describe") == described


@pytest.mark.parametrize(("body", "named"), [
    ({"object": "Widget", "ids": ["001SANDBOX00000001"]}, "'Widget' is no object of the org"),
    ({"object": "Account", "ids": [_account_id(1), "001NOSUCHRECORD", "001NOTHERETOO"]},
     "Account holds no record with the id(s) 001NOSUCHRECORD, 001NOTHERETOO: nothing was removed"),
    ({"object": "Account", "ids": []}, "must be a non-empty list of record ids"),
    ({"object": "Account", "ids": "001SANDBOX00000001"}, "must be a non-empty list of record ids"),
    ({"ids": ["001SANDBOX00000001"]}, "the body must be a JSON object"),
    (["Account"], "the body must be a JSON object"),
])
def test_an_unknown_object_or_id_or_a_bad_body_is_refused_naming_it_and_nothing_is_removed(salesforce, body, named):
    response = requests.post(f"{salesforce.url}{CONTROL}", json=body, timeout=10)
    assert response.status_code == 400 and named in response.json()["error"]
    assert _stats_count(salesforce) == ACCOUNTS
    assert _account_id(1) in _Org(salesforce.url).ids("SELECT Id FROM Account")


def test_the_launcher_raises_the_sandboxs_refusal(salesforce):
    with pytest.raises(requests.HTTPError, match="001NOSUCHRECORD"):
        salesforce.hard_delete_salesforce("Account", ["001NOSUCHRECORD"])


def test_a_generated_org_advances_after_a_hard_delete_without_bringing_the_records_back():
    """Time travel rebuilds its view of the data from the tables, so records gone from them stay gone and are not
    needed: accounts with their contacts and opportunities removed, then a week of activity."""
    with running_sandbox(scale="S") as sandbox:
        org = _Org(sandbox.url)
        accounts = sorted(org.ids("SELECT Id FROM Account"))[:5]
        children = {obj: {record["Id"] for record in org.records(f"SELECT Id, AccountId FROM {obj}")
                          if record["AccountId"] in accounts} for obj in ("Contact", "Opportunity")}
        assert children["Contact"] and children["Opportunity"]
        for obj, ids in [("Account", accounts), *children.items()]:
            sandbox.hard_delete_salesforce(obj, sorted(ids))

        sandbox.advance(days=7)

        org = _Org(sandbox.url)
        assert not set(accounts) & org.ids("SELECT Id FROM Account")
        for obj, ids in children.items():
            assert not ids & org.ids(f"SELECT Id FROM {obj}")
