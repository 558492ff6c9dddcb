"""The real sales pipeline: Salesforce opportunities and HubSpot deals with their stage paths."""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from itertools import accumulate
from operator import attrgetter

from . import vocab
from .fastrand import below, pick
from .timefmt import DAY
from .world import Company, User

#: HubSpot pipelines: id -> (stages, index of the won stage, index of the lost stage)
HS_PIPELINES = {
    "default": (vocab.HS_DEFAULT_STAGES, 5, 6),
    vocab.HS_CUSTOM_PIPELINE[0]: (vocab.HS_CUSTOM_STAGES, 3, 4),
}


class Opp:
    """A sales opportunity: its stage path ``history`` of (stage index, moment, amount, close day)."""

    __slots__ = ("company", "on_duplicate", "created", "history", "owner", "campaign", "lead_source", "type",
                 "currency", "sf_id", "pipeline", "contact")

    def __init__(self, company, created, history, owner):
        self.company, self.created, self.history, self.owner = company, created, history, owner
        self.on_duplicate = False
        self.campaign = self.lead_source = self.sf_id = self.contact = None
        self.type = vocab.SF_OPP_TYPES[0]
        self.currency = vocab.COUNTRIES[company.country][1]
        self.pipeline = None

    @property
    def stage(self) -> int:
        """Index of the current stage."""
        return self.history[-1][0]

    @property
    def modified(self) -> int:
        """Moment of the last stage change."""
        return self.history[-1][1]


def deal_amount(rng: random.Random, employees: int) -> float:
    """A deal size that grows with the company (log-normal around 9,000 x employees^0.22)."""
    noise = (rng.random() + rng.random() + rng.random() - 1.5) * 1.4
    return float(round(math.exp(_LOG_BASE + 0.22 * math.log(employees + 1) + noise), -2))


_LOG_BASE = math.log(9_000)


def stage_path(rng: random.Random, created: int, clock: int, open_stages: int, won: int, lost: int,
               employees: int) -> list[tuple[int, int, float | None, int]]:
    """A plausible stage history from ``created`` up to at most ``clock``.

    Returns (stage index, moment, amount, expected close day) per stage entered, in time order.
    Stages ``0 .. open_stages-1`` are open, ``won`` and ``lost`` are the closing stages.
    """
    rand = rng.random
    cycle = (14 + int(rand() * 187)) * DAY
    expected_close = created + cycle
    amount = deal_amount(rng, employees) if rand() > 0.05 else None
    if expected_close < clock and rand() > 0.06:
        final = won if rand() < 0.32 else lost
        last_open = open_stages - 1 if final == won else int(rand() * open_stages)
        end = max(created + DAY, min(expected_close + (int(rand() * 36) - 10) * DAY, clock - 60))
    else:
        final = None
        progress = min(1.0, (clock - created) / cycle)
        last_open = min(open_stages - 1, int(progress * open_stages * (0.6 + 0.5 * rand())))
        end = min(clock - 60, created + int((clock - created) * (0.3 + 0.7 * rand())))
    stages = [0]
    for stage in range(1, last_open + 1):
        if stage == last_open or rand() < 0.2:
            stages.append(stage)
    if final is not None:
        stages.append(final)
    low = created + 60
    span = max(60, end - low)
    moments = sorted(low + int(rand() * span) for _ in range(len(stages) - 1))
    close_day = expected_close // DAY
    current = amount if rand() > 0.3 else None
    history = [(0, created, current, close_day)]
    for stage, moment in zip(stages[1:], moments, strict=True):
        if amount is not None:
            if current is None:
                current = amount
            elif rand() < 0.2:
                current = float(round(current * (0.8 + 0.35 * rand()), -2))
        if stage == final:
            close_day = moment // DAY
        elif rand() < 0.15:
            close_day += 7 + int(rand() * 39)
        history.append((stage, moment, current, close_day))
    return history


def make_opportunities(rng: random.Random, count: int, companies: list[Company], users: list[User], clock: int,
                       campaign_starts: list[int], campaigns: list) -> list[Opp]:
    """``count`` Salesforce opportunities over the Salesforce companies, bigger companies getting more."""
    sf_companies = [company for company in companies if company.in_sf]
    weights = list(accumulate(math.sqrt(company.employees) + 3 for company in sf_companies))
    sf_users = [user for user in users if user.in_sf] or users
    opps = []
    open_stages = vocab.SF_WON
    for company in rng.choices(sf_companies, cum_weights=weights, k=count):
        created = company.created + int(max(0, clock - DAY - company.created) * rng.random() ** 0.6)
        history = stage_path(rng, created, clock, open_stages, vocab.SF_WON, vocab.SF_LOST, company.employees)
        owner = company.owner if rng.random() < 0.8 or company.owner is None else pick(rng, sf_users)
        if owner is not None and not owner.in_sf:
            owner = pick(rng, sf_users)
        opp = Opp(company, created, history, owner)
        opp.on_duplicate = company.sf_dups > 0 and rng.random() < 0.15
        if rng.random() < 0.3 and campaign_starts:
            low = bisect_left(campaign_starts, created - 120 * DAY)
            high = bisect_right(campaign_starts, created)
            if high > low:
                opp.campaign = campaigns[below(rng, low, high)]
        if rng.random() < 0.1:
            opp.currency = "USD"
        opps.append(opp)
    opps.sort(key=attrgetter("created"))
    _assign_types(opps, vocab.SF_WON)
    return opps


def make_deals(rng: random.Random, count: int, companies: list[Company], clock: int) -> list[Opp]:
    """``count`` HubSpot deals: HubSpot-only companies sell in HubSpot, shared ones log partner deals."""
    hs_companies = [company for company in companies if company.in_hs]
    weights = list(accumulate((math.sqrt(company.employees) + 3) * (4 if not company.in_sf else 1)
                              for company in hs_companies))
    deals = []
    for company in rng.choices(hs_companies, cum_weights=weights, k=count):
        created = company.created + int(max(0, clock - DAY - company.created) * rng.random() ** 0.6)
        if company.in_sf:
            pipeline = vocab.HS_CUSTOM_PIPELINE[0] if rng.random() < 0.6 else "default"
        else:
            pipeline = "default" if rng.random() < 0.85 else vocab.HS_CUSTOM_PIPELINE[0]
        stages, won, lost = HS_PIPELINES[pipeline]
        history = stage_path(rng, created, clock, won, won, lost, company.employees)
        deal = Opp(company, created, history, company.owner if rng.random() < 0.85 else None)
        deal.pipeline = pipeline
        deals.append(deal)
    deals.sort(key=attrgetter("created"))
    for deal in deals:
        _, won, _ = HS_PIPELINES[deal.pipeline]
        deal.type = "existingbusiness" if _won_before(deal, won) else "newbusiness"
        if deal.stage == won:
            _note_customer(deal)
    return deals


def _won_before(opp: Opp, won: int) -> bool:
    since = opp.company.customer_since
    return since is not None and since < opp.created


def _note_customer(opp: Opp) -> None:
    company = opp.company
    moment = opp.modified
    if company.customer_since is None or moment < company.customer_since:
        company.customer_since = moment


def _assign_types(opps: list[Opp], won: int) -> None:
    for opp in opps:
        since = opp.company.customer_since
        if since is not None and since < opp.created:
            opp.type = vocab.SF_OPP_TYPES[2] if opp.created - since > 300 * DAY else vocab.SF_OPP_TYPES[1]
        if opp.stage == won:
            _note_customer(opp)
