"""Real marketing campaigns, each identified by a UTM key shared by every system that runs it."""

from __future__ import annotations

import random
from bisect import bisect_right

from . import vocab
from .fastrand import below, between, pick
from .timefmt import DAY, day_string


class UtmCampaign:
    """One marketing campaign: its UTM key, flight dates and which systems carry it."""

    __slots__ = ("index", "entity_id", "key", "kind", "topic", "region", "start", "end", "platforms", "in_sf",
                 "in_hs", "budget", "sf_id", "hs_email_ids", "ad_ids", "members")

    def __init__(self, index, key, kind, topic, region, start, end, platforms, in_sf, in_hs, budget):
        self.index = index
        self.entity_id = f"campaign-{index:05d}"
        self.key, self.kind, self.topic, self.region = key, kind, topic, region
        self.start, self.end = start, end
        self.platforms, self.in_sf, self.in_hs, self.budget = platforms, in_sf, in_hs, budget
        self.sf_id = None
        self.hs_email_ids: list[int] = []
        self.ad_ids: list[tuple[str, str]] = []
        self.members = 0

    @property
    def title(self) -> str:
        """A human title, e.g. ``Webinar: DataOps``."""
        return f"{self.kind.capitalize()}: {self.topic.capitalize() if self.topic else 'General'}"


def utm_key(start: int, kind: str, topic: str, region: str) -> str:
    """The UTM campaign key, e.g. ``2026q2_webinar_dataops`` (plus an optional region suffix)."""
    day = day_string(start // DAY)
    quarter = (int(day[5:7]) - 1) // 3 + 1
    return f"{day[:4]}q{quarter}_{kind}_{topic}{region}"


def make_campaigns(rng: random.Random, count: int, start: int, clock: int) -> list[UtmCampaign]:
    """``count`` dated campaigns over the CRM history (and a little ahead), plus always-on ones and a few
    Salesforce-only campaigns that carry no UTM key. Sorted by start."""
    campaigns: list[UtmCampaign] = []
    seen: set[str] = set()
    evergreen = (("brand_search_na", "brand", ("google_ads",)), ("brand_search_emea", "brand", ("google_ads",)),
                 ("always_on_retargeting", "retargeting", ("meta_ads",)),
                 ("always_on_thought_leadership", "abm", ("linkedin_ads",)))
    for key, kind, platforms in evergreen:
        seen.add(key)
        campaigns.append(UtmCampaign(0, key, kind, "", "_emea" if "emea" in key else "_na",
                                     clock - between(rng, 520, 700) * DAY, None, platforms, True, False, 250_000.0))
    span = clock + 45 * DAY - start
    while len(campaigns) < count + len(evergreen):
        begin = start + int(span * rng.random() ** 0.85)
        kind = pick(rng, vocab.UTM_KINDS)
        topic = pick(rng, vocab.UTM_TOPICS)
        region = pick(rng, vocab.UTM_REGIONS)
        key = utm_key(begin, kind, topic, region)
        if key in seen:
            continue
        seen.add(key)
        end = begin + between(rng, 14, 120) * DAY
        in_sf = kind == "tradeshow" or rng.random() < 0.9
        in_hs = kind in vocab.EMAIL_KINDS and rng.random() < 0.85
        budget = float(round(rng.uniform(2_000, 80_000), -2))
        campaigns.append(UtmCampaign(0, key, kind, topic, region, begin, end, vocab.UTM_PLATFORMS[kind], in_sf,
                                     in_hs, budget))
    for number in range(max(3, count // 12)):
        begin = start + int(span * rng.random())
        topic = pick(rng, ("Customer advisory board", "Partner referral program", "Field dinner",
                            "Sales prospecting sequence", "Executive roundtable"))
        campaigns.append(UtmCampaign(0, None, "other", f"{topic} {day_string(begin // DAY)[:4]} #{number + 1}",
                                     "", begin, begin + between(rng, 10, 90) * DAY, (), True, False,
                                     float(round(rng.uniform(500, 20_000), -2))))
    campaigns.sort(key=lambda campaign: (campaign.start, campaign.key or ""))
    for index, campaign in enumerate(campaigns):
        campaign.index = index
        campaign.entity_id = f"campaign-{index:05d}"
    return campaigns


CHANNEL_NAMES = tuple(name for name, _, _ in vocab.CHANNELS)
_CHANNEL_PLATFORMS = {"PAID_SEARCH": "google_ads", "PAID_SOCIAL": "social", "EMAIL_MARKETING": "email",
                      "OTHER_CAMPAIGNS": "any"}


def _serves(campaign: UtmCampaign, target: str) -> bool:
    if campaign.key is None:
        return False
    if target == "social":
        return "meta_ads" in campaign.platforms or "linkedin_ads" in campaign.platforms
    if target == "email":
        return campaign.in_hs
    if target == "any":
        return True
    return target in campaign.platforms


def assign_utms(rng: random.Random, people: list, campaigns: list[UtmCampaign], channels: tuple) -> None:
    """Tie people who arrived through a paid, e-mail or campaign channel to a campaign running then."""
    pools = {}
    for target in set(_CHANNEL_PLATFORMS.values()):
        chosen = [campaign for campaign in campaigns if _serves(campaign, target)]
        pools[target] = ([campaign.start for campaign in chosen], chosen)
    for person in people:
        target = _CHANNEL_PLATFORMS.get(channels[person.channel][0])
        if target is None:
            continue
        starts, chosen = pools[target]
        high = bisect_right(starts, person.created)
        low = bisect_right(starts, person.created - 100 * DAY)
        for _ in range(4):
            if high <= low:
                break
            campaign = chosen[below(rng, low, high)]
            if campaign.end is None or campaign.end >= person.created - 14 * DAY:
                person.utm = campaign
                break


def utm_source_medium(person) -> tuple[str, str]:
    """The ``utm_source`` / ``utm_medium`` a person's tracked first visit carried."""
    channel = CHANNEL_NAMES[person.channel]
    if channel == "PAID_SEARCH":
        return "google", "cpc"
    if channel == "PAID_SOCIAL":
        platforms = person.utm.platforms
        if "meta_ads" in platforms and ("linkedin_ads" not in platforms or person.index % 2):
            return "facebook", "paid_social"
        return "linkedin", "paid_social"
    if channel == "EMAIL_MARKETING":
        return "hubspot", "email"
    return "partner", "referral"


def campaign_for_channel(rng: random.Random, channel: str, running: list[UtmCampaign]) -> UtmCampaign | None:
    """A running campaign that could have brought a person arriving through ``channel``, or None."""
    target = _CHANNEL_PLATFORMS.get(channel)
    if target is None:
        return None
    candidates = [campaign for campaign in running if _serves(campaign, target)]
    return pick(rng, candidates) if candidates else None
