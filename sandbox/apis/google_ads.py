"""Google Ads API emulator (REST binding): OAuth refresh, ``customers:listAccessibleCustomers``,
``googleAds:search`` (10,000-row pages with ``nextPageToken``) and ``googleAds:searchStream``
(a JSON array of batches), queried with a GAQL subset (see :mod:`sandbox.apis.gaql`).

Follows reference/source-apis.md section 3:

* Headers: ``Authorization: Bearer``, ``developer-token`` (:data:`DEVELOPER_TOKEN`) and an
  optional ``login-customer-id`` of 10 digits without dashes.
* proto3 JSON: camelCase nested objects with a ``resourceName`` per resource, int64 as strings
  (ids, impressions, clicks, ``costMicros``), doubles as numbers (conversions), empty
  repeated fields omitted (a page with no rows has no ``results`` key).
* Rows with zero impressions are never returned when metrics or segments are selected.
* Campaign flights as API v23+ serves them: ``campaign.start_date_time`` / ``campaign.end_date_time``,
  ``"yyyy-MM-dd HH:mm:ss"`` in the customer's time zone, absent for a campaign without an end. The
  ``campaign.start_date`` / ``campaign.end_date`` that v23 removed are refused as ``UNRECOGNIZED_FIELD``.
* Errors are ``google.rpc.Status`` objects with a ``GoogleAdsFailure`` detail — bare for
  ``:search``, wrapped in a JSON array for ``:searchStream``.

Manager accounts (MCC): the optional ``accessible_customers`` object (rows ``{"customer.id": …}``) names
the customers the OAuth user reaches directly; ``listAccessibleCustomers`` returns only those, and any
other customer answers 403 ``USER_PERMISSION_DENIED`` unless ``login-customer-id`` names an accessible
manager above it. The ``customer_client_link`` object (rows ``{"customer.id": manager,
"customer_client_link.client_customer": "customers/…", "customer_client_link.status": "ACTIVE"}``)
builds the hierarchy that ``FROM customer_client`` answers (every client at every level, and the
manager itself at level 0). Without ``accessible_customers`` every customer is directly accessible
and ``login-customer-id`` is only checked for its form.

Accounts that are not enabled: a customer row whose ``customer.status`` is not ``ENABLED`` (CANCELED, SUSPENDED,
CLOSED) is still listed by ``listAccessibleCustomers`` and in its managers' ``customer_client`` rows, with its
status, but every query on it, ``FROM customer`` included, answers 403 ``PERMISSION_DENIED`` with
``authorizationError: CUSTOMER_NOT_ENABLED``, as Google answers for a canceled account. A customer the user
cannot reach answers ``USER_PERMISSION_DENIED`` whatever its status. A customer row without a status is enabled.

Settings: ``--page-size`` (``state.page_size``) shrinks search pages and stream batches for
tests; ``SANDBOX_GOOGLE_ADS_STREAM_BATCH`` sets the stream batch size alone (default 10,000).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict, deque
from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.apis._common import (
    DateIndex,
    PathAwareResponse,
    decode_cursor,
    encode_cursor,
    env_int,
    request_id,
)
from sandbox.apis.gaql import Condition, GaqlError, Query, parse
from sandbox.auth import bearer_token, credentials_match, form_fields
from sandbox.faults import FaultRule

#: The developer token the sandbox accepts in the ``developer-token`` header.
DEVELOPER_TOKEN = "sandbox-developer-token"
PAGE_SIZE = 10_000
MAX_OPEN_ANSWERS = 32
SCOPE = "https://www.googleapis.com/auth/adwords"

#: Fields every row of an entity can be asked for, beyond those found in the data.
ATTRIBUTES = {
    "customer": (
        "id",
        "descriptive_name",
        "currency_code",
        "time_zone",
        "resource_name",
        "manager",
        "status",
    ),
    "campaign": (
        "id",
        "name",
        "status",
        "advertising_channel_type",
        "resource_name",
        "start_date_time",
        "end_date_time",
        "serving_status",
        "bidding_strategy_type",
    ),
    "ad_group": ("id", "name", "status", "type", "resource_name", "campaign", "cpc_bid_micros"),
    "customer_client": (
        "client_customer",
        "currency_code",
        "descriptive_name",
        "hidden",
        "id",
        "level",
        "manager",
        "resource_name",
        "status",
        "test_account",
        "time_zone",
    ),
}
#: Fields the API no longer has (v23 replaced them by ``start_date_time`` / ``end_date_time``): a query naming one is
#: refused as UNRECOGNIZED_FIELD, even when a dataset row still carries it.
REMOVED_FIELDS = frozenset({"campaign.start_date", "campaign.end_date"})
BASE_METRICS = ("impressions", "clicks", "cost_micros", "conversions", "conversions_value")
DERIVED_METRICS = ("ctr", "average_cpc", "average_cpm", "cost_per_conversion")
DERIVED_FIELDS = {f"metrics.{name}" for name in DERIVED_METRICS}
INT64_FIELDS = {
    "customer.id",
    "campaign.id",
    "ad_group.id",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.cost_micros",
    "ad_group.cpc_bid_micros",
    "customer_client.id",
    "customer_client.level",
}
BOOLEAN_FIELDS = {"customer_client.manager", "customer_client.hidden", "customer_client.test_account"}
#: Resources each FROM resource may select fields of (besides metrics and segments).
SELECTABLE = {
    "customer": ("customer",),
    "campaign": ("campaign", "customer"),
    "ad_group": ("ad_group", "campaign", "customer"),
    "customer_client": ("customer_client", "customer"),
}
#: The dataset object that holds the daily metrics of each FROM resource.
METRIC_TABLE = {
    "customer": "campaign_metrics",
    "campaign": "campaign_metrics",
    "ad_group": "ad_group_metrics",
}
ID_FIELD = {"customer": "customer.id", "campaign": "campaign.id", "ad_group": "ad_group.id"}
DURING = {
    "TODAY": (0, 0),
    "YESTERDAY": (1, 1),
    "LAST_7_DAYS": (7, 1),
    "LAST_14_DAYS": (14, 1),
    "LAST_30_DAYS": (30, 1),
    "LAST_90_DAYS": (90, 1),
}
STATUS_MESSAGES = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: (
        "UNAUTHENTICATED",
        "Request is missing required authentication credential. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
    ),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
}


class GoogleAdsError(Exception):
    """An error answer: HTTP status, the ``errorCode`` object and the GoogleAdsError message."""

    def __init__(self, status: int, error_code: dict, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.details = details


class GoogleAdsEmulator:
    """Serves the ``google_ads`` objects of the dataset; see the module docstring."""

    name = "google_ads"
    # Meta's paths also start with "/v"; "/v{N}/customers" keeps the two apart for the fault middleware.
    path_prefixes = tuple(f"/v{n}/{p}" for n in range(1, 100) for p in ("customers", "googleAdsFields")) + ("/token",)

    def __init__(self, state) -> None:
        self.state = state
        self._issued: set[str] = set()
        self._answers: OrderedDict[tuple, list[dict]] = OrderedDict()
        # One index per metric table: a shared one would be rebuilt whenever a query reads the other table.
        self._indexes = {
            table: DateIndex(lambda row: str(row.get("customer.id")), lambda row: row.get("segments.date") or "")
            for table in set(METRIC_TABLE.values())
        }

    def prepare(self) -> None:
        """Index the metric tables by customer and date now, not in the first query after the data changed."""
        for table, index in self._indexes.items():
            index.prepare(self._table(table))

    def routes(self) -> list[Route]:
        """Token, account discovery, search and searchStream."""
        return [
            Route("/token", self.token, methods=["POST"]),
            Route("/v{version}/customers:listAccessibleCustomers", self.list_accessible_customers),
            Route("/v{version}/customers/{cid}/googleAds:search", self.search, methods=["POST"]),
            Route("/v{version}/customers/{cid}/googleAds:searchStream", self.search_stream, methods=["POST"]),
            Route("/v{version}/googleAdsFields:search", self.search_fields, methods=["POST"]),
        ]

    def fault_response(self, rule: FaultRule) -> Response:
        """429 RESOURCE_EXHAUSTED with ``retryDelay``, 503 UNAVAILABLE, or a row with a non-numeric metric."""

        def render(request: Request) -> Response:
            stream = request.url.path.endswith(":searchStream")
            version = _version_of(request.url.path)
            if rule.kind == "rate_limit":
                error = GoogleAdsError(
                    429,
                    {"quotaError": "RESOURCE_EXHAUSTED"},
                    f"Too many requests. Retry in {rule.retry_after} seconds.",
                    {
                        "quotaErrorDetails": {
                            "rateScope": "DEVELOPER",
                            "rateName": "Number of operations for basic access",
                            "retryDelay": f"{rule.retry_after}s",
                        }
                    },
                )
                return _error_response(error, version, stream)
            if rule.kind == "malformed":
                return _malformed(stream)
            body = {
                "error": {
                    "code": 503,
                    "message": "The service is currently unavailable.",
                    "status": "UNAVAILABLE",
                }
            }
            return _json([body] if stream else body, 503)

        return PathAwareResponse(render)

    async def token(self, request: Request) -> Response:
        """``POST /token`` (oauth2.googleapis.com): refresh grant → a one-hour-style access token."""
        form = await form_fields(request)
        if form.get("grant_type") != "refresh_token":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": f"Invalid grant_type: {form.get('grant_type', '')}",
                },
                400,
            )
        if not credentials_match(form):
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, 400
            )
        token = self.state.tokens.issue(self.name, prefix="ya29.sandbox-")
        self._issued.add(token)
        return JSONResponse(
            {
                "access_token": token,
                "expires_in": max(1, int(self.state.tokens.ttl_seconds) - 1),
                "scope": SCOPE,
                "token_type": "Bearer",
            }
        )

    async def list_accessible_customers(self, request: Request) -> Response:
        """``GET /v{N}/customers:listAccessibleCustomers`` → ``resourceNames`` of the directly accessible customers."""
        version = request.path_params["version"]
        if not version.isdigit():
            return _not_found()
        try:
            self._check_credentials(request)
        except GoogleAdsError as error:
            return _error_response(error, f"v{version}", stream=False)
        direct = self._directly_accessible()
        names = [f"customers/{row['customer.id']}" for row in self._table("customer")
                 if direct is None or str(row["customer.id"]) in direct]
        return _json({"resourceNames": names})

    async def search_fields(self, request: Request) -> Response:
        """``POST /v{N}/googleAdsFields:search`` (GoogleAdsFieldService): the field catalogue, queried in GAQL
        without a FROM clause, e.g. ``SELECT name, category, data_type, selectable WHERE name LIKE 'campaign.%'``.
        """
        version = request.path_params["version"]
        if not version.isdigit():
            return _not_found()
        try:
            self._check_credentials(request)
            try:
                body = await request.json()
            except ValueError:
                body = None
            text = body.get("query", "") if isinstance(body, dict) else ""
            # The catalogue takes no FROM clause; naming one lets the shared parser read the rest.
            clause = re.search(r"(?i)\s(WHERE|ORDER|LIMIT)\b", text)
            at = clause.start() if clause else len(text)
            query = parse(f"{text[:at]} FROM google_ads_field{text[at:]}")
            catalogue = self._field_catalogue()
            for name in query.referenced():
                if name not in FIELD_ATTRIBUTES:
                    raise GaqlError("UNRECOGNIZED_FIELD", f"Unrecognized field in the query: '{name}'.")
            rows = [row for row in catalogue if all(c.matches(row.get(c.field)) for c in query.conditions)]
            if query.limit is not None:
                rows = rows[: query.limit]
        except GaqlError as error:
            return _error_response(GoogleAdsError(400, {"queryError": error.code}, str(error)), f"v{version}", False)
        except GoogleAdsError as error:
            return _error_response(error, f"v{version}", stream=False)
        results = [{"resourceName": f"googleAdsFields/{row['name']}",
                    **{_camel(name): row[name] for name in query.fields}} for row in rows]
        return _json({"results": results, "totalResultsCount": str(len(results))} if results else {})

    def _field_catalogue(self) -> list[dict]:
        """Every field the sandbox can select, typed from the data: ``name``, ``category``, ``data_type``, …"""
        samples: dict[str, object] = {}
        for obj in ("customer", "campaign", "ad_group"):
            for row in self._table(obj):
                for name, value in row.items():
                    if samples.get(name) is None:
                        samples[name] = value
        rows = []
        for name in sorted(self._known_fields()):
            prefix = name.split(".", 1)[0]
            category = {"metrics": "METRIC", "segments": "SEGMENT"}.get(prefix, "ATTRIBUTE")
            rows.append({"name": name, "category": category, "selectable": True, "filterable": True,
                         "data_type": _data_type(name, samples.get(name))})
        return rows

    async def search(self, request: Request) -> Response:
        """``POST …/googleAds:search`` — one page of rows and a ``nextPageToken`` unless it is the last."""
        return await self._serve(request, stream=False)

    async def search_stream(self, request: Request) -> Response:
        """``POST …/googleAds:searchStream`` — every row, as a JSON array of batches."""
        return await self._serve(request, stream=True)

    async def _serve(self, request: Request, stream: bool) -> Response:
        version = request.path_params["version"]
        if not version.isdigit():
            return _not_found()
        try:
            body = await self._checked_body(request)
            cid, query = request.path_params["cid"], parse(body.get("query", ""))
            if stream:
                return self._stream_response(query, self._select(cid, query))
            key = (cid, body.get("query"))
            # A page token continues the answer computed for the first page, as a server-side cursor would.
            rows = self._answers.get(key) if body.get("pageToken") else None
            if rows is None:
                rows = self._answers[key] = self._select(cid, query)
                while len(self._answers) > MAX_OPEN_ANSWERS:
                    self._answers.popitem(last=False)
            return self._page_response(cid, body, query, rows)
        except GaqlError as error:
            failure = GoogleAdsError(400, {"queryError": error.code}, str(error))
            return _error_response(failure, f"v{version}", stream)
        except GoogleAdsError as error:
            return _error_response(error, f"v{version}", stream)

    async def _checked_body(self, request: Request) -> dict:
        self._check_credentials(request)
        login = request.headers.get("login-customer-id")
        if login is not None and not re.fullmatch(r"\d{10}", login):
            raise GoogleAdsError(
                400,
                {"headerError": "INVALID_LOGIN_CUSTOMER_ID"},
                f"The login customer id header '{login}' could not be validated.",
            )
        cid = request.path_params["cid"]
        if not re.fullmatch(r"\d{10}", cid):
            raise GoogleAdsError(
                400, {"requestError": "INVALID_CUSTOMER_ID"}, f"Invalid customer ID '{cid}'."
            )
        customer = next((row for row in self._table("customer") if str(row.get("customer.id")) == cid), None)
        if customer is None or not self._may_access(cid, login):
            raise GoogleAdsError(
                403,
                {"authorizationError": "USER_PERMISSION_DENIED"},
                "User doesn't have permission to access customer. Note: If you're accessing a client "
                "customer, the manager's customer id must be set in the 'login-customer-id' header. See "
                "https://developers.google.com/google-ads/api/docs/concepts/call-structure#cid",
            )
        if _status_of(customer) != "ENABLED":  # checked after access, so a stranger's status stays hidden
            raise GoogleAdsError(
                403,
                {"authorizationError": "CUSTOMER_NOT_ENABLED"},
                "The customer can't be used because it isn't enabled.",
            )
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise GoogleAdsError(400, {"requestError": "BAD_RESOURCE_ID"}, "Invalid JSON payload received.")
        if "pageSize" in body:
            raise GoogleAdsError(
                400,
                {"requestError": "PAGE_SIZE_NOT_SUPPORTED"},
                "Setting the page size is not supported. Search Responses will have fixed page size "
                f"of '{PAGE_SIZE}' rows.",
            )
        return body

    def _directly_accessible(self) -> set[str] | None:
        """The customers the OAuth user reaches directly, or None when the dataset says all of them."""
        rows = self._table("accessible_customers")
        return {str(row.get("customer.id")) for row in rows} if rows else None

    def _may_access(self, cid: str, login: str | None) -> bool:
        """Whether a request on `cid` with this ``login-customer-id`` is allowed (the login defaults to `cid`)."""
        direct = self._directly_accessible()
        if direct is None:
            return True
        login = login or cid
        return login in direct and (login == cid or cid in dict(self._hierarchy(login)))

    def _hierarchy(self, manager: str) -> list[tuple[str, int]]:
        """Every customer under `manager` through active links, with its level (the manager itself at 0)."""
        children = self._client_links()
        levels, queue = {manager: 0}, deque([manager])
        while queue:  # breadth first: a client reachable on two paths takes the shorter one
            parent = queue.popleft()
            for child in children.get(parent, ()):
                if child not in levels:
                    levels[child] = levels[parent] + 1
                    queue.append(child)
        return list(levels.items())

    def _client_links(self) -> dict[str, list[str]]:
        """Each manager's direct clients, through its ``ACTIVE`` links."""
        children: dict[str, list[str]] = {}
        for link in self._table("customer_client_link"):
            if (link.get("customer_client_link.status") or "ACTIVE") == "ACTIVE":
                client = str(link.get("customer_client_link.client_customer", "")).rsplit("/", 1)[-1]
                children.setdefault(str(link.get("customer.id")), []).append(client)
        return children

    def _check_credentials(self, request: Request) -> None:
        token = bearer_token(request.headers)
        if not self.state.tokens.is_valid(self.name, token):
            expired = token in self._issued
            raise GoogleAdsError(
                401,
                {"authenticationError": "OAUTH_TOKEN_EXPIRED" if expired else "OAUTH_TOKEN_INVALID"},
                "Oauth token is expired." if expired else "Oauth token is invalid.",
            )
        developer_token = request.headers.get("developer-token")
        if not developer_token:
            raise GoogleAdsError(
                400,
                {"requestError": "DEVELOPER_TOKEN_PARAMETER_MISSING"},
                "developer-token parameter is missing.",
            )
        if developer_token != DEVELOPER_TOKEN:
            raise GoogleAdsError(
                401, {"authenticationError": "DEVELOPER_TOKEN_INVALID"}, "The developer token is not valid."
            )

    # -- query execution ---------------------------------------------------------------------

    def _select(self, cid: str, query: Query) -> list[dict]:
        """The flat rows (GAQL path → raw value) answering `query`, filtered, ordered and limited."""
        self._validate(query)
        conditions = [self._resolve_during(c) for c in query.conditions]
        since, until = _date_bounds(conditions)
        segmented = "segments.date" in query.fields
        if segmented and (since is None or until is None):
            raise GaqlError(
                "EXPECTED_FILTERS_ON_DATE_RANGE",
                "Error in query: a finite date range filter is required when segments.date is selected.",
            )
        # Date conditions pick the daily rows before they are summed; the rest filter the answer rows.
        on_date = [c for c in conditions if c.field == "segments.date"]
        others = [c for c in conditions if c.field != "segments.date"]
        if any(f.startswith(("metrics.", "segments.")) for f in query.referenced()):
            rows = self._metric_rows(cid, query.resource, (since, until, on_date), segmented)
        else:
            rows = self._entity_rows(cid, query.resource)
        rows = [row for row in rows if all(c.matches(_value(row, c.field)) for c in others)]
        for name, descending in reversed(query.order_by):
            rows.sort(key=lambda row, name=name: _sort_key(_value(row, name)), reverse=descending)
        return rows[: query.limit] if query.limit else rows

    def _validate(self, query: Query) -> None:
        if query.resource not in SELECTABLE:
            raise GaqlError(
                "BAD_RESOURCE_TYPE_IN_FROM_CLAUSE",
                f"Error in query: resource '{query.resource}' is not supported by the sandbox in FROM.",
            )
        known = self._known_fields()
        for name in query.referenced():
            prefix = name.split(".", 1)[0]
            if name not in known:
                raise GaqlError("UNRECOGNIZED_FIELD", f"Unrecognized field in the query: '{name}'.")
            if prefix in ("metrics", "segments") and query.resource not in METRIC_TABLE:
                raise GaqlError(
                    {"metrics": "PROHIBITED_METRIC_IN_SELECT_OR_WHERE_CLAUSE",
                     "segments": "PROHIBITED_SEGMENT_IN_SELECT_OR_WHERE_CLAUSE"}[prefix],
                    f"Error in query: '{name}' cannot be selected with FROM {query.resource}.",
                )
            if prefix not in ("metrics", "segments") + SELECTABLE[query.resource]:
                raise GaqlError(
                    "PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE",
                    f"Error in query: '{name}' cannot be selected with FROM {query.resource}.",
                )

    def _known_fields(self) -> set[str]:
        known = {f"{resource}.{name}" for resource, names in ATTRIBUTES.items() for name in names}
        known |= {f"metrics.{name}" for name in BASE_METRICS + DERIVED_METRICS} | {"segments.date"}
        for obj in ("customer", "campaign", "ad_group"):  # entities are few: every field any of them carries
            for row in self._table(obj):
                known.update(row)
        for row in self._table("campaign_metrics")[:50]:
            known.update(row)
        return known - REMOVED_FIELDS

    def _resolve_during(self, condition: Condition) -> Condition:
        if condition.op != "DURING":
            return condition
        if condition.field != "segments.date" or condition.values[0] not in DURING | {
            "THIS_MONTH": 0,
            "LAST_MONTH": 0,
        }:
            raise GaqlError(
                "INVALID_VALUE_WITH_DURING_OPERATOR",
                f"Error in query: invalid DURING value {condition.values[0]}.",
            )
        today = self.state.dataset.clock.date()
        constant = condition.values[0]
        if constant == "THIS_MONTH":
            start, end = today.replace(day=1), today
        elif constant == "LAST_MONTH":
            end = today.replace(day=1) - timedelta(days=1)
            start = end.replace(day=1)
        else:
            back, forward = DURING[constant]
            start, end = today - timedelta(days=back), today - timedelta(days=forward)
        return Condition(condition.field, "BETWEEN", (start.isoformat(), end.isoformat()))

    def _entity_rows(self, cid: str, resource: str) -> list[dict]:
        if resource == "customer_client":
            return self._customer_client_rows(cid)
        parents = self._parents()
        rows = []
        for row in self._table(resource):
            if str(row.get("customer.id")) == cid:
                rows.append(_joined(row, resource, parents))
        return rows

    def _metric_rows(self, cid: str, resource: str, dates: tuple, segmented: bool) -> list[dict]:
        since, until, conditions = dates
        table = self._table(METRIC_TABLE[resource])
        rows = [
            row
            for row in self._indexes[METRIC_TABLE[resource]].rows(table, cid, since, until)
            if _int(row.get("metrics.impressions")) > 0
            and all(c.matches(row.get("segments.date")) for c in conditions)
        ]
        parents = self._parents()
        if resource != "customer" and segmented:
            return [_joined(row, resource, parents) for row in rows]
        return [_joined(row, resource, parents) for row in _aggregate(rows, ID_FIELD[resource], segmented)]

    def _customer_client_rows(self, cid: str) -> list[dict]:
        """The ``customer_client`` rows of a manager: itself at level 0 and every client under it; none otherwise."""
        customers = {str(row.get("customer.id")): row for row in self._table("customer")}
        manager = customers.get(cid) or {}
        if not manager.get("customer.manager"):
            return []
        rows = []
        for client_id, level in self._hierarchy(cid):
            client = customers.get(client_id)
            if client is not None:
                rows.append({**manager, **_customer_client(client, level)})
        return rows

    def _parents(self) -> dict[str, dict[str, dict]]:
        return {
            resource: {str(row.get(ID_FIELD[resource])): row for row in self._table(resource)}
            for resource in ("customer", "campaign", "ad_group")
        }

    def _table(self, obj: str) -> list[dict]:
        return self.state.dataset.table(self.name, obj)

    # -- responses ---------------------------------------------------------------------------

    def _page_response(self, cid: str, body: dict, query: Query, rows: list[dict]) -> Response:
        page_size = self.state.page_size or PAGE_SIZE
        fingerprint = hashlib.sha1(f"{cid}\n{body.get('query')}".encode()).hexdigest()[:16]
        offset = 0
        if body.get("pageToken"):
            cursor = decode_cursor(str(body["pageToken"]))
            if not cursor or cursor.get("q") != fingerprint or not isinstance(cursor.get("o"), int):
                raise GoogleAdsError(400, {"requestError": "INVALID_PAGE_TOKEN"}, "Invalid page token.")
            offset = cursor["o"]
        page = rows[offset : offset + page_size]
        payload: dict = {}
        if page:
            payload["results"] = list(map(_Renderer(query), page))
        if offset + page_size < len(rows):
            payload["nextPageToken"] = encode_cursor({"q": fingerprint, "o": offset + page_size})
        settings = body.get("searchSettings") or {}
        if (body.get("returnTotalResultsCount") or settings.get("returnTotalResultsCount")) and rows:
            payload["totalResultsCount"] = str(len(rows))
        payload.update(
            fieldMask=_field_mask(query),
            requestId=request_id(),
            queryResourceConsumption=str(_consumption(rows)),
        )
        return _json(payload)

    def _stream_response(self, query: Query, rows: list[dict]) -> Response:
        batch = self.state.page_size or env_int("SANDBOX_GOOGLE_ADS_STREAM_BATCH", PAGE_SIZE)
        mask, rid, render = _field_mask(query), request_id(), _Renderer(query)
        batches = []
        for start in range(0, max(len(rows), 1), batch):
            message: dict = {}
            chunk = rows[start : start + batch]
            if chunk:
                message["results"] = list(map(render, chunk))
            message.update(fieldMask=mask, requestId=rid)
            batches.append(message)
        batches[-1]["queryResourceConsumption"] = str(_consumption(rows))
        return _json(batches)


