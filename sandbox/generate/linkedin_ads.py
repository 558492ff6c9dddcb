"""LinkedIn Marketing API elements: accounts, campaign groups, campaigns and daily adAnalytics rows."""

from __future__ import annotations

import math
import random

from .ads import draw, flight, profile, restated, runs_on
from .campaigns import UtmCampaign
from .context import Context
from .fastrand import below, between
from .timefmt import DAY, day_string

#: (name, currency, UTM region suffixes served)
ACCOUNTS = (("Common Ground", "USD", ("", "_na")), ("Common Ground EMEA", "EUR", ("_emea", "_dach", "_fr", "_uk")))
_OBJECTIVES = {"webinar": "LEAD_GENERATION", "ebook": "LEAD_GENERATION", "abm": "BRAND_AWARENESS",
               "launch": "WEBSITE_VISIT", "report": "LEAD_GENERATION"}


def _account_for(region: str) -> int:
    for index, (_, _, regions) in enumerate(ACCOUNTS):
        if region in regions:
            return index
    return 0


def usd_rate(currency: str, day: int) -> float:
    """The EUR->USD (or 1.0) rate LinkedIn applies on a day."""
    if currency == "USD":
        return 1.0
    return 1.08 + 0.04 * math.sin(day / 37.0)


def money(rng: random.Random, amount: float) -> str:
    """A LinkedIn money string: usually with the long binary tail (``"107.5300000000000011369"``)."""
    return f"{amount:.19f}" if rng.random() < 0.8 else repr(amount)


def render(ctx: Context, campaigns: list[UtmCampaign]) -> None:
    """Ad accounts, campaign groups, campaigns and daily campaign analytics over the ad history."""
    rng = ctx.rng("linkedin_ads")
    accounts = ctx.table("linkedin_ads", "ad_accounts")
    for name, currency, _ in ACCOUNTS:
        accounts.append({"id": below(rng, 500_000_000, 520_000_000), "name": name, "currency": currency,
                         "status": "ACTIVE", "type": "BUSINESS", "test": False})
    group_ids = ctx.sequence("linkedin:groups", 612_000_000 + below(rng, 10**6), 3_000)
    campaign_ids = ctx.sequence("linkedin:campaigns", 312_456_789 + below(rng, 10**6), 2_000)
    group_table = ctx.table("linkedin_ads", "campaign_groups")
    campaign_table = ctx.table("linkedin_ads", "campaigns")
    analytics = ctx.table("linkedin_ads", "ad_analytics")
    groups: dict[tuple[int, str], dict] = {}
    clock_day = ctx.clock_day
    for campaign in campaigns:
        if "linkedin_ads" not in campaign.platforms or campaign.key is None:
            continue
        if campaign.end is not None and campaign.end // DAY < clock_day - 400:
            continue
        account_index = _account_for(campaign.region)
        account = accounts[account_index]
        account_urn = f"urn:li:sponsoredAccount:{account['id']}"
        period = campaign.key[:6] if campaign.end is not None else "always-on"
        group = groups.get((account_index, period))
        ended = campaign.end is not None and campaign.end // DAY < clock_day
        if group is None:
            start_ms = campaign.start * 1000
            group = groups[(account_index, period)] = {
                "id": group_ids.take(), "account": account_urn,
                "name": f"{period.upper()} Demand Gen" if period != "always-on" else "Always-on",
                "status": "ACTIVE", "runSchedule": {"start": start_ms}, "test": False,
            }
            group_table.append(group)
        if not ended:
            group["status"] = "ACTIVE"
        elif group["status"] == "ACTIVE" and rng.random() < 0.5:
            group["status"] = "ARCHIVED"
        for format_name in ("Sponsored Content", "Conversation Ads")[: 1 if rng.random() < 0.5 else 2]:
            _add_campaign(ctx, rng, campaign, account, account_index, group, ended, format_name, campaign_ids,
                          campaign_table, analytics)


