"""Meta (Facebook) Marketing API emulator: long-lived token exchange, ad accounts, campaigns and
ad sets with cursor paging, sync Insights, async report runs, and Meta's own error bodies.

Follows reference/source-apis.md section 4:

* Base ``/v{NN}.0``; the token is read from ``access_token`` (query or form) or a Bearer header.
  There is no refresh grant: ``GET /oauth/access_token?grant_type=fb_exchange_token&client_id=…
  &client_secret=…&fb_exchange_token=…`` with the sandbox credentials and
  ``fb_exchange_token`` = the sandbox REFRESH_TOKEN issues a "long-lived" token (lifetime =
  the sandbox token TTL). The refresh token itself is not accepted as an access token.
* Every Insights metric is a string; ``actions``/``action_values`` are absent when empty;
  days without delivery have no row; campaign and account levels are exact Decimal sums of
  the ad-set rows (reach is summed too, whereas Meta de-duplicates it).
* ``paging.next`` is an absolute URL that embeds the access token; it is absent on the last
  page. Object listings page over all of an account's objects and drop filtered-out ones
  afterwards, so a page may be short or empty and still carry ``next``.
* Deleted/archived objects (and their insights) are returned only when ``filtering`` (or
  ``effective_status``) asks for them.
* Throttling is HTTP 400 with codes 80000 (insights), 80004 (ads management) or 17, plus
  ``x-business-use-case-usage`` whose ``estimated_time_to_regain_access`` (minutes) is the
  fault rule's ``retry_after``; usage headers are sent on every ad-account response.

The emulator's own fault kinds: ``insights_timeout`` answers a sync request as Meta does when it gives
up on one: HTTP 400, code 100, subcode 1504018, "Request Timed Out". Two throttles come without
``x-business-use-case-usage``, as codes 4 and 613 often do: ``app_rate_limit`` (code 4, subcode
1504022, only ``x-app-usage``, the app's quota spent: no time to regain access anywhere) and
``account_rate_limit`` (code 613, subcode 1487742, only ``x-ad-account-usage``, whose
``reset_time_duration`` is the rule's ``retry_after`` in seconds; 0 gives no estimate).
``report_run_failed`` and ``report_run_skipped`` fire on the request that starts a report run
(``POST /act_{id}/insights``): the run is started and answered as usual, but after its "Job Running"
polls it ends "Job Failed" (with Meta's v25+ ``error_code`` -2, ``error_subcode`` 2490547, "Report
Failed") or "Job Skipped", and its results are never served. Any other request they match is answered
as usual (and counts as fired), so ``path_contains="act_{id}/insights"`` picks an account's report runs.

Settings: ``SANDBOX_META_REPORT_POLLS`` (status polls answered "Job Running" before "Job
Completed", default 2); ``SANDBOX_META_SYNC_ROW_LIMIT`` (sync insights results larger than
this fail with "Please reduce the amount of data…", default 100,000).
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import OrderedDict
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sandbox.apis._common import (
    DateIndex,
    PathAwareResponse,
    decimal_sum,
    decimal_text,
    decode_cursor,
    encode_cursor,
    env_int,
    request_id,
    route_response,
    to_decimal,
)
from sandbox.auth import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, bearer_token, form_fields
from sandbox.faults import FaultRule, register_kinds

DEFAULT_LIMIT = 25
#: The emulator's own fault kind: a sync request Meta gave up on. Fault rules are checked against `KINDS`.
INSIGHTS_TIMEOUT = "insights_timeout"
#: The emulator's own throttles without a business-use-case header (see the module docstring).
APP_RATE_LIMIT = "app_rate_limit"
ACCOUNT_RATE_LIMIT = "account_rate_limit"
register_kinds(INSIGHTS_TIMEOUT, APP_RATE_LIMIT)
register_kinds(ACCOUNT_RATE_LIMIT, fields={"retry_after"})
#: The emulator's own fault kinds making a report run end without results, and the ``async_status`` each gives it.
REPORT_RUN_ENDINGS = {"report_run_failed": "Job Failed", "report_run_skipped": "Job Skipped"}
register_kinds(*REPORT_RUN_ENDINGS)
#: The ASGI scope key that carries a report-run fault's ending to the handler of the request it fired on.
REPORT_RUN_ENDING_KEY = "sandbox.meta_ads.report_run_ending"
#: What a failed run's status carries since v25.0 (Ads Insights API error codes: -2 / 2490547 "Report Failed").
REPORT_FAILED_ERROR = {
    "error_code": -2,
    "error_subcode": 2490547,
    "error_message": "Report Failed",
    "error_user_title": "Report Failed",
    "error_user_msg": "Generating the report failed. Try again later.",
}
HIDDEN_STATUSES = ("DELETED", "ARCHIVED")
RATE_LIMIT_DOCS = "https://developers.facebook.com/docs/graph-api/overview/rate-limiting"
#: Insights fields that name or place a row; every other numeric string is a summable metric.
INSIGHTS_ATTRIBUTES = (
    "account_id",
    "account_name",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "adset_id",
    "adset_name",
    "date_start",
    "date_stop",
    "objective",
    "buying_type",
    "optimization_goal",
)
ACTION_ARRAYS = ("actions", "action_values")
DERIVED = ("cpm", "cpc", "ctr", "frequency", "cost_per_action_type")
KNOWN_INSIGHTS_FIELDS = set(INSIGHTS_ATTRIBUTES + ACTION_ARRAYS + DERIVED) | {
    "impressions",
    "reach",
    "clicks",
    "spend",
    "inline_link_clicks",
    "ad_id",
    "ad_name",
}
LEVEL_FIELDS = {
    "account": ("account_id", "account_name", "account_currency"),
    "campaign": ("campaign_id", "campaign_name", "objective", "buying_type"),
    "adset": ("adset_id", "adset_name", "optimization_goal"),
}
LEVELS = ("account", "campaign", "adset")
DATE_PRESETS = {
    "today": (0, 0),
    "yesterday": (1, 1),
    "last_3d": (3, 1),
    "last_7d": (7, 1),
    "last_14d": (14, 1),
    "last_28d": (28, 1),
    "last_30d": (30, 1),
    "last_90d": (90, 1),
}
MAX_REPORT_RUNS = 200
#: The fields ``?metadata=1`` lists per node type, besides those found in the data.
NODE_FIELDS = {
    "AdAccount": ("id", "account_id", "name", "currency", "timezone_name", "timezone_offset_hours_utc",
                  "account_status"),
    "Campaign": ("id", "account_id", "name", "status", "configured_status", "effective_status", "objective",
                 "buying_type", "daily_budget", "lifetime_budget", "budget_remaining", "bid_strategy",
                 "special_ad_categories", "created_time", "start_time", "stop_time", "updated_time"),
    "AdSet": ("id", "account_id", "campaign_id", "name", "status", "configured_status", "effective_status",
              "daily_budget", "lifetime_budget", "budget_remaining", "bid_strategy", "optimization_goal",
              "billing_event", "created_time", "start_time", "updated_time"),
}


def _graph_type(sample: object) -> str:
    """The ``type`` introspection gives a field, from a sample value."""
    if isinstance(sample, bool):
        return "bool"
    if isinstance(sample, int):
        return "int"
    if isinstance(sample, float):
        return "float"
    if isinstance(sample, list):
        return "list<string>"
    if isinstance(sample, dict):
        return "Object"
    return "string"


class MetaError(Exception):
    """A Graph API error: HTTP status and the ``error`` object's fields."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        subcode: int | None = None,
        error_type: str = "OAuthException",
        transient: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.subcode, self.error_type, self.transient = subcode, error_type, transient

    def body(self) -> dict:
        """The ``{"error": {...}}`` body."""
        error: dict = {"message": self.message, "type": self.error_type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.transient is not None:
            error["is_transient"] = self.transient
        error["fbtrace_id"] = request_id(11)
        return {"error": error}


class MetaAdsEmulator:
    """Serves the ``meta_ads`` objects of the dataset; see the module docstring."""

    name = "meta_ads"
    # Google's paths also start with "/v"; "/v{N}.0/" keeps the two apart for the fault middleware.
    path_prefixes = tuple(f"/v{n}.0/" for n in range(1, 100)) + ("/oauth/access_token",)

    def __init__(self, state) -> None:
        self.state = state
        self._issued: set[str] = set()
        self._index = DateIndex(
            lambda row: str(row.get("account_id")), lambda row: row.get("date_start") or ""
        )
        self._calls: dict[str, int] = {}
        self._runs: OrderedDict[str, dict] = OrderedDict()
        self._run_ids = itertools.count(6023941178812)
        self._results: OrderedDict[tuple, list[dict]] = OrderedDict()

    def prepare(self) -> None:
        """Index the adset_insights rows by account and date now, not in the first query after the data changed."""
        self._index.prepare(self._table("adset_insights"))

    def routes(self) -> list[Route]:
        """Token exchange, ad accounts, campaigns, ad sets, insights and report runs."""
        return [
            Route("/oauth/access_token", self.exchange_token),
            Route("/v{version}/oauth/access_token", self.exchange_token),
            Route("/v{version}/me/adaccounts", self.my_ad_accounts),
            Route("/v{version}/act_{account}", self.ad_account),
            Route("/v{version}/act_{account}/campaigns", self.campaigns),
            Route("/v{version}/act_{account}/adsets", self.adsets),
            Route("/v{version}/act_{account}/insights", self.insights, methods=["GET", "POST"]),
            Route("/v{version}/{node:int}", self.node),
            Route("/v{version}/{node:int}/insights", self.report_insights),
        ]

    def fault_response(self, rule: FaultRule) -> Response:
        """Throttle (HTTP 400, code 80000/80004/17 + usage headers; code 4 or 613 without the business-use-case
        header), a timed-out request (400, code 100/1504018), 500 code 1/99 or 2, or a bad metric; a report-run
        fault serves the request as usual, the run it starts marked to end "Job Failed" or "Job Skipped"."""
        if rule.kind in REPORT_RUN_ENDINGS:
            return _ServedMarked(self.routes(), {REPORT_RUN_ENDING_KEY: REPORT_RUN_ENDINGS[rule.kind]})

        def render(request: Request) -> Response:
            path = request.url.path
            account = (re.search(r"/act_(\d+)", path) or [None, None])[1]
            insights = path.endswith("/insights")
            if rule.kind == "rate_limit":
                return self._throttled(account, insights, rule.retry_after)
            if rule.kind == APP_RATE_LIMIT:
                return _app_throttled()
            if rule.kind == ACCOUNT_RATE_LIMIT:
                return _account_throttled(rule.retry_after)
            if rule.kind == INSIGHTS_TIMEOUT:
                error = MetaError(400, 100, "Request Timed Out", subcode=1504018)
                return JSONResponse(error.body(), status_code=error.status)
            if rule.kind == "malformed":
                if insights:
                    row = {
                        "account_id": account or "0",
                        "impressions": "n/a",
                        "spend": "1,234.50",
                        "date_start": "2024-05-01",
                        "date_stop": "2024-05-01",
                    }
                    return JSONResponse({"data": [row]})
                return Response('{"data": [{"id": "1202', media_type="application/json")
            if rule.fired % 2:
                error = MetaError(500, 1, "An unknown error occurred", subcode=99)
            else:
                error = MetaError(500, 2, "(#2) Service temporarily unavailable", transient=True)
            return JSONResponse(error.body(), status_code=error.status)

        return PathAwareResponse(render)

    # -- endpoints ---------------------------------------------------------------------------

    async def exchange_token(self, request: Request) -> Response:
        """``GET /oauth/access_token?grant_type=fb_exchange_token…`` → a long-lived token."""
        params = request.query_params
        if params.get("grant_type") != "fb_exchange_token":
            return _error(MetaError(400, 100, "(#100) Param grant_type must be one of {fb_exchange_token}"))
        if params.get("client_id") != CLIENT_ID:
            return _error(MetaError(400, 101, "Error validating application. Invalid application ID."))
        if params.get("client_secret") != CLIENT_SECRET:
            return _error(MetaError(400, 1, "Error validating client secret."))
        if params.get("fb_exchange_token") != REFRESH_TOKEN:
            return _error(MetaError(400, 190, "Invalid OAuth access token - Cannot parse access token"))
        token = self.state.tokens.issue(self.name, prefix="EAAB")
        self._issued.add(token)
        return JSONResponse(
            {"access_token": token, "token_type": "bearer", "expires_in": int(self.state.tokens.ttl_seconds)}
        )

    async def my_ad_accounts(self, request: Request) -> Response:
        """``GET /me/adaccounts`` — the ad accounts the token can read."""
        return await self._handle(request, self._my_ad_accounts)

    async def ad_account(self, request: Request) -> Response:
        """``GET /act_{id}`` — one ad account node (currency, timezone_name, …)."""
        return await self._handle(request, self._ad_account)

    async def campaigns(self, request: Request) -> Response:
        """``GET /act_{id}/campaigns`` — campaigns with fields, filtering and cursor paging."""
        return await self._handle(request, lambda r, p: self._list_objects(r, p, "campaigns", "campaign"))

    async def adsets(self, request: Request) -> Response:
        """``GET /act_{id}/adsets`` — ad sets with fields, filtering and cursor paging."""
        return await self._handle(request, lambda r, p: self._list_objects(r, p, "adsets", "adset"))

    async def insights(self, request: Request) -> Response:
        """``GET /act_{id}/insights`` (sync, paged) or ``POST`` (starts an async report run)."""
        return await self._handle(request, self._insights)

    async def node(self, request: Request) -> Response:
        """``GET /{id}`` — a report run's status, or a campaign / ad set node."""
        return await self._handle(request, self._node)

    async def report_insights(self, request: Request) -> Response:
        """``GET /{report_run_id}/insights`` — the finished report's rows, paged like sync insights."""
        return await self._handle(request, self._report_insights)

    # -- request plumbing --------------------------------------------------------------------

    async def _handle(self, request: Request, handler) -> Response:
        try:
            params = dict(request.query_params)
            if request.method == "POST":
                params.update(await form_fields(request))
            if not re.fullmatch(r"\d+\.0", request.path_params["version"]):
                raise MetaError(400, 2500, f"Unknown path components: {request.url.path}")
            self._authorize(request, params)
            response = handler(request, params)
        except MetaError as error:
            response = _error(error)
        account = request.path_params.get("account")
        if account:
            self._add_usage_headers(response, account, request.url.path.endswith("/insights"))
        return response

    def _authorize(self, request: Request, params: dict) -> None:
        token = params.get("access_token") or bearer_token(request.headers)
        if not token:
            raise MetaError(400, 104, "An access token is required to request this resource.")
        if self.state.tokens.is_valid(self.name, token):
            params["access_token"] = token
            return
        if token in self._issued:
            now = datetime.now().astimezone()
            raise MetaError(
                400,
                190,
                f"Error validating access token: Session has expired on "
                f"{now:%A, %d-%b-%y %H:%M:%S %Z}. The current time is {now:%A, %d-%b-%y %H:%M:%S %Z}.",
                subcode=463,
            )
        raise MetaError(400, 190, "Invalid OAuth access token - Cannot parse access token")

    def _add_usage_headers(self, response: Response, account: str, insights: bool) -> None:
        calls = self._calls[account] = self._calls.get(account, 0) + 1
        percent = min(60, calls // 20)
        usage = {
            "type": "ads_insights" if insights else "ads_management",
            "call_count": percent,
            "total_cputime": percent,
            "total_time": percent,
            "estimated_time_to_regain_access": 0,
            "ads_api_access_tier": "standard_access",
        }
        _set_usage_headers(response, account, usage, percent, insights)

    def _throttled(self, account: str | None, insights: bool, retry_after: int) -> Response:
        if account and insights:
            error = MetaError(
                400,
                80000,
                "There have been too many calls from this ad-account. Wait a bit and try "
                f"again. For more info, please refer to {RATE_LIMIT_DOCS}#ads-insights.",
                subcode=2446079,
                transient=True,
            )
        elif account:
            error = MetaError(
                400,
                80004,
                "There have been too many calls to this ad-account. Wait a bit and try "
                f"again. For more info, please refer to {RATE_LIMIT_DOCS}#ads-management.",
                subcode=2446079,
                transient=True,
            )
        else:
            error = MetaError(400, 17, "(#17) User request limit reached", subcode=2446079, transient=True)
        response = _error(error)
        usage = {
            "type": "ads_insights" if insights else "ads_management",
            "call_count": 100,
            "total_cputime": 100,
            "total_time": 100,
            "estimated_time_to_regain_access": retry_after,
            "ads_api_access_tier": "standard_access",
        }
        _set_usage_headers(response, account or "0", usage, 100, insights)
        return response

    # -- ad accounts and objects -------------------------------------------------------------

    def _my_ad_accounts(self, request: Request, params: dict) -> Response:
        fields = _fields(params, ("id", "account_id"), self._object_fields("ad_accounts"), "AdAccount")
        rows = self._table("ad_accounts")
        return self._paged(request, params, [_pick(row, fields) for row in rows])

    def _ad_account(self, request: Request, params: dict) -> Response:
        account = self._account_row(request.path_params["account"])
        fields = _fields(params, ("id", "account_id"), self._object_fields("ad_accounts"), "AdAccount")
        return JSONResponse(self._with_metadata(params, _pick(account, fields), "ad_accounts", "AdAccount"))

    def _list_objects(self, request: Request, params: dict, obj: str, singular: str) -> Response:
        account = _account_id(self._account_row(request.path_params["account"]))
        node_type = "Campaign" if singular == "campaign" else "AdSet"
        fields = _fields(params, ("id",), self._object_fields(obj), node_type)
        statuses, conditions = _status_filter(params, singular)
        rows = [row for row in self._table(obj) if str(row.get("account_id")) == str(account)]
        limit = _limit(params)
        start = _cursor_position(params.get("after"))
        window = rows[start : start + limit]
        data = [
            _pick(row, fields)
            for row in window
            if row.get("effective_status") in statuses
            and all(_object_matches(row, c, singular) for c in conditions)
        ]
        return JSONResponse(self._paging(request, params, data, start, start + len(window), len(rows)))

    def _node(self, request: Request, params: dict) -> Response:
        node = str(request.path_params["node"])
        if node in self._runs:
            return JSONResponse(self._poll(node))
        for obj, node_type in (("campaigns", "Campaign"), ("adsets", "AdSet")):
            for row in self._table(obj):
                if str(row.get("id")) == node:
                    picked = _pick(row, _fields(params, ("id",), self._object_fields(obj), node_type))
                    return JSONResponse(self._with_metadata(params, picked, obj, node_type))
        raise _missing_object(node)

    def _account_row(self, account: str) -> dict:
        for row in self._table("ad_accounts"):
            if _account_id(row) == account:
                return row
        raise _missing_object(f"act_{account}")

    def _with_metadata(self, params: dict, node: dict, obj: str, node_type: str) -> dict:
        """`node` plus, when ``metadata=1`` is asked, its type and the fields that type has (introspection)."""
        if params.get("metadata") != "1":
            return node
        samples: dict[str, object] = {}
        for row in self._table(obj):
            for name, value in row.items():
                if samples.get(name) is None:
                    samples[name] = value
        names = sorted(set(NODE_FIELDS[node_type]) | set(samples))
        fields = [{"name": name, "type": _graph_type(samples.get(name))} for name in names]
        return {**node, "metadata": {"type": node_type.lower(), "fields": fields}}

    def _object_fields(self, obj: str) -> set[str]:
        fields = {
            "id",
            "name",
            "account_id",
            "status",
            "effective_status",
            "configured_status",
            "objective",
            "created_time",
            "updated_time",
            "start_time",
            "stop_time",
            "daily_budget",
            "lifetime_budget",
            "campaign_id",
            "currency",
            "timezone_name",
            "account_status",
            "budget_remaining",
            "bid_strategy",
            "buying_type",
            "special_ad_categories",
            "optimization_goal",
            "billing_event",
            "timezone_offset_hours_utc",
        }
        for row in self._table(obj):  # objects are few: every field any of them carries
            fields.update(row)
        return fields

    # -- insights ----------------------------------------------------------------------------

    def _insights(self, request: Request, params: dict) -> Response:
        account = self._account_row(request.path_params["account"])
        if request.method == "POST":
            rows = self._compute_insights(account, params)
            run_id = str(next(self._run_ids))
            since, until = _time_range(params, self.state.dataset.clock.date())
            self._runs[run_id] = {
                "rows": rows,
                "polls": 0,
                "account_id": _account_id(account),
                "time_ref": int(time.time()),
                "date_start": since,
                "date_stop": until,
                "ending": request.scope.get(REPORT_RUN_ENDING_KEY),
            }
            while len(self._runs) > MAX_REPORT_RUNS:
                self._runs.popitem(last=False)
            return JSONResponse({"report_run_id": run_id})
        key = (_account_id(account),) + tuple(
            sorted((k, v) for k, v in params.items() if k not in ("after", "before", "access_token", "limit"))
        )
        rows = self._results.get(key) if params.get("after") else None
        if rows is None:
            rows = self._compute_insights(account, params)
            if len(rows) > env_int("SANDBOX_META_SYNC_ROW_LIMIT", 100_000):
                raise MetaError(
                    500,
                    1,
                    "Please reduce the amount of data you're asking for, then retry your request",
                    subcode=99,
                )
            self._results[key] = rows
            while len(self._results) > 32:
                self._results.popitem(last=False)
        return self._paged(request, params, rows)

    def _poll(self, run_id: str) -> dict:
        run = self._runs[run_id]
        polls_needed = env_int("SANDBOX_META_REPORT_POLLS", 2)
        run["polls"] += 1
        done = run["polls"] > polls_needed
        status = {
            "id": run_id,
            "account_id": run["account_id"],
            "time_ref": run["time_ref"],
            "async_status": "Job Completed" if done else "Job Running",
            "async_percent_completion": 100 if done else int(100 * run["polls"] / (polls_needed + 1)),
            "date_start": run["date_start"],
            "date_stop": run["date_stop"],
            "is_running": not done,
        }
        if done and run["ending"]:
            _end_without_results(status, run["ending"], polls_needed)
        elif done:
            status["time_completed"] = run["time_ref"] + polls_needed
            run["completed"] = True
        return status

    def _report_insights(self, request: Request, params: dict) -> Response:
        run_id = str(request.path_params["node"])
        run = self._runs.get(run_id)
        if run is None:
            raise _missing_object(run_id)
        if not run.get("completed"):
            raise MetaError(400, 2601, "Error accessing adreportrun: the report run has not completed yet")
        return self._paged(request, params, run["rows"])

    def _compute_insights(self, account: dict, params: dict) -> list[dict]:
        """Every insights row an account's request asks for, aggregated to its level and sorted."""
        level = params.get("level", "account")
        if level not in LEVELS:
            raise MetaError(
                400,
                100,
                f"(#100) level must be one of the following values: {', '.join(LEVELS)} "
                "(the sandbox has no ad-level insights)",
            )
        fields = _insights_fields(params)
        since, until = _time_range(params, self.state.dataset.clock.date())
        increment = params.get("time_increment", "all_days")
        if increment not in ("1", "all_days"):
            raise MetaError(400, 100, "(#100) time_increment must be 1 or all_days in the sandbox")
        statuses, conditions = _status_filter(params, level if level != "account" else "adset")
        campaigns = {str(row.get("id")): row for row in self._table("campaigns")}
        adsets = {str(row.get("id")): row for row in self._table("adsets")}
        status_of = campaigns if level == "campaign" else adsets
        rows = []
        for row in self._index.rows(self._table("adset_insights"), _account_id(account), since, until):
            owner = status_of.get(str(row.get(f"{level}_id" if level != "account" else "adset_id")), {})
            if (
                to_decimal(row.get("impressions") or 0) == 0
                or owner.get("effective_status", "ACTIVE") not in statuses
            ):
                continue
            if all(_insight_matches(row, c, campaigns, adsets) for c in conditions):
                rows.append(row)
        grouped = _aggregate(rows, level, None if increment == "1" else (since, until))
        for row in grouped:
            _refresh_names(row, account, campaigns, adsets)
        grouped.sort(
            key=lambda r: (r["date_start"], str(r.get("campaign_id", "")), str(r.get("adset_id", "")))
        )
        return [_insight_output(row, fields, level) for row in grouped]

    # -- paging ------------------------------------------------------------------------------

    def _paged(self, request: Request, params: dict, rows: list[dict]) -> Response:
        limit = _limit(params)
        start = _cursor_position(params.get("after"))
        page = rows[start : start + limit]
        return JSONResponse(self._paging(request, params, page, start, start + len(page), len(rows)))

    def _paging(self, request: Request, params: dict, data: list, start: int, end: int, total: int) -> dict:
        body: dict = {"data": data}
        if end <= start and start == 0:
            return body
        paging: dict = {
            "cursors": {"before": encode_cursor({"p": start}), "after": encode_cursor({"p": end})}
        }
        if end < total:
            paging["next"] = _page_url(request, params, "after", paging["cursors"]["after"])
        if start > 0:
            paging["previous"] = _page_url(request, params, "before", paging["cursors"]["before"])
        body["paging"] = paging
        return body

    def _table(self, obj: str) -> list[dict]:
        return self.state.dataset.table(self.name, obj)


def _end_without_results(status: dict, ending: str, polls_needed: int) -> None:
    """Make a report run's `status` the one `ending` gives it: its progress stopped where the last "Job Running"
    poll left it, never completed; a failed run names Meta's error (v25+)."""
    status.update(async_status=ending, async_percent_completion=int(100 * polls_needed / (polls_needed + 1)))
    if ending == "Job Failed":
        status.update(REPORT_FAILED_ERROR)


class _ServedMarked(Response):
    """The request served as usual by its route among `routes`, with `marks` added to its ASGI scope: a fault that
    changes what the handler does (how a report run ends) rather than replacing its answer."""

    def __init__(self, routes: list[Route], marks: dict) -> None:
        super().__init__(status_code=500)
        self._routes, self._marks = routes, marks

    async def __call__(self, scope, receive, send) -> None:
        response = await route_response(self._routes, {**scope, **self._marks}, receive)
        await (response or PlainTextResponse("Not Found", status_code=404))(scope, receive, send)


def _account_id(account: dict) -> str:
    """The numeric id of an ad account row (``account_id``, or ``id`` without its ``act_`` prefix)."""
    return str(account.get("account_id") or str(account.get("id", "")).removeprefix("act_"))


def _aggregate(rows: list[dict], level: str, window: tuple[str, str] | None) -> list[dict]:
    """Ad-set day rows summed per `level` object and per day (or per `window` when not daily)."""
    if level == "adset" and window is None:
        return [dict(row) for row in rows]
    key_field = {"account": "account_id", "campaign": "campaign_id", "adset": "adset_id"}[level]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row.get(key_field), None if window else row.get("date_start")), []).append(row)
    return [_merge(members, level, window) for members in groups.values()]


