"""One day of ad-platform activity: the new day's metrics, and restatements of the days before it."""

from __future__ import annotations

import random
from collections import defaultdict

from . import google_ads, linkedin_ads, meta_ads
from .ads import profile
from .timefmt import day_number, day_string

#: How many trailing days get restated, and the share of their rows restated each day.
RESTATE_DAYS = 7
RESTATE_SHARE = 0.35


def _linkedin_day(row: dict) -> int:
    start = row["dateRange"]["start"]
    return day_number(f"{start['year']:04d}-{start['month']:02d}-{start['day']:02d}")


class AdState:
    """Entity lookups and the recent metric rows (by day) of the three ad platforms."""

    def __init__(self, dataset, first_day: int) -> None:
        self.dataset = dataset
        table = dataset.table
        self.google_campaigns = table("google_ads", "campaign")
        self.google_by_id = {row["campaign.id"]: row for row in self.google_campaigns}
        self.google_groups: dict[str, list[dict]] = defaultdict(list)
        for row in table("google_ads", "ad_group"):
            self.google_groups[row["campaign.id"]].append(row)
        self.meta_accounts = {row["account_id"]: row for row in table("meta_ads", "ad_accounts")}
        self.meta_campaigns = {row["id"]: row for row in table("meta_ads", "campaigns")}
        self.meta_adsets = table("meta_ads", "adsets")
        self.meta_siblings: dict[str, int] = defaultdict(int)
        for row in self.meta_adsets:
            self.meta_siblings[row["campaign_id"]] += 1
        self.linkedin_campaigns = table("linkedin_ads", "campaigns")
        accounts = {f"urn:li:sponsoredAccount:{row['id']}": row for row in table("linkedin_ads", "ad_accounts")}
        self.linkedin_currency = {row["id"]: accounts.get(row["account"], {}).get("currency", "USD")
                                  for row in self.linkedin_campaigns}
        self.recent: dict[tuple[str, int], list[dict]] = defaultdict(list)
        floor = first_day - RESTATE_DAYS - 1
        for obj, day_of in (("campaign_metrics", lambda row: day_number(row["segments.date"])),
                            ("ad_group_metrics", lambda row: day_number(row["segments.date"]))):
            for row in table("google_ads", obj):
                if row["segments.date"] >= day_string(floor):
                    self.recent[(obj, day_of(row))].append(row)
        for row in table("meta_ads", "adset_insights"):
            if row["date_start"] >= day_string(floor):
                self.recent[("adset_insights", day_number(row["date_start"]))].append(row)
        for row in table("linkedin_ads", "ad_analytics"):
            day = _linkedin_day(row)
            if day >= floor:
                self.recent[("ad_analytics", day)].append(row)

    def add_day(self, rng: random.Random, day: int) -> dict[str, int]:
        """Append the metrics of ``day`` for every campaign that delivers on it; returns rows per table."""
        table = self.dataset.table
        counts: dict[str, int] = defaultdict(int)
        for campaign in self.google_campaigns:
            if not google_ads.delivers(campaign, day):
                continue
            groups = self.google_groups.get(campaign["campaign.id"], [])
            campaign_row, group_rows = google_ads.day_rows(rng, campaign, groups, day)
            if campaign_row is None:
                continue
            table("google_ads", "campaign_metrics").append(campaign_row)
            table("google_ads", "ad_group_metrics").extend(group_rows)
            self.recent[("campaign_metrics", day)].append(campaign_row)
            self.recent[("ad_group_metrics", day)].extend(group_rows)
            counts["google_ads.campaign_metrics"] += 1
            counts["google_ads.ad_group_metrics"] += len(group_rows)
        for adset in self.meta_adsets:
            campaign = self.meta_campaigns.get(adset["campaign_id"])
            if campaign is None or not meta_ads.delivers(campaign, adset, day):
                continue
            account = self.meta_accounts[adset["account_id"]]
            row = meta_ads.day_row(rng, account, campaign, adset, self.meta_siblings[adset["campaign_id"]], day)
            if row is not None:
                table("meta_ads", "adset_insights").append(row)
                self.recent[("adset_insights", day)].append(row)
                counts["meta_ads.adset_insights"] += 1
        for campaign in self.linkedin_campaigns:
            if not linkedin_ads.delivers(campaign, day):
                continue
            row = linkedin_ads.day_row(rng, campaign, self.linkedin_currency[campaign["id"]], day)
            if row is not None:
                table("linkedin_ads", "ad_analytics").append(row)
                self.recent[("ad_analytics", day)].append(row)
                counts["linkedin_ads.ad_analytics"] += 1
        return counts

    def restate(self, rng: random.Random, newest: int) -> dict[str, int]:
        """Restate a share of the rows of the ``RESTATE_DAYS`` days before ``newest``; same keys, new values."""
        counts: dict[str, int] = defaultdict(int)
        for day in range(newest - RESTATE_DAYS, newest):
            groups: dict[str, list[dict]] = defaultdict(list)
            for row in self.recent.get(("ad_group_metrics", day), ()):
                groups[row["campaign.id"]].append(row)
            for row in self.recent.get(("campaign_metrics", day), ()):
                if rng.random() >= RESTATE_SHARE:
                    continue
                campaign_id = row["campaign.id"]
                channel = row["campaign.advertising_channel_type"]
                group_rows = groups.get(campaign_id)
                if group_rows:
                    for group_row in group_rows:
                        fractional = profile(channel, group_row["ad_group.id"], 1.0 / len(group_rows)).fractional
                        google_ads.restate(rng, group_row, fractional)
                    google_ads.resum(row, group_rows)
                    counts["google_ads.ad_group_metrics"] += len(group_rows)
                else:
                    google_ads.restate(rng, row, profile(channel, campaign_id).fractional)
                counts["google_ads.campaign_metrics"] += 1
            for row in self.recent.get(("adset_insights", day), ()):
                if rng.random() < RESTATE_SHARE:
                    meta_ads.restate(rng, row)
                    counts["meta_ads.adset_insights"] += 1
            for row in self.recent.get(("ad_analytics", day), ()):
                if rng.random() < RESTATE_SHARE:
                    campaign_id = int(row["pivotValues"][0].rsplit(":", 1)[1])
                    linkedin_ads.restate(rng, row, self.linkedin_currency.get(campaign_id, "USD"), day)
                    counts["linkedin_ads.ad_analytics"] += 1
        return counts
