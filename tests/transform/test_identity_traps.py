"""Identity resolution on hand-written raw rows, one case per trap of the issue, through a real `dbt build`; and the
same rows built on PostgreSQL (C and ICU English locales) give the same CRM marts, row for row."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.support import postgres
from tests.transform.helpers import account_of, built_world, dbt_build, raw_tables, rows

LOADED = datetime(2026, 3, 31, 2, 0, tzinfo=UTC)


def _at(day: int) -> datetime:
    return datetime(2026, 1, 1, 9, 0, tzinfo=UTC).replace(day=day)


def sf_account(record_id: str, name: str, website: str | None, day: int, **fields) -> dict:
    return {"id": record_id, "is_deleted": False, "name": name, "website": website, "type": "Prospect",
            "billing_country": "United States", "currency_iso_code": "USD", "created_date": _at(day),
            "system_modstamp": _at(day), "_loaded_at": LOADED, **fields}


def hs_company(record_id: str, name: str, domain: str | None, day: int, **fields) -> dict:
    return {"id": record_id, "archived": False, "name": name, "domain": domain, "country": "USA",
            "createdate": _at(day), "hs_lastmodifieddate": _at(day), "_loaded_at": LOADED, **fields}


def sf_lead(record_id: str, first: str, last: str, email: str | None, day: int, **fields) -> dict:
    return {"id": record_id, "is_deleted": False, "first_name": first, "last_name": last, "email": email,
            "status": "Open - Not Contacted", "is_converted": False, "created_date": _at(day),
            "system_modstamp": _at(day), "_loaded_at": LOADED, **fields}


def sf_contact(record_id: str, first: str | None, last: str, email: str | None, day: int, **fields) -> dict:
    return {"id": record_id, "is_deleted": False, "first_name": first, "last_name": last, "email": email,
            "created_date": _at(day), "system_modstamp": _at(day), "_loaded_at": LOADED, **fields}


def hs_contact(record_id: str, first: str, last: str, email: str | None, day: int, **fields) -> dict:
    return {"id": record_id, "archived": False, "firstname": first, "lastname": last, "email": email,
            "createdate": _at(day), "lastmodifieddate": _at(day), "_loaded_at": LOADED, **fields}


ACCOUNTS = [
    # www.Acme.com/about = acme.com (domain), but acme.co.uk is another company although the names agree.
    sf_account("001ACME", "Acme Analytics Inc", "www.Acme.com/about", 1),
    sf_account("001ACMEUK", "Acme Analytics Ltd", "https://acme.co.uk", 2, billing_country="United Kingdom"),
    # "INITECH, Inc." (no website) joins "Initech Incorporated" of initech.io: the one domain of that name.
    sf_account("001INITECH", "INITECH, Inc.", None, 3),
    # Two Salesforce duplicates of one company (one without a website) and a third via the domain.
    sf_account("001STARK1", "Stark Industries", "https://www.starkindustries.com", 4),
    sf_account("001STARK2", "STARK INDUSTRIES INC", None, 9),
    sf_account("001STARK3", "Stark Industries LLC", "http://www.starkindustries.com:443/", 10),
    # The Salesforce id wins over a different domain.
    sf_account("001WAYNE", "Wayne Enterprises", "wayne.com", 5),
    # A company with a real domain whose contact writes from gmail.com.
    sf_account("001UMBRELLA", "Umbrella Corporation", "umbrella.com", 6),
    # A Salesforce merge: the loser is deleted and points at its master.
    sf_account("001OSCORP", "Oscorp", "oscorp.com", 7),
    sf_account("001OSCORPOLD", "Oscorp Industries", None, 8, is_deleted=True, master_record_id="001OSCORP"),
    # "ACME, Inc." and "Acme Incorporated" without any domain, same country: one company by name.
    sf_account("001ACMEINC", "ACME, Inc.", None, 11, billing_country="Canada"),
    # Synced to Wayne but name AND domain disagree: a broken sync, not a merge.
    sf_account("001GLOBEX", "Globex", "globex.com", 12),
    # Capital accented letters fold like small ones, on every warehouse: "ÉCOLE DUPONT SA" = "Ecole Dupont".
    sf_account("001ECOLE", "ÉCOLE DUPONT SA", None, 13, billing_country="France"),
    # Every accented letter folds, not only those of a list: Vietnamese "ễ" and "ạ" (two marks each), "Ǎ".
    sf_account("001NGUYEN", "Nguyễn Phạt Ǎrt Co", None, 14, billing_country="Vietnam"),
    # Two duplicates imported in the same second: the tie breaks on the ids' bytes ("B" before "a"), whatever the
    # warehouse or its locale.
    sf_account("001TIEa", "Tie Corp", "tiecorp.com", 16),
    sf_account("001TIEB", "Tie Corp", "tiecorp.com", 16),
]
COMPANIES = [
    hs_company("101", "ACME Analytics", "acme.com", 2),
    hs_company("102", "Initech Incorporated", "initech.io", 4),
    hs_company("103", "Wayne Enterprises Inc", "wayne-enterprises.com", 6, salesforceaccountid="001WAYNE"),
    hs_company("104", "Umbrella Corp", "gmail.com", 7),
    hs_company("105", "Hooli", "gmail.com", 8),
    hs_company("106", "Acme Incorporated", None, 12, country="Canada"),
    hs_company("107", "Soylent", "soylent.com", 13, salesforceaccountid="001GLOBEX"),
    hs_company("108", "Stark Industries", "starkindustries.com", 14),
    hs_company("109", "Ecole Dupont", None, 15, country="France"),
    hs_company("110", "NGUYEN PHAT ART COMPANY", None, 15, country="Vietnam"),
]
LEADS = [
    sf_lead("00QJOHN", "John", "Doe", "John.Doe+news@Example.com", 1),
    sf_lead("00QJANE", "Jane", "Roe", "Jane.Roe+crm@gmail.com", 2),
    sf_lead("00QALICE", "Alice", "Smith", "info@acme.com", 3),
    sf_lead("00QBOB", "Bob", "Jones", "info@acme.com", 4),
    sf_lead("00QCONV", "Carla", "Diaz", "carla@starkindustries.com", 5, is_converted=True,
            status="Closed - Converted", converted_date=date(2026, 1, 20), converted_account_id="001STARK1",
            converted_contact_id="003CONV", converted_opportunity_id="006STARK"),
]
CONTACTS = [
    sf_contact("003CONV", "Carla", "Diaz", "carla.diaz@starkindustries.com", 20, account_id="001STARK1"),
    sf_contact("003GMAIL", "Peter", "Parker", "peter.parker@gmail.com", 6, account_id="001UMBRELLA"),
    # Synced contacts: Salesforce (the name's survivor) knows only the last name; HubSpot knows both.
    sf_contact("003NGUYEN", None, "Nguyen", "linh.nguyen@initech.io", 7),
]
HUBSPOT_CONTACTS = [
    hs_contact("201", "John", "Doe", " john.doe+NEWS@example.com ", 3, lifecyclestage="marketingqualifiedlead",
               hs_lifecyclestage_marketingqualifiedlead_date=_at(10)),
    hs_contact("202", "John", "Doe", "john.doe@example.com", 4),
    hs_contact("203", "Jane", "Roe", "janeroe@googlemail.com", 5),
    hs_contact("204", "Alice", "Smith", "INFO@acme.com", 6),
    hs_contact("205", "Peter", "Parker", "Peter.Parker+hubspot@googlemail.com", 7),
    # A HubSpot merge: 206 absorbed 207 (its list also names itself and a record never synced).
    hs_contact("206", "Miles", "Morales", "miles@brooklynvisions.com", 8, hs_merged_object_ids="207; 206;299"),
    hs_contact("207", "Miles", "Morales", "miles.m@brooklynvisions.com", 2),
    hs_contact("208", "Linh", "Nguyen", "linh.nguyen@initech.io", 9, salesforcecontactid="003NGUYEN"),
]
OPPORTUNITIES = [
    {"id": "006STARK", "is_deleted": False, "account_id": "001STARK1", "name": "Stark - Platform",
     "stage_name": "Closed Won", "amount": 1000, "probability": 100, "close_date": date(2026, 2, 10),
     "is_closed": True, "is_won": True, "type": "New Business", "currency_iso_code": "EUR",
     "created_date": _at(20), "system_modstamp": _at(20), "_loaded_at": LOADED},
]
HISTORY = [
    {"id": "008A", "is_deleted": False, "opportunity_id": "006STARK", "stage_name": "Prospecting", "amount": 900,
     "close_date": date(2026, 2, 28), "created_date": _at(20), "_loaded_at": LOADED},
    {"id": "008B", "is_deleted": False, "opportunity_id": "006STARK", "stage_name": "Closed Won", "amount": 1000,
     "close_date": date(2026, 2, 10), "created_date": datetime(2026, 2, 10, 15, 0, tzinfo=UTC), "_loaded_at": LOADED},
]
DEALS = [
    {"id": "301", "archived": False, "dealname": "Acme - Add-on", "amount": 500, "deal_currency_code": "GBP",
     "dealstage": "qualifiedtobuy", "pipeline": "default", "hs_is_closed": False, "hs_is_closed_won": False,
     "hs_deal_stage_probability": 0.4, "dealtype": "existingbusiness", "createdate": _at(25),
     "hs_lastmodifieddate": _at(26), "associated_companies_ids": '["101"]', "associated_contacts_ids": '["201"]',
     "_loaded_at": LOADED},
]
STAGES = [
    {"stage_key": "default:qualifiedtobuy", "pipeline_id": "default", "pipeline_label": "Sales Pipeline",
     "stage_id": "qualifiedtobuy", "stage_label": "Qualified To Buy", "display_order": 1, "probability": 0.4,
     "is_closed": False, "archived": False, "_loaded_at": LOADED},
]


RAW = {
    "raw_salesforce.account": ACCOUNTS, "raw_hubspot.companies": COMPANIES, "raw_salesforce.lead": LEADS,
    "raw_salesforce.contact": CONTACTS, "raw_hubspot.contacts": HUBSPOT_CONTACTS,
    "raw_salesforce.opportunity": OPPORTUNITIES, "raw_salesforce.opportunity_history": HISTORY,
    "raw_hubspot.deals": DEALS, "raw_hubspot.deal_pipeline_stages": STAGES,
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """The hand-written world, built by dbt."""
    return built_world(tmp_path_factory.mktemp("traps"), RAW)


def _prospect_of(warehouse: Path, source_system: str, record_id: str) -> str:
    sql = (f"select prospect_id from marts.prospect_source_records where source_system = '{source_system}' "
           f"and source_record_id = '{record_id}'")
    return rows(warehouse, sql)[0][0]


def _rule(warehouse: Path, table: str, source_system: str, record_id: str) -> str:
    sql = (f"select match_rule from marts.{table} where source_system = '{source_system}' "
           f"and source_record_id = '{record_id}'")
    return rows(warehouse, sql)[0][0]


def test_www_and_path_variants_of_a_domain_are_one_company(warehouse):
    assert account_of(warehouse, "salesforce", "001ACME") == account_of(warehouse, "hubspot", "101")
    assert _rule(warehouse, "account_source_records", "hubspot", "101") == "domain"
    (domain,) = rows(warehouse, f"select primary_domain from marts.accounts where account_id = "
                                f"'{account_of(warehouse, 'salesforce', '001ACME')}'")[0]
    assert domain == "acme.com"


def test_capital_accented_letters_fold_like_small_ones(warehouse):
    assert account_of(warehouse, "salesforce", "001ECOLE") == account_of(warehouse, "hubspot", "109")


def test_letters_with_any_marks_fold(warehouse):
    assert account_of(warehouse, "salesforce", "001NGUYEN") == account_of(warehouse, "hubspot", "110")
    assert _rule(warehouse, "account_source_records", "hubspot", "110") == "name_without_domain"


def test_a_co_uk_domain_is_another_company_even_with_the_same_name(warehouse):
    assert account_of(warehouse, "salesforce", "001ACMEUK") != account_of(warehouse, "salesforce", "001ACME")
    (domain,) = rows(warehouse, f"select primary_domain from marts.accounts where account_id = "
                                f"'{account_of(warehouse, 'salesforce', '001ACMEUK')}'")[0]
    assert domain == "acme.co.uk"


def test_legal_suffixes_and_punctuation_do_not_keep_names_apart(warehouse):
    # "INITECH, Inc." has no domain: it joins the one domain family of its name.
    assert account_of(warehouse, "salesforce", "001INITECH") == account_of(warehouse, "hubspot", "102")
    assert _rule(warehouse, "account_source_records", "salesforce", "001INITECH") == "name"
    # "ACME, Inc." and "Acme Incorporated", both without a domain, in one country.
    assert account_of(warehouse, "salesforce", "001ACMEINC") == account_of(warehouse, "hubspot", "106")
    assert _rule(warehouse, "account_source_records", "hubspot", "106") == "name_without_domain"
    # ... but never with the acme.com company, whose name is "Acme Analytics".
    assert account_of(warehouse, "salesforce", "001ACMEINC") != account_of(warehouse, "salesforce", "001ACME")


def test_free_mail_domains_never_make_two_companies_one(warehouse):
    umbrella, hooli = account_of(warehouse, "hubspot", "104"), account_of(warehouse, "hubspot", "105")
    assert umbrella != hooli
    # Both typed gmail.com as their domain: ignored, so "Umbrella Corp" finds its company by name instead.
    assert umbrella == account_of(warehouse, "salesforce", "001UMBRELLA")
    assert _rule(warehouse, "account_source_records", "hubspot", "104") == "name"
    domains = rows(warehouse, "select primary_domain from marts.accounts "
                              f"where account_id in ('{umbrella}', '{hooli}') order by primary_domain")
    assert domains == [("umbrella.com",), (None,)]


def test_a_gmail_contact_belongs_to_their_real_company(warehouse):
    prospect = _prospect_of(warehouse, "salesforce_contact", "003GMAIL")
    (email, personal, account) = rows(warehouse, "select email, is_personal_email, account_id from marts.prospects "
                                                 f"where prospect_id = '{prospect}'")[0]
    assert (email, personal) == ("peterparker@gmail.com", True)
    assert account == account_of(warehouse, "salesforce", "001UMBRELLA")
    # Peter.Parker+hubspot@googlemail.com is the same Gmail mailbox: dots, +tags and googlemail fold.
    assert _prospect_of(warehouse, "hubspot_contact", "205") == prospect


def test_plus_tags_and_case_fold_but_only_gmail_folds_dots_and_tags(warehouse):
    john = _prospect_of(warehouse, "salesforce_lead", "00QJOHN")
    assert _prospect_of(warehouse, "hubspot_contact", "201") == john
    assert _prospect_of(warehouse, "hubspot_contact", "202") != john  # john.doe@ is another mailbox at example.com
    (email,) = rows(warehouse, f"select email from marts.prospects where prospect_id = '{john}'")[0]
    assert email == "john.doe+news@example.com"
    jane = _prospect_of(warehouse, "salesforce_lead", "00QJANE")
    assert _prospect_of(warehouse, "hubspot_contact", "203") == jane
    (email,) = rows(warehouse, f"select email from marts.prospects where prospect_id = '{jane}'")[0]
    assert email == "janeroe@gmail.com"


def test_a_synced_salesforce_id_wins_over_a_different_domain(warehouse):
    assert account_of(warehouse, "hubspot", "103") == account_of(warehouse, "salesforce", "001WAYNE")
    assert _rule(warehouse, "account_source_records", "hubspot", "103") == "native_id"


def test_a_synced_id_that_name_and_domain_both_contradict_is_not_a_merge(warehouse):
    assert account_of(warehouse, "hubspot", "107") != account_of(warehouse, "salesforce", "001GLOBEX")
    conflicts = rows(warehouse, "select record_key, is_trusted from intermediate.int_account_native_ids_checked "
                                "where record_key = 'hubspot:107'")
    assert conflicts == [("hubspot:107", False)]


def test_salesforce_duplicates_chain_into_one_company(warehouse):
    stark = {account_of(warehouse, "salesforce", record) for record in ("001STARK1", "001STARK2", "001STARK3")}
    stark.add(account_of(warehouse, "hubspot", "108"))
    assert len(stark) == 1
    (salesforce_records, salesforce_id, match_rule) = rows(
        warehouse, "select salesforce_record_count, salesforce_account_id, match_rule from marts.accounts "
                   f"where account_id = '{stark.pop()}'")[0]
    assert (salesforce_records, salesforce_id, match_rule) == (3, "001STARK1", "name")


def test_a_salesforce_merge_keeps_the_loser_flagged_in_the_survivor(warehouse):
    assert account_of(warehouse, "salesforce", "001OSCORPOLD") == account_of(warehouse, "salesforce", "001OSCORP")
    assert _rule(warehouse, "account_source_records", "salesforce", "001OSCORPOLD") == "source_merge"
    (deleted,) = rows(warehouse, "select is_deleted from marts.accounts where salesforce_account_id = '001OSCORP'")[0]
    assert deleted is False


def test_a_hubspot_merge_flags_the_absorbed_record_with_its_survivor(warehouse):
    assert rows(warehouse, "select hubspot_contact_id, is_merged_away, merged_into_hubspot_contact_id "
                           "from staging.stg_hubspot__contacts where hubspot_contact_id in ('206', '207', '299') "
                           "order by 1") == [("206", False, None), ("207", True, "206")]
    assert _prospect_of(warehouse, "hubspot_contact", "207") == _prospect_of(warehouse, "hubspot_contact", "206")


def test_a_role_inbox_never_merges_people_whose_names_differ(warehouse):
    alice = _prospect_of(warehouse, "salesforce_lead", "00QALICE")
    bob = _prospect_of(warehouse, "salesforce_lead", "00QBOB")
    assert alice != bob
    assert _prospect_of(warehouse, "hubspot_contact", "204") == alice
    assert _rule(warehouse, "prospect_source_records", "hubspot_contact", "204") == "email_and_name"


def test_a_converted_lead_is_the_contact_it_became(warehouse):
    prospect = _prospect_of(warehouse, "salesforce_lead", "00QCONV")
    assert _prospect_of(warehouse, "salesforce_contact", "003CONV") == prospect
    columns = "salesforce_lead_id, salesforce_contact_id, account_id, became_sql_at, became_opportunity_at, "
    (lead_id, contact_id, account, sql_at, opportunity_at, customer_at) = rows(
        warehouse, f"select {columns} became_customer_at from marts.prospects where prospect_id = '{prospect}'")[0]
    assert (lead_id, contact_id) == ("00QCONV", "003CONV")
    assert account == account_of(warehouse, "salesforce", "001STARK1")
    assert sql_at.date() == date(2026, 1, 20)
    assert opportunity_at <= customer_at


def test_every_link_records_its_rule_and_ids_come_from_the_oldest_record(warehouse):
    assert rows(warehouse, "select count(*) from marts.account_source_records where match_rule is null") == [(0,)]
    assert rows(warehouse, "select count(*) from marts.prospect_source_records where match_rule is null") == [(0,)]
    (stark_id,) = rows(warehouse, "select account_id from marts.accounts where salesforce_account_id = '001STARK1'")[0]
    (expected,) = rows(warehouse, "select md5('account|salesforce|001STARK1')")[0]
    assert stark_id == expected


def test_a_tie_between_records_created_together_breaks_on_the_ids_bytes(warehouse):
    assert account_of(warehouse, "salesforce", "001TIEa") == account_of(warehouse, "salesforce", "001TIEB")
    (tie_id,) = rows(warehouse, "select account_id from marts.accounts where salesforce_account_id = '001TIEB'")[0]
    assert tie_id == rows(warehouse, "select md5('account|salesforce|001TIEB')")[0][0]


def test_a_name_survives_whole_from_one_record(warehouse):
    """First and last name come from the same record (Salesforce's here), never one from each system."""
    prospect = _prospect_of(warehouse, "salesforce_contact", "003NGUYEN")
    assert prospect == _prospect_of(warehouse, "hubspot_contact", "208")
    assert rows(warehouse, f"select first_name, last_name from marts.prospects where prospect_id = '{prospect}'") \
        == [(None, "Nguyen")]


def test_money_keeps_its_currency_and_converts_at_the_close_date(warehouse):
    (amount, currency, reporting, stage_category, cycle) = rows(
        warehouse, "select amount, currency_code, amount_reporting, stage_category, sales_cycle_days "
                   "from marts.opportunities where source_opportunity_id = '006STARK'")[0]
    (rate,) = rows(warehouse, "select rate_to_reporting from intermediate.int_currency_rates_daily "
                              "where currency_code = 'EUR' and date_day = '2026-02-10'")[0]
    assert (float(amount), currency, stage_category, cycle) == (1000.0, "EUR", "won", 21)
    assert float(reporting) == pytest.approx(1000 * rate, abs=0.01)
    (deal_currency, deal_account) = rows(warehouse, "select currency_code, account_id from marts.opportunities "
                                                    "where source_opportunity_id = '301'")[0]
    assert deal_currency == "GBP" and deal_account == account_of(warehouse, "hubspot", "101")


def test_stage_history_and_daily_pipeline_follow_the_history(warehouse):
    history = rows(warehouse, "select h.stage, h.days_in_stage, h.amount_at_entry "
                              "from marts.opportunity_stage_history h "
                              "join marts.opportunities o using (opportunity_id) "
                              "where o.source_opportunity_id = '006STARK' order by entered_at")
    assert [(stage, days, float(amount)) for stage, days, amount in history] == [
        ("Prospecting", 21, 900.0), ("Closed Won", None, 1000.0)]
    daily = rows(warehouse, "select min(date_day), max(date_day), count(*), "
                            "count(*) filter (where is_open) from marts.pipeline_daily p "
                            "join marts.opportunities o using (opportunity_id) "
                            "where o.source_opportunity_id = '006STARK'")
    assert daily == [(date(2026, 1, 20), date(2026, 2, 10), 22, 21)]


#: The CRM marts whose every row and column must be the same on both warehouses, each with its sort key (the
#: traps have no campaigns or touches).
PORTABLE_MARTS = {
    "accounts": "account_id",
    "account_source_records": "source_system, source_record_id",
    "prospects": "prospect_id",
    "prospect_source_records": "source_system, source_record_id",
    "opportunities": "opportunity_id",
    "opportunity_stage_history": "opportunity_id, stage_sequence",
    "pipeline_daily": "opportunity_id, date_day",
}


#: The databases the traps are built on: the C locale, whose lower() folds ASCII letters only (the strictest a server
#: may be set up), and ICU's English, which sorts "001TIEa" before "001TIEB" where bytes put it after.
DATABASE_LOCALES = {"C": {"locale": "C"}, "icu-en": {"locale": "C.utf8", "icu_locale": "en-US"}}


@pytest.fixture(scope="module", params=sorted(DATABASE_LOCALES))
def postgres_traps(request, tmp_path_factory):
    """The same raw rows built by dbt on a PostgreSQL database of each locale: an open connection to it."""
    folder = tmp_path_factory.mktemp("traps_postgres")
    with postgres.built_warehouse(RAW, raw_tables(), lambda environment: dbt_build(environment, folder), port=55449,
                                  **DATABASE_LOCALES[request.param]) as connection:
        yield connection


@pytest.mark.e2e
@pytest.mark.parametrize("mart", PORTABLE_MARTS)
def test_postgresql_resolves_the_traps_as_duckdb_does(warehouse, postgres_traps, mart: str):
    """The dispatched macros (regular expressions, first-by aggregates, dates) give the same clusters, ids and
    survivors on PostgreSQL: the same raw rows built there give the same marts, row for row."""
    postgres.assert_same_mart(postgres_traps, warehouse, mart, PORTABLE_MARTS[mart])