def _merge(members: list[dict], level: str, window: tuple[str, str] | None) -> dict:
    keep = set(LEVEL_FIELDS["account"]) | {"date_start", "date_stop"}
    if level in ("campaign", "adset"):
        keep |= set(LEVEL_FIELDS["campaign"])
    if level == "adset":
        keep |= set(LEVEL_FIELDS["adset"])
    merged = {k: v for k, v in members[0].items() if k in keep}
    if window:
        merged["date_start"], merged["date_stop"] = window
    metric_names = dict.fromkeys(
        k for row in members for k in row if k not in INSIGHTS_ATTRIBUTES and k not in ACTION_ARRAYS
    )
    for name in metric_names:
        values = [row.get(name) for row in members]
        if all(value is None or to_decimal(value) is not None for value in values):
            merged[name] = decimal_text(decimal_sum(values))
    for name in ACTION_ARRAYS:
        actions = _merge_actions(row.get(name) for row in members)
        if actions:
            merged[name] = actions
    return merged


def _merge_actions(arrays) -> list[dict]:
    """Action arrays merged by ``action_type``, every value and window key summed exactly."""
    merged: dict[str, dict[str, Decimal]] = {}
    for array in arrays:
        for action in array or ():
            totals = merged.setdefault(action["action_type"], {})
            for key, value in action.items():
                if key != "action_type":
                    totals[key] = totals.get(key, Decimal(0)) + Decimal(str(value))
    return [
        {"action_type": kind, **{k: decimal_text(v) for k, v in totals.items()}}
        for kind, totals in merged.items()
    ]


