"""The ad clients count "today" by the platform's clock (its answers' Date header), not by this machine's.

The sandbox's ad data stops at its clock, 2026-06-15 in the hand-written dataset. Counted from this machine's
date, months later, every restatement window would fall after the data: a first sync would load nothing and
the nights after a sandbox advance would miss the new days. A real platform's answers carry its own time too, so
a client whose machine clock is off still asks for the days that exist.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from connectors.ad_metrics import ACCOUNT_CURSORS_KEY, MetricWindow
from connectors.google_ads.streams import CAMPAIGN_DAILY_METRICS
from connectors.http import HttpClient, sent_at
from connectors.linkedin_ads.streams import CAMPAIGN_DAILY_ANALYTICS
from connectors.loader_state import reading_with
from connectors.meta_ads.streams import STREAMS as META_STREAMS
from connectors.schema import to_arrow
from sandbox.auth import TokenStore
from sandbox.dataset import Dataset
from sandbox.server import SandboxState
from tests.ads_fixtures import (
    DAYS,
    NOW,
    SANDBOX_CLOCK,
    google_client,
    linkedin_client,
    meta_client,
    rows_of,
    running_ads_sandbox,
)
from tests.support.served import served_in_thread

META_CAMPAIGN_INSIGHTS = next(s for s in META_STREAMS if s.options.get("level") == "campaign")
#: Reaches back to the dataset's first day from the sandbox's clock, but not from any date after 2026-06-30.
WINDOW = MetricWindow(lookback_days=7, history_days=46, chunk_days=30)
PLATFORMS = {
    "google_ads": (google_client, CAMPAIGN_DAILY_METRICS),
    "meta_ads": (meta_client, META_CAMPAIGN_INSIGHTS),
    "linkedin_ads": (linkedin_client, CAMPAIGN_DAILY_ANALYTICS),
}


class _DatedSession:
    """Answers every request with ``{}`` and the Date header next in `dates` (None: no header)."""

    def __init__(self, dates: list[str | None]) -> None:
        self.dates = dates

    def request(self, method, url, headers=None, timeout=None, stream=False, **kwargs):
        response = requests.Response()
        response.status_code = 200
        response._content = b"{}"
        stated = self.dates.pop(0)
        if stated is not None:
            response.headers["Date"] = stated
        return response


def test_the_server_clock_is_the_date_of_the_newest_answer_that_has_one():
    client = HttpClient(source="test", session=_DatedSession([
        "Mon, 15 Jun 2026 08:00:00 GMT", None, "not a date", "Tue, 16 Jun 2026 09:30:00 GMT"]))
    before = datetime.now(UTC)
    assert before <= client.server_now() <= datetime.now(UTC)  # no answer yet: this machine's clock
    client.get_json("https://api/x")
    assert client.server_now() == datetime(2026, 6, 15, 8, tzinfo=UTC)
    client.get_json("https://api/x")
    client.get_json("https://api/x")
    assert client.server_now() == datetime(2026, 6, 15, 8, tzinfo=UTC)  # no date, then an unreadable one: kept
    client.get_json("https://api/x")
    assert client.server_now() == datetime(2026, 6, 16, 9, 30, tzinfo=UTC)


def test_sent_at_reads_offsets_and_refuses_what_is_no_date():
    response = requests.Response()
    response.headers["Date"] = "Mon, 15 Jun 2026 10:00:00 +0200"
    assert sent_at(response) == datetime(2026, 6, 15, 8, tzinfo=UTC)
    response.headers["Date"] = "yesterday"
    assert sent_at(response) is None
    del response.headers["Date"]
    assert sent_at(response) is None


@pytest.fixture
def served_state():
    """An empty sandbox served from a thread of this process, so the test can move its clock."""
    state = SandboxState(dataset=Dataset(clock=datetime(2026, 6, 15, 8, tzinfo=UTC)), tokens=TokenStore(1800.0))
    with served_in_thread(state):
        yield state


def test_the_sandbox_dates_every_answer_at_its_clock(served_state: SandboxState):
    for path in ("/_sandbox/health", "/v26/customers:listAccessibleCustomers", "/no/such/route"):
        answer = requests.get(served_state.url + path, timeout=10)
        assert answer.headers["Date"] == "Mon, 15 Jun 2026 08:00:00 GMT", path
        assert "," not in answer.headers["Date"][5:], "one Date header, not uvicorn's as well"
    served_state.dataset.clock += timedelta(days=1)  # what an advance does
    assert requests.get(served_state.url + "/_sandbox/health", timeout=10).headers["Date"] == \
        "Tue, 16 Jun 2026 08:00:00 GMT"
    served_state.dataset.clock = datetime(2026, 6, 16, 10, tzinfo=ZoneInfo("Europe/Berlin"))  # any zone: in GMT
    assert requests.get(served_state.url + "/_sandbox/health", timeout=10).headers["Date"] == \
        "Tue, 16 Jun 2026 08:00:00 GMT"


def _keys_and_days(stream, rows) -> tuple[list[str], list[date]]:
    table = to_arrow(stream, rows).table
    return sorted(table["row_key"].to_pylist()), table["date"].to_pylist()


@pytest.fixture(scope="module")
def ads_sandbox(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory) as running:
        yield running


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_client_without_a_clock_reads_the_days_the_platform_has(ads_sandbox, platform: str):
    factory, stream = PLATFORMS[platform]
    sandbox_today = datetime.fromisoformat(SANDBOX_CLOCK)
    assert datetime.now(UTC) - sandbox_today > timedelta(days=WINDOW.history_days), "the test needs a stale sandbox"

    state: dict = {}
    with reading_with(state):
        rows = rows_of(factory(ads_sandbox.url, clock=None, window=WINDOW).read_pages(stream))
    pinned = rows_of(factory(ads_sandbox.url, clock=lambda: NOW, window=WINDOW).read_pages(stream))

    keys, days = _keys_and_days(stream, rows)
    assert keys and keys == _keys_and_days(stream, pinned)[0]
    assert min(days) == DAYS[0]
    # every account resumes from the platform's today (the dataset's accounts sit between UTC-7 and UTC+2)
    assert set(state[ACCOUNT_CURSORS_KEY].values()) == {date(2026, 6, 15).isoformat()}
