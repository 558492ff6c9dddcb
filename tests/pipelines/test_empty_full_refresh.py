"""A full refresh that reads nothing loadable does not empty a table that holds rows.

An empty answer (a lost permission scope, an unlinked ad account, a bug at the source) or one whose every record
is rejected more likely means a fault than every record gone: the table, its rows and its state are kept, the
stream is reported as stopped early, and only ``RAW_EMPTY_REFRESH_ALLOWED`` lets such a read empty the table.
Real loader and dlt into DuckDB (and PostgreSQL for the table kept); the last test runs the Dagster asset against
the sandbox over HTTP.
"""

import dataclasses
import importlib
import logging
import pkgutil

import dagster as dg
import duckdb
import pytest

from connectors.google_ads.streams import STREAMS as GOOGLE_ADS_STREAMS
from connectors.hubspot.streams import OWNERS
from connectors.hubspot.streams import STREAMS as HUBSPOT_STREAMS
from connectors.salesforce.streams import ACCOUNT
from connectors.salesforce.streams import STREAMS as SALESFORCE_STREAMS
from pipelines.defs.ingest.google_ads import google_ads_raw
from pipelines.lib.raw_loader import EMPTY_REFRESH_SETTING, SOURCES, load_streams, source_streams
from tests.ads_fixtures import G_CAMPAIGNS, G_MANAGER, google_ads_resources, running_ads_sandbox
from tests.support.warehouse import warehouse_rows

SOURCE = "hubspot"
STORED = 5


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    """A DuckDB warehouse and its dlt folder, with no empty refresh allowed whatever the caller's environment."""
    monkeypatch.delenv(EMPTY_REFRESH_SETTING, raising=False)
    return str(tmp_path / "warehouse.duckdb"), tmp_path / "dlt"


def _owner(number: int, **changes) -> dict:
    """An owner as HubSpot's owners API lists it."""
    return {"id": str(100 + number), "email": f"owner{number}@example.com", "firstName": f"Owner{number}",
            "lastName": "Example", "userId": 9000 + number, "archived": False,
            "createdAt": "2025-01-01T00:00:00Z", "updatedAt": "2025-06-01T00:00:00Z", **changes}


def _refresh(warehouse, owners, run_id):
    """Read `owners` as the whole owners stream (one page, or none) and load it."""
    target, pipelines_dir = warehouse
    pages = [owners] if owners else []
    return load_streams(SOURCE, [OWNERS], lambda _stream, _since: iter(pages), target, pipelines_dir,
                        run_id)[OWNERS.name]


def _rows(warehouse, query):
    return warehouse_rows(warehouse[0], query)


def _table(warehouse):
    """Every stored owner, load stamps included, in key order."""
    return _rows(warehouse, "select id, email, user_id, _run_id, _loaded_at, _dlt_load_id from raw_hubspot.owners "
                            "order by id")


def test_an_empty_read_keeps_the_table_and_reports_the_stream_stopped_early(any_warehouse, caplog):
    _refresh(any_warehouse, [_owner(n) for n in range(STORED)], "run-1")
    before = _table(any_warehouse)
    with caplog.at_level(logging.WARNING, logger="pipelines.raw_loader"):
        emptied = _refresh(any_warehouse, [], "run-2")
    assert _table(any_warehouse) == before
    assert (emptied.rows, emptied.inserted, emptied.updated, emptied.unchanged, emptied.removed) == (0, 0, 0, 0, 0)
    assert "hubspot.owners read 0 rows" in emptied.stopped_early
    assert f"keeps its {STORED} rows" in emptied.stopped_early and EMPTY_REFRESH_SETTING in emptied.stopped_early
    warnings = [r.getMessage() for r in caplog.records if r.name == "pipelines.raw_loader"]
    assert warnings == [emptied.stopped_early]
    # The kept table is the one the next read merges into: one owner gone since run-1 is one row flagged, kept.
    after = _refresh(any_warehouse, [_owner(n) for n in range(STORED - 1)], "run-3")
    assert (after.stopped_early, after.unchanged, after.removed, after.vanished) == (None, STORED - 1, 0, 1)
    assert _rows(any_warehouse, "select count(*), count(_vanished_at) from raw_hubspot.owners") == [(STORED, 1)]


def test_a_read_whose_every_record_is_rejected_keeps_the_table_and_quarantines_them(warehouse):
    _refresh(warehouse, [_owner(n) for n in range(STORED)], "run-1")
    before = _table(warehouse)
    rejected = _refresh(warehouse, [_owner(n, userId="unknown") for n in range(3)], "run-2")
    assert _table(warehouse) == before
    assert (rejected.rows, rejected.quarantined, rejected.removed) == (0, 3, 0)
    assert "read 0 rows (3 rejected into quarantine)" in rejected.stopped_early
    quarantined = _rows(warehouse, "select stream, run_id, reason from raw_hubspot._quarantine")
    assert [(stream, run_id) for stream, run_id, _ in quarantined] == [("owners", "run-2")] * 3
    assert all("userId" in reason for _, _, reason in quarantined)


