"""LinkedIn Marketing API emulator (versioned REST): OAuth refresh, ``adAnalytics`` and the
ad account / campaign group / campaign search finders, with LinkedIn's own error bodies.

Follows reference/source-apis.md section 5:

* Every call needs ``LinkedIn-Version: YYYYMM`` (400 ``VERSION_MISSING`` without it; 426
  ``NONEXISTENT_VERSION`` for a version not active at the dataset clock — released within the
  last 12 months), ``X-Restli-Protocol-Version: 2.0.0`` (400 without it) and a Bearer token
  (401 ``65600 INVALID_ACCESS_TOKEN``).
* Query parameters are parsed as Rest.li 2.0 from the raw query string: ``(key:value,…)``
  objects, ``List(…)`` and percent-decoded primitives; encoded parentheses are not structure.
  ``pivot=CAMPAIGN`` and ``pivot=(value:CAMPAIGN)`` are both accepted.
* ``adAnalytics`` has no pagination: the whole answer comes at once and is silently truncated
  at ``SANDBOX_LINKEDIN_ANALYTICS_CAP`` elements (default 15,000). ``dateRange`` and
  ``pivotValues`` are returned only when listed in ``fields``; more than 20 metrics is a 400.
  Counts are integers, money is a decimal string summed exactly.
* Finders page with ``pageSize``/``pageToken`` and ``metadata.nextPageToken`` (absent on the
  last page); the default search leaves out REMOVED objects.
* ``POST /rest/adAnalytics`` with ``X-HTTP-Method-Override: GET`` and a form body is the query
  tunnel for long URLs.
* The refresh token expires at an instant of the sandbox clock (``REFRESH_TOKEN_SECONDS`` after the clock the
  sandbox started at, as LinkedIn counts from the member's original consent, not from the last refresh): each
  refresh answers the seconds left in ``refresh_token_expires_in`` (so ``POST /_sandbox/advance`` shortens it),
  and past it the refresh is refused with 400 ``invalid_grant``. ``POST /_sandbox/linkedin_ads/refresh-token``
  ``{"expires_in": N}`` makes it expire N seconds after the sandbox's clock now; ``GET`` reads the seconds left.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.apis._common import (
    DateIndex,
    PathAwareResponse,
    control_body,
    decimal_sum,
    decimal_text,
    decode_cursor,
    encode_cursor,
    env_int,
    request_id,
)
from sandbox.auth import REFRESH_TOKEN, bearer_token, client_matches, credentials_match, form_fields
from sandbox.faults import FaultRule

ANALYTICS_CAP = 15_000
MAX_METRICS = 20
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
ACCESS_TOKEN_SECONDS = 5_183_999
REFRESH_TOKEN_SECONDS = 25_920_000
NON_METRIC_FIELDS = ("dateRange", "pivotValues", "pivotValue", "pivot")
#: Metrics a request may name; those the dataset lacks are reported as zero.
METRICS = (
    "impressions",
    "clicks",
    "costInLocalCurrency",
    "costInUsd",
    "externalWebsiteConversions",
    "externalWebsitePostClickConversions",
    "externalWebsitePostViewConversions",
    "landingPageClicks",
    "conversionValueInLocalCurrency",
    "totalEngagements",
    "likes",
    "comments",
    "shares",
    "follows",
    "reactions",
    "otherEngagements",
    "oneClickLeads",
    "oneClickLeadFormOpens",
    "videoViews",
    "videoStarts",
    "videoCompletions",
    "videoFirstQuartileCompletions",
    "videoMidpointCompletions",
    "videoThirdQuartileCompletions",
    "actionClicks",
    "adUnitClicks",
    "companyPageClicks",
    "approximateMemberReach",
    "sends",
    "opens",
    "registrations",
    "jobApplications",
    "cardClicks",
    "cardImpressions",
    "viralImpressions",
    "viralClicks",
    "fullScreenPlays",
    "leadGenerationMailContactInfoShares",
    "leadGenerationMailInterestedClicks",
    "downloadClicks",
)
PIVOTS = {"CAMPAIGN": "campaign", "CAMPAIGN_GROUP": "campaignGroup", "ACCOUNT": "account"}
GRANULARITIES = ("DAILY", "MONTHLY", "ALL")
CAMPAIGN_URN = "urn:li:sponsoredCampaign:"
ACCOUNT_URN = "urn:li:sponsoredAccount:"
GROUP_URN = "urn:li:sponsoredCampaignGroup:"


class LinkedInError(Exception):
    """A LinkedIn error answer: HTTP status and body."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


