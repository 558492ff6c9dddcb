"""Pacing: requests held back so a client stays under a source's rate limits instead of being throttled.

A :class:`RollingWindowLimiter` lets at most `limit` requests count in any rolling window of `seconds`. A request
counts from the moment it is let go until `seconds` after its answer arrived: the server stamps it somewhere in
between, so however long a request waits in queues on either side, no window of the server's holds more requests
than one of the limiter's (no margin for latency is needed). Waits go through the caller's `sleep`, never a busy
loop, and the clock is injectable (tests).

A source that paces hands :class:`connectors.http.HttpClient` a :class:`Pacer`: every request, in whatever thread
sends it, is sent inside one of its slots, and every answer is shown to it (to learn limits the source advertises).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import requests

from connectors.read_ahead import PlannedRequest

Sleep = Callable[[float], None]


class Pacer(Protocol):
    """A source's pacing: when a request may be sent, and what its answers teach about the limits."""

    def slot(self, planned: PlannedRequest, sleep: Sleep) -> AbstractContextManager[float]:
        """Wait through `sleep` until `planned` may be sent; the block (yielding the seconds waited) sends it, and
        its end marks the answer arrived."""
        ...

    def learn(self, response: requests.Response) -> None:
        """Take note of the limits an answer advertises (its headers)."""
        ...


class RollingWindowLimiter:
    """At most `limit` requests counting in any rolling window of `seconds`; thread-safe.

    A request counts while it is out and for `seconds` after its answer (see the module docstring). When every
    counted request is still out, a waiter cannot know when one ends: it looks again after `seconds` / `limit`, the
    pace the limit allows, rather than spinning.
    """

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._out = 0
        self._answered: deque[float] = deque()  # when the counted requests' answers arrived, oldest first
        self.limit, self.seconds = 0, 0.0
        self.resize(limit, seconds)

    def resize(self, limit: int, seconds: float) -> None:
        """Change the limit and its window (a source told new ones); requests already counted stay counted."""
        if limit < 1 or seconds <= 0:
            raise ValueError(f"a rolling window needs a limit of at least 1 in a positive window, not {limit} in "
                             f"{seconds}s")
        with self._lock:
            self.limit, self.seconds = limit, seconds

    @contextmanager
    def slot(self, sleep: Sleep) -> Iterator[float]:
        """Wait through `sleep` until a request may go; the block sends it, yielding the seconds waited."""
        waited = self._acquire(sleep)
        try:
            yield waited
        finally:
            with self._lock:
                self._out -= 1
                self._answered.append(self._clock())

    def _acquire(self, sleep: Sleep) -> float:
        """Count one more request out, once the window has room; the seconds waited for it."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._answered and self._answered[0] <= now - self.seconds:
                    self._answered.popleft()
                if self._out + len(self._answered) < self.limit:
                    self._out += 1
                    return waited
                delay = (self._answered[0] + self.seconds - now) if self._answered else self.seconds / self.limit
            sleep(delay)
            waited += delay