def _joined(row: dict, resource: str, parents: dict[str, dict[str, dict]]) -> dict:
    """A metric or entity row overlaid with the current attributes of the entities it belongs to."""
    flat = dict(row)
    for parent in SELECTABLE[resource]:
        entity = parents[parent].get(str(row.get(ID_FIELD[parent])))
        if entity is not None:
            flat.update(entity)
    return flat


def _status_of(customer: dict) -> str:
    """A customer row's ``customer.status`` (ENABLED, CANCELED, SUSPENDED, CLOSED); one without a status is enabled."""
    return customer.get("customer.status") or "ENABLED"


def _customer_client(client: dict, level: int) -> dict:
    """The ``customer_client`` fields of a client customer row at `level`."""
    fields = {f"customer_client.{name}": client.get(f"customer.{name}")
              for name in ("id", "descriptive_name", "currency_code", "time_zone")}
    return {**fields, "customer_client.client_customer": f"customers/{client.get('customer.id')}",
            "customer_client.level": level, "customer_client.manager": bool(client.get("customer.manager")),
            "customer_client.status": _status_of(client),
            "customer_client.hidden": False, "customer_client.test_account": False}


def _aggregate(rows: list[dict], id_field: str, by_date: bool) -> list[dict]:
    """Metric rows summed per entity (and per day when `by_date`), keeping the first row's attributes."""
    groups: dict[tuple, dict] = {}
    for row in rows:
        key = (row.get(id_field), row.get("segments.date") if by_date else None)
        total = groups.get(key)
        if total is None:
            total = groups[key] = {k: v for k, v in row.items() if not k.startswith("metrics.")}
            if not by_date:
                total.pop("segments.date", None)
            for name in BASE_METRICS:
                total[f"metrics.{name}"] = 0
        for name in BASE_METRICS:
            value = row.get(f"metrics.{name}") or 0
            total[f"metrics.{name}"] += float(value) if name.startswith("conversions") else int(value)
    return list(groups.values())


