"""The two nights of the incremental-build tests: the planted identity changes and the rows compared.

The sandbox's own day advance merges only duplicates identity resolution had already put together, so the tests
plant changes that move people and companies between entities (see tests/transform_revenue/test_incremental.py).
Every helper reads the warehouse by its DuckDB file or its PostgreSQL URL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sandbox.dataset import hubspot_datetime
from sandbox.generate import generate
from tests.transform_revenue.support import query

SCALE, SEED = "S", 11
INCREMENTAL_MODELS = ("touchpoints", "pipeline_daily", "shared_metrics_daily", "attribution", "prospects")
#: Columns compared rounded (floating-point aggregates may differ in the last bits between two builds).
FLOAT_COLUMNS = {"shared_metrics_daily": ("value", "numerator", "denominator"), "attribution": ("credit",)}


def model_rows(warehouse: Path | str, model: str, schema: str = "marts",
               leave_out: tuple[str, ...] = ()) -> list[tuple]:
    """The rows of `model` in `schema`, sorted, its columns in name order (a column added to a stored table comes
    last, where a full build puts it in its place) but `leave_out`, floating-point ones rounded."""
    columns = [row[0] for row in query(warehouse, f"select column_name from information_schema.columns "
                                                  f"where table_schema = '{schema}' and table_name = '{model}' "
                                                  f"order by column_name") if row[0] not in leave_out]
    rounded = FLOAT_COLUMNS.get(model, ())
    # through decimal: PostgreSQL rounds no double precision to places
    select = ", ".join(f"round(cast({column} as decimal(38, 9)), 6)" if column in rounded else column
                       for column in columns)
    return sorted(query(warehouse, f"select {select} from {schema}.{model}"), key=repr)


def assert_same_rows(incremental: list[tuple], refreshed: list[tuple]) -> None:
    """The rows of an incremental build equal a full refresh's (and are many); else name a few of each side's own."""
    assert len(incremental) > 1000
    only_incremental = sorted(set(incremental) - set(refreshed), key=repr)[:5]
    only_refreshed = sorted(set(refreshed) - set(incremental), key=repr)[:5]
    assert incremental == refreshed, f"only in the incremental build: {only_incremental}; " \
                                     f"only in the full refresh: {only_refreshed}"


#: Two people of night 1, each with touches before the lookback window: one known only by a HubSpot contact, one
#: with a Salesforce record holding an e-mail address that no other record has.
PEOPLE_TO_MERGE_SQL = """
    with people as (
        select entity_id, count(*) as records, min(source_system) as system, min(source_record_id) as record_id,
               min(email) as email, bool_or(is_deleted or is_merged) as gone
        from intermediate.int_person_records_clustered group by entity_id
    ),
    emails as (select email from intermediate.int_person_records_clustered group by email having count(*) = 1),
    old_touches as (
        select prospect_id, count(*) as touches from marts.touchpoints
        where occurred_date < (select as_of_date - 60 from intermediate.int_reporting_dates) group by prospect_id
    )
    select people.entity_id, people.record_id, people.email
    from people inner join old_touches on old_touches.prospect_id = people.entity_id
    where people.records = 1 and not people.gone and people.system = ?
        and (? or people.email in (select email from emails))
    order by old_touches.touches desc, people.entity_id
    limit 1
"""


#: A person of night 1 made of one HubSpot contact and one Salesforce record tied by their e-mail alone.
PERSON_TO_SPLIT_SQL = """
    select hubspot.source_record_id, salesforce.record_key
    from intermediate.int_person_records_clustered as hubspot
    inner join intermediate.int_person_records_clustered as salesforce
        on salesforce.entity_id = hubspot.entity_id and salesforce.source_family = 'salesforce'
    where hubspot.source_system = 'hubspot_contact' and hubspot.cluster_size = 2
        and hubspot.match_rule = 'email' and salesforce.match_rule = 'email'
        and not (hubspot.is_deleted or hubspot.is_merged)
        and hubspot.source_record_id <> ?
    order by hubspot.source_record_id
    limit 1
