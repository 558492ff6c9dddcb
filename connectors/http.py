"""The shared HTTP client: timeouts, retries with backoff, each API's own rate-limit signal, auth refresh.

A source plugs in a *classifier* that reads a response and says what to do with it
(:class:`Verdict`): use it, retry after a wait, refresh the token and retry, stop the stream
cleanly (a daily quota is spent), or fail. Connection errors, timeouts and bodies cut off
mid-way are always retried. Everything that leaves this module is redacted.

Every answer's ``Date`` header is kept (:meth:`HttpClient.server_now`): a platform that counts days
by its own clock can be asked for "today" by that clock rather than by this machine's.

A paging reader may name the request it will most likely send next (`guess_next`): it is sent
while this page's body is decoded and handed over, so the API serves the next page meanwhile;
a chained guess keeps a few pages coming (see :mod:`connectors.read_ahead`). The guess is only
ever a head start: a call uses its response if, and only if, it asks for exactly that request.

A source may also pace its requests (:mod:`connectors.pacing`): each waits until the source's rate
limits have room, rather than being sent to meet a 429.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from enum import Enum

import requests

from connectors.errors import AuthenticationError, SourceError, SourceLimitReached, SourceUnavailable
from connectors.pacing import Pacer
from connectors.read_ahead import GuessNext, PlannedRequest, ReadAhead, SentAhead
from connectors.redact import excerpt, get_logger, redact

log = get_logger("connectors.http")


class Action(Enum):
    """What to do with a response."""

    OK = "ok"
    RETRY = "retry"
    REFRESH_AUTH = "refresh_auth"
    STOP = "stop"
    FAIL = "fail"


@dataclass(frozen=True)
class Verdict:
    """A classifier's decision; `wait` is the server's advertised delay in seconds, if it gave one.

    `kind` names the cause for code that decides by it: the error raised for this verdict carries it. A
    `throttle` is a retry the source asked for by throttling, not a fault: when the retries run out, the
    stream ends cleanly (:class:`SourceLimitReached`, the next run resumes) instead of failing the run.
    `source_wide` marks a limit of the whole source (app, account, org or token quota) rather than of one
    endpoint: when it ends a stream, the source's remaining streams are not started this run.
    """

    action: Action
    wait: float | None = None
    reason: str = ""
    kind: str = ""
    throttle: bool = False
    source_wide: bool = False


OK = Verdict(Action.OK)


def default_classifier(response: requests.Response) -> Verdict:
    """Generic HTTP semantics: 2xx ok, 401 refresh, 429 and 5xx retry (honouring Retry-After), else fail."""
    status = response.status_code
    if status < 300:
        return OK
    if status == 401:
        return Verdict(Action.REFRESH_AUTH, reason="HTTP 401")
    if status == 429 or status >= 500:
        return Verdict(Action.RETRY, wait=retry_after_seconds(response), reason=f"HTTP {status}")
    return Verdict(Action.FAIL, reason=f"HTTP {status}: {excerpt(response.text, 500)}")


def _unsendable(exc: requests.RequestException) -> str:
    """Why `requests` refused to send a request, without quoting a header: its error quotes the header's value,
    which is a credential when a token was configured with a line break (a secret file's last line)."""
    if isinstance(exc, requests.exceptions.InvalidHeader):
        return ("InvalidHeader: a header holds a character HTTP does not allow (a line break or leading space); "
                "check this source's credentials and settings for one")
    return f"{type(exc).__name__}: {exc}"


def retry_after_seconds(response: requests.Response) -> float | None:
    """The ``Retry-After`` header in seconds, when it is a number."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


#: Reads a successful response's raw body; raises json.JSONDecodeError for a body that is not whole JSON.
Decode = Callable[[bytes], object]


#: How much of a body is read at once. `requests` reads 10 KB at a time, and every read takes the interpreter lock
#: again: while the reader decodes the page before, a 3 MB body then took 0.5-2.6 s to arrive instead of 0.2 s.
BODY_CHUNK_BYTES = 4 * 2**20


def with_body(response: requests.Response) -> requests.Response:
    """`response` (sent with ``stream=True``) with its whole body read in `BODY_CHUNK_BYTES` pieces, as
    ``response.content`` would read it; errors of a body cut off are the ones ``content`` raises."""
    if response._content is False:  # not read yet
        response._content = b"".join(response.iter_content(BODY_CHUNK_BYTES))
        response._content_consumed = True
    return response


def exact_json(body: bytes) -> object:
    """A JSON body decoded with every non-integer number an exact `Decimal`."""
    return json.loads(body, parse_float=Decimal)



def string_after_key(body: bytes, key: str, last: bool = False) -> str | None:
    """The string (or bare number) after the first, or `last`, ``"key":`` in a raw JSON body; None if absent.

    A cheap look at a body before it is decoded, good enough to guess the next page's cursor: a
    key's quotes cannot occur unescaped inside a JSON string, though the same key could occur
    deeper in the document, which makes a guess wrong and costs one wasted request, never data.
    """
    needle = f'"{key}"'.encode()
    start = body.rfind(needle) if last else body.find(needle)
    if start < 0:
        return None
    match = _VALUE_AFTER_KEY.match(body, start + len(needle))
    value = match and (match.group(1) or match.group(2))
    return value.replace(b"\\/", b"/").decode() if value else None


#: A JSON string whose only escape is ``\/`` (Meta writes URLs so), or an integer, after a key's colon; null,
#: objects, other escapes and the rest give no match.
_VALUE_AFTER_KEY = re.compile(rb'\s*:\s*(?:"((?:[^"\\]|\\/)*)"|(-?\d+)[\s,}])')


def sent_at(response: requests.Response) -> datetime | None:
    """When the server says it sent `response` (its ``Date`` header, in UTC); None if absent or unreadable."""
    try:
        moment = parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass
class RetryPolicy:
    """How hard to try: attempts per request, exponential backoff bounds, and timeouts."""

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 60.0
    max_wait: float = 900.0
    connect_timeout: float = 10.0
    read_timeout: float = 120.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for the given attempt (1-based)."""
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1)))