def _refresh_names(row: dict, account: dict, campaigns: dict, adsets: dict) -> None:
    row["account_name"] = account.get("name")
    row.setdefault("account_currency", account.get("currency"))
    if "campaign_id" in row and str(row["campaign_id"]) in campaigns:
        row["campaign_name"] = campaigns[str(row["campaign_id"])].get("name", row.get("campaign_name"))
    if "adset_id" in row and str(row["adset_id"]) in adsets:
        row["adset_name"] = adsets[str(row["adset_id"])].get("name", row.get("adset_name"))


def _insight_output(row: dict, fields: list[str], level: str) -> dict:
    allowed = set(LEVEL_FIELDS["account"])
    for name in LEVELS[1 : LEVELS.index(level) + 1]:
        allowed |= set(LEVEL_FIELDS[name])
    out = {}
    for name in fields:
        if name in INSIGHTS_ATTRIBUTES and name not in allowed:
            continue
        value = _derived(row, name) if name in DERIVED else row.get(name)
        if value not in (None, []):
            out[name] = value
    out["date_start"], out["date_stop"] = row["date_start"], row["date_stop"]
    return out


def _derived(row: dict, name: str):
    spend = to_decimal(row.get("spend") or 0)
    impressions, clicks = to_decimal(row.get("impressions") or 0), to_decimal(row.get("clicks") or 0)
    if name == "cost_per_action_type":
        costs = [
            {"action_type": a["action_type"], "value": _ratio(spend, to_decimal(a["value"]))}
            for a in row.get("actions") or ()
            if to_decimal(a["value"])
        ]
        return costs or None
    numerator, denominator = {
        "cpm": (spend * 1000, impressions),
        "cpc": (spend, clicks),
        "ctr": (clicks * 100, impressions),
        "frequency": (impressions, to_decimal(row.get("reach") or 0)),
    }[name]
    return _ratio(numerator, denominator)


