"""The sandbox keeps the views its endpoints read ready: after a time-travel advance, a night's reads build none.

A real API answers the first request after its data changed as fast as the next one. Before the views were built
in the advance, the first sync after it built them (HubSpot's search indexes, association maps and property
definitions, the ad platforms' date indexes): about 5 s at scale M that the benchmark's first incremental night
paid and the next ones did not. Salesforce's SystemModstamp index is built there too.
"""

from datetime import datetime, timedelta

import pytest
import requests

from connectors.google_ads.streams import STREAMS as GOOGLE_ADS_STREAMS
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.streams import STREAMS as HUBSPOT_STREAMS
from connectors.linkedin_ads.streams import STREAMS as LINKEDIN_ADS_STREAMS
from connectors.meta_ads.streams import STREAMS as META_ADS_STREAMS
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.streams import STREAMS as SALESFORCE_STREAMS
from sandbox import auth
from sandbox.apis import _common, hubspot_search
from sandbox.auth import TokenStore
from sandbox.generate import generate
from sandbox.server import SandboxState
from tests.ads_fixtures import google_client, linkedin_client, meta_client
from tests.support.served import served_in_thread


@pytest.fixture
def served():
    """A scale-S sandbox served from a thread of this process, so that its view builds can be counted."""
    with served_in_thread(SandboxState(dataset=generate(scale="S"), tokens=TokenStore(1800.0))) as state:
        yield state


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the views the sandbox builds from now on."""
    built: list[str] = []
    derived_view = _common.DerivedViews.get

    def counted_derived_view(self, key, table, build):
        def counted(rows):
            built.append(f"view {key}")
            return build(rows)
        return derived_view(self, key, table, counted)

    sorted_view = hubspot_search.ObjectIndex._build_sorted

    def counted_sorted_view(self, name):
        built.append(f"hubspot {self.object_type} sorted by {name}")
        return sorted_view(self, name)

    date_index = _common.DateIndex._index

    def counted_date_index(self, table):
        if _common.table_signature(table) != self._signature:
            built.append(f"date index of {len(table)} rows")
        return date_index(self, table)

    monkeypatch.setattr(_common.DerivedViews, "get", counted_derived_view)
    monkeypatch.setattr(hubspot_search.ObjectIndex, "_build_sorted", counted_sorted_view)
    monkeypatch.setattr(_common.DateIndex, "_index", counted_date_index)
    return built


def _read_a_night(url: str, clock: datetime) -> dict[str, int]:
    """Rows per stream of what a night reads from the CRMs and the ad platforms: the day before `clock`."""
    since = clock - timedelta(days=1)
    hubspot_client = HubSpotClient(base_url=url, client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET,
                                   refresh_token=auth.REFRESH_TOKEN)
    salesforce_client = SalesforceClient(login_url=url, client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET,
                                         refresh_token=auth.REFRESH_TOKEN)
    sources = [(hubspot_client, HUBSPOT_STREAMS), (salesforce_client, SALESFORCE_STREAMS)] + [
        (factory(url, clock=lambda: clock), streams)
        for factory, streams in ((google_client, GOOGLE_ADS_STREAMS), (meta_client, META_ADS_STREAMS),
                                 (linkedin_client, LINKEDIN_ADS_STREAMS))]
    return {stream.name: sum(len(page) for page in client.read_pages(stream, since))
            for client, streams in sources for stream in streams}


def test_a_night_after_an_advance_builds_no_view(served: SandboxState, builds: list[str]) -> None:
    advanced = requests.post(f"{served.url}/_sandbox/advance", params={"days": 1, "change_rate": 0.01}, timeout=60)
    advanced.raise_for_status()
    assert builds, "the advance built the views for the new day"
    builds.clear()

    rows = _read_a_night(served.url, datetime.fromisoformat(advanced.json()["clock"]))

    assert rows["contacts"] and rows["deals"] and rows["opportunity"] and rows["lead"], rows  # the day's changes
    assert rows["campaign_daily_metrics"] and rows["adset_daily_insights"] and rows["campaign_daily_analytics"], rows
    assert builds == []


def test_a_change_outside_an_advance_is_still_seen(served: SandboxState, builds: list[str]) -> None:
    """Views stay lazy underneath: a record planted through the admin endpoint is served at once."""
    contact = {"id": "99999001", "archived": False, "createdAt": "2026-11-28T10:00:00.000Z",
               "updatedAt": "2026-11-28T10:00:00.000Z",
               "properties": {"email": "planted@example.org", "lastmodifieddate": "2026-11-28T10:00:00.000Z",
                              "createdate": "2026-11-28T10:00:00.000Z", "hs_object_id": "99999001"}}
    requests.post(f"{served.url}/_sandbox/records/hubspot/contacts", json=[contact], timeout=30).raise_for_status()
    client = HubSpotClient(base_url=served.url, client_id=auth.CLIENT_ID, client_secret=auth.CLIENT_SECRET,
                           refresh_token=auth.REFRESH_TOKEN)
    contacts = next(stream for stream in HUBSPOT_STREAMS if stream.name == "contacts")

    read = [record["id"] for page in client.read_pages(contacts) for record in page]

    assert "99999001" in read
    assert "view ('contacts', 'index')" in builds
