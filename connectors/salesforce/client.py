"""Salesforce REST client: OAuth refresh, SOQL through ``queryAll`` (deletes included), ``nextRecordsUrl`` paging."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import quote

import pyarrow as pa
import requests

from connectors.auth import OAuthRefreshToken
from connectors.errors import SourceError, SourceLimitReached
from connectors.http import (
    OK,
    Action,
    HttpClient,
    PlannedRequest,
    RetryPolicy,
    Verdict,
    retry_after_seconds,
    string_after_key,
)
from connectors.naming import snake_case
from connectors.pages import Page, PageDecoder, key_stream, listed_keys
from connectors.redact import excerpt, get_logger
from connectors.salesforce.slices import MIN_SLICE, QUERY_TIMEOUT, SlicedRead, parse_datetime, soql_datetime
from connectors.schema import Field, Stream
from connectors.token_store import RefreshTokenStore

log = get_logger("connectors.salesforce")

API_VERSION = "v60.0"
#: Describe types that are not strings; compound address and location fields are not queryable as such.
_DESCRIBE_TYPES = {"boolean": "bool", "int": "int", "double": "float", "currency": "decimal", "percent": "decimal",
                   "date": "date", "datetime": "timestamp"}
_COMPOUND_TYPES = {"address", "location"}


#: The message of the REQUEST_LIMIT_EXCEEDED 403 for the org's limit of concurrent long-running requests.
CONCURRENT_LIMIT = "ConcurrentPerOrgLongTxn"


def classify(response: requests.Response) -> Verdict:
    """Salesforce's signals: 401 means refresh; the limit 403 ends the stream (no retry, no refresh).

    The org's daily API limit (``TotalRequests``) is the whole source's: no other stream is read this run. The
    same code for the org's concurrent long-running requests clears as those finish, so it ends this stream only.
    """
    status = response.status_code
    if status < 300:
        return OK
    code = _error_code(response)
    if status == 401:
        return Verdict(Action.REFRESH_AUTH, reason=f"HTTP 401 {code}")
    if status == 403 and code == "REQUEST_LIMIT_EXCEEDED" and CONCURRENT_LIMIT in _error_message(response):
        return Verdict(Action.STOP, reason="concurrent long-running request limit exceeded (REQUEST_LIMIT_EXCEEDED "
                                           f"{CONCURRENT_LIMIT})")
    if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
        return Verdict(Action.STOP, reason="daily API request limit exceeded (REQUEST_LIMIT_EXCEEDED)",
                       source_wide=True)
    if status == 400 and code == "QUERY_TIMEOUT":  # read again in narrower slices (connectors.salesforce.slices)
        return Verdict(Action.FAIL, reason="query ran too long (HTTP 400 QUERY_TIMEOUT)", kind=QUERY_TIMEOUT)
    if status in {406, 420, 429} or status >= 500:
        return Verdict(Action.RETRY, wait=retry_after_seconds(response), reason=f"HTTP {status} {code}")
    return Verdict(Action.FAIL, reason=f"HTTP {status} {code}: {excerpt(response.text, 500)}")


def _error_code(response: requests.Response) -> str:
    return str(_first_error(response).get("errorCode", ""))


def _error_message(response: requests.Response) -> str:
    return str(_first_error(response).get("message", ""))


def _first_error(response: requests.Response) -> dict:
    """The first error of Salesforce's JSON array of errors; empty when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}


def _require_exposed(stream: Stream, unexposed: tuple[str, ...]) -> None:
    """Raise a `SourceError` when `unexposed` holds a field the sync of `stream` cannot do without: its primary key
    (rows could not be merged), its cursor (nothing could be read incrementally) or its deleted flag (deleted
    records would load as live ones)."""
    key_source = next(f.source for f in stream.fields if f.column == stream.primary_key)
    flag = stream.options.get("deleted_flag")
    flag_source = next((f.source for f in stream.fields if f.column == flag), None)
    required = {key_source: "primary key", stream.cursor: "cursor", flag_source: "deleted flag"}
    for name in unexposed:
        role = required.get(name)
        if role:
            object_name = stream.options["object"]
            raise SourceError(f"salesforce {object_name}: describe does not report {name}, the {role} of stream "
                              f"{stream.name}, so the integration user cannot read it (field-level security) and "
                              f"{object_name} cannot be synced without it: grant the integration user read access to "
                              f"{object_name}.{name}")