@pytest.mark.parametrize("setting", ["hubspot.owners", "*", " salesforce.user , hubspot.owners ,"])
def test_the_setting_naming_the_stream_lets_an_empty_read_flag_every_row(warehouse, monkeypatch, setting):
    _refresh(warehouse, [_owner(n) for n in range(STORED)], "run-1")
    monkeypatch.setenv(EMPTY_REFRESH_SETTING, setting)
    emptied = _refresh(warehouse, [], "run-2")
    assert (emptied.stopped_early, emptied.removed, emptied.vanished) == (None, 0, STORED)
    # kept, flagged gone from the source: deletes at the source become flags, never hard deletes
    assert _rows(warehouse, "select count(*), count(_vanished_at) from raw_hubspot.owners") == [(STORED, STORED)]


@pytest.mark.parametrize("setting", ["salesforce.owners", "hubspot.deal_pipeline_stages"])
def test_the_setting_naming_another_stream_or_source_keeps_the_table(warehouse, monkeypatch, setting):
    _refresh(warehouse, [_owner(n) for n in range(STORED)], "run-1")
    monkeypatch.setenv(EMPTY_REFRESH_SETTING, setting)
    kept = _refresh(warehouse, [], "run-2")
    assert kept.stopped_early and kept.removed == 0
    assert _rows(warehouse, "select count(*) from raw_hubspot.owners") == [(STORED,)]


@pytest.mark.parametrize("entry", ["hubspot", "hubspot.", ".owners", "hubspt.owners"])
def test_a_malformed_setting_fails_the_sync_naming_the_variable_and_the_entry(warehouse, monkeypatch, entry):
    _refresh(warehouse, [_owner(n) for n in range(STORED)], "run-1")
    monkeypatch.setenv(EMPTY_REFRESH_SETTING, f"hubspot.owners,{entry}")
    read = []
    target, pipelines_dir = warehouse
    with pytest.raises(ValueError, match=EMPTY_REFRESH_SETTING) as failure:
        load_streams(SOURCE, [OWNERS], lambda stream, _since: read.append(stream) or iter([]), target, pipelines_dir,
                     "run-2")
    assert repr(entry) in str(failure.value)
    assert read == []  # failed before reading anything
    assert _rows(warehouse, "select count(*) from raw_hubspot.owners") == [(STORED,)]


def _stream_names(streams) -> str:
    """The names of `streams` sorted and joined, as an error lists a source's streams."""
    return ", ".join(sorted(stream.name for stream in streams))


def _failed_sync(warehouse, source, stream, monkeypatch, setting) -> tuple[ValueError, list]:
    """The error of a sync of `stream` of `source` with `setting`, and the streams it read (none, it is hoped)."""
    monkeypatch.setenv(EMPTY_REFRESH_SETTING, setting)
    read = []
    target, pipelines_dir = warehouse
    with pytest.raises(ValueError, match=EMPTY_REFRESH_SETTING) as failure:
        load_streams(source, [stream], lambda stream, _since: read.append(stream) or iter([]), target, pipelines_dir,
                     "run-2")
    return failure.value, read


@pytest.mark.parametrize("entry", ["hubspot.ownrs", "hubspot.owners.archived"])
def test_a_misspelt_stream_of_this_source_fails_its_sync_naming_the_entry_and_its_streams(warehouse, monkeypatch,
                                                                                         entry):
    _refresh(warehouse, [_owner(n) for n in range(STORED)], "run-1")
    error, read = _failed_sync(warehouse, SOURCE, OWNERS, monkeypatch, f"hubspot.owners,{entry}")
    assert str(error) == (f"{EMPTY_REFRESH_SETTING}: {entry!r} names no stream of hubspot (its streams are "
                          f"{_stream_names(HUBSPOT_STREAMS)})")
    assert read == []  # failed before reading anything
    assert _rows(warehouse, "select count(*) from raw_hubspot.owners") == [(STORED,)]


def test_a_stream_read_incrementally_fails_its_sync_naming_the_streams_read_whole(warehouse, monkeypatch):
    _refresh(warehouse, [_owner(n) for n in range(STORED)], "run-1")
    error, read = _failed_sync(warehouse, SOURCE, OWNERS, monkeypatch, "hubspot.contacts")
    whole = [stream for stream in HUBSPOT_STREAMS if stream.cursor is None and stream.window_column is None]
    assert "contacts" not in _stream_names(whole).split(", ") and "owners" in _stream_names(whole).split(", ")
    assert str(error) == (f"{EMPTY_REFRESH_SETTING}: 'hubspot.contacts' names a stream read incrementally, whose "
                          f"reads merge into its table and never empty it (the streams of hubspot read whole are "
                          f"{_stream_names(whole)})")
    assert read == []


def test_an_unknown_stream_of_another_source_fails_that_sources_sync_only(warehouse, monkeypatch):
    _refresh(warehouse, [_owner(n) for n in range(STORED)], "run-1")
    monkeypatch.setenv(EMPTY_REFRESH_SETTING, "salesforce.nonexistent")
    kept = _refresh(warehouse, [], "run-2")  # HubSpot's sync leaves the entry to Salesforce's
    assert kept.stopped_early and kept.removed == 0
    error, read = _failed_sync(warehouse, "salesforce", ACCOUNT, monkeypatch, "salesforce.nonexistent")
    assert str(error) == (f"{EMPTY_REFRESH_SETTING}: 'salesforce.nonexistent' names no stream of salesforce (its "
                          f"streams are {_stream_names(SALESFORCE_STREAMS)})")
    assert read == []


