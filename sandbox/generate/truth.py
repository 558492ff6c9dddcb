"""Ground truth: which source records stand for the same real-world company, person or campaign, and what
the ad platforms spent per account and day."""

from __future__ import annotations

from collections import defaultdict

from .campaigns import UtmCampaign
from .world import Company, Person


def company_rows(companies: list[Company]) -> list[dict]:
    """One row per Salesforce Account and HubSpot company, keyed to its real company."""
    rows = []
    for company in companies:
        entity = company.entity_id
        rows.extend({"entity_id": entity, "source_system": "salesforce", "source_record_id": record_id}
                    for record_id in company.sf_ids)
        rows.extend({"entity_id": entity, "source_system": "hubspot", "source_record_id": record_id}
                    for record_id in company.hs_ids)
    return rows


def person_rows(people: list[Person]) -> list[dict]:
    """One row per Salesforce Lead, Salesforce Contact and HubSpot contact, keyed to its real person."""
    rows = []
    for person in people:
        entity = person.entity_id
        rows.extend({"entity_id": entity, "source_system": "salesforce_lead", "source_record_id": record_id}
                    for record_id in person.lead_ids)
        rows.extend({"entity_id": entity, "source_system": "salesforce_contact", "source_record_id": record_id}
                    for record_id in person.contact_ids)
        rows.extend({"entity_id": entity, "source_system": "hubspot_contact", "source_record_id": record_id}
                    for record_id in person.hs_ids)
    return rows


def campaign_rows(campaigns: list[UtmCampaign]) -> list[dict]:
    """One row per Salesforce Campaign, HubSpot marketing e-mail and ad-platform campaign, keyed to its
    real campaign and its canonical (lower-case) UTM key."""
    rows = []
    for campaign in campaigns:
        entity, key = campaign.entity_id, campaign.key
        if campaign.sf_id is not None:
            rows.append({"entity_id": entity, "source_system": "salesforce", "source_record_id": campaign.sf_id,
                         "utm_campaign": key})
        rows.extend({"entity_id": entity, "source_system": "hubspot", "source_record_id": str(email_id),
                     "utm_campaign": key} for email_id in campaign.hs_email_ids)
        rows.extend({"entity_id": entity, "source_system": platform, "source_record_id": record_id,
                     "utm_campaign": key} for platform, record_id in campaign.ad_ids)
    return rows


def employment_rows(people: list[Person]) -> list[dict]:
    """Which real company each real person works at (the truth behind ``prospects.account_id``)."""
    return [{"person_entity_id": person.entity_id, "company_entity_id": person.company.entity_id}
            for person in people]


def ad_spend_cents(dataset) -> dict[tuple[str, str, str], int]:
    """Spend in whole cents of the account's own currency per (platform, account id, day): what the
    ad platforms' metrics must add up to once synced.

    The generator draws every day's spend as whole cents and writes it in each platform's wire form
    (Google micros, Meta's decimal string, LinkedIn's decimal string with a binary tail); the cents
    are recovered here exactly as the generator itself reads them back when it restates a day.
    """
    spend: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in dataset.table("google_ads", "campaign_metrics"):
        cents = int(row["metrics.cost_micros"]) // 10_000
        spend[("google_ads", str(row["customer.id"]), row["segments.date"])] += cents
    for row in dataset.table("meta_ads", "adset_insights"):
        spend[("meta_ads", str(row["account_id"]), row["date_start"])] += round(float(row["spend"]) * 100)
    accounts = {f"urn:li:sponsoredCampaign:{row['id']}": row["account"].rsplit(":", 1)[-1]
                for row in dataset.table("linkedin_ads", "campaigns")}
    for row in dataset.table("linkedin_ads", "ad_analytics"):
        start = row["dateRange"]["start"]
        day = f"{start['year']:04d}-{start['month']:02d}-{start['day']:02d}"
        spend[("linkedin_ads", accounts[row["pivotValues"][0]], day)] += round(float(row["costInLocalCurrency"]) * 100)
    return dict(spend)
