"""A HubSpot first read that dies part-way resumes where its last checkpoint left it, instead of starting over.

The contacts stream is read by the real client from a sandbox served in this process, and loaded by the real loader
and dlt into DuckDB, `PAGE` contacts a page and `BATCH` rows a batch: with ``RAW_CHECKPOINT_SECONDS=0`` the first
read commits after every two pages, with no cursor and a note of where its listing got to. The sandbox's requests
are logged (method, path and query), so what the client asked for is read from what the sandbox was asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import dlt
import pytest
import requests

from connectors.errors import SourceUnavailable
from connectors.http import RetryPolicy
from connectors.hubspot.client import RESUME_MAX_DAYS, HubSpotClient
from connectors.hubspot.streams import CONTACTS
from connectors.schema import Stream
from pipelines.lib import raw_loader
from pipelines.lib.raw_loader import CHECKPOINT_SETTING, StreamLoad, load_streams
from sandbox import auth
from sandbox.auth import TokenStore
from sandbox.dataset import Dataset
from sandbox.faults import FaultRule
from sandbox.server import SandboxState, build_app
from tests.support import served
from tests.support.warehouse import warehouse_rows

PAGE, BATCH = 5, 10  # two pages a batch: a checkpoint may fall every two pages
LIVE, ARCHIVED = 40, 2  # contacts 1000-1039 live (8 pages), 1040-1041 archived (1 page)
#: Run 1 dies asking for its 8th live page: pages 1-6 are committed at checkpoints, page 7 is lost with the run.
PAGES_BEFORE_DYING = 7
LOADED = 6 * PAGE
STARTED = datetime(2026, 6, 1, tzinfo=UTC)  # the sandbox's clock when run 1 begins
NEXT_DAY = STARTED + timedelta(days=1)  # its clock for the runs after
LIST_PATH = "/crm/v3/objects/contacts"
ROWS = "select count(*), count(distinct id) from raw_hubspot.contacts"


def _listed_stamp(number: int) -> datetime:
    """When contact `number` was last modified before any run: a month before `STARTED`, a minute apart."""
    return STARTED - timedelta(days=30) + timedelta(minutes=number)


def _contact(number: int, modified: datetime, name: str = "first") -> dict:
    """Contact `number` (id 1000 + number) as HubSpot lists it, modified at `modified`; archived past `LIVE`."""
    stamp = modified.isoformat().replace("+00:00", "Z")
    record = {
        "id": str(1000 + number),
        "properties": {"email": f"person{number}@example.org", "firstname": name, "lastname": "Doe",
                       "hs_object_id": str(1000 + number), "createdate": "2025-01-01T00:00:00Z",
                       "lastmodifieddate": stamp},
        "createdAt": "2025-01-01T00:00:00Z", "updatedAt": stamp, "archived": False,
    }
    if number >= LIVE:
        record.update(archived=True, archivedAt="2026-05-01T00:00:00Z")
    return record


class RequestLog:
    """The sandbox app, logging the method, path and query of every request it serves (`asked`).

    The first listing asked ``after`` a value in `refused_after` is passed on with a token the sandbox cannot read,
    which it refuses with its own 400, as HubSpot refuses an ``after`` it no longer takes. Once only: the sandbox's
    token is the next record's id, so a listing started over asks with the same text, where HubSpot's would be new.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.asked: list[tuple[str, str, dict[str, str]]] = []
        self.refused_after: set[str] = set()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            query = {name: values[-1] for name, values in parse_qs(scope["query_string"].decode()).items()}
            self.asked.append((scope["method"], scope["path"], query))
            if query.get("after") in self.refused_after:
                self.refused_after.discard(query["after"])
                scope = {**scope, "query_string": urlencode({**query, "after": f"expired{query['after']}"}).encode()}
        await self.app(scope, receive, send)

    def listings(self, since: int = 0, archived: str = "false") -> list[str | None]:
        """The ``after`` of each contacts listing (live or archived) asked for from request `since` on."""
        return [query.get("after") for method, path, query in self.asked[since:]
                if method == "GET" and path == LIST_PATH and query.get("archived") == archived]


@dataclass
class Portal:
    """A sandbox's HubSpot served in this process: its state (data, clock, faults), URL and request log."""

    state: SandboxState
    log: RequestLog

    @property
    def url(self) -> str:
        return self.state.url


