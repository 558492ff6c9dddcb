"""Google Ads REST client: OAuth refresh, ``developer-token`` / ``login-customer-id`` headers, GAQL via
``searchStream``, and Google's own throttle signal (``quotaErrorDetails.retryDelay``).

Accounts are those ``listAccessibleCustomers`` names (the ones the OAuth user reaches directly) and, under each
manager (MCC) among them, every enabled client account at any level (``FROM customer_client``): those are read
with that manager's ``login-customer-id``, without which Google refuses them (``USER_PERMISSION_DENIED``).

An account that is not enabled (canceled, suspended, closed) is still listed by ``listAccessibleCustomers``,
but Google refuses every query on it, its ``customer`` row included, with ``CUSTOMER_NOT_ENABLED``. That refusal
of the first query on an account (its ``customers`` row) skips the account with a warning and a note (:meth:`notes`,
shown in the raw assets' metadata); any other error, or that one on a later query, still fails the read.

``searchStream`` answers with a JSON array of batches and no pagination: the end of the array is the
end of the data. A failure mid-stream arrives as an ``error`` element inside that array, possibly
under HTTP 200, so every answer is checked for one before it is used.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime

import requests

from connectors.ad_metrics import (
    Clock,
    MetricWindow,
    local_today,
    plan_reads,
    read_in_chunks,
)
from connectors.auth import OAuthRefreshToken
from connectors.errors import SourceError
from connectors.google_ads.stamps import MetricStamp
from connectors.google_ads.streams import CUSTOMERS
from connectors.http import OK, Action, HttpClient, PlannedRequest, RetryPolicy, Verdict
from connectors.loader_state import loader_state
from connectors.naming import snake_case
from connectors.pages import Page, PageDecoder
from connectors.read_ahead import GuessNext, planned_sequence
from connectors.redact import excerpt, get_logger, register_secret
from connectors.schema import Field, Stream

BASE_URL = "https://googleads.googleapis.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"
API_VERSION = "v26"
#: The `kind` of the error Google answers any query on a customer that is not enabled (canceled, suspended, closed).
CUSTOMER_NOT_ENABLED = "customer_not_enabled"
#: The client accounts under a manager, itself included at level 0 (Google's documented account hierarchy query).
CUSTOMER_CLIENTS = ("SELECT customer_client.id, customer_client.manager, customer_client.status, "
                    "customer_client.level, customer_client.currency_code, customer_client.time_zone "
                    "FROM customer_client WHERE customer_client.status = 'ENABLED'")

log = get_logger("connectors.google_ads")


def classify(response: requests.Response) -> Verdict:
    """Google's signals, from the HTTP status or from an ``error`` element inside a 200 stream.

    A quota error (429 ``RESOURCE_EXHAUSTED``) is a throttle of the whole source: its scope is the developer token
    or a customer, and every stream reads every customer. When its ``retryDelay`` is longer than a run waits (the
    daily developer-token quota), or it outlasts the retries, it ends the stream cleanly and the source's
    remaining streams are left to the next run.
    """
    error = _error_of(response)
    if error is None:
        return OK
    status = response.status_code if response.status_code >= 300 else int(error.get("code") or 500)
    reason = f"HTTP {status} {error.get('status', '')} {_failure_code(error)}: {_failure_message(error)}".strip()
    if status == 401:
        return Verdict(Action.REFRESH_AUTH, reason=reason)
    if status == 429:
        return Verdict(Action.RETRY, wait=retry_delay(error), reason=reason, throttle=True, source_wide=True)
    if status >= 500:
        return Verdict(Action.RETRY, reason=reason)
    return Verdict(Action.FAIL, reason=reason, kind=_failure_kind(error))


def _failure_kind(error: dict) -> str:
    """`CUSTOMER_NOT_ENABLED` when that refusal is the error's only failure, else no kind."""
    codes = [failure.get("errorCode") for failure in _failures(error)]
    return CUSTOMER_NOT_ENABLED if codes == [{"authorizationError": "CUSTOMER_NOT_ENABLED"}] else ""


def _error_of(response: requests.Response) -> dict | None:
    """The ``error`` object of an answer (bare, or the first one in a stream's array), else None."""
    if response.status_code < 300 and b'"error"' not in response.content:
        return None  # the common case, decided without decoding the body twice
    try:
        body = json.loads(response.content)
    except ValueError:
        if response.status_code < 300:
            return None
        return {"code": response.status_code, "message": excerpt(response.text, 300)}
    elements = body if isinstance(body, list) else [body]
    for element in elements:
        if isinstance(element, dict) and isinstance(element.get("error"), dict):
            return element["error"]
    return {"code": response.status_code} if response.status_code >= 300 else None