def _value(row: dict, name: str):
    """The raw value of a GAQL field on a flat row, computing derived metrics and resource names."""
    if name.endswith(".resource_name"):
        return _resource_name(row, name.split(".", 1)[0])
    if name in DERIVED_FIELDS:
        impressions, clicks = _int(row.get("metrics.impressions")), _int(row.get("metrics.clicks"))
        cost, conversions = _int(row.get("metrics.cost_micros")), float(row.get("metrics.conversions") or 0)
        numerator, denominator = {
            "metrics.ctr": (clicks, impressions),
            "metrics.average_cpc": (cost, clicks),
            "metrics.average_cpm": (cost * 1000, impressions),
            "metrics.cost_per_conversion": (cost, conversions),
        }[name]
        return numerator / denominator if denominator else 0.0
    return row.get(name)


def _resource_name(row: dict, resource: str) -> str:
    cid = row.get("customer.id")
    if resource == "customer":
        return f"customers/{cid}"
    if resource == "campaign":
        return f"customers/{cid}/campaigns/{row.get('campaign.id')}"
    if resource == "customer_client":
        return f"customers/{cid}/customerClients/{row.get('customer_client.id')}"
    return f"customers/{cid}/adGroups/{row.get('ad_group.id')}"


class _Renderer:
    """Turns flat rows into proto3-JSON results for one query; the per-field work is planned once."""

    def __init__(self, query: Query) -> None:
        resources = dict.fromkeys([query.resource] + [name.split(".", 1)[0] for name in query.fields])
        self.resources = [(_camel(r), r) for r in resources if r not in ("metrics", "segments")]
        self.fields = []
        for name in query.fields:
            resource, _, attribute = name.partition(".")
            computed = attribute == "resource_name" or name in DERIVED_FIELDS
            self.fields.append((name, _camel(resource), _camel(attribute), computed, _encoder(name)))

    def __call__(self, row: dict) -> dict:
        """One result: nested camelCase objects, a resourceName on every resource named."""
        result = {key: {"resourceName": _resource_name(row, resource)} for key, resource in self.resources}
        for name, resource, attribute, computed, encode in self.fields:
            value = _value(row, name) if computed else row.get(name)
            if value is not None:
                result.setdefault(resource, {})[attribute] = encode(value)
        return result