class RestliError(ValueError):
    """A parameter that is not valid Rest.li 2.0."""


class LinkedInAdsEmulator:
    """Serves the ``linkedin_ads`` objects of the dataset; see the module docstring."""

    name = "linkedin_ads"
    path_prefixes = ("/rest/adAnalytics", "/rest/adAccounts", "/oauth/v2/")

    def __init__(self, state) -> None:
        self.state = state
        self._issued: set[str] = set()
        self._index = DateIndex(lambda row: (row.get("pivotValues") or [""])[0], _row_date)
        #: When the refresh token stops being accepted, on the sandbox clock.
        self.refresh_token_expires_at = state.dataset.clock + timedelta(seconds=REFRESH_TOKEN_SECONDS)

    def prepare(self) -> None:
        """Index the ad_analytics rows by account and date now, not in the first query after the data changed."""
        self._index.prepare(self._table("ad_analytics"))

    def routes(self) -> list[Route]:
        """Token refresh, adAnalytics, ad accounts, campaign groups and campaigns."""
        return [
            Route("/oauth/v2/accessToken", self.token, methods=["POST"]),
            Route("/rest/adAnalytics", self.ad_analytics, methods=["GET", "POST"]),
            Route("/rest/adAccounts", self.ad_accounts),
            Route("/rest/adAccounts/{account:int}", self.ad_account),
            Route("/rest/adAccounts/{account:int}/adCampaigns", self.campaigns),
            Route("/rest/adAccounts/{account:int}/adCampaignGroups", self.campaign_groups),
            Route("/_sandbox/linkedin_ads/refresh-token", self.refresh_token_control, methods=["GET", "POST"]),
        ]

    def fault_response(self, rule: FaultRule) -> Response:
        """429 APPLICATION DAY throttle, 503/504 alternately, or an element with non-numeric metrics."""

        def render(request: Request) -> Response:
            if rule.kind == "rate_limit":
                return _json(
                    {
                        "status": 429,
                        "serviceErrorCode": 101,
                        "code": "TOO_MANY_REQUESTS",
                        "message": "Resource level throttle APPLICATION DAY limit for calls to this resource "
                        "is reached.",
                    },
                    429,
                )
            if rule.kind == "malformed":
                if request.url.path.startswith("/rest/adAnalytics"):
                    element = {
                        "pivotValues": [f"{CAMPAIGN_URN}1"],
                        "impressions": "12k",
                        "clicks": None,
                        "costInLocalCurrency": "N/A",
                    }
                    return _json({"paging": _VESTIGIAL_PAGING, "elements": [element]})
                return Response('{"elements": [{"id": 5', media_type="application/json")
            if rule.fired % 2:
                return _json(
                    {"status": 503, "code": "SERVICE_UNAVAILABLE", "message": "Service Unavailable"}, 503
                )
            return _json({"status": 504, "code": "GATEWAY_TIMEOUT", "message": "Request timed out"}, 504)

        return PathAwareResponse(render)

    async def token(self, request: Request) -> Response:
        """``POST /oauth/v2/accessToken`` refresh grant → access token plus the (unchanged) refresh token and the
        seconds it has left; 400 ``invalid_grant`` once it has expired."""
        form = await form_fields(request)
        if form.get("grant_type") != "refresh_token":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "The provided grant type is not supported",
                },
                400,
            )
        if not client_matches(form):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed"}, 401
            )
        if not credentials_match(form) or self._refresh_token_seconds_left() <= 0:
            return JSONResponse(
                {
                    "error": "invalid_grant",
                    "error_description": "The provided authorization grant or refresh token is invalid, "
                    "expired or revoked",
                },
                400,
            )
        access = self.state.tokens.issue(self.name, prefix="AQV")
        self._issued.add(access)
        return JSONResponse(
            {
                "access_token": access,
                "expires_in": min(ACCESS_TOKEN_SECONDS, int(self.state.tokens.ttl_seconds)),
                "refresh_token": REFRESH_TOKEN,
                "refresh_token_expires_in": self._refresh_token_seconds_left(),
                "scope": "r_ads,r_ads_reporting",
            }
        )

    async def refresh_token_control(self, request: Request) -> Response:
        """``POST /_sandbox/linkedin_ads/refresh-token`` ``{"expires_in": N}``: the refresh token expires N seconds
        (a whole number, 0: now) after the sandbox's clock; ``GET`` answers the seconds left."""
        if request.method == "POST":
            try:
                body = await control_body(request)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, 400)
            seconds = body.get("expires_in") if isinstance(body, dict) else None
            if type(seconds) is not int or seconds < 0:
                return JSONResponse({"error": "expires_in must be a whole number of seconds of at least 0, such as "
                                              f"{{\"expires_in\": 86400}}, not {seconds!r}"}, 400)
            self.refresh_token_expires_at = self.state.dataset.clock + timedelta(seconds=seconds)
        return JSONResponse({"expires_in": self._refresh_token_seconds_left(),
                             "expires_at": self.refresh_token_expires_at.isoformat()})

    def _refresh_token_seconds_left(self) -> int:
        """Whole seconds from the sandbox clock to the refresh token's expiry; 0 once it has passed."""
        return max(0, int((self.refresh_token_expires_at - self.state.dataset.clock).total_seconds()))

    async def ad_analytics(self, request: Request) -> Response:
        """``GET /rest/adAnalytics?q=analytics|statistics…`` — every element at once, truncated at the cap."""
        return await self._handle(request, self._analytics)

    async def ad_accounts(self, request: Request) -> Response:
        """``GET /rest/adAccounts?q=search`` — the ad accounts, cursor-paged."""
        return await self._handle(request, lambda r, p: self._search(p, self._table("ad_accounts"), None))

    async def ad_account(self, request: Request) -> Response:
        """``GET /rest/adAccounts/{id}`` — one ad account."""
        return await self._handle(request, lambda r, p: _json(self._account(r)))

    async def campaigns(self, request: Request) -> Response:
        """``GET /rest/adAccounts/{id}/adCampaigns?q=search`` — the account's campaigns, cursor-paged."""
        return await self._handle(
            request, lambda r, p: self._account_search(r, p, "campaigns", "adCampaigns")
        )

    async def campaign_groups(self, request: Request) -> Response:
        """``GET /rest/adAccounts/{id}/adCampaignGroups?q=search`` — the account's campaign groups."""
        return await self._handle(
            request, lambda r, p: self._account_search(r, p, "campaign_groups", "adCampaignGroups")
        )

    # -- request plumbing --------------------------------------------------------------------

    async def _handle(self, request: Request, handler) -> Response:
        try:
            self._check_headers(request)
            raw = request.url.query
            if request.method == "POST":
                if request.headers.get("x-http-method-override", "").upper() != "GET":
                    raise LinkedInError(
                        405, {"status": 405, "message": "Method POST is not supported by the resource"}
                    )
                raw = "&".join(filter(None, [raw, (await request.body()).decode()]))
            return handler(request, _raw_params(raw))
        except LinkedInError as error:
            return _json(error.body, error.status)

    def _check_headers(self, request: Request) -> None:
        version = request.headers.get("linkedin-version")
        if not version:
            raise LinkedInError(
                400,
                {
                    "status": 400,
                    "code": "VERSION_MISSING",
                    "message": "A version must be present. Please specify a version by adding the "
                    "LinkedIn-Version header.",
                },
            )
        if not re.fullmatch(r"\d{6}(\d{2})?(\.\d{2})?", version):
            raise LinkedInError(
                400,
                {"status": 400, "code": "INVALID_VERSION", "message": f"Invalid version format: {version}"},
            )
        if not self._version_active(int(version[:4]), int(version[4:6])):
            raise LinkedInError(
                426,
                {
                    "status": 426,
                    "code": "NONEXISTENT_VERSION",
                    "message": f"Requested version {version} is not active",
                },
            )
        token = bearer_token(request.headers)
        if not self.state.tokens.is_valid(self.name, token):
            if token in self._issued:
                raise LinkedInError(
                    401,
                    {
                        "status": 401,
                        "serviceErrorCode": 65601,
                        "code": "EXPIRED_ACCESS_TOKEN",
                        "message": "The token used in the request has expired",
                    },
                )
            raise LinkedInError(
                401,
                {
                    "status": 401,
                    "serviceErrorCode": 65600,
                    "code": "INVALID_ACCESS_TOKEN",
                    "message": "Invalid access token",
                },
            )
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            raise LinkedInError(
                400,
                {
                    "serviceErrorCode": 0,
                    "message": "Invalid query parameters passed to request",
                    "status": 400,
                },
            )

    def _version_active(self, year: int, month: int) -> bool:
        clock = self.state.dataset.clock
        age = (clock.year - year) * 12 + (clock.month - month)
        return 1 <= month <= 12 and 0 <= age < 12

    def _table(self, obj: str) -> list[dict]:
        return self.state.dataset.table(self.name, obj)

    # -- finders -----------------------------------------------------------------------------

    def _account(self, request: Request) -> dict:
        account_id = str(request.path_params["account"])
        for row in self._table("ad_accounts"):
            if str(row.get("id")) == account_id:
                return row
        raise LinkedInError(
            404,
            {
                "status": 404,
                "serviceErrorCode": 100,
                "code": "NOT_FOUND",
                "message": f"Not found: {ACCOUNT_URN}{account_id}",
            },
        )

    def _account_search(self, request: Request, params: dict, obj: str, resource: str) -> Response:
        try:
            account = self._account(request)
        except LinkedInError:
            raise LinkedInError(
                403,
                {
                    "status": 403,
                    "serviceErrorCode": 100,
                    "code": "ACCESS_DENIED",
                    "message": f"Not enough permissions to access: {resource}.FINDER-search",
                },
            ) from None
        urn = f"{ACCOUNT_URN}{account['id']}"
        return self._search(params, [row for row in self._table(obj) if row.get("account") == urn], resource)

    def _search(self, params: dict, rows: list[dict], resource: str | None) -> Response:
        if _text(params, "q") != "search":
            raise _param_error("q", "QUERY_PARAM_REQUIRED" if "q" not in params else "PARAM_INVALID")
        criteria = _parse_param(params, "search") if "search" in params else {}
        if not isinstance(criteria, dict):
            raise _param_error("search")
        matching = [row for row in rows if _search_matches(row, criteria)]
        page_size = self.state.page_size or _int_param(params, "pageSize", DEFAULT_PAGE_SIZE)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise _param_error("pageSize")
        offset = 0
        if "pageToken" in params:
            cursor = decode_cursor(_text(params, "pageToken"))
            if not cursor or not isinstance(cursor.get("o"), int):
                raise _param_error("pageToken")
            offset = cursor["o"]
        page = matching[offset : offset + page_size]
        metadata = {}
        if offset + page_size < len(matching):
            metadata["nextPageToken"] = encode_cursor({"o": offset + page_size})
        return _json({"paging": _VESTIGIAL_PAGING, "metadata": metadata, "elements": page})

    # -- adAnalytics ---------------------------------------------------------------------------

    def _analytics(self, request: Request, params: dict) -> Response:
        finder = _text(params, "q")
        if finder not in ("analytics", "statistics"):
            raise _param_error("q", "QUERY_PARAM_REQUIRED" if finder is None else "PARAM_INVALID")
        pivots = self._pivots(params, finder)
        granularity = _enum(params, "timeGranularity")
        if granularity not in GRANULARITIES:
            raise _param_error("timeGranularity")
        since, until = self._date_range(params)
        fields = _analytics_fields(params)
        campaigns = self._campaign_filter(params)
        rows = []
        for urn in sorted(campaigns):
            rows += self._index.rows(self._table("ad_analytics"), urn, since, until)
        owners = {f"{CAMPAIGN_URN}{row.get('id')}": row for row in self._table("campaigns")}
        elements = _bucketed(rows, pivots, granularity, (since, until), owners)
        elements.sort(key=lambda e: (_row_date(e), e["pivotValues"]))
        cap = env_int("SANDBOX_LINKEDIN_ANALYTICS_CAP", ANALYTICS_CAP)
        return _json({"paging": _VESTIGIAL_PAGING, "elements": [_project(e, fields) for e in elements[:cap]]})

    def _pivots(self, params: dict, finder: str) -> list[str]:
        if finder == "analytics":
            if "pivot" not in params:
                raise _param_error("pivot", "QUERY_PARAM_REQUIRED")
            pivots = [_enum(params, "pivot")]
        else:
            value = _parse_param(params, "pivots") if "pivots" in params else None
            if not isinstance(value, list) or not 1 <= len(value) <= 3:
                raise _param_error("pivots")
            pivots = [item.get("value") if isinstance(item, dict) else item for item in value]
        for index, pivot in enumerate(pivots):
            if pivot not in PIVOTS:
                raise _param_error(f"pivots_{index}" if finder == "statistics" else "pivot")
        return pivots

    def _date_range(self, params: dict) -> tuple[str, str]:
        if "dateRange" not in params:
            raise _param_error("dateRange", "QUERY_PARAM_REQUIRED")
        value = _parse_param(params, "dateRange")
        try:
            since = _date_of(value["start"])
            until = _date_of(value["end"]) if "end" in value else self.state.dataset.clock.date().isoformat()
        except (TypeError, KeyError, ValueError):
            raise _param_error("dateRange") from None
        if until < since:
            raise _param_error("dateRange")
        return since, until

    def _campaign_filter(self, params: dict) -> set[str]:
        """The campaign URNs the facets (accounts, campaignGroups, campaigns) select."""
        facets = {
            name: _parse_param(params, name)
            for name in ("accounts", "campaignGroups", "campaigns")
            if name in params
        }
        if not facets:
            raise _param_error("accounts", "QUERY_PARAM_REQUIRED")
        for name, value in facets.items():
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise _param_error(name)
        selected = None
        for name, field in (("accounts", "account"), ("campaignGroups", "campaignGroup")):
            if name in facets:
                wanted = set(facets[name])
                urns = {
                    f"{CAMPAIGN_URN}{row.get('id')}"
                    for row in self._table("campaigns")
                    if row.get(field) in wanted
                }
                selected = urns if selected is None else selected & urns
        if "campaigns" in facets:
            selected = set(facets["campaigns"]) if selected is None else selected & set(facets["campaigns"])
        return selected or set()