def _ratio(numerator: Decimal, denominator: Decimal | None) -> str | None:
    if not denominator:
        return None
    text = decimal_text((numerator / denominator).quantize(Decimal("0.000001")))
    return text.rstrip("0").rstrip(".") if "." in text else text


def _insights_fields(params: dict) -> list[str]:
    fields = [f.strip() for f in params.get("fields", "impressions,spend").split(",") if f.strip()]
    for name in fields:
        if name not in KNOWN_INSIGHTS_FIELDS:
            raise MetaError(
                400,
                100,
                f"(#100) {name} is not valid for fields param. please check "
                "https://developers.facebook.com/docs/marketing-api/reference/ads-insights/ "
                "for all valid values",
            )
    return fields


def _time_range(params: dict, today: date) -> tuple[str, str]:
    if "time_range" in params:
        try:
            value = json.loads(params["time_range"])
            since, until = date.fromisoformat(value["since"]), date.fromisoformat(value["until"])
        except (ValueError, TypeError, KeyError):
            raise MetaError(
                400,
                100,
                "(#100) Param time_range must be a JSON object with since and until dates (YYYY-MM-DD)",
            ) from None
        if since > until:
            raise MetaError(400, 100, "(#100) Param time_range: since must be before until")
        return since.isoformat(), until.isoformat()
    preset = params.get("date_preset", "last_30d")
    if preset not in DATE_PRESETS:
        raise MetaError(
            400, 100, f"(#100) date_preset must be one of the following values: {', '.join(DATE_PRESETS)}"
        )
    back, forward = DATE_PRESETS[preset]
    return (today - timedelta(days=back)).isoformat(), (today - timedelta(days=forward)).isoformat()


