"""Meta Marketing API client: token exchange, ``paging.next`` cursors, sync Insights and async report runs,
and Meta's own throttle signal (HTTP 400 codes with usage headers).

``paging.next`` is an absolute URL that embeds the access token; the token is taken out of it
and sent as a header instead, so it never lands in a log line and a refreshed token is used.
The last page is the one without ``paging.next`` (pages may be short, or empty, and still
carry one). Ranges longer than `async_after_days` (the default chunks never are), and sync
requests Meta finds too big, go through an async report run, polled at growing intervals. A run Meta ends
"Job Failed" or "Job Skipped" is started again a few times, then its range is read in halves, down to single days;
a day whose runs keep failing ends the stream cleanly, as a throttle does (below).

A throttle waits as long as the usage headers say (a minute when they say nothing) and asks again; one
that outlasts the retries, or asks for a longer wait than allowed, ends the stream cleanly: what was read
is kept, and the next run resumes from the stream's cursor. The app's, user's or ad account's throttle
(codes 4, 17, 32, 613) is the whole source's, so the source's remaining streams are left to the next run too;
a business-use-case throttle (80000-80014) ends its own stream only.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa
import requests

from connectors.ad_metrics import (
    Clock,
    MetricWindow,
    following_spans,
    local_today,
    plan_reads,
    read_in_chunks,
)
from connectors.errors import SourceError, SourceLimitReached, SourceUnavailable
from connectors.http import OK, Action, HttpClient, PlannedRequest, RetryPolicy, Verdict, string_after_key
from connectors.loader_state import loader_state
from connectors.meta_ads.auth import MetaTokenExchange
from connectors.meta_ads.stamps import InsightStamp
from connectors.meta_ads.streams import AD_ACCOUNTS, EFFECTIVE_STATUSES
from connectors.pages import Page, PageDecoder
from connectors.redact import excerpt, redact
from connectors.schema import Field, Stream

BASE_URL = "https://graph.facebook.com"
API_VERSION = "v23.0"
PAGE_LIMIT = 500
#: Rate-limit error codes: app (4), user (17), API (613), and the business-use-case limits (80000-80014).
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
#: The throttles that are the whole source's: the app's (4), the user's or token's (17, 32), and the ad account's
#: own call limit (613), which every stream meets, since each reads every ad account with the one app and token.
#: A business-use-case throttle (80000-80014) holds one ad account's calls of one use case (insights 80000, ads
#: management 80004, ...): the streams of another use case are not held, so it ends its own stream only.
SOURCE_WIDE_THROTTLE_CODES = frozenset({4, 17, 32, 613})
#: The ``type`` of the ``x-business-use-case-usage`` entries a business-use-case throttle code is about.
USE_CASE_OF_CODE = {80000: "ads_insights", 80004: "ads_management"}
#: Seconds to wait on a throttle whose usage headers give no time (codes 4/17/613 often come so): Meta blocks a
#: throttled ad account for about a minute (five on the development tier), far longer than a backoff's first steps.
UNESTIMATED_THROTTLE_SECONDS = 60.0
#: The usage headers that give the share of a quota used, and their fields that are such percentages.
USAGE_PERCENTAGES = {
    "x-app-usage": ("call_count", "total_cputime", "total_time"),
    "x-ad-account-usage": ("acc_id_util_pct",),
}
TOKEN_REFUSED = 190
AD_ACCOUNT_IN_PATH = re.compile(r"/act_(\d+)(?:/|$)")
TOO_MUCH_DATA = "reduce the amount of data"
#: (code, subcode) of a sync request Meta gave up on ("Request Timed Out"): read through a report run, as too much data.
TIMED_OUT = (100, 1504018)
#: The `kind` of the error Meta answers a sync Insights request it finds too big or gave up on: a report run reads it.
TOO_BIG_FOR_SYNC = "too_big_for_sync"
MAX_POLL_SECONDS = 30.0
#: The ``async_status`` of a report run Meta gave up on: it has no results, but the same run started again may.
REPORT_RUN_GAVE_UP = frozenset({"Job Failed", "Job Skipped"})
#: How many times a report run Meta gives up on is started, before its range is read in halves.
REPORT_RUN_ATTEMPTS = 3
#: Seconds between those starts: Meta's advice on a failed report is "Try again later".
REPORT_RUN_RETRY_SECONDS = 30.0
#: The `kind` of the error ending a stream at a day whose report runs Meta keeps giving up on.
REPORT_RUN_FAILED = "report_run_failed"
#: ``paging`` beside a list's ``data``: the cursors, and the URLs of the pages around this one.
PAGING = pa.struct([("cursors", pa.struct([("before", pa.string()), ("after", pa.string())])),
                    ("next", pa.string()), ("previous", pa.string())])


def classify(response: requests.Response) -> Verdict:
    """Meta's signals: throttle codes wait for the usage headers' estimate, 190 re-exchanges the token, a sync
    request too big for Meta fails as `TOO_BIG_FOR_SYNC`."""
    status = response.status_code
    if status < 300:
        return OK
    error = _error_of(response)
    code, message = error.get("code"), excerpt(error.get("message", ""), 300)
    reason = f"HTTP {status} code {code}/{error.get('error_subcode', '-')}: {message}"
    if code in THROTTLE_CODES:
        return _throttled(response, reason, code)
    if code == TOKEN_REFUSED or status == 401:
        return Verdict(Action.REFRESH_AUTH, reason=reason)
    if _too_big_for_sync(error):  # asking again the same way fails the same way
        return Verdict(Action.FAIL, reason=reason, kind=TOO_BIG_FOR_SYNC)
    if status >= 500 or code in (1, 2) or error.get("is_transient"):
        return Verdict(Action.RETRY, reason=reason)
    return Verdict(Action.FAIL, reason=reason)


def _throttled(response: requests.Response, reason: str, code: int) -> Verdict:
    """Wait as long as the usage headers say, else `UNESTIMATED_THROTTLE_SECONDS`, and ask again; a throttle that
    outlasts the retries (or asks for a longer wait than allowed) ends the stream cleanly, never the run, and
    a source-wide one the source's remaining streams too (see `SOURCE_WIDE_THROTTLE_CODES`)."""
    wait = regain_access_seconds(response, USE_CASE_OF_CODE.get(code))
    usage = usage_percentages(response)
    if usage:
        reason += "; usage " + ", ".join(f"{header} {percent:g}%" for header, percent in usage.items())
    return Verdict(Action.RETRY, wait=UNESTIMATED_THROTTLE_SECONDS if wait is None else wait, reason=reason,
                   throttle=True, source_wide=code in SOURCE_WIDE_THROTTLE_CODES)


