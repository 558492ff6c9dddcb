"""A discovered field whose warehouse column a declared field holds gets a column of its own in every ``discover``.

HubSpot (the properties API), LinkedIn (the keys of its objects) and Salesforce (``describe``, with the declared field
hidden from the integration user) each report a field named like a declared one; the field is neither dropped nor
written into the declared column. Run for real: one sandbox serving a hand-written dataset, the connectors, dlt into
DuckDB.
"""

import hashlib
from datetime import UTC, datetime

import pytest

from connectors.hubspot.streams import CONTACTS
from connectors.linkedin_ads.streams import CAMPAIGNS
from connectors.salesforce.streams import ACCOUNT
from sandbox.launcher import running_sandbox
from tests.ads_fixtures import SANDBOX_CLOCK, linkedin_client
from tests.conftest import salesforce_account, write_dataset
from tests.connectors.test_crm_acceptance import Warehouse, hubspot_client, hubspot_contact, salesforce_client

ACCOUNTS = 20
#: The stamp of the Accounts changed on the second night: after every first-night stamp, before the sandbox's clock.
SECOND_NIGHT = "2026-03-01T00:00:00.000+0000"
CONTACT_COUNT = 10
#: When each contact signed up in the product, kept by the portal in a custom property of its own.
SIGNED_UP = "2019-03-04T05:06:{second:02d}.000Z"
L_ACCOUNT = 508812345
L_CAMPAIGNS = (312456781, 312456782)
CREATED_MILLIS = 1775001600000  # the campaigns' changeAuditStamps.created.time


def _hashed(column: str, source: str) -> str:
    """The column a discovered field gets when its name collides: ``<column>_<6 hex digits of SHA-1 of its source>``."""
    return f"{column}_{hashlib.sha1(source.encode()).hexdigest()[:6]}"


def _contacts() -> list[dict]:
    """Contacts of a portal with a custom ``created_at`` property: its column is the one of HubSpot's ``createdAt``."""
    contacts = [hubspot_contact(n, f"2026-01-01T00:00:{n:02d}.000Z") for n in range(CONTACT_COUNT)]
    for n, contact in enumerate(contacts):
        contact["properties"]["created_at"] = SIGNED_UP.format(second=n)
    return contacts


def _linkedin() -> dict[tuple[str, str], list[dict]]:
    """One account, one campaign group and two campaigns carrying a top-level ``createdAt`` LinkedIn added, named like
    the declared ``created_at`` (``changeAuditStamps.created.time``)."""
    account = {"id": L_ACCOUNT, "name": "Acme EMEA", "currency": "EUR", "status": "ACTIVE", "type": "BUSINESS"}
    group = {"id": 7001, "account": f"urn:li:sponsoredAccount:{L_ACCOUNT}", "name": "Group 7001", "status": "ACTIVE"}
    campaigns = [{"id": cid, "account": f"urn:li:sponsoredAccount:{L_ACCOUNT}",
                  "campaignGroup": "urn:li:sponsoredCampaignGroup:7001", "name": f"Campaign {cid}", "status": "ACTIVE",
                  "type": "SPONSORED_UPDATES", "costType": "CPM", "runSchedule": {"start": CREATED_MILLIS},
                  "changeAuditStamps": {"created": {"time": CREATED_MILLIS},
                                        "lastModified": {"time": CREATED_MILLIS + 1}},
                  "createdAt": CREATED_MILLIS + cid % 10}
                 for cid in L_CAMPAIGNS]
    return {("linkedin_ads", "ad_accounts"): [account], ("linkedin_ads", "campaign_groups"): [group],
            ("linkedin_ads", "campaigns"): campaigns}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """A sandbox serving the Accounts (with a look-alike ``Currency_Iso_Code``), the contacts and the campaigns."""
    accounts = [salesforce_account(n, Currency_Iso_Code=f"night-1-{n}") for n in range(ACCOUNTS)]
    folder = write_dataset(tmp_path_factory.mktemp("collisions"), {
        ("salesforce", "Account"): accounts, ("hubspot", "contacts"): _contacts(), **_linkedin()})
    (folder / "clock.txt").write_text(SANDBOX_CLOCK + "\n")
    with running_sandbox(dataset=folder) as running:
        yield running


