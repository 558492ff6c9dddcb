"""HubSpot emulator: OAuth refresh (the date-versioned 2026-03 API and the deprecated v1), CRM v3 list / get /
batch read / search, owners, deal pipelines, v4 association reads, the CRM v3 properties API, legacy v1 email events and
campaigns, marketing v3 forms and v1 form submissions.

Follows reference/source-apis.md section 2: property values are always strings or null; the list
cursor is opaque and ``paging`` is absent on the last page; ``archived=true`` lists only archived
records; inline associations repeat a company once per label (``contact_to_company`` and
``contact_to_company_unlabeled``); search pages by numeric offset, caps at 10,000 results (400 for
``after`` >= 10000) and never returns archived records; ``X-HubSpot-RateLimit-*`` headers on every
endpoint except search; a 401 ``EXPIRED_AUTHENTICATION`` once a token outlives ``expires_in``; a v4
batch read gives each record at most one page of associations, with its own ``paging`` when more
follow, whose ``after`` goes back in that record's input.

A CRM v3 batch read (``POST /crm/v3/objects/{type}/batch/read``, ``archived`` in the query string, ``properties``,
``inputs`` and an optional ``idProperty`` in the body) takes at most 100 inputs and answers each record found with the
list's property rules; the ids it does not find among the records of the ``archived`` state asked for come back in a
207, as one ``OBJECT_NOT_FOUND`` error naming them all (``context.ids``), HubSpot's own message and shape. A request
whose URI (path and query string) is longer than `MAX_REQUEST_URI` characters is refused at the edge, before
authentication, rate limits and injected faults: a 414 with the edge's HTML page, as HubSpot answers a list naming
too many properties.

Where the reference is silent the emulator chooses (unverified against the real API): the list
cursor is the id of the next record; an inline association list stops at 100 entries per type and
links to the v4 endpoint for the rest; a v4 page holds 500 associations (``--page-size`` forces
fewer), and a batch read's per-record ``paging.next.link`` is the per-record v4 GET; ids without
associations come back in a 207's ``errors``; a CRM v3 batch read naming no ``properties`` answers the object's
default ones, as the list does; forms are listed through marketing v3; a ``limit`` above an endpoint's maximum is a
400.

Rate limits (``serve --hubspot-burst N --hubspot-burst-window-ms MS --hubspot-search-per-second N``, 0: not
enforced; by default the Professional tier, 190 per 10,000 ms and 5 searches a second): an authorized call beyond
the rolling burst window's limit is answered the ``TEN_SECONDLY_ROLLING`` 429 of the reference, with the rate
headers and ``Remaining: 0``; a search beyond its per-second limit the ``SECONDLY`` 429 ("You have reached your
secondly limit."), without rate headers, as search's answers have none. A call refused is not counted, and the
refusals are counted in ``/_sandbox/stats`` (``throttled``). Neither 429 carries ``Retry-After`` (not documented).
Where the reference is silent the emulator chooses (unverified): the OAuth endpoints count toward no limit (they
are not the app's API calls); a search counts toward search's limit alone, not toward the burst (HubSpot announced
search's as a limit of its own, and search answers carry no burst headers a client could pace by); the windows are
rolling, not fixed. Not emulated: the daily limit itself (the injected ``daily_limit`` fault stands in for it).

Deals carry HubSpot's calculated ``hs_v2_date_entered_<stage id>`` properties, one per stage the deal has entered,
holding the moment it last entered that stage (unset for stages it never entered); the properties API lists them as
calculated, read-only datetimes. Its ``hs_v2_date_exited_*`` and time-in-stage siblings are not emulated.

Not emulated either: free-text ``query`` search (refused with a 400), ``propertiesWithHistory``, the
date-versioned ``/crm/objects/2026-03/`` paths. Injected faults answer 429 too, before any counting:
``rate_limit`` with the ten-secondly policy (and a ``Retry-After``), or the emulator's own ``daily_limit`` with the
``DAILY`` policy of a spent daily quota. The emulator's own ``failed_input`` fault has a batch read (of associations
or of records) fail its first input: a 207 with that input's result moved to ``errors`` (an ``INTERNAL_ERROR``, a
shape of the emulator's choosing); ``incomplete_batch`` answers a batch read still ``PROCESSING``, with the results
of only the first half of its inputs (the reference documents ``COMPLETE`` alone; the other statuses are those of
HubSpot's batch response schema); ``repeated_after`` has a batch read send each record asked for a later page of its
associations, and with more to come, the same ``after`` it was asked with, as a source stuck on a page;
``cycled_after`` sends it the ``after`` of the page before the one it asked for, so its paging goes round.

GDPR deletes: ``POST /_sandbox/hubspot/hard-delete`` with ``{"object": "contacts", "ids": ["1051"]}`` removes those
records (contacts, companies or deals, live or archived) entirely, as a GDPR ("permanent") delete does: from then on
neither the list (``archived`` or not), a read by id, search nor the v4 associations find them, their association
rows are gone with them, and ``/_sandbox/stats`` counts them no more. Nothing else changes (another record's
``associatedcompanyid`` naming a removed company keeps it: unverified what HubSpot does there). An object other than
those three or an id it does not hold is refused with a 400 naming them, and nothing is removed; the answer names the
ids removed. A record merged away leaves the listings the same way, so a test merges by listing the loser in the
survivor's ``hs_merged_object_ids`` (``POST /_sandbox/records``) and removing the loser here.

Search-index lag: ``POST /_sandbox/hubspot/search-lag`` with ``{"object": "contacts", "ids": ["1051"]}`` keeps those
records out of search (its ``results`` and ``total``), as records written after the index last caught up, while the
list (``archived`` or not) and reads by id show them as usual; ``DELETE /_sandbox/hubspot/search-lag`` indexes them
all again. A hidden record is missing from search altogether, where HubSpot's index may still hold its previous
version (unverified): an incremental search from a cursor past that version's stamp misses it either way.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import time
import uuid
from bisect import bisect_left, bisect_right
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sandbox.apis._common import DerivedViews, control_body, record_ids_body, route_response, unheld_ids_error
from sandbox.apis.hubspot_properties import property_definitions
from sandbox.apis.hubspot_search import (
    CRM_OBJECTS,
    DEFAULT_PROPERTIES,
    MODIFIED_PROPERTY,
    IdOrdered,
    ObjectIndex,
    ValidationError,
    datetime_key,
    parse_search,
    record_id_number,
    run_search,
)
from sandbox.auth import CLIENT_ID, CLIENT_SECRET, bearer_token, credentials_match, form_fields
from sandbox.dataset import hubspot_datetime
from sandbox.faults import FaultRule, register_kinds
from sandbox.server import SandboxState

PORTAL_ID = 4815162  # the portal the generator's email events claim to come from
LIST_LIMIT = (10, 100)  # (default, maximum) per endpoint
SEARCH_LIMIT = (10, 200)
SEARCH_RESULT_CAP = 10_000
OWNERS_LIMIT = (100, 500)
EVENTS_LIMIT = (10, 1000)
CAMPAIGNS_LIMIT = (10, 1000)  # unverified: the v1 campaigns reference gives no numbers
FORMS_LIMIT = (20, 100)  # unverified for marketing v3 forms
SUBMISSIONS_LIMIT = (20, 50)
ASSOCIATIONS_LIMIT = (500, 500)
ASSOCIATION_BATCH_INPUTS = 1000
OBJECT_BATCH_INPUTS = 100  # a CRM v3 batch read's inputs at most
#: The longest request URI (path and query string) the edge lets through; a longer one is answered 414. HubSpot
#: documents none: PostHog and Airbyte measured about 16,200 and 16,300 characters (a list naming ~450 contact
#: properties passes it). The emulator takes a round number a little under theirs, so a client that fits here fits
#: there.
MAX_REQUEST_URI = 16_000
INLINE_ASSOCIATIONS = 100  # entries per association type inlined in a list page before it is truncated
SEARCH_CACHE_SIZE = 16
#: The emulator's own fault kind: the 429 of a spent daily quota. Fault rules are checked against `KINDS`.
DAILY_LIMIT = "daily_limit"
#: The emulator's own fault kind: a batch read whose first input fails (see :class:`_FailedFirstInput`).
FAILED_INPUT = "failed_input"
#: The emulator's own fault kind: a batch read answered before it completed (see :class:`_IncompleteBatch`).
INCOMPLETE_BATCH = "incomplete_batch"
#: The emulator's own fault kind: a batch read whose paging does not move on (see :class:`_RepeatedAfter`).
REPEATED_AFTER = "repeated_after"
CYCLED_AFTER = "cycled_after"
register_kinds(DAILY_LIMIT, FAILED_INPUT, INCOMPLETE_BATCH, REPEATED_AFTER, CYCLED_AFTER)

OBJECT_ALIASES = {
    "contacts": "contacts", "contact": "contacts", "0-1": "contacts",
    "companies": "companies", "company": "companies", "0-2": "companies",
    "deals": "deals", "deal": "deals", "0-3": "deals",
}
#: v4 association type ids per (from, to): (primary or only type, unlabeled type when there is a primary).
ASSOCIATION_TYPE_IDS = {
    ("contacts", "companies"): (1, 279), ("companies", "contacts"): (2, 280),
    ("deals", "companies"): (5, 341), ("companies", "deals"): (6, 342),
    ("deals", "contacts"): (3, None), ("contacts", "deals"): (4, None),
}
_SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal"}
#: The edge's answer to a request URI over `MAX_REQUEST_URI` (as airbytehq/airbyte#33976 quotes it).
_EDGE_414 = ("<html>\r\n<head><title>414 Request-URI Too Large</title></head>\r\n<body>\r\n"
             "<center><h1>414 Request-URI Too Large</h1></center>\r\n</body>\r\n</html>\r\n")
_EDGE_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
             "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
             "</body>\r\n</html>\r\n")


class _Refusal(Exception):
    """A request answered with an error of its own (an unknown object type), not a 400 ``VALIDATION_ERROR``."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _endpoint(search: bool = False) -> Callable:
    """Wrap an API handler in what every endpoint does around its own work.

    The bearer token is checked first, then the rate limit the call counts toward (search's own per-second one
    for `search`, else the ten-secondly burst); a :class:`ValidationError` the handler raises is answered with
    HubSpot's 400 ``VALIDATION_ERROR``, a :class:`_Refusal` with its response; a dict the handler
    returns is sent as JSON with the rate-limit headers (which search does not send), a `Response` as is.
    """

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        async def endpoint(self: HubSpotEmulator, request: Request) -> Response:
            if (denied := self._authorize(request) or self._admit(search)) is not None:
                return denied
            try:
                body = await handler(self, request)
            except ValidationError as exc:
                return _error(400, str(exc), "VALIDATION_ERROR")
            except _Refusal as refusal:
                return refusal.response
            if isinstance(body, Response):
                return body
            return JSONResponse(body) if search else self._with_rate_headers(JSONResponse(body))

        return endpoint

    return decorate


