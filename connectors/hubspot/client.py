"""HubSpot client: OAuth refresh, CRM v3 list and search, v4 associations, owners, pipelines, marketing events.

Incremental CRM reads use search on the object's modified-date property, oldest first. Search
stops at 10,000 results per query, so a read that reaches the cap starts a new query at the
newest modification it has seen; when 10,000 records share one timestamp it walks that
timestamp by ``hs_object_id`` instead. Archived records never appear in search: every run
sweeps the archived listing so deletes arrive as ``archived = true``. Properties the portal has
beyond the declared ones are discovered through the properties API, requested, and kept as columns.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import requests

from connectors.auth import OAuthRefreshToken
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
from connectors.pages import PageDecoder
from connectors.schema import Field, Stream

BASE_URL = "https://api.hubapi.com"
LIST_LIMIT = 100
SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
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
    """HubSpot's signals: 401 refresh, 429 retry (the daily policy ends the stream), 5xx retry."""
    status = response.status_code
    if status < 300:
        return OK
    if status == 401:
        return Verdict(Action.REFRESH_AUTH, reason="HTTP 401")
    if status == 429:
        policy = _json_field(response, "policyName")
        if policy == "DAILY":
            return Verdict(Action.STOP, reason="daily API limit reached (429 DAILY)")
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
            token_url=f"{self.base_url}/oauth/v1/token",
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
        Other streams have fixed shapes and come back as they are.
        """
        if stream.options.get("kind") != "crm_object":
            return stream
        body = self.http.get_json(f"{self.base_url}/crm/v3/properties/{stream.options['object_type']}")
        declared = {f.source for f in stream.fields}
        columns = {f.column for f in stream.fields}
        extra = [
            Field(snake_case(p["name"]), f"properties.{p['name']}", column_type(p))
            for p in body.get("results", [])
            if f"properties.{p['name']}" not in declared and snake_case(p["name"]) not in columns
        ]
        return stream.with_fields(extra)

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

    def read_pages(self, stream: Stream, since: datetime | None = None) -> Iterator[Sequence[dict]]:
        """Yield the stream's records page by page (changed since `since` where the stream has a cursor)."""
        kind = stream.options["kind"]
        if kind == "crm_object":
            yield from self._crm_object(stream, since)
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

    def _crm_object(self, stream: Stream, since: datetime | None) -> Iterator[Sequence[dict]]:
        object_type = stream.options["object_type"]
        properties = [f.source.removeprefix("properties.") for f in stream.fields if f.source.startswith("properties.")]
        if since is None:
            url = f"{self.base_url}/crm/v3/objects/{object_type}"
            pages = self._list(url, {"limit": LIST_LIMIT, "properties": ",".join(properties), "archived": "false"},
                               stream)
        else:
            pages = self._search(stream, properties, epoch_millis(since) - stream.lookback_seconds * 1000)
        archived = self._list(f"{self.base_url}/crm/v3/objects/{object_type}",
                              {"limit": LIST_LIMIT, "properties": ",".join(properties), "archived": "true"}, stream)
        for page in itertools.chain(pages, archived):
            yield self._with_associations(object_type, page, stream.options["associations"])

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

    def _search(self, stream: Stream, properties: list[str], lower_ms: int) -> Iterator[list[dict]]:
        """Everything modified at or after `lower_ms`, in windows that stay under the 10,000-result cap."""
        modified = stream.options["modified_property"]
        url = f"{self.base_url}/crm/v3/objects/{stream.options['object_type']}/search"
        while True:
            query = _SearchQuery(self.http, url, properties, modified,
                                 [{"propertyName": modified, "operator": "GTE", "value": str(lower_ms)}])
            newest = lower_ms
            for page in query.pages():
                newest = max([newest, *(_millis(r["properties"].get(modified)) for r in page)])
                yield page
            if not query.capped:
                return
            if newest == lower_ms:
                yield from self._search_one_stamp(url, modified, lower_ms, properties)
                newest = lower_ms + 1
            lower_ms = newest

    def _search_one_stamp(self, url: str, modified: str, stamp_ms: int, properties: list[str]) -> Iterator[list[dict]]:
        """Every record modified exactly at `stamp_ms`, walked by ascending ``hs_object_id``."""
        last_id = 0
        while True:
            query = _SearchQuery(self.http, url, properties, "hs_object_id", [
                {"propertyName": modified, "operator": "EQ", "value": str(stamp_ms)},
                {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)},
            ])
            for page in query.pages():
                last_id = max([last_id, *(int(r["id"]) for r in page)])
                yield page
            if not query.capped:
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
        """The distinct associated ids of each record (labelled and unlabelled links are one link)."""
        url = f"{self.base_url}/crm/v4/associations/{from_type}/{to_type}/batch/read"
        linked: dict[str, list[str]] = {}
        for start in range(0, len(ids), ASSOCIATION_BATCH):
            batch = [{"id": record_id} for record_id in ids[start : start + ASSOCIATION_BATCH]]
            body = self.http.request_json("POST", url, json={"inputs": batch})
            for result in body.get("results", []):
                targets = dict.fromkeys(str(t["toObjectId"]) for t in result.get("to", []))
                linked.setdefault(str(result["from"]["id"]), []).extend(targets)
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


@dataclass
class _SearchQuery:
    """One search query, sorted ascending on `sort_property`; `capped` says it stopped at the result cap."""

    http: HttpClient
    url: str
    properties: list[str]
    sort_property: str
    filters: list[dict]
    capped: bool = False

    def pages(self) -> Iterator[list[dict]]:
        """The query's pages until its last one, or until the next page would pass the 10,000-result cap."""
        after = 0
        while True:
            body = self.http.request_json("POST", self.url, self._next_page, chain=True, json=self._query(after))
            yield body.get("results", [])
            next_after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if next_after is None:
                return
            after = int(next_after)
            if after >= SEARCH_CAP:
                self.capped = True
                return

    def _query(self, after: int) -> dict:
        return {
            "filterGroups": [{"filters": self.filters}],
            "sorts": [{"propertyName": self.sort_property, "direction": "ASCENDING"}],
            "properties": self.properties, "limit": SEARCH_LIMIT, "after": str(after),
        }

    def _next_page(self, body: bytes) -> PlannedRequest | None:
        """The next page's query, guessed from a raw body's trailing ``paging.next.after``; none past the cap."""
        guess = string_after_key(body, "after", last=True)
        if guess is None or not guess.isdigit() or int(guess) >= SEARCH_CAP:
            return None
        return PlannedRequest("POST", self.url, {"json": self._query(int(guess))})


def _millis(value: str | None) -> int:
    if value is None:
        return 0
    if value.isdigit():
        return int(value)
    return epoch_millis(datetime.fromisoformat(value.replace("Z", "+00:00")))
