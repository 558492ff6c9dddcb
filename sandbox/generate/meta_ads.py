"""Meta Marketing API objects and ad-set level insights (every metric a string; actions absent when none)."""

from __future__ import annotations

import random

from .ads import draw, flight, profile, restated, runs_on
from .campaigns import UtmCampaign
from .context import Context
from .fastrand import below, between
from .timefmt import DAY, day_number, day_string, meta_datetime

#: (name, currency, time zone, UTM region suffixes served)
ACCOUNTS = (
    ("Common Ground US", "USD", "America/Los_Angeles", ("", "_na")),
    ("Common Ground Europe", "EUR", "Europe/Paris", ("_emea", "_dach", "_fr", "_uk")),
)
_OBJECTIVES = {"webinar": "OUTCOME_LEADS", "ebook": "OUTCOME_LEADS", "retargeting": "OUTCOME_TRAFFIC",
               "launch": "OUTCOME_AWARENESS", "podcast": "OUTCOME_ENGAGEMENT"}
_GOALS = {"OUTCOME_LEADS": "LEAD_GENERATION", "OUTCOME_TRAFFIC": "LINK_CLICKS", "OUTCOME_AWARENESS": "REACH",
          "OUTCOME_ENGAGEMENT": "POST_ENGAGEMENT"}
_AUDIENCES = ("Lookalike 1%", "Job titles - Data", "Retargeting 30d", "Interest - Analytics", "Broad", "Customer list")


def _account_for(region: str) -> int:
    for index, (_, _, _, regions) in enumerate(ACCOUNTS):
        if region in regions:
            return index
    return 0


def render(ctx: Context, campaigns: list[UtmCampaign]) -> None:
    """Ad accounts, campaigns, ad sets and daily ad-set insights over the ad history."""
    rng = ctx.rng("meta_ads")
    accounts = ctx.table("meta_ads", "ad_accounts")
    for name, currency, zone, _ in ACCOUNTS:
        account_id = str(below(rng, 10**14, 10**15))
        accounts.append({"id": f"act_{account_id}", "account_id": account_id, "name": name, "currency": currency,
                         "timezone_name": zone, "account_status": 1})
    campaign_ids = ctx.sequence("meta:campaigns", 120_208_811_223_340_001 + below(rng, 10**12), 10**7)
    adset_ids = ctx.sequence("meta:adsets", 120_208_811_223_350_001 + below(rng, 10**12), 10**7)
    campaign_table = ctx.table("meta_ads", "campaigns")
    adset_table = ctx.table("meta_ads", "adsets")
    insights = ctx.table("meta_ads", "adset_insights")
    clock_day = ctx.clock_day
    for campaign in campaigns:
        if "meta_ads" not in campaign.platforms or campaign.key is None:
            continue
        if campaign.end is not None and campaign.end // DAY < clock_day - 400:
            continue
        account = accounts[_account_for(campaign.region)]
        zone = account["timezone_name"]
        campaign_id = str(campaign_ids.take())
        campaign.ad_ids.append(("meta_ads", campaign_id))
        objective = _OBJECTIVES.get(campaign.kind, "OUTCOME_LEADS")
        ended = campaign.end is not None and campaign.end // DAY < clock_day
        if ended:
            roll = rng.random()
            status = "PAUSED" if roll < 0.5 else "ARCHIVED" if roll < 0.85 else "DELETED"
        else:
            status = "ACTIVE"
        # A campaign scheduled to start later was still created before today.
        created = min(campaign.start - between(rng, 1, 10) * DAY - below(rng, DAY), ctx.clock - DAY)
        updated = min(ctx.clock - 60, (campaign.end or campaign.start) + below(rng, 3 * DAY))
        name = f"{campaign.key} – {objective.split('_')[1].title()} – {campaign.region.strip('_').upper() or 'US'}"
        row = {"id": campaign_id, "account_id": account["account_id"], "name": name, "objective": objective,
               "status": status, "configured_status": status, "effective_status": status, "buying_type": "AUCTION",
               "special_ad_categories": [], "created_time": meta_datetime(created, zone),
               "start_time": meta_datetime(campaign.start, zone), "updated_time": meta_datetime(updated, zone)}
        if rng.random() < 0.7:
            row["daily_budget"] = str(between(rng, 20, 400) * 100)
        if campaign.end is not None:
            row["stop_time"] = meta_datetime(campaign.end, zone)
        campaign_table.append(row)
        adsets = []
        for audience in rng.sample(_AUDIENCES, between(rng, 2, 4)):
            adset_status = {"PAUSED": "CAMPAIGN_PAUSED"}.get(status, status)
            adset = {"id": str(adset_ids.take()), "account_id": account["account_id"], "campaign_id": campaign_id,
                     "name": f"{campaign.key} | {audience}", "status": "ACTIVE" if status == "PAUSED" else status,
                     "configured_status": "ACTIVE" if status == "PAUSED" else status, "effective_status": adset_status,
                     "optimization_goal": _GOALS[objective], "billing_event": "IMPRESSIONS",
                     "created_time": row["created_time"], "start_time": row["start_time"],
                     "updated_time": row["updated_time"]}
            if campaign.end is not None:
                adset["end_time"] = row["stop_time"]
            adset_table.append(adset)
            adsets.append(adset)
        for day in flight(campaign.start, campaign.end, clock_day):
            for adset in adsets:
                insight = day_row(rng, account, row, adset, len(adsets), day)
                if insight is not None:
                    insights.append(insight)


