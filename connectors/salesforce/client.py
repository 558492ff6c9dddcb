"""Salesforce REST client: OAuth refresh, SOQL through ``queryAll`` (deletes included), ``nextRecordsUrl`` paging."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

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
from connectors.pages import Page, PageDecoder
from connectors.schema import Field, Stream

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
    if status in {406, 420, 429} or status >= 500:
        return Verdict(Action.RETRY, wait=retry_after_seconds(response), reason=f"HTTP {status} {code}")
    return Verdict(Action.FAIL, reason=f"HTTP {status} {code}: {response.text[:500]}")


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


def soql_datetime(moment: datetime) -> str:
    """An unquoted SOQL datetime literal in UTC, e.g. ``2024-05-01T00:00:00.000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class SalesforceClient:
    """Reads Salesforce objects page by page; knows nothing of Dagster or the warehouse."""

    login_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    api_version: str = API_VERSION
    policy: RetryPolicy | None = None

    def __post_init__(self) -> None:
        self.auth = OAuthRefreshToken(
            token_url=f"{self.login_url.rstrip('/')}/services/oauth2/token",
            client_id=self.client_id,
            client_secret=self.client_secret,
            refresh_token=self.refresh_token,
        )
        self.http = HttpClient(
            source="salesforce",
            classify=classify,
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
        """The stream plus every queryable field ``describe`` reports that it does not declare (kept as new columns)."""
        url = f"{self.instance_url}/services/data/{self.api_version}/sobjects/{stream.options['object']}/describe"
        declared = {f.source for f in stream.fields}
        extra = [
            Field(snake_case(f["name"]), f["name"], _DESCRIBE_TYPES.get(f["type"], "string"))
            for f in self.http.get_json(url)["fields"]
            if f["name"] not in declared and f["type"] not in _COMPOUND_TYPES
        ]
        return stream.with_fields(extra)

    def source_total(self, stream: Stream) -> int:
        """How many records of the stream's object the org holds, deleted ones excluded: ``SELECT COUNT()``.

        Counted through ``query``, not ``queryAll``: the recycle bin is purged after about 15 days, so a
        count with deleted records would drift away from a raw table that keeps every delete it saw.
        """
        soql = f"SELECT COUNT() FROM {stream.options['object']}"
        url = f"{self.instance_url}/services/data/{self.api_version}/query?q={quote(soql, safe='')}"
        return int(self.http.get_json(url)["totalSize"])

    def soql(self, stream: Stream, since: datetime | None) -> str:
        """The incremental query of a stream: its fields, modified at or after `since`, oldest first."""
        fields = ", ".join(dict.fromkeys(f.source for f in stream.fields))
        query = f"SELECT {fields} FROM {stream.options['object']}"
        if since is not None and stream.cursor:
            query += f" WHERE {stream.cursor} >= {soql_datetime(since - timedelta(seconds=stream.lookback_seconds))}"
        if stream.cursor:
            query += f" ORDER BY {stream.cursor} ASC"
        return query

    def read_pages(self, stream: Stream, since: datetime | None = None) -> Iterator[Page]:
        """Yield the stream's records page by page through ``queryAll``, deleted and merged ones included.

        From the second page on, a page Arrow can read is converted straight from its body (:mod:`connectors.pages`).
        """
        url = (
            f"{self.instance_url}/services/data/{self.api_version}/queryAll"
            f"?q={quote(self.soql(stream, since), safe='')}"
        )
        decode = PageDecoder(stream, "records", {"done": pa.bool_(), "nextRecordsUrl": pa.string()},
                             dropped=("attributes",))
        while url:
            page = self.http.get_json(url, guess_next=self._next_records_request, decode=decode, chain=True)
            yield page
            next_url = page.envelope["nextRecordsUrl"]
            url = f"{self.instance_url}{next_url}" if next_url and not page.envelope["done"] else None

    def _next_records_request(self, body: bytes) -> PlannedRequest | None:
        """The read of the page after this raw ``queryAll`` body: its ``nextRecordsUrl``, sent ahead."""
        next_url = string_after_key(body, "nextRecordsUrl")
        return PlannedRequest("GET", f"{self.instance_url}{next_url}") if next_url else None
