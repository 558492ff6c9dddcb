"""HubSpot client: OAuth refresh, CRM v3 list and search, v4 associations, owners, pipelines, marketing events.

Incremental CRM reads use search on the object's modified-date property, oldest first, a page
at a time, each page a new query from the newest modification read so far (see :class:`_Search`);
when a page holds one timestamp alone, that timestamp is walked by ``hs_object_id``. Archived
records never appear in search: every run sweeps the archived listing so deletes arrive as
``archived = true``. Properties the portal has beyond the declared ones are discovered through the
properties API, requested, and kept as columns. A record GDPR-deleted or merged away leaves every
listing, archived one included: :meth:`HubSpotClient.source_keys` lists the ids still there, for
the loader's key reconciliation.

No HubSpot read comes in cursor order as a whole (the first read lists records by id, the archived
sweep follows search, events and submissions come newest first), so its streams are not
``cursor_ordered``. A first read of a CRM object leaves the time it began by HubSpot's clock as the
ceiling of its cursor (``Stream.CURSOR_CEILING_KEY`` in the loader's state).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import pyarrow as pa
import requests

from connectors.auth import OAuthRefreshToken
from connectors.errors import SourceError
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
from connectors.loader_state import loader_state
from connectors.naming import snake_case
from connectors.pages import PageDecoder, key_stream, listed_keys
from connectors.redact import redact
from connectors.schema import Field, Stream

BASE_URL = "https://api.hubapi.com"
LIST_LIMIT = 100
SEARCH_LIMIT = 200
#: The one property a key listing asks for: every object has it, and naming one keeps the default handful away.
KEY_PROPERTY = "hs_object_id"
ASSOCIATION_BATCH = 100
#: HubSpot's ten-second window: without a Retry-After, wait one window out.
TEN_SECONDLY_WAIT = 10.0
#: The fields of a list body beside its records that paging reads.
_LIST_ENVELOPE = {"paging": pa.struct([("next", pa.struct([("after", pa.string())]))])}
#: Column types of HubSpot property types; enumerations, strings, phone numbers and the rest stay strings.
_PROPERTY_TYPES = {"datetime": "timestamp", "date": "date", "bool": "bool"}


def column_type(definition: dict) -> str:
    """The column type of a property definition from ``/crm/v3/properties``.

    Money (a currency symbol shown, or a currency display hint) is an exact decimal; other numbers are floats.
    """
    kind = definition.get("type")
    if kind == "number":
        money = definition.get("showCurrencySymbol") or definition.get("numberDisplayHint") == "currency"
        return "decimal" if money else "float"
    return _PROPERTY_TYPES.get(kind, "string")


def classify(response: requests.Response) -> Verdict:
    """HubSpot's signals: 401 refresh, 429 retry, 5xx retry. The daily policy ends the stream, and the source's
    remaining streams too: the daily limit is the account's, shared by every app and endpoint."""
    status = response.status_code
    if status < 300:
        return OK
    if status == 401:
        return Verdict(Action.REFRESH_AUTH, reason="HTTP 401")
    if status == 429:
        policy = _json_field(response, "policyName")
        if policy == "DAILY":
            return Verdict(Action.STOP, reason="daily API limit reached (429 DAILY)", source_wide=True)
        wait = retry_after_seconds(response)
        return Verdict(Action.RETRY, wait=TEN_SECONDLY_WAIT if wait is None else wait, reason=f"HTTP 429 {policy}")
    if status >= 500:
        return Verdict(Action.RETRY, wait=retry_after_seconds(response), reason=f"HTTP {status}")
    return Verdict(Action.FAIL, reason=f"HTTP {status}: {response.text[:500]}")


def _json_field(response: requests.Response, key: str) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get(key, "")) if isinstance(body, dict) else ""


def epoch_millis(moment: datetime) -> int:
    """A moment as HubSpot's filter value: epoch milliseconds."""
    return int(moment.timestamp() * 1000)