class HubSpotEmulator:
    """Serves the HubSpot objects of the dataset; see the module docstring."""

    name = "hubspot"
    path_prefixes = ("/crm/", "/oauth/v1/", "/oauth/2026-03/", "/email/public/", "/form-integrations/",
                     "/marketing/v3/")

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        # access token -> wall-clock issue time, to tell an expired token from an unknown one
        self._issued: dict[str, float] = {}
        self._views = DerivedViews(state)
        self._searches: OrderedDict[tuple, tuple[ObjectIndex, list[dict]]] = OrderedDict()
        # object type -> ids of the records search does not find yet (POST /_sandbox/hubspot/search-lag)
        self._unindexed: dict[str, frozenset[str]] = {}
        self._burst = _RollingWindow(state.hubspot_burst, state.hubspot_burst_window_ms / 1000)
        self._searches_sent = _RollingWindow(state.hubspot_search_per_second, 1.0)
        self._routes: list[Route] | None = None

    def routes(self) -> list[Route]:
        """OAuth, CRM objects, search, owners, pipelines, associations, email events, campaigns, forms."""
        if self._routes is None:
            self._routes = [
                Route("/oauth/2026-03/token", self.token_2026_03, methods=["POST"]),
                Route("/oauth/v1/token", self.token, methods=["POST"]),
                Route("/oauth/v1/access-tokens/{token}", self.token_info),
                Route("/crm/v3/objects/{object_type}", self.list_objects),
                Route("/crm/v3/objects/{object_type}/search", self.search, methods=["POST"]),
                Route("/crm/v3/objects/{object_type}/batch/read", self.batch_read, methods=["POST"]),
                Route("/crm/v3/objects/{object_type}/{record_id}", self.get_object),
                Route("/crm/v3/owners", self.owners),
                Route("/crm/v3/owners/", self.owners),
                Route("/crm/v3/properties/{object_type}", self.properties),
                Route("/crm/v3/properties/{object_type}/{property_name}", self.property),
                Route("/crm/v3/pipelines/{object_type}", self.pipelines),
                Route("/crm/v3/pipelines/{object_type}/{pipeline_id}", self.pipeline),
                Route("/crm/v4/associations/{from_type}/{to_type}/batch/read", self.associations_batch_read,
                      methods=["POST"]),
                Route("/crm/v4/objects/{from_type}/{record_id}/associations/{to_type}",
                      self.record_associations),
                Route("/email/public/v1/events", self.email_events),
                Route("/email/public/v1/campaigns", self.campaigns),
                Route("/email/public/v1/campaigns/{campaign_id}", self.campaign),
                Route("/marketing/v3/forms", self.forms),
                Route("/marketing/v3/forms/", self.forms),
                Route("/form-integrations/v1/submissions/forms/{form_guid}", self.form_submissions),
                Route("/_sandbox/hubspot/hard-delete", self.hard_delete_control, methods=["POST"]),
                Route("/_sandbox/hubspot/search-lag", self.search_lag_control, methods=["POST", "DELETE"]),
            ]
        return self._routes

    def edge_refusal(self, request: Request) -> Response | None:
        """The edge's 414 for a request URI (path and query string, as sent) longer than `MAX_REQUEST_URI`; None for
        any other request."""
        query = request.scope.get("query_string", b"")
        length = len(request.scope.get("raw_path") or request.url.path.encode()) + (1 + len(query) if query else 0)
        return HTMLResponse(_EDGE_414, status_code=414) if length > MAX_REQUEST_URI else None

    def fault_response(self, rule: FaultRule) -> Response:
        """HubSpot's signals: the ten-secondly or daily 429 JSON, an edge's HTML 502, a page with one bad record, or
        a batch read with a failed input, an incomplete status or paging that does not move on."""
        if rule.kind == "rate_limit":
            # HubSpot does not document Retry-After; sent so that connectors honouring it can be tested.
            headers = {**self._rate_headers(remaining=0), "Retry-After": str(rule.retry_after)}
            return _rate_limited("TEN_SECONDLY_ROLLING", "ten_secondly_rolling", headers)
        if rule.kind == DAILY_LIMIT:  # nothing to wait for short of the portal's midnight: no Retry-After
            return _rate_limited("DAILY", "daily", self._rate_headers())
        if rule.kind == "malformed":
            return _MalformedPage(self)
        if rule.kind == FAILED_INPUT:
            return _FailedFirstInput(self)
        if rule.kind == INCOMPLETE_BATCH:
            return _IncompleteBatch(self)
        if rule.kind == REPEATED_AFTER:
            return _RepeatedAfter(self)
        if rule.kind == CYCLED_AFTER:
            return _CycledAfter(self)
        return HTMLResponse(_EDGE_502, status_code=502)

    # --- OAuth -------------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        """``POST /oauth/v1/token`` with the refresh-token grant; ``expires_in`` is the sandbox token TTL."""
        form = await form_fields(request)
        if form.get("grant_type") != "refresh_token":
            return _oauth_error("BAD_GRANT_TYPE", "unsupported_grant_type",
                                "grant_type must be refresh_token")
        if not credentials_match(form):
            if form.get("client_id") != CLIENT_ID:
                return _oauth_error("BAD_CLIENT_ID", "invalid_client", "missing or unknown client id")
            if form.get("client_secret") != CLIENT_SECRET:
                return _oauth_error("BAD_CLIENT_SECRET", "invalid_client", "missing or invalid client secret")
            return _oauth_error("BAD_REFRESH_TOKEN", "invalid_grant", "missing or unknown refresh token")
        access_token = self.state.tokens.issue(self.name, prefix="CKSANDBOX")
        self._issued[access_token] = time.time()
        return JSONResponse({"token_type": "bearer", "refresh_token": form["refresh_token"],
                             "access_token": access_token, "expires_in": self._ttl()})

    async def token_2026_03(self, request: Request) -> Response:
        """``POST /oauth/2026-03/token``, the date-versioned OAuth API that replaces v1 (deprecated on 16 February
        2027): v1's refresh grant and answer, its credentials taken from the form body only. It refuses them in
        the query string, where server logs would keep them (HubSpot's v1 migration guide)."""
        in_query = sorted(set(request.query_params) & set(BODY_ONLY_FIELDS))
        if in_query:
            return _oauth_error("BAD_REQUEST", "invalid_request",
                                f"{', '.join(in_query)} must be sent in the request body, not the query string")
        return await self.token(request)

    async def token_info(self, request: Request) -> Response:
        """``GET /oauth/v1/access-tokens/{token}``: the portal and remaining lifetime of a valid token."""
        token = request.path_params["token"]
        if not self.state.tokens.is_valid(self.name, token):
            return _error(404, "The access token is invalid or expired.", "OBJECT_NOT_FOUND")
        remaining = self._issued.get(token, time.time()) + self._ttl() - time.time()
        return JSONResponse({
            "token": token, "user": "sandbox-admin@commonground-demo.com",
            "hub_domain": "commonground-demo.com",
            "scopes": ["oauth", "crm.objects.contacts.read", "crm.objects.companies.read",
                       "crm.objects.deals.read", "crm.objects.owners.read", "content", "forms"],
            "hub_id": PORTAL_ID, "app_id": 113, "expires_in": max(0, int(remaining)), "user_id": 1,
            "token_type": "access",
        })

    # --- CRM objects -------------------------------------------------------------------------------

    @_endpoint()
    async def list_objects(self, request: Request) -> Response | dict:
        """``GET /crm/v3/objects/{type}``: a page in id order, ``after`` cursor, ``archived=true`` sweep."""
        object_type = _object_type(request)
        limit = _int_param(request, "limit", *LIST_LIMIT)
        after = _id_cursor(request.query_params.get("after"))
        index = self._index(object_type)
        names = _selected_properties(object_type, _csv_param(request, "properties"))
        to_types = _association_types(_csv_param(request, "associations"))
        page, after_next = _id_page(index.archived if _flag(request, "archived") else index.live, after,
                                    self._page_size(limit))
        return _paged(request, [self._render(r, object_type, names, to_types) for r in page], after_next)

    @_endpoint()
    async def get_object(self, request: Request) -> Response | dict:
        """``GET /crm/v3/objects/{type}/{id}``: one record, with the list's property and association rules."""
        object_type = _object_type(request)
        record_id = request.path_params["record_id"]
        record = self._index(object_type).find(record_id, archived=_flag(request, "archived"))
        if record is None:
            return _error(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND",
                          context={"id": [record_id]})
        names = _selected_properties(object_type, _csv_param(request, "properties"))
        to_types = _association_types(_csv_param(request, "associations"))
        return self._render(record, object_type, names, to_types)

    @_endpoint()
    async def batch_read(self, request: Request) -> Response | dict:
        """``POST /crm/v3/objects/{type}/batch/read``: records by id (or by the unique property ``idProperty`` names),
        with the list's property rules, among the live records or, ``archived=true``, the archived ones; 207 and one
        ``OBJECT_NOT_FOUND`` error for the ids not found there."""
        object_type = _object_type(request)
        body = await _json_body(request)
        inputs = _batch_inputs(body, OBJECT_BATCH_INPUTS)
        names = _selected_properties(object_type, _body_properties(body))
        find = self._finder(object_type, _flag(request, "archived"), body.get("idProperty"))
        started = _now_text()
        results, missing = [], []
        for item in inputs:
            record = find(str(item["id"]))
            if record is None:
                missing.append(str(item["id"]))
            else:
                results.append(self._render(record, object_type, names))
        reply: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if missing:
            reply.update(numErrors=1, errors=[_objects_not_found_error(object_type, missing)])
        reply.update(startedAt=started, completedAt=_now_text())
        return self._with_rate_headers(JSONResponse(reply, status_code=207 if missing else 200))

    @_endpoint(search=True)
    async def search(self, request: Request) -> Response | dict:
        """``POST /crm/v3/objects/{type}/search``: filter groups, one sort, offset paging to 10,000."""
        object_type = _object_type(request)
        index = self._index(object_type)
        query = parse_search(await _json_body(request), index, SEARCH_LIMIT[1])
        if query.after >= SEARCH_RESULT_CAP:
            raise ValidationError(f"There was a problem with the request. Search results are capped at "
                                  f"{SEARCH_RESULT_CAP}; after={query.after} is beyond them.")
        matches = self._search_results(object_type, index, query)
        stop = min(query.after + self._page_size(query.limit), len(matches), SEARCH_RESULT_CAP)
        names = _selected_properties(object_type, query.properties)
        page = matches[query.after:stop]
        body: dict[str, Any] = {"total": len(matches),
                                "results": [self._render(r, object_type, names) for r in page]}
        if stop < len(matches):
            body["paging"] = {"next": {"after": str(stop), "link": f"?after={stop}"}}
        return body

    async def hard_delete_control(self, request: Request) -> Response:
        """``POST /_sandbox/hubspot/hard-delete`` ``{"object": "contacts", "ids": ["1051"]}``: remove those records
        and their associations entirely, a GDPR delete (see the module docstring); answers the object and the ids
        removed."""
        try:
            object_type, ids = _record_ids(await control_body(request), "remove")
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        table = self.state.dataset.table(self.name, object_type)
        if refusal := unheld_ids_error(table, object_type, ids, "id", "nothing was removed"):
            return JSONResponse({"error": refusal}, status_code=400)
        removed = set(ids)
        # In place, so every holder of the tables sees the removal; they shrink, so the views of them are stale.
        table[:] = [record for record in table if str(record.get("id")) not in removed]
        links = self.state.dataset.table(self.name, "associations")
        links[:] = [row for row in links if not _links_any(row, object_type, removed)]
        self.prepare()  # the stale views (list, search, associations) rebuilt now, not in the next request
        return JSONResponse({"object": object_type, "removed": ids})

    async def search_lag_control(self, request: Request) -> Response:
        """``POST /_sandbox/hubspot/search-lag`` ``{"object": "contacts", "ids": ["1051"]}``: keep those records out of
        search, as records its index has not caught up with (see the module docstring), besides any hidden before;
        answers the object and every id of it hidden. ``DELETE``: search finds them all again; answers the ids
        released, per object."""
        if request.method == "DELETE":
            released = {object_type: sorted(ids, key=int) for object_type, ids in self._unindexed.items() if ids}
            self._unindexed.clear()
            return JSONResponse({"released": released})
        try:
            object_type, ids = _record_ids(await control_body(request), "hide from search")
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        table = self.state.dataset.table(self.name, object_type)
        if refusal := unheld_ids_error(table, object_type, ids, "id", "nothing was hidden"):
            return JSONResponse({"error": refusal}, status_code=400)
        hidden = self._unindexed[object_type] = self._unindexed.get(object_type, frozenset()) | set(ids)
        return JSONResponse({"object": object_type, "hidden": sorted(hidden, key=int)})

    # --- properties ---------------------------------------------------------------------------------

    @_endpoint()
    async def properties(self, request: Request) -> Response | dict:
        """``GET /crm/v3/properties/{type}``: every property the object's records carry, with its type; no paging.

        ``archived=true`` lists archived property definitions, of which the sandbox has none.
        """
        object_type = _object_type(request)
        return {"results": [] if _flag(request, "archived") else self._properties(object_type)}

    @_endpoint()
    async def property(self, request: Request) -> Response | dict:
        """``GET /crm/v3/properties/{type}/{name}``: one property definition, 404 when the object has no such one."""
        object_type = _object_type(request)
        name = request.path_params["property_name"]
        found = next((p for p in self._properties(object_type) if p["name"] == name), None)
        if found is None:
            return _error(404, f"Unable to find property {name} for object type {object_type}", "OBJECT_NOT_FOUND")
        return found

    # --- owners and pipelines ----------------------------------------------------------------------

    @_endpoint()
    async def owners(self, request: Request) -> Response | dict:
        """``GET /crm/v3/owners``: owners in id order, ``after`` cursor, ``email`` filter, ``archived``."""
        limit = _int_param(request, "limit", *OWNERS_LIMIT)
        after = _id_cursor(request.query_params.get("after"))
        archived = _flag(request, "archived")
        view = self._owners(archived)
        email = (request.query_params.get("email") or "").casefold()
        if email:
            rows = [r for r in view.rows if str(r.get("email", "")).casefold() == email]
            view = IdOrdered([record_id_number(r) for r in rows], rows)
        return _paged(request, *_id_page(view, after, self._page_size(limit)))

    @_endpoint()
    async def pipelines(self, request: Request) -> Response | dict:
        """``GET /crm/v3/pipelines/{type}``: every pipeline with its stages (only deals carry any here)."""
        is_deals = OBJECT_ALIASES.get(request.path_params["object_type"]) == "deals"
        return {"results": self.state.dataset.table(self.name, "pipelines") if is_deals else []}

    @_endpoint()
    async def pipeline(self, request: Request) -> Response | dict:
        """``GET /crm/v3/pipelines/{type}/{id}``: one pipeline."""
        wanted = request.path_params["pipeline_id"]
        found = _by_id(self.state.dataset.table(self.name, "pipelines"), wanted)
        if found is None or OBJECT_ALIASES.get(request.path_params["object_type"]) != "deals":
            return _error(404, f"Unable to find pipeline with ID {wanted}", "OBJECT_NOT_FOUND")
        return found

    # --- associations ------------------------------------------------------------------------------

    @_endpoint()
    async def associations_batch_read(self, request: Request) -> Response | dict:
        """``POST /crm/v4/associations/{from}/{to}/batch/read``; 207 and ``errors`` for unassociated ids.

        Each record gets one page of its associations from its input's ``after`` on; a record with more
        carries ``paging.next`` (``after`` for its next input, ``link`` to the per-record GET).
        """
        from_type, to_type = _object_type(request, "from_type"), _object_type(request, "to_type")
        inputs = _batch_inputs(await _json_body(request), ASSOCIATION_BATCH_INPUTS)
        started = _now_text()
        results, errors = [], []
        for item in inputs:
            record_id = str(item["id"])
            targets = self._association_targets(from_type, record_id, to_type)
            if not targets:
                errors.append(_no_associations_error(from_type, to_type, record_id))
                continue
            page, after_next = _page_of(targets, _offset_cursor(item.get("after")),
                                        self._page_size(ASSOCIATIONS_LIMIT[1]))
            result: dict[str, Any] = {"from": {"id": record_id},
                                      "to": [_v4_target(from_type, to_type, t) for t in page]}
            if after_next is not None:
                link = _record_associations_link(request, from_type, record_id, to_type, after_next)
                result["paging"] = {"next": {"after": after_next, "link": link}}
            results.append(result)
        body: dict[str, Any] = {"status": "COMPLETE", "results": results}
        if errors:
            body.update(numErrors=len(errors), errors=errors)
        body.update(startedAt=started, completedAt=_now_text())
        return self._with_rate_headers(JSONResponse(body, status_code=207 if errors else 200))

    @_endpoint()
    async def record_associations(self, request: Request) -> Response | dict:
        """``GET /crm/v4/objects/{from}/{id}/associations/{to}``: one record's associations, paged."""
        from_type, to_type = _object_type(request, "from_type"), _object_type(request, "to_type")
        limit = _int_param(request, "limit", *ASSOCIATIONS_LIMIT)
        start = _offset_cursor(request.query_params.get("after"))
        targets = self._association_targets(from_type, request.path_params["record_id"], to_type)
        page, after_next = _page_of(targets, start, self._page_size(limit))
        return _paged(request, [_v4_target(from_type, to_type, t) for t in page], after_next)

    # --- marketing ---------------------------------------------------------------------------------

    @_endpoint()
    async def email_events(self, request: Request) -> Response | dict:
        """``GET /email/public/v1/events``: newest first, inclusive ms window, ``offset`` token paging."""
        limit = _int_param(request, "limit", *EVENTS_LIMIT)
        start_ms = _optional_int(request, "startTimestamp")
        end_ms = _optional_int(request, "endTimestamp")
        campaign_id = _optional_int(request, "campaignId")
        app_id = _optional_int(request, "appId")
        resume = _event_cursor(request.query_params.get("offset"))
        keys, rows = self._newest_events()
        low = bisect_left(keys, -end_ms) if end_ms is not None else 0
        high = bisect_right(keys, -start_ms) if start_ms is not None else len(keys)
        if resume == "done":
            low = high
        elif resume is not None:
            low = max(low, _resume_position(keys, rows, resume, "id"))
        wanted = _event_filter(request.query_params.get("eventType"), campaign_id, app_id,
                               request.query_params.get("recipient"))
        events, next_event = _collect(rows, low, high, wanted, self._page_size(limit))
        offset = _token("done") if next_event is None else _token(next_event["created"], next_event["id"])
        return {"hasMore": next_event is not None, "offset": offset, "events": events}

    @_endpoint()
    async def campaigns(self, request: Request) -> Response | dict:
        """``GET /email/public/v1/campaigns``: ids with ``lastUpdatedTime``, ``offset`` token paging."""
        limit = _int_param(request, "limit", *CAMPAIGNS_LIMIT)
        start = _offset_cursor(request.query_params.get("offset"))
        rows = self._emails_by_id()
        page, after_next = _page_of(rows, start, self._page_size(limit))
        campaigns = [{"id": r["id"], "lastUpdatedTime": r.get("lastUpdatedTime"), "appId": r.get("appId"),
                      "appName": r.get("appName")} for r in page]
        return {"campaigns": campaigns, "hasMore": after_next is not None, "offset": after_next or _token(len(rows))}

    @_endpoint()
    async def campaign(self, request: Request) -> Response | dict:
        """``GET /email/public/v1/campaigns/{id}``: one campaign with its name and subject."""
        wanted = request.path_params["campaign_id"]
        found = _by_id(self.state.dataset.table(self.name, "marketing_emails"), wanted)
        if found is None:
            return _error(404, f"campaign {wanted} not found", "OBJECT_NOT_FOUND")
        return {"type": "BATCH_EMAIL", **found}

    @_endpoint()
    async def forms(self, request: Request) -> Response | dict:
        """``GET /marketing/v3/forms``: CRM-style ``results`` with ISO timestamps, ``after`` paging."""
        limit = _int_param(request, "limit", *FORMS_LIMIT)
        start = _offset_cursor(request.query_params.get("after"))
        rows = [] if _flag(request, "archived") else self.state.dataset.table(self.name, "forms")
        page, after_next = _page_of(rows, start, self._page_size(limit))
        return _paged(request, [_form(r) for r in page], after_next)

    @_endpoint()
    async def form_submissions(self, request: Request) -> Response | dict:
        """``GET /form-integrations/v1/submissions/forms/{guid}``: newest first, <= 50 a page, ``after``."""
        guid = request.path_params["form_guid"]
        limit = _int_param(request, "limit", *SUBMISSIONS_LIMIT)
        resume = _event_cursor(request.query_params.get("after"))
        by_form = self._submissions_per_form()
        known = {f.get("guid") for f in self.state.dataset.table(self.name, "forms")}
        if guid not in by_form and guid not in known:
            return _error(404, f"Form {guid} not found.", "OBJECT_NOT_FOUND")
        keys, rows = by_form.get(guid, ([], []))
        start = 0
        if resume == "done":
            start = len(rows)
        elif resume is not None:
            start = _resume_position(keys, rows, resume, "conversionId", inclusive=False)
        page = rows[start:start + self._page_size(limit)]
        after_next = None
        if start + len(page) < len(rows):
            after_next = _token(page[-1]["submittedAt"], page[-1]["conversionId"])
        return _paged(request, [_submission(s) for s in page], after_next)

    # --- internals ---------------------------------------------------------------------------------

    def _authorize(self, request: Request) -> Response | None:
        token = bearer_token(request.headers)
        if self.state.tokens.is_valid(self.name, token):
            return None
        issued = self._issued.get(token or "")
        if issued is None:
            return _error(401, "Authentication credentials not found. This API supports OAuth 2.0 "
                               "authentication and you can find more details at "
                               "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                          "INVALID_AUTHENTICATION")
        now = time.time()
        expired_at = min(now, issued + self._ttl())
        ago = int(now - expired_at)
        amount = f"{ago // 60} minute(s)" if ago >= 60 else f"{ago} second(s)"
        expire_time = hubspot_datetime(datetime.fromtimestamp(expired_at, UTC))
        return _error(401, f"The OAuth token used to make this call expired {amount} ago.",
                      "EXPIRED_AUTHENTICATION", context={"expire time": [expire_time]})

    def _ttl(self) -> int:
        return int(round(self.state.tokens.ttl_seconds))

    def _admit(self, search: bool) -> Response | None:
        """Count an authorized call toward its rate limit: search's per-second one for a search, else the
        ten-secondly burst. None when the limit has room; else the 429 of the policy passed (not counted)."""
        now = time.monotonic()
        if search:
            if self._searches_sent.admit(now):
                return None
            return self._throttled(_rate_limited("SECONDLY", "secondly", {}))  # search sends no rate headers
        if self._burst.admit(now):
            return None
        return self._throttled(_rate_limited("TEN_SECONDLY_ROLLING", "ten_secondly_rolling",
                                             self._rate_headers(remaining=0)))

    def _throttled(self, response: Response) -> Response:
        """`response`, a 429 of the emulator's own limits, counted in ``/_sandbox/stats``."""
        self.state.throttled[self.name] = self.state.throttled.get(self.name, 0) + 1
        return response

    def _rate_headers(self, remaining: int | None = None) -> dict[str, str]:
        """The burst headers: the enforced limit, or the default tier's, counted only, when none is enforced."""
        most = self._burst.limit or SandboxState.hubspot_burst  # the default tier's, when none is enforced
        if remaining is None:
            remaining = max(0, most - self._burst.used(time.monotonic()))
        return {"X-HubSpot-RateLimit-Interval-Milliseconds": str(self.state.hubspot_burst_window_ms),
                "X-HubSpot-RateLimit-Max": str(most), "X-HubSpot-RateLimit-Remaining": str(remaining)}

    def _with_rate_headers(self, response: Response) -> Response:
        response.headers.update(self._rate_headers())
        return response

    def _page_size(self, limit: int) -> int:
        return self.state.page_size or limit

    def _view(self, obj: str, kind: str, build: Callable[[list[dict]], Any], variant: str = "") -> Any:
        """A derived view of one table, rebuilt only when the table changes (see DerivedViews)."""
        return self._views.get((obj, kind + variant), self.state.dataset.table(self.name, obj), build)

    def prepare(self) -> None:
        """Build every view the endpoints read, for the current data.

        The views are otherwise built by the first request that needs them after the data changed, and that
        request would pay for what a real API keeps ready (its indexes): after a time-travel advance, the next
        night's first sync paid about 5 s at scale M that the same sync did not pay again.
        """
        for object_type, modified in MODIFIED_PROPERTY.items():
            self._index(object_type).prepare(sorted_by=(modified,))
            self._properties(object_type)
        for from_type, to_type in ASSOCIATION_TYPE_IDS:
            self._associations(from_type, to_type)
        for archived in (False, True):
            self._owners(archived)
        self._newest_events()
        self._emails_by_id()
        self._submissions_per_form()

    def _index(self, object_type: str) -> ObjectIndex:
        return self._view(object_type, "index", lambda rows: ObjectIndex(object_type, rows))

    def _properties(self, object_type: str) -> list[dict]:
        return self._view(object_type, "properties", lambda rows: property_definitions(object_type, rows))

    def _associations(self, from_type: str, to_type: str) -> dict[str, list[tuple[str, str]]]:
        return self._view("associations", f"{from_type}>{to_type}",
                          lambda rows: _association_map(rows, from_type, to_type))

    def _owners(self, archived: bool) -> IdOrdered:
        return self._view("owners", "owners", lambda rows: _id_ordered_split(rows, archived=archived),
                          variant=str(archived))

    def _newest_events(self) -> tuple[list[int], list[dict]]:
        return self._view("email_events", "newest_first", _events_newest_first)

    def _emails_by_id(self) -> list[dict]:
        return self._view("marketing_emails", "by_id", lambda table: sorted(table, key=record_id_number))

    def _submissions_per_form(self) -> dict[str, tuple[list[int], list[dict]]]:
        return self._view("form_submissions", "by_form", _submissions_by_form)

    def _search_results(self, object_type: str, index: ObjectIndex, query) -> list[dict]:
        """The ordered result list of a query, kept for its next pages (search pages by offset), without the
        records hidden from search."""
        unindexed = self._unindexed.get(object_type, frozenset())
        key = (object_type, query.cache_key, unindexed)  # hiding or releasing records makes another result list
        cached = self._searches.get(key)
        if cached is None or cached[0] is not index:  # the index is rebuilt whenever the records change
            matches = run_search(index, query)
            if unindexed:
                matches = [record for record in matches if str(record["id"]) not in unindexed]
            cached = self._searches[key] = (index, matches)
            while len(self._searches) > SEARCH_CACHE_SIZE:
                self._searches.popitem(last=False)
        else:
            self._searches.move_to_end(key)
        return cached[1]

    def _finder(self, object_type: str, archived: bool, id_property: str | None) -> Callable[[str], dict | None]:
        """Finds a record of `object_type` among the live (or the `archived`) ones by its id or, when `id_property`
        names another property, by that property's value."""
        index = self._index(object_type)
        if id_property in (None, "hs_object_id"):
            return lambda record_id: index.find(record_id, archived)
        if not isinstance(id_property, str):
            raise ValidationError(f"Invalid input JSON: idProperty must be a property name, got {id_property!r}")
        view = index.archived if archived else index.live
        by_value = {}
        for record in view.rows:
            value = _wire_value((record.get("properties") or {}).get(id_property))
            if value is not None:
                by_value.setdefault(value, record)
        return by_value.get

    def _association_targets(self, from_type: str, record_id: str, to_type: str) -> list[tuple[str, str]]:
        """``(to_id, association type name)`` pairs of one record, primary label first, without repeats."""
        return self._associations(from_type, to_type).get(record_id, [])

    def _render(self, record: dict, object_type: str, names: tuple[str, ...],
                to_types: tuple[str, ...] = ()) -> dict:
        """A record as the API sends it: selected properties as strings, archivedAt, inline associations."""
        properties = record.get("properties")
        if isinstance(properties, dict):
            properties = {name: _wire_value(properties[name]) for name in names if name in properties}
        rendered = {"id": record["id"], "properties": properties, "createdAt": record.get("createdAt"),
                    "updatedAt": record.get("updatedAt"), "archived": bool(record.get("archived"))}
        if rendered["archived"]:
            rendered["archivedAt"] = record.get("archivedAt") or record.get("updatedAt")
        associations = {}
        for to_type in to_types:
            targets = self._association_targets(object_type, record["id"], to_type)
            entries, covered = _inline_entries(object_type, to_type, targets)
            if entries:
                associations[to_type] = {"results": entries}
            if covered < len(targets):
                after = _token(covered)
                link = f"/crm/v4/objects/{object_type}/{record['id']}/associations/{to_type}?after={after}"
                associations[to_type]["paging"] = {"next": {"after": after, "link": link}}
        if associations:
            rendered["associations"] = associations
        return rendered

    async def dispatch(self, scope, receive) -> Response:
        """Run the route a request would reach, bypassing faults (a malformed page starts as a real one)."""
        response = await route_response(self.routes(), scope, receive)
        return response if response is not None else _error(404, "Not found", "OBJECT_NOT_FOUND")


class _RollingWindow:
    """The calls a rolling window admitted: at most `limit` in any `seconds` (0: every call, counted only).

    A call refused is not counted: a client that keeps asking is served again as soon as the window has room.
    """

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._moments: deque[float] = deque()

    def admit(self, now: float) -> bool:
        """Whether a call at `now` (monotonic seconds) is within the limit; counted if so."""
        if self.limit and self.used(now) >= self.limit:
            return False
        self._moments.append(now)
        return True

    def used(self, now: float) -> int:
        """The calls admitted in the window that ends at `now`."""
        while self._moments and self._moments[0] <= now - self.seconds:
            self._moments.popleft()
        return len(self._moments)


class _Rewritten(Response):
    """The JSON answer the request would have got, changed by :meth:`rewrite`; other answers go out as they are.

    The request's JSON body (None when it has none) is in `asked` while :meth:`rewrite` runs.
    """

    def __init__(self, emulator: HubSpotEmulator) -> None:
        super().__init__(status_code=200)
        self.emulator = emulator
        self.asked: Any = None

    def rewrite(self, body: dict, status: int) -> int:
        """Change `body` in place; the status the changed answer is sent with."""
        raise NotImplementedError

    async def __call__(self, scope, receive, send) -> None:
        sent = await Request(scope, receive).body()
        try:
            self.asked = json.loads(sent) if sent else None
        except ValueError:
            self.asked = None

        async def replay() -> dict:  # the route reads the body this response has already read
            return {"type": "http.request", "body": sent, "more_body": False}

        response = await self.emulator.dispatch(scope, replay)
        if response.status_code >= 300 or response.media_type != "application/json":
            await response(scope, receive, send)
            return
        body = json.loads(response.body)
        status = self.rewrite(body, response.status_code)
        headers = {k: v for k, v in response.headers.items() if k.lower().startswith("x-hubspot")}
        await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)