def _failures(error: dict) -> list[dict]:
    return [failure for detail in error.get("details") or () if isinstance(detail, dict)
            for failure in detail.get("errors") or () if isinstance(failure, dict)]


def _failure_code(error: dict) -> str:
    codes = [json.dumps(f.get("errorCode"), sort_keys=True) for f in _failures(error) if f.get("errorCode")]
    return ", ".join(codes)


def _failure_message(error: dict) -> str:
    messages = [str(f.get("message")) for f in _failures(error) if f.get("message")]
    return "; ".join(messages) or excerpt(error.get("message", ""), 300)


def retry_delay(error: dict) -> float | None:
    """Seconds from ``quotaErrorDetails.retryDelay`` (a protobuf Duration such as ``"37s"``), if given."""
    for failure in _failures(error):
        delay = ((failure.get("details") or {}).get("quotaErrorDetails") or {}).get("retryDelay")
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                continue
    return None


def gaql_field(source: str) -> str:
    """The GAQL name of a response path: ``adGroup.cpcBidMicros`` → ``ad_group.cpc_bid_micros``."""
    return ".".join(snake_case(part) for part in source.split("."))


def gaql(stream: Stream, first: date | None = None, last: date | None = None) -> str:
    """The query of a stream: its platform fields from its resource, between two days for metrics."""
    fields = dict.fromkeys(gaql_field(f.source) for f in stream.fields if not f.source.startswith("_"))
    query = f"SELECT {', '.join(fields)} FROM {stream.options['resource']}"
    if first is not None and last is not None:
        query += f" WHERE segments.date BETWEEN '{first.isoformat()}' AND '{last.isoformat()}'"
    return query


