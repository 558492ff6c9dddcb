"""Cheap draws from a :class:`random.Random`: the standard helpers cost several times ``random()``.

Each helper consumes exactly one ``random()`` value, so results are deterministic per stream.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def pick(rng: random.Random, items: Sequence[T]) -> T:
    """A uniformly chosen element of a non-empty sequence."""
    return items[int(rng.random() * len(items))]


def between(rng: random.Random, low: int, high: int) -> int:
    """A uniform integer in ``low .. high`` inclusive."""
    return low + int(rng.random() * (high - low + 1))


def below(rng: random.Random, start: int, stop: int | None = None) -> int:
    """A uniform integer in ``0 .. start-1``, or in ``start .. stop-1`` when ``stop`` is given."""
    if stop is None:
        return int(rng.random() * start)
    return start + int(rng.random() * (stop - start))