class _MalformedPage(_Rewritten):
    """The page the request would have got, with its first record broken and everything else intact.

    The paging stays valid, so a connector that quarantines the broken record and carries on still
    reads every other record; one that trusts the shape crashes.
    """

    def rewrite(self, body: dict, status: int) -> int:
        """Break the first record; the page is sent as a 200."""
        _break_first_record(body)
        return 200


class _FailedFirstInput(_Rewritten):
    """A batch read whose first input failed: its result moves to ``errors`` of a 207, the others stay.

    A connector that reads only ``results`` takes that record for one without associations (a v4 read), or for one
    deleted since it was listed (a CRM v3 read of records).
    """

    def rewrite(self, body: dict, status: int) -> int:
        """Move the first result to ``errors``; a body without batch results is left as it is."""
        results = body.get("results")
        if "completedAt" not in body or not isinstance(results, list) or not results:
            return status
        failed = results.pop(0)
        if "from" in failed:  # associations
            record_id = str(failed["from"]["id"])
            context, message = {"fromObjectId": [record_id]}, f"The associations of {record_id} could not be read."
        else:
            record_id = str(failed["id"])
            context, message = {"ids": [record_id]}, f"Record {record_id} could not be read."
        error = {"status": "error", "category": "INTERNAL_ERROR", "context": context, "message": message,
                 "errors": []}
        errors = [error, *body.get("errors", [])]
        body.update(numErrors=len(errors), errors=errors)
        return 207