def day_row(rng: random.Random, account: dict, campaign: dict, adset: dict, siblings: int, day: int) -> dict | None:
    """One ad set's insights row for one day, or None when it did not deliver."""
    level = profile("meta", adset["id"], 1.0 / siblings)
    delivered = draw(rng, level, day)
    if delivered is None:
        return None
    impressions, clicks, cents, conversions = delivered
    if campaign["objective"] == "OUTCOME_AWARENESS":
        clicks, conversions = clicks // 25, 0.0
    date = day_string(day)
    row = {
        "account_id": account["account_id"], "account_currency": account["currency"], "campaign_id": campaign["id"],
        "campaign_name": campaign["name"], "adset_id": adset["id"], "adset_name": adset["name"], "date_start": date,
        "date_stop": date, "impressions": str(impressions),
        "reach": str(int(impressions * (0.62 + 0.3 * rng.random()))),
        "clicks": str(clicks), "spend": f"{cents / 100:.2f}",
    }
    _set_actions(row, int(clicks * (0.55 + 0.4 * rng.random())), int(conversions), level.value)
    return row


def _set_actions(row: dict, link_clicks: int, leads: int, value: float) -> None:
    actions = []
    if link_clicks:
        actions.append({"action_type": "link_click", "value": str(link_clicks)})
        landing = link_clicks * 3 // 4
        if landing:
            actions.append({"action_type": "landing_page_view", "value": str(landing)})
    if leads:
        actions.append({"action_type": "lead", "value": str(leads)})
        pixel = leads - leads // 5
        if pixel:
            actions.append({"action_type": "offsite_conversion.fb_pixel_lead", "value": str(pixel)})
            row["action_values"] = [{"action_type": "offsite_conversion.fb_pixel_lead",
                                     "value": f"{pixel * value:.2f}"}]
    if actions:
        row["actions"] = actions
    else:
        row.pop("actions", None)
    if not leads or not leads - leads // 5:
        row.pop("action_values", None)


def delivers(campaign: dict, adset: dict, day: int) -> bool:
    """Whether an active ad set of an active campaign is scheduled on ``day``."""
    if campaign["effective_status"] != "ACTIVE" or adset["effective_status"] != "ACTIVE":
        return False
    stop = campaign.get("stop_time")
    return runs_on(day_number(campaign["start_time"]), day_number(stop) if stop else None, day)


def restate(rng: random.Random, row: dict) -> None:
    """Restate one insights row in place: spend and lead counts move slightly."""
    leads = next((int(action["value"]) for action in row.get("actions", ()) if action["action_type"] == "lead"), 0)
    cents, new_leads = restated(rng, round(float(row["spend"]) * 100), float(leads), False)
    row["spend"] = f"{cents / 100:.2f}"
    link_clicks = next((int(action["value"]) for action in row.get("actions", ())
                        if action["action_type"] == "link_click"), 0)
    value = profile("meta", row["adset_id"], 1.0).value
    _set_actions(row, link_clicks, int(new_leads), value)
