"""Deterministic dataset generator of the sandbox: a seeded, deliberately misaligned CRM and ad world.

``generate(scale, seed, clock)`` builds a :class:`~sandbox.dataset.Dataset`; ``advance(dataset,
days)`` moves its clock forward and simulates the activity of each day. ``SCALES`` lists the sizes.
"""

from .advance import advance
from .build import generate
from .scales import DEFAULT_CLOCK, SCALES, Scale

__all__ = ["DEFAULT_CLOCK", "SCALES", "Scale", "advance", "generate"]