class _IncompleteBatch(_Rewritten):
    """A v4 batch read answered while still ``PROCESSING``: the results of the second half of its inputs are missing.

    A connector that does not check ``status`` takes the missing records for ones without associations.
    """

    def rewrite(self, body: dict, status: int) -> int:
        """Set the status and drop the later results; a body that is not a batch answer is left as it is."""
        results = body.get("results")
        if "completedAt" not in body or not isinstance(results, list):
            return status
        del results[len(results) // 2:]
        body["status"] = "PROCESSING"
        return status


class _RepeatedAfter(_Rewritten):
    """A v4 batch read stuck on a page: a record asked for its associations from an ``after`` on, with more to
    come, is sent that same ``after`` (and its link) again; first pages and last pages are left as they are.

    A connector that follows the cursor without checking that it moves reads the same page forever.
    """

    def rewrite(self, body: dict, status: int) -> int:
        """Put back in each record's paging the ``after`` :meth:`next_after` gives for the one it was asked with."""
        inputs = (self.asked or {}).get("inputs") if isinstance(self.asked, dict) else None
        if "completedAt" not in body or not isinstance(inputs, list):
            return status
        asked = {str(item.get("id")): item.get("after") for item in inputs if isinstance(item, dict)}
        for result in body.get("results") or ():
            following = (result.get("paging") or {}).get("next")
            if not following:  # a last page, or a record of a CRM v3 batch read (never paged)
                continue
            after = asked.get(str(result["from"]["id"]))
            sent = self.next_after(after, following["after"]) if after else None
            if sent:
                following["after"] = sent
                following["link"] = f"{following['link'].split('?')[0]}?{urlencode({'after': sent})}"
        return status

    def next_after(self, asked: str, following: str) -> str | None:
        """The ``after`` sent to a record asked from `asked` whose real next page is `following` (None: as is)."""
        return asked


class _CycledAfter(_RepeatedAfter):
    """A v4 batch read whose paging goes round: a record asked for a later page of its associations, with more to
    come, is sent the ``after`` of the page before the one it asked for, so it reads its first pages in a loop.

    A connector that only checks that each ``after`` differs from the last one reads them forever.
    """

    def next_after(self, asked: str, following: str) -> str | None:
        """The page before `asked` (the pages are one size: `following` is one page past `asked`)."""
        start, stop = _offset_cursor(asked), _offset_cursor(following)
        return _token(2 * start - stop) if 2 * start - stop >= 0 else None


def _break_first_record(body: dict) -> None:
    """Corrupt a page's first record: properties become a string, a timestamp becomes text, or the id goes."""
    lists = [body[key] for key in ("results", "events", "campaigns") if isinstance(body.get(key), list)]
    records = lists[0] if lists else None
    if records is None:
        return
    if not records:
        records.append({"id": None, "properties": "{}"})
        return
    first = records[0]
    if isinstance(first.get("properties"), dict):
        first["properties"] = json.dumps(first["properties"])
    elif "values" in first:
        first["values"] = "email=broken"
    elif "created" in first:
        first["created"] = hubspot_datetime(datetime.now(UTC))
    else:
        first["id"] = None


# --- request parsing ---------------------------------------------------------------------------------


def _int_param(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be an integer, got {raw!r}") from None
    if not 1 <= value <= maximum:
        raise ValidationError(f"{name} must be between 1 and {maximum}, got {value}")
    return value


def _optional_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be an integer, got {raw!r}") from None


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


def _csv_param(request: Request, name: str) -> list[str] | None:
    """A comma-separated and/or repeated query parameter, or None when absent."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"Invalid input JSON on line {getattr(exc, 'lineno', 1)}: {exc}") from None


def _selected_properties(object_type: str, requested: list[str] | None) -> tuple[str, ...]:
    """Requested properties plus the always-returned ones, or the object's defaults when none are named."""
    if requested is None:
        return DEFAULT_PROPERTIES[object_type]
    return tuple(dict.fromkeys([*requested, "createdate", "hs_object_id", MODIFIED_PROPERTY[object_type]]))


def _record_ids(body: object, action: str) -> tuple[str, list[str]]:
    """A records control's body checked (the hard delete's, the search lag's): a CRM object and its record ids."""
    return record_ids_body(body, CRM_OBJECTS, '{"object": "contacts", "ids": ["1051"]}', "CRM object of the portal",
                           action)


def _links_any(row: dict, object_type: str, ids: set[str]) -> bool:
    """Whether an association row links a record of `object_type` whose id is one of `ids`, at either end."""
    return any(OBJECT_ALIASES.get(row.get(f"{end}_type")) == object_type and str(row.get(f"{end}_id")) in ids
               for end in ("from", "to"))


def _association_types(requested: list[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(OBJECT_ALIASES[name] for name in requested or () if name in OBJECT_ALIASES))


def _object_type(request: Request, parameter: str = "object_type") -> str:
    """The CRM object a path parameter names (``contacts``, ``0-1``, ``contact``...); a 400 for any other."""
    name = request.path_params[parameter]
    object_type = OBJECT_ALIASES.get(name)
    if object_type is None:
        raise _Refusal(_unknown_object(name))
    return object_type


def _batch_inputs(body: Any, most: int) -> list[dict]:
    """A batch read's ``inputs``, each with an id, `most` at most."""
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(i, dict) and i.get("id") is not None
                                               for i in inputs):
        raise ValidationError("Invalid input JSON: inputs must be an array of objects with an id")
    if len(inputs) > most:
        raise ValidationError(f"Batch read accepts at most {most} inputs, got {len(inputs)}")
    return inputs


def _body_properties(body: dict) -> list[str] | None:
    """The property names a batch read's body asks for; None when it names none (the object's defaults then)."""
    names = body.get("properties")
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ValidationError("Invalid input JSON: properties must be an array of property names")
    return names


# --- cursors: opaque to clients, decoded only here -------------------------------------------------------


def _token(*parts: Any) -> str:
    return base64.urlsafe_b64encode(":".join(map(str, parts)).encode()).decode().rstrip("=")


def _untoken(text: str) -> str:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationError(f"Invalid paging token {text!r}") from None


def _id_cursor(after: str | None) -> int | None:
    """The list cursor: the numeric id of the next record (opaque to clients, though numeric-looking)."""
    if after is None or after == "":
        return None
    if not after.isdigit():
        raise ValidationError(f"Invalid after value {after!r}")
    return int(after)


def _offset_cursor(after: str | None) -> int:
    if not after:
        return 0
    decoded = _untoken(after)
    if not decoded.isdigit():
        raise ValidationError(f"Invalid paging token {after!r}")
    return int(decoded)


def _event_cursor(token: str | None) -> tuple[int, str] | str | None:
    """``(moment, id)`` of the next item to return (or the item last returned), ``"done"``, or None."""
    if not token:
        return None
    decoded = _untoken(token)
    if decoded == "done":
        return "done"
    moment, _, item_id = decoded.partition(":")
    if not moment.lstrip("-").isdigit() or not item_id:
        raise ValidationError(f"Invalid offset token {token!r}")
    return int(moment), item_id


def _id_page(view: IdOrdered, after: int | None, size: int) -> tuple[list[dict], str | None]:
    """One page of an id-ordered view from the id `after` on, and the id that starts the next page (or None)."""
    start = bisect_left(view.ids, after) if after is not None else 0
    stop = start + size
    return view.rows[start:stop], (str(view.ids[stop]) if stop < len(view.rows) else None)


def _page_of(items: list, start: int, size: int) -> tuple[list, str | None]:
    """One page of a list paged by position, and the token of the next page (None on the last)."""
    stop = start + size
    return items[start:stop], (_token(stop) if stop < len(items) else None)


# --- views ------------------------------------------------------------------------------------------------


def _id_ordered_split(rows: list[dict], archived: bool) -> IdOrdered:
    chosen = sorted((r for r in rows if bool(r.get("archived")) == archived), key=record_id_number)
    return IdOrdered([record_id_number(r) for r in chosen], chosen)


def _events_newest_first(rows: list[dict]) -> tuple[list[int], list[dict]]:
    """Email events newest first (ties by id); the keys are the negated ``created`` stamps, for bisect."""
    ordered = sorted(rows, key=lambda e: (-int(e["created"]), str(e["id"])))
    return [-int(e["created"]) for e in ordered], ordered


def _submissions_by_form(rows: list[dict]) -> dict[str, tuple[list[int], list[dict]]]:
    """Form submissions per form guid, newest first (ties by conversion id), with negated stamps as keys."""
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row.get("formGuid"), []).append(row)
    views = {}
    for guid, items in grouped.items():
        items.sort(key=lambda s: (-int(s["submittedAt"]), str(s["conversionId"])))
        views[guid] = ([-int(s["submittedAt"]) for s in items], items)
    return views


def _resume_position(keys: list[int], rows: list[dict], cursor: tuple[int, str], id_field: str,
                     inclusive: bool = True) -> int:
    """Where a newest-first scan resumes: at the cursor item (inclusive) or just after it."""
    moment, item_id = cursor
    position = bisect_left(keys, -moment)
    while position < len(keys) and keys[position] == -moment:
        current = str(rows[position][id_field])
        if current > item_id or (inclusive and current == item_id):
            break
        position += 1
    return position


def _event_filter(event_type: str | None, campaign_id: int | None, app_id: int | None,
                  recipient: str | None) -> Callable[[dict], bool]:
    wanted_recipient = recipient.casefold() if recipient else None

    def matches(event: dict) -> bool:
        return ((event_type is None or event.get("type") == event_type)
                and (campaign_id is None or event.get("emailCampaignId") == campaign_id)
                and (app_id is None or event.get("appId") == app_id)
                and (wanted_recipient is None
                     or str(event.get("recipient", "")).casefold() == wanted_recipient))

    return matches


def _collect(rows: list[dict], low: int, high: int, wanted: Callable[[dict], bool],
             size: int) -> tuple[list[dict], dict | None]:
    """Up to ``size`` matching rows of ``rows[low:high]``, and the next matching row after them (or None)."""
    found: list[dict] = []
    for position in range(low, high):
        row = rows[position]
        if wanted(row):
            if len(found) == size:
                return found, row
            found.append(row)
    return found, None


def _association_map(rows: list[dict], from_type: str, to_type: str) -> dict[str, list[tuple[str, str]]]:
    """Record id -> ``(to_id, type name)`` for one direction, read from rows stored in either direction."""
    links: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        row_from, row_to = OBJECT_ALIASES.get(row.get("from_type")), OBJECT_ALIASES.get(row.get("to_type"))
        if (row_from, row_to) == (from_type, to_type):
            source, target, type_name = str(row["from_id"]), str(row["to_id"]), row.get("type")
        elif (row_from, row_to) == (to_type, from_type):
            source, target, type_name = str(row["to_id"]), str(row["from_id"]), _reverse_type(row.get("type"))
        else:
            continue
        type_name = type_name or f"{_SINGULAR[from_type]}_to_{_SINGULAR[to_type]}"
        targets = links.setdefault(source, [])
        if (target, type_name) not in targets:
            targets.append((target, type_name))
    return links


def _reverse_type(type_name: str | None) -> str | None:
    """``contact_to_company`` -> ``company_to_contact`` (labels such as ``_unlabeled`` are kept)."""
    if not type_name or "_to_" not in type_name:
        return None
    source, _, rest = type_name.partition("_to_")
    target, suffix = (rest[: -len("_unlabeled")], "_unlabeled") if rest.endswith("_unlabeled") else (rest, "")
    return f"{target}_to_{source}{suffix}"


def _has_primary(from_type: str, to_type: str) -> bool:
    return ASSOCIATION_TYPE_IDS.get((from_type, to_type), (None, None))[1] is not None


def _inline_entries(from_type: str, to_type: str, targets: list[tuple[str, str]]) -> tuple[list[dict], int]:
    """Inline ``{"id", "type"}`` entries (at most :data:`INLINE_ASSOCIATIONS`) and the targets they cover.

    A primary company association appears twice, labeled and unlabeled, as the real API sends it.
    """
    entries: list[dict] = []
    for covered, (target, type_name) in enumerate(targets):
        labels = [type_name]
        if _has_primary(from_type, to_type) and not type_name.endswith("_unlabeled"):
            labels.append(f"{type_name}_unlabeled")
        if len(entries) + len(labels) > INLINE_ASSOCIATIONS:
            return entries, covered
        entries += [{"id": target, "type": label} for label in labels]
    return entries, len(targets)


def _v4_target(from_type: str, to_type: str, target: tuple[str, str]) -> dict:
    """One v4 ``to`` entry: numeric ``toObjectId`` and every association type that links the pair."""
    to_id, type_name = target
    primary, unlabeled = ASSOCIATION_TYPE_IDS.get((from_type, to_type), (0, None))
    if unlabeled is None:
        types = [{"category": "HUBSPOT_DEFINED", "typeId": primary, "label": None}]
    elif type_name.endswith("_unlabeled"):
        types = [{"category": "HUBSPOT_DEFINED", "typeId": unlabeled, "label": None}]
    else:
        types = [{"category": "HUBSPOT_DEFINED", "typeId": primary, "label": "Primary"},
                 {"category": "HUBSPOT_DEFINED", "typeId": unlabeled, "label": None}]
    return {"toObjectId": int(to_id) if to_id.isdigit() else to_id, "associationTypes": types}


def _no_associations_error(from_type: str, to_type: str, record_id: str) -> dict:
    return {"status": "error", "category": "OBJECT_NOT_FOUND",
            "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND", "context": {"fromObjectId": [record_id]},
            "message": f"No {_SINGULAR[to_type]} is associated with {_SINGULAR[from_type]} {record_id}."}


def _objects_not_found_error(object_type: str, ids: list[str]) -> dict:
    """A CRM v3 batch read's one error for every id it did not find, in HubSpot's words."""
    return {"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": ids},
            "message": f"Could not get some {_SINGULAR[object_type].upper()} objects, they may be deleted or not "
                       "exist. Check that ids are valid."}


