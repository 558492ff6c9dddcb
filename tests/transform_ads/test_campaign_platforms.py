"""A campaign run on several ad platforms: each platform's spend meets the leads and revenue of its own clicks, from
hand-written raw rows through a real `dbt build` (ad marts, CRM marts, revenue marts).

The world: the ad world of test_ad_performance_daily (January 2026 spend on the unified campaign U =
2026q1_webinar_dataops: Google G1 30.50 USD, Meta M1 12.34 USD, LinkedIn 555 100.00 EUR), with Google campaign
21085985229 renamed "spring_launch | Search" and a Meta campaign 23850000000001 "spring_launch – Leads – US", so
spring_launch (S) runs on Google and Meta too; Salesforce campaign 701B names the Google one by id, 701C the Meta one.

- Ann (HubSpot): first visit 2026-01-10 08:00 from utm_source=google, utm_medium=display (a Display ad),
  utm_campaign=U; lead that day, MQL 2026-01-12.
- Bob (HubSpot, and a Salesforce contact of account Bolt): first visit 2026-01-11 08:00 from utm_source=facebook,
  utm_medium=cpc (a Meta ad tagged as many tag every paid click) on U; lead that day, MQL 2026-01-13. Bolt's deal:
  created 2026-01-20, won 2026-01-29 for 500 USD, Bolt's first win; its only touch is Bob's visit (position-based:
  all the credit).
- Cat (HubSpot): first visit 2026-01-11 from utm_source=partner, utm_medium=referral on U; lead, MQL 2026-01-13.
- Dan (Salesforce lead, created 2026-01-12 10:00): responded to 701C (type "Advertisement") that morning.
- Eve (HubSpot): first visit 2026-01-11 from an organic LinkedIn post tagged utm_source=linkedin, utm_medium=social
  on U; lead, MQL 2026-01-13.

Right answers (January): the touches' platforms are google_ads (Ann), meta_ads (Bob), none (Cat: a partner's link),
meta_ads (Dan: 701C names a Meta campaign) and none (Eve: no ad runs in organic social, whatever utm_source says),
whatever platform comes first by name among U's or S's. A touch through a platform carries the platform's paid
channel, where its spend is, whatever its utm_medium (display, cpc) or its CRM campaign's type (Advertisement) says.
(paid_search, google_ads, U): spend 30.50, 1 lead, 1 MQL -> cost per MQL 30.50.
(paid_social, meta_ads, U): spend 12.34, 1 lead, 1 MQL -> cost per MQL 12.34; 1 deal, 500 pipeline and revenue,
1 new customer -> CAC 12.34, ROAS 500 / 12.34. (referral, none, U): Cat's lead and MQL. (organic_social, none, U):
Eve's lead and MQL, none under linkedin_ads. (paid_social, meta_ads, S): Dan's lead. No leads, MQLs or revenue under
(paid_social, google_ads, U), where no spend is.
"""

from __future__ import annotations

import copy
import json
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pytest

from tests.transform_ads.ad_world import AS_OF, LOADED, RAW, UTM
from tests.transform_ads.support import create_raw_ad_tables, dbt, dicts, insert

JANUARY = date(2026, 1, 1)
SPRING = "spring_launch"
#: The ad marts, the CRM marts and the revenue marts, with everything upstream and their tests.
SELECTION = ["--select", "+ad_performance_daily", "+campaigns", "+channel_performance_monthly",
             "--indirect-selection", "cautious"]


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


def hubspot_contact(record_id: str, email: str, source: str, medium: str, lead: datetime, mql: datetime) -> dict:
    """A HubSpot contact created an hour before becoming a lead, first seen through a link tagged for U."""
    first_name = email.split("@")[0].title()
    return {"id": record_id, "archived": False, "email": email, "firstname": first_name, "lastname": "Example",
            "lifecyclestage": "marketingqualifiedlead", "utm_source": source, "utm_medium": medium,
            "utm_campaign": UTM, "createdate": lead.replace(hour=lead.hour - 1), "lastmodifieddate": mql,
            "hs_lifecyclestage_lead_date": lead, "hs_lifecyclestage_marketingqualifiedlead_date": mql,
            "_loaded_at": LOADED}


