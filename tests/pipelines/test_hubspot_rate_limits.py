"""A HubSpot sync under the app's burst limit, end to end: the HubSpot raw asset reads contacts from a sandbox that
enforces a small burst, is never throttled, loads every contact, and says in its materialization metadata how long
its requests were held back (``seconds_paced``)."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.defs.ingest.hubspot import hubspot_raw
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset
from tests.connectors.test_crm_acceptance import hubspot_contact
from tests.support.warehouse import hubspot_resources, warehouse_rows

CONTACTS = 60
PAGE_SIZE = 5  # 12 list pages, each with its association reads: several times the burst
BURST, WINDOW_MS = 8, 1_000


@pytest.fixture
def hubspot(tmp_path):
    """A sandbox portal of `CONTACTS` contacts, pages of `PAGE_SIZE`, enforcing `BURST` requests per `WINDOW_MS`."""
    contacts = [hubspot_contact(n, f"2026-01-01T00:00:{n % 60:02d}.000Z") for n in range(CONTACTS)]
    folder = write_dataset(tmp_path / "dataset", {("hubspot", "contacts"): contacts})
    with running_sandbox(dataset=folder, hubspot_burst=BURST, hubspot_burst_window_ms=WINDOW_MS,
                         extra_args=("--page-size", str(PAGE_SIZE))) as running:
        yield running


def test_a_sync_under_a_small_burst_is_never_throttled_and_reports_the_time_it_was_paced(hubspot, pipeline_env):
    env = pipeline_env(hubspot)
    result = dg.materialize([hubspot_raw], selection=[dg.AssetKey(["raw", "hubspot", "contacts"])],
                            resources=hubspot_resources(hubspot.url, env))

    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["rows_loaded"].value == CONTACTS
    assert metadata["requests"].value > BURST
    assert metadata["seconds_paced"].value > 0
    assert metadata["retries"].value == 0
    assert hubspot.stats()["throttled"].get("hubspot", 0) == 0
    assert len(warehouse_rows(env["WAREHOUSE_DUCKDB_PATH"], "select id from raw_hubspot.contacts")) == CONTACTS
