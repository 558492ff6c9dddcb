"""LinkedIn Marketing API client: OAuth refresh, version headers, Rest.li 2.0 query strings built by hand,
finder paging on ``metadata.nextPageToken``, and ``adAnalytics`` read in date slices under its cap.

Rest.li structure (``List(…)``, ``(key:value)``) must reach LinkedIn unencoded while the values
inside it are percent-encoded (``urn%3Ali%3A…``); ``requests`` would encode the structure too,
so every query string is assembled here. ``adAnalytics`` has no pagination and silently drops
whatever lies past its cap: slices are sized from the account's campaign count, and a slice
that still comes back full is split in two and read again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import quote

import requests

from connectors.ad_fields import new_record_fields
from connectors.ad_metrics import (
    Clock,
    MetricWindow,
    local_today,
    plan_reads,
    read_in_chunks,
)
from connectors.auth import OAuthRefreshToken
from connectors.errors import SourceError
from connectors.http import OK, Action, HttpClient, PlannedRequest, RetryPolicy, Verdict, retry_after_seconds
from connectors.linkedin_ads.stamps import AnalyticsStamp
from connectors.linkedin_ads.streams import (
    ACCOUNT_STATUSES,
    ANALYTICS_METRICS,
    CAMPAIGNS,
    REPORTING_TIME_ZONE,
)
from connectors.loader_state import loader_state
from connectors.pages import Page, PageDecoder
from connectors.read_ahead import GuessNext, planned_sequence
from connectors.redact import excerpt
from connectors.schema import Stream

BASE_URL = "https://api.linkedin.com"
AUTH_URL = "https://www.linkedin.com"
API_VERSION = "202606"
ANALYTICS_CAP = 15_000
#: Aim slices at this share of the cap, so a busy day or a new campaign does not push them over.
CAP_HEADROOM = 0.8
PAGE_SIZE = 500
ACCOUNT_URN = "urn:li:sponsoredAccount:"
_DAY_THROTTLE = re.compile(r"\bDAY\b")


def classify(response: requests.Response) -> Verdict:
    """LinkedIn's signals: 401 refresh; a DAY throttle (429) ends the stream until tomorrow; 5xx retry.

    A DAY throttle holds calls "to this resource" (the application's or member's quota is per endpoint), and
    each stream reads a resource of its own: it ends its stream only, and the next streams are still read.
    """
    status = response.status_code
    if status < 300:
        return OK
    body = _json_body(response)
    reason = f"HTTP {status} {body.get('code') or body.get('serviceErrorCode') or ''}: {body.get('message', '')}"
    if status == 401:
        return Verdict(Action.REFRESH_AUTH, reason=reason)
    if status == 429 and _DAY_THROTTLE.search(str(body.get("message", ""))):
        return Verdict(Action.STOP, reason=f"daily throttle reached, resets at midnight UTC ({reason})")
    if status == 429 or status >= 500:
        return Verdict(Action.RETRY, wait=retry_after_seconds(response), reason=reason)
    if status == 426:
        return Verdict(Action.FAIL, reason=f"LinkedIn-Version is no longer served, configure a newer one ({reason})")
    return Verdict(Action.FAIL, reason=f"{reason} {excerpt(response.text, 300)}")


def _json_body(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def restli_list(values: list[str]) -> str:
    """``List(a,b)`` with each value percent-encoded and the structure left as it is."""
    return f"List({','.join(quote(str(value), safe='') for value in values)})"


def restli_date(day: date) -> str:
    """``(year:2024,month:5,day:1)``."""
    return f"(year:{day.year},month:{day.month},day:{day.day})"


def restli_date_range(first: date, last: date) -> str:
    """``(start:(…),end:(…))``, both ends inclusive."""
    return f"(start:{restli_date(first)},end:{restli_date(last)})"


def status_search(statuses: tuple[str, ...]) -> str:
    """The finder criteria that match every one of `statuses` (the default search hides some)."""
    return f"(status:(values:{restli_list(list(statuses))}))"


@dataclass
class LinkedInAdsClient:
    """Reads LinkedIn ad accounts page by page; knows nothing of Dagster or the warehouse.

    `account_ids` limits the sync to those ad accounts (default: every account the token can
    search); `analytics_cap` is how many elements ``adAnalytics`` returns at most.
    """

    client_id: str
    client_secret: str
    refresh_token: str
    base_url: str = BASE_URL
    auth_url: str = AUTH_URL
    api_version: str = API_VERSION
    account_ids: tuple[str, ...] = ()
    window: MetricWindow = field(default_factory=MetricWindow)
    analytics_cap: int = ANALYTICS_CAP
    page_size: int = PAGE_SIZE
    clock: Clock | None = None  # None: the platform's own clock (see HttpClient.server_now)
    policy: RetryPolicy | None = None
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.rest_url = f"{self.base_url.rstrip('/')}/rest"
        self.account_ids = tuple(str(a).strip().removeprefix(ACCOUNT_URN) for a in self.account_ids if str(a).strip())
        self.auth = OAuthRefreshToken(token_url=f"{self.auth_url.rstrip('/')}/oauth/v2/accessToken",
                                      client_id=self.client_id, client_secret=self.client_secret,
                                      refresh_token=self.refresh_token)
        self.http = HttpClient(source="linkedin_ads", classify=classify, authorize=self._authorize,
                               on_auth_failure=self.auth.invalidate, policy=self.policy or RetryPolicy(),
                               sleep=self.sleep)
        self._accounts: dict[str, dict] | None = None
        self._objects: dict[tuple[str, str], list[dict]] = {}

    def _authorize(self, headers: dict) -> None:
        headers["Authorization"] = f"Bearer {self.auth.access_token()}"
        headers["LinkedIn-Version"] = self.api_version
        headers["X-Restli-Protocol-Version"] = "2.0.0"

    def credentials_expire_at(self) -> datetime | None:
        """When the refresh token stops working (UTC): LinkedIn counts 365 days from the member's original consent
        and refreshing does not extend it. None until a token refresh has said (this client has not refreshed)."""
        return self.auth.refresh_token_expires_at

    def check(self) -> dict:
        """Search one ad account: a cheap proof that the token and the version header are accepted."""
        return self.http.get_json(f"{self.rest_url}/adAccounts?q=search&pageSize=1")

    def accounts(self) -> dict[str, dict]:
        """Every synced ad account by id, whatever its status, read once per client."""
        if self._accounts is None:
            if self.account_ids:
                rows = [self.http.get_json(f"{self.rest_url}/adAccounts/{account}") for account in self.account_ids]
            else:
                query = f"q=search&search={status_search(ACCOUNT_STATUSES)}"
                rows = [row for page in self._finder(f"{self.rest_url}/adAccounts", query) for row in page]
            self._accounts = {str(row["id"]): row for row in rows}
        return self._accounts

    def campaigns(self, account: str) -> list[dict]:
        """Every campaign of an account, whatever its status (they size the analytics slices too)."""
        return self.account_objects(CAMPAIGNS, account)

    def account_objects(self, stream: Stream, account: str) -> list[dict]:
        """Every object of an account's finder, whatever its status, read once per client."""
        key = (stream.options["finder"], account)
        if key not in self._objects:
            self._objects[key] = [row for page in self._account_finder(stream, account) for row in page]
        return self._objects[key]

    def discover(self, stream: Stream) -> Stream:
        """The stream with a column for every top-level field its records carry beyond the declared ones.

        LinkedIn returns its objects whole, so a field it adds shows up in the records themselves;
        they are read here once and served from memory to :meth:`read_pages`. Analytics answer only
        the ``fields`` asked for, so their schema never drifts.
        """
        kind = stream.options["kind"]
        if kind == "accounts":
            return stream.with_fields(new_record_fields(stream, self.accounts().values()))
        if kind == "account_objects":
            records = (row for account in self.accounts() for row in self.account_objects(stream, account))
            return stream.with_fields(new_record_fields(stream, records))
        return stream

    def read_pages(self, stream: Stream, since: datetime | None = None) -> Iterator[list[dict]]:
        """Yield the stream's records: accounts and their objects whole, analytics over the restatement window.

        The loader's state (the per-account cursors) is taken here, when the read is asked for: the
        pages themselves may be read ahead in another thread, which sees no loader context.
        """
        return self._read(stream, since, loader_state())

    def _read(self, stream: Stream, since: datetime | None, state: MutableMapping | None) -> Iterator[list[dict]]:
        kind = stream.options["kind"]
        if kind == "accounts":
            yield list(self.accounts().values())
        elif kind == "account_objects":
            for account in self.accounts():
                yield self.account_objects(stream, account)
        elif kind == "analytics":
            yield from self._analytics(stream, since, state)
        else:
            raise ValueError(f"stream {stream.name}: unknown kind {kind!r}")

    def _account_finder(self, stream: Stream, account: str) -> Iterator[list[dict]]:
        query = f"q=search&search={status_search(stream.options['statuses'])}"
        yield from self._finder(f"{self.rest_url}/adAccounts/{account}/{stream.options['finder']}", query)

    def _finder(self, url: str, query: str) -> Iterator[list[dict]]:
        """Page a finder until an answer comes without ``metadata.nextPageToken``."""
        token = None
        while True:
            paging = f"&pageToken={quote(token, safe='')}" if token else ""
            body = self.http.get_json(f"{url}?{query}&pageSize={self.page_size}{paging}")
            yield body.get("elements", [])
            token = (body.get("metadata") or {}).get("nextPageToken")
            if not token:
                return

    def _analytics(self, stream: Stream, since: datetime | None, state: MutableMapping | None,
                   ) -> Iterator[list[dict]]:
        accounts = self.accounts()  # asked first: its answer's Date is the platform's clock
        today = local_today(self.clock or self.http.server_now, REPORTING_TIME_ZONE)
        chunks, cursors = plan_reads(self.window, dict.fromkeys(accounts, today), since, state)
        guess = planned_sequence([PlannedRequest("GET", self._analytics_url(account, start, end))
                                  for chunk in chunks for account, first, last in chunk
                                  for start, end in self._date_slices(account, first, last)])

        def read(account: str, first: date, last: date) -> Iterator[Page]:
            decode = self._analytics_decoder(stream, account)
            for start, end in self._date_slices(account, first, last):
                yield from self._analytics_slice(account, start, end, decode, guess)

        yield from read_in_chunks(chunks, read, cursors)

    def _date_slices(self, account: str, first: date, last: date) -> list[tuple[date, date]]:
        """An account's date range in slices whose answers should stay under the cap (days x campaigns)."""
        campaigns = max(1, len(self.campaigns(account)))
        step = max(1, int(self.analytics_cap * CAP_HEADROOM) // campaigns)
        slices, start = [], first
        while start <= last:
            end = min(last, start + timedelta(days=step - 1))
            slices.append((start, end))
            start = end + timedelta(days=1)
        return slices

    def _analytics_url(self, account: str, first: date, last: date) -> str:
        fields = ",".join(["dateRange", "pivotValues", *ANALYTICS_METRICS])
        return (f"{self.rest_url}/adAnalytics?q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY"
                f"&dateRange={restli_date_range(first, last)}&accounts={restli_list([ACCOUNT_URN + account])}"
                f"&fields={fields}")

    def _analytics_decoder(self, stream: Stream, account: str) -> PageDecoder:
        """Reads an account's analytics answers as stamped pages, by Arrow where the stream's types allow."""
        stamped = AnalyticsStamp(account, self.accounts()[account].get("currency"), REPORTING_TIME_ZONE)
        return PageDecoder(stream, "elements", {}, stamp=stamped)

    def _analytics_slice(self, account: str, first: date, last: date, decode: PageDecoder,
                         guess: GuessNext | None = None) -> list[Page]:
        """The stamped elements of one account's date range, split in two for as long as an answer comes back full.

        `guess` names the ranges read next (a :func:`connectors.read_ahead.planned_sequence`): they are asked
        for while this answer is decoded.
        """
        page = self.http.get_json(self._analytics_url(account, first, last), guess, decode, chain=True)
        if len(page) < self.analytics_cap:
            return [page]
        if first == last:
            raise SourceError(f"linkedin_ads: account {account} has {len(page)}+ campaign rows on {first}, "
                              "more than adAnalytics returns at once")
        middle = first + timedelta(days=(last - first).days // 2)
        return self._analytics_slice(account, first, middle, decode) + self._analytics_slice(
            account, middle + timedelta(days=1), last, decode)
