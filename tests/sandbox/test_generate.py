"""The dataset generator: determinism, wire types, ground truth, planted misalignments, time travel."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from sandbox.dataset import APIS, Dataset
from sandbox.generate import DEFAULT_CLOCK, SCALES, advance, generate
from sandbox.generate.ids import SF_PREFIX, is_salesforce_id
from sandbox.generate.variants import is_free_mail, normalize_email, registrable_domain

SF_DATETIME = "%Y-%m-%dT%H:%M:%S.%f%z"
SF_DATETIME_FIELDS = ("CreatedDate", "LastModifiedDate", "SystemModstamp", "LastLoginDate")
SF_DATE_FIELDS = ("CloseDate", "ConvertedDate", "StartDate", "EndDate", "FirstRespondedDate", "PrevCloseDate")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HS_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DIGITS = re.compile(r"^\d+$")
DATE_ENTERED = "hs_v2_date_entered_"
HS_MODIFIED = {"companies": "hs_lastmodifieddate", "contacts": "lastmodifieddate", "deals": "hs_lastmodifieddate"}
GT_SYSTEMS = {("salesforce", "Lead"): "salesforce_lead", ("salesforce", "Contact"): "salesforce_contact",
              ("hubspot", "contacts"): "hubspot_contact"}


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    """The scale-S dataset with the default seed; tests must not change it."""
    return generate("S")


@pytest.fixture(scope="module")
def advanced() -> tuple[Dataset, dict]:
    """A fresh scale-S dataset advanced by three days, with the advance summary."""
    data = generate("S")
    return data, advance(data, days=3, seed=11)


def rows(data: Dataset, api: str, obj: str) -> list[dict]:
    return data.records.get((api, obj), [])


def sf_time(text: str) -> datetime:
    return datetime.strptime(text, SF_DATETIME)


# --- determinism and size ---------------------------------------------------------------------------------------


def test_same_seed_gives_identical_dataset(dataset: Dataset) -> None:
    again = generate("S", seed=7)
    assert again.records == dataset.records
    assert again.ground_truth == dataset.ground_truth
    assert again.clock == dataset.clock == DEFAULT_CLOCK


def test_different_seed_gives_different_dataset(dataset: Dataset) -> None:
    other = generate("S", seed=8)
    assert rows(other, "salesforce", "Account") != rows(dataset, "salesforce", "Account")
    assert rows(other, "hubspot", "contacts") != rows(dataset, "hubspot", "contacts")
    assert rows(other, "google_ads", "campaign_metrics") != rows(dataset, "google_ads", "campaign_metrics")


def test_clock_can_be_chosen() -> None:
    clock = datetime.fromisoformat("2025-06-30T12:00:00+00:00")
    data = generate(SCALES["S"], seed=3, clock=clock)
    assert data.clock == clock
    newest = max(row["SystemModstamp"] for row in rows(data, "salesforce", "Account"))
    assert sf_time(newest) <= clock


def test_scale_s_generates_quickly() -> None:
    started = time.process_time()
    generate("S", seed=5)
    assert time.process_time() - started < 3.0


def test_every_object_of_every_api_is_present(dataset: Dataset) -> None:
    for api, objects in APIS.items():
        for obj in objects:
            assert rows(dataset, api, obj), f"{api}.{obj} is empty"


def test_counts_at_scale_s(dataset: Dataset) -> None:
    size = SCALES["S"]
    truth = dataset.ground_truth
    assert len({row["entity_id"] for row in truth["companies"]}) == size.companies
    assert 1_500 <= len(rows(dataset, "salesforce", "Account")) <= 2_000
    assert 1_300 <= len(rows(dataset, "hubspot", "companies")) <= 1_800
    assert len(rows(dataset, "salesforce", "Opportunity")) == size.opportunities
    assert len(rows(dataset, "hubspot", "deals")) == size.deals
    people = len(rows(dataset, "salesforce", "Lead")) + len(rows(dataset, "salesforce", "Contact")) + \
        len(rows(dataset, "hubspot", "contacts"))
    assert 1.4 * size.people <= people <= 1.9 * size.people
    ad_rows = sum(len(rows(dataset, api, obj)) for api, obj in (
        ("google_ads", "campaign_metrics"), ("google_ads", "ad_group_metrics"), ("meta_ads", "adset_insights"),
        ("linkedin_ads", "ad_analytics")))
    assert 8_000 <= ad_rows <= 40_000
    assert 2 <= len(rows(dataset, "google_ads", "customer")) <= 3
    users = len(rows(dataset, "salesforce", "User"))
    assert 30 <= users <= size.users


def test_history_spans_two_years_of_crm_and_400_days_of_ads(dataset: Dataset) -> None:
    created = sorted(row["CreatedDate"] for row in rows(dataset, "salesforce", "Account"))
    assert sf_time(created[0]) < DEFAULT_CLOCK - timedelta(days=700)
    days = sorted(row["segments.date"] for row in rows(dataset, "google_ads", "campaign_metrics"))
    first = datetime.fromisoformat(days[0]).date()
    assert 380 <= (DEFAULT_CLOCK.date() - first).days <= 401
    assert days[-1] == (DEFAULT_CLOCK.date() - timedelta(days=1)).isoformat()


# --- wire formats -----------------------------------------------------------------------------------------------


def check_salesforce(data: Dataset) -> None:
    """Ids, field sets, types and stamp order of every Salesforce record."""
    clock = data.clock
    queues = set()
    for obj in APIS["salesforce"]:
        table = rows(data, "salesforce", obj)
        keys = set(table[0])
        prefix = SF_PREFIX[obj]
        for row in table:
            assert set(row) == keys, f"{obj} {row['Id']} has a different field set"
            assert is_salesforce_id(row["Id"], prefix), row["Id"]
            assert ("IsDeleted" in row) == (obj != "User")
            for field in SF_DATETIME_FIELDS:
                if row.get(field) is not None:
                    assert sf_time(row[field]) <= clock, (obj, field, row[field])
            for field in SF_DATE_FIELDS:
                if row.get(field) is not None:
                    assert DATE.match(row[field]), (obj, field, row[field])
            created = row.get("CreatedDate")
            if created is not None and "LastModifiedDate" in row:
                assert created <= row["LastModifiedDate"] <= row["SystemModstamp"], (obj, row["Id"])
            if obj == "Lead" and row["OwnerId"].startswith("00G"):
                queues.add(row["OwnerId"])
                assert is_salesforce_id(row["OwnerId"], "00G")
            elif "OwnerId" in row:
                assert is_salesforce_id(row["OwnerId"], "005")
    for row in rows(data, "salesforce", "Account"):
        assert row["AnnualRevenue"] is None or isinstance(row["AnnualRevenue"], float)
        assert row["NumberOfEmployees"] is None or isinstance(row["NumberOfEmployees"], int)
        assert row["CurrencyIsoCode"] in ("USD", "EUR", "GBP")
    for row in rows(data, "salesforce", "Opportunity"):
        assert row["Amount"] is None or isinstance(row["Amount"], float)
        assert isinstance(row["Probability"], float)
        assert row["IsWon"] <= row["IsClosed"]
        assert row["Type"] in ("New Business", "Existing Business - Upgrade", "Renewal")
    assert queues, "some leads should be owned by a queue"


def check_salesforce_references(data: Dataset) -> None:
    """Lookups point at existing records; conversions and history are consistent."""
    ids = {obj: {row["Id"]: row for row in rows(data, "salesforce", obj)} for obj in APIS["salesforce"]}
    for row in ids["Contact"].values():
        assert row["AccountId"] in ids["Account"]
    for row in ids["Opportunity"].values():
        assert row["AccountId"] in ids["Account"]
        assert row["CampaignId"] is None or row["CampaignId"] in ids["Campaign"]
    for row in ids["Account"].values():
        assert row["ParentId"] is None or row["ParentId"] in ids["Account"]
        if row["MasterRecordId"] is not None:
            assert row["IsDeleted"] and row["MasterRecordId"] in ids["Account"]
    converted = 0
    for row in ids["Lead"].values():
        if row["IsConverted"]:
            converted += 1
            assert row["Status"] == "Closed - Converted" and row["ConvertedDate"]
            contact = ids["Contact"][row["ConvertedContactId"]]
            assert row["ConvertedAccountId"] in ids["Account"]
            if row["ConvertedOpportunityId"] is not None:
                assert ids["Opportunity"][row["ConvertedOpportunityId"]]["AccountId"] in ids["Account"]
            assert contact["CreatedDate"][:10] == row["ConvertedDate"]
        else:
            assert row["ConvertedContactId"] is row["ConvertedAccountId"] is row["ConvertedOpportunityId"] is None
    assert converted > 100
    history = defaultdict(list)
    for row in ids["OpportunityHistory"].values():
        assert row["OpportunityId"] in ids["Opportunity"]
        history[row["OpportunityId"]].append(row)
    for opp_id, entries in history.items():
        stamps = [entry["CreatedDate"] for entry in entries]
        assert stamps == sorted(stamps)
        assert entries[-1]["StageName"] == ids["Opportunity"][opp_id]["StageName"]
    assert set(history) == set(ids["Opportunity"])
    for row in ids["CampaignMember"].values():
        assert row["CampaignId"] in ids["Campaign"]
        assert (row["LeadId"] is None) != (row["ContactId"] is None)
        assert row["LeadId"] is None or row["LeadId"] in ids["Lead"]
        assert row["ContactId"] is None or row["ContactId"] in ids["Contact"]


def check_hubspot(data: Dataset) -> None:
    """CRM object shape, string-only properties, id order, modification stamps, associations."""
    ids = {}
    for obj in ("companies", "contacts", "deals"):
        table = rows(data, "hubspot", obj)
        keys = set(table[0]["properties"])
        numbers = [int(row["id"]) for row in table]
        assert numbers == sorted(set(numbers)), f"{obj} not in id order"
        for row in table:
            assert DIGITS.match(row["id"]) and row["properties"]["hs_object_id"] == row["id"]
            assert set(row["properties"]) == keys
            assert all(value is None or isinstance(value, str) for value in row["properties"].values())
            assert HS_DATETIME.match(row["createdAt"]) and HS_DATETIME.match(row["updatedAt"])
            assert row["createdAt"] == row["properties"]["createdate"]
            assert row["updatedAt"] == row["properties"][HS_MODIFIED[obj]]
            assert row["createdAt"] <= row["updatedAt"]
            assert isinstance(row["archived"], bool) and (row["archived"] == ("archivedAt" in row))
        ids[obj] = {row["id"] for row in table}
    assert "hs_lastmodifieddate" not in rows(data, "hubspot", "contacts")[0]["properties"]
    stage_keys = {f"hs_lifecyclestage_{stage}_date" for stage in (
        "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
        "evangelist", "other")}
    assert stage_keys <= set(rows(data, "hubspot", "contacts")[0]["properties"])
    for row in rows(data, "hubspot", "contacts"):
        properties = row["properties"]
        stage = properties["lifecyclestage"]
        assert properties[f"hs_lifecyclestage_{stage}_date"] is not None, row["id"]
    pipelines = {row["id"]: {stage["id"] for stage in row["stages"]} for row in rows(data, "hubspot", "pipelines")}
    assert "default" in pipelines and len(pipelines) == 2
    for pipeline in rows(data, "hubspot", "pipelines"):
        for stage in pipeline["stages"]:
            assert isinstance(stage["metadata"]["probability"], str)
            assert stage["metadata"]["isClosed"] in ("true", "false")
    for row in rows(data, "hubspot", "deals"):
        properties = row["properties"]
        assert properties["dealstage"] in pipelines[properties["pipeline"]]
        # when the deal last entered each stage: set for its current stage (the latest entry) and only for stages of
        # its pipeline, from its creation to its last modification
        entered = {key.removeprefix(DATE_ENTERED): value for key, value in properties.items()
                   if key.startswith(DATE_ENTERED) and value is not None}
        assert set(entered) <= pipelines[properties["pipeline"]], row["id"]
        assert entered[properties["dealstage"]] == max(entered.values()), row["id"]
        assert all(row["createdAt"] <= value <= row["updatedAt"] for value in entered.values()), row["id"]
    kinds = {"contact_to_company": ("contacts", "companies"), "deal_to_company": ("deals", "companies"),
             "deal_to_contact": ("deals", "contacts")}
    seen = Counter()
    for row in rows(data, "hubspot", "associations"):
        source, target = kinds[row["type"]]
        assert (row["from_type"], row["to_type"]) == (source, target)
        assert row["from_id"] in ids[source] and row["to_id"] in ids[target]
        seen[row["type"]] += 1
    assert set(seen) == set(kinds)
    owners = rows(data, "hubspot", "owners")
    assert all(DIGITS.match(row["id"]) and isinstance(row["userId"], int) for row in owners)


def test_salesforce_wire_format(dataset: Dataset) -> None:
    check_salesforce(dataset)


def test_salesforce_references(dataset: Dataset) -> None:
    check_salesforce_references(dataset)


def test_hubspot_wire_format(dataset: Dataset) -> None:
    check_hubspot(dataset)


def test_hubspot_marketing_shapes(dataset: Dataset) -> None:
    emails = {row["id"]: row for row in rows(dataset, "hubspot", "marketing_emails")}
    assert all(isinstance(row["lastUpdatedTime"], int) and row["appName"] for row in emails.values())
    contacts = {row["properties"]["email"] for row in rows(dataset, "hubspot", "contacts")}
    events = rows(dataset, "hubspot", "email_events")
    assert {row["type"] for row in events} == {"SENT", "DELIVERED", "OPEN", "CLICK"}
    for row in events:
        assert isinstance(row["created"], int) and isinstance(row["emailCampaignId"], int)
        assert row["emailCampaignId"] in emails and row["recipient"] in contacts
        assert set(row) == {"id", "created", "type", "recipient", "emailCampaignId", "portalId", "appId", "appName"}
    created = [row["created"] for row in events]
    assert created == sorted(created)
    forms = {row["guid"] for row in rows(dataset, "hubspot", "forms")}
    for row in rows(dataset, "hubspot", "form_submissions"):
        assert row["formGuid"] in forms and isinstance(row["submittedAt"], int)
        assert {value["name"] for value in row["values"]} >= {"email", "firstname", "lastname"}
        assert all(isinstance(value["value"], str) for value in row["values"])


def test_google_ads_wire_format(dataset: Dataset) -> None:
    customers = rows(dataset, "google_ads", "customer")
    assert len({row["customer.currency_code"] for row in customers}) == len(customers)
    assert len({row["customer.time_zone"] for row in customers}) == len(customers)
    assert all(re.match(r"^\d{10}$", row["customer.id"]) for row in customers)
    by_key = defaultdict(list)
    for row in rows(dataset, "google_ads", "ad_group_metrics"):
        by_key[(row["campaign.id"], row["segments.date"])].append(row)
    for obj in ("campaign_metrics", "ad_group_metrics"):
        for row in rows(dataset, "google_ads", obj):
            for field in ("customer.id", "campaign.id", "metrics.impressions", "metrics.clicks", "metrics.cost_micros"):
                assert isinstance(row[field], str) and DIGITS.match(row[field]), (field, row[field])
            assert int(row["metrics.impressions"]) > 0
            assert isinstance(row["metrics.conversions"], float)
            assert isinstance(row["metrics.conversions_value"], float)
            assert int(row["metrics.cost_micros"]) % 10_000 == 0
            assert DATE.match(row["segments.date"])
    for row in rows(dataset, "google_ads", "campaign_metrics"):
        groups = by_key.get((row["campaign.id"], row["segments.date"]))
        if groups:
            assert int(row["metrics.impressions"]) == sum(int(group["metrics.impressions"]) for group in groups)
            assert int(row["metrics.cost_micros"]) == sum(int(group["metrics.cost_micros"]) for group in groups)
        else:
            assert row["campaign.advertising_channel_type"] == "PERFORMANCE_MAX"
    keys = [(row["campaign.id"], row["segments.date"]) for row in rows(dataset, "google_ads", "campaign_metrics")]
    assert len(keys) == len(set(keys))


def test_meta_ads_wire_format(dataset: Dataset) -> None:
    accounts = rows(dataset, "meta_ads", "ad_accounts")
    assert all(row["id"] == f"act_{row['account_id']}" for row in accounts)
    campaigns = rows(dataset, "meta_ads", "campaigns")
    assert all(re.match(r"^\d{18}$", row["id"]) for row in campaigns)
    assert {"ARCHIVED", "DELETED"} & {row["effective_status"] for row in campaigns}
    assert all(re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$", row["updated_time"]) for row in campaigns)
    with_actions = 0
    for row in rows(dataset, "meta_ads", "adset_insights"):
        for field in ("impressions", "reach", "clicks", "spend", "campaign_id", "adset_id", "account_id"):
            assert isinstance(row[field], str)
        assert int(row["impressions"]) > 0 and int(row["reach"]) <= int(row["impressions"])
        Decimal(row["spend"])
        assert row["date_start"] == row["date_stop"]
        if "actions" in row:
            with_actions += 1
            assert row["actions"] and all(isinstance(item["value"], str) for item in row["actions"])
        assert "action_values" not in row or row["action_values"]
    assert 0 < with_actions < len(rows(dataset, "meta_ads", "adset_insights"))


def test_linkedin_ads_wire_format(dataset: Dataset) -> None:
    accounts = {row["id"]: row for row in rows(dataset, "linkedin_ads", "ad_accounts")}
    assert all(isinstance(account_id, int) for account_id in accounts)
    campaigns = rows(dataset, "linkedin_ads", "campaigns")
    for row in campaigns:
        assert isinstance(row["id"], int)
        assert int(row["account"].rsplit(":", 1)[1]) in accounts
        assert isinstance(row["dailyBudget"]["amount"], str)
        assert isinstance(row["changeAuditStamps"]["lastModified"]["time"], int)
    assert {"REMOVED", "ARCHIVED", "COMPLETED"} & {row["status"] for row in campaigns}
    campaign_ids = {row["id"] for row in campaigns}
    long_precision = 0
    for row in rows(dataset, "linkedin_ads", "ad_analytics"):
        assert int(row["pivotValues"][0].removeprefix("urn:li:sponsoredCampaign:")) in campaign_ids
        assert row["dateRange"]["start"] == row["dateRange"]["end"]
        assert all(isinstance(row[field], int) for field in ("impressions", "clicks", "externalWebsiteConversions",
                                                              "landingPageClicks"))
        assert Decimal(row["costInLocalCurrency"]) > 0 and Decimal(row["costInUsd"]) > 0
        long_precision += len(row["costInLocalCurrency"].split(".")[1]) > 10
    assert long_precision > 0


# --- ground truth and planted misalignment -------------------------------------------------------------------------


def check_truth_covers_records(data: Dataset) -> None:
    """Every Account, HubSpot company, lead, contact and HubSpot contact has exactly one ground-truth row."""
    truth = Counter((row["source_system"], row["source_record_id"]) for row in data.ground_truth["companies"])
    records = Counter([("salesforce", row["Id"]) for row in rows(data, "salesforce", "Account")]
                      + [("hubspot", row["id"]) for row in rows(data, "hubspot", "companies")])
    assert max(truth.values()) == 1
    assert set(records) <= set(truth)
    merged = set(truth) - set(records)
    assert all(system == "hubspot" for system, _ in merged), "only HubSpot merges remove records"
    people = Counter((row["source_system"], row["source_record_id"]) for row in data.ground_truth["people"])
    assert max(people.values()) == 1
    person_records = {(system, row["Id" if api == "salesforce" else "id"])
                      for (api, obj), system in GT_SYSTEMS.items() for row in rows(data, api, obj)}
    assert person_records <= set(people)
    assert all(system == "hubspot_contact" for system, _ in set(people) - person_records)


def test_ground_truth_covers_every_record_once(dataset: Dataset) -> None:
    check_truth_covers_records(dataset)
    truth = Counter((row["source_system"], row["source_record_id"]) for row in dataset.ground_truth["companies"])
    assert len(truth) == len(rows(dataset, "salesforce", "Account")) + len(rows(dataset, "hubspot", "companies"))


def test_ground_truth_campaigns_share_utm_keys(dataset: Dataset) -> None:
    by_entity = defaultdict(set)
    for row in dataset.ground_truth["campaigns"]:
        by_entity[row["entity_id"]].add(row["source_system"])
        if row["utm_campaign"] is not None:
            assert row["utm_campaign"] == row["utm_campaign"].lower()
    systems = Counter(frozenset(value) for value in by_entity.values())
    assert any({"salesforce", "hubspot"} < key and len(key & {"google_ads", "meta_ads", "linkedin_ads"}) >= 1
               for key in systems)
    names = {"salesforce": {row["Id"]: row["Name"] for row in rows(dataset, "salesforce", "Campaign")},
             "hubspot": {str(row["id"]): row["name"] for row in rows(dataset, "hubspot", "marketing_emails")},
             "google_ads": {row["campaign.id"]: row["campaign.name"]
                            for row in rows(dataset, "google_ads", "campaign")},
             "meta_ads": {row["id"]: row["name"] for row in rows(dataset, "meta_ads", "campaigns")},
             "linkedin_ads": {str(row["id"]): row["name"] for row in rows(dataset, "linkedin_ads", "campaigns")}}
    for row in dataset.ground_truth["campaigns"]:
        name = names[row["source_system"]][row["source_record_id"]]
        if row["utm_campaign"] is not None:
            assert row["utm_campaign"] in name.lower()
    page_keys = {match.group(1) for row in rows(dataset, "hubspot", "form_submissions")
                 if (match := re.search(r"utm_campaign=([a-z0-9_]+)", row["pageUrl"]))}
    truth_keys = {row["utm_campaign"] for row in dataset.ground_truth["campaigns"]}
    orphans = {row["detail"] for row in dataset.ground_truth["misalignments"] if row["kind"] == "utm_without_campaign"}
    assert page_keys and page_keys <= truth_keys | orphans
    assert len(page_keys & truth_keys) > 10 * len(page_keys - truth_keys)


def test_companies_overlap_across_systems_with_different_domain_spellings(dataset: Dataset) -> None:
    systems = defaultdict(set)
    for row in dataset.ground_truth["companies"]:
        systems[row["entity_id"]].add(row["source_system"])
    both = sum(1 for value in systems.values() if value == {"salesforce", "hubspot"})
    assert 0.5 <= both / len(systems) <= 0.7
    assert any(value == {"salesforce"} for value in systems.values())
    assert any(value == {"hubspot"} for value in systems.values())
    websites = {row["Id"]: row["Website"] for row in rows(dataset, "salesforce", "Account")}
    domains = {row["id"]: row["properties"]["domain"] for row in rows(dataset, "hubspot", "companies")}
    records = defaultdict(dict)
    for row in dataset.ground_truth["companies"]:
        records[row["entity_id"]].setdefault(row["source_system"], row["source_record_id"])
    differently_spelled = 0
    for record in records.values():
        if "salesforce" in record and "hubspot" in record:
            website, domain = websites[record["salesforce"]], domains[record["hubspot"]]
            if website and domain and website != domain:
                assert registrable_domain(website) == registrable_domain(domain)
                differently_spelled += 1
    assert differently_spelled > 200
    assert any(website and website.startswith("WWW.") for website in websites.values())
    assert any(website and website.endswith("/about") for website in websites.values())
    assert any(domain and domain.endswith(".co.uk") for domain in domains.values())


def test_some_hubspot_companies_have_no_domain(dataset: Dataset) -> None:
    companies = rows(dataset, "hubspot", "companies")
    missing = sum(1 for row in companies if row["properties"]["domain"] is None)
    assert 0.10 <= missing / len(companies) <= 0.20


def test_duplicates_inside_each_system(dataset: Dataset) -> None:
    per_system = defaultdict(Counter)
    for name in ("companies", "people"):
        for row in dataset.ground_truth[name]:
            per_system[row["source_system"]][row["entity_id"]] += 1
    accounts = len(rows(dataset, "salesforce", "Account"))
    sf_duplicates = sum(count - 1 for count in per_system["salesforce"].values())
    assert 0.015 <= sf_duplicates / accounts <= 0.05
    for system in ("hubspot", "salesforce_lead", "salesforce_contact", "hubspot_contact"):
        assert any(count > 1 for count in per_system[system].values()), system
    names = {}
    for row in rows(dataset, "salesforce", "Account"):
        names[row["Id"]] = row["Name"]
    variants = 0
    for entity, count in per_system["salesforce"].items():
        if count > 1:
            ids = [row["source_record_id"] for row in dataset.ground_truth["companies"]
                   if row["entity_id"] == entity and row["source_system"] == "salesforce"]
            variants += len({names[record_id] for record_id in ids}) > 1
    assert variants > 0


def test_people_email_variants_free_mail_and_role_inboxes(dataset: Dataset) -> None:
    emails = {}
    for (api, obj), system in GT_SYSTEMS.items():
        field = "Email" if api == "salesforce" else None
        for row in rows(dataset, api, obj):
            email = row[field] if field else row["properties"]["email"]
            emails[(system, row["Id"] if field else row["id"])] = email
    by_person = defaultdict(list)
    for row in dataset.ground_truth["people"]:
        by_person[row["entity_id"]].append(emails[(row["source_system"], row["source_record_id"])])
    case_only = gmail_folded = free = 0
    for addresses in by_person.values():
        present = [address for address in addresses if address]
        if len({address.lower() for address in present}) == 1 and len(set(present)) > 1:
            case_only += 1
        if len({normalize_email(address) for address in present}) == 1 and \
                len({address.lower() for address in present}) > 1:
            gmail_folded += 1
        free += bool(present) and is_free_mail(present[0])
    assert case_only > 20 and gmail_folded > 5
    assert 0.07 <= free / len(by_person) <= 0.13
    owners = defaultdict(set)
    for row in dataset.ground_truth["people"]:
        address = emails[(row["source_system"], row["source_record_id"])]
        if address and address.split("@")[0] in ("info", "sales", "contact", "hello", "office", "support"):
            owners[address.lower()].add(row["entity_id"])
    assert any(len(entities) > 1 for entities in owners.values()), "a role inbox shared by different people"


def test_converted_leads_and_synced_ids(dataset: Dataset) -> None:
    people = {(row["source_system"], row["source_record_id"]): row["entity_id"]
              for row in dataset.ground_truth["people"]}
    for row in rows(dataset, "salesforce", "Lead"):
        if row["IsConverted"]:
            assert people[("salesforce_lead", row["Id"])] == people[("salesforce_contact", row["ConvertedContactId"])]
    companies = {(row["source_system"], row["source_record_id"]): row["entity_id"]
                 for row in dataset.ground_truth["companies"]}
    shared = {entity for (system, _), entity in companies.items() if system == "salesforce"}
    hs_rows = [row for row in rows(dataset, "hubspot", "companies") if companies[("hubspot", row["id"])] in shared]
    synced = [row for row in hs_rows if row["properties"]["salesforceaccountid"]]
    assert 0.3 <= len(synced) / len(hs_rows) <= 0.5
    wrong = [row for row in synced
             if companies.get(("salesforce", row["properties"]["salesforceaccountid"])) != companies[("hubspot",
                                                                                                     row["id"])]]
    assert wrong, "a few HubSpot companies carry a Salesforce id of another company"
    assert {("hubspot_company", row["id"]) for row in wrong} <= {
        (row["source_system"], row["source_record_id"]) for row in dataset.ground_truth["misalignments"]
        if row["kind"] == "wrong_synced_id"}
    contacts = rows(dataset, "hubspot", "contacts")
    assert any(row["properties"]["salesforcecontactid"] for row in contacts)
    assert any(row["properties"]["salesforceleadid"] for row in contacts)


def test_lifecycle_conflicts_and_missing_owners(dataset: Dataset) -> None:
    kinds = Counter(row["kind"] for row in dataset.ground_truth["misalignments"])
    assert kinds["lifecycle_conflict"] > 50
    customers_in_sf = {row["Id"] for row in rows(dataset, "salesforce", "Account")
                       if (row["Type"] or "").startswith("Customer")}
    companies = {(row["source_system"], row["source_record_id"]): row["entity_id"]
                 for row in dataset.ground_truth["companies"]}
    customer_entities = {companies[("salesforce", account_id)] for account_id in customers_in_sf}
    hs_not_customer = [row for row in rows(dataset, "hubspot", "companies")
                       if companies[("hubspot", row["id"])] in customer_entities
                       and row["properties"]["lifecyclestage"] != "customer"]
    assert hs_not_customer
    for obj in ("companies", "contacts", "deals"):
        assert any(row["properties"]["hubspot_owner_id"] is None for row in rows(dataset, "hubspot", obj))


def test_bulk_updates_share_one_modstamp(dataset: Dataset) -> None:
    for obj in ("Account", "Lead", "Contact"):
        largest = Counter(row["SystemModstamp"] for row in rows(dataset, "salesforce", obj)).most_common(1)[0][1]
        assert largest > 250, obj
    for obj in ("companies", "contacts"):
        largest = Counter(row["properties"][HS_MODIFIED[obj]] for row in rows(dataset, "hubspot", obj))
        assert largest.most_common(1)[0][1] > 250, obj


# --- time travel ---------------------------------------------------------------------------------------------------


def test_advance_moves_clock_and_changes_every_kind(advanced: tuple[Dataset, dict]) -> None:
    data, summary = advanced
    assert data.clock == DEFAULT_CLOCK + timedelta(days=3)
    assert summary["days"] == 3
    for kind, keys in {
        "created": ("salesforce.Account", "salesforce.Lead", "salesforce.Opportunity", "salesforce.CampaignMember",
                    "hubspot.companies", "hubspot.contacts", "hubspot.deals", "google_ads.campaign_metrics",
                    "meta_ads.adset_insights", "linkedin_ads.ad_analytics"),
        "updated": ("salesforce.Account", "salesforce.Contact", "salesforce.Lead", "salesforce.Opportunity",
                    "hubspot.companies", "hubspot.contacts", "hubspot.deals"),
        "deleted": ("salesforce.Contact", "salesforce.Lead"),
        "archived": ("hubspot.contacts",),
        "merged": ("salesforce.Account", "salesforce.Lead", "hubspot.companies", "hubspot.contacts"),
        "restated": ("google_ads.campaign_metrics", "meta_ads.adset_insights", "linkedin_ads.ad_analytics"),
        "converted": ("salesforce.Lead",),
    }.items():
        for key in keys:
            assert summary.get(kind, {}).get(key, 0) > 0, (kind, key)


def test_advance_keeps_records_well_formed(advanced: tuple[Dataset, dict]) -> None:
    data, _ = advanced
    check_salesforce(data)
    check_salesforce_references(data)
    check_hubspot(data)
    check_truth_covers_records(data)


def test_advance_stamps_changes_inside_the_new_days(advanced: tuple[Dataset, dict]) -> None:
    data, summary = advanced
    start = DEFAULT_CLOCK
    changed = [row for row in rows(data, "salesforce", "Opportunity") if sf_time(row["SystemModstamp"]) > start]
    assert len(changed) >= summary["updated"]["salesforce.Opportunity"] * 0.8
    assert all(sf_time(row["SystemModstamp"]) <= data.clock for row in changed)
    new_history = [row for row in rows(data, "salesforce", "OpportunityHistory") if sf_time(row["CreatedDate"]) > start]
    assert len(new_history) == summary["created"]["salesforce.OpportunityHistory"]
    latest = max(row["properties"]["lastmodifieddate"] for row in rows(data, "hubspot", "contacts"))
    assert datetime.fromisoformat(latest.replace("Z", "+00:00")) <= data.clock
    moved = [row for row in rows(data, "hubspot", "deals")
             if row["properties"][DATE_ENTERED + row["properties"]["dealstage"]] > f"{start:%Y-%m-%dT%H:%M:%S}"]
    assert 0 < len(moved) <= summary["updated"]["hubspot.deals"] + summary["created"]["hubspot.deals"]
    new_days = {(DEFAULT_CLOCK.date() + timedelta(days=offset)).isoformat() for offset in range(3)}
    added = {row["segments.date"] for row in rows(data, "google_ads", "campaign_metrics")} & new_days
    assert added == new_days


def test_advance_merges_like_each_system(advanced: tuple[Dataset, dict]) -> None:
    data, _ = advanced
    accounts = {row["Id"]: row for row in rows(data, "salesforce", "Account")}
    losers = [row for row in accounts.values() if row["MasterRecordId"]]
    assert losers and all(row["IsDeleted"] for row in losers)
    assert all(row["MasterRecordId"] in accounts and row["MasterRecordId"] != row["Id"] for row in losers)
    leads = [row for row in rows(data, "salesforce", "Lead") if row["MasterRecordId"]]
    assert leads and all(row["IsDeleted"] for row in leads)
    for obj in ("companies", "contacts"):
        table = rows(data, "hubspot", obj)
        present = {row["id"] for row in table}
        merged = [row for row in table if row["properties"]["hs_merged_object_ids"]]
        assert merged, obj
        for row in merged:
            assert not set(row["properties"]["hs_merged_object_ids"].split(";")) & present
    archived = [row for row in rows(data, "hubspot", "contacts") if row["archived"]]
    assert archived and all(row["archivedAt"] >= row["createdAt"] for row in archived)


def test_advance_restates_recent_ad_metrics_in_place() -> None:
    before = generate("S")
    after = generate("S")
    advance(after, days=1, seed=4)
    window = {(DEFAULT_CLOCK.date() - timedelta(days=offset)).isoformat() for offset in range(1, 8)}
    old = {(row["campaign.id"], row["segments.date"]): row for row in rows(before, "google_ads", "campaign_metrics")
           if row["segments.date"] in window}
    new = {(row["campaign.id"], row["segments.date"]): row for row in rows(after, "google_ads", "campaign_metrics")
           if row["segments.date"] in window}
    assert old.keys() == new.keys()
    changed = [key for key in old if old[key] != new[key]]
    assert changed
    for key in changed:
        assert old[key].keys() == new[key].keys()
        assert old[key]["metrics.impressions"] == new[key]["metrics.impressions"]
    first = min(window)
    older = [row for row in rows(after, "google_ads", "campaign_metrics") if row["segments.date"] < first]
    assert older == [row for row in rows(before, "google_ads", "campaign_metrics") if row["segments.date"] < first]


def test_advance_is_deterministic() -> None:
    first, second = generate("S"), generate("S")
    assert advance(first, days=2, seed=5) == advance(second, days=2, seed=5)
    assert first.records == second.records and first.ground_truth == second.ground_truth
    third = generate("S")
    advance(third, days=2, seed=6)
    assert third.records != first.records


def test_advance_adds_ground_truth_for_new_records(advanced: tuple[Dataset, dict]) -> None:
    data, summary = advanced
    companies = {row["entity_id"] for row in data.ground_truth["companies"]}
    assert len(companies) > SCALES["S"].companies
    employment = {row["person_entity_id"] for row in data.ground_truth["employment"]}
    assert {row["entity_id"] for row in data.ground_truth["people"]} <= employment


# --- round trip --------------------------------------------------------------------------------------------------


def test_write_read_round_trip_is_lossless(dataset: Dataset, tmp_path) -> None:
    dataset.write(tmp_path / "data")
    loaded = Dataset.read(tmp_path / "data")
    assert loaded.clock == dataset.clock
    assert loaded.records == dataset.records
    assert loaded.ground_truth == dataset.ground_truth


def test_advance_after_read_equals_advance_in_memory(tmp_path) -> None:
    original = generate("S")
    original.write(tmp_path / "data")
    loaded = Dataset.read(tmp_path / "data")
    assert advance(loaded, days=1, seed=9) == advance(original, days=1, seed=9)
    assert loaded.records == original.records
    assert loaded.ground_truth == original.ground_truth