def world_raw() -> dict[str, list[dict]]:
    """The ad world's raw rows with spring_launch on two platforms, and the CRM rows described above."""
    raw = copy.deepcopy(RAW)
    google = next(row for row in raw["raw_google_ads.campaigns"] if row["campaign_id"] == "21085985229")
    google["name"] = f"{SPRING} | Search"
    raw["raw_meta_ads.campaigns"].append(
        {"id": "23850000000001", "account_id": "333", "name": f"{SPRING} – Leads – US", "status": "ACTIVE",
         "effective_status": "ACTIVE", "objective": "OUTCOME_LEADS"})
    raw["raw_salesforce.campaign"].append(
        {"id": "701C", "is_deleted": False, "name": "Spring launch (Meta 23850000000001)", "type": "Advertisement",
         "status": "In Progress", "start_date": date(2026, 1, 1), "currency_iso_code": "USD", "_loaded_at": LOADED})
    raw.update({
        "raw_hubspot.contacts": [
            hubspot_contact("H1", "ann@acme.com", "google", "display", at(10, 9), at(12, 9)),
            hubspot_contact("H2", "bob@bolt.io", "facebook", "cpc", at(11, 9), at(13, 9)),
            hubspot_contact("H3", "cat@core.dev", "partner", "referral", at(11, 9), at(13, 9)),
            hubspot_contact("H4", "eve@elm.org", "linkedin", "social", at(11, 9), at(13, 9)),
        ],
        "raw_salesforce.account": [
            {"id": "001BOLT", "is_deleted": False, "name": "Bolt", "website": "bolt.io", "currency_iso_code": "USD",
             "created_date": at(2), "system_modstamp": at(2), "_loaded_at": LOADED},
        ],
        "raw_salesforce.contact": [
            {"id": "003BOB", "is_deleted": False, "account_id": "001BOLT", "first_name": "Bob", "last_name": "Example",
             "email": "bob@bolt.io", "created_date": at(15), "system_modstamp": at(15), "_loaded_at": LOADED},
        ],
        "raw_salesforce.opportunity": [
            {"id": "006BOLT", "is_deleted": False, "account_id": "001BOLT", "name": "Bolt - New", "amount": 500,
             "stage_name": "Closed Won", "probability": 100, "close_date": date(2026, 1, 29), "is_closed": True,
             "is_won": True, "type": "New Business", "currency_iso_code": "USD", "created_date": at(20, 12),
             "system_modstamp": at(29, 12), "_loaded_at": LOADED},
        ],
        "raw_salesforce.lead": [
            {"id": "00QDAN", "is_deleted": False, "first_name": "Dan", "last_name": "Example", "company": "Dyn",
             "email": "dan@dyn.co", "status": "Open - Not Contacted", "is_converted": False,
             "created_date": at(12, 10), "system_modstamp": at(12, 10), "_loaded_at": LOADED},
        ],
        "raw_salesforce.campaign_member": [
            {"id": "00VDAN", "is_deleted": False, "campaign_id": "701C", "lead_id": "00QDAN", "status": "Responded",
             "has_responded": True, "first_responded_date": date(2026, 1, 12), "created_date": at(12, 9),
             "system_modstamp": at(12, 9), "_loaded_at": LOADED},
        ],
    })
    return raw


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("campaign_platforms")
    path = folder / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        create_raw_ad_tables(connection)
        for table, rows in world_raw().items():
            insert(connection, table, rows)
    dbt(path, folder, ["build", *SELECTION, "--vars", json.dumps(AS_OF)])
    return path


def campaign_ids(warehouse) -> dict[str, str]:
    return {row["utm_campaign"]: row["campaign_id"] for row in dicts(
        warehouse, "select utm_campaign, campaign_id from marts.campaigns where utm_campaign in (?, ?)", [UTM, SPRING])}


def test_a_campaign_on_several_platforms_says_so_and_lists_them(warehouse):
    campaigns = {row["utm_campaign"]: row for row in dicts(warehouse, "select * from marts.campaigns")}
    assert (campaigns[UTM]["platform"], campaigns[UTM]["platforms"]) == ("multiple", "google_ads,linkedin_ads,meta_ads")
    assert (campaigns[SPRING]["platform"], campaigns[SPRING]["platforms"]) == ("multiple", "google_ads,meta_ads")
    assert (campaigns["brand_search_na"]["platform"], campaigns["brand_search_na"]["platforms"]) == (
        "google_ads", "google_ads")