def _status_filter(params: dict, singular: str) -> tuple[set[str], list[dict]]:
    """The effective statuses to return and the other ``filtering`` conditions."""
    statuses = None
    if "effective_status" in params:
        statuses = set(_json_param(params, "effective_status", list))
    conditions = []
    for condition in _json_param(params, "filtering", list) if "filtering" in params else []:
        if not isinstance(condition, dict) or not {"field", "operator"} <= set(condition):
            raise MetaError(400, 100, "(#100) filtering must be an array of {field, operator, value} objects")
        if condition["field"] in (f"{singular}.effective_status", "effective_status"):
            values = set(condition.get("value") or ())
            statuses = values if condition["operator"] == "IN" else _ALL_STATUSES - values
        else:
            conditions.append(condition)
    if statuses is None:
        statuses = _ALL_STATUSES - set(HIDDEN_STATUSES)
    return statuses, conditions


_ALL_STATUSES = {
    "ACTIVE",
    "PAUSED",
    "DELETED",
    "PENDING_REVIEW",
    "DISAPPROVED",
    "PREAPPROVED",
    "PENDING_BILLING_INFO",
    "CAMPAIGN_PAUSED",
    "ARCHIVED",
    "ADSET_PAUSED",
    "IN_PROCESS",
    "WITH_ISSUES",
}