def _add_campaign(ctx: Context, rng: random.Random, campaign: UtmCampaign, account: dict, account_index: int,
                  group: dict, ended: bool, format_name: str, campaign_ids, campaign_table: list,
                  analytics: list) -> None:
    """One LinkedIn campaign (one ad format) of a real campaign, with its daily analytics."""
    clock_day = ctx.clock_day
    account_urn = group["account"]
    if ended:
        roll = rng.random()
        status = "COMPLETED" if roll < 0.5 else "ARCHIVED" if roll < 0.8 else "REMOVED" if roll < 0.9 else "PAUSED"
    else:
        status = "ACTIVE"
    campaign_id = campaign_ids.take()
    campaign.ad_ids.append(("linkedin_ads", str(campaign_id)))
    created_ms = (campaign.start - between(rng, 1, 12) * DAY) * 1000 + below(rng, 1000)
    modified_ms = min(ctx.clock - 60, (campaign.end or campaign.start) + below(rng, 2 * DAY)) * 1000
    schedule = {"start": campaign.start * 1000}
    if campaign.end is not None:
        schedule["end"] = campaign.end * 1000
    cost_type = "CPM" if rng.random() < 0.6 else "CPC"
    currency = account["currency"]
    element = {
        "id": campaign_id, "account": account_urn, "campaignGroup": f"urn:li:sponsoredCampaignGroup:{group['id']}",
        "name": f"LI - {campaign.key} - {format_name}",
        "status": status, "type": "SPONSORED_UPDATES", "costType": cost_type,
        "objectiveType": _OBJECTIVES.get(campaign.kind, "WEBSITE_VISIT"),
        "dailyBudget": {"amount": str(between(rng, 5, 60) * 10), "currencyCode": currency},
        "unitCost": {"amount": f"{rng.uniform(4, 40):.2f}", "currencyCode": currency},
        "runSchedule": schedule,
        "changeAuditStamps": {"created": {"time": created_ms}, "lastModified": {"time": modified_ms}},
        "servingStatuses": ["RUNNABLE"] if status == "ACTIVE" else ["CAMPAIGN_END_DATE_HOLD"],
        "version": {"versionTag": str(between(rng, 1, 12))},
        "targetingCriteria": {"include": {"and": [{"or": {"urn:li:adTargetingFacet:locations": [
            "urn:li:geo:103644278" if account_index == 0 else "urn:li:geo:100506914"]}}]}},
        "locale": {"country": "US" if account_index == 0 else "GB", "language": "en"},
        "test": False,
    }
    campaign_table.append(element)
    for day in flight(campaign.start, campaign.end, clock_day):
        row = day_row(rng, element, currency, day)
        if row is not None:
            analytics.append(row)


def _date(day: int) -> dict:
    text = day_string(day)
    return {"year": int(text[:4]), "month": int(text[5:7]), "day": int(text[8:10])}


def day_row(rng: random.Random, campaign: dict, currency: str, day: int) -> dict | None:
    """One campaign's analytics element for one day (DAILY granularity), or None when it did not deliver."""
    level = profile("linkedin", campaign["id"])
    delivered = draw(rng, level, day)
    if delivered is None:
        return None
    impressions, clicks, cents, conversions = delivered
    local = cents / 100
    date = _date(day)
    return {
        "pivotValues": [f"urn:li:sponsoredCampaign:{campaign['id']}"], "dateRange": {"start": date, "end": dict(date)},
        "impressions": impressions, "clicks": clicks, "costInLocalCurrency": money(rng, local),
        "costInUsd": repr(local * usd_rate(currency, day)), "externalWebsiteConversions": int(conversions),
        "landingPageClicks": int(clicks * (0.7 + 0.25 * rng.random())),
    }


def delivers(campaign: dict, day: int) -> bool:
    """Whether an ACTIVE campaign is scheduled on ``day``."""
    if campaign["status"] != "ACTIVE":
        return False
    schedule = campaign["runSchedule"]
    end = schedule.get("end")
    return runs_on(schedule["start"] // 86_400_000, end // 86_400_000 if end is not None else None, day)


def restate(rng: random.Random, row: dict, currency: str, day: int) -> None:
    """Restate one analytics element in place: cost and conversions move slightly."""
    cents, conversions = restated(rng, round(float(row["costInLocalCurrency"]) * 100),
                                  float(row["externalWebsiteConversions"]), False)
    local = cents / 100
    row["costInLocalCurrency"] = money(rng, local)
    row["costInUsd"] = repr(local * usd_rate(currency, day))
    row["externalWebsiteConversions"] = int(conversions)
