"""A BI client holding `analytics.duckdb` open read-only during a whole night: the night is not blocked, the
client keeps reading its snapshot, and a reconnect sees the new one (published with hashed e-mails)."""

import hashlib
import hmac
import re
import threading
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.demo import run_nightly_job

pytestmark = pytest.mark.e2e

PII_KEY = "bi-reader-test-pii-key-93b1"
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _yesterdays_snapshot(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute("create table marts.accounts as select 'yesterday' as account_id")


def _keep_reading(connection: duckdb.DuckDBPyConnection, stop: threading.Event, reads: list, errors: list) -> None:
    while not stop.is_set():
        try:
            reads.append(connection.execute("select count(*), min(account_id) from marts.accounts").fetchone())
        except Exception as error:  # any error here is what the test is about
            errors.append(error)
        time.sleep(0.2)


def test_a_read_only_client_keeps_its_snapshot_during_a_night_and_a_reconnect_sees_the_new_one(
    sandbox, pipeline_env, monkeypatch
):
    env = pipeline_env(sandbox)
    monkeypatch.setenv("PUBLISH_HASHED_EMAILS", "true")
    monkeypatch.setenv("PII_HASH_KEY", PII_KEY)
    analytics = Path(env["ANALYTICS_DUCKDB_PATH"])
    _yesterdays_snapshot(analytics)

    reader = duckdb.connect(str(analytics), read_only=True)
    stop, reads, errors = threading.Event(), [], []
    thread = threading.Thread(target=_keep_reading, args=(reader, stop, reads, errors), daemon=True)
    thread.start()
    try:
        result = run_nightly_job()
    finally:
        stop.set()
        thread.join()

    assert result.success
    assert not errors
    assert len(reads) > 10 and set(reads) == {(1, "yesterday")}
    assert reader.execute("select account_id from marts.accounts").fetchall() == [("yesterday",)]
    reader.close()

    with duckdb.connect(str(analytics), read_only=True) as reconnected:
        assert reconnected.execute("select count(*) from marts.accounts").fetchone()[0] > 1000
        published = dict(reconnected.execute(
            "select prospect_id, email from marts.prospects where email is not null").fetchall())
    with duckdb.connect(env["WAREHOUSE_DUCKDB_PATH"], read_only=True) as warehouse:
        clear = dict(warehouse.execute("select prospect_id, email from marts.prospects where email is not null"
                                       ).fetchall())
    assert published.keys() == clear.keys() and len(published) > 1000
    assert all(HEX64.match(email) for email in published.values())
    assert all(published[p] == hmac.new(PII_KEY.encode(), clear[p].encode(), hashlib.sha256).hexdigest()
               for p in list(clear)[:200])

    snapshot = next(e for e in result.get_asset_materialization_events()
                    if e.asset_key == dg.AssetKey(["analytics", "published_snapshot"])).materialization.metadata
    assert snapshot["checks_run"].value > 100 and snapshot["checks_failed_error"].value == 0
    assert "| marts |" in snapshot["quality_report"].value
    assert "accounts_suite" in Path(snapshot["data_docs"].value).read_text()
    with dg.DagsterInstance.get() as instance:
        assert PII_KEY not in "\n".join(str(entry) for entry in instance.all_logs(result.run_id))
