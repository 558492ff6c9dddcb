"""alignment_issues on hand-written inputs over two nights: each rule fires, and the incremental model keeps an
issue's first detection, removes issues that went away and adds new ones."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

import duckdb
import pytest

from tests.transform.helpers import raw_warehouse, rows
from tests.transform.helpers import run_dbt as run_dbt_on
from tests.transform_revenue.support import create_inputs, insert, query, run_dbt

AS_OF = date(2026, 4, 15)


def account(account_id: str, name: str, customer: bool, salesforce_id: str | None, hubspot_id: str | None) -> dict:
    return {"account_id": account_id, "account_name": name, "is_customer": customer, "is_deleted": False,
            "salesforce_account_id": salesforce_id, "hubspot_company_id": hubspot_id}


def company_record(account_id: str, system: str, record_id: str, owner: str | None = "Ann Lee", stage=None,
                   domain: str | None = None, account_type: str | None = None, rule: str = "single_record",
                   owner_email: str | None = None) -> dict:
    return {"entity_id": account_id, "source_system": system, "source_record_id": record_id,
            "record_key": f"{system}:{record_id}", "account_name": account_id, "account_type": account_type,
            "lifecycle_stage": stage, "owner_name": owner, "owner_email": owner_email, "domain_key": domain,
            "match_rule": rule, "is_deleted": False, "is_merged": False}


def person_record(prospect_id: str, system: str, record_id: str, email: str, stage: str | None = None,
                  owner: str | None = None, owner_email: str | None = None, converted: bool | None = None) -> dict:
    return {"entity_id": prospect_id, "source_system": system, "source_record_id": record_id,
            "record_key": f"{system}:{record_id}", "email": email, "lifecycle_stage": stage, "match_rule": "email",
            "owner_name": owner, "owner_email": owner_email, "is_converted": converted, "is_deleted": False,
            "is_merged": False}


def opportunity(opportunity_id: str, account_id: str | None, prospect_id: str | None = None, won: bool = False,
                owner: str | None = "Ann Lee", currency: str | None = "USD") -> dict:
    return {"opportunity_id": opportunity_id, "source_system": "salesforce", "source_opportunity_id": opportunity_id,
            "account_id": account_id, "primary_prospect_id": prospect_id, "owner_name": owner,
            "opportunity_name": opportunity_id, "stage_category": "won" if won else "open", "is_closed": won,
            "is_won": won, "created_at": datetime(2026, 1, 1, tzinfo=UTC), "amount": 100, "currency_code": currency,
            "amount_reporting": 100 if currency else None,
            "closed_at": datetime(2026, 2, 1, tzinfo=UTC) if won else None}


NIGHT_ONE = {
    "marts.accounts": [
        account("A1", "Acme", True, "001A", "501"),
        account("A2", "Beta", False, "001B", None),
        account("A3", "Gamma", False, "001C", None),
        account("A4", "Delta", False, None, "502"),
        account("A5", "Epsilon", False, "001D", None),
        # Zeta's HubSpot company carries a broken sync id, but other links put both records in one account anyway
        account("A6", "Zeta", False, "001E", "504"),
        # Robert Smith in Salesforce is Bob Smith in HubSpot (one e-mail); Eta's two Ann Lees are two users
        account("A7", "Theta", False, "001F", "505"),
        account("A8", "Eta", False, "001G", "506"),
        # Iota's HubSpot owner never set her name: an owner all the same
        account("A9", "Iota", True, None, "507"),
    ],
    "intermediate.int_account_records_clustered": [
        company_record("A1", "salesforce", "001A", owner="Ann Lee", account_type="Customer - Direct"),
        company_record("A1", "hubspot", "501", owner="Bob Stone", stage="lead"),
        company_record("A2", "salesforce", "001B"),
        company_record("A3", "salesforce", "001C", domain="gamma.com"),
        company_record("A3", "salesforce", "001C2", domain="gamma.com", rule="domain"),
        company_record("A4", "hubspot", "502", domain="delta.com"),
        company_record("A5", "salesforce", "001D", domain="epsilon.com"),
        company_record("A6", "salesforce", "001E", domain="zeta.com"),
        company_record("A6", "hubspot", "504", domain="omega.com"),
        company_record("A7", "salesforce", "001F", owner="Robert Smith", owner_email="rsmith@ourco.com"),
        company_record("A7", "hubspot", "505", owner="Bob Smith", owner_email="rsmith@ourco.com"),
        company_record("A8", "salesforce", "001G", owner="Ann Lee", owner_email="ann.lee@ourco.com"),
        company_record("A8", "hubspot", "506", owner="Ann Lee", owner_email="alee@ourco.com"),
        company_record("A9", "hubspot", "507", owner=None, owner_email="carol@ourco.com", stage="customer"),
    ],
    "intermediate.int_account_native_ids_checked": [
        {"record_key": "hubspot:502", "target_record_key": "salesforce:001D", "domain_agreement": "conflict",
         "name_agreement": "conflict", "is_trusted": False},
        {"record_key": "hubspot:504", "target_record_key": "salesforce:001E", "domain_agreement": "conflict",
         "name_agreement": "conflict", "is_trusted": False},
    ],
    # Rae's HubSpot contact names her Salesforce contact with a name that disagrees, but their e-mail put them
    # together anyway: no sync link conflict saying they are kept apart
    "intermediate.int_person_native_ids_checked": [
        {"record_key": "hubspot_contact:902", "target_record_key": "salesforce_contact:003R",
         "email_agreement": "agree", "name_agreement": "conflict", "is_trusted": False},
    ],
    "marts.opportunities": [
        opportunity("OP1", None, owner=None),
        opportunity("OP2", "A2", currency=None),
        opportunity("OP3", "A1", prospect_id="PR1", won=True),
        opportunity("OP4", "A1", prospect_id="PR3", won=True),
    ],
    "marts.prospects": [
        {"prospect_id": "PR1", "first_name": "Pat", "last_name": "Doe", "email": "pat@acme.com", "account_id": "A1",
         "salesforce_contact_id": "003P", "hubspot_contact_id": "901", "is_deleted": False},
        {"prospect_id": "PR2", "first_name": "Quinn", "last_name": "Roe", "email": "quinn@beta.com",
         "account_id": "A2", "salesforce_lead_id": "00QQ", "salesforce_contact_id": "003Q", "is_deleted": False},
        # Rae's contact sits at Beta (no customer), but she is the primary contact of Acme's won OP4: a customer in
        # both CRMs, no conflict
        {"prospect_id": "PR3", "first_name": "Rae", "last_name": "Poe", "email": "rae@beta.com", "account_id": "A2",
         "salesforce_contact_id": "003R", "hubspot_contact_id": "902", "is_deleted": False},
    ],
    "intermediate.int_person_records_clustered": [
        # Pat is Ann's contact in Salesforce, Bob's in HubSpot
        person_record("PR1", "salesforce_contact", "003P", "pat@acme.com", owner="Ann Lee",
                      owner_email="ann.lee@ourco.com"),
        person_record("PR1", "hubspot_contact", "901", "pat@acme.com", stage="lead", owner="Bob Stone",
                      owner_email="bob@ourco.com"),
        # Quinn is a Salesforce contact, and an open lead nobody converted
        person_record("PR2", "salesforce_contact", "003Q", "quinn@beta.com"),
        person_record("PR2", "salesforce_lead", "00QQ", "quinn@beta.com", converted=False),
        # Rae's owner is Robert Smith in Salesforce and Bob Smith in HubSpot: one user
        person_record("PR3", "salesforce_contact", "003R", "rae@beta.com", owner="Robert Smith",
                      owner_email="rsmith@ourco.com"),
        person_record("PR3", "hubspot_contact", "902", "rae@beta.com", stage="customer", owner="Bob Smith",
                      owner_email="rsmith@ourco.com"),
    ],
}


def issues(warehouse) -> dict[tuple, tuple]:
    """(entity, issue type, Salesforce id, HubSpot id) -> (issue id, severity, first detected, detail)."""
    return {(entity, kind, salesforce, hubspot): (issue_id, severity, first, detail)
            for issue_id, entity, kind, salesforce, hubspot, severity, first, detail in query(warehouse, """
                select issue_id, entity_id, issue_type, salesforce_record_id, hubspot_record_id, severity,
                    first_detected_at, detail
                from marts.alignment_issues""")}


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alignment")
    warehouse = folder / "warehouse.duckdb"
    create_inputs(warehouse, AS_OF)
    with duckdb.connect(str(warehouse)) as connection:
        for table, rows in NIGHT_ONE.items():
            insert(connection, table, rows)
    run_dbt(warehouse, folder, ["build", "--select", "alignment_issues"])
    first = issues(warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        # HubSpot now agrees that Acme is a customer; Beta got its HubSpot company; Gamma got a third record.
        connection.execute("update intermediate.int_account_records_clustered set lifecycle_stage = 'customer' "
                           "where source_record_id = '501'")
        connection.execute("update marts.accounts set hubspot_company_id = '503' where account_id = 'A2'")
        insert(connection, "intermediate.int_account_records_clustered", [
            company_record("A2", "hubspot", "503"),
            company_record("A3", "salesforce", "001C3", domain="gamma.com", rule="domain"),
        ])
    run_dbt(warehouse, folder, ["build", "--select", "alignment_issues"])
    return {"first": first, "second": issues(warehouse), "written": issues_written_by_last_build(warehouse),
            "warehouse": warehouse}


def issues_written_by_last_build(warehouse) -> set[str]:
    """The issue ids the last build of alignment_issues replaced, added or removed (its publish log)."""
    return {key for (key,) in query(warehouse, """
        select scope_key from publish_log.mart_build_scopes
        where model = 'alignment_issues' and invocation_id = (
            select invocation_id from publish_log.mart_builds where model = 'alignment_issues'
            order by built_at desc limit 1)""")}


def test_every_rule_fires(nights):
    found = {(entity, kind, salesforce, hubspot): severity
             for (entity, kind, salesforce, hubspot), (_, severity, _, _) in nights["first"].items()}
    assert found == {
        ("A1", "lifecycle_stage_conflict", "001A", "501"): "high",
        ("A1", "owner_conflict", "001A", "501"): "low",
        ("A2", "missing_in_hubspot", "001B", None): "medium",
        ("A3", "duplicate_record", "001C2", None): "low",
        ("A4", "domain_conflict", "001D", "502"): "medium",
        ("A6", "domain_conflict", "001E", "504"): "medium",
        ("A8", "owner_conflict", "001G", "506"): "low",
        ("A9", "missing_in_salesforce", None, "507"): "high",
        ("OP1", "opportunity_without_account", "OP1", None): "high",
        ("OP1", "missing_owner", "OP1", None): "medium",
        ("OP2", "missing_currency", "OP2", None): "medium",
        ("PR1", "lifecycle_stage_conflict", "OP3", "901"): "high",
        ("PR1", "owner_conflict", "003P", "901"): "low",
        ("PR2", "duplicate_record", "00QQ", None): "low",
    }


def test_details_are_plain_language(nights):
    details = {kind: detail for (_, kind, _, _), (_, _, _, detail) in nights["first"].items()}
    assert details["lifecycle_stage_conflict"] in {
        "HubSpot company 501 of Acme has lifecycle stage 'lead' but it is a customer (first deal won 2026-02-01); "
        "Salesforce account 001A.",
        "Pat Doe is a customer in Salesforce (won opportunity OP3) but HubSpot contact 901 has lifecycle stage 'lead'.",
    }
    owners = {key[0]: detail for key, (_, _, _, detail) in nights["first"].items() if key[1] == "owner_conflict"}
    assert owners == {
        "A1": "Acme is owned by Ann Lee in Salesforce (account 001A) but by Bob Stone in HubSpot (company 501).",
        "PR1": "Pat Doe is owned by Ann Lee in Salesforce (contact 003P) but by Bob Stone in HubSpot (contact 901).",
        "A8": "Eta is owned by Ann Lee in Salesforce (account 001G) but by Ann Lee (another user of that name) in "
              "HubSpot (company 506)."}
    # one issue for Zeta's pair, not a second one saying its records are kept apart
    assert nights["first"][("A6", "domain_conflict", "001E", "504")][3] == (
        "Zeta has domain zeta.com in Salesforce (account 001E) but omega.com in HubSpot (company 504).")
    assert nights["first"][("PR2", "duplicate_record", "00QQ", None)][3] == (
        "Salesforce lead 00QQ duplicates contact 003Q (Quinn Roe, matched by email): merge them.")


def test_issues_keep_their_first_detection_and_resolved_ones_disappear(nights):
    first, second = nights["first"], nights["second"]
    assert ("A1", "lifecycle_stage_conflict", "001A", "501") not in second  # resolved: removed
    assert ("A2", "missing_in_hubspot", "001B", None) not in second
    kept = set(first) & set(second)
    assert ("A1", "owner_conflict", "001A", "501") in kept
    for key in kept:
        assert second[key][0] == first[key][0], key  # same issue id
        assert second[key][2] == first[key][2], key  # same first detection
    new = set(second) - set(first)
    assert new == {("A3", "duplicate_record", "001C3", None)}
    assert second[("A3", "duplicate_record", "001C3", None)][2] > max(value[2] for value in first.values())


def test_a_night_writes_only_the_issues_that_are_new_changed_or_gone(nights):
    first = {issue_id: (severity, detail) for issue_id, severity, _, detail in nights["first"].values()}
    second = {issue_id: (severity, detail) for issue_id, severity, _, detail in nights["second"].values()}
    differing = {issue for issue in first.keys() | second.keys() if first.get(issue) != second.get(issue)}
    assert len(differing) < len(first.keys() | second.keys())  # the night left some issues as they were
    assert nights["written"] == differing


def test_a_column_the_model_no_longer_returns_is_dropped(nights, tmp_path):
    """A warehouse built when alignment_issues still had last_detected_at: the next night drops the column, as a
    full build would, and keeps every issue and its first detection."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(nights["warehouse"], copy)
    with duckdb.connect(str(copy)) as connection:
        connection.execute("alter table marts.alignment_issues add column last_detected_at timestamp")
    run_dbt(copy, tmp_path, ["run", "--select", "alignment_issues"])
    columns = [name for (name,) in query(copy, "select column_name from information_schema.columns "
                                               "where table_name = 'alignment_issues'")]
    assert "last_detected_at" not in columns
    assert issues(copy) == nights["second"]