def _form(row: dict) -> dict:
    """A marketing v3 form summary; the dataset keeps epoch-ms stamps, the v3 API sends ISO strings."""
    return {"id": row.get("guid"), "name": row.get("name"), "formType": "hubspot",
            "createdAt": _iso(row.get("createdAt")), "updatedAt": _iso(row.get("updatedAt")),
            "archived": False}


def _submission(row: dict) -> dict:
    """A form submission as v1 sends it (the form guid is in the URL, not the record)."""
    return {"conversionId": row.get("conversionId"), "submittedAt": row.get("submittedAt"),
            "values": row.get("values"), "pageUrl": row.get("pageUrl")}


# --- response helpers -------------------------------------------------------------------------------------


def _wire_value(value: Any) -> str | None:
    """A property value as HubSpot sends it: always a string or null (numbers, booleans, lists converted)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ";".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _iso(value: Any) -> Any:
    return datetime_key(value) if isinstance(value, int) else value


def _now_text() -> str:
    return hubspot_datetime(datetime.now(UTC))


def _next_link(request: Request, after: str) -> str:
    """The absolute URL of the next page: the same query with ``after`` replaced."""
    params = [(key, value) for key, value in request.query_params.multi_items() if key != "after"]
    params.append(("after", after))
    return f"{str(request.base_url).rstrip('/')}{request.url.path}?{urlencode(params)}"


def _record_associations_link(request: Request, from_type: str, record_id: str, to_type: str, after: str) -> str:
    """The absolute URL of the per-record v4 GET that reads one record's associations from `after` on."""
    path = f"/crm/v4/objects/{from_type}/{record_id}/associations/{to_type}"
    return f"{str(request.base_url).rstrip('/')}{path}?{urlencode({'after': after})}"


