"""The source rate limits of the sandbox a benchmark serves from.

The sandbox enforces HubSpot's limits as the real API does (190 requests per 10 s, 5 searches a second), and the
HubSpot client paces itself under them. A benchmark measures the pipeline's own cost, so by default it lifts
HubSpot's burst: the sandbox advertises and enforces 1,000,000 requests per 10 s, and the client, which learns the
burst from those headers, holds nothing back but its searches (it paces them at 5 a second whatever the headers
say, as it must against the real API). The extraction benchmark's floor and peer send the same requests without
pacing, so limits would measure the limit, not the tools. ``python -m benchmarks --hubspot-limits real`` measures
the nights at the real tier instead: what a portal on the Professional tier costs.
"""

from __future__ import annotations

from sandbox.launcher import HUBSPOT_LIMITS_LIFTED as LIFTED

#: The sandbox's own defaults: the real Professional tier.
REAL: dict[str, int] = {}
CHOICES = {"lifted": LIFTED, "real": REAL}
