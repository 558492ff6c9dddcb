"""Periodic key reconciliation: stored rows whose record vanished from the source get ``_vanished_at``, never deleted.

A fake source (records by id, read by their modstamp, keys listed in pages of two) loaded through the real loader and
dlt into DuckDB, and into PostgreSQL for the flagging and its undoing; the last test runs the Salesforce raw asset
against a sandbox of its own, whose records it hard-deletes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb
import pytest

from connectors.errors import SourceLimitReached, SourceUnavailable
from connectors.schema import Field, Stream
from pipelines.defs.ingest.salesforce import salesforce_raw
from pipelines.lib.ingest import _metadata
from pipelines.lib.key_reconciliation import MAX_VANISHED_SETTING, RECONCILIATION_SETTING, VANISHED_COLUMN
from pipelines.lib.raw_loader import StreamLoad, load_streams
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset
from tests.support.warehouse import salesforce_resources, warehouse_rows

SOURCE = "salesforce"
CONTACT = Stream("contact", "id", (Field("id", "Id"), Field("last_name", "LastName"),
                                   Field("system_modstamp", "SystemModstamp", "timestamp")),
                 cursor="SystemModstamp", cursor_ordered=True)
LEAD = Stream("lead", "id", CONTACT.fields, cursor="SystemModstamp", cursor_ordered=True)
USER = Stream("user", "id", CONTACT.fields[:2])  # no cursor: read whole, replacing its table
IDS = ("A1", "A2", "A3", "A4", "A5")


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    """A DuckDB warehouse and its dlt folder, reconciling every run unless a test sets otherwise."""
    monkeypatch.setenv(RECONCILIATION_SETTING, "0")
    return str(tmp_path / "warehouse.duckdb"), tmp_path / "dlt"


class FakeSource:
    """A source's records of every stream by id: its reads hand over those modified after the cursor, its key
    listing every id it holds, `keys_per_page` (two) a page. `limit_after_pages` stops a listing with a limit after
    that many pages; `lists_nothing` makes it list no key at all, and `lists_first` only that many (a listing
    truncated without an error)."""

    def __init__(self) -> None:
        self.records: dict[str, dict] = {}
        self.clock = datetime(2026, 3, 1, tzinfo=UTC)
        self.listed: list[str] = []
        self.limit_after_pages: int | None = None
        self.source_wide = False
        self.lists_nothing = False
        self.lists_first: int | None = None
        self.keys_per_page = 2

    def put(self, *ids: str, name: str = "Lane") -> None:
        """Create or modify records, each with a newer modstamp."""
        for record_id in ids:
            self.clock += timedelta(minutes=1)
            self.records[record_id] = {"Id": record_id, "LastName": name,
                                       "SystemModstamp": self.clock.isoformat().replace("+00:00", "Z")}

    def hard_delete(self, *ids: str) -> None:
        """Records gone from every read and listing (a purged recycle bin)."""
        for record_id in ids:
            del self.records[record_id]

    def read_pages(self, _stream: Stream, since: datetime | None):
        page = [record for record in self.records.values()
                if since is None or datetime.fromisoformat(record["SystemModstamp"]) > since]
        return iter([page] if page else [])

    def source_keys(self, stream: Stream):
        self.listed.append(stream.name)
        keys = [] if self.lists_nothing else sorted(self.records)[:self.lists_first]
        for number, start in enumerate(range(0, len(keys), self.keys_per_page)):
            if self.limit_after_pages is not None and number >= self.limit_after_pages:
                raise SourceLimitReached("salesforce: the API budget is spent", source_wide=self.source_wide)
            yield keys[start:start + self.keys_per_page]


def _sync(warehouse, source: FakeSource, run_id: str, streams=(CONTACT,)) -> dict[str, StreamLoad]:
    target, pipelines_dir = warehouse
    return load_streams(SOURCE, list(streams), source.read_pages, target, pipelines_dir, run_id,
                        source_keys=source.source_keys)


def _contacts(warehouse) -> list[tuple]:
    """Every stored contact: id, flagged vanished, run id, loaded at; in id order."""
    return warehouse_rows(warehouse[0], f"select id, {VANISHED_COLUMN} is not null, _run_id, _loaded_at "
                                        "from raw_salesforce.contact order by id")


def _execute(warehouse, sql: str) -> None:
    """Run a statement on the warehouse (a test's own change to it)."""
    target = warehouse[0]
    if target.startswith("postgresql://"):
        import psycopg2

        with psycopg2.connect(target) as connection, connection.cursor() as cursor:
            cursor.execute(sql)
        return
    with duckdb.connect(target) as connection:
        connection.execute(sql)


def _age_reconciliations(warehouse, days: int) -> None:
    """Move the recorded reconciliations `days` days back, as if they were done that long ago."""
    _execute(warehouse, "update raw_salesforce._key_reconciliation "
                        f"set reconciled_at = reconciled_at - interval '{days} days'")


def _loaded(source: FakeSource, warehouse) -> FakeSource:
    """`source` with the five records `IDS`, loaded by a first run, ``run-1``."""
    source.put(*IDS)
    _sync(warehouse, source, "run-1")
    return source


def test_a_due_reconciliation_flags_exactly_the_vanished_rows_and_restamps_them(any_warehouse):
    source = _loaded(FakeSource(), any_warehouse)
    first = {row[0]: row for row in _contacts(any_warehouse)}
    source.hard_delete("A2", "A4")
    source.put("A1", name="Changed")
    contact = _sync(any_warehouse, source, "run-2")[CONTACT.name]
    assert source.listed == [CONTACT.name]
    assert contact.vanished == 2
    assert contact.reconciliation == "done: 3 keys listed at the source; 2 stored rows no longer there flagged " \
                                     "_vanished_at"
    assert contact.notes == []  # nothing left undone
    rows = {row[0]: row for row in _contacts(any_warehouse)}
    assert sorted(rows) == list(IDS)  # nothing deleted
    assert {key for key, row in rows.items() if row[1]} == {"A2", "A4"}
    for key in ("A2", "A4"):  # the load's stamps, so the incremental models take them up
        assert rows[key][2] == "run-2" and rows[key][3] > first[key][3]
        assert rows[key][3] == rows["A1"][3]
    assert rows["A3"][2:] == first["A3"][2:] and rows["A5"][2:] == first["A5"][2:]
    # Already flagged rows are not flagged again.
    again = _sync(any_warehouse, source, "run-3")[CONTACT.name]
    assert again.vanished == 0
    assert [row[1:3] for row in _contacts(any_warehouse)] == [
        (False, "run-2"), (True, "run-2"), (False, "run-1"), (True, "run-2"), (False, "run-1")]


def test_a_key_back_at_the_source_is_merged_again_without_the_flag(any_warehouse):
    source = _loaded(FakeSource(), any_warehouse)
    source.hard_delete("A2")
    assert _sync(any_warehouse, source, "run-2")[CONTACT.name].vanished == 1
    source.put("A2", name="Restored")  # undeleted: its modstamp moves, so the next read merges it
    restored = _sync(any_warehouse, source, "run-3")[CONTACT.name]
    assert restored.vanished == 0
    row = warehouse_rows(any_warehouse[0], f"select last_name, {VANISHED_COLUMN}, _run_id from raw_salesforce.contact "
                                           "where id = 'A2'")
    assert row == [("Restored", None, "run-3")]


def test_a_first_load_counts_as_a_reconciliation_and_the_next_is_due_after_the_setting(warehouse, monkeypatch):
    monkeypatch.setenv(RECONCILIATION_SETTING, "7")
    source = FakeSource()
    source.put(*IDS)
    first = _sync(warehouse, source, "run-1")[CONTACT.name]
    assert first.reconciliation == "counted as done: the stream was read whole (no cursor before)"
    source.hard_delete("A3")
    source.put("A1", name="Changed")
    not_due = _sync(warehouse, source, "run-2")[CONTACT.name]
    assert not_due.reconciliation.startswith("not due: last done ")
    assert f"every 7 days ({RECONCILIATION_SETTING})" in not_due.reconciliation and not_due.notes == []
    _age_reconciliations(warehouse, 6)
    assert _sync(warehouse, source, "run-3")[CONTACT.name].reconciliation.startswith("not due")
    assert source.listed == []
    _age_reconciliations(warehouse, 1)  # 7 days ago: due
    due = _sync(warehouse, source, "run-4")[CONTACT.name]
    assert source.listed == [CONTACT.name] and due.vanished == 1
    assert [row[0] for row in _contacts(warehouse) if row[1]] == ["A3"]
    assert _sync(warehouse, source, "run-5")[CONTACT.name].reconciliation.startswith("not due")  # again in 7 days


def test_every_run_reconciles_with_the_setting_0_and_only_streams_read_by_their_cursor(warehouse):
    source = _loaded(FakeSource(), warehouse)
    results = _sync(warehouse, source, "run-2", streams=(USER, CONTACT))
    assert source.listed == [CONTACT.name]
    # a stream read whole is its own listing: nothing to list, its unread rows flagged (none here)
    assert (results[USER.name].notes, results[USER.name].vanished) == ([], 0)
    assert results[USER.name].reconciliation.startswith("done: read whole")
    assert results[CONTACT.name].reconciliation.startswith("done: 5 keys listed")


@pytest.mark.parametrize("source_wide", [False, True])
def test_a_listing_stopped_early_flags_nothing_and_the_next_run_lists_again(warehouse, source_wide):
    source = FakeSource()
    source.put(*IDS)
    _sync(warehouse, source, "run-1", streams=(CONTACT, LEAD))
    source.hard_delete("A2", "A5")
    source.limit_after_pages, source.source_wide = 1, source_wide
    results = _sync(warehouse, source, "run-2", streams=(CONTACT, LEAD))
    contact, lead = results[CONTACT.name], results[LEAD.name]
    assert contact.vanished == 0
    assert contact.reconciliation.startswith("stopped early: salesforce: the API budget is spent; nothing flagged")
    assert contact.notes == [f"key reconciliation {contact.reconciliation}"]
    assert not any(row[1] for row in _contacts(warehouse))
    if source_wide:  # the other stream's listing would meet the same limit: not started
        assert source.listed == [CONTACT.name] and "skipped: an earlier listing met a limit" in lead.notes[-1]
    else:
        assert source.listed == [CONTACT.name, LEAD.name] and lead.reconciliation.startswith("stopped early")
    source.limit_after_pages = None
    assert _sync(warehouse, source, "run-3", streams=(CONTACT, LEAD))[CONTACT.name].vanished == 2


def test_a_listing_the_source_refused_flags_nothing(warehouse):
    source = _loaded(FakeSource(), warehouse)
    source.hard_delete("A1")

    def refused(_stream):
        yield ["A2"]
        raise SourceUnavailable("salesforce: 503 after every retry")

    target, pipelines_dir = warehouse
    contact = load_streams(SOURCE, [CONTACT], source.read_pages, target, pipelines_dir, "run-2",
                           source_keys=refused)[CONTACT.name]
    assert contact.vanished == 0 and "failed: salesforce: 503 after every retry" in contact.notes[-1]
    assert contact.notes == [f"key reconciliation {contact.reconciliation}"]
    assert not any(row[1] for row in _contacts(warehouse))


def test_an_empty_listing_of_a_table_with_rows_flags_nothing(warehouse):
    source = _loaded(FakeSource(), warehouse)
    source.lists_nothing = True
    contact = _sync(warehouse, source, "run-2")[CONTACT.name]
    assert contact.vanished == 0
    assert contact.reconciliation.startswith("refused: the source listed no id while the table holds 5 rows")
    assert contact.notes == [f"key reconciliation {contact.reconciliation}"]
    assert not any(row[1] for row in _contacts(warehouse))


def _many_loaded(warehouse, rows: int) -> FakeSource:
    """A source of `rows` contacts, listing a hundred keys a page, loaded by a first run, ``run-1``."""
    source = FakeSource()
    source.keys_per_page = 100
    source.put(*(f"B{number:04}" for number in range(rows)))
    _sync(warehouse, source, "run-1")
    return source


def _reconciliations(warehouse) -> list[tuple]:
    """The recorded reconciliations: run id, keys listed, rows flagged; in run order."""
    return warehouse_rows(warehouse[0], "select run_id, keys_listed, vanished from raw_salesforce._key_reconciliation "
                                        "order by run_id")


def test_a_listing_missing_too_large_a_share_flags_nothing_until_the_setting_is_raised(any_warehouse, monkeypatch):
    source = _many_loaded(any_warehouse, 500)
    source.lists_first = 380  # truncated without an error: 120 of the 500 stored keys missing, 24%
    refused = _sync(any_warehouse, source, "run-2")[CONTACT.name]
    assert source.listed == [CONTACT.name] and refused.vanished == 0
    assert refused.reconciliation == (
        f"refused: 120 of 500 stored rows (24%) would be flagged, more than {MAX_VANISHED_SETTING} (20); nothing "
        "flagged (more likely a truncated listing than that many records deleted); if they were deleted, raise the "
        "setting for one run")
    assert refused.notes == [f"key reconciliation {refused.reconciliation}"]
    assert not any(row[1] for row in _contacts(any_warehouse))
    assert _reconciliations(any_warehouse) == [("run-1", None, 0)]  # not recorded: the next run lists again
    monkeypatch.setenv(MAX_VANISHED_SETTING, "30")  # they were deleted: raised for one run
    raised = _sync(any_warehouse, source, "run-3")[CONTACT.name]
    assert raised.vanished == 120 and raised.notes == []
    assert raised.reconciliation.startswith("done: 380 keys listed at the source; 120 stored rows")
    assert [row[0] for row in _contacts(any_warehouse) if row[1]] == [f"B{number:04}" for number in range(380, 500)]
    assert _reconciliations(any_warehouse) == [("run-1", None, 0), ("run-3", 380, 120)]


@pytest.mark.parametrize(("rows", "missing", "flagged"), [
    (500, 100, 100),  # exactly 20%: flagged
    (600, 100, 100),  # below 20%
    (500, 101, 0),  # just above 20%, and at least 100 rows: refused
    (198, 99, 99),  # 50%, but fewer than 100 rows: a small table is not guarded
    (200, 100, 0),  # 50%, and 100 rows: refused
])
def test_the_share_flagged_is_refused_only_above_the_setting_and_from_100_rows(warehouse, rows, missing, flagged):
    source = _many_loaded(warehouse, rows)
    source.lists_first = rows - missing
    contact = _sync(warehouse, source, "run-2")[CONTACT.name]
    assert contact.vanished == flagged
    assert sum(row[1] for row in _contacts(warehouse)) == flagged
    assert contact.reconciliation.startswith("done: " if flagged else f"refused: {missing} of {rows} stored rows")
    assert len(_reconciliations(warehouse)) == (2 if flagged else 1)


def test_a_stream_whose_read_stopped_early_is_not_reconciled(warehouse):
    source = _loaded(FakeSource(), warehouse)
    source.hard_delete("A1")

    def stopped(stream, since):
        raise SourceLimitReached("salesforce: the API budget is spent")
        yield  # a generator, as the clients' reads are

    target, pipelines_dir = warehouse
    contact = load_streams(SOURCE, [CONTACT], stopped, target, pipelines_dir, "run-2",
                           source_keys=source.source_keys)[CONTACT.name]
    assert source.listed == [] and contact.reconciliation.startswith("skipped: the stream's read stopped early")


@pytest.mark.parametrize(("variable", "setting", "expected"), [
    *((RECONCILIATION_SETTING, value, "days of at least 0 (default 7") for value in ["-1", "7.5", "seven", "\u0663"]),
    *((MAX_VANISHED_SETTING, value, "from 1 to 100 (default 20") for value in ["0", "101", "abc", "-5", "12.5"]),
])
def test_a_setting_out_of_its_range_fails_the_sync_naming_the_variable(warehouse, monkeypatch, variable, setting,
                                                                        expected):
    source = _loaded(FakeSource(), warehouse)
    monkeypatch.setenv(variable, setting)
    read = []
    target, pipelines_dir = warehouse
    with pytest.raises(ValueError, match=variable) as failure:
        load_streams(SOURCE, [CONTACT], lambda stream, since: read.append(stream) or iter([]), target, pipelines_dir,
                     "run-2", source_keys=source.source_keys)
    assert repr(setting) in str(failure.value) and expected in str(failure.value)
    assert read == [] and source.listed == []  # failed before reading anything


def test_the_vanished_rows_are_in_the_materialization_metadata():
    class Client:
        class http:  # noqa: N801  (stands in for the client's HTTP session)
            stats = type("Stats", (), {"requests": 3, "retries": 0, "wait_seconds": 0.0, "pace_seconds": 0.0})()

    metadata = _metadata(StreamLoad("contact", vanished=4, reconciliation="done: ..."), Client())
    assert metadata["rows_vanished"].value == 4 and metadata["key_reconciliation"].value == "done: ..."
    assert "key_reconciliation" not in _metadata(StreamLoad("user"), Client())  # keys not reconciled


def test_the_salesforce_asset_flags_the_records_hard_deleted_at_the_source(tmp_path, pipeline_env, monkeypatch):
    accounts = [salesforce_account(n, IsDeleted=n == 3) for n in range(12)]
    purged = [accounts[n]["Id"] for n in (3, 5, 8)]  # 3 was in the recycle bin, and purged from it
    with running_sandbox(dataset=write_dataset(tmp_path / "dataset", {("salesforce", "Account"): accounts})) as org:
        env = pipeline_env(org)
        resources = salesforce_resources(org.url, env)

        def night() -> dict:
            result = dg.materialize([salesforce_raw], selection=[dg.AssetKey(["raw", "salesforce", "account"])],
                                    resources=resources)
            [event] = result.get_asset_materialization_events()
            return {name: value.value for name, value in event.materialization.metadata.items()}

        monkeypatch.delenv(RECONCILIATION_SETTING, raising=False)
        first = night()
        assert first["key_reconciliation"] == "counted as done: the stream was read whole (no cursor before)"
        org.hard_delete_salesforce("Account", purged)
        assert night()["key_reconciliation"].startswith("not due")  # the default: 7 days after the first night
        monkeypatch.setenv(RECONCILIATION_SETTING, "0")
        reconciled = night()
    assert reconciled["rows_vanished"] == 3 and "notes" not in reconciled
    assert reconciled["key_reconciliation"] == "done: 9 keys listed at the source; 3 stored rows no longer there " \
                                               "flagged _vanished_at"
    stored = warehouse_rows(env["WAREHOUSE_DUCKDB_PATH"], f"select id from raw_salesforce.account "
                                                          f"where {VANISHED_COLUMN} is not null order by id")
    assert [row[0] for row in stored] == sorted(purged)
    assert warehouse_rows(env["WAREHOUSE_DUCKDB_PATH"], "select count(*) from raw_salesforce.account") == [(12,)]
