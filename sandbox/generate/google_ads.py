"""Google Ads rows keyed by GAQL field paths (int64 as strings, doubles as numbers, money in micros)."""

from __future__ import annotations

import random

from .ads import draw, flight, profile, restated, runs_on
from .campaigns import UtmCampaign
from .context import Context
from .fastrand import below, between
from .timefmt import DAY, day_number, day_string

#: (descriptive name, currency, time zone, UTM region suffixes served)
CUSTOMERS = (
    ("Common Ground - North America", "USD", "America/New_York", ("", "_na")),
    ("Common Ground - EMEA", "EUR", "Europe/Berlin", ("_emea", "_dach", "_fr")),
    ("Common Ground UK", "GBP", "Europe/London", ("_uk",)),
)
#: Campaign flights are whole days (API v23+ ``start_date_time`` / ``end_date_time``, in the customer's time zone).
FIRST_SECOND, LAST_SECOND = " 00:00:00", " 23:59:59"
_CHANNELS = {
    "demo": ("SEARCH",), "brand": ("SEARCH",), "retargeting": ("DISPLAY",), "ebook": ("DISPLAY", "PERFORMANCE_MAX"),
    "launch": ("SEARCH", "VIDEO", "PERFORMANCE_MAX"), "report": ("SEARCH", "DISPLAY"),
}
_GROUP_TYPES = {"SEARCH": "SEARCH_STANDARD", "DISPLAY": "DISPLAY_STANDARD", "VIDEO": "VIDEO_TRUE_VIEW_IN_STREAM"}
_GROUP_NAMES = ("Generic", "Competitors", "Brand terms", "Long tail", "Remarketing 30d", "Lookalike", "Exact match")


def _customer_for(region: str) -> int:
    for index, (_, _, _, regions) in enumerate(CUSTOMERS):
        if region in regions:
            return index
    return 0