def _query_decoder(stream: Stream) -> PageDecoder:
    """The decoder of a ``queryAll`` answer's pages of `stream`: its ``records`` (without their ``attributes``), and
    the ``done`` and ``nextRecordsUrl`` it pages with."""
    return PageDecoder(stream, "records", {"done": pa.bool_(), "nextRecordsUrl": pa.string()}, dropped=("attributes",))


def _unexposed_note(fields: tuple[str, ...]) -> str:
    """The note naming the declared fields ``describe`` does not report."""
    return f"fields not exposed to the integration user: {', '.join(fields)}"


#: The header on every REST answer with the org's API requests of the last 24 hours and its daily allocation.
LIMIT_INFO_HEADER = "Sforce-Limit-Info"
#: The share of the org's daily allocation, in percent, a sync uses at most unless told otherwise (100: no budget).
DEFAULT_API_BUDGET_PERCENT = 90
#: The setting that sets `SalesforceClient.api_budget_percent`, named in the message of a sync stopped by it.
API_BUDGET_SETTING = "SALESFORCE_API_BUDGET_PERCENT"


@dataclass(frozen=True)
class ApiUsage:
    """The org's API requests of the last 24 hours (`used`) and its daily allocation (`limit`)."""

    used: int
    limit: int

    def reaches(self, percent: int) -> bool:
        """Whether `used` is at or past `percent` % of `limit`."""
        return self.used * 100 >= self.limit * percent


def api_usage(header: str | None) -> ApiUsage | None:
    """The ``api-usage=48213/100000`` part of a ``Sforce-Limit-Info`` header; None when absent or unreadable.

    Other parts (``api-bursts=1/750``, ``per-app-api-usage=17/250(appName=…)``) are ignored.
    """
    for part in (header or "").replace(",", ";").split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() != "api-usage":
            continue
        used, _, limit = value.strip().partition("/")
        try:
            usage = ApiUsage(int(used), int(limit))
        except ValueError:
            return None
        return usage if usage.limit > 0 and usage.used >= 0 else None
    return None


