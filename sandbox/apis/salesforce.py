"""Salesforce REST emulator: OAuth refresh, SOQL ``query`` / ``queryAll`` with ``nextRecordsUrl``
paging, ``describe``, ``limits``, and Salesforce's own error bodies (JSON arrays).

Follows reference/source-apis.md section 1: the token response has no ``expires_in``,
datetimes are ``…+0000`` strings, deleted and merged records appear only through
``queryAll``, next-page URLs are relative and contain ``/query/`` even for ``queryAll``.

Faults: ``rate_limit`` answers the org's daily-limit 403 (``REQUEST_LIMIT_EXCEEDED``, "TotalRequests Limit
exceeded."); the emulator's own ``concurrent_limit`` answers the 403 of the org's limit of concurrent
long-running requests, which has the same ``errorCode`` ("ConcurrentPerOrgLongTxn Limit exceeded.").
The emulator's own ``query_timeout`` answers Salesforce's 400 ``QUERY_TIMEOUT`` ("Your query request was running for
too long.") to a query that would scan too many rows: one whose SystemModstamp range holds more than the rule's
``rows`` records (deleted ones included; no range: the whole object), however wide or narrow the range is in time,
as the real org answers a wide range that holds few records fast. Queries within the threshold, ``COUNT()`` and
queries with a ``LIMIT`` (an index walk) are answered as usual and do not count against the rule's ``times``. A next
page (``nextRecordsUrl``, no SOQL) it matches always times out: ``path_contains="/query/"`` times out a page mid-read.

API usage: every answer but the token's carries ``Sforce-Limit-Info: api-usage=USED/LIMIT``, USED counting the
requests served (this one included) on the sandbox clock's current day (an advance to a new day starts the count
afresh, as the real org's rolling 24 hours would) and LIMIT the org's daily allocation: `DAILY_LIMIT`, or for a
large dataset one request for every `RECORDS_PER_ALLOCATED_REQUEST` Salesforce records (an org that size has the
licences for it), so that one full read stays a small share of it at every scale. Past it, every request is
refused with the daily-limit 403, as the real org refuses them. ``POST /_sandbox/salesforce/api-usage`` with
``{"used": N, "limit": M}`` (either may be left out) sets where the count stands now and the allocation, so a test
can start a sync near its budget or its limit; ``GET`` reads them.

Refresh-token rotation (a connected app's setting, off by default): ``POST /_sandbox/salesforce/refresh-token-rotation``
with ``{"enabled": true}`` turns it on; from then on every refresh grant answers a new ``refresh_token`` beside the
access token and revokes the one it used, which a later grant is refused with (400 ``invalid_grant``, "expired
access/refresh token"). Turned off, grants answer no ``refresh_token`` and the newest one keeps working; ``GET`` reads
the setting.

Field-level security: ``POST /_sandbox/salesforce/hidden-fields`` with ``{"Lead": ["Email"], "*": ["CurrencyIsoCode"]}``
hides fields from the integration user, per object (``*``: every object), as a profile without access to them (or an
org without multi-currency) does: they vanish from ``describe``, and a SOQL statement naming one anywhere (selected,
in WHERE or ORDER BY, in ``query``, ``queryAll`` or ``COUNT()``) is refused with the 400 ``INVALID_FIELD`` of an
unknown column. Field names compare case-insensitively, as in SOQL. The records keep their values: only what the
user sees changes. Each POST replaces the setting; ``{}`` or ``DELETE`` shows every field again, ``GET`` reads it.

Hard deletes: ``POST /_sandbox/salesforce/hard-delete`` with ``{"object": "Lead", "ids": ["00Q…"]}`` removes those
records entirely, as a hard delete (Bulk ``hardDelete``, an emptied recycle bin) or the recycle bin's purge after about
15 days does: from then on neither ``query``, ``queryAll`` nor ``COUNT()`` finds them, and ``/_sandbox/stats`` counts
them no more; ``describe`` is unchanged. Live and soft-deleted records alike may be removed, and only the records named
(no cascade to children). An object the org lacks or an id it does not hold is refused with a 400 naming them, and
nothing is removed; the answer names the ids removed. A query opened before keeps its rows on its next pages.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
from bisect import bisect_left, bisect_right

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.apis._common import DerivedViews, control_body, record_ids_body, route_response, unheld_ids_error
from sandbox.apis.soql import SoqlError, parse
from sandbox.auth import REFRESH_TOKEN, bearer_token, client_matches, form_fields
from sandbox.faults import FaultRule, register_kinds

API_PREFIX = "/services/data/v{version:str}"
DEFAULT_BATCH = 2000
MAX_OPEN_CURSORS = 200
#: The field a range condition narrows a query by, through an index instead of a scan of the whole table, as
#: Salesforce indexes SystemModstamp (and not LastModifiedDate: hence the advice to filter on SystemModstamp).
INDEXED_FIELD = "SystemModstamp"
DAILY_LIMIT = 100_000
#: A large org's allocation: one request a day for every this many of its records (see the module docstring).
RECORDS_PER_ALLOCATED_REQUEST = 20
#: The emulator's own fault kind: the concurrent long-running request limit's 403 (see the module docstring).
CONCURRENT_LIMIT = "concurrent_limit"
register_kinds(CONCURRENT_LIMIT)
#: The emulator's own fault kind: the 400 of a query that ran too long (see the module docstring).
QUERY_TIMEOUT = "query_timeout"
register_kinds(QUERY_TIMEOUT, fields={"rows"})
#: The key of the hidden-fields setting that hides its fields on every object.
EVERY_OBJECT = "*"
KEY_PREFIXES = {
    "Account": "001", "Contact": "003", "Lead": "00Q", "Opportunity": "006",
    "OpportunityHistory": "008", "Campaign": "701", "CampaignMember": "00v", "User": "005",
}
_AUDIT = ("CreatedDate", "LastModifiedDate", "SystemModstamp")
#: The org's schema: the fields every object has whether or not a record fills them. Fields that
#: only the data carries (a custom field added later) are added to these.
STANDARD_FIELDS = {
    "User": ("Id", "Username", "Name", "FirstName", "LastName", "Email", "IsActive", "UserType", "ProfileId",
             "UserRoleId", "ManagerId", "LastLoginDate", *_AUDIT),
    "Account": ("Id", "IsDeleted", "MasterRecordId", "Name", "Type", "ParentId", "BillingStreet", "BillingCity",
                "BillingState", "BillingPostalCode", "BillingCountry", "Website", "Industry", "AnnualRevenue",
                "NumberOfEmployees", "CurrencyIsoCode", "OwnerId", "CreatedById", "LastModifiedById", *_AUDIT),
    "Contact": ("Id", "IsDeleted", "MasterRecordId", "AccountId", "FirstName", "LastName", "Name", "Title", "Email",
                "Phone", "LeadSource", "MailingCity", "MailingCountry", "OwnerId", "CurrencyIsoCode",
                "HasOptedOutOfEmail", "CreatedById", "LastModifiedById", *_AUDIT),
    "Lead": ("Id", "IsDeleted", "MasterRecordId", "FirstName", "LastName", "Name", "Title", "Company", "Email",
             "Phone", "Status", "LeadSource", "Industry", "Country", "NumberOfEmployees", "IsConverted",
             "ConvertedDate", "ConvertedAccountId", "ConvertedContactId", "ConvertedOpportunityId", "OwnerId",
             "CurrencyIsoCode", "CreatedById", "LastModifiedById", *_AUDIT),
    "Opportunity": ("Id", "IsDeleted", "AccountId", "Name", "StageName", "Amount", "Probability", "ExpectedRevenue",
                    "CloseDate", "IsClosed", "IsWon", "ForecastCategoryName", "Type", "LeadSource", "CampaignId",
                    "OwnerId", "CurrencyIsoCode", "CreatedById", "LastModifiedById", *_AUDIT),
    "OpportunityHistory": ("Id", "IsDeleted", "OpportunityId", "StageName", "Amount", "ExpectedRevenue", "CloseDate",
                           "Probability", "ForecastCategory", "PrevAmount", "PrevCloseDate", "CreatedById",
                           "CreatedDate", "SystemModstamp"),
    "Campaign": ("Id", "IsDeleted", "Name", "ParentId", "Type", "Status", "StartDate", "EndDate", "BudgetedCost",
                 "ActualCost", "ExpectedRevenue", "ExpectedResponse", "IsActive", "NumberOfLeads",
                 "NumberOfConvertedLeads", "NumberOfContacts", "NumberOfResponses", "NumberOfOpportunities",
                 "NumberOfWonOpportunities", "AmountAllOpportunities", "AmountWonOpportunities", "CurrencyIsoCode",
                 "OwnerId", "CreatedById", "LastModifiedById", *_AUDIT),
    "CampaignMember": ("Id", "IsDeleted", "CampaignId", "LeadId", "ContactId", "Status", "HasResponded",
                       "FirstRespondedDate", *_AUDIT),
}
#: Describe types of the fields connectors select; fields found only in the data describe as strings.
FIELD_TYPES = {
    "Id": "id", "IsDeleted": "boolean", "IsActive": "boolean", "IsConverted": "boolean", "IsClosed": "boolean",
    "IsWon": "boolean", "HasResponded": "boolean", "AnnualRevenue": "currency", "Amount": "currency",
    "BudgetedCost": "currency", "ActualCost": "currency", "ExpectedRevenue": "currency",
    "NumberOfEmployees": "int", "Probability": "percent", "CreatedDate": "datetime",
    "LastModifiedDate": "datetime", "SystemModstamp": "datetime", "LastLoginDate": "datetime",
    "CloseDate": "date", "ConvertedDate": "date", "StartDate": "date", "EndDate": "date",
    "FirstRespondedDate": "date",
}


class RefreshTokens:
    """The connected app's refresh tokens that still work; with rotation on, each grant revokes the one it used and
    hands out a new one (see the module docstring)."""

    def __init__(self) -> None:
        self.rotation = False
        self._valid = {REFRESH_TOKEN}
        self._lock = threading.Lock()

    def redeem(self, token: str | None) -> tuple[bool, str | None]:
        """Whether a grant may use `token`, and the refresh token the grant answers (None: none, rotation off)."""
        with self._lock:
            if token not in self._valid:
                return False, None
            if not self.rotation:
                return True, None
            rotated = "5Aep861SANDBOX." + secrets.token_urlsafe(48)  # the prefix of Salesforce's refresh tokens
            self._valid.discard(token)
            self._valid.add(rotated)
            return True, rotated


class SalesforceEmulator:
    """Serves the Salesforce objects of the dataset; see the module docstring."""

    name = "salesforce"
    path_prefixes = ("/services/",)

    def __init__(self, state) -> None:
        self.state = state
        self._cursors: dict[str, tuple[list[dict], list[str], str, int]] = {}
        self._cursor_lock = threading.Lock()
        self._locator_ids = itertools.count(1)
        self._indexes = DerivedViews(state)
        self.daily_limit = max(DAILY_LIMIT, sum(len(state.dataset.records.get(("salesforce", name), ()))
                                                for name in KEY_PREFIXES) // RECORDS_PER_ALLOCATED_REQUEST)
        #: Added to the requests served to give the usage the answers report (set through the control endpoint).
        self._usage_offset = 0
        #: The sandbox day the usage counts the requests of.
        self._usage_day = state.dataset.clock.date()
        #: The connected app's working refresh tokens, and whether it rotates them.
        self.refresh_tokens = RefreshTokens()
        #: The fields field-level security hides, per object or `EVERY_OBJECT` (set through the control endpoint).
        self._hidden_fields: dict[str, list[str]] = {}

    def prepare(self) -> None:
        """Index every object by SystemModstamp now, not in the first query after the data changed; on a new day of
        the sandbox clock, start the API usage count again."""
        if self.state.dataset.clock.date() != self._usage_day:
            self._usage_day = self.state.dataset.clock.date()
            self._usage_offset = -self.state.requests_served.get(self.name, 0)
        for object_name in KEY_PREFIXES:
            self._index(object_name)

    def routes(self) -> list[Route]:
        """Token, query, queryAll, next page, sobjects, describe and limits."""
        return [
            Route("/services/oauth2/token", self.token, methods=["POST"]),
            Route(f"{API_PREFIX}/query", self.query),
            Route(f"{API_PREFIX}/queryAll", self.query_all),
            Route(f"{API_PREFIX}/query/{{locator:str}}", self.next_page),
            Route(f"{API_PREFIX}/sobjects", self.sobjects),
            Route(f"{API_PREFIX}/sobjects/{{object:str}}/describe", self.describe),
            Route(f"{API_PREFIX}/limits", self.limits),
            Route("/_sandbox/salesforce/api-usage", self.api_usage_control, methods=["GET", "POST"]),
            Route("/_sandbox/salesforce/refresh-token-rotation", self.rotation_control, methods=["GET", "POST"]),
            Route("/_sandbox/salesforce/hidden-fields", self.hidden_fields_control, methods=["GET", "POST", "DELETE"]),
            Route("/_sandbox/salesforce/hard-delete", self.hard_delete_control, methods=["POST"]),
        ]

    def fault_response(self, rule: FaultRule) -> Response:
        """Salesforce's signals: the daily-limit 403 for throttling, the concurrent-limit 403, a 503 for server
        errors."""
        if rule.kind == "rate_limit":
            return _error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if rule.kind == CONCURRENT_LIMIT:
            return _error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")
        if rule.kind == QUERY_TIMEOUT:
            return _TimedOutQuery(self, rule)
        if rule.kind == "malformed":
            return Response('{"totalSize": 1, "done": true, "records": [{"Id": ', status_code=200,
                            media_type="application/json")
        return _error(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable.")

    async def token(self, request: Request) -> Response:
        """OAuth refresh-token flow; the response carries ``instance_url`` and no ``expires_in``, and a new
        ``refresh_token`` only with rotation on."""
        form = await form_fields(request)
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type", "error_description": "grant type not supported"},
                                status_code=400)
        valid, rotated = (self.refresh_tokens.redeem(form.get("refresh_token")) if client_matches(form)
                          else (False, None))
        if not valid:
            return JSONResponse({"error": "invalid_grant", "error_description": "expired access/refresh token"},
                                status_code=400)
        base = str(request.base_url).rstrip("/")
        grant = {
            "access_token": self.state.tokens.issue(self.name, prefix="00DSANDBOX!"),
            "signature": secrets.token_urlsafe(32),
            "scope": "refresh_token api",
            "instance_url": base,
            "id": f"{base}/id/00D000000000001AAA/005000000000001AAA",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
        }
        return JSONResponse({**grant, "refresh_token": rotated} if rotated else grant)

    async def rotation_control(self, request: Request) -> Response:
        """``POST /_sandbox/salesforce/refresh-token-rotation`` ``{"enabled": true}``: turn the connected app's
        refresh-token rotation on (or off); every method answers the setting as it stands."""
        if request.method == "POST":
            try:
                body = await control_body(request)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            enabled = body.get("enabled") if isinstance(body, dict) else None
            if not isinstance(enabled, bool):
                return JSONResponse({"error": 'the body must be {"enabled": true} or {"enabled": false}, not '
                                              f"{body!r}"}, status_code=400)
            self.refresh_tokens.rotation = enabled
        return JSONResponse({"enabled": self.refresh_tokens.rotation})

    async def query(self, request: Request) -> Response:
        """``GET …/query?q=SOQL``: live records only."""
        return self._run_query(request, include_deleted=False)

    async def query_all(self, request: Request) -> Response:
        """``GET …/queryAll?q=SOQL``: live, deleted and merged records."""
        return self._run_query(request, include_deleted=True)

    async def next_page(self, request: Request) -> Response:
        """``GET {nextRecordsUrl}``: the next batch of an open query cursor."""
        if (denied := self._authorize(request)) is not None:
            return denied
        locator = request.path_params["locator"]
        query_id, _, offset = locator.rpartition("-")
        with self._cursor_lock:
            cursor = self._cursors.get(query_id)
        if cursor is None or not offset.isdigit():
            return _error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        rows, fields, object_name, batch = cursor
        return self._page(request, query_id, rows, fields, object_name, int(offset), batch)

    async def sobjects(self, request: Request) -> Response:
        """The queryable objects of the org."""
        if (denied := self._authorize(request)) is not None:
            return denied
        return self._with_limits(JSONResponse({
            "encoding": "UTF-8", "maxBatchSize": 200,
            "sobjects": [{"name": name, "queryable": True, "keyPrefix": KEY_PREFIXES[name]} for name in KEY_PREFIXES],
        }))

    async def describe(self, request: Request) -> Response:
        """Field names and types of one object."""
        if (denied := self._authorize(request)) is not None:
            return denied
        name = request.path_params["object"]
        if name not in KEY_PREFIXES:
            return _error(404, "NOT_FOUND", f"The requested resource does not exist: sObject type '{name}'")
        hidden = self._hidden(name)
        fields = [{"name": f, "type": FIELD_TYPES.get(f, "string"), "nillable": f != "Id"}
                  for f in self._known_fields(name) if f.lower() not in hidden]
        return self._with_limits(JSONResponse({"name": name, "keyPrefix": KEY_PREFIXES[name], "fields": fields}))

    async def limits(self, request: Request) -> Response:
        """``DailyApiRequests`` as the org limits endpoint reports it."""
        if (denied := self._authorize(request)) is not None:
            return denied
        remaining = max(0, self.daily_limit - self._api_usage())
        limits = {"DailyApiRequests": {"Max": self.daily_limit, "Remaining": remaining}}
        return self._with_limits(JSONResponse(limits))

    async def api_usage_control(self, request: Request) -> Response:
        """``POST /_sandbox/salesforce/api-usage`` ``{"used": N, "limit": M}``: the org's usage from now on counts
        from N, and its daily allocation is M; ``GET`` (or an empty body) answers both as they stand."""
        if request.method == "POST":
            try:
                body = await control_body(request, {})
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object such as {\"used\": 89990, \"limit\": 100000}")
                used, limit = _usage_setting(body, "used", 0), _usage_setting(body, "limit", 1)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            if limit is not None:
                self.daily_limit = limit
            if used is not None:
                self._usage_offset = used - self.state.requests_served.get(self.name, 0)
        return JSONResponse({"used": self._api_usage(), "limit": self.daily_limit})

    async def hidden_fields_control(self, request: Request) -> Response:
        """``POST /_sandbox/salesforce/hidden-fields`` ``{"Lead": ["Email"], "*": ["CurrencyIsoCode"]}``: the fields
        hidden from the integration user from now on, replacing the last setting (``{}``: none); ``DELETE`` shows
        every field again; every method answers the setting as it stands."""
        if request.method == "DELETE":
            self._hidden_fields = {}
        elif request.method == "POST":
            try:
                self._hidden_fields = _hidden_fields_setting(await control_body(request, {}))
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(self._hidden_fields)

    async def hard_delete_control(self, request: Request) -> Response:
        """``POST /_sandbox/salesforce/hard-delete`` ``{"object": "Lead", "ids": ["00Q…"]}``: remove those records
        entirely (see the module docstring); answers the object and the ids removed."""
        try:
            object_name, ids = record_ids_body(await control_body(request), KEY_PREFIXES,
                                              '{"object": "Lead", "ids": ["00Q…"]}', "object of the org", "remove")
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        table = self.state.dataset.table(self.name, object_name)
        if refusal := unheld_ids_error(table, object_name, ids, "Id", "nothing was removed"):
            return JSONResponse({"error": refusal}, status_code=400)
        removed = set(ids)
        # In place, so every holder of the table sees the removal; it shrinks, so the views of it are rebuilt.
        table[:] = [record for record in table if record.get("Id") not in removed]
        self._index(object_name)  # rebuilt now, not in the next query
        return JSONResponse({"object": object_name, "removed": ids})

    def _hidden(self, object_name: str) -> set[str]:
        """The lower-cased names of the fields of `object_name` hidden from the integration user."""
        named = [*self._hidden_fields.get(object_name, ()), *self._hidden_fields.get(EVERY_OBJECT, ())]
        return {name.lower() for name in named}

    def _api_usage(self) -> int:
        """The org's API requests of the day so far: those served plus where the control endpoint set the count."""
        return self._usage_offset + self.state.requests_served.get(self.name, 0)

    def _run_query(self, request: Request, include_deleted: bool) -> Response:
        if (denied := self._authorize(request)) is not None:
            return denied
        soql = request.query_params.get("q")
        if not soql:
            return _error(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            query = parse(soql)
            self._check_names(query, soql)
            rows = self._select(query, include_deleted)
        except SoqlError as exc:
            return _error(400, exc.code, str(exc))
        if query.count:  # the real API answers COUNT() with the number in totalSize and no records
            return self._with_limits(JSONResponse({"totalSize": len(rows), "done": True, "records": []}))
        query_id = f"0r8SANDBOX{next(self._locator_ids):08d}"
        batch = _batch_size(request.headers.get("sforce-query-options"), self.state.page_size)
        with self._cursor_lock:
            # Real locators stay readable for two days, so a page can be fetched again after a failure;
            # the sandbox keeps the newest MAX_OPEN_CURSORS instead of a clock.
            self._cursors[query_id] = (rows, query.fields, query.object, batch)
            while len(self._cursors) > MAX_OPEN_CURSORS:
                self._cursors.pop(next(iter(self._cursors)))
        return self._page(request, query_id, rows, query.fields, query.object, 0, batch)

    def _check_names(self, query, soql: str) -> None:
        """Refuse, as Salesforce does, a query of an object the org lacks (``INVALID_TYPE``) or naming a field the
        object lacks or hides from the integration user (``INVALID_FIELD``), wherever the statement names it."""
        if query.object not in KEY_PREFIXES:
            raise SoqlError("INVALID_TYPE", f"sObject type '{query.object}' is not supported.")
        known, hidden = self._known_fields(query.object), self._hidden(query.object)
        ordering = [query.order_by] if query.order_by else []
        for field in [*query.fields, *(c.field for c in query.conditions), *ordering]:
            if field not in known or field.lower() in hidden:
                raise SoqlError("INVALID_FIELD", _no_such_column(soql, field, query.object))

    def _select(self, query, include_deleted: bool) -> list[dict]:
        """The records a query whose names were checked (:meth:`_check_names`) selects, in its order."""
        rows = [
            record for record in self._candidates(query)
            if (include_deleted or not record.get("IsDeleted")) and all(c.matches(record) for c in query.conditions)
        ]
        if query.order_by:
            key = query.order_by
            rows.sort(key=lambda r: (r.get(key) is None, r.get(key) or ""), reverse=query.descending)
        return rows[: query.limit] if query.limit is not None else rows

    def _candidates(self, query) -> list[dict]:
        """The records within the query's range conditions on SystemModstamp, in table order, or the whole table.

        The conditions are still checked on every candidate, so the index only spares the scan of the records
        no condition could match (a record without a SystemModstamp matches no range condition on it).
        """
        table = self.state.dataset.table(self.name, query.object)
        bounds = [c for c in query.conditions
                  if c.field == INDEXED_FIELD and c.op in (">", ">=", "<", "<=") and isinstance(c.value, str)]
        if not bounds:
            return table
        values, positions = self._index(query.object)
        low = max((bisect_left(values, c.value) for c in bounds if c.op in (">", ">=")), default=0)
        high = min((bisect_right(values, c.value) for c in bounds if c.op in ("<", "<=")), default=len(values))
        return [table[position] for position in sorted(positions[low:max(low, high)])]

    def _index(self, object_name: str) -> tuple[list[str], list[int]]:
        """The object's SystemModstamp values in order, and the table positions of their records (rebuilt when
        the table changes, see DerivedViews: an advance or an upsert changes records in place)."""
        return self._indexes.get(object_name, self.state.dataset.table(self.name, object_name), _modstamp_index)

    def _page(self, request, query_id, rows, fields, object_name, offset, batch) -> Response:
        chunk = rows[offset : offset + batch]
        version = request.path_params["version"]
        records = [
            {"attributes": {"type": object_name, "url": f"/services/data/v{version}/sobjects/{object_name}/{r['Id']}"},
             **{f: r.get(f) for f in fields}}
            for r in chunk
        ]
        body = {"totalSize": len(rows), "done": offset + batch >= len(rows), "records": records}
        if not body["done"]:
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{query_id}-{offset + batch}"
        return self._with_limits(JSONResponse(body))

    def _known_fields(self, object_name: str) -> list[str]:
        """The standard fields plus any other field found in the newest records (schema drift shows there)."""
        rows = self.state.dataset.table(self.name, object_name)
        fields = dict.fromkeys(STANDARD_FIELDS.get(object_name, ("Id",)))
        for record in rows[:50] + rows[-50:]:
            fields.update(dict.fromkeys(record))
        return list(fields)

    def runs_too_long(self, soql: str | None, most_rows: int) -> bool:
        """Whether the query (None: a next page) scans more than `most_rows` records of its SystemModstamp range (the
        whole object without one); ``COUNT()``, a ``LIMIT`` and a query the endpoint refuses itself (unparseable, an
        unknown object) do not."""
        if soql is None:
            return True
        try:
            query = parse(soql)
        except SoqlError:
            return False
        if query.count or query.limit is not None or query.object not in KEY_PREFIXES:
            return False
        on_index = [c for c in query.conditions if c.field == INDEXED_FIELD]
        scanned = sum(1 for record in self._candidates(query) if all(c.matches(record) for c in on_index))
        return scanned > most_rows

    async def dispatch(self, scope, receive) -> Response:
        """Run the route a request would reach, bypassing faults (a fault may answer a request as usual)."""
        response = await route_response(self.routes(), scope, receive)
        return response if response is not None else _error(404, "NOT_FOUND", "The requested resource does not exist")

    def _authorize(self, request: Request) -> Response | None:
        """None when the request may be answered: a valid token, and the org's daily allocation not spent."""
        if not self.state.tokens.is_valid(self.name, bearer_token(request.headers)):
            return _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if self._api_usage() > self.daily_limit:
            return self._with_limits(_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
        return None

    def _with_limits(self, response: Response) -> Response:
        response.headers["Sforce-Limit-Info"] = f"api-usage={self._api_usage()}/{self.daily_limit}"
        return response


class _TimedOutQuery(Response):
    """Salesforce's ``QUERY_TIMEOUT`` 400 for a query that scans too many rows (see
    :meth:`SalesforceEmulator.runs_too_long`); any other request is answered as usual, and not counted as fired."""

    def __init__(self, emulator: SalesforceEmulator, rule: FaultRule) -> None:
        super().__init__(status_code=400)
        self.emulator = emulator
        self.rule = rule

    async def __call__(self, scope, receive, send) -> None:
        soql = Request(scope, receive).query_params.get("q")
        if self.emulator.runs_too_long(soql, self.rule.rows):
            response = _error(400, "QUERY_TIMEOUT", "Your query request was running for too long.")
        else:
            self.rule.fired -= 1  # `times` counts the queries refused; the event loop runs one request at a time
            response = await self.emulator.dispatch(scope, receive)
        await response(scope, receive, send)


def _batch_size(header: str | None, configured: int | None) -> int:
    """The page size: the sandbox's configured size, else ``Sforce-Query-Options: batchSize=N`` (200..2000)."""
    if configured:
        return configured
    if header and "batchSize=" in header:
        try:
            return max(200, min(2000, int(header.split("batchSize=")[1].split(";")[0])))
        except ValueError:
            pass
    return DEFAULT_BATCH


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse([{"message": message, "errorCode": code}], status_code=status)


def _no_such_column(soql: str, field: str, object_name: str) -> str:
    """Salesforce's ``INVALID_FIELD`` message for `field` of `soql`: the statement's line naming it, a caret under
    it, its row and column, then the text of an unknown column (one hidden by field-level security reads the same)."""
    found = re.search(rf"\b{re.escape(field)}\b", soql, re.IGNORECASE)
    position = found.start() if found else 0
    line_start = soql.rfind("\n", 0, position) + 1
    line = soql[line_start:].split("\n", 1)[0]
    row, column = soql.count("\n", 0, position) + 1, position - line_start + 1
    return (f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n"
            f"No such column '{field}' on entity '{object_name}'. If you are attempting to use a custom field, be "
            "sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call "
            "for the appropriate names.")


def _hidden_fields_setting(body: object) -> dict[str, list[str]]:
    """The hidden-fields control's JSON body checked: object names (or `EVERY_OBJECT`) to lists of field names."""
    if not isinstance(body, dict):
        raise ValueError('the body must be a JSON object such as {"Lead": ["Email"], "*": ["CurrencyIsoCode"]}')
    for object_name, fields in body.items():
        if object_name != EVERY_OBJECT and object_name not in KEY_PREFIXES:
            raise ValueError(f"{object_name!r} is no object of the org (its objects are {', '.join(KEY_PREFIXES)}, "
                             f"or {EVERY_OBJECT} for all of them)")
        if not isinstance(fields, list) or not all(isinstance(name, str) and name for name in fields):
            raise ValueError(f"the fields hidden on {object_name!r} must be a list of field names, not {fields!r}")
    return {object_name: list(fields) for object_name, fields in body.items()}


def _modstamp_index(table: list[dict]) -> tuple[list[str], list[int]]:
    """SystemModstamp values in order and the positions of their records; records without one are left out."""
    ordered = sorted((value, position) for position, record in enumerate(table)
                     if isinstance(value := record.get(INDEXED_FIELD), str))
    return [value for value, _ in ordered], [position for _, position in ordered]


def _usage_setting(body: dict, key: str, minimum: int) -> int | None:
    """The whole number at `key` of the control endpoint's JSON body, at least `minimum`; None when left out."""
    value = body.get(key)
    if value is None:
        return None
    if type(value) is not int or value < minimum:
        raise ValueError(f"{key} must be a whole number of at least {minimum}, not {value!r}")
    return value