@pytest.fixture
def warehouse(tmp_path):
    return Warehouse(tmp_path)


def test_hubspot_a_custom_property_named_like_a_declared_column_loads_into_a_column_of_its_own(sandbox, warehouse):
    client = hubspot_client(sandbox.url)
    stream = client.discover(CONTACTS)
    assert stream.fields[:len(CONTACTS.fields)] == CONTACTS.fields
    sources = [f.source for f in stream.fields]
    assert len(sources) == len(set(sources))  # the declared properties are recognised by their source, not added again
    signed_up = _hashed("created_at", "properties.created_at")
    assert {f.source: f.column for f in stream.fields}["properties.created_at"] == signed_up

    warehouse.load("hubspot", [CONTACTS], client)
    rows = warehouse.rows(f"select id, created_at, {signed_up} from raw_hubspot.contacts order by id")
    assert rows == [(str(1000 + n), datetime(2025, 1, 1, tzinfo=UTC),
                     datetime.fromisoformat(SIGNED_UP.format(second=n)))
                    for n in range(CONTACT_COUNT)]


def test_linkedin_a_new_field_named_like_a_declared_column_loads_into_a_column_of_its_own(sandbox, warehouse):
    client = linkedin_client(sandbox.url)
    created = _hashed("created_at", "createdAt")
    assert {f.source: f.column for f in client.discover(CAMPAIGNS).fields}["createdAt"] == created

    warehouse.load("linkedin_ads", [CAMPAIGNS], client)
    rows = warehouse.rows(f"select id, created_at, {created} from raw_linkedin_ads.campaigns order by id")
    assert rows == [(str(cid), datetime.fromtimestamp(CREATED_MILLIS / 1000, UTC), CREATED_MILLIS + cid % 10)
                    for cid in L_CAMPAIGNS]


@pytest.fixture
def org(sandbox):
    """The module's sandbox, every Salesforce field shown again after the test."""
    yield sandbox
    sandbox.hide_salesforce_fields(None)


def test_salesforce_a_look_alike_does_not_take_the_column_of_a_declared_field_hidden_from_describe(org, warehouse):
    """``CurrencyIsoCode`` loads a night, then field-level security hides it: its column keeps the values loaded
    before, and the look-alike ``Currency_Iso_Code`` stays in its own column instead of moving into it."""
    look_alike = _hashed("currency_iso_code", "Currency_Iso_Code")
    first = salesforce_client(org.url)
    assert {f.source: f.column for f in first.discover(ACCOUNT).fields}["Currency_Iso_Code"] == look_alike
    warehouse.load("salesforce", [ACCOUNT], first)

    org.hide_salesforce_fields({"Account": ["CurrencyIsoCode"]})
    # The newer half changes (the newest first-night record, read again in the lookback, among them); the other
    # half is not read again.
    changed = range(ACCOUNTS // 2, ACCOUNTS)
    org.upsert("salesforce", "Account", [
        salesforce_account(n, SystemModstamp=SECOND_NIGHT, LastModifiedDate=SECOND_NIGHT,
                           Currency_Iso_Code=f"night-2-{n}")
        for n in changed])
    second = salesforce_client(org.url)
    stream = second.discover(ACCOUNT)
    columns = {f.source: f.column for f in stream.fields}
    assert "CurrencyIsoCode" not in columns and columns["Currency_Iso_Code"] == look_alike
    assert warehouse.load("salesforce", [ACCOUNT], second)["account"].rows == len(changed)

    # The declared column keeps the first night's values, null in the rows merged since (never the look-alike's);
    # the look-alike's column holds its value of the night each row was read.
    rows = warehouse.rows(f"select id, currency_iso_code, {look_alike} from raw_salesforce.account order by id")
    assert rows == [(f"001SANDBOX{n:08d}", None if n in changed else "USD", f"night-{2 if n in changed else 1}-{n}")
                    for n in range(ACCOUNTS)]