_VESTIGIAL_PAGING = {"start": 0, "count": 10, "links": []}


def _row_date(row: dict) -> str:
    try:
        return _date_of(row["dateRange"]["start"])
    except (KeyError, TypeError, ValueError):
        return ""


def _date_of(value: dict) -> str:
    return date(int(value["year"]), int(value["month"]), int(value["day"])).isoformat()


def _date_object(iso: str) -> dict:
    moment = date.fromisoformat(iso)
    return {"year": moment.year, "month": moment.month, "day": moment.day}


def _bucketed(
    rows: list[dict], pivots: list[str], granularity: str, window: tuple[str, str], owners: dict[str, dict]
) -> list[dict]:
    """Campaign-day rows regrouped to the requested pivots and time buckets, summed exactly."""
    if pivots == ["CAMPAIGN"] and granularity == "DAILY":
        return [dict(row) for row in rows]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        campaign_urn = (row.get("pivotValues") or [""])[0]
        owner = owners.get(campaign_urn, {})
        values = tuple(campaign_urn if p == "CAMPAIGN" else owner.get(PIVOTS[p], "") for p in pivots)
        day = _row_date(row)
        bucket = (
            window if granularity == "ALL" else (day, day) if granularity == "DAILY" else _month(day, window)
        )
        groups.setdefault((values, bucket), []).append(row)
    return [_summed(members, list(values), bucket) for (values, bucket), members in groups.items()]