"""


#: A lone HubSpot company with a person whose e-mail is not at its domain (only the company links them), and the
#: domain of an older Salesforce account of another company.
COMPANY_TO_MERGE_SQL = """
    select company.source_record_id, target.domain_key, target.entity_id
    from intermediate.int_account_records_clustered as company
    inner join intermediate.int_person_records_clustered as person on person.account_record_key = company.record_key
    inner join intermediate.int_account_records_clustered as target
        on target.source_system = 'salesforce' and target.domain_key is not null and not target.is_deleted
        and target.created_at < company.created_at and target.entity_id <> company.entity_id
    where company.source_system = 'hubspot' and company.cluster_size = 1
        and not (company.is_deleted or company.is_merged)
        and person.email_domain is distinct from company.domain_key
    order by company.source_record_id, target.record_key
    limit 1
"""


#: A person of night 1 without an account: no record linked to a company, a business e-mail at a domain no account
#: holds; and a lone HubSpot company no person record links to, other than the company of the merge above.
UNLINKED_PERSON_SQL = """
    select person.prospect_id, person.email_domain from marts.prospects as person
    where person.account_id is null and not person.is_personal_email and person.email_domain is not null
        and not person.is_deleted
        and not exists (select 1 from intermediate.int_person_records_clustered as record
                        where record.entity_id = person.prospect_id and record.account_record_key is not null)
    order by person.prospect_id
    limit 1
"""
UNLINKED_COMPANY_SQL = """
    select company.source_record_id, company.entity_id from intermediate.int_account_records_clustered as company
    where company.source_system = 'hubspot' and company.cluster_size = 1
        and not (company.is_deleted or company.is_merged) and company.source_record_id <> ?
        and not exists (select 1 from intermediate.int_person_records_clustered as person
                        where person.account_record_key = company.record_key)
    order by company.source_record_id
    limit 1
"""


def edit_hubspot_record(sandbox, table: str, record_id: str, properties: dict, clock: str) -> None:
    """Change properties of a sandbox HubSpot record, modified just before the sandbox's clock."""
    record = next(row for row in generate(SCALE, SEED).table("hubspot", table) if row["id"] == record_id)
    modified = hubspot_datetime(datetime.fromisoformat(clock) - timedelta(minutes=5))
    stamp = "lastmodifieddate" if table == "contacts" else "hs_lastmodifieddate"
    edited = {**record["properties"], **properties, stamp: modified}
    sandbox.upsert("hubspot", table, [{**record, "properties": edited, "updatedAt": modified}])


def plant_identity_changes(sandbox, warehouse: Path | str, clock: str) -> dict:
    """Give a lone HubSpot contact the e-mail of another person's Salesforce lead (a merge), a HubSpot contact
    matched by e-mail alone a new address (a split), a lone HubSpot company an older account's domain (a company
    merge) and another lone company the e-mail domain of a person without an account (who joins it by domain
    alone: no record of theirs changes); returns the people, companies and records involved."""
    [(hubspot_entity, contact_id, _)] = query(warehouse, PEOPLE_TO_MERGE_SQL, ["hubspot_contact", True])
    [(salesforce_entity, _, email)] = query(warehouse, PEOPLE_TO_MERGE_SQL, ["salesforce_lead", False])
    edit_hubspot_record(sandbox, "contacts", contact_id, {"email": email}, clock)
    [(split_contact_id, split_from_record_key)] = query(warehouse, PERSON_TO_SPLIT_SQL, [contact_id])
    edit_hubspot_record(sandbox, "contacts", split_contact_id,
                        {"email": f"split-{split_contact_id}@split-example.com"}, clock)
    [(company_id, domain, account_entity)] = query(warehouse, COMPANY_TO_MERGE_SQL)
    edit_hubspot_record(sandbox, "companies", company_id, {"domain": domain, "website": f"https://{domain}"}, clock)
    [(unlinked_prospect_id, unlinked_domain)] = query(warehouse, UNLINKED_PERSON_SQL)
    [(moved_company_id, moved_company_entity)] = query(warehouse, UNLINKED_COMPANY_SQL, [company_id])
    edit_hubspot_record(sandbox, "companies", moved_company_id,
                        {"domain": unlinked_domain, "website": f"https://{unlinked_domain}"}, clock)
    return {"hubspot_entity": hubspot_entity, "contact_id": contact_id, "salesforce_entity": salesforce_entity,
            "split_contact_id": split_contact_id, "split_from_record_key": split_from_record_key,
            "company_id": company_id, "account_entity": account_entity,
            "unlinked_prospect_id": unlinked_prospect_id, "moved_company_entity": moved_company_entity}
