"""Dataset sizes and the fixed time frame of a generated dataset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

#: The default "now" of a generated dataset, fixed so that runs are reproducible.
DEFAULT_CLOCK = datetime(2026, 11, 27, 23, 0, 0, tzinfo=UTC)

#: Days of CRM history before the clock.
CRM_HISTORY_DAYS = 730

#: Days of ad-platform metrics before the clock.
AD_HISTORY_DAYS = 400


@dataclass(frozen=True)
class Scale:
    """How many real-world things a dataset holds; source-record counts follow from these.

    ``people`` counts real people: each becomes 1.65 person records on average (Salesforce lead
    and/or contact, HubSpot contact, duplicates), so M's 650,000 people are about 1.1M person
    records and L's 6.5M about 10.7M.
    """

    companies: int
    people: int
    opportunities: int
    utm_campaigns: int
    users: int

    @property
    def deals(self) -> int:
        """HubSpot deals, a quarter of the Salesforce opportunities."""
        return self.opportunities // 4


#: Named scales: ``S`` for CI, ``M`` for benchmarks, ``L`` for the 10M-people stress run.
SCALES: dict[str, Scale] = {
    "S": Scale(companies=2_000, people=13_000, opportunities=6_000, utm_campaigns=60, users=50),
    "M": Scale(companies=100_000, people=650_000, opportunities=300_000, utm_campaigns=4_000, users=400),
    "L": Scale(companies=1_000_000, people=6_500_000, opportunities=3_000_000, utm_campaigns=12_000, users=400),
}


def scale_named(scale: str | Scale) -> Scale:
    """The :class:`Scale` for a name (``S``, ``M``, ``L``) or a Scale given directly."""
    if isinstance(scale, Scale):
        return scale
    try:
        return SCALES[scale.upper()]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}") from None
