"""The HubSpot emulator enforces HubSpot's rate limits (reference/source-apis.md 2.7): the app's rolling burst answers
the ``TEN_SECONDLY_ROLLING`` 429 past its limit, search its own ``SECONDLY`` 429 past its per-second limit; a call
refused is not counted, and 0 turns a limit off. Small limits keep the tests fast; all over HTTP."""

import time

import pytest

from sandbox.__main__ import main as sandbox_main
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset
from tests.connectors.test_crm_acceptance import hubspot_contact
from tests.support.hubspot import portal_session

BURST, WINDOW_MS, SEARCHES = 5, 1000, 2
WINDOW = WINDOW_MS / 1000
RATE_HEADERS = ("X-HubSpot-RateLimit-Interval-Milliseconds", "X-HubSpot-RateLimit-Max",
                "X-HubSpot-RateLimit-Remaining")


def _dataset(folder):
    contacts = [hubspot_contact(n, "2026-01-01T00:00:00.000Z") for n in range(3)]
    return write_dataset(folder, {("hubspot", "contacts"): contacts})


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    """A sandbox allowing 5 calls per rolling second and 2 searches per second."""
    with running_sandbox(dataset=_dataset(tmp_path_factory.mktemp("limited")), hubspot_burst=BURST,
                         hubspot_burst_window_ms=WINDOW_MS, hubspot_search_per_second=SEARCHES) as running:
        yield running


@pytest.fixture
def session(limited):
    """An authorized session, once the windows of calls made before are over."""
    authorized = portal_session(limited.url)
    time.sleep(WINDOW + 0.1)
    return authorized


def _list(session, url):
    return session.get(f"{url}/crm/v3/objects/contacts", params={"limit": 1}, timeout=10)


def _search(session, url):
    return session.post(f"{url}/crm/v3/objects/contacts/search", json={"filterGroups": [], "limit": 1}, timeout=10)


def test_the_call_past_the_burst_is_the_ten_secondly_429_with_the_rate_headers(limited, session):
    throttled_before = limited.stats()["throttled"].get("hubspot", 0)
    served = [_list(session, limited.url) for _ in range(BURST)]
    refused = _list(session, limited.url)

    assert [r.status_code for r in served] == [200] * BURST
    assert [r.headers["X-HubSpot-RateLimit-Remaining"] for r in served] == ["4", "3", "2", "1", "0"]
    assert refused.status_code == 429
    assert {name: refused.headers[name] for name in RATE_HEADERS} == {
        "X-HubSpot-RateLimit-Interval-Milliseconds": "1000", "X-HubSpot-RateLimit-Max": "5",
        "X-HubSpot-RateLimit-Remaining": "0"}
    assert "Retry-After" not in refused.headers  # HubSpot does not document one
    body = refused.json()
    assert set(body) == {"status", "message", "errorType", "correlationId", "policyName", "requestId"}
    assert (body["status"], body["errorType"], body["policyName"]) == ("error", "RATE_LIMIT", "TEN_SECONDLY_ROLLING")
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["correlationId"] and body["requestId"]
    assert limited.stats()["throttled"]["hubspot"] == throttled_before + 1


def test_refused_calls_are_not_counted_and_the_window_rolls_on(limited, session):
    started = time.monotonic()
    assert [_list(session, limited.url).status_code for _ in range(BURST)] == [200] * BURST
    refused = [_list(session, limited.url).status_code for _ in range(10)]  # refusals in the same window
    time.sleep(max(0.0, started + WINDOW + 0.05 - time.monotonic()))  # the served calls' window is over

    again = [_list(session, limited.url) for _ in range(BURST)]

    assert refused == [429] * 10
    assert [r.status_code for r in again] == [200] * BURST  # refusals counted would still fill the window
    assert again[0].headers["X-HubSpot-RateLimit-Remaining"] == "4"


def test_search_has_its_own_secondly_limit_without_rate_headers(limited, session):
    served = [_search(session, limited.url) for _ in range(SEARCHES)]
    refused = _search(session, limited.url)

    assert [r.status_code for r in served] == [200] * SEARCHES
    assert refused.status_code == 429
    body = refused.json()
    assert (body["policyName"], body["errorType"]) == ("SECONDLY", "RATE_LIMIT")
    assert body["message"] == "You have reached your secondly limit."
    assert not any(name in refused.headers for name in RATE_HEADERS)
    time.sleep(WINDOW + 0.05)
    assert _search(session, limited.url).status_code == 200


def test_searches_and_token_refreshes_do_not_count_toward_the_burst(limited, session):
    searched = [_search(session, limited.url).status_code for _ in range(SEARCHES)]
    refreshed = portal_session(limited.url)  # a token refresh, then the burst's calls

    listed = [_list(refreshed, limited.url) for _ in range(BURST)]

    assert searched == [200] * SEARCHES
    assert [r.status_code for r in listed] == [200] * BURST
    assert listed[0].headers["X-HubSpot-RateLimit-Remaining"] == "4"


def test_zero_turns_both_limits_off_and_the_default_tier_is_advertised(tmp_path):
    with running_sandbox(dataset=_dataset(tmp_path), hubspot_burst=0, hubspot_search_per_second=0) as running:
        session = portal_session(running.url)
        listed = [_list(session, running.url) for _ in range(30)]
        searched = [_search(session, running.url).status_code for _ in range(15)]
        throttled = running.stats()["throttled"]

    assert [r.status_code for r in listed] == [200] * 30
    assert searched == [200] * 15
    assert throttled == {}
    assert listed[-1].headers["X-HubSpot-RateLimit-Max"] == "190"
    assert listed[-1].headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert listed[-1].headers["X-HubSpot-RateLimit-Remaining"] == "160"  # still counted


def test_the_real_tier_is_the_default(tmp_path):
    with running_sandbox(dataset=_dataset(tmp_path)) as running:
        listed = _list(portal_session(running.url), running.url)
    assert listed.headers["X-HubSpot-RateLimit-Max"] == "190"
    assert listed.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"


@pytest.mark.parametrize(("option", "value"), [("--hubspot-burst", "-1"), ("--hubspot-burst-window-ms", "0"),
                                               ("--hubspot-search-per-second", "five")])
def test_the_serve_command_refuses_a_bad_limit(option, value, capsys):
    with pytest.raises(SystemExit) as exited:
        sandbox_main(["serve", option, value])
    assert exited.value.code == 2
    assert option in capsys.readouterr().err
