"""Requests sent before they are asked for: the read-ahead of :class:`connectors.http.HttpClient`.

A paging reader names the request it will most likely send next (a *guess*, given the raw body of
the page it just received). The guess is sent at once, in one background thread, while the page
is decoded and handed over. A *chained* guess goes further: as soon as the response to a guess
arrives, the same guess reads its body and names the request after it, so the API serves page
after page while the reader is busy, holding at most `DEPTH` responses the reader has not taken
yet. Requests still leave one at a time, in order, as a bare fetch loop would send them.

A response is used only by a call that asks for exactly its request; a wrong guess costs a wasted
request, never data. A body is given to guesses until one names a request from it (by the chain,
or else by the caller), so a guess may also walk a list of requests known beforehand
(:func:`planned_sequence`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from connectors.redact import get_logger, redact

log = get_logger("connectors.read_ahead")

#: Responses a chain may hold ahead of the reader (a Salesforce page is about 1 MB, a Google Ads answer 3 MB).
DEPTH = 3


@dataclass(frozen=True)
class PlannedRequest:
    """A request as `HttpClient.request_json` is called with it: method, URL and keyword arguments."""

    method: str
    url: str
    kwargs: dict = field(default_factory=dict)


GuessNext = Callable[[bytes], PlannedRequest | None]
#: Sends a planned request with the given authorization headers and returns its response.
Send = Callable[[PlannedRequest, dict], requests.Response]


def planned_sequence(planned: list[PlannedRequest]) -> GuessNext:
    """A chainable guess for a reader whose requests are all known beforehand: the first one's body names the
    second, and so on (bodies are read in order, each once)."""
    following = iter(planned[1:])
    return lambda _body: next(following, None)


@dataclass(eq=False)
class SentAhead:
    """One request sent before it was asked for, and what came of it."""

    planned: PlannedRequest
    response: Future
    #: Credential renewals counted when its authorization headers were taken.
    refreshes: int
    #: The chain it belongs to (0: not part of one).
    chain: int
    #: The response, once it came back fit to read the next request from.
    arrived: requests.Response | None = None
    #: Whether a guess already named the request after it (then the caller must not send one again).
    guessed: bool = False


class ReadAhead:
    """The requests a client sent ahead, oldest first, and the chain of guesses that may still add to them."""

    def __init__(self, name: str, send: Send, may_follow: Callable[[requests.Response], bool],
                 depth: int = DEPTH) -> None:
        self.name = name
        self.send = send
        self.may_follow = may_follow
        self.depth = depth
        self._sent: deque[SentAhead] = deque()
        self._lock = threading.Lock()
        self._chains = 0
        self._open_chain = 0
        self._guess: GuessNext | None = None
        self._headers: dict = {}
        self._refreshes = 0
        self._executor: ThreadPoolExecutor | None = None

    def start(self, planned: PlannedRequest, headers: dict, refreshes: int, chain: GuessNext | None = None) -> None:
        """Send `planned` ahead, dropping any earlier guess nobody asked for; with `chain`, keep guessing from its
        response on. `headers` authorize it and the chain's requests; `refreshes` is the client's count of
        credential renewals when they were taken."""
        with self._lock:
            self._sent.clear()
            self._chains += 1
            self._open_chain = self._chains if chain is not None else 0
            self._guess, self._headers, self._refreshes = chain, headers, refreshes
            self._submit(planned, self._open_chain)

    def claim(self, planned: PlannedRequest) -> SentAhead | None:
        """What was sent ahead for `planned`, if it was; the chain goes on from the newest response it holds.

        Any other request waits until everything sent ahead has come back, so one request is in flight at a
        time, as a source's rate limits expect. What came back is kept for later (HubSpot reads a page's
        associations between two pages) and the chain stops there; the next guess replaces it.
        """
        with self._lock:
            position = next((i for i, sent in enumerate(self._sent) if sent.planned == planned), None)
            if position is None:
                self._open_chain = 0
                in_flight = list(self._sent)
            else:
                for _ in range(position):  # guesses the reader went past
                    self._sent.popleft()
                claimed = self._sent.popleft()
                newest = self._sent[-1] if self._sent else claimed
                guess = self._take_turn(newest)
        if position is None:
            for sent in in_flight:
                sent.response.exception()
            return None
        if guess is not None:
            self._guess_after(newest, guess)
        return claimed

    def _submit(self, planned: PlannedRequest, chain: int) -> None:
        """Queue one request of the latest `start` in the background thread, with its credentials (the caller holds
        the lock)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-ahead")
        future: Future = Future()
        sent = SentAhead(planned, future, self._refreshes, chain)
        self._sent.append(sent)
        self._executor.submit(self._fetch, sent, self._headers, future)

    def _fetch(self, sent: SentAhead, headers: dict, future: Future) -> None:
        """Send one request; when its chain is open and there is room, queue the next one before handing it over
        (so whoever takes the response finds the chain's guess from it settled)."""
        try:
            response = self.send(sent.planned, headers)
        except BaseException as exc:  # noqa: BLE001  (the caller meets it when it claims the response)
            future.set_exception(exc)
            return
        if sent.chain != 0 and self.may_follow(response):
            with self._lock:
                if sent.chain == self._open_chain:
                    sent.arrived = response
                guess = self._take_turn(sent)
            if guess is not None:
                self._guess_after(sent, guess)
        future.set_result(response)

    def _take_turn(self, sent: SentAhead) -> GuessNext | None:
        """The chain's guess, if it goes on from `sent` now (the caller holds the lock): its response arrived, no
        guess named the next request from it yet, the chain is still open and there is room."""
        if sent.arrived is None or sent.guessed or sent.chain != self._open_chain or len(self._sent) >= self.depth:
            return None
        sent.guessed = True
        return self._guess

    def _guess_after(self, sent: SentAhead, guess: GuessNext) -> None:
        """Read the request after `sent` from its body and queue it, if the chain is still open; otherwise leave
        the body to the caller's own guess (it may know the next request: the start of its next listing)."""
        try:
            planned = guess(sent.arrived.content)
        except Exception as exc:  # noqa: BLE001  (a wrong guess costs speed, never the read)
            log.warning(redact(f"{self.name}: no guess after {sent.planned.url}: {exc}"))
            planned = None
        with self._lock:
            sent.guessed = planned is not None and sent.chain == self._open_chain
            if sent.guessed:
                self._submit(planned, sent.chain)