def _paged(request: Request, results: list, after_next: str | None) -> dict:
    """A CRM-style page: ``results``, and ``paging.next`` with the cursor and link unless it is the last page."""
    body: dict[str, Any] = {"results": results}
    if after_next is not None:
        body["paging"] = {"next": {"after": after_next, "link": _next_link(request, after=after_next)}}
    return body


def _by_id(rows: list[dict], wanted: str) -> dict | None:
    """The row whose ``id`` reads as `wanted`, or None."""
    return next((row for row in rows if str(row.get("id")) == wanted), None)


def _rate_limited(policy: str, limit: str, headers: dict[str, str]) -> JSONResponse:
    """HubSpot's 429 body (reference/source-apis.md 2.7) for the `policy` whose `limit` was reached."""
    body = {"status": "error", "message": f"You have reached your {limit} limit.", "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()), "policyName": policy, "requestId": str(uuid.uuid4())}
    return JSONResponse(body, status_code=429, headers=headers)


def _error(status: int, message: str, category: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"status": "error", "message": message, "correlationId": str(uuid.uuid4())}
    body.update(extra)
    if category:
        body["category"] = category
    return JSONResponse(body, status_code=status)


#: The fields HubSpot's 2026-03 token endpoint takes only in the form-encoded body.
BODY_ONLY_FIELDS = ("client_id", "client_secret", "refresh_token", "code", "grant_type", "redirect_uri")


def _oauth_error(status: str, error: str, message: str) -> JSONResponse:
    return JSONResponse({"status": status, "message": message, "error": error, "error_description": message,
                         "correlationId": str(uuid.uuid4())}, status_code=400)


def _unknown_object(name: str) -> JSONResponse:
    return _error(400, f"Unable to infer object type from: {name}", "VALIDATION_ERROR",
                  context={"type": [name]})