def test_a_touch_comes_through_the_platform_it_names_or_the_campaign_it_responded_to(warehouse):
    platforms = {(row["source_system"], row["source_touchpoint_id"]): row["platform"] for row in dicts(
        warehouse, "select source_system, source_touchpoint_id, platform from marts.touchpoints")}
    assert platforms == {("hubspot", "H1"): "google_ads", ("hubspot", "H2"): "meta_ads", ("hubspot", "H3"): None,
                         ("hubspot", "H4"): None, ("salesforce", "00VDAN"): "meta_ads"}


def test_a_touch_through_a_platform_carries_the_channel_its_spend_counts_under(warehouse):
    channels = {(row["source_system"], row["source_touchpoint_id"]): row["channel"] for row in dicts(
        warehouse, "select source_system, source_touchpoint_id, channel from marts.touchpoints")}
    assert channels == {("hubspot", "H1"): "paid_search", ("hubspot", "H2"): "paid_social",
                        ("hubspot", "H3"): "referral", ("hubspot", "H4"): "organic_social",
                        ("salesforce", "00VDAN"): "paid_social"}


def test_each_platforms_spend_meets_the_leads_and_revenue_of_its_own_clicks(warehouse):
    ids = campaign_ids(warehouse)
    rows = {(row["channel"], row["platform"], row["campaign_id"]): row for row in dicts(
        warehouse, "select * from marts.channel_performance_monthly where month = ?", [JANUARY])}
    google = rows[("paid_search", "google_ads", ids[UTM])]
    assert (google["spend_reporting"], google["leads"], google["mqls"], google["cost_per_mql"]) == (
        Decimal("30.50"), 1, 1, Decimal("30.50"))
    meta = rows[("paid_social", "meta_ads", ids[UTM])]
    assert (meta["spend_reporting"], meta["leads"], meta["mqls"], meta["cost_per_mql"]) == (
        Decimal("12.34"), 1, 1, Decimal("12.34"))
    assert (meta["opportunities"], meta["attributed_pipeline_reporting"], meta["attributed_revenue_reporting"],
            meta["new_customers"], meta["cac"]) == (1, Decimal("500"), Decimal("500"), 1, Decimal("12.34"))
    assert meta["roas"] == pytest.approx(500 / 12.34)
    assert (rows[("referral", None, ids[UTM])]["leads"], rows[("referral", None, ids[UTM])]["mqls"]) == (1, 1)
    organic = rows[("organic_social", None, ids[UTM])]
    assert (organic["leads"], organic["mqls"]) == (1, 1)
    assert ("organic_social", "linkedin_ads", ids[UTM]) not in rows
    assert rows[("paid_social", "meta_ads", ids[SPRING])]["leads"] == 1
    assert ("paid_social", "google_ads", ids[UTM]) not in rows
    [credit] = dicts(warehouse, "select channel, platform, campaign_id, credit from marts.attribution "
                                "where attribution_model = 'position_based'")
    assert credit == {"channel": "paid_social", "platform": "meta_ads", "campaign_id": ids[UTM], "credit": 1.0}


def test_the_as_of_date_the_var_sets_is_one_row(warehouse):
    """The marts cross join int_reporting_dates: with var as_of_date set (as here) it must stay one row, or every
    count of channel_performance_monthly above comes out once per CRM table it reads its load dates from."""
    assert dicts(warehouse, "select * from intermediate.int_reporting_dates") == [
        {"as_of_date": date.fromisoformat(AS_OF["as_of_date"])}]


def test_touchpoints_built_before_they_had_a_platform_take_it_on_the_next_incremental_run(warehouse, tmp_path):
    """A touchpoints table from before the platform column (the deploy of this change) is rewritten whole by the
    next incremental run, not compared column by column with a column it lacks."""
    older = tmp_path / "older.duckdb"
    shutil.copyfile(warehouse, older)
    with duckdb.connect(str(older)) as connection:
        connection.execute("alter table marts.touchpoints drop column platform")
    dbt(older, tmp_path, ["run", "--select", "touchpoints", "--vars", json.dumps(AS_OF)])
    sql = "select * from marts.touchpoints order by touchpoint_id"
    assert dicts(older, sql) == dicts(warehouse, sql)
