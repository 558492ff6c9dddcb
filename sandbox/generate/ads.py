"""The daily delivery model shared by the ad platforms.

A campaign (or ad group / ad set) has a :class:`Profile` derived only from its platform id, so
that time travel can continue a series with the same levels after a dataset was written and
read back. One :func:`draw` is one day of delivery; days without impressions yield nothing,
as the platforms return no zero-impression rows.
"""

from __future__ import annotations

import math
import random
from functools import cache
from typing import NamedTuple

from .scales import AD_HISTORY_DAYS
from .timefmt import DAY

#: Delivery factor per weekday, Monday first (B2B audiences go quiet at weekends).
WEEKDAY = (1.0, 1.06, 1.05, 1.0, 0.88, 0.52, 0.47)

#: (daily impressions, click-through rate, cost per click, cost per mille, conversion rate, value per conversion)
BASELINES = {
    "SEARCH": (1_800, 0.055, 3.2, 0.0, 0.06, 240.0),
    "DISPLAY": (24_000, 0.005, 0.0, 2.8, 0.02, 120.0),
    "VIDEO": (30_000, 0.004, 0.0, 4.5, 0.01, 90.0),
    "PERFORMANCE_MAX": (9_000, 0.015, 1.1, 0.0, 0.04, 180.0),
    "meta": (14_000, 0.011, 0.0, 9.5, 0.05, 60.0),
    "linkedin": (3_500, 0.006, 0.0, 32.0, 0.03, 300.0),
}


class Profile(NamedTuple):
    """Daily delivery levels of one campaign, ad group or ad set."""

    impressions: float
    ctr: float
    cpc: float
    cpm: float
    cvr: float
    value: float
    fractional: bool


@cache
def profile(kind: str, entity_id: str | int, share: float = 1.0) -> Profile:
    """The delivery levels of an entity: the ``kind`` baseline varied by a stream seeded with its id."""
    impressions, ctr, cpc, cpm, cvr, value = BASELINES[kind]
    rng = random.Random(f"profile:{kind}:{entity_id}")
    return Profile(
        impressions * share * math.exp(rng.gauss(0, 0.6)), ctr * rng.uniform(0.6, 1.5), cpc * rng.uniform(0.6, 1.6),
        cpm * rng.uniform(0.7, 1.4), cvr * rng.uniform(0.4, 1.8), value * rng.uniform(0.5, 2.0), rng.random() < 0.4,
    )


def draw(rng: random.Random, level: Profile, day: int) -> tuple[int, int, int, float] | None:
    """One day of delivery: (impressions, clicks, cost in cents, conversions), or None for a dark day."""
    if rng.random() < 0.02:
        return None
    impressions = int(level.impressions * WEEKDAY[(day + 3) % 7] * (0.55 + 0.9 * rng.random()))
    if impressions <= 0:
        return None
    clicks = int(impressions * level.ctr * (0.6 + 0.8 * rng.random()))
    cost = clicks * level.cpc + impressions * level.cpm / 1000
    cents = max(1, int(cost * (85 + 30 * rng.random())))
    conversions = clicks * level.cvr * (0.3 + 1.4 * rng.random())
    conversions = round(conversions, 6) if level.fractional else float(int(conversions + 0.5))
    return impressions, clicks, cents, conversions


def restated(rng: random.Random, cents: int, conversions: float, fractional: bool) -> tuple[int, float]:
    """A late restatement: spend moved by a percent or so, conversions attributed late."""
    cents = max(1, int(cents * rng.uniform(0.985, 1.02)))
    extra = conversions * rng.uniform(0.0, 0.15) + (1.0 if rng.random() < 0.1 else 0.0)
    conversions = round(conversions + extra, 6) if fractional else float(int(conversions + extra + 0.5))
    return cents, conversions


def flight(start: int, end: int | None, clock_day: int) -> range:
    """The day numbers with metrics for a campaign flying from ``start`` to ``end`` (epoch seconds)."""
    first = max(start // DAY, clock_day - AD_HISTORY_DAYS)
    last = clock_day - 1 if end is None else min(end // DAY, clock_day - 1)
    return range(first, last + 1)


def runs_on(start_day: int, end_day: int | None, day: int) -> bool:
    """Whether a campaign scheduled ``start_day`` .. ``end_day`` (inclusive, None = open) delivers on ``day``."""
    return start_day <= day and (end_day is None or day <= end_day)