@dataclass
class SalesforceClient:
    """Reads Salesforce objects page by page; knows nothing of Dagster or the warehouse."""

    login_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    api_version: str = API_VERSION
    policy: RetryPolicy | None = None
    #: The narrowest slice of SystemModstamp a read that ran too long is halved down to (connectors.salesforce.slices).
    min_slice: timedelta = MIN_SLICE
    #: The share of the org's daily API allocation, in percent, at which a sync stops (100: no budget).
    api_budget_percent: int = DEFAULT_API_BUDGET_PERCENT
    #: Where a refresh token the org rotated is kept for the next run (connected apps with rotation enabled).
    token_store: RefreshTokenStore | None = field(default=None, repr=False)
    _newest_usage: ApiUsage | None = field(default=None, init=False, repr=False)
    _answered: threading.local = field(default_factory=threading.local, init=False, repr=False)
    _usage_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    #: Per stream name, the declared fields its last `discover` left out: ``describe`` did not report them.
    _unexposed: dict[str, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if type(self.api_budget_percent) is not int or not 1 <= self.api_budget_percent <= 100:
            raise ValueError(f"api_budget_percent must be a whole number from 1 to 100 ({API_BUDGET_SETTING}), "
                             f"not {self.api_budget_percent!r}")
        self.auth = OAuthRefreshToken(
            token_url=f"{self.login_url.rstrip('/')}/services/oauth2/token",
            client_id=self.client_id,
            client_secret=self.client_secret,
            refresh_token=self.refresh_token,
            token_store=self.token_store,
        )
        self.http = HttpClient(
            source="salesforce",
            classify=self._classify,
            authorize=lambda headers: headers.update(Authorization=f"Bearer {self.auth.access_token()}"),
            on_auth_failure=self.auth.invalidate,
            policy=self.policy or RetryPolicy(),
        )

    @property
    def instance_url(self) -> str:
        """The org's own host, from the token response."""
        self.auth.access_token()
        return self.auth.token_response["instance_url"].rstrip("/")

    def check(self) -> dict:
        """Authenticate and read the org's API limits: a cheap proof that the credentials work."""
        return self.http.get_json(f"{self.instance_url}/services/data/{self.api_version}/limits")

    def discover(self, stream: Stream) -> Stream:
        """The stream as ``describe`` shows its object to the integration user: plus every queryable field it reports
        that the stream does not declare (kept as new columns), less every declared field it does not report.

        A declared field ``describe`` leaves out is one the org lacks (``CurrencyIsoCode`` without multi-currency)
        or field-level security hides from the user; selecting it would fail the whole query (``INVALID_FIELD``).
        It is left out of the read, so its column gets no value, and named in a warning and in :meth:`stream_notes`.
        Names compare case-insensitively, as Salesforce's do. A field the sync cannot do without (the primary key,
        the cursor, the deleted flag) raises a `SourceError` naming it instead.
        """
        self._stop_at_budget(self._newest_usage)
        url = f"{self.instance_url}/services/data/{self.api_version}/sobjects/{stream.options['object']}/describe"
        described = self.http.get_json(url)["fields"]
        exposed = {f["name"].lower() for f in described}
        unexposed = tuple(dict.fromkeys(f.source for f in stream.fields if f.source.lower() not in exposed))
        _require_exposed(stream, unexposed)
        self._unexposed[stream.name] = unexposed
        if unexposed:
            log.warning(f"salesforce {stream.options['object']}: {_unexposed_note(unexposed)}; they are left out of "
                        f"the read of {stream.name} and their columns get no value (field-level security hides them "
                        "from describe, or the org lacks them): grant the integration user read access to load them")
        declared = {f.source.lower() for f in stream.fields}
        extra = [
            Field(snake_case(f["name"]), f["name"], _DESCRIBE_TYPES.get(f["type"], "string"))
            for f in described
            if f["name"].lower() not in declared and f["type"] not in _COMPOUND_TYPES
        ]
        # Columns are chosen beside every declared field, the unexposed ones too: their columns hold the rows loaded
        # while they were exposed, and a discovered look-alike (``Currency_Iso_Code`` while ``CurrencyIsoCode`` is
        # hidden) must not write into them. Only then are the unexposed fields left out of the read.
        discovered = stream.with_fields(extra)
        return replace(discovered, fields=tuple(f for f in discovered.fields if f.source.lower() in exposed))

    def stream_notes(self, stream: Stream) -> list[str]:
        """What the read of `stream` leaves out and why: the declared fields its last :meth:`discover` found not
        exposed to the integration user."""
        unexposed = self._unexposed.get(stream.name)
        return [_unexposed_note(unexposed)] if unexposed else []

    def source_total(self, stream: Stream) -> int:
        """How many records of the stream's object the org holds, deleted ones excluded: ``SELECT COUNT()``.

        Counted through ``query``, not ``queryAll``: the recycle bin is purged after about 15 days, so a
        count with deleted records would drift away from a raw table that keeps every delete it saw.
        """
        self._stop_at_budget(self._newest_usage)
        soql = f"SELECT COUNT() FROM {stream.options['object']}"
        url = f"{self.instance_url}/services/data/{self.api_version}/query?q={quote(soql, safe='')}"
        return int(self.http.get_json(url)["totalSize"])

    def soql(self, stream: Stream, since: datetime | None) -> str:
        """The incremental query of a stream: its fields, modified at or after :meth:`read_start`, oldest first."""
        return self.soql_between(stream, self.read_start(stream, since), None)

    def soql_between(self, stream: Stream, lo: datetime | None, hi: datetime | None) -> str:
        """The query of a stream's records modified at or after `lo` and before `hi` (either bound may be None: no
        bound), its fields, oldest first (in cursor order, for a stream with a cursor)."""
        fields = ", ".join(dict.fromkeys(f.source for f in stream.fields))
        query = f"SELECT {fields} FROM {stream.options['object']}"
        bounds = [f"{stream.cursor} {op} {soql_datetime(bound)}" for op, bound in ((">=", lo), ("<", hi))
                  if bound is not None]
        if bounds:
            query += " WHERE " + " AND ".join(bounds)
        if stream.cursor:
            query += f" ORDER BY {stream.cursor} ASC"
        return query

    @staticmethod
    def read_start(stream: Stream, since: datetime | None) -> datetime | None:
        """The cursor value a read from `since` starts at: `since` less the stream's lookback (records stamped while
        the last read ran); None for a first read, or for a stream without a cursor (read whole)."""
        if since is None or not stream.cursor:
            return None
        return since - timedelta(seconds=stream.lookback_seconds)

    def edge_stamp(self, stream: Stream, newest: bool) -> datetime | None:
        """The oldest (or `newest`) cursor value of the stream's object, deleted records included; None when it has
        no record. An index walk that stops at the first row (``ORDER BY … LIMIT 1``): fast where a scan is not."""
        soql = (f"SELECT {stream.cursor} FROM {stream.options['object']} "
                f"ORDER BY {stream.cursor} {'DESC' if newest else 'ASC'} LIMIT 1")
        url = f"{self.instance_url}/services/data/{self.api_version}/queryAll?q={quote(soql, safe='')}"
        records = self.http.get_json(url)["records"]
        return parse_datetime(records[0][stream.cursor]) if records else None

    def read_pages(self, stream: Stream, since: datetime | None = None) -> Iterator[Page]:
        """Yield the stream's records page by page through ``queryAll``, deleted and merged ones included.

        From the second page on, a page Arrow can read is converted straight from its body (:mod:`connectors.pages`).
        A query Salesforce refuses as running too long (``QUERY_TIMEOUT``) is read in slices of the cursor instead
        (:mod:`connectors.salesforce.slices`).
        """
        decode = _query_decoder(stream)
        return SlicedRead(self, stream, since, decode).pages()

    def source_keys(self, stream: Stream) -> Iterator[list[str]]:
        """Yield, page by page, the primary key (``Id``) of every record of the stream's object that ``queryAll``
        still returns: live records, and deleted or merged ones still in the recycle bin.

        A warehouse row whose id the whole list lacks was hard-deleted at the source (its recycle bin purged after
        about 15 days or emptied, or a Bulk ``hardDelete``): no read will ever show its delete. A soft-deleted record
        is listed, as its reads show it ``IsDeleted``. Only a list read to its end says what is missing: a listing
        that stops early raises (`SourceLimitReached` at the API budget, as :meth:`query_pages` does, or another
        `SourceError`), and the ids yielded before it are not the whole. An id may come twice, never missing.

        Cheap: ``SELECT Id`` in no order and no describe, pages of up to 2,000 ids read by Arrow from the body. When
        Salesforce refuses the query at once as running too long (``QUERY_TIMEOUT``), the keys of a stream with a
        cursor are listed in slices of it instead, then those stamped past the slices: a record edited during the
        listing is not missed (:meth:`_source_keys_in_slices`).
        """
        keys = key_stream(stream)
        key = keys.fields[0]
        decode = _query_decoder(keys)
        listed = False
        try:
            for page in self.query_pages(f"SELECT {key.source} FROM {stream.options['object']}", decode):
                listed = True
                yield listed_keys(keys, page, f"salesforce {stream.options['object']}")
        except SourceError as exc:
            # A refusal after pages were handed over is the caller's: slices would list those ids again.
            if exc.kind != QUERY_TIMEOUT or listed or not stream.cursor:
                raise
            log.warning(f"salesforce {stream.options['object']}: listing its keys ran too long (QUERY_TIMEOUT); "
                        f"listing them in slices of {stream.cursor}")
            yield from self._source_keys_in_slices(stream, key)

    def _source_keys_in_slices(self, stream: Stream, key: Field) -> Iterator[list[str]]:
        """The keys of :meth:`source_keys`, read as :class:`SlicedRead` reads a stream: its key and cursor only,
        the whole object first, then in ever narrower slices of the cursor while a query runs too long.

        The slices end where the slicing began, and are read oldest first: a record edited during the listing is
        stamped past them, and one whose slice was not read yet would be in none, then flagged hard-deleted. So once
        they are read, the ids stamped at or after their end are listed too: one open-ended query, itself read in
        slices if it runs too long, and so on until one is answered whole. An edited record is listed by its old
        stamp, its new one, or both (an id may come twice, never missing).
        """
        cursor = next(f for f in stream.fields if f.source == stream.cursor)
        sliced = replace(stream, fields=(key, cursor), lookback_seconds=0)  # each range starts where the last ended
        decode = _query_decoder(sliced)
        since = None
        while True:
            read = SlicedRead(self, sliced, since, decode)
            for page in read.pages():
                yield listed_keys(sliced, page, f"salesforce {stream.options['object']}")
            if read.slices_end is None:  # one query, answered whole: its rows as it found them, none missed
                return
            since = read.slices_end

    def query_pages(self, soql: str, decode: PageDecoder) -> Iterator[Page]:
        """The pages of one ``queryAll`` query, following ``nextRecordsUrl`` (the next pages sent ahead).

        Once the org's API usage reaches the budget (`api_budget_percent`), the read ends after the page whose answer
        reported it, or before the query when an earlier answer of the run did (:meth:`_stop_at_budget`).
        """
        url = f"{self.instance_url}/services/data/{self.api_version}/queryAll?q={quote(soql, safe='')}"
        self._stop_at_budget(self._newest_usage)
        while url:
            page = self.http.get_json(url, guess_next=self._next_records_request, decode=decode, chain=True)
            yield page
            next_url = page.envelope["nextRecordsUrl"]
            url = f"{self.instance_url}{next_url}" if next_url and not page.envelope["done"] else None
            if url:  # the usage the answer of the page just handed over reported
                self._stop_at_budget(getattr(self._answered, "usage", None))

    def _next_records_request(self, body: bytes) -> PlannedRequest | None:
        """The read of the page after this raw ``queryAll`` body: its ``nextRecordsUrl``, sent ahead."""
        if self._over_budget(self._newest_usage):  # the read stops after this page: send nothing more
            return None
        next_url = string_after_key(body, "nextRecordsUrl")
        return PlannedRequest("GET", f"{self.instance_url}{next_url}") if next_url else None

    def _classify(self, response: requests.Response) -> Verdict:
        """:func:`classify`, noting the org's API usage the answer reports (see :meth:`_note_usage`)."""
        self._note_usage(response)
        return classify(response)

    def _note_usage(self, response: requests.Response) -> None:
        """Keep the usage of ``Sforce-Limit-Info``: the highest any answer reported, and the one of the answer this
        thread classified last (the one its request returns: pages read ahead are classified in another thread)."""
        usage = api_usage(response.headers.get(LIMIT_INFO_HEADER))
        self._answered.usage = usage
        if usage is None:
            return
        with self._usage_lock:
            if self._newest_usage is None or usage.used >= self._newest_usage.used:
                self._newest_usage = usage

    def _over_budget(self, usage: ApiUsage | None) -> bool:
        """Whether `usage` reaches the budget; never without a budget (100 %) or a reported usage."""
        return usage is not None and self.api_budget_percent < 100 and usage.reaches(self.api_budget_percent)

    def _stop_at_budget(self, usage: ApiUsage | None) -> None:
        """End the read cleanly when `usage` reaches the budget: the org's allocation is shared with every other
        integration, so the sync leaves them the rest. A limit of the whole source: no other stream is read."""
        if self._over_budget(usage):
            raise SourceLimitReached(
                f"salesforce: the org has used {usage.used:,} of its {usage.limit:,} daily API requests "
                f"({usage.used / usage.limit:.0%}), the budget of {self.api_budget_percent}% this sync may use "
                f"({API_BUDGET_SETTING}); ending here, the next run resumes",
                kind="api_budget", source_wide=True)