@dataclass
class GoogleAdsClient:
    """Reads Google Ads customers page by page; knows nothing of Dagster or the warehouse.

    `customer_ids` limits the sync to those customers (default: every customer the user can access,
    directly or through a manager account); `login_customer_id` is the manager account to reach the
    configured or directly accessible customers through, if any. Clients found under a manager are
    reached through that manager.
    """

    client_id: str
    client_secret: str
    refresh_token: str
    developer_token: str
    base_url: str = BASE_URL
    token_url: str = TOKEN_URL
    api_version: str = API_VERSION
    login_customer_id: str = ""
    customer_ids: tuple[str, ...] = ()
    window: MetricWindow = field(default_factory=MetricWindow)
    clock: Clock | None = None  # None: the platform's own clock (see HttpClient.server_now)
    policy: RetryPolicy | None = None
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.login_customer_id = self.login_customer_id.replace("-", "").strip()
        self.customer_ids = tuple(c.replace("-", "").strip() for c in self.customer_ids if c.strip())
        register_secret(self.developer_token)
        self.auth = OAuthRefreshToken(token_url=self.token_url, client_id=self.client_id,
                                      client_secret=self.client_secret, refresh_token=self.refresh_token)
        self.http = HttpClient(source="google_ads", classify=classify, authorize=self._authorize,
                               on_auth_failure=self.auth.invalidate, policy=self.policy or RetryPolicy(),
                               sleep=self.sleep)
        self._customers: dict[str, dict] | None = None
        #: The ``login-customer-id`` of each customer's requests, where it is not `login_customer_id`.
        self._logins: dict[str, str] = {}
        self._notes: list[str] = []

    def _authorize(self, headers: dict) -> None:
        headers["Authorization"] = f"Bearer {self.auth.access_token()}"
        headers["developer-token"] = self.developer_token

    def _login_headers(self, customer_id: str | None = None) -> dict:
        """The ``login-customer-id`` header of a request on `customer_id` (on no customer: the configured one)."""
        login = self._logins.get(customer_id, self.login_customer_id)
        return {"login-customer-id": login} if login else {}

    def check(self) -> dict:
        """List the accessible customers: a cheap proof that the credentials and developer token work."""
        return self.http.get_json(f"{self.base_url}/{self.api_version}/customers:listAccessibleCustomers",
                                  headers=self._login_headers())

    def customers(self) -> dict[str, dict]:
        """Every synced customer's row of the ``customers`` stream (currency, time zone), read once per client.

        Without configured `customer_ids`: the directly accessible customers, then the enabled non-manager
        clients under each manager among them that are not synced already. A customer Google refuses as not
        enabled is left out, with a warning naming it.
        """
        if self._customers is None:
            self._customers = {}
            if self.customer_ids:
                self._add_customers(self.customer_ids)
            else:
                self._discover_customers()
        return self._customers

    def notes(self) -> list[str]:
        """What the reads so far left out and why, one line each (the accounts skipped as not enabled)."""
        return list(self._notes)

    def _discover_customers(self) -> None:
        """The directly accessible customers, then the clients under the managers among them."""
        self._add_customers([name.rsplit("/", 1)[-1] for name in self.check().get("resourceNames", [])])
        managers = [cid for cid, row in self._customers.items() if row["customer"].get("manager")]
        for manager in managers:
            self._add_customers([cid for cid in self.clients_of(manager) if cid not in self._customers], login=manager)

    def clients_of(self, manager: str) -> list[str]:
        """The enabled, non-manager client accounts at every level under `manager` (``customer_client``)."""
        clients = []
        for row in self.search_stream(manager, CUSTOMER_CLIENTS):
            client = row.get("customerClient")
            if not isinstance(client, dict) or not client.get("id"):
                raise SourceError(f"google_ads: manager {manager}: a customer_client row without an id: {row!r:.200}")
            if not client.get("manager"):
                clients.append(str(client["id"]))
        return clients

    def _add_customers(self, customer_ids: Iterable[str], login: str = "") -> None:
        """Read the ``customers`` row of each customer, reached through `login` (default: the configured one);
        skip each one that is not enabled."""
        query = gaql(CUSTOMERS)
        for customer_id in customer_ids:
            if login:
                self._logins[customer_id] = login
            try:
                rows = self.search_stream(customer_id, query)
            except SourceError as error:
                if error.kind != CUSTOMER_NOT_ENABLED:
                    raise
                self._skip_not_enabled(customer_id)
                continue
            for row in rows:
                self._customers[customer_id] = row

    def _skip_not_enabled(self, customer_id: str) -> None:
        """Warn that `customer_id` is skipped because Google refuses it as not enabled.

        A warning, not an info line: the sync goes on without the account, and nothing else says so.
        """
        self._logins.pop(customer_id, None)
        reason = "its status is not ENABLED (Google answers CUSTOMER_NOT_ENABLED: canceled, suspended or closed)"
        configured = "configured " if customer_id in self.customer_ids else ""
        self._notes.append(f"{configured}customer {customer_id} skipped: not ENABLED (CUSTOMER_NOT_ENABLED)")
        if configured:
            log.warning(f"google_ads: configured customer {customer_id} skipped: {reason}; nothing is read from it "
                        "until it is enabled again or removed from customer_ids")
        else:
            log.warning(f"google_ads: customer {customer_id} skipped: {reason}")

    def discover(self, stream: Stream) -> Stream:
        """The stream with every selectable attribute of its resource that it does not declare yet.

        A GAQL answer holds only the fields the query selects, so a field Google adds never shows
        up by itself: it is found in the field catalogue (``GoogleAdsFieldService``) and selected
        from then on. Metric streams keep their declared selection (their grain and sums are fixed).
        """
        if stream.options["kind"] == "metrics":
            return stream
        resource = stream.options["resource"]
        query = (f"SELECT name, category, data_type, selectable WHERE name LIKE '{resource}.%' "
                 "AND category = 'ATTRIBUTE'")
        answer = self.http.request_json("POST", f"{self.base_url}/{self.api_version}/googleAdsFields:search",
                                        json={"query": query}, headers=self._login_headers())
        declared = {gaql_field(spec.source) for spec in stream.fields}
        extra = []
        for entry in answer.get("results", ()):
            name = entry.get("name") or ""
            if not name.startswith(f"{resource}.") or not entry.get("selectable") or name in declared:
                continue
            attribute = name.split(".", 1)[1]
            source = ".".join(_camel(part) for part in name.split("."))
            extra.append(Field(attribute, source, catalogue_column_type(attribute, entry.get("dataType"))))
        return stream.with_fields(extra)

    def read_pages(self, stream: Stream, since: datetime | None = None) -> Iterator[list[dict]]:
        """Yield the stream's rows: entities whole, metrics over the restatement window in date chunks.

        The loader's state (the per-account cursors) is taken here, when the read is asked for: the
        pages themselves may be read ahead in another thread, which sees no loader context.
        """
        return self._read(stream, since, loader_state())

    def _read(self, stream: Stream, since: datetime | None, state: MutableMapping | None) -> Iterator[list[dict]]:
        kind = stream.options["kind"]
        if kind == "customers" and stream.fields == CUSTOMERS.fields:
            yield list(self.customers().values())
            return
        if kind == "customers":  # discovered fields beyond the ones every client reads
            yield [row for customer_id in self.customers() for row in self.search_stream(customer_id, gaql(stream))]
            return
        if kind == "entity":
            queries = [(customer_id, gaql(stream)) for customer_id in self.customers()]
            guess = planned_sequence([self._search_request(*query) for query in queries])
            for customer_id, query in queries:
                yield self.search_stream(customer_id, query, guess)
            return
        todays = {
            customer_id: local_today(self.clock or self.http.server_now, row["customer"].get("timeZone") or "UTC")
            for customer_id, row in self.customers().items()
            if not row["customer"].get("manager")  # a manager has no metrics of its own (REQUESTED_METRICS_FOR_MANAGER)
        }
        chunks, cursors = plan_reads(self.window, todays, since, state)
        guess = planned_sequence([self._search_request(cid, gaql(stream, first, last))
                                  for chunk in chunks for cid, first, last in chunk])

        def read(cid: str, first: date, last: date) -> list[Page]:
            request = self._search_request(cid, gaql(stream, first, last))
            return [self.http.request_json(request.method, request.url, guess, self._metrics_decoder(stream, cid),
                                           chain=True, **request.kwargs)]

        yield from read_in_chunks(chunks, read, cursors)

    def search_stream(self, customer_id: str, query: str, guess: GuessNext | None = None) -> list[dict]:
        """Every row of one GAQL query: all batches of one ``searchStream`` answer, checked for errors.

        `guess` names the queries read next (a :func:`connectors.read_ahead.planned_sequence`): they are sent
        while this answer is decoded.
        """
        request = self._search_request(customer_id, query)
        batches = self.http.request_json(request.method, request.url, guess, chain=True, **request.kwargs)
        rows = []
        for batch in batches if isinstance(batches, list) else [batches]:
            if "error" in batch:
                raise SourceError(f"google_ads: customer {customer_id}: error inside the stream: {batch['error']}")
            rows.extend(batch.get("results", ()))
        return rows

    def _search_request(self, customer_id: str, query: str) -> PlannedRequest:
        url = f"{self.base_url}/{self.api_version}/customers/{customer_id}/googleAds:searchStream"
        return PlannedRequest("POST", url, {"json": {"query": query}, "headers": self._login_headers(customer_id)})

    def _metrics_decoder(self, stream: Stream, customer_id: str) -> PageDecoder:
        """Reads a customer's ``searchStream`` answers of `stream` as stamped pages, by Arrow where the types allow."""
        customer = self.customers()[customer_id]["customer"]
        stamped = MetricStamp.for_stream(stream, customer_id, customer.get("currencyCode"), customer.get("timeZone"))
        return PageDecoder(stream, "results", {}, stamp=stamped, batched=True)


#: Column types of the field catalogue's ``dataType`` values (ENUM, STRING, RESOURCE_NAME… stay text).
CATALOGUE_TYPES = {"INT32": "int", "INT64": "int", "DOUBLE": "float", "FLOAT": "float", "BOOLEAN": "bool",
                   "DATE": "date", "MESSAGE": "json"}


def catalogue_column_type(attribute: str, data_type: str | None) -> str:
    """The column type of a discovered attribute from its catalogue ``dataType``.

    The catalogue types date-times DATE as well (``campaign.start_date_time``: "yyyy-MM-dd HH:mm:ss", in the
    customer's time zone), which no date column holds: a ``*_date_time`` attribute is kept as the text Google
    sends, as the declared flight fields are, instead of failing every page that has one.
    """
    if data_type == "DATE" and attribute.endswith("date_time"):
        return "string"
    return CATALOGUE_TYPES.get(data_type, "string")


def _camel(snake: str) -> str:
    """``cpc_bid_micros`` → ``cpcBidMicros`` (the proto3 JSON name of a GAQL field part)."""
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)
