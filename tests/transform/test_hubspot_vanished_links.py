"""What the marts do with a HubSpot record that another record points at once it is GDPR-deleted, end to end: real
sandbox, real HubSpot syncs (Dagster raw asset, key reconciliation every run), real dbt builds on DuckDB, the second
one incremental.

A handful of hand-written records: company Gone Co is GDPR-deleted while contact Ann and deal 7001 still name it
(Ann in ``associatedcompanyid`` and her stored associations, the deal in its stored associations: neither is read
again, their stamps being behind the cursor); contact Cat is GDPR-deleted while deal 7002 still names her. Contact
Dan's old record L was merged into S, then S was GDPR-deleted; Eve's record A was merged into B, B into C (C lists B
only), then C was GDPR-deleted. Every record stays in the marts, flagged; a live row names no deleted company or
person, the merged-away records whose person is gone count as deleted, and every dbt test passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.ingest.hubspot import hubspot_raw
from pipelines.lib.key_reconciliation import RECONCILIATION_SETTING
from sandbox.launcher import RunningSandbox, running_sandbox
from tests.conftest import isolated_pipeline_env, write_dataset
from tests.support.warehouse import hubspot_resources
from tests.transform.helpers import raw_tables, rows, run_dbt

CLOCK = datetime(2026, 6, 1, tzinfo=UTC)  # the sandbox's "now": every record is older
CREATED = "2026-01-05T00:00:00.000Z"
MODIFIED = "2026-01-06T00:00:00.000Z"
DEAL_CREATED = "2026-02-01T00:00:00.000Z"  # after the contacts' first visits: they are the deals' touches
GONE_COMPANY, LIVE_COMPANY = "5001", "5002"
ANN, BOB, CAT = "1001", "1002", "1003"
DAN_MERGED, DAN_SURVIVOR = "1004", "1005"  # L merged into S, then S GDPR-deleted
EVE_FIRST, EVE_SECOND, EVE_LAST = "1006", "1007", "1008"  # A merged into B, B into C, then C GDPR-deleted
DEAL_OF_GONE_COMPANY, DEAL_OF_GONE_CONTACT, LATEST_DEAL = "7001", "7002", "7003"
MARTS = ["accounts", "account_source_records", "prospects", "prospect_source_records", "opportunities",
         "touchpoints", "alignment_issues", "attribution", "prospect_funnel"]


def _record(record_id: str, modified_property: str, properties: dict, modified: str, created: str = CREATED) -> dict:
    """A HubSpot CRM record in wire format."""
    return {"id": record_id, "createdAt": created, "updatedAt": modified, "archived": False,
            "properties": {"hs_object_id": record_id, "createdate": created, modified_property: modified,
                           **properties}}


def _company(record_id: str, name: str, domain: str) -> dict:
    return _record(record_id, "hs_lastmodifieddate", {"name": name, "domain": domain}, MODIFIED)


def _contact(record_id: str, first_name: str, email: str, company: str | None = None, modified: str = MODIFIED,
             merged: str | None = None) -> dict:
    """A lead with a tracked first visit (a touch), of `company` (``associatedcompanyid``), absorbing `merged`."""
    return _record(record_id, "lastmodifieddate",
                   {"email": email, "firstname": first_name, "lastname": "Doe", "lifecyclestage": "lead",
                    "hs_lifecyclestage_lead_date": CREATED, "associatedcompanyid": company,
                    "hs_analytics_first_url": "https://example.org/?utm_source=google&utm_medium=cpc",
                    "hs_merged_object_ids": merged}, modified)


def _deal(record_id: str, name: str, won: bool, modified: str = "2026-02-20T00:00:00.000Z") -> dict:
    closed = str(won).lower()
    return _record(record_id, "hs_lastmodifieddate",
                   {"dealname": name, "amount": "1000", "pipeline": "default", "hs_is_closed": closed,
                    "hs_is_closed_won": closed, "closedate": "2026-03-01T00:00:00.000Z"}, modified, DEAL_CREATED)


def _association(from_type: str, from_id: str, to_type: str, to_id: str) -> dict:
    singular = {"contacts": "contact", "companies": "company", "deals": "deal"}
    return {"from_type": from_type, "from_id": from_id, "to_type": to_type, "to_id": to_id,
            "type": f"{singular[from_type]}_to_{singular[to_type]}"}


def _dataset(folder: Path) -> Path:
    """The portal before anything is merged or deleted, as a ``--dataset`` folder."""
    contacts = [_contact(ANN, "Ann", "ann@gone-co.example", GONE_COMPANY),
                _contact(BOB, "Bob", "bob@live-co.example", LIVE_COMPANY),
                _contact(CAT, "Cat", "cat@live-co.example", LIVE_COMPANY),
                _contact(DAN_MERGED, "Dan", "dan.old@dan-mail.example"),
                _contact(DAN_SURVIVOR, "Dan", "dan@dan-mail.example"),
                *(_contact(record_id, "Eve", f"eve.{n}@eve-mail.example")
                  for n, record_id in enumerate((EVE_FIRST, EVE_SECOND, EVE_LAST)))]
    # the latest deal's stamp puts the deals' cursor past the other two: they are never read again
    deals = [_deal(DEAL_OF_GONE_COMPANY, "Renewal", won=False), _deal(DEAL_OF_GONE_CONTACT, "Expansion", won=True),
             _deal(LATEST_DEAL, "Upsell", won=False, modified="2026-05-20T00:00:00.000Z")]
    associations = [_association("contacts", ANN, "companies", GONE_COMPANY),
                    _association("contacts", BOB, "companies", LIVE_COMPANY),
                    _association("contacts", CAT, "companies", LIVE_COMPANY),
                    _association("deals", DEAL_OF_GONE_COMPANY, "companies", GONE_COMPANY),
                    _association("deals", DEAL_OF_GONE_COMPANY, "contacts", BOB),
                    _association("deals", DEAL_OF_GONE_CONTACT, "companies", LIVE_COMPANY),
                    _association("deals", DEAL_OF_GONE_CONTACT, "contacts", CAT),
                    _association("deals", LATEST_DEAL, "companies", LIVE_COMPANY),
                    _association("deals", LATEST_DEAL, "contacts", BOB)]
    write_dataset(folder, {("hubspot", "companies"): [_company(GONE_COMPANY, "Gone Co", "gone-co.example"),
                                                      _company(LIVE_COMPANY, "Live Co", "live-co.example")],
                           ("hubspot", "contacts"): contacts, ("hubspot", "deals"): deals,
                           ("hubspot", "associations"): associations})
    (folder / "clock.txt").write_text(CLOCK.isoformat() + "\n")
    return folder


def _merge(sandbox: RunningSandbox, survivor: dict, loser_id: str) -> None:
    """A HubSpot merge: the survivor, modified, lists the loser in its merged ids; the loser leaves every listing."""
    sandbox.upsert("hubspot", "contacts", [survivor])
    sandbox.hard_delete_hubspot("contacts", [loser_id])


def _create_missing_raw_tables(warehouse: Path) -> None:
    """Create, empty, the CRM raw tables of the raw contract no sync wrote (Salesforce's, HubSpot streams without
    records), so the sources' dbt tests have tables to read."""
    with duckdb.connect(str(warehouse)) as connection:
        existing = {f"{schema}.{table}" for schema, table in
                    connection.execute("select table_schema, table_name from information_schema.tables").fetchall()}
        for name, columns in raw_tables().items():
            if name not in existing:
                schema, table = name.split(".")
                connection.execute(f"create schema if not exists {schema}")
                column_sql = ", ".join(f'"{column}" {column_type}' for column, column_type in columns)
                connection.execute(f'create table {schema}."{table}" ({column_sql})')


