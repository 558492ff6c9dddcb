"""Identity resolution of names in any script, partial names, sub-domain e-mail addresses and deleted people, on
hand-written raw rows through a real `dbt build` (as test_identity_traps.py); and the same rows built on
PostgreSQL give the same CRM marts, row for row."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import postgres
from tests.transform.helpers import account_of, built_world, dbt_build, raw_tables, rows
from tests.transform.test_identity_traps import (
    DATABASE_LOCALES,
    PORTABLE_MARTS,
    hs_company,
    hs_contact,
    sf_account,
    sf_contact,
    sf_lead,
)

ACCOUNTS = [
    # Two Chinese companies without a website whose names share only the Latin "ABC".
    sf_account("001SHENZHEN", "深圳ABC科技有限公司", None, 1, billing_country="China"),
    sf_account("001SHANGHAI", "上海ABC贸易有限公司", None, 2, billing_country="China"),
    sf_account("001ACMECORP", "AcmeCorp", "acmecorp.com", 3),
    # Legal forms of other scripts, before or after the name, and full-width Latin letters.
    sf_account("001ROMASHKA", "ООО «Ромашка»", None, 4, billing_country="RU"),
    sf_account("001SAKURA", "株式会社サクラ", None, 5, billing_country="JP"),
    sf_account("001ABCJP", "ABC Trading Ltd.", None, 6, billing_country="JP"),
    sf_account("001HANBIT", "(주)한빛", None, 7, billing_country="KR"),
    sf_account("001MAJU", "Maju Jaya Sdn. Bhd.", None, 8, billing_country="MY"),
]
COMPANIES = [
    # The same Greek company spelt in capitals and with accents: one company by name.
    hs_company("101", "ΑΛΦΑ ΕΜΠΟΡΙΚΗ", None, 2, country="Greece"),
    hs_company("102", "Άλφα Εμπορική", None, 3, country="Greece"),
    hs_company("103", "Ромашка ООО", None, 4, country="RU"),
    hs_company("104", "(株)サクラ", None, 5, country="JP"),
    hs_company("105", "ＡＢＣ Ｔｒａｄｉｎｇ　Ｌｔｄ", None, 6, country="JP"),
    hs_company("106", "한빛 주식회사", None, 7, country="KR"),
    hs_company("107", "MAJU JAYA BHD", None, 8, country="MY"),
    # "SDN" alone is a word of the name (software-defined networking), not half of Sdn Bhd.
    hs_company("108", "Nuage SDN", None, 9, country="FR"),
]
LEADS = [
    sf_lead("00QLINH", "Linh", "Nguyen", "linh.nguyen@initech.io", 2),
    sf_lead("00QJOSE", "José", "García", "jose@example.es", 3),
    sf_lead("00QMEI", "Mei", "Chen", "mei.chen@globex.com", 4),
    sf_lead("00QRITA", "Rita", "Moreno", "rita@hooli.com", 5),
    sf_lead("00QOMAR", "Omar", "Haddad", "omar@hooli.com", 5),
]
CONTACTS = [
    sf_contact("003JANE", "Jane", "Smith", "jane@uk.acmecorp.com", 4),
    # A live person without an e-mail, whom only a deleted HubSpot record names (below).
    sf_contact("003KIM", "Kim", "Park", None, 5),
]
HUBSPOT_CONTACTS = [
    hs_contact("201", "Γιώργος", "Παπαδόπουλος", "giorgos@example.gr", 3),
    # Two people sharing a family address (not a role inbox) whose names differ only in Cyrillic letters.
    hs_contact("202", "Иван", "Петров", "petrovs@yandex.ru", 2),
    hs_contact("203", "Мария", "Петрова", "petrovs@yandex.ru", 3),
    # The same in Latin letters.
    hs_contact("204", "Ivan", "Petrov", "petrovs@example.com", 2),
    hs_contact("205", "Maria", "Petrova", "petrovs@example.com", 3),
    # Linh Nguyen again, with the first name only.
    hs_contact("206", "Linh", None, "linh.nguyen@initech.io", 4),
    # Live Sam Lee, and a deleted (archived) nameless record with Sam's address synced to Kim Park's Salesforce id.
    hs_contact("207", "Sam", "Lee", "sam@umbrella.io", 5),
    hs_contact("208", None, None, "sam@umbrella.io", 6, archived=True, salesforcecontactid="003KIM"),
    # Voiced kana are other letters than unvoiced ones.
    hs_contact("209", "ごとう", "ケンジ", "goto@example.jp", 6),
    # Arabic short-vowel marks and Hebrew points are mostly left unwritten: they fold like Latin accents.
    hs_contact("211", "مُحَمَّد", "כֹּהֵן", "m.cohen@example.com", 7),
    # Synced to Mei Chen's lead, from a private address, with the first name only.
    hs_contact("210", "Mei", None, "mei.c@gmail.com", 7, salesforceleadid="00QMEI"),
    # Archived in HubSpot, not synced: Rita is still the live lead on her address; a deleted record whose name
    # does not fit the address's person joins nobody.
    hs_contact("212", "Rita", None, "rita@hooli.com", 8, archived=True),
    hs_contact("213", "Sofia", "Haddad", "omar@hooli.com", 8, archived=True),
    # Typed in full-width letters.
    hs_contact("214", "ＴＡＲＯ", "Ｙａｍａｄａ", "taro@example.jp", 9),
]
RAW = {
    "raw_salesforce.account": ACCOUNTS, "raw_hubspot.companies": COMPANIES, "raw_salesforce.lead": LEADS,
    "raw_salesforce.contact": CONTACTS, "raw_hubspot.contacts": HUBSPOT_CONTACTS,
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """The hand-written world, built by dbt."""
    return built_world(tmp_path_factory.mktemp("names"), RAW)


def _person(warehouse: Path, source_system: str, record_id: str) -> tuple:
    """(prospect_id, source_name_key, match_rule) of a person record."""
    return rows(warehouse, "select prospect_id, source_name_key, match_rule from marts.prospect_source_records "
                           f"where source_system = '{source_system}' and source_record_id = '{record_id}'")[0]


def _prospect(warehouse: Path, prospect_id: str, columns: str) -> tuple:
    return rows(warehouse, f"select {columns} from marts.prospects where prospect_id = '{prospect_id}'")[0]


def test_names_in_any_script_survive_and_key_their_letters(warehouse):
    prospect, name_key, _ = _person(warehouse, "hubspot_contact", "201")
    assert name_key == "γιωργοσ παπαδοπουλοσ"  # final sigma folds: ΠΑΠΑΔΟΠΟΥΛΟΣ has the same key
    assert _prospect(warehouse, prospect, "first_name, last_name") == ("Γιώργος", "Παπαδόπουλος")
    # Latin accents still fold; kana keep their voicing marks.
    assert _person(warehouse, "salesforce_lead", "00QJOSE")[1] == "jose garcia"
    assert _person(warehouse, "hubspot_contact", "209")[1] == "ごとう ケンジ"
    assert _person(warehouse, "hubspot_contact", "211")[1] == "محمد כהן"
    assert _person(warehouse, "hubspot_contact", "214")[1] == "taro yamada"


def test_people_sharing_an_address_stay_apart_when_their_cyrillic_names_differ(warehouse):
    ivan, ivan_key, _ = _person(warehouse, "hubspot_contact", "202")
    maria, maria_key, _ = _person(warehouse, "hubspot_contact", "203")
    assert (ivan_key, maria_key) == ("иван петров", "мария петрова")
    assert ivan != maria
    assert _prospect(warehouse, ivan, "first_name, last_name") == ("Иван", "Петров")
    assert _prospect(warehouse, maria, "first_name, last_name") == ("Мария", "Петрова")
    # The same in Latin letters.
    assert _person(warehouse, "hubspot_contact", "204")[0] != _person(warehouse, "hubspot_contact", "205")[0]


def test_company_names_keep_their_non_latin_letters(warehouse):
    shenzhen, shanghai = (account_of(warehouse, "salesforce", record) for record in ("001SHENZHEN", "001SHANGHAI"))
    assert shenzhen != shanghai
    keys = rows(warehouse, "select source_record_id, source_name_key from marts.account_source_records "
                           "where source_record_id in ('001SHENZHEN', '001SHANGHAI', '101', '102') order by 1")
    # their legal form (有限公司) goes, what tells them apart stays
    assert keys == [("001SHANGHAI", "上海abc贸易"), ("001SHENZHEN", "深圳abc科技"),
                    ("101", "αλφαεμπορικη"), ("102", "αλφαεμπορικη")]
    # Capitals and accents of Greek fold as Latin ones do.
    assert account_of(warehouse, "hubspot", "101") == account_of(warehouse, "hubspot", "102")


@pytest.mark.parametrize(("salesforce_id", "hubspot_id", "key"), [
    ("001ROMASHKA", "103", "ромашка"),  # ООО before the name (in quotes), or after it
    ("001SAKURA", "104", "サクラ"),  # 株式会社 written on, or its abbreviation (株)
    ("001ABCJP", "105", "abctrading"),  # full-width letters and an ideographic space
    ("001HANBIT", "106", "한빛"),  # (주), or 주식회사 after the name
    ("001MAJU", "107", "majujaya"),  # Sdn. Bhd., or Bhd. alone
])
def test_legal_forms_of_other_scripts_and_full_width_letters_fold(warehouse, salesforce_id, hubspot_id, key):
    assert rows(warehouse, "select source_name_key from marts.account_source_records "
                           f"where source_record_id in ('{salesforce_id}', '{hubspot_id}')") == [(key,), (key,)]
    assert account_of(warehouse, "salesforce", salesforce_id) == account_of(warehouse, "hubspot", hubspot_id)


def test_a_word_that_is_only_half_a_legal_form_stays(warehouse):
    assert rows(warehouse, "select source_name_key from marts.account_source_records "
                           "where source_record_id = '108'") == [("nuagesdn",)]


def test_a_missing_first_or_last_name_conflicts_with_nothing(warehouse):
    lead, _, _ = _person(warehouse, "salesforce_lead", "00QLINH")
    contact, _, rule = _person(warehouse, "hubspot_contact", "206")
    assert contact == lead
    assert rule == "email"
    assert _prospect(warehouse, lead, "first_name, last_name") == ("Linh", "Nguyen")


def test_a_synced_id_with_a_partial_name_and_another_email_is_trusted(warehouse):
    """The name supports the native id ("Mei" fits "Mei Chen"), so it wins over the other e-mail."""
    assert rows(warehouse, "select name_agreement, is_trusted from intermediate.int_person_native_ids_checked "
                           "where record_key = 'hubspot_contact:210'") == [("agree", True)]
    contact, _, rule = _person(warehouse, "hubspot_contact", "210")
    assert (contact, rule) == (_person(warehouse, "salesforce_lead", "00QMEI")[0], "native_id")


def test_an_email_at_a_subdomain_finds_the_account_of_its_registrable_domain(warehouse):
    prospect, _, _ = _person(warehouse, "salesforce_contact", "003JANE")
    (email_domain, account) = _prospect(warehouse, prospect, "email_domain, account_id")
    assert email_domain == "uk.acmecorp.com"
    assert account == account_of(warehouse, "salesforce", "001ACMECORP")


def test_a_deleted_record_does_not_join_two_live_people_by_its_email(warehouse):
    sam, _, _ = _person(warehouse, "hubspot_contact", "207")
    kim, _, _ = _person(warehouse, "salesforce_contact", "003KIM")
    deleted, _, rule = _person(warehouse, "hubspot_contact", "208")
    assert sam != kim
    # The deleted record stays with the person its synced id names.
    assert (deleted, rule) == (kim, "native_id")
    assert _prospect(warehouse, sam, "is_deleted, source_record_count") == (False, 1)


def test_a_deleted_unsynced_record_joins_the_live_person_its_address_and_name_fit(warehouse):
    rita, _, _ = _person(warehouse, "salesforce_lead", "00QRITA")
    archived, _, rule = _person(warehouse, "hubspot_contact", "212")
    assert (archived, rule) == (rita, "email")
    assert _prospect(warehouse, rita, "is_deleted, source_record_count") == (False, 2)
    omar, _, _ = _person(warehouse, "salesforce_lead", "00QOMAR")
    assert _person(warehouse, "hubspot_contact", "213")[0] != omar


@pytest.fixture(scope="module", params=sorted(DATABASE_LOCALES))
def postgres_names(request, tmp_path_factory):
    """The same raw rows built by dbt on a PostgreSQL database of each locale: an open connection to it."""
    folder = tmp_path_factory.mktemp("names_postgres")
    with postgres.built_warehouse(RAW, raw_tables(), lambda environment: dbt_build(environment, folder), port=55451,
                                  **DATABASE_LOCALES[request.param]) as connection:
        yield connection


@pytest.mark.e2e
@pytest.mark.parametrize("mart", ["accounts", "account_source_records", "prospects", "prospect_source_records"])
def test_postgresql_keys_names_as_duckdb_does(warehouse, postgres_names, mart: str):
    """Keys of non-Latin names (lower-cased under ICU on PostgreSQL, whose staging text has the C collation) and
    the clusters they make are the same on both warehouses."""
    postgres.assert_same_mart(postgres_names, warehouse, mart, PORTABLE_MARTS[mart])