def _month(day: str, window: tuple[str, str]) -> tuple[str, str]:
    moment = date.fromisoformat(day)
    first = moment.replace(day=1)
    following = date(moment.year + moment.month // 12, moment.month % 12 + 1, 1)
    last = date.fromordinal(following.toordinal() - 1)
    return max(first.isoformat(), window[0]), min(last.isoformat(), window[1])


def _summed(members: list[dict], pivot_values: list[str], bucket: tuple[str, str]) -> dict:
    element: dict = {
        "pivotValues": pivot_values,
        "dateRange": {"start": _date_object(bucket[0]), "end": _date_object(bucket[1])},
    }
    names = dict.fromkeys(k for row in members for k in row if k not in NON_METRIC_FIELDS)
    for name in names:
        values = [row.get(name) for row in members]
        if any(isinstance(v, str) for v in values):
            element[name] = decimal_text(decimal_sum(values))
        elif all(isinstance(v, (int, type(None))) and not isinstance(v, bool) for v in values):
            element[name] = sum(v or 0 for v in values)
    return element


def _project(element: dict, fields: list[str]) -> dict:
    """The requested fields of an element; known metrics the data lacks are zero."""
    out = {}
    for name in fields:
        if name in element:
            out[name] = element[name]
        elif name in METRICS:
            out[name] = "0" if ("InLocalCurrency" in name or "InUsd" in name) else 0
    return out


def _analytics_fields(params: dict) -> list[str]:
    if "fields" not in params:
        return ["impressions", "clicks"]
    fields = [unquote(f).strip() for f in params["fields"].split(",") if f.strip()]
    unknown = [f for f in fields if f not in METRICS and f not in NON_METRIC_FIELDS]
    if unknown:
        raise _param_error("fields", description=f"Invalid fields requested: {', '.join(unknown)}")
    metrics = [f for f in fields if f not in NON_METRIC_FIELDS]
    if len(metrics) > MAX_METRICS:
        raise _param_error(
            "fields",
            description=f"Too many metrics requested ({len(metrics)}); at most "
            f"{MAX_METRICS} metrics can be requested at once",
        )
    return fields


def _search_matches(row: dict, criteria: dict) -> bool:
    if "status" not in criteria and row.get("status") == "REMOVED":
        return False
    for name, condition in criteria.items():
        if isinstance(condition, dict) and "values" in condition:
            values = condition["values"] if isinstance(condition["values"], list) else [condition["values"]]
            if str(row.get(name)) not in {str(v) for v in values}:
                return False
        elif name == "test" and str(row.get("test", False)).lower() != str(condition).lower():
            return False
    return True


# -- Rest.li 2.0 -------------------------------------------------------------------------------


def _raw_params(query: str) -> dict[str, str]:
    """Query parameters with their values left encoded, so Rest.li structure can be told from data."""
    params = {}
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            params[unquote(key)] = value
    return params


def parse_restli(text: str):
    """Parse one Rest.li 2.0 URL value: ``(k:v,…)`` → dict, ``List(…)`` → list, else a decoded string."""
    value, end = _value(text, 0)
    if end != len(text):
        raise RestliError(f"unexpected {text[end]!r} at {end} in {text!r}")
    return value


def _value(text: str, index: int):
    if text.startswith("List(", index):
        return _sequence(text, index + 5, keyed=False)
    if text.startswith("(", index):
        return _sequence(text, index + 1, keyed=True)
    end = index
    while end < len(text) and text[end] not in ",():":
        end += 1
    return unquote(text[index:end]), end


def _sequence(text: str, index: int, keyed: bool):
    items: dict | list = {} if keyed else []
    if text.startswith(")", index):
        return items, index + 1
    while True:
        if keyed:
            key, index = _value(text, index)
            if not isinstance(key, str) or not text.startswith(":", index):
                raise RestliError(f"expected ':' after a key at {index} in {text!r}")
            items[key], index = _value(text, index + 1)
        else:
            item, index = _value(text, index)
            items.append(item)
        if text.startswith(",", index):
            index += 1
        elif text.startswith(")", index):
            return items, index + 1
        else:
            raise RestliError(f"expected ',' or ')' at {index} in {text!r}")


def _parse_param(params: dict, name: str):
    try:
        return parse_restli(params[name])
    except RestliError:
        raise _param_error(name) from None


def _enum(params: dict, name: str) -> str | None:
    """An enum parameter given bare (``CAMPAIGN``) or wrapped (``(value:CAMPAIGN)``)."""
    if name not in params:
        return None
    value = _parse_param(params, name)
    if isinstance(value, dict):
        value = value.get("value")
    return value if isinstance(value, str) else None


def _text(params: dict, name: str) -> str | None:
    return unquote(params[name]) if name in params else None


def _int_param(params: dict, name: str, default: int) -> int:
    if name not in params:
        return default
    try:
        return int(unquote(params[name]))
    except ValueError:
        raise _param_error(name) from None


def _param_error(name: str, code: str = "PARAM_INVALID", description: str | None = None) -> LinkedInError:
    description = (
        description
        or {
            "PARAM_INVALID": "Invalid value for param; wrong type or other syntax error",
            "QUERY_PARAM_REQUIRED": "Required query param is missing",
        }[code]
    )
    return LinkedInError(
        400,
        {
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": f"Invalid param. Please see errorDetails for more information. "
            f"({name}: {description})",
            "errorDetails": {
                "inputErrors": [
                    {"description": description, "input": {"inputPath": {"fieldPath": name}}, "code": code}
                ]
            },
            "status": 400,
        },
    )


def _json(content, status: int = 200) -> Response:
    return JSONResponse(
        content,
        status_code=status,
        headers={"x-li-uuid": request_id(24), "x-restli-protocol-version": "2.0.0"},
    )