@pytest.fixture
def portal(monkeypatch):
    """A HubSpot portal of `LIVE` live and `ARCHIVED` archived contacts, `PAGE` a page, with its requests logged;
    its clock at `STARTED`."""
    contacts = [_contact(n, _listed_stamp(n)) for n in range(LIVE + ARCHIVED)]
    state = SandboxState(dataset=Dataset(clock=STARTED, records={("hubspot", "contacts"): contacts}),
                         tokens=TokenStore(1800.0), page_size=PAGE)
    log = RequestLog(build_app(state))
    monkeypatch.setattr(served, "build_app", lambda _state: log)
    with served.served_in_thread(state):
        yield Portal(state, log)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    """Batches of `BATCH` rows; checkpoints after every batch unless a test unsets it."""
    monkeypatch.setattr(raw_loader, "BATCH_ROWS", BATCH)
    monkeypatch.setenv(CHECKPOINT_SETTING, "0")


@pytest.fixture
def warehouse(tmp_path):
    """A DuckDB warehouse and its dlt folder."""
    return str(tmp_path / "warehouse.duckdb"), tmp_path / "dlt"


def _client(portal: Portal, attempts: int = 6) -> HubSpotClient:
    return HubSpotClient(client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET, refresh_token=auth.REFRESH_TOKEN,
                         base_url=portal.url, policy=RetryPolicy(max_attempts=attempts, backoff_base=0.01))


def _load(warehouse, client: HubSpotClient, run_id: str) -> StreamLoad:
    target, pipelines_dir = warehouse
    return load_streams("hubspot", [CONTACTS], client.read_pages, target, pipelines_dir, run_id,
                        discover=client.discover)[CONTACTS.name]


def _stored_state(warehouse, probe_dir: Path) -> dict:
    """What the warehouse holds of the contacts stream's loader state, read through a dlt folder of its own."""
    with raw_loader.open_destination(warehouse[0]) as destination:
        pipeline = dlt.pipeline(pipeline_name="common_ground_hubspot", destination=destination,
                                dataset_name="raw_hubspot", pipelines_dir=str(probe_dir))
        pipeline.sync_destination()
        return raw_loader._stored_state(pipeline, CONTACTS.name)


def _rows(warehouse, sql: str) -> list[tuple]:
    return warehouse_rows(warehouse[0], sql)


def _upsert(portal: Portal, records: list[dict]) -> None:
    requests.post(f"{portal.url}/_sandbox/records/hubspot/contacts", json=records, timeout=10).raise_for_status()


def _run_dies_after_its_checkpoints(portal: Portal, warehouse) -> None:
    """Run 1: its first read of contacts fails asking for its 8th live page (a 502 that lasts), after the loads of
    pages 1-6 were committed at checkpoints."""
    portal.state.faults.add(FaultRule.from_json({"api": "hubspot", "kind": "server_error", "path_contains": LIST_PATH,
                                           "skip": PAGES_BEFORE_DYING, "times": 1000}))
    with pytest.raises(Exception) as failure:
        _load(warehouse, _client(portal, attempts=1), "run-1")
    chain, error = [], failure.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(error, SourceUnavailable) for error in chain)
    portal.state.faults.clear()
    portal.state.dataset.clock = NEXT_DAY


def test_a_first_read_that_dies_resumes_from_its_last_checkpoint_and_keeps_its_ceiling(portal, warehouse, tmp_path):
    _run_dies_after_its_checkpoints(portal, warehouse)
    assert _rows(warehouse, "select min(id), max(id), count(*) from raw_hubspot.contacts") == [("1000", "1029", LOADED)]
    stored = _stored_state(warehouse, tmp_path / "probe")
    assert "cursor" not in stored  # no cursor until the first read completes
    page_7 = portal.log.listings()[PAGES_BEFORE_DYING - 1]  # the after run 1 asked its 7th page with
    assert stored[Stream.RESUME_KEY] == {"phase": "live", "after": page_7,
                                         Stream.CURSOR_CEILING_KEY: STARTED.isoformat()}
    # modified between the runs, in a page run 1 never loaded: newer than the moment the first read began
    _upsert(portal, [_contact(35, STARTED + timedelta(hours=1), name="changed")])

    run_2 = len(portal.log.asked)
    resumed = _load(warehouse, _client(portal), "run-2")
    live = portal.log.listings(run_2)
    assert live[0] == page_7 and None not in live  # from where run 1 left off, never from the first record
    assert portal.log.listings(run_2, archived="true") == [None]
    assert resumed.rows == LIVE + ARCHIVED - LOADED
    assert _rows(warehouse, ROWS) == [(LIVE + ARCHIVED,) * 2]
    assert _rows(warehouse, "select firstname from raw_hubspot.contacts where id = '1035'") == [("changed",)]
    # the read's ceiling is when run 1 began its first read, not run 2, though a record read is newer
    assert (resumed.cursor_before, resumed.cursor_after) == (None, STARTED.isoformat())
    assert Stream.RESUME_KEY not in _stored_state(warehouse, tmp_path / "probe-2")