@dataclass(frozen=True)
class Built:
    """The warehouse after the deletes, and what staging said before them (the merges done, nothing deleted)."""

    warehouse: Path
    contacts_before: dict[str, tuple[bool, bool]]


def _staged_contacts(warehouse: Path) -> dict[str, tuple[bool, bool]]:
    """HubSpot contact id -> (is_deleted, is_merged_away) in staging."""
    found = rows(warehouse, "select hubspot_contact_id, is_deleted, is_merged_away from staging.stg_hubspot__contacts")
    return {record_id: (deleted, merged) for record_id, deleted, merged in found}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    folder = tmp_path_factory.mktemp("hubspot_vanished_links")
    with pytest.MonkeyPatch.context() as monkeypatch, \
            running_sandbox(dataset=_dataset(folder / "dataset")) as sandbox:
        env = isolated_pipeline_env(folder / "work", monkeypatch)(sandbox)
        monkeypatch.setenv(RECONCILIATION_SETTING, "0")  # every sync reconciles its keys
        resources = hubspot_resources(sandbox.url, env)
        warehouse = Path(env["WAREHOUSE_DUCKDB_PATH"])

        def night() -> None:
            assert dg.materialize([hubspot_raw], resources=resources).success

        def build() -> None:
            selected = [f"+{mart}" for mart in MARTS]
            result = run_dbt(warehouse, ["build", "--select", *selected, "--indirect-selection", "cautious"],
                             folder / "dbt")
            assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-2000:]}"

        night()
        _create_missing_raw_tables(warehouse)
        _merge(sandbox, _contact(DAN_SURVIVOR, "Dan", "dan@dan-mail.example", modified="2026-05-01T00:00:00.000Z",
                                 merged=DAN_MERGED), DAN_MERGED)
        _merge(sandbox, _contact(EVE_SECOND, "Eve", "eve.1@eve-mail.example", modified="2026-05-01T00:00:00.000Z",
                                 merged=EVE_FIRST), EVE_FIRST)
        night()
        _merge(sandbox, _contact(EVE_LAST, "Eve", "eve.2@eve-mail.example", modified="2026-05-10T00:00:00.000Z",
                                 merged=EVE_SECOND), EVE_SECOND)
        night()
        build()
        contacts_before = _staged_contacts(warehouse)
        sandbox.hard_delete_hubspot("contacts", [DAN_SURVIVOR, EVE_LAST, CAT])
        sandbox.hard_delete_hubspot("companies", [GONE_COMPANY])
        night()
        build()  # incremental: what the deletes changed only
    return Built(warehouse, contacts_before)