def render(ctx: Context, campaigns: list[UtmCampaign]) -> None:
    """Customers, campaigns, ad groups and their daily metrics over the ad history."""
    rng = ctx.rng("google_ads")
    customer_rows = ctx.table("google_ads", "customer")
    customer_ids = []
    for name, currency, zone, _ in CUSTOMERS:
        customer_id = str(below(rng, 1_000_000_000, 9_999_999_999))
        customer_ids.append(customer_id)
        customer_rows.append({"customer.id": customer_id, "customer.descriptive_name": name,
                              "customer.currency_code": currency, "customer.time_zone": zone})
    campaign_ids = ctx.sequence("google:campaigns", 20_194_857_311 + below(rng, 10**9), 9_000)
    group_ids = ctx.sequence("google:ad_groups", 151_302_778_004 + below(rng, 10**9), 5_000)
    campaign_table = ctx.table("google_ads", "campaign")
    group_table = ctx.table("google_ads", "ad_group")
    metrics = ctx.table("google_ads", "campaign_metrics")
    group_metrics = ctx.table("google_ads", "ad_group_metrics")
    clock_day = ctx.clock_day
    for campaign in campaigns:
        if "google_ads" not in campaign.platforms or campaign.key is None:
            continue
        if campaign.end is not None and campaign.end // DAY < clock_day - 400:
            continue
        for channel in _CHANNELS.get(campaign.kind, ("SEARCH",))[: 1 if rng.random() < 0.4 else 3]:
            customer_id = customer_ids[_customer_for(campaign.region)]
            campaign_id = str(campaign_ids.take())
            campaign.ad_ids.append(("google_ads", campaign_id))
            ended = campaign.end is not None and campaign.end // DAY < clock_day
            status = ("REMOVED" if rng.random() < 0.3 else "PAUSED") if ended else "ENABLED"
            key = campaign.key.upper() if rng.random() < 0.25 else campaign.key
            name = f"{key} | {channel.replace('_', ' ').title()} | {campaign.region.strip('_').upper() or 'NA'}"
            row = {
                "customer.id": customer_id, "campaign.id": campaign_id, "campaign.name": name,
                "campaign.status": status, "campaign.advertising_channel_type": channel,
                "campaign.start_date_time": day_string(campaign.start // DAY) + FIRST_SECOND,
                "campaign_budget.amount_micros": str(int(campaign.budget / 60) * 1_000_000),
            }
            if campaign.end is not None:  # an open-ended campaign has no end_date_time at all
                row["campaign.end_date_time"] = day_string(campaign.end // DAY) + LAST_SECOND
            campaign_table.append(row)
            groups = []
            if channel != "PERFORMANCE_MAX":
                for group_name in rng.sample(_GROUP_NAMES, between(rng, 3, 5)):
                    group = {"customer.id": customer_id, "campaign.id": campaign_id,
                             "ad_group.id": str(group_ids.take()),
                             "ad_group.name": f"{campaign.topic or 'brand'} - {group_name}",
                             "ad_group.status": "ENABLED", "ad_group.type": _GROUP_TYPES[channel]}
                    group_table.append(group)
                    groups.append(group)
            for day in flight(campaign.start, campaign.end, clock_day):
                campaign_row, rows = day_rows(rng, row, groups, day)
                if campaign_row is not None:
                    metrics.append(campaign_row)
                    group_metrics.extend(rows)


def day_rows(rng: random.Random, campaign: dict, groups: list[dict], day: int) -> tuple[dict | None, list[dict]]:
    """One day of metrics: the ``campaign_metrics`` row (None when dark) and its ``ad_group_metrics`` rows."""
    channel = campaign["campaign.advertising_channel_type"]
    date = day_string(day)
    if not groups:
        level = profile(channel, campaign["campaign.id"])
        delivered = draw(rng, level, day)
        if delivered is None:
            return None, []
        impressions, clicks, cents, conversions = delivered
        value = round(conversions * level.value * (0.8 + 0.4 * rng.random()), 2)
        return _campaign_row(campaign, date, impressions, clicks, cents * 10_000, conversions, value), []
    rows = []
    totals = [0, 0, 0, 0.0, 0.0]
    share = 1.0 / len(groups)
    for group in groups:
        level = profile(channel, group["ad_group.id"], share)
        delivered = draw(rng, level, day)
        if delivered is None:
            continue
        impressions, clicks, cents, conversions = delivered
        value = round(conversions * level.value * (0.8 + 0.4 * rng.random()), 2)
        rows.append({
            "customer.id": group["customer.id"], "campaign.id": group["campaign.id"],
            "ad_group.id": group["ad_group.id"],
            "ad_group.name": group["ad_group.name"], "ad_group.status": group["ad_group.status"], "segments.date": date,
            "metrics.impressions": str(impressions), "metrics.clicks": str(clicks),
            "metrics.cost_micros": str(cents * 10_000), "metrics.conversions": conversions,
            "metrics.conversions_value": value,
        })
        totals[0] += impressions
        totals[1] += clicks
        totals[2] += cents * 10_000
        totals[3] += conversions
        totals[4] += value
    if not rows:
        return None, []
    return _campaign_row(campaign, date, totals[0], totals[1], totals[2], round(totals[3], 6),
                         round(totals[4], 2)), rows


def _campaign_row(campaign: dict, date: str, impressions: int, clicks: int, micros: int, conversions: float,
                  value: float) -> dict:
    return {
        "customer.id": campaign["customer.id"], "campaign.id": campaign["campaign.id"],
        "campaign.name": campaign["campaign.name"], "campaign.status": campaign["campaign.status"],
        "campaign.advertising_channel_type": campaign["campaign.advertising_channel_type"], "segments.date": date,
        "metrics.impressions": str(impressions), "metrics.clicks": str(clicks), "metrics.cost_micros": str(micros),
        "metrics.conversions": conversions, "metrics.conversions_value": value,
    }


def delivers(campaign: dict, day: int) -> bool:
    """Whether an ENABLED campaign row is scheduled on ``day``."""
    if campaign["campaign.status"] != "ENABLED":
        return False
    end = campaign.get("campaign.end_date_time")
    # day_number reads the date part of a "yyyy-MM-dd HH:mm:ss" bound.
    return runs_on(day_number(campaign["campaign.start_date_time"]), None if end is None else day_number(end), day)


def restate(rng: random.Random, row: dict, fractional: bool) -> None:
    """Restate one metrics row in place: spend and conversions move slightly, keys stay."""
    cents, conversions = restated(rng, int(row["metrics.cost_micros"]) // 10_000, row["metrics.conversions"],
                                  fractional)
    ratio = conversions / row["metrics.conversions"] if row["metrics.conversions"] else 1.0
    row["metrics.cost_micros"] = str(cents * 10_000)
    row["metrics.conversions"] = conversions
    row["metrics.conversions_value"] = round(row["metrics.conversions_value"] * ratio, 2)


def resum(campaign_row: dict, group_rows: list[dict]) -> None:
    """Make a campaign metrics row the sum of its ad-group rows again after a restatement."""
    campaign_row["metrics.cost_micros"] = str(sum(int(row["metrics.cost_micros"]) for row in group_rows))
    campaign_row["metrics.conversions"] = round(sum(row["metrics.conversions"] for row in group_rows), 6)
    campaign_row["metrics.conversions_value"] = round(sum(row["metrics.conversions_value"] for row in group_rows), 2)