def test_full_refresh_starts_the_detection_history_over(nights, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(nights["warehouse"], copy)
    run_dbt(copy, tmp_path, ["run", "--select", "alignment_issues", "--full-refresh"])
    refreshed = issues(copy)
    assert set(refreshed) == set(nights["second"])
    assert len({value[2] for value in refreshed.values()}) == 1


def test_an_owner_known_by_two_names_in_the_two_crms_is_one_owner(tmp_path):
    """From raw rows: Robert Smith (Salesforce user) is Bob Smith (HubSpot owner), one e-mail; the account and
    person records carry it, and Acme's two records owned by him are no owner conflict, while Carol's company is,
    and so is Pat, his contact in Salesforce and Carol's in HubSpot."""
    loaded = datetime(2026, 3, 31, 2, tzinfo=UTC)
    created = datetime(2026, 1, 5, 9, tzinfo=UTC)

    def salesforce_account(record_id: str, name: str, website: str) -> dict:
        return {"id": record_id, "is_deleted": False, "name": name, "website": website, "owner_id": "005R",
                "created_date": created, "system_modstamp": created, "_loaded_at": loaded}

    def hubspot_company(record_id: str, name: str, domain: str, owner_id: str, synced_id: str) -> dict:
        return {"id": record_id, "archived": False, "name": name, "domain": domain, "hubspot_owner_id": owner_id,
                "salesforceaccountid": synced_id, "createdate": created, "hs_lastmodifieddate": created,
                "_loaded_at": loaded}

    raw = {
        "raw_salesforce.user": [{"id": "005R", "name": "Robert Smith", "first_name": "Robert", "last_name": "Smith",
                                 "email": "RSmith@ourco.com", "is_active": True, "_loaded_at": loaded}],
        "raw_hubspot.owners": [
            {"id": "11", "first_name": "Bob", "last_name": "Smith", "email": "rsmith@ourco.com", "archived": False,
             "_loaded_at": loaded},
            {"id": "12", "first_name": "Carol", "last_name": "Diaz", "email": "carol@ourco.com", "archived": False,
             "_loaded_at": loaded},
        ],
        "raw_salesforce.account": [salesforce_account("001A", "Acme", "acme.com"),
                                   salesforce_account("001B", "Bolt", "bolt.io")],
        "raw_hubspot.companies": [hubspot_company("501", "Acme", "acme.com", "11", "001A"),
                                  hubspot_company("502", "Bolt", "bolt.io", "12", "001B")],
        "raw_salesforce.contact": [
            {"id": "003P", "is_deleted": False, "account_id": "001A", "first_name": "Pat", "last_name": "Doe",
             "email": "pat@acme.com", "owner_id": "005R", "created_date": created, "system_modstamp": created,
             "_loaded_at": loaded}],
        "raw_hubspot.contacts": [
            {"id": "901", "archived": False, "firstname": "Pat", "lastname": "Doe", "email": "pat@acme.com",
             "hubspot_owner_id": "12", "salesforcecontactid": "003P", "createdate": created,
             "lastmodifieddate": created, "_loaded_at": loaded}],
    }
    warehouse = raw_warehouse(tmp_path / "warehouse.duckdb", raw)
    result = run_dbt_on(warehouse, ["build", "--select", "+alignment_issues", "--indirect-selection", "cautious"],
                        tmp_path)
    assert result.returncode == 0, result.stdout[-6000:]
    assert rows(warehouse, "select record_key, owner_name, owner_email "
                           "from intermediate.int_account_records_clustered order by 1") == [
        ("hubspot:501", "Bob Smith", "rsmith@ourco.com"), ("hubspot:502", "Carol Diaz", "carol@ourco.com"),
        ("salesforce:001A", "Robert Smith", "rsmith@ourco.com"),
        ("salesforce:001B", "Robert Smith", "rsmith@ourco.com")]
    assert rows(warehouse, "select record_key, owner_name, owner_email "
                           "from intermediate.int_person_records_clustered order by 1") == [
        ("hubspot_contact:901", "Carol Diaz", "carol@ourco.com"),
        ("salesforce_contact:003P", "Robert Smith", "rsmith@ourco.com")]
    assert rows(warehouse, "select entity_type, salesforce_record_id, hubspot_record_id from marts.alignment_issues "
                           "where issue_type = 'owner_conflict' order by 1") == [
        ("account", "001B", "502"), ("prospect", "003P", "901")]