def _prospects(warehouse: Path) -> dict[str, tuple]:
    """HubSpot contact id of each prospect's records -> (prospect account's name or None, is_deleted)."""
    found = rows(warehouse, """
        select records.source_record_id, accounts.account_name, prospects.is_deleted
        from marts.prospect_source_records as records
        inner join marts.prospects as prospects on prospects.prospect_id = records.prospect_id
        left join marts.accounts as accounts on accounts.account_id = prospects.account_id""")
    return {record_id: (account, deleted) for record_id, account, deleted in found}


def test_a_record_merged_into_a_survivor_deleted_later_is_deleted_with_it(built):
    merged_away = [DAN_MERGED, EVE_FIRST, EVE_SECOND]
    assert {record_id: built.contacts_before[record_id] for record_id in merged_away} == {
        record_id: (False, True) for record_id in merged_away}, "merged into a live survivor, no record is deleted"

    after = _staged_contacts(built.warehouse)
    assert {record_id: after[record_id] for record_id in [*merged_away, DAN_SURVIVOR, EVE_LAST]} == {
        DAN_MERGED: (True, True), DAN_SURVIVOR: (True, False),
        EVE_FIRST: (True, True), EVE_SECOND: (True, True), EVE_LAST: (True, False)}
    prospects = _prospects(built.warehouse)
    assert {prospects[record_id][1] for record_id in [*merged_away, DAN_SURVIVOR, EVE_LAST]} == {True}
    assert rows(built.warehouse, "select count(*) from intermediate.int_person_records_unioned "
                                 f"where record_key in {tuple(f'hubspot_contact:{i}' for i in merged_away)} "
                                 "and not is_deleted") == [(0,)], "the incremental build missed a merged-away record"
    # nobody counts the people as live: their first visits are no touches, the funnel holds the live people only
    touched = rows(built.warehouse, "select source_touchpoint_id from marts.touchpoints order by 1")
    assert touched == [(ANN,), (BOB,)]
    funnel = rows(built.warehouse, """
        select records.source_record_id from marts.prospect_funnel as funnel
        inner join marts.prospect_source_records as records on records.prospect_id = funnel.prospect_id
        order by 1""")
    assert funnel == [(ANN,), (BOB,)]