@dataclass
class HubSpotClient:
    """Reads HubSpot objects page by page; knows nothing of Dagster or the warehouse."""

    client_id: str
    client_secret: str
    refresh_token: str
    base_url: str = BASE_URL
    policy: RetryPolicy | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.auth = OAuthRefreshToken(
            # The date-versioned OAuth API: the credentials travel in the form body only (request_grant posts
            # them there); v1 is deprecated on 16 February 2027.
            token_url=f"{self.base_url}/oauth/2026-03/token",
            client_id=self.client_id,
            client_secret=self.client_secret,
            refresh_token=self.refresh_token,
        )
        self.http = HttpClient(
            source="hubspot",
            classify=classify,
            authorize=lambda headers: headers.update(Authorization=f"Bearer {self.auth.access_token()}"),
            on_auth_failure=self.auth.invalidate,
            policy=self.policy or RetryPolicy(),
        )

    def check(self) -> dict:
        """Authenticate and read one owner: a cheap proof that the credentials work."""
        return self.http.get_json(f"{self.base_url}/crm/v3/owners", params={"limit": 1})

    def discover(self, stream: Stream) -> Stream:
        """A CRM object stream plus every property the portal defines that it does not declare (new columns).

        The new properties are requested from then on, since requests name every property of the stream.
        Other streams have fixed shapes and come back as they are. Every property is handed to
        :meth:`~connectors.schema.Stream.with_fields`, which leaves out the declared ones (by their source,
        ``properties.<name>``) and gives a property whose column another one holds (a custom ``created_at``
        beside the declared ``createdAt``) a column of its own.
        """
        if stream.options.get("kind") != "crm_object":
            return stream
        body = self.http.get_json(f"{self.base_url}/crm/v3/properties/{stream.options['object_type']}")
        return stream.with_fields([Field(snake_case(p["name"]), f"properties.{p['name']}", column_type(p))
                                   for p in body.get("results", [])])

    def source_total(self, stream: Stream) -> int | None:
        """How many live (not archived) records HubSpot holds for a CRM object stream: search's ``total``.

        Search never counts archived records; streams other than CRM objects have no total (None).
        """
        if stream.options.get("kind") != "crm_object":
            return None
        url = f"{self.base_url}/crm/v3/objects/{stream.options['object_type']}/search"
        body = self.http.request_json("POST", url, json={"filterGroups": [], "properties": ["hs_object_id"],
                                                         "limit": 1})
        return int(body["total"])

    def source_keys(self, stream: Stream) -> Iterator[list[str]]:
        """Yield, page by page, the id of every record of a CRM object stream HubSpot still holds: the live ones,
        then the archived ones (kept about 90 days).

        A warehouse row whose id the whole list lacks left HubSpot for good: a GDPR ("permanent") delete, an archived
        record past its retention, or a record merged away (whose survivor lists it in ``hs_merged_object_ids``;
        staging tells the two apart). Read through the list endpoint, not search, which stops at 10,000 results:
        ``limit=100`` and one property (``hs_object_id``; HubSpot answers a few more it always returns), no
        associations, pages read by Arrow from the body. Only a list read to its end says what is missing: a listing
        that stops early raises (`SourceLimitReached` at the daily limit, or another `SourceError`), and the ids
        yielded before it are not the whole. Streams other than CRM objects are not reconciled (their options say
        ``keys_not_reconciled``); asking for one is a `ValueError`.
        """
        if stream.options.get("kind") != "crm_object":
            raise ValueError(f"stream {stream.name}: HubSpot lists the keys of CRM objects only, not of "
                             f"{stream.options.get('kind')!r} records")
        keys = key_stream(stream)
        url = f"{self.base_url}/crm/v3/objects/{stream.options['object_type']}"
        for archived in ("false", "true"):
            for page in self._list(url, {"limit": LIST_LIMIT, "properties": KEY_PROPERTY, "archived": archived},
                                   keys):
                yield listed_keys(keys, page, f"hubspot {stream.options['object_type']}")

    def read_pages(self, stream: Stream, since: datetime | None = None) -> Iterator[Sequence[dict]]:
        """Yield the stream's records page by page (changed since `since` where the stream has a cursor).

        The loader's state is taken here, when the read is asked for: the pages themselves may be
        read in another thread, which sees no loader context.
        """
        return self._read(stream, since, loader_state())

    def _read(self, stream: Stream, since: datetime | None, state: MutableMapping | None) -> Iterator[Sequence[dict]]:
        kind = stream.options["kind"]
        if kind == "crm_object":
            yield from self._crm_object(stream, since, state)
        elif kind == "owners":
            for archived in ("false", "true"):
                yield from self._list(f"{self.base_url}/crm/v3/owners", {"limit": LIST_LIMIT, "archived": archived})
        elif kind == "deal_pipeline_stages":
            yield self._pipeline_stages()
        elif kind == "email_events":
            yield from self._email_events(since)
        elif kind == "form_submissions":
            yield from self._form_submissions(since)
        else:
            raise ValueError(f"stream {stream.name}: unknown kind {kind!r}")

    def _crm_object(self, stream: Stream, since: datetime | None,
                    state: MutableMapping | None) -> Iterator[Sequence[dict]]:
        object_type = stream.options["object_type"]
        properties = [f.source.removeprefix("properties.") for f in stream.fields if f.source.startswith("properties.")]
        if since is None:
            url = f"{self.base_url}/crm/v3/objects/{object_type}"
            pages = self._with_start_noted(
                self._list(url, {"limit": LIST_LIMIT, "properties": ",".join(properties), "archived": "false"},
                           stream), state)
        else:
            search = _Search(self.http, f"{self.base_url}/crm/v3/objects/{object_type}/search", properties,
                             stream.options["modified_property"])
            pages = search.pages(epoch_millis(since) - stream.lookback_seconds * 1000)
        archived = self._list(f"{self.base_url}/crm/v3/objects/{object_type}",
                              {"limit": LIST_LIMIT, "properties": ",".join(properties), "archived": "true"}, stream)
        for page in itertools.chain(pages, archived):
            yield self._with_associations(object_type, page, stream.options["associations"])

    def _with_start_noted(self, pages: Iterator[Sequence[dict]],
                          state: MutableMapping | None) -> Iterator[Sequence[dict]]:
        """`pages` of a list read, the ceiling of its cursor noted in `state` once the first page came.

        A list of a large object takes long to read, in id order: a record listed early and modified
        before the read ends gets a stamp that records listed later may pass, so the cursor must not
        pass the moment the read began, the ``Date`` of its first page by HubSpot's clock.
        """
        for number, page in enumerate(pages):
            if number == 0 and state is not None:
                state[Stream.CURSOR_CEILING_KEY] = self.http.server_now().isoformat()
            yield page

    def _list(self, url: str, params: dict, stream: Stream | None = None) -> Iterator[Sequence[dict]]:
        """A list endpoint's pages; a `stream`'s pages are read by Arrow where they can be (:mod:`connectors.pages`)."""
        after = None
        decode = PageDecoder(stream, "results", _LIST_ENVELOPE) if stream is not None else None

        def next_page(body: bytes) -> PlannedRequest | None:
            guess = string_after_key(body, "after", last=True)  # paging comes last in a list body
            return PlannedRequest("GET", url, {"params": {**params, "after": guess}}) if guess else None

        while True:
            params_now = {**params, **({"after": after} if after else {})}
            if decode is None:
                body = self.http.get_json(url, next_page, chain=True, params=params_now)
                page, paging = body.get("results", []), body.get("paging")
            else:
                page = self.http.get_json(url, next_page, decode, chain=True, params=params_now)
                paging = page.envelope["paging"]
            yield page
            after = ((paging or {}).get("next") or {}).get("after")
            if not after:
                return

    def _with_associations(self, object_type: str, page: list[dict], to_types: tuple[str, ...]) -> list[dict]:
        if not page or not to_types:
            return page
        for to_type in to_types:
            linked = self._association_ids(object_type, to_type, [record["id"] for record in page])
            for record in page:
                record.setdefault("_associations", {})[to_type] = linked.get(record["id"], [])
        return page

    def _association_ids(self, from_type: str, to_type: str, ids: list[str]) -> dict[str, list[str]]:
        """The distinct associated ids of each record, every page of them (labelled and unlabelled links are one).

        A batch read gives each record one page of its associations; a record with more carries its own
        ``paging.next.after``, which goes back in its input. Those records are read again, together, until
        none has more: a read where no record has more takes no request beyond its batches.
        """
        url = f"{self.base_url}/crm/v4/associations/{from_type}/{to_type}/batch/read"
        direction = f"{from_type} -> {to_type}"
        linked: dict[str, list[str]] = {}
        inputs: list[dict] = [{"id": record_id} for record_id in ids]
        pages_asked: dict[str, set[str]] = {}
        while inputs:
            more: list[dict] = []
            for start in range(0, len(inputs), ASSOCIATION_BATCH):
                batch = inputs[start : start + ASSOCIATION_BATCH]
                body = self.http.request_json("POST", url, json={"inputs": batch})
                _check_batch_status(body, f"associations {direction}", url.removeprefix(self.base_url), batch)
                _check_association_errors(body, direction)
                more += _read_association_results(body, linked, pages_asked, direction)
            inputs = more
        return {key: sorted(set(values), key=int) for key, values in linked.items()}

    def _pipeline_stages(self) -> list[dict]:
        body = self.http.get_json(f"{self.base_url}/crm/v3/pipelines/deals")
        rows = []
        for pipeline in body.get("results", []):
            for stage in pipeline.get("stages", []):
                rows.append({**stage, "pipeline": pipeline, "stage_key": f"{pipeline['id']}:{stage['id']}"})
        return rows

    def _email_events(self, since: datetime | None) -> Iterator[list[dict]]:
        params = {"limit": 1000, **({"startTimestamp": epoch_millis(since)} if since else {})}
        offset = None
        while True:
            body = self.http.get_json(f"{self.base_url}/email/public/v1/events",
                                      params={**params, **({"offset": offset} if offset else {})})
            yield body.get("events", [])
            offset = body.get("offset")
            if not body.get("hasMore") or not offset:
                return

    def _form_submissions(self, since: datetime | None) -> Iterator[list[dict]]:
        """Submissions come newest first: page each form until a page reaches back past the cursor."""
        since_ms = epoch_millis(since) if since else None
        for form in (form for page in self._list(f"{self.base_url}/marketing/v3/forms", {"limit": 100})
                     for form in page):
            guid = form.get("guid") or form["id"]
            url = f"{self.base_url}/form-integrations/v1/submissions/forms/{guid}"
            for page in self._list(url, {"limit": 50}):
                fresh = [s for s in page if since_ms is None or s["submittedAt"] >= since_ms]
                yield [{**s, "formGuid": guid} for s in fresh]
                if len(fresh) < len(page):
                    break


