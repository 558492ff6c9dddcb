"""HubSpot requests are paced to stay under the app's burst and search's per-second limit, never sent to meet a 429.

The limiter is tested on a fake clock (waits, limits learned from headers) and with real threads (no window ever
holds more than its limit); a read of several streams, a key listing and a search at once, with read-ahead, runs
against a sandbox enforcing a small burst: paced, it gets no 429 and every row; unpaced, the same read is throttled.
"""

import threading
import time
from datetime import UTC, datetime

import pytest

from connectors.http import Action, RetryPolicy
from connectors.hubspot.client import BURST_MARGIN, SEARCHES_PER_SECOND, HubSpotPacer, classify
from connectors.hubspot.streams import COMPANIES, CONTACTS, DEALS
from connectors.pacing import RollingWindowLimiter
from connectors.read_ahead import PlannedRequest
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset
from tests.connectors.test_crm_acceptance import hubspot_client, hubspot_contact
from tests.support.responses import json_response

BASE = "https://api.hubapi.com"
LIST = PlannedRequest("GET", f"{BASE}/crm/v3/objects/contacts", {})
SEARCH = PlannedRequest("POST", f"{BASE}/crm/v3/objects/contacts/search", {"json": {}})


class FakeClock:
    """A monotonic clock that moves only when slept on (or told to)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _burst_headers(most: object, interval_ms: object) -> dict:
    return {"X-HubSpot-RateLimit-Max": str(most), "X-HubSpot-RateLimit-Interval-Milliseconds": str(interval_ms),
            "X-HubSpot-RateLimit-Remaining": "0"}


# --- the limiter --------------------------------------------------------------------------------------------


def test_a_full_window_waits_until_the_oldest_answer_leaves_it():
    clock = FakeClock()
    limiter = RollingWindowLimiter(3, 10.0, clock)
    for _ in range(3):
        with limiter.slot(clock.sleep) as waited:
            assert waited == 0.0
            clock.now += 1.0  # each answer takes a second: they arrive at 1, 2 and 3

    with limiter.slot(clock.sleep) as waited:
        assert clock.now == 11.0  # ten seconds after the first answer, not after its sending
    assert waited == 8.0 and clock.slept == [8.0]


def test_a_limit_or_window_that_cannot_hold_a_request_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        RollingWindowLimiter(0, 10.0)
    with pytest.raises(ValueError, match="positive window"):
        RollingWindowLimiter(5, 10.0).resize(5, 0)


def test_threads_never_have_more_requests_in_a_window_than_the_limit():
    limit, window, threads, each = 4, 0.3, 4, 6
    limiter = RollingWindowLimiter(limit, window)
    stamps: list[float] = []  # a moment inside each slot: where a server could count the request
    lock = threading.Lock()

    def send(number: int) -> None:
        for k in range(each):
            with limiter.slot(time.sleep):
                time.sleep(0.002 * ((number + k) % 5))
                with lock:
                    stamps.append(time.monotonic())
                time.sleep(0.002 * (k % 3))

    workers = [threading.Thread(target=send, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    stamps.sort()
    assert len(stamps) == threads * each
    busiest = max(sum(1 for other in stamps if stamp - window < other <= stamp) for stamp in stamps)
    assert busiest <= limit


# --- HubSpot's pacer ----------------------------------------------------------------------------------------


def test_the_pacer_assumes_the_lowest_tier_until_an_answer_tells_the_burst():
    pacer = HubSpotPacer(FakeClock())
    assert (pacer.burst.limit, pacer.burst.seconds) == (100 - BURST_MARGIN, 10.0)

    pacer.learn(json_response(200, {}, _burst_headers(190, 10000)))
    assert (pacer.burst.limit, pacer.burst.seconds) == (190 - BURST_MARGIN, 10.0)
    pacer.learn(json_response(200, {}, _burst_headers(20, 2000)))
    assert (pacer.burst.limit, pacer.burst.seconds) == (20 - BURST_MARGIN, 2.0)
    for told_nothing in ({}, _burst_headers("many", 2000), _burst_headers(20, "")):  # a search answer; garbage
        pacer.learn(json_response(200, {}, told_nothing))
    assert (pacer.burst.limit, pacer.burst.seconds) == (20 - BURST_MARGIN, 2.0)


def test_the_learned_burst_holds_requests_back():
    clock = FakeClock()
    pacer = HubSpotPacer(clock)
    pacer.learn(json_response(200, {}, _burst_headers(20, 2000)))
    waits = []
    for _ in range(20 - BURST_MARGIN + 1):
        with pacer.slot(LIST, clock.sleep) as waited:
            waits.append(waited)
    assert waits == [0.0] * (20 - BURST_MARGIN) + [2.0]


def test_searches_are_paced_at_the_accounts_per_second_limit_and_count_toward_the_burst():
    clock = FakeClock()
    pacer = HubSpotPacer(clock)
    pacer.learn(json_response(200, {}, _burst_headers(SEARCHES_PER_SECOND + 1 + BURST_MARGIN, 10000)))
    searched = []
    for _ in range(SEARCHES_PER_SECOND + 1):
        with pacer.slot(SEARCH, clock.sleep) as waited:
            searched.append(waited)
    assert searched == [0.0] * SEARCHES_PER_SECOND + [1.0]  # the sixth search waits out the second
    with pacer.slot(LIST, clock.sleep) as waited:  # the burst (6) is spent by the six searches
        assert waited == 9.0  # ten seconds after the first search's answer, at 0


# --- a real read against a sandbox enforcing a small burst ------------------------------------------------

BURST, WINDOW_MS, PAGE_SIZE = 20, 2000, 10
CONTACT_COUNT, COMPANY_COUNT, DEAL_COUNT = 80, 20, 20


@pytest.mark.parametrize(("policy", "seconds"), [("SECONDLY", 1.0), ("TEN_SECONDLY_ROLLING", 10.0), ("", 10.0)])
def test_a_throttled_request_waits_its_policys_window_out(policy, seconds):
    verdict = classify(json_response(429, {"status": "error", "errorType": "RATE_LIMIT", "policyName": policy}))
    assert (verdict.action, verdict.wait) == (Action.RETRY, seconds)


def _stamp(number: int) -> str:
    return f"2026-01-{1 + number % 28:02d}T{number % 24:02d}:00:00.000Z"


def _crm_record(record_id: str, modified_property: str, number: int, **properties) -> dict:
    stamp = _stamp(number)
    return {"id": record_id, "createdAt": stamp, "updatedAt": stamp, "archived": False,
            "properties": {"hs_object_id": record_id, "createdate": stamp, modified_property: stamp, **properties}}


def _dataset(folder):
    contacts = [hubspot_contact(n, _stamp(n)) for n in range(CONTACT_COUNT)]
    companies = [_crm_record(str(5000 + n), "hs_lastmodifieddate", n, name=f"Company {n}")
                 for n in range(COMPANY_COUNT)]
    deals = [_crm_record(str(7000 + n), "hs_lastmodifieddate", n, dealname=f"Deal {n}") for n in range(DEAL_COUNT)]
    links = [{"from_type": "contacts", "from_id": contact["id"], "to_type": "companies",
              "to_id": str(5000 + n % COMPANY_COUNT), "type": "contact_to_company"}
             for n, contact in enumerate(contacts)]
    links += [{"from_type": "deals", "from_id": str(7000 + n), "to_type": "contacts", "to_id": contacts[n]["id"],
               "type": "deal_to_contact"} for n in range(DEAL_COUNT)]
    return write_dataset(folder, {("hubspot", "contacts"): contacts, ("hubspot", "companies"): companies,
                                  ("hubspot", "deals"): deals, ("hubspot", "associations"): links})


@pytest.fixture
def small_burst(tmp_path):
    """A sandbox enforcing 20 requests per 2 s and 5 searches a second, serving pages of 10."""
    with running_sandbox(dataset=_dataset(tmp_path), hubspot_burst=BURST, hubspot_burst_window_ms=WINDOW_MS,
                         hubspot_search_per_second=SEARCHES_PER_SECOND,
                         extra_args=("--page-size", str(PAGE_SIZE))) as running:
        yield running


def _read_at_once(client) -> tuple[dict, list[BaseException]]:
    """Three streams in order, the contacts' keys and a search of every contact, each in a thread, one client."""
    reads = {
        "streams": lambda: {stream.name: [r for page in client.read_pages(stream) for r in page]
                            for stream in (CONTACTS, COMPANIES, DEALS)},
        "keys": lambda: [key for page in client.source_keys(CONTACTS) for key in page],
        "search": lambda: [r for page in client.read_pages(CONTACTS, since=datetime(2025, 1, 1, tzinfo=UTC))
                           for r in page],
    }
    results: dict = {}
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            results[name] = reads[name]()
        except Exception as exc:  # a read the limits ended: reported, not raised in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in reads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_a_paced_read_of_several_streams_keys_and_search_at_once_is_never_throttled(small_burst):
    client = hubspot_client(small_burst.url, policy=RetryPolicy(max_attempts=6))

    results, errors = _read_at_once(client)

    assert errors == []
    assert small_burst.stats()["throttled"] == {}
    contact_ids = [hubspot_contact(n, "")["id"] for n in range(CONTACT_COUNT)]
    read = results["streams"]
    assert sorted(r["id"] for r in read["contacts"]) == contact_ids
    assert all(r["_associations"]["companies"] == [str(5000 + n % COMPANY_COUNT)]
               for n, r in enumerate(sorted(read["contacts"], key=lambda r: int(r["id"]))))
    assert sorted(r["id"] for r in read["companies"]) == [str(5000 + n) for n in range(COMPANY_COUNT)]
    assert sorted(r["id"] for r in read["deals"]) == [str(7000 + n) for n in range(DEAL_COUNT)]
    assert sorted(results["keys"]) == contact_ids
    assert sorted({r["id"] for r in results["search"]}) == contact_ids
    assert client.http.stats.requests > 2 * BURST  # more than two windows' worth: the pacing had work to do
    assert client.http.stats.pace_seconds > 0
    assert client.http.stats.retries == 0


def test_the_same_read_unpaced_is_throttled(small_burst):
    client = hubspot_client(small_burst.url, policy=RetryPolicy(max_attempts=6), pacing=False)
    client.http.sleep = lambda seconds: time.sleep(min(seconds, WINDOW_MS / 1000))  # a 429 waits a window, not 10 s

    _read_at_once(client)

    assert small_burst.stats()["throttled"].get("hubspot", 0) > 0
    assert client.http.stats.retries > 0
    assert client.http.stats.pace_seconds == 0