def _object_matches(row: dict, condition: dict, singular: str) -> bool:
    field = condition["field"].removeprefix(f"{singular}.")
    actual = row.get(field)
    if field.endswith("_time") and isinstance(actual, str):
        actual = _epoch(actual)
    return _compare(actual, condition["operator"], condition.get("value"))


def _insight_matches(row: dict, condition: dict, campaigns: dict, adsets: dict) -> bool:
    owner, _, field = condition["field"].partition(".")
    if owner == "campaign":
        actual = (
            row.get("campaign_id")
            if field == "id"
            else campaigns.get(str(row.get("campaign_id")), {}).get(field)
        )
    elif owner == "adset":
        actual = row.get("adset_id") if field == "id" else adsets.get(str(row.get("adset_id")), {}).get(field)
    else:
        actual = row.get(condition["field"])
    return _compare(actual, condition["operator"], condition.get("value"))


def _compare(actual, operator: str, value) -> bool:
    if operator in ("IN", "NOT_IN"):
        found = str(actual) in {str(v) for v in value or ()}
        return found if operator == "IN" else not found
    if operator == "EQUAL":
        return str(actual) == str(value)
    if operator == "NOT_EQUAL":
        return str(actual) != str(value)
    if operator == "CONTAIN":
        return str(value) in str(actual)
    left, right = to_decimal(actual), to_decimal(value)
    if left is None or right is None:
        return False
    return {
        "GREATER_THAN": left > right,
        "LESS_THAN": left < right,
        "GREATER_THAN_OR_EQUAL": left >= right,
        "LESS_THAN_OR_EQUAL": left <= right,
    }.get(operator, False)


