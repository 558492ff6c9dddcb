"""Company domains through a real `dbt build` of hand-written raw rows: the registrable domain is one label more than
the longest public suffix (edu.au, myshopify.com), a platform's domain (linkedin.com) matches nothing, and a deleted
record joins one company at most, never two into one; the same rows built on PostgreSQL give the same marts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import postgres
from tests.transform.helpers import account_of, built_world, dbt_build, raw_tables, rows
from tests.transform.test_identity_traps import hs_company, sf_account

ACCOUNTS = [
    # Pages on a platform: the companies are not linkedin.com.
    sf_account("001ACMEROBO", "Acme Robotics", "https://www.linkedin.com/company/acme-robotics", 1),
    sf_account("001GLOBEXFOODS", "Globex Foods", "linkedin.com/company/globex", 2),
    # Two universities under one two-label public suffix.
    sf_account("001UNIMELB", "University of Melbourne", "https://www.unimelb.edu.au", 3, billing_country="Australia"),
    sf_account("001MONASH", "Monash University", "monash.edu.au", 4, billing_country="Australia"),
    # www. and a subdomain still fold into the registrable domain (names differ: the domain alone links them).
    sf_account("001HOOLI", "Hooli Ltd", "www.hooli.co.uk", 5, billing_country="United Kingdom"),
    sf_account("001PIPER", "Pied Piper Store", "https://shop.piedpiper.com/cart", 6),
    # A record the user deleted, with Globex's name and Acme's website: it must not make Acme and Globex one.
    sf_account("001ACME", "Acme", "acme.com", 7),
    sf_account("001GLOBEXBAD", "Globex", "acme.com", 8, is_deleted=True),
    sf_account("001GLOBEX", "Globex", None, 9),
    # A Salesforce merge whose loser carried another company's website: the loser leads to its survivor only.
    sf_account("001OSCORP", "Oscorp", "oscorp.com", 10),
    sf_account("001OSCORPOLD", "Oscorp Industries", "umbrella.com", 11, is_deleted=True, master_record_id="001OSCORP"),
    sf_account("001UMBRELLA", "Umbrella Corporation", "umbrella.com", 12),
    sf_account("001INITECH", "Initech LLC", "https://www.initech.com", 13),
]
COMPANIES = [
    # Two shops on Shopify's hosting.
    hs_company("101", "Initrode", "initrode.myshopify.com", 2),
    hs_company("102", "Vandelay Industries", "vandelay.myshopify.com", 3),
    hs_company("103", "Hooli UK", "hooli.co.uk", 4, country="United Kingdom"),
    hs_company("104", "Pied Piper", "piedpiper.com", 5),
    hs_company("105", "Globex Corp", None, 10),
    # The same company as 001ACMEROBO, with its own domain: the LinkedIn page no longer keeps them apart.
    hs_company("106", "Acme Robotics Inc", "acmerobotics.io", 11),
    # A company archived in HubSpot while its Salesforce twin lives on: still the same company.
    hs_company("107", "Initech", "initech.com", 12, archived=True),
]
RAW = {"raw_salesforce.account": ACCOUNTS, "raw_hubspot.companies": COMPANIES}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """The hand-written world, built by dbt."""
    return built_world(tmp_path_factory.mktemp("domains"), RAW)


def _accounts(warehouse: Path, *records: tuple[str, str]) -> list[str]:
    return [account_of(warehouse, source_system, record_id) for source_system, record_id in records]


def _account_row(warehouse: Path, account_id: str) -> tuple:
    return rows(warehouse, "select primary_domain, is_deleted from marts.accounts "
                           f"where account_id = '{account_id}'")[0]


def _name_of(warehouse: Path, account_id: str) -> str:
    return rows(warehouse, f"select account_name from marts.accounts where account_id = '{account_id}'")[0][0]


def test_pages_on_a_platform_are_not_the_companys_domain(warehouse):
    robotics, globex = _accounts(warehouse, ("salesforce", "001ACMEROBO"), ("salesforce", "001GLOBEXFOODS"))
    assert robotics != globex
    assert rows(warehouse, "select website_domain, domain_key from intermediate.int_account_records_unioned "
                           "where record_key = 'salesforce:001GLOBEXFOODS'") == [("linkedin.com", None)]
    # Without a domain of its own, "Acme Robotics" finds its company by name.
    assert robotics == account_of(warehouse, "hubspot", "106")
    assert rows(warehouse, "select match_rule from marts.account_source_records "
                           "where source_record_id = '001ACMEROBO'") == [("name",)]
    assert _account_row(warehouse, robotics)[0] == "acmerobotics.io"
    assert _account_row(warehouse, globex)[0] is None


def test_shops_on_a_hosting_platform_are_two_companies(warehouse):
    initrode, vandelay = _accounts(warehouse, ("hubspot", "101"), ("hubspot", "102"))
    assert initrode != vandelay
    assert _account_row(warehouse, initrode)[0] == "initrode.myshopify.com"


def test_two_labels_of_public_suffix_keep_a_third(warehouse):
    melbourne, monash = _accounts(warehouse, ("salesforce", "001UNIMELB"), ("salesforce", "001MONASH"))
    assert melbourne != monash
    assert [_account_row(warehouse, account)[0] for account in (melbourne, monash)] == [
        "unimelb.edu.au", "monash.edu.au"]


def test_www_and_subdomains_still_fold_into_the_registrable_domain(warehouse):
    assert account_of(warehouse, "salesforce", "001HOOLI") == account_of(warehouse, "hubspot", "103")
    assert account_of(warehouse, "salesforce", "001PIPER") == account_of(warehouse, "hubspot", "104")
    assert rows(warehouse, "select source_record_id, source_domain, match_rule from marts.account_source_records "
                           "where source_record_id in ('001HOOLI', '103', '001PIPER', '104') order by 1") == [
        ("001HOOLI", "hooli.co.uk", "domain"), ("001PIPER", "piedpiper.com", "domain"),
        ("103", "hooli.co.uk", "domain"), ("104", "piedpiper.com", "domain")]


def test_a_deleted_record_sharing_a_domain_does_not_link_two_live_companies(warehouse):
    acme, globex, deleted, globex_hubspot = _accounts(
        warehouse, ("salesforce", "001ACME"), ("salesforce", "001GLOBEX"), ("salesforce", "001GLOBEXBAD"),
        ("hubspot", "105"))
    assert acme != globex
    assert globex == globex_hubspot  # the live Globex records still match each other by name
    # it attaches to one company, its strongest match (the domain), as a leaf: Globex's name joins it to nothing
    assert deleted == acme
    assert rows(warehouse, "select match_rule from marts.account_source_records "
                           "where source_record_id = '001GLOBEXBAD'") == [("domain",)]
    assert _account_row(warehouse, acme) == ("acme.com", False)
    assert _name_of(warehouse, acme) == "Acme"


def test_a_company_archived_in_one_crm_stays_with_its_live_twin(warehouse):
    archived, live = _accounts(warehouse, ("hubspot", "107"), ("salesforce", "001INITECH"))
    assert archived == live
    assert _account_row(warehouse, live) == ("initech.com", False)


def test_a_merged_away_record_leads_to_its_survivor_only(warehouse):
    oscorp, loser, umbrella = _accounts(
        warehouse, ("salesforce", "001OSCORP"), ("salesforce", "001OSCORPOLD"), ("salesforce", "001UMBRELLA"))
    assert loser == oscorp
    assert umbrella != oscorp
    assert rows(warehouse, "select match_rule from marts.account_source_records "
                           "where source_record_id = '001OSCORPOLD'") == [("source_merge",)]
    assert _account_row(warehouse, oscorp) == ("oscorp.com", False)


#: The account marts, with their sort keys, that must be the same on both warehouses.
PORTABLE_MARTS = {"accounts": "account_id", "account_source_records": "source_system, source_record_id"}


@pytest.fixture(scope="module")
def postgres_domains(tmp_path_factory):
    """The same raw rows built by dbt on PostgreSQL (C locale): an open connection to it."""
    folder = tmp_path_factory.mktemp("domains_postgres")
    with postgres.built_warehouse(RAW, raw_tables(), lambda environment: dbt_build(environment, folder), port=55481,
                                  locale="C") as connection:
        yield connection


@pytest.mark.e2e
@pytest.mark.parametrize("mart", PORTABLE_MARTS)
def test_postgresql_resolves_domains_as_duckdb_does(warehouse, postgres_domains, mart: str):
    """normalize_domain's PostgreSQL regular expressions give the same domains, hence the same accounts."""
    postgres.assert_same_mart(postgres_domains, warehouse, mart, PORTABLE_MARTS[mart])