def test_a_contact_whose_company_is_deleted_stays_without_an_account(built):
    assert rows(built.warehouse, "select hubspot_contact_id, hubspot_company_id from staging.stg_hubspot__contacts "
                                 f"where hubspot_contact_id = '{ANN}'") == [(ANN, GONE_COMPANY)], \
        "the contact should still name the deleted company (else this test checks nothing)"
    assert rows(built.warehouse, "select account_name, is_deleted from marts.accounts order by 1") == [
        ("Gone Co", True), ("Live Co", False)]
    prospects = _prospects(built.warehouse)
    assert prospects[ANN] == (None, False)
    assert prospects[BOB] == ("Live Co", False)
    assert rows(built.warehouse, f"select account_id from marts.touchpoints where source_touchpoint_id = '{ANN}'") == [
        (None,)]


def test_a_deal_whose_company_or_contact_is_deleted_stays_without_that_link(built):
    deals = rows(built.warehouse, """
        select opportunities.hubspot_deal_id, accounts.account_name, records.source_record_id
        from marts.opportunities as opportunities
        left join marts.accounts as accounts on accounts.account_id = opportunities.account_id
        left join marts.prospect_source_records as records on records.prospect_id = opportunities.primary_prospect_id
        order by 1""")
    assert deals == [(DEAL_OF_GONE_COMPANY, None, BOB), (DEAL_OF_GONE_CONTACT, "Live Co", None),
                     (LATEST_DEAL, "Live Co", BOB)]
    issues = rows(built.warehouse, "select issue_type, severity, hubspot_record_id, detail from marts.alignment_issues "
                                   "where entity_type = 'opportunity' and issue_type = 'opportunity_without_account'")
    assert [issue[:3] for issue in issues] == [("opportunity_without_account", "high", DEAL_OF_GONE_COMPANY)]
    # the deal of the deleted company is credited with its primary person's touch, not with the touch of a person
    # of that company
    credited = rows(built.warehouse, f"""
        select distinct touches.source_touchpoint_id
        from marts.attribution as attribution
        inner join marts.opportunities as opportunities on opportunities.opportunity_id = attribution.opportunity_id
        inner join marts.touchpoints as touches on touches.touchpoint_id = attribution.touchpoint_id
        where opportunities.hubspot_deal_id = '{DEAL_OF_GONE_COMPANY}'""")
    assert credited == [(BOB,)]


def test_no_live_row_names_a_deleted_company_or_person(built):
    checks = {
        "prospect -> deleted account": """
            select count(*) from marts.prospects as p inner join marts.accounts as a on a.account_id = p.account_id
            where a.is_deleted and not p.is_deleted""",
        "opportunity -> deleted account": """
            select count(*) from marts.opportunities as o inner join marts.accounts as a on a.account_id = o.account_id
            where a.is_deleted""",
        "opportunity -> deleted prospect": """
            select count(*) from marts.opportunities as o
            inner join marts.prospects as p on p.prospect_id = o.primary_prospect_id where p.is_deleted""",
        "touch -> deleted prospect or account": """
            select count(*) from marts.touchpoints as t
            left join marts.prospects as p on p.prospect_id = t.prospect_id
            left join marts.accounts as a on a.account_id = t.account_id
            where p.is_deleted or a.is_deleted""",
        "alignment issue -> deleted record": f"""
            select count(*) from marts.alignment_issues
            where hubspot_record_id in ('{GONE_COMPANY}', '{CAT}', '{DAN_SURVIVOR}', '{DAN_MERGED}', '{EVE_LAST}')
                or detail like '%Gone Co %'""",
    }
    assert {name: rows(built.warehouse, sql)[0][0] for name, sql in checks.items()} == dict.fromkeys(checks, 0)