def test_a_stream_the_sync_is_given_beyond_the_catalogue_may_be_named(warehouse, monkeypatch):
    renamed = dataclasses.replace(OWNERS, name="owners_copy")  # e.g. a benchmark's variant of a stream
    target, pipelines_dir = warehouse
    load_streams(SOURCE, [renamed], lambda _stream, _since: iter([[_owner(1)]]), target, pipelines_dir, "run-1")
    monkeypatch.setenv(EMPTY_REFRESH_SETTING, "hubspot.owners_copy")
    emptied = load_streams(SOURCE, [renamed], lambda _stream, _since: iter([]), target, pipelines_dir, "run-2")
    assert (emptied["owners_copy"].stopped_early, emptied["owners_copy"].vanished) == (None, 1)


def test_the_streams_the_setting_may_name_are_those_of_each_sources_raw_assets():
    for source in SOURCES:
        raw_assets = getattr(importlib.import_module(f"pipelines.defs.ingest.{source}"), f"{source}_raw")
        assert {stream.name for stream in source_streams(source)} == {key.path[-1] for key in raw_assets.keys}, source


def test_the_sources_the_setting_may_name_are_those_of_the_raw_assets():
    from pipelines.defs import ingest

    assert set(SOURCES) == {module.name for module in pkgutil.iter_modules(ingest.__path__)}


def test_an_empty_first_load_creates_nothing_lost_and_stops_nothing(warehouse):
    first = _refresh(warehouse, [], "run-1")
    assert (first.stopped_early, first.rows, first.removed) == (None, 0, 0)
    again = _refresh(warehouse, [], "run-2")  # still nothing stored: nothing to keep
    assert (again.stopped_early, again.removed) == (None, 0)


# --- through the Dagster asset, against the sandbox ----------------------------------------------------------------

CAMPAIGNS = dg.AssetKey(["raw", "google_ads", "campaigns"])


@pytest.fixture(scope="module")
def google(tmp_path_factory):
    with running_ads_sandbox(tmp_path_factory) as running:
        yield running


def test_an_unlinked_ad_account_leaves_the_campaigns_and_says_stopped_early(google, pipeline_env, monkeypatch):
    monkeypatch.delenv(EMPTY_REFRESH_SETTING, raising=False)
    env = pipeline_env(google)
    first = dg.materialize([google_ads_raw], selection=[CAMPAIGNS], resources=google_ads_resources(google.url, env))
    assert first.success
    # Only the manager account is left linked: it runs no campaigns, so the read answers none.
    resources = google_ads_resources(google.url, env, account_ids=G_MANAGER)
    second = dg.materialize([google_ads_raw], selection=[CAMPAIGNS], resources=resources)
    assert second.success
    [event] = second.get_asset_materialization_events()
    metadata = {name: value.value for name, value in event.materialization.metadata.items()}
    assert (metadata["status"], metadata["rows_loaded"], metadata["rows_removed"]) == ("stopped early", 0, 0)
    assert "google_ads.campaigns read 0 rows" in metadata["stopped_early"]
    with duckdb.connect(env["WAREHOUSE_DUCKDB_PATH"], read_only=True) as connection:
        stored = connection.execute("select count(*) from raw_google_ads.campaigns").fetchone()[0]
    assert stored == len(G_CAMPAIGNS)


def test_a_misspelt_stream_fails_the_asset_naming_the_entry_before_anything_is_read(google, pipeline_env, monkeypatch):
    monkeypatch.setenv(EMPTY_REFRESH_SETTING, "google_ads.campaign")
    env = pipeline_env(google)
    result = dg.materialize([google_ads_raw], selection=[CAMPAIGNS], resources=google_ads_resources(google.url, env),
                            raise_on_error=False)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_failure_data.error.cause.message.strip() == (
        f"ValueError: {EMPTY_REFRESH_SETTING}: 'google_ads.campaign' names no stream of google_ads (its streams are "
        f"{_stream_names(GOOGLE_ADS_STREAMS)})")
    with duckdb.connect(env["WAREHOUSE_DUCKDB_PATH"]) as connection:  # nothing written: not even the raw schema
        schemas = connection.execute("select schema_name from information_schema.schemata").fetchall()
    assert ("raw_google_ads",) not in schemas


def test_a_subset_of_the_assets_accepts_an_entry_naming_a_stream_it_does_not_sync(google, pipeline_env, monkeypatch):
    monkeypatch.setenv(EMPTY_REFRESH_SETTING, "google_ads.customers")
    env = pipeline_env(google)
    result = dg.materialize([google_ads_raw], selection=[CAMPAIGNS], resources=google_ads_resources(google.url, env))
    assert result.success
    assert [event.asset_key for event in result.get_asset_materialization_events()] == [CAMPAIGNS]