@dataclass
class RequestStats:
    """Counters a sync reports: requests sent, retries, seconds spent waiting to retry, token refreshes, and seconds
    requests were held back to stay under the source's rate limits (`pace_seconds`, summed over the threads that
    send them, so they may overlap)."""

    requests: int = 0
    retries: int = 0
    wait_seconds: float = 0.0
    auth_refreshes: int = 0
    pace_seconds: float = 0.0


@dataclass
class HttpClient:
    """A `requests` session that knows how one source signals throttling and expired tokens.

    `authorize` adds credentials to a request's headers; `on_auth_failure` drops the cached
    token so the next `authorize` refreshes it. A client may be shared by threads: one request,
    with its retries, waits and token refresh, runs at a time, so a refresh is never raced.

    A `pacer` (optional; :mod:`connectors.pacing`) holds every request back, sent ahead or not, until the
    source's rate limits have room, through `sleep`, and is shown every answer.
    """

    source: str
    classify: Callable[[requests.Response], Verdict] = default_classifier
    authorize: Callable[[dict], None] | None = None
    on_auth_failure: Callable[[], None] | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    stats: RequestStats = field(default_factory=RequestStats)
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    pacer: Pacer | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False, compare=False)
    _count_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _ahead: ReadAhead = field(init=False, repr=False, compare=False)
    _server_time: datetime | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._ahead = ReadAhead(self.source, self._send_planned,
                                lambda response: self.classify(response).action is Action.OK)

    def get_json(self, url: str, guess_next: GuessNext | None = None, decode: Decode = exact_json,
                 chain: bool = False, **kwargs) -> object:
        """GET `url` and decode its JSON body; `guess_next`, `decode` and `chain` as for `request_json`."""
        return self.request_json("GET", url, guess_next, decode, chain, **kwargs)

    def server_now(self) -> datetime:
        """The current time by the server's clock: the ``Date`` of its newest good answer, else this machine's."""
        return self._server_time or datetime.now(UTC)

    def request_json(self, method: str, url: str, guess_next: GuessNext | None = None, decode: Decode = exact_json,
                     chain: bool = False, **kwargs) -> object:
        """Send a request with retries and return its JSON body as `decode` reads it (floats as `Decimal`).

        `guess_next`, given the raw body of a successful response, names the request the caller
        will most likely send next; it is sent at once, in the background. With `chain`, the guess
        also reads the bodies of the requests it named, as they arrive, and keeps a few pages coming
        (see :mod:`connectors.read_ahead`). A body `decode` refuses with
        :class:`json.JSONDecodeError` (cut off mid-way) is requested again.
        """
        with self._lock:
            sent = self._ahead.claim(PlannedRequest(method, url, kwargs))
            return self._request_json(method, url, sent, guess_next, chain, decode, **kwargs)

    def _request_json(self, method: str, url: str, sent: SentAhead | None, guess_next: GuessNext | None,
                      chain: bool, decode: Decode, **kwargs) -> object:
        base_headers = kwargs.pop("headers", None) or {}
        auth_retried = False
        attempt = 0
        while True:
            attempt += 1
            stale_credentials = False
            guessed = False
            try:
                if sent is not None:  # the first attempt went ahead of the call: take its response
                    ahead, sent = sent, None
                    response = ahead.response.result()
                    stale_credentials = ahead.refreshes != self.stats.auth_refreshes
                    guessed = ahead.guessed
                else:
                    response = self._send(method, url, base_headers, kwargs)
                verdict = self.classify(response)
                if verdict.action is Action.OK:
                    self._server_time = sent_at(response) or self._server_time
                    if guess_next is not None and not guessed:
                        self._send_ahead(guess_next(response.content), guess_next if chain else None)
                    return decode(response.content)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    json.JSONDecodeError) as exc:
                verdict = Verdict(Action.RETRY, reason=f"{type(exc).__name__}: {exc}")
            except requests.RequestException as exc:
                raise SourceError(redact(f"{self.source}: {method} {url} could not be sent: "
                                         f"{_unsendable(exc)}")) from None
            if verdict.action is Action.REFRESH_AUTH and stale_credentials:  # renewed since it was sent: resend
                attempt -= 1
                continue
            if verdict.action is Action.REFRESH_AUTH and not auth_retried and self.on_auth_failure:
                auth_retried = True
                self.stats.auth_refreshes += 1
                self.on_auth_failure()
                attempt -= 1
                continue
            if verdict.action is Action.REFRESH_AUTH:
                raise AuthenticationError(redact(f"{self.source}: credentials refused at {url}: {verdict.reason}"))
            if verdict.action is Action.STOP:
                raise SourceLimitReached(redact(f"{self.source}: {verdict.reason}"), kind=verdict.kind,
                                         source_wide=verdict.source_wide)
            if verdict.action is Action.FAIL:
                raise SourceError(redact(f"{self.source}: {method} {url} failed: {verdict.reason}"), kind=verdict.kind)
            if attempt >= self.policy.max_attempts:
                raise self._retries_spent(method, url, attempt, verdict)
            self._wait(verdict, attempt, url)

    def _retries_spent(self, method: str, url: str, attempt: int, verdict: Verdict) -> SourceError:
        """The error once `verdict` was still the answer after every attempt: a throttle ends the stream."""
        if verdict.throttle:
            return SourceLimitReached(redact(f"{self.source}: {method} {url} still throttled after {attempt} attempts "
                                             f"({verdict.reason}); ending the stream, the next run resumes"),
                                      kind=verdict.kind, source_wide=verdict.source_wide)
        return SourceUnavailable(
            redact(f"{self.source}: {method} {url} still failing after {attempt} attempts: {verdict.reason}"),
            kind=verdict.kind)

    def _send(self, method: str, url: str, base_headers: dict, kwargs: dict) -> requests.Response:
        return self._send_planned(PlannedRequest(method, url, {**kwargs, "headers": base_headers}),
                                  self._authorization())

    def _send_planned(self, planned: PlannedRequest, authorization: dict) -> requests.Response:
        """Send one request with its own headers plus `authorization` (counted; in any thread)."""
        kwargs = dict(planned.kwargs)
        headers = {**(kwargs.pop("headers", None) or {}), **authorization}
        with self._count_lock:
            self.stats.requests += 1
        if self.pacer is None:
            return with_body(self._request(planned, headers, kwargs))
        with self.pacer.slot(planned, self.sleep) as waited:
            if waited:
                with self._count_lock:
                    self.stats.pace_seconds += waited
            response = self._request(planned, headers, kwargs)
        self.pacer.learn(response)
        return with_body(response)

    def _request(self, planned: PlannedRequest, headers: dict, kwargs: dict) -> requests.Response:
        """Send `planned` with `headers`; the answer's body is not read yet."""
        return self.session.request(planned.method, planned.url, headers=headers, stream=True,
                                    timeout=(self.policy.connect_timeout, self.policy.read_timeout), **kwargs)

    def _authorization(self) -> dict:
        """The credential headers for a request about to be sent (refreshed first when due)."""
        headers: dict = {}
        if self.authorize is not None:
            self.authorize(headers)
        return headers

    def _send_ahead(self, planned: PlannedRequest | None, chain: GuessNext | None) -> None:
        if planned is not None:
            self._ahead.start(planned, self._authorization(), self.stats.auth_refreshes, chain)

    def _wait(self, verdict: Verdict, attempt: int, url: str) -> None:
        delay = verdict.wait if verdict.wait is not None else self.policy.backoff(attempt)
        if delay > self.policy.max_wait:
            raise SourceLimitReached(redact(f"{self.source}: asked to wait {delay:.0f}s ({verdict.reason}); "
                                            "ending the stream, the next run resumes"), kind=verdict.kind,
                                     source_wide=verdict.source_wide)
        log.warning(redact(f"{self.source}: retrying {url} in {delay:.1f}s ({verdict.reason})"))
        self.stats.retries += 1
        self.stats.wait_seconds += delay
        self.sleep(delay)