#: The error of a batch-read input whose record has no associations: it has none, nothing was lost.
NO_ASSOCIATIONS = "crm.associations.NO_ASSOCIATIONS_FOUND"
#: The ``status`` of a batch HubSpot finished; PENDING, PROCESSING and CANCELED batches may lack inputs' results.
BATCH_COMPLETE = "COMPLETE"


def _check_batch_status(body: dict, what: str, endpoint: str, batch: list[dict]) -> None:
    """Fail on a batch read whose ``status`` is not COMPLETE: its ``results`` may leave inputs out.

    Not retried: the reference documents COMPLETE alone for this synchronous read and gives no
    other status as transient, nor a batch id to poll; failing the stream keeps its cursor where it
    was, so the next run reads the same records again.
    """
    status = body.get("status")
    if status == BATCH_COMPLETE:
        return
    first = batch[0]["id"] if batch else "?"
    message = (f"hubspot: {what}: batch read POST {endpoint} of {len(batch)} record(s) from {first} answered "
               f"status {status!r}, not {BATCH_COMPLETE!r}: its results may be partial, nothing of it is loaded")
    raise SourceError(redact(message)[:1000])


def _check_association_errors(body: dict, direction: str) -> None:
    """Fail on a batch read's errors (a 207) other than a record without associations.

    An input that failed is missing from ``results`` as a record without associations is; taking it
    for one would load an empty list where the associations are unknown.
    """
    failed = [error for error in body.get("errors") or () if error.get("subCategory") != NO_ASSOCIATIONS]
    if failed:
        described = "; ".join(_describe_error(error) for error in failed[:5])
        message = f"hubspot: associations {direction}: {len(failed)} record(s) not read: {described}"
        raise SourceError(redact(message)[:1000])


