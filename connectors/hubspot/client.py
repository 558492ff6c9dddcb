"""HubSpot client: OAuth refresh, CRM v3 list and search, v4 associations, owners, pipelines, marketing events.

Incremental CRM reads use search on the object's modified-date property, oldest first, a page
at a time, each page a new query from the newest modification read so far (see :class:`_Search`);
when a page holds one timestamp alone, that timestamp is walked by ``hs_object_id``. Archived
records never appear in search: every run sweeps the archived listing so deletes arrive as
``archived = true``. Properties the portal has beyond the declared ones are discovered through the
properties API, requested, and kept as columns; a listing whose URL would name more of them than HubSpot's URI limit
lets through lists ids alone and reads each page's records by batch read (:meth:`HubSpotClient._object_pages`). A
record GDPR-deleted or merged away leaves every listing, archived one included: :meth:`HubSpotClient.source_keys`
lists the ids still there, for the loader's key reconciliation.

No HubSpot read comes in cursor order as a whole (the first read lists records by id, the archived
sweep follows search, events and submissions come newest first), so its streams are not
``cursor_ordered``. A first read of a CRM object leaves the time it began by HubSpot's clock as the
ceiling of its cursor (``Stream.CURSOR_CEILING_KEY`` in the loader's state). It is not one load:
before each page it notes where that page's listing began (live or archived, the ``after`` asked
with, and that ceiling: ``Stream.RESUME_KEY``), so the loader may commit it in parts, with no cursor
until it completes; a run that dies mid-read leaves the next one to resume the listing there, with
the original ceiling. A resume HubSpot refuses (a 400 for the stored ``after``), or one more than
`RESUME_MAX_DAYS` after the read began, starts the listing over. Incremental reads stay one load.

Form submissions are read form by form, each newest first: a submission made on a form already read, while later
forms are read, is older than the newest ones read from those, and a cursor past it would never read it. So every
read of them leaves the time it began, by HubSpot's clock, as its cursor's ceiling too.

Requests, read-ahead ones included, are paced to stay under the app's ten-secondly burst and search's
per-second limit (:class:`HubSpotPacer`); a 429 that still comes is waited out and retried.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

import pyarrow as pa
import requests

from connectors.auth import OAuthRefreshToken
from connectors.errors import AuthenticationError, SourceError, SourceLimitReached, SourceUnavailable
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
from connectors.pacing import RollingWindowLimiter, Sleep
from connectors.pages import PageDecoder, key_stream, listed_keys
from connectors.redact import excerpt, get_logger
from connectors.schema import Field, Stream

log = get_logger("connectors.hubspot")

BASE_URL = "https://api.hubapi.com"
LIST_LIMIT = 100
SEARCH_LIMIT = 200
#: The one property a key listing asks for: every object has it, and naming one keeps the default handful away.
KEY_PROPERTY = "hs_object_id"
ASSOCIATION_BATCH = 100
#: The longest request URI (path and query string) a list request is sent with. HubSpot's edge answers a longer one
#: 414 Request-URI Too Large; it documents no number, PostHog and Airbyte measured about 16,200 and 16,300
#: characters. The margin covers what the length is checked without, once per listing: the ``after`` of each page
#: after the first (opaque, a few dozen characters), and any difference in how the edge counts.
MAX_LIST_URI = 15_000
#: Records a CRM object batch read takes at most (HubSpot refuses more inputs).
BATCH_READ_INPUTS = 100
#: Properties a CRM object batch read names at most. HubSpot documents no limit on the body's list (this number is a
#: choice, not HubSpot's): an object with more properties is read in parts, a request each, so no body grows without
#: bound, while the widest portals reported (a few hundred to a thousand properties) take one read.
BATCH_READ_PROPERTIES = 1_000
#: Without a Retry-After, a throttled request waits its policy's window out: ten seconds, or search's one second
#: (another policy, or none named, waits ten).
POLICY_WAITS = {"TEN_SECONDLY_ROLLING": 10.0, "SECONDLY": 1.0}
#: The burst of HubSpot's lowest tier (Free / Starter: 100 per 10 s), assumed until an answer's headers tell the app's.
ASSUMED_BURST = (100, 10_000)
#: Requests kept below the advertised burst, for the odd request where HubSpot's window edge and ours disagree.
BURST_MARGIN = 2
#: Searches HubSpot allows an account per second; search answers carry no rate headers to learn another number from.
SEARCHES_PER_SECOND = 5
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
    remaining streams too: the daily limit is the account's, shared by every app and endpoint. A burst or search
    throttle still answered after every retry ends only its stream, early."""
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
        if wait is None:
            wait = POLICY_WAITS.get(policy, POLICY_WAITS["TEN_SECONDLY_ROLLING"])
        # A throttle, not a fault: another app may be spending the account's limits, so a storm that outlasts the
        # retries ends the stream early (its cursor kept, the next run resumes) instead of failing the source.
        return Verdict(Action.RETRY, wait=wait, reason=f"HTTP 429 {policy}", throttle=True)
    if status >= 500:
        return Verdict(Action.RETRY, wait=retry_after_seconds(response), reason=f"HTTP {status}")
    return Verdict(Action.FAIL, reason=f"HTTP {status}: {excerpt(response.text, 500)}")