def _epoch(stamp: str) -> int | str:
    try:
        return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z").timestamp())
    except ValueError:
        return stamp


def _fields(params: dict, default: tuple[str, ...], known: set[str], node_type: str) -> list[str]:
    if "fields" not in params:
        return list(default)
    fields = [f.strip() for f in params["fields"].split(",") if f.strip()]
    for name in fields:
        if name not in known:
            raise MetaError(
                400, 100, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})"
            )
    return ["id"] + [f for f in fields if f != "id"]


def _pick(row: dict, fields: list[str]) -> dict:
    return {name: row[name] for name in fields if row.get(name) is not None}


def _json_param(params: dict, name: str, kind: type):
    try:
        value = json.loads(params[name])
    except ValueError:
        value = None
    if not isinstance(value, kind):
        raise MetaError(400, 100, f"(#100) param {name} must be a JSON {kind.__name__}")
    return value


def _limit(params: dict) -> int:
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise MetaError(400, 100, "(#100) Param limit must be an integer") from None
    return max(1, limit)


def _cursor_position(cursor: str | None) -> int:
    if not cursor:
        return 0
    payload = decode_cursor(cursor)
    if not payload or not isinstance(payload.get("p"), int):
        raise MetaError(400, 100, "(#100) The after cursor is not valid")
    return payload["p"]