def _describe_error(error: dict) -> str:
    """A batch-read error as ``<record ids>: <category>: <message>``."""
    ids = (error.get("context") or {}).get("fromObjectId") or ["?"]
    return f"{','.join(map(str, ids))}: {error.get('category')}: {error.get('message')}"


def _read_association_results(body: dict, linked: dict[str, list[str]], pages_asked: dict[str, set[str]],
                              direction: str) -> list[dict]:
    """Add a batch read's associated ids to `linked`; the inputs of the records with more to read.

    `pages_asked` holds each record's ``after`` values asked so far: a record whose next page is one already
    asked for (the same page again, or a cycle through several) would be read forever, so that fails.
    """
    more = []
    for result in body.get("results", []):
        record_id = str(result["from"]["id"])
        linked.setdefault(record_id, []).extend(str(target["toObjectId"]) for target in result.get("to", []))
        after = (((result.get("paging") or {}).get("next")) or {}).get("after")
        if not after:
            continue
        asked = pages_asked.setdefault(record_id, set())
        if after in asked:
            raise SourceError(f"hubspot: associations {direction} of {record_id}: paging does not move on "
                              f"(after {after!r} again)")
        asked.add(after)
        more.append({"id": record_id, "after": after})
    return more


class _Key(NamedTuple):
    """Where a search page starts: at `stamp_ms` (epoch ms) and later or, walking one stamp, past `after_id`."""

    stamp_ms: int
    after_id: int | None = None