class HubSpotPacer:
    """HubSpot's rate limits (reference/source-apis.md 2.7), kept by holding requests back (:mod:`connectors.pacing`).

    Every request counts toward the app's burst, learned from the ``X-HubSpot-RateLimit-Max`` and
    ``-Interval-Milliseconds`` headers of the answers (`ASSUMED_BURST` until one tells), less `BURST_MARGIN`; a CRM
    search also toward search's `SEARCHES_PER_SECOND`. Whether HubSpot counts a search toward the burst the
    reference does not say: counting it keeps the client under the burst either way, for a small cost.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        most, interval_ms = ASSUMED_BURST
        self.burst = RollingWindowLimiter(most - BURST_MARGIN, interval_ms / 1000, clock)
        self.search = RollingWindowLimiter(SEARCHES_PER_SECOND, 1.0, clock)

    @contextmanager
    def slot(self, planned: PlannedRequest, sleep: Sleep) -> Iterator[float]:
        """Wait until `planned` fits its limits (a search: search's, then the burst); yields the seconds waited."""
        if not _is_search(planned):
            with self.burst.slot(sleep) as waited:
                yield waited
            return
        with self.search.slot(sleep) as searched, self.burst.slot(sleep) as bursted:
            yield searched + bursted

    def learn(self, response: requests.Response) -> None:
        """Take the burst an answer advertises (answers without the headers, or with unreadable ones, tell nothing)."""
        try:
            most = int(response.headers["X-HubSpot-RateLimit-Max"])
            interval_ms = int(response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"])
        except (KeyError, ValueError):
            return
        limit, seconds = most - BURST_MARGIN, interval_ms / 1000
        if limit >= 1 and seconds > 0 and (limit, seconds) != (self.burst.limit, self.burst.seconds):
            self.burst.resize(limit, seconds)


def _is_search(planned: PlannedRequest) -> bool:
    """Whether a request is a CRM search (``POST /crm/v3/objects/{type}/search``)."""
    path = urlsplit(planned.url).path
    return planned.method.upper() == "POST" and "/crm/v3/objects/" in path and path.endswith("/search")


def _json_field(response: requests.Response, key: str) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get(key, "")) if isinstance(body, dict) else ""


def epoch_millis(moment: datetime) -> int:
    """A moment as HubSpot's filter value: epoch milliseconds."""
    return int(moment.timestamp() * 1000)


class ListedRecordsUnread(SourceError):
    """HubSpot answered a listing page, then refused the batch read of its records' properties (a wide portal's
    read, :meth:`HubSpotClient._object_pages`): the read fails, but not because of where the listing was."""


@dataclass
class HubSpotClient:
    """Reads HubSpot objects page by page; knows nothing of Dagster or the warehouse."""

    client_id: str
    client_secret: str
    refresh_token: str
    base_url: str = BASE_URL
    policy: RetryPolicy | None = None
    #: Hold requests back to stay under HubSpot's rate limits (:class:`HubSpotPacer`); off, only 429s slow it down.
    pacing: bool = True
    #: Properties one batch read names at most, for records listed without them (:meth:`_read_listed`).
    batch_read_properties: int = BATCH_READ_PROPERTIES

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
            pacer=HubSpotPacer() if self.pacing else None,
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
            yield from self._form_submissions(since, state)
        else:
            raise ValueError(f"stream {stream.name}: unknown kind {kind!r}")

    def _crm_object(self, stream: Stream, since: datetime | None,
                    state: MutableMapping | None) -> Iterator[Sequence[dict]]:
        object_type = stream.options["object_type"]
        properties = _property_names(stream)
        url = f"{self.base_url}/crm/v3/objects/{object_type}"
        params = {"limit": LIST_LIMIT, "properties": ",".join(properties)}
        if since is None:
            pages = self._first_read(stream, url, params, state)
        else:
            search = _Search(self.http, f"{url}/search", properties, stream.options["modified_property"])
            archived = self._object_pages(url, {**params, "archived": _LISTINGS[ARCHIVED]}, stream)
            pages = itertools.chain(search.pages(epoch_millis(since) - stream.lookback_seconds * 1000),
                                    (page for _, page in archived))
        for page in pages:
            yield self._with_associations(object_type, page, stream.options["associations"])

    def _first_read(self, stream: Stream, url: str, params: dict,
                    state: MutableMapping | None) -> Iterator[Sequence[dict]]:
        """The pages of a CRM object's first read (:meth:`_listings`): from where an earlier run's read left off, when
        its loader committed a part of it (:class:`_ListingPoint`), else from the first record.

        A resumed read whose first page HubSpot refuses (a 400: the stored ``after`` is opaque, and may no longer
        be taken), or whose ceiling is more than `RESUME_MAX_DAYS` old, starts over from the first record, with a
        new ceiling, and says so: the rows already loaded are read again and merged by key. A first page listed but
        whose records' batch read fails (`ListedRecordsUnread`) is no refusal: the read fails, and resumes next run.
        """
        start = _ListingPoint.noted(stream, state)
        if start is not None:
            pages = self._listings(url, params, stream, state, start)
            first, restart = self._resumed(pages, start)
            if restart is None:
                yield first
                yield from pages
                return
            pages.close()
            log.warning(f"hubspot {stream.name}: {restart}; its first read starts over from the first record, and "
                        "the rows already loaded are merged again by key")
            state.pop(Stream.CURSOR_CEILING_KEY, None)
        yield from self._listings(url, params, stream, state)

    def _resumed(self, pages: Iterator[Sequence[dict]],
                 start: _ListingPoint) -> tuple[Sequence[dict] | None, str | None]:
        """The first page of a first read resumed at `start`, or why the read must start over instead."""
        try:
            first = next(pages)
        except (AuthenticationError, SourceLimitReached, SourceUnavailable):
            raise  # not about where the listing resumes: starting over would meet them too
        except ListedRecordsUnread:
            raise  # the listing resumed; reading its records failed, as it may in any read
        except SourceError as exc:
            return None, f"HubSpot refused to resume the {start.phase} listing at after={start.after!r} ({exc})"
        age = self.http.server_now() - datetime.fromisoformat(start.ceiling)
        if age > timedelta(days=RESUME_MAX_DAYS):
            return None, (f"its first read began {age.days} days ago, more than the {RESUME_MAX_DAYS} days within "
                          "which it may resume")
        return first, None

    def _listings(self, url: str, params: dict, stream: Stream, state: MutableMapping | None,
                  start: _ListingPoint | None = None) -> Iterator[Sequence[dict]]:
        """Every live record of a CRM object, then every archived one, listed by id from `start` (None: the first).

        A list of a large object takes long to read, in id order: a record listed early and modified
        before the read ends gets a stamp that records listed later may pass, so the cursor must not
        pass the moment the read began, the ``Date`` of its first page by HubSpot's clock: noted in
        `state` once the first page came (``Stream.CURSOR_CEILING_KEY``), or a resumed read's own.
        Before it hands over a page, the read notes in `state` where that page's listing began
        (``Stream.RESUME_KEY``): a load ended before the page commits that note, and the next run
        resumes there. Once both listings are read, the note is removed.
        """
        if state is not None and start is not None:
            state[Stream.CURSOR_CEILING_KEY] = start.ceiling
        phases = list(_LISTINGS)
        for phase in phases[phases.index(start.phase) if start is not None else 0:]:
            after = start.after if start is not None and phase == start.phase else None
            for asked, page in self._object_pages(url, {**params, "archived": _LISTINGS[phase]}, stream, after):
                if state is not None:
                    ceiling = state.setdefault(Stream.CURSOR_CEILING_KEY, self.http.server_now().isoformat())
                    state[Stream.RESUME_KEY] = _ListingPoint(phase, asked, ceiling).note()
                yield page
        if state is not None:
            state.pop(Stream.RESUME_KEY, None)

    def _object_pages(self, url: str, params: dict, stream: Stream,
                      after: str | None = None) -> Iterator[tuple[str | None, Sequence[dict]]]:
        """A CRM object listing's pages from `after` (None: the first), each with the ``after`` it was asked with.

        The list names every property of the stream in its URL. When that URL would be longer than `MAX_LIST_URI`
        (a portal with hundreds of properties, whose list HubSpot's edge refuses with a 414), the listing names
        `KEY_PROPERTY` alone and each page's records are read whole by batch read (:meth:`_read_listed`), the
        properties in the request body: a page more per 100 records, decoded by Python rather than Arrow. A URL
        that fits is read as before, with no request more.
        """
        length = _request_uri_length(url, params)
        if length <= MAX_LIST_URI:
            yield from self._list_from(url, params, stream, after)
            return
        log.info(f"hubspot {stream.name}: a list naming its {len(_property_names(stream))} properties would be "
                 f"{length:,} characters long, over {MAX_LIST_URI:,}; listing its ids and reading their records by "
                 "batch read")
        for asked, listed in self._list_from(url, {**params, "properties": KEY_PROPERTY}, None, after):
            try:
                records = self._read_listed(url, listed, stream, params["archived"])
            except (AuthenticationError, SourceLimitReached, SourceUnavailable):
                raise
            except SourceError as exc:
                raise ListedRecordsUnread(str(exc), kind=exc.kind) from None
            yield asked, records

    def _read_listed(self, url: str, listed: Sequence[dict], stream: Stream, archived: str) -> list[dict]:
        """The records of a listed page read whole, in the listing's order: every property of the stream, by batch
        reads in the listing's ``archived`` state (`BATCH_READ_INPUTS` records and `batch_read_properties`
        properties a read), merged by id into the listed records.

        A record listed but not found by every batch read of it (archived, restored, deleted or merged away between
        the requests) is left out of the page, with a warning: loaded with the few properties the listing gave, its
        merge on the key would put nulls over the values the warehouse holds. A later read finds it where it went:
        a record archived since is listed by this read's archived sweep, one restored is live again (its restore
        a modification the next search reads), and one deleted for good is the key reconciliation's to flag. Any other
        batch read error fails the read: a record HubSpot did not read is not a deleted one. A record modified
        between two reads of its properties may mix two versions; its modified stamp then passes the read's
        ceiling or cursor, and the next read takes it again.
        """
        ids = [str(record["id"]) for record in listed]
        properties = _property_names(stream)
        chunks = [properties[start : start + self.batch_read_properties]
                  for start in range(0, len(properties), self.batch_read_properties)]
        merged = {str(record["id"]): {**record, "properties": dict(record.get("properties") or {})}
                  for record in listed}
        reads: dict[str, int] = dict.fromkeys(ids, 0)
        endpoint = f"{url}/batch/read"
        what = f"{stream.name} ({'archived' if archived == 'true' else 'live'})"
        for start in range(0, len(ids), BATCH_READ_INPUTS):
            inputs = [{"id": record_id} for record_id in ids[start : start + BATCH_READ_INPUTS]]
            for names in chunks:
                body = self.http.request_json("POST", endpoint, params={"archived": archived},
                                              json={"properties": names, "inputs": inputs})
                _check_batch_status(body, what, endpoint.removeprefix(self.base_url), inputs)
                _check_record_errors(body, what)
                for record_id in _merge_results(merged, body.get("results", [])):
                    reads[record_id] += 1
        lost = [record_id for record_id in ids if reads[record_id] < len(chunks)]
        if lost:
            log.warning(f"hubspot {what}: {len(lost)} record(s) listed but not found by the batch read of their "
                        f"properties (archived, restored or deleted since), left out of this page: "
                        f"{', '.join(lost[:10])}")
        return [merged[record_id] for record_id in ids if reads[record_id] == len(chunks)]

    def _list(self, url: str, params: dict, stream: Stream | None = None) -> Iterator[Sequence[dict]]:
        """A list endpoint's pages; a `stream`'s pages are read by Arrow where they can be (:mod:`connectors.pages`)."""
        for _, page in self._list_from(url, params, stream):
            yield page

    def _list_from(self, url: str, params: dict, stream: Stream | None = None,
                   after: str | None = None) -> Iterator[tuple[str | None, Sequence[dict]]]:
        """A list endpoint's pages from `after` (None: the first), each with the ``after`` it was asked with."""
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
            yield after, page
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
        """The distinct associated ids of each record, every page of them (labelled and unlabelled links are one):
        the one HubSpot labels ``Primary`` first (a deal's or contact's primary company, the one its record page
        shows), then the others by number.

        A batch read gives each record one page of its associations; a record with more carries its own
        ``paging.next.after``, which goes back in its input. Those records are read again, together, until
        none has more: a read where no record has more takes no request beyond its batches.
        """
        url = f"{self.base_url}/crm/v4/associations/{from_type}/{to_type}/batch/read"
        direction = f"{from_type} -> {to_type}"
        linked: dict[str, list[str]] = {}
        primary: dict[str, set[str]] = {}
        inputs: list[dict] = [{"id": record_id} for record_id in ids]
        pages_asked: dict[str, set[str]] = {}
        while inputs:
            more: list[dict] = []
            for start in range(0, len(inputs), ASSOCIATION_BATCH):
                batch = inputs[start : start + ASSOCIATION_BATCH]
                body = self.http.request_json("POST", url, json={"inputs": batch})
                _check_batch_status(body, f"associations {direction}", url.removeprefix(self.base_url), batch)
                _check_association_errors(body, direction)
                more += _read_association_results(body, linked, primary, pages_asked, direction)
            inputs = more
        return {key: sorted(set(values), key=lambda value: (value not in primary.get(key, ()), int(value)))
                for key, values in linked.items()}

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

    def _form_submissions(self, since: datetime | None, state: MutableMapping | None) -> Iterator[list[dict]]:
        """Every form's submissions since `since`: each form's come newest first, paged until a page reaches back
        past the cursor.

        The forms are read one after another, so a submission made on a form already read, while later ones are
        read, is older than the newest submission read from them, and would be older than the cursor the load
        commits. The read notes in `state` when it began, the ``Date`` of the forms list by HubSpot's clock, as the
        ceiling of that cursor (``Stream.CURSOR_CEILING_KEY``): the next run reads from there, and finds it.
        """
        since_ms = epoch_millis(since) if since else None
        forms = [form for page in self._list(f"{self.base_url}/marketing/v3/forms", {"limit": 100}) for form in page]
        if state is not None:
            state[Stream.CURSOR_CEILING_KEY] = self.http.server_now().isoformat()
        for form in forms:
            guid = form.get("guid") or form["id"]
            url = f"{self.base_url}/form-integrations/v1/submissions/forms/{guid}"
            for page in self._list(url, {"limit": 50}):
                fresh = [s for s in page if since_ms is None or s["submittedAt"] >= since_ms]
                yield [{**s, "formGuid": guid} for s in fresh]
                if len(fresh) < len(page):
                    break


#: The error of a batch-read input whose record has no associations: it has none, nothing was lost.
NO_ASSOCIATIONS = "crm.associations.NO_ASSOCIATIONS_FOUND"
#: The error category of a records batch read's inputs it did not find (gone since they were listed).
OBJECT_NOT_FOUND = "OBJECT_NOT_FOUND"
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
    raise SourceError(excerpt(message, 1000))


def _check_association_errors(body: dict, direction: str) -> None:
    """Fail on a batch read's errors (a 207) other than a record without associations.

    An input that failed is missing from ``results`` as a record without associations is; taking it
    for one would load an empty list where the associations are unknown.
    """
    failed = [error for error in body.get("errors") or () if error.get("subCategory") != NO_ASSOCIATIONS]
    _fail_on(failed, f"associations {direction}: {len(failed)} record(s) not read")


def _check_record_errors(body: dict, what: str) -> None:
    """Fail on a records batch read's errors (a 207) other than ids not found, which the caller leaves out."""
    _fail_on([error for error in body.get("errors") or () if error.get("category") != OBJECT_NOT_FOUND],
             f"{what}: batch read of records failed")


def _fail_on(failed: list[dict], what: str) -> None:
    """Raise a `SourceError` saying `what` and describing the first five of a batch read's `failed` errors, if any."""
    if failed:
        described = "; ".join(_describe_error(error) for error in failed[:5])
        raise SourceError(excerpt(f"hubspot: {what}: {described}", 1000))


def _describe_error(error: dict) -> str:
    """A batch-read error as ``<record ids>: <category>: <message>``."""
    context = error.get("context") or {}
    ids = context.get("fromObjectId") or context.get("ids") or ["?"]
    return f"{','.join(map(str, ids))}: {error.get('category')}: {error.get('message')}"


def _merge_results(merged: dict[str, dict], results: list[dict]) -> set[str]:
    """Merge a records batch read's results into the listed records of `merged` (by id): its fields replace theirs,
    its properties join theirs. The ids merged; a result for a record not listed is ignored.

    Properties that are not an object replace the record's, and stay: the loader quarantines such a record, as it
    would a listed one."""
    read = set()
    for result in results:
        record = merged.get(str(result.get("id")))
        if record is None:
            continue
        record.update({key: value for key, value in result.items() if key != "properties"})
        properties = result.get("properties", {})
        if isinstance(record["properties"], dict):
            if isinstance(properties, dict):
                record["properties"].update(properties)
            else:
                record["properties"] = properties
        read.add(str(result["id"]))
    return read


def _property_names(stream: Stream) -> list[str]:
    """The HubSpot properties a CRM object stream reads: those its fields' sources name."""
    return [f.source.removeprefix("properties.") for f in stream.fields if f.source.startswith("properties.")]


def _request_uri_length(url: str, params: dict) -> int:
    """The length of the request URI (path and query string) of a GET of `url` with `params`, encoded as sent."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, params)
    parts = urlsplit(prepared.url)
    return len(parts.path) + len("?") + len(parts.query)


def _read_association_results(body: dict, linked: dict[str, list[str]], primary: dict[str, set[str]],
                              pages_asked: dict[str, set[str]], direction: str) -> list[dict]:
    """Add a batch read's associated ids to `linked`, and those labelled ``Primary`` to `primary`; the inputs of
    the records with more to read.

    `pages_asked` holds each record's ``after`` values asked so far: a record whose next page is one already
    asked for (the same page again, or a cycle through several) would be read forever, so that fails.
    """
    more = []
    for result in body.get("results", []):
        record_id = str(result["from"]["id"])
        targets = result.get("to", [])
        linked.setdefault(record_id, []).extend(str(target["toObjectId"]) for target in targets)
        primary.setdefault(record_id, set()).update(
            str(target["toObjectId"]) for target in targets if _is_primary(target))
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


def _is_primary(target: dict) -> bool:
    """Whether a v4 ``to`` entry links with HubSpot's own ``Primary`` label (a record has at most one primary
    company; a label users define is USER_DEFINED and never this one)."""
    return any(kind.get("category") == "HUBSPOT_DEFINED" and (kind.get("label") or "").lower() == "primary"
               for kind in target.get("associationTypes") or ())


#: The listings of a CRM object's first read, in the order read, each with its ``archived`` parameter.
_LISTINGS = {"live": "false", "archived": "true"}
ARCHIVED = "archived"
#: How many days after it began a first read that an earlier run left off may still resume; later, it starts over.
#: Records archived since the read began are listed by its archived sweep only while HubSpot keeps them (about 90
#: days), and an older resume would re-read, by search, most of what the listing would.
RESUME_MAX_DAYS = 30


@dataclass(frozen=True)
class _ListingPoint:
    """Where a page of a CRM object's first read began: its listing (`phase`: live or archived records), the
    ``after`` it was asked with (None: the listing's first page), and the ceiling of the read's cursor (ISO-8601:
    when the read began, by HubSpot's clock). Noted in the loader's state under ``Stream.RESUME_KEY``."""

    phase: str
    after: str | None
    ceiling: str

    def note(self) -> dict:
        """The point as the loader's state keeps it."""
        return {"phase": self.phase, "after": self.after, Stream.CURSOR_CEILING_KEY: self.ceiling}

    @classmethod
    def noted(cls, stream: Stream, state: MutableMapping | None) -> _ListingPoint | None:
        """The point an earlier run's read of `stream` noted in `state`; None when there is none, or when the note
        is not one this client writes (said in a warning): the read then starts from the first record."""
        note = (state or {}).get(Stream.RESUME_KEY)
        if note is None:
            return None
        try:
            point = cls(note["phase"], note.get("after"), note[Stream.CURSOR_CEILING_KEY])
            if point.phase in _LISTINGS and datetime.fromisoformat(point.ceiling).tzinfo is not None:
                return point
        except (KeyError, TypeError, ValueError):
            pass
        log.warning(f"hubspot {stream.name}: the loader state's {Stream.RESUME_KEY} {note!r} is not where a first "
                    "read left off; its first read starts over from the first record")
        return None


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
