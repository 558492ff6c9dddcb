"""HubSpot's half of the key reconciliation, end to end: the HubSpot raw asset syncs contacts from a sandbox of its own
into DuckDB; two contacts are then GDPR-deleted and one merged away (its survivor lists it in
``hs_merged_object_ids``); the next sync flags all three ``_vanished_at`` in raw, and the HubSpot staging models, built
by dbt, count the GDPR-deleted ones deleted and the merged-away one a merge, not a delete. The email events, read by
their cursor too, say they are not reconciled."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from pipelines.defs.ingest.hubspot import hubspot_raw
from pipelines.lib.key_reconciliation import RECONCILIATION_SETTING, VANISHED_COLUMN
from sandbox.launcher import running_sandbox
from tests.conftest import write_dataset
from tests.connectors.test_crm_acceptance import hubspot_contact
from tests.support.warehouse import hubspot_resources, warehouse_rows
from tests.transform.helpers import run_dbt

CLOCK = datetime(2026, 6, 1, tzinfo=UTC)  # the sandbox's "now": every record is older
CONTACTS = 10
ARCHIVED = "1009"
GDPR_DELETED = ["1001", "1002"]
SURVIVOR, MERGED_AWAY = "1003", "1004"
STAGING = ["stg_hubspot__contacts", "stg_hubspot__companies", "stg_hubspot__deals"]


def _contact(number: int) -> dict:
    record = hubspot_contact(number, f"2026-01-01T00:00:{number:02d}.000Z")
    return {**record, "archived": True, "archivedAt": "2026-02-01T00:00:00.000Z"} if record["id"] == ARCHIVED \
        else record


def _survivor_of_the_merge() -> dict:
    """The survivor as HubSpot shows it after the merge: modified, the loser listed in its merged ids."""
    record = hubspot_contact(int(SURVIVOR) - 1000, "2026-05-01T00:00:00.000Z")
    record["properties"]["hs_merged_object_ids"] = MERGED_AWAY
    return record


@pytest.fixture
def hubspot(tmp_path):
    folder = write_dataset(tmp_path / "dataset", {("hubspot", "contacts"): [_contact(n) for n in range(CONTACTS)],
                                                  ("hubspot", "email_events"): []})
    (folder / "clock.txt").write_text(CLOCK.isoformat() + "\n")
    with running_sandbox(dataset=folder) as running:
        yield running


def test_gdpr_deletes_are_flagged_and_deleted_in_staging_while_a_merged_away_contact_stays_a_merge(
        hubspot, tmp_path, pipeline_env, monkeypatch):
    env = pipeline_env(hubspot)
    resources = hubspot_resources(hubspot.url, env)
    monkeypatch.setenv(RECONCILIATION_SETTING, "0")

    def night() -> dict[str, dict]:
        selection = [dg.AssetKey(["raw", "hubspot", name]) for name in ("contacts", "email_events")]
        result = dg.materialize([hubspot_raw], selection=selection, resources=resources)
        return {event.asset_key.path[-1]: {name: value.value for name, value in event.materialization.metadata.items()}
                for event in result.get_asset_materialization_events()}

    first = night()
    assert first["contacts"]["key_reconciliation"] == "counted as done: the stream was read whole (no cursor before)"
    hubspot.hard_delete_hubspot("contacts", GDPR_DELETED)
    hubspot.upsert("hubspot", "contacts", [_survivor_of_the_merge()])  # a merge: the survivor lists the loser ...
    hubspot.hard_delete_hubspot("contacts", [MERGED_AWAY])  # ... which leaves every listing
    second = night()

    contacts = second["contacts"]
    assert contacts["rows_vanished"] == 3 and "notes" not in contacts
    assert contacts["key_reconciliation"].startswith(f"done: {CONTACTS - 3} keys listed at the source")
    assert second["email_events"]["key_reconciliation"].startswith("not reconciled: append-only events")
    warehouse = env["WAREHOUSE_DUCKDB_PATH"]
    flagged = warehouse_rows(warehouse, f"select id from raw_hubspot.contacts where {VANISHED_COLUMN} is not null "
                                        "order by id")
    assert [row[0] for row in flagged] == sorted([*GDPR_DELETED, MERGED_AWAY])
    assert warehouse_rows(warehouse, "select count(*) from raw_hubspot.contacts") == [(CONTACTS,)]

    # cautious: only the staging models' own tests, not those that also read models this test does not build
    built = run_dbt(warehouse, ["build", "--select", *STAGING, "--indirect-selection", "cautious"], tmp_path / "dbt")
    assert built.returncode == 0, f"{built.stdout[-4000:]}\n{built.stderr[-2000:]}"
    staged = warehouse_rows(warehouse, "select hubspot_contact_id, is_deleted, is_archived, is_vanished, "
                                       "is_merged_away, merged_into_hubspot_contact_id "
                                       "from staging.stg_hubspot__contacts order by 1")
    expected = {str(1000 + n): (False, False, False, False, None) for n in range(CONTACTS)}
    expected.update({record_id: (True, False, True, False, None) for record_id in GDPR_DELETED})
    expected[ARCHIVED] = (True, True, False, False, None)
    expected[MERGED_AWAY] = (False, False, True, True, SURVIVOR)
    assert staged == [(record_id, *flags) for record_id, flags in sorted(expected.items())]