@dataclass
class _Search:
    """The records of one object modified at or after a moment, oldest first, read page by page by key.

    Search pages by offset into a result list sorted on the modified date, and a record modified
    while the read runs moves from its place to the end: every record after it shifts back by one,
    so the next offset steps over one record, for good (its stamp is older than the cursor the
    read commits). So each page is a new query from the first result, from the newest stamp read
    so far: the records at that stamp are read again, and the loader keeps one row of each key. A
    page holding one stamp alone cannot move the query on, so that stamp is walked by ascending
    ``hs_object_id`` (which a modification does not reorder) before the read goes on past it.
    No query pages past its first results, so none reaches the 10,000-result cap of search.
    """

    http: HttpClient
    url: str
    properties: list[str]
    modified: str

    def pages(self, lower_ms: int) -> Iterator[list[dict]]:
        """The pages of everything modified at or after `lower_ms`."""
        key: _Key | None = _Key(lower_ms)
        while key is not None:
            body = self.http.request_json("POST", self.url, self._guess_next, chain=True, json=self._query(key))
            page = body.get("results", [])
            yield page
            key = self._next_key(key, page, bool((body.get("paging") or {}).get("next")))

    def _next_key(self, key: _Key, page: list[dict], more: bool) -> _Key | None:
        """Where the page after `page` (read from `key`) starts; None when the read is over."""
        if not (page and more):
            return None if key.after_id is None else _Key(key.stamp_ms + 1)  # a walked stamp is done: go past it
        if key.after_id is not None:
            return _Key(key.stamp_ms, max(int(record["id"]) for record in page))
        stamps = [_millis(record["properties"].get(self.modified)) for record in page]
        oldest, newest = min(stamps), max(stamps)
        return _Key(newest, 0) if oldest == newest else _Key(newest)

    def _query(self, key: _Key) -> dict:
        if key.after_id is None:
            filters = [{"propertyName": self.modified, "operator": "GTE", "value": str(key.stamp_ms)}]
            sort = self.modified
        else:
            filters = [{"propertyName": self.modified, "operator": "EQ", "value": str(key.stamp_ms)},
                       {"propertyName": "hs_object_id", "operator": "GT", "value": str(key.after_id)}]
            sort = "hs_object_id"
        return {"filterGroups": [{"filters": filters}], "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
                "properties": self.properties, "limit": SEARCH_LIMIT, "after": "0"}

    def _guess_next(self, body: bytes) -> PlannedRequest | None:
        """The next page's query, read from a raw body's first and last modified stamps and its paging.

        A body alone tells the next query only when it spans several stamps and more follow: one
        stamp alone may come from a walk or start one, which the body does not say (no guess then).
        """
        if string_after_key(body, "after", last=True) is None:  # paging comes last in a search body
            return None
        oldest, newest = string_after_key(body, self.modified), string_after_key(body, self.modified, last=True)
        if oldest is None or newest is None or _millis(oldest) >= _millis(newest):
            return None
        return PlannedRequest("POST", self.url, {"json": self._query(_Key(_millis(newest)))})


def _millis(value: str | None) -> int:
    if value is None:
        return 0
    if value.isdigit():
        return int(value)
    return epoch_millis(datetime.fromisoformat(value.replace("Z", "+00:00")))