def _too_big_for_sync(error: dict) -> bool:
    """Whether Meta refused a sync request as too big or gave up on it (source-apis 4.3). "Too much data" comes as
    code 1, which is also Meta's unknown error: only its message tells them apart."""
    return (error.get("code"), error.get("error_subcode")) == TIMED_OUT or (
        TOO_MUCH_DATA in str(error.get("message", "")).lower())


def _wants_a_report_run(error: SourceError) -> bool:
    """Whether a failed sync request is read through a report run instead: the classifier found it too big."""
    return error.kind == TOO_BIG_FOR_SYNC


def _error_of(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def regain_access_seconds(response: requests.Response, use_case: str | None = None) -> float | None:
    """Seconds until access returns, or None when the headers give no estimate: the largest
    ``estimated_time_to_regain_access`` (minutes) in ``x-business-use-case-usage``, else the
    ``reset_time_duration`` (seconds) of ``x-ad-account-usage``.

    The header holds an entry per ad account and use case the app has called. Only those of the ad account the
    request named and of the throttled `use_case` count, where the header has them: another account's or use
    case's longer block does not hold this request (nor end its stream as longer than allowed)."""
    entries = [(str(owner), entry)
               for owner, listed in _json_header(response, "x-business-use-case-usage").items()
               for entry in (listed if isinstance(listed, list) else ()) if isinstance(entry, dict)]
    request = getattr(response, "request", None)
    account = ad_account_in(request.url) if request is not None and request.url else None
    entries = [(owner, entry) for owner, entry in entries if owner.removeprefix("act_") == account] or entries
    relevant = [entry for _, entry in entries if entry.get("type") == use_case] or [entry for _, entry in entries]
    longest = max((_number(entry.get("estimated_time_to_regain_access")) for entry in relevant), default=0.0)
    if longest > 0:
        return longest * 60
    reset = _number(_json_header(response, "x-ad-account-usage").get("reset_time_duration"))
    return reset if reset > 0 else None


def ad_account_in(url: str) -> str | None:
    """The numeric id of the ad account (``act_<id>``) in the path of `url`; None when it names none."""
    found = AD_ACCOUNT_IN_PATH.search(urlsplit(url).path)
    return found.group(1) if found else None


def usage_percentages(response: requests.Response) -> dict[str, float]:
    """The highest percentage of its quota each usage header reports, for the headers the response carries."""
    found = {}
    for header, fields in USAGE_PERCENTAGES.items():
        usage = _json_header(response, header)
        if any(name in usage for name in fields):
            found[header] = max(_number(usage.get(name)) for name in fields)
    return found


def _json_header(response: requests.Response, name: str) -> dict:
    """A header holding a JSON object, or an empty one when it is absent or not such an object."""
    try:
        value = json.loads(response.headers.get(name) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _number(value: object) -> float:
    """A header field as a number; 0 when absent or not a number."""
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def without_token(url: str) -> str:
    """`url` with its ``access_token`` query parameter removed."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "access_token"]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass
class MetaAdsClient:
    """Reads Meta ad accounts page by page; knows nothing of Dagster or the warehouse.

    `account_ids` limits the sync to those ad accounts (numeric ids; default: every account the
    token can read).
    """

    app_id: str
    app_secret: str
    access_token: str
    base_url: str = BASE_URL
    api_version: str = API_VERSION
    account_ids: tuple[str, ...] = ()
    window: MetricWindow = field(default_factory=MetricWindow)
    async_after_days: int = 30
    report_poll_seconds: float = 2.0
    report_timeout_seconds: float = 3600.0
    page_limit: int = PAGE_LIMIT
    clock: Clock | None = None  # None: the platform's own clock (see HttpClient.server_now)
    policy: RetryPolicy | None = None
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.base_url = f"{self.base_url.rstrip('/')}/{self.api_version}"
        self.account_ids = tuple(a.strip().removeprefix("act_") for a in self.account_ids if a.strip())
        self.auth = MetaTokenExchange(exchange_url=f"{self.base_url}/oauth/access_token", app_id=self.app_id,
                                      app_secret=self.app_secret, user_token=self.access_token)
        self.http = HttpClient(
            source="meta_ads",
            classify=classify,
            authorize=lambda headers: headers.update(Authorization=f"Bearer {self.auth.access_token()}"),
            on_auth_failure=self.auth.invalidate,
            policy=self.policy or RetryPolicy(),
            sleep=self.sleep,
        )
        self._accounts: dict[str, dict] | None = None

    def check(self) -> dict:
        """Read one ad account: a cheap proof that the token works."""
        return self.http.get_json(f"{self.base_url}/me/adaccounts", params={"fields": "account_id", "limit": 1})

    def accounts(self) -> dict[str, dict]:
        """Every synced ad account (currency, ``timezone_name``) by numeric id, read once per client."""
        if self._accounts is None:
            fields = _platform_fields(AD_ACCOUNTS)
            if self.account_ids:
                rows = [self.http.get_json(f"{self.base_url}/act_{account}", params={"fields": fields})
                        for account in self.account_ids]
            else:
                rows = [row for page in self._pages(f"{self.base_url}/me/adaccounts",
                                                       {"fields": fields, "limit": self.page_limit},
                                                       list_decoder(AD_ACCOUNTS))
                        for row in page]
            self._accounts = {str(row.get("account_id") or row["id"].removeprefix("act_")): row for row in rows}
        return self._accounts

    def discover(self, stream: Stream) -> Stream:
        """The stream with every field of its node type that it does not declare yet.

        Graph answers hold only the ``fields`` asked for, so a field Meta adds is found through
        introspection (``GET /{node}?metadata=1``, on one node of the stream's type) and asked for
        from then on. Insights have a fixed field list; a new action type arrives as a new entry
        of ``actions`` / ``action_values``, which are kept whole as JSON.
        """
        kind = stream.options["kind"]
        node = None
        if kind == "accounts":
            node = next((f"act_{account}" for account in self.accounts()), None)
        elif kind == "objects":
            node = self._any_object_id(stream)
        if node is None:
            return stream
        body = self.http.get_json(f"{self.base_url}/{node}", params={"fields": "id", "metadata": "1"})
        declared = {spec.source for spec in stream.fields} | {spec.column for spec in stream.fields}
        extra = [Field(entry["name"], entry["name"], _graph_field_type(str(entry.get("type") or "")))
                 for entry in (body.get("metadata") or {}).get("fields", ())
                 if isinstance(entry, dict) and entry.get("name") and entry["name"] not in declared]
        return stream.with_fields(extra)

    def _any_object_id(self, stream: Stream) -> str | None:
        """The id of one object of the stream (any status), or None when no account has one."""
        statuses = [{"field": f"{stream.options['singular']}.effective_status", "operator": "IN",
                     "value": list(EFFECTIVE_STATUSES)}]
        for account in self.accounts():
            body = self.http.get_json(f"{self.base_url}/act_{account}/{stream.options['edge']}",
                                      params={"fields": "id", "filtering": json.dumps(statuses), "limit": 1})
            for row in body.get("data", ()):
                return str(row["id"])
        return None

    def read_pages(self, stream: Stream, since: datetime | None = None) -> Iterator[Sequence[dict]]:
        """Yield the stream's records: accounts and objects whole, insights over the restatement window.

        The loader's state (the per-account cursors) is taken here, when the read is asked for: the
        pages themselves may be read ahead in another thread, which sees no loader context.
        """
        return self._read(stream, since, loader_state())

    def _read(self, stream: Stream, since: datetime | None, state: MutableMapping | None,
              ) -> Iterator[Sequence[dict]]:
        kind = stream.options["kind"]
        if kind == "accounts" and stream.fields == AD_ACCOUNTS.fields:
            yield list(self.accounts().values())
        elif kind == "accounts":  # discovered fields beyond the ones every client reads
            fields = _platform_fields(stream)
            yield [self.http.get_json(f"{self.base_url}/act_{account}", params={"fields": fields})
                   for account in self.accounts()]
        elif kind == "objects":
            yield from self._objects(stream)
        elif kind == "insights":
            yield from self._insights(stream, since, state)
        else:
            raise ValueError(f"stream {stream.name}: unknown kind {kind!r}")

    def _objects(self, stream: Stream) -> Iterator[Page]:
        statuses = [{"field": f"{stream.options['singular']}.effective_status", "operator": "IN",
                     "value": list(EFFECTIVE_STATUSES)}]
        params = {"fields": _platform_fields(stream), "filtering": json.dumps(statuses), "limit": self.page_limit}
        for account in self.accounts():
            yield from self._pages(f"{self.base_url}/act_{account}/{stream.options['edge']}", params,
                                   list_decoder(stream))

    def _insights(self, stream: Stream, since: datetime | None, state: MutableMapping | None) -> Iterator[Page]:
        todays = {account: local_today(self.clock or self.http.server_now, row.get("timezone_name") or "UTC")
                  for account, row in self.accounts().items()}
        chunks, cursors = plan_reads(self.window, todays, since, state)
        level = stream.options["level"]

        def request(account: str, first: date, last: date) -> PlannedRequest:
            return PlannedRequest("GET", f"{self.base_url}/act_{account}/insights", {"params": {
                "level": level,
                "fields": _platform_fields(stream),
                "time_range": json.dumps({"since": first.isoformat(), "until": last.isoformat()}),
                "time_increment": "1",
                "filtering": json.dumps([{"field": f"{level}.effective_status", "operator": "IN",
                                          "value": list(EFFECTIVE_STATUSES)}]),
                "limit": self.page_limit,
            }})

        following = following_spans(chunks)

        def read(account: str, first: date, last: date) -> Iterable[Page]:
            after = following.get((account, first, last))
            then = None if after is None or self._reported(*after) else request(*after)
            info = self.accounts()[account]
            stamped = InsightStamp.for_stream(stream, account, info.get("currency"), info.get("timezone_name"))
            return self._insight_pages(request(account, first, last), self._reported(account, first, last), then,
                                       list_decoder(stream, stamped))

        yield from read_in_chunks(chunks, read, cursors)

    def _reported(self, account: str, first: date, last: date) -> bool:
        """Whether a range is read through an async report run (longer than `async_after_days`)."""
        return (last - first).days + 1 > self.async_after_days

    def _insight_pages(self, first_page: PlannedRequest, reported: bool, then: PlannedRequest | None,
                       decode: PageDecoder) -> Iterable[Page]:
        url, params = first_page.url, first_page.kwargs["params"]
        if reported:
            return self._report_run(url, params, decode)
        try:
            # whole, so a fallback never follows pages already handed over
            return list(self._pages(url, params, decode, then))
        except SourceError as exc:
            if not _wants_a_report_run(exc):
                raise
        return self._report_run(url, params, decode)

    def _report_run(self, url: str, params: dict, decode: PageDecoder) -> Iterator[Page]:
        """The pages of `params`' date range, read through async report runs.

        A run Meta gives up on ("Job Failed", "Job Skipped") is started again (`REPORT_RUN_ATTEMPTS`, with
        `REPORT_RUN_RETRY_SECONDS` between); a range whose runs keep ending so is read in halves, each the same
        way, down to single days. Rows are daily (``time_increment=1``), so the halves' rows are the range's.
        A day whose runs all end so raises `SourceLimitReached`: the stream ends cleanly, the chunks read before
        it are kept, and the next run reads on from them (see `read_in_chunks`).
        """
        first, last = _time_range(params)
        yield from self._report_range(url, params, decode, first, last)

    def _report_range(self, url: str, params: dict, decode: PageDecoder, first: date, last: date,
                      ) -> Iterator[Page]:
        """The pages of the days `first` to `last`, through a report run, else through its halves."""
        ranged = {**params, "time_range": json.dumps({"since": first.isoformat(), "until": last.isoformat()})}
        run_id, status = self._completed_report_run(url, ranged)
        if run_id is not None:
            yield from self._pages(f"{self.base_url}/{run_id}/insights", {"limit": self.page_limit}, decode)
            return
        if first == last:
            raise SourceLimitReached(redact(
                f"meta_ads: ad account act_{ad_account_in(url) or '?'}: every report run of "
                f"{first.isoformat()} ended {_gave_up(status)}, in all {REPORT_RUN_ATTEMPTS} attempts after its "
                "range was split down to this day; the insights of the chunks before it are kept, and the next "
                "run reads on from there"), kind=REPORT_RUN_FAILED)
        middle = first + timedelta(days=(last - first).days // 2)
        yield from self._report_range(url, params, decode, first, middle)
        yield from self._report_range(url, params, decode, middle + timedelta(days=1), last)

    def _completed_report_run(self, url: str, params: dict) -> tuple[str | None, dict]:
        """Start a report run until one completes, at most `REPORT_RUN_ATTEMPTS` times: its id and last status,
        or None and the status of the last run Meta gave up on."""
        for attempt in range(REPORT_RUN_ATTEMPTS):
            if attempt:
                self.sleep(REPORT_RUN_RETRY_SECONDS)
            run_id = self.http.request_json("POST", url, data=params)["report_run_id"]
            status = self._finished_report_run(run_id)
            if status.get("async_status") not in REPORT_RUN_GAVE_UP:
                return run_id, status
        return None, status

    def _finished_report_run(self, run_id: str) -> dict:
        """Poll a report run at growing intervals until it completes or Meta gives up on it; its last status."""
        deadline = time.monotonic() + self.report_timeout_seconds
        delay = self.report_poll_seconds
        while True:
            status = self.http.get_json(f"{self.base_url}/{run_id}")
            state = status.get("async_status")
            if state == "Job Completed" and int(status.get("async_percent_completion", 100)) >= 100:
                return status
            if state in REPORT_RUN_GAVE_UP:
                return status
            if time.monotonic() >= deadline:
                raise SourceUnavailable(f"meta_ads: report run {run_id} still {state!r} after "
                                        f"{self.report_timeout_seconds:.0f}s")
            self.sleep(delay)
            delay = min(delay * 2, MAX_POLL_SECONDS)

    def _pages(self, url: str, params: dict | None, decode: PageDecoder, then: PlannedRequest | None = None,
               ) -> Iterator[Page]:
        """Follow ``paging.next`` until a page comes without one. The next pages are asked for while this one is
        decoded (see `_next_page`); after the last page, `then`, the request the caller sends next, if given."""
        after_last = [then] if then is not None else []

        def guess(raw: bytes) -> PlannedRequest | None:
            return self._next_page(raw) or (after_last.pop() if after_last else None)  # `then` once: it has no next

        while url:
            page = self.http.get_json(url, guess, decode, chain=True, params=params)
            yield page
            next_url = (page.envelope["paging"] or {}).get("next")
            url, params = (self._own_url(next_url), None) if next_url else (None, None)

    def _own_url(self, next_url: str) -> str:
        """A ``paging.next`` URL without its token, once it is known to be under the API's own base: the client sends
        its token with every request, so a link to another host is refused, never followed."""
        if not next_url.startswith(f"{self.base_url}/"):
            # the host only: the link's query may hold a token
            target = repr(urlsplit(next_url).netloc) if urlsplit(next_url).netloc else "a relative link"
            raise SourceError(redact(f"meta_ads: a page's paging.next leads away from {self.base_url} (to {target}); "
                                     "not followed, so the token stays with Meta"))
        return without_token(next_url)

    def _next_page(self, body: bytes) -> PlannedRequest | None:
        """The request `_pages` sends after `body`: its ``paging.next`` (the body's last "next"), without the token.

        Only a URL under the API's own base is guessed, so a "next" inside the data never sends a request elsewhere.
        """
        next_url = string_after_key(body, "next", last=True)
        if not next_url or not next_url.startswith(f"{self.base_url}/"):
            return None
        return PlannedRequest("GET", without_token(next_url), {"params": None})


def _time_range(params: dict) -> tuple[date, date]:
    """The first and last day of an Insights request's ``time_range``."""
    window = json.loads(params["time_range"])
    return date.fromisoformat(window["since"]), date.fromisoformat(window["until"])


def _gave_up(status: dict) -> str:
    """How Meta ended a report run it gave up on: its status, and the error it names (v25+), if any."""
    ended = repr(status.get("async_status"))
    if status.get("error_code") is None:
        return ended
    message = excerpt(status.get("error_message") or status.get("error_user_title") or "", 300)
    return f"{ended} (error {status['error_code']}/{status.get('error_subcode', '-')}: {message})"


def _graph_field_type(graph_type: str) -> str:
    """The column type of an introspected field: lists and objects as JSON, numbers and flags as such."""
    if graph_type.startswith("list") or graph_type[:1].isupper():
        return "json"
    return {"bool": "bool", "int": "int", "unsigned int": "int", "int32": "int", "float": "float"}.get(
        graph_type, "string")


def list_decoder(stream: Stream, stamp: InsightStamp | None = None) -> PageDecoder:
    """Reads a Graph API list answer (``data`` and ``paging``) of `stream` as pages, by Arrow where its types allow."""
    return PageDecoder(stream, "data", {"paging": PAGING}, stamp=stamp)


def _platform_fields(stream: Stream) -> str:
    return ",".join(dict.fromkeys(f.source for f in stream.fields if not f.source.startswith("_")))
