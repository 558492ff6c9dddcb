"""The dbt benchmark's replicas of the CRM raw tables, on DuckDB and on PostgreSQL (nothing is timed here).

The M-sized builds are only as good as their copies: each copy must be a different company or person with the
same shape (ids, links, domains and e-mails rewritten alike), and after the next day's sync the copies must carry
the day's changes and nothing of the day before.
"""

from pathlib import Path

import duckdb
import psycopg2

from benchmarks.build_targets import REPLICATED, DuckDBTarget, PostgresTarget
from tests.support.postgres import fresh_database, postgres_server

#: One row of every replicated raw table (the columns REPLICATED rewrites, and one it copies as it is).
ROWS = {
    "raw_salesforce.account": {"id": "001A", "master_record_id": None, "parent_id": "001P",
                               "website": "https://www.acme.com/about", "name": "Acme", "industry": "Software"},
    "raw_salesforce.contact": {"id": "003A", "master_record_id": None, "account_id": "001A",
                               "email": "ada@acme.com", "industry": "x"},
    "raw_salesforce.lead": {"id": "00QA", "master_record_id": None, "converted_account_id": "001A",
                            "converted_contact_id": "003A", "converted_opportunity_id": None,
                            "email": "bob@acme.com", "company": "Acme", "industry": "x"},
    "raw_salesforce.opportunity": {"id": "006A", "account_id": "001A", "industry": "x"},
    "raw_salesforce.opportunity_history": {"id": "008A", "opportunity_id": "006A", "industry": "x"},
    "raw_salesforce.campaign_member": {"id": "00vA", "lead_id": "00QA", "contact_id": None, "industry": "x"},
    "raw_hubspot.companies": {"id": "11", "salesforceaccountid": "001A", "hs_merged_object_ids": "12;13",
                              "domain": "acme.com", "website": "www2.acme.com", "name": "Acme", "industry": "x"},
    "raw_hubspot.contacts": {"id": "21", "associatedcompanyid": "11", "salesforcecontactid": "003A",
                             "salesforceleadid": None, "hs_merged_object_ids": None,
                             "associated_companies_ids": '["11", "12"]', "email": "ada@acme.com", "industry": "x"},
    "raw_hubspot.deals": {"id": "31", "hs_merged_object_ids": "32", "associated_companies_ids": '["11"]',
                          "associated_contacts_ids": '["21"]', "industry": "x"},
    "raw_hubspot.email_events": {"id": "e-41", "recipient": "ada@acme.com", "industry": "x"},
    "raw_hubspot.form_submissions": {"conversion_id": "c-51", "values": '[{"value": "ada@acme.com"}]',
                                     "industry": "x"},
}

#: The next day's sync: one record changed, one added.
NEXT_DAY = ["update raw_salesforce.contact set email = 'ada@acme.io' where id = '003A'",
            "insert into raw_hubspot.deals (id, industry) values ('33', 'y')"]


def _create(execute) -> None:
    for table, row in ROWS.items():
        execute(f"create schema if not exists {table.split('.')[0]}")
        execute(f"create table {table} ({', '.join(f'{column} text' for column in row)})")
        values = ", ".join("null" if value is None else "'" + value.replace("'", "''") + "'" for value in row.values())
        execute(f"insert into {table} values ({values})")


def _contents(query) -> dict[str, list[tuple]]:
    return {table: sorted(query(f"select * from {table}"), key=repr) for table in REPLICATED}


def _duckdb_replicas(tmp_path: Path) -> tuple[dict, dict, dict]:
    loaded = tmp_path / "loaded.duckdb"
    with duckdb.connect(str(loaded)) as connection:
        _create(connection.execute)
    target = DuckDBTarget(tmp_path / "work", factor=3, source=loaded)
    target.path.parent.mkdir()
    counts = target.prepare_raw()
    first = _contents(target.query)
    with duckdb.connect(str(loaded)) as connection:
        for statement in NEXT_DAY:
            connection.execute(statement)
    target.prepare_raw()
    return counts, first, _contents(target.query)


def test_every_copy_is_another_company_with_the_same_links(tmp_path):
    counts, first, _ = _duckdb_replicas(tmp_path)

    assert counts == dict.fromkeys(REPLICATED, 3)
    accounts = first["raw_salesforce.account"]
    assert ("001A_r2", None, "001P_r2", "https://www.r2xacme.com/about", "R2 Acme", "Software") in accounts
    contacts = first["raw_hubspot.contacts"]
    assert ("21_r1", "11_r1", "003A_r1", None, None, '["11_r1", "12_r1"]', "ada@r1xacme.com", "x") in contacts
    companies = first["raw_hubspot.companies"]
    assert ("11_r2", "001A_r2", "12_r2;13_r2", "r2xacme.com", "www2.r2xacme.com", "R2 Acme", "x") in companies


def test_after_the_next_sync_the_copies_carry_its_changes_and_nothing_older(tmp_path):
    _, _, second = _duckdb_replicas(tmp_path)

    emails = sorted(row[3] for row in second["raw_salesforce.contact"])
    assert emails == ["ada@acme.io", "ada@r1xacme.io", "ada@r2xacme.io"]
    assert sorted(row[0] for row in second["raw_hubspot.deals"]) == ["31", "31_r1", "31_r2", "33", "33_r1", "33_r2"]


def test_postgresql_makes_the_same_copies_as_duckdb_and_makes_them_again_after_a_sync(tmp_path):
    _, duckdb_first, duckdb_second = _duckdb_replicas(tmp_path)
    with postgres_server(port=55461) as server, fresh_database(server) as url:
        connection = psycopg2.connect(url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                def query(sql: str) -> list[tuple]:
                    cursor.execute(sql)
                    return cursor.fetchall() if cursor.description else []

                _create(query)
                target = PostgresTarget(url, factor=3, server="test", work=tmp_path / "postgres")
                counts = target.prepare_raw()
                first = _contents(query)
                for statement in NEXT_DAY:
                    query(statement)
                target.prepare_raw()
                second = _contents(query)
                analyzed = query("select count(*) from pg_stat_user_tables "
                                 "where schemaname like 'raw\\_%' and last_analyze is not null")[0][0]
        finally:
            connection.close()

    assert counts == dict.fromkeys(REPLICATED, 3)
    assert first == duckdb_first
    assert second == duckdb_second
    assert analyzed == len(REPLICATED)