#: The columns of the GoogleAdsFieldService catalogue the sandbox answers.
FIELD_ATTRIBUTES = {"name", "category", "data_type", "selectable", "filterable"}


def _data_type(name: str, sample: object) -> str:
    """The catalogue's ``data_type`` of a field, from its known type or a sample value."""
    if name in INT64_FIELDS:
        return "INT64"
    if name.startswith("metrics."):
        return "DOUBLE"
    if name == "segments.date" or name.endswith(("_date", "_date_time")):
        return "DATE"
    if name in BOOLEAN_FIELDS or isinstance(sample, bool):
        return "BOOLEAN"
    if isinstance(sample, int):
        return "INT64"
    if isinstance(sample, float):
        return "DOUBLE"
    if isinstance(sample, (dict, list)):
        return "MESSAGE"
    return "STRING"


def _encoder(name: str):
    if name in INT64_FIELDS:
        return _int64
    if name.startswith("metrics."):
        return _double
    return lambda value: value


def _int64(value) -> str:
    return str(int(value)) if isinstance(value, float) else str(value)


def _double(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _field_mask(query: Query) -> str:
    return ",".join(".".join(_camel(part) for part in name.split(".")) for name in query.fields)


def _date_bounds(conditions: list[Condition]) -> tuple[str | None, str | None]:
    """The narrowest [since, until] the segments.date conditions allow, for the index bisect."""
    since = until = None
    for condition in conditions:
        if condition.field != "segments.date":
            continue
        values = [str(v) for v in condition.values]
        low = high = None
        if condition.op == "BETWEEN":
            low, high = values
        elif condition.op in (">=", ">"):
            low = values[0] if condition.op == ">=" else _next_day(values[0])
        elif condition.op in ("<=", "<"):
            high = values[0] if condition.op == "<=" else _previous_day(values[0])
        elif condition.op == "=":
            low = high = values[0]
        elif condition.op == "IN":
            low, high = min(values), max(values)
        for value in (low, high):
            if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise GaqlError(
                    "INVALID_DATE_FORMAT", f"Error in query: invalid date {value}, expected 'YYYY-MM-DD'."
                )
        since = low if low is not None and (since is None or low > since) else since
        until = high if high is not None and (until is None or high < until) else until
    return since, until


def _next_day(value: str) -> str:
    return (date.fromisoformat(value) + timedelta(days=1)).isoformat() if _is_date(value) else value


def _previous_day(value: str) -> str:
    return (date.fromisoformat(value) - timedelta(days=1)).isoformat() if _is_date(value) else value


def _is_date(value: str) -> bool:
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None


def _sort_key(value):
    if value is None:
        return (0, 0, "")
    try:
        return (1, float(value), "")
    except (TypeError, ValueError):
        return (2, 0, str(value))


def _int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _consumption(rows: list[dict]) -> int:
    return 100 + len(rows) // 5


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _version_of(path: str) -> str:
    match = re.match(r"/(v\d+)/", path)
    return match.group(1) if match else "v17"


def _failure_body(error: GoogleAdsError, version: str) -> dict:
    status, message = STATUS_MESSAGES.get(error.status, ("INTERNAL", "Internal error encountered."))
    detail: dict = {"errorCode": error.error_code, "message": error.message}
    if error.details:
        detail["details"] = error.details
    return {
        "error": {
            "code": error.status,
            "message": message,
            "status": status,
            "details": [
                {
                    "@type": f"type.googleapis.com/google.ads.googleads.{version}.errors.GoogleAdsFailure",
                    "errors": [detail],
                    "requestId": request_id(),
                }
            ],
        }
    }


def _error_response(error: GoogleAdsError, version: str, stream: bool) -> Response:
    body = _failure_body(error, version)
    return _json([body] if stream else body, error.status)


def _malformed(stream: bool) -> Response:
    row = {
        "campaign": {"resourceName": "customers/1234567890/campaigns/1", "id": "1"},
        "metrics": {"impressions": "n/a", "costMicros": "12.5e"},
        "segments": {"date": "2024-05-01"},
    }
    page = {
        "results": [row],
        "fieldMask": "campaign.id,metrics.impressions,metrics.costMicros,segments.date",
        "requestId": request_id(),
    }
    return _json([page] if stream else page)


def _not_found() -> Response:
    return Response(
        "<!DOCTYPE html><title>Error 404 (Not Found)</title>", status_code=404, media_type="text/html"
    )


def _json(content, status: int = 200) -> Response:
    return JSONResponse(content, status_code=status, headers={"request-id": request_id()})