def test_a_record_modified_between_the_runs_in_a_page_already_loaded_comes_with_the_next_incremental_run(
        portal, warehouse):
    _run_dies_after_its_checkpoints(portal, warehouse)
    # both modified after run 1 began its first read: 1001 in a page it loaded, 1036 in a page it did not
    _upsert(portal, [_contact(1, STARTED + timedelta(hours=1), name="changed"),
                     _contact(36, STARTED + timedelta(hours=2), name="changed")])
    resumed = _load(warehouse, _client(portal), "run-2")
    assert resumed.cursor_after == STARTED.isoformat()  # not 1036's stamp, which would leave 1001 behind it
    changed = "select id from raw_hubspot.contacts where firstname = 'changed' order by id"
    assert _rows(warehouse, changed) == [("1036",)]

    incremental = _load(warehouse, _client(portal), "run-3")
    assert incremental.cursor_before == STARTED.isoformat()
    assert _rows(warehouse, changed) == [("1001",), ("1036",)]
    assert _rows(warehouse, ROWS) == [(LIVE + ARCHIVED,) * 2]


def test_a_resume_hubspot_refuses_starts_the_listing_over_with_a_warning_and_duplicates_nothing(
        portal, warehouse, tmp_path, caplog):
    _run_dies_after_its_checkpoints(portal, warehouse)
    refused = _stored_state(warehouse, tmp_path / "probe")[Stream.RESUME_KEY]["after"]
    portal.log.refused_after.add(refused)

    run_2 = len(portal.log.asked)
    with caplog.at_level(logging.WARNING, logger="connectors.hubspot"):
        resumed = _load(warehouse, _client(portal), "run-2")
    assert portal.log.listings(run_2)[:2] == [refused, None]  # refused, then from the first record
    warnings = [record.getMessage() for record in caplog.records if record.name == "connectors.hubspot"]
    assert len(warnings) == 1
    assert "contacts" in warnings[0] and "HTTP 400" in warnings[0] and "starts over" in warnings[0]
    assert resumed.rows == LIVE + ARCHIVED
    assert _rows(warehouse, ROWS) == [(LIVE + ARCHIVED,) * 2]
    assert resumed.cursor_after is not None
    assert Stream.RESUME_KEY not in _stored_state(warehouse, tmp_path / "probe-2")


def test_a_first_read_left_off_too_long_ago_starts_over(portal, warehouse, caplog):
    _run_dies_after_its_checkpoints(portal, warehouse)
    portal.state.dataset.clock = STARTED + timedelta(days=RESUME_MAX_DAYS + 1)
    run_2 = len(portal.log.asked)
    with caplog.at_level(logging.WARNING, logger="connectors.hubspot"):
        resumed = _load(warehouse, _client(portal), "run-2")
    # the resumed page was asked for, and its answer told HubSpot's clock: too late, so the listing starts over
    assert portal.log.listings(run_2)[0] is not None and None in portal.log.listings(run_2)
    assert any("starts over" in record.getMessage() and "contacts" in record.getMessage()
               for record in caplog.records if record.name == "connectors.hubspot")
    assert resumed.rows == LIVE + ARCHIVED
    assert _rows(warehouse, ROWS) == [(LIVE + ARCHIVED,) * 2]
    assert resumed.cursor_after == (_listed_stamp(LIVE + ARCHIVED - 1)).isoformat()


def test_a_first_read_that_completes_in_one_go_is_one_load_and_commits_its_cursor(portal, warehouse, tmp_path,
                                                                                monkeypatch):
    monkeypatch.delenv(CHECKPOINT_SETTING)  # the default: ten minutes, far longer than this read
    result = _load(warehouse, _client(portal), "run-1")
    assert (result.rows, result.inserted) == (LIVE + ARCHIVED, LIVE + ARCHIVED)
    newest = _listed_stamp(LIVE + ARCHIVED - 1)
    assert (result.cursor_before, result.cursor_after) == (None, newest.isoformat())
    assert _rows(warehouse, "select count(distinct _dlt_load_id) from raw_hubspot.contacts") == [(1,)]
    stored = _stored_state(warehouse, tmp_path / "probe")
    assert stored["cursor"] == newest.isoformat()
    assert Stream.RESUME_KEY not in stored and Stream.CURSOR_CEILING_KEY not in stored