def _page_url(request: Request, params: dict, name: str, cursor: str) -> str:
    query = {k: v for k, v in params.items() if k not in ("after", "before", "access_token")}
    query["access_token"] = params["access_token"]
    query.setdefault("limit", str(_limit(params)))
    query[name] = cursor
    return f"{str(request.base_url).rstrip('/')}{request.url.path}?{urlencode(query)}"


def _set_usage_headers(response: Response, account: str, usage: dict, percent: int, insights: bool) -> None:
    response.headers["x-business-use-case-usage"] = json.dumps({account: [usage]})
    response.headers["x-ad-account-usage"] = json.dumps(
        {"acc_id_util_pct": percent, "reset_time_duration": 0, "ads_api_access_tier": "standard_access"}
    )
    response.headers["x-app-usage"] = json.dumps(
        {"call_count": percent, "total_cputime": percent, "total_time": percent}
    )
    if insights:
        response.headers["x-fb-ads-insights-throttle"] = json.dumps(
            {"app_id_util_pct": percent, "acc_id_util_pct": percent, "ads_api_access_tier": "standard_access"}
        )


def _app_throttled() -> Response:
    """Code 4, the app's own limit: only ``x-app-usage`` (the app's hour spent) and no time to regain access."""
    response = _error(MetaError(400, 4, "(#4) Application request limit reached", subcode=1504022, transient=True))
    response.headers["x-app-usage"] = json.dumps({"call_count": 100, "total_cputime": 41, "total_time": 57})
    return response


def _account_throttled(reset_seconds: int) -> Response:
    """Code 613, the ad account's API limit: only ``x-ad-account-usage``, reset in `reset_seconds` (0: no estimate)."""
    error = MetaError(400, 613, "(#613) Calls to this api have exceeded the rate limit.", subcode=1487742,
                      transient=True)
    response = _error(error)
    response.headers["x-ad-account-usage"] = json.dumps(
        {"acc_id_util_pct": 100, "reset_time_duration": reset_seconds, "ads_api_access_tier": "standard_access"})
    return response


def _missing_object(node: str) -> MetaError:
    return MetaError(
        400,
        100,
        f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation. Please read the Graph API "
        "documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        error_type="GraphMethodException",
    )


def _error(error: MetaError) -> Response:
    return JSONResponse(error.body(), status_code=error.status, headers={"x-fb-trace-id": request_id(11)})
