"""Two nights of the Salesforce raw assets against an org whose connected app rotates refresh tokens: the second night
starts from the token the first was given (kept in the Dagster home by default), and no refresh token reaches the
run's event log or a table. Real Dagster runs, the sandbox over HTTP, dlt into DuckDB."""

import json
import stat
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.ingest.salesforce import salesforce_raw
from pipelines.lib.sources import CREDENTIAL_STORE_SETTING, SalesforceResource, credential_store_folder
from sandbox import auth
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset
from tests.support.warehouse import warehouse_resource

ACCOUNTS = 5


def test_the_store_is_in_the_dagster_home_unless_its_setting_names_a_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert credential_store_folder("") == tmp_path / "home" / "credentials"
    assert credential_store_folder(f" {tmp_path / 'elsewhere'} ") == tmp_path / "elsewhere"
    monkeypatch.setenv(CREDENTIAL_STORE_SETTING, str(tmp_path / "configured"))
    resource = SalesforceResource.from_environment(client_id="app", client_secret="secret-of-app",
                                                   refresh_token="refresh-token-of-app")
    with dg.build_resources({"salesforce": resource}) as resources:
        assert resources.salesforce.client().auth.token_store.path == tmp_path / "configured" / "salesforce.json"


@pytest.fixture
def rotating_org(tmp_path):
    """An org of a few accounts whose connected app rotates refresh tokens."""
    folder = write_dataset(tmp_path / "dataset", {("salesforce", "Account"): [salesforce_account(n)
                                                                              for n in range(ACCOUNTS)]})
    with running_sandbox(dataset=folder) as running:
        running.set_salesforce_refresh_token_rotation(True)
        yield running


def _stored_token(dagster_home: Path) -> str:
    path = dagster_home / "credentials" / "salesforce.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return json.loads(path.read_text())["refresh_token"]


def test_two_nights_with_rotation_succeed_and_no_refresh_token_reaches_the_event_log_or_a_table(
        rotating_org, pipeline_env, monkeypatch):
    env = pipeline_env(rotating_org)
    monkeypatch.delenv(CREDENTIAL_STORE_SETTING, raising=False)  # the default: the Dagster home
    resources = {"warehouse": warehouse_resource(env),
                 "salesforce": SalesforceResource.from_environment()}
    tokens, runs = [auth.REFRESH_TOKEN], []
    with dg.DagsterInstance.get() as instance:
        for _ in range(2):
            result = dg.materialize([salesforce_raw], resources=resources, instance=instance)
            assert result.success
            runs.append(result.run_id)
            tokens.append(_stored_token(Path(env["DAGSTER_HOME"])))
        event_log = "\n".join(str(entry) for run in runs for entry in instance.all_logs(run))
    assert len(set(tokens)) == 3
    assert "salesforce: using the refresh token rotated at" in event_log  # the store's log line, without the token
    for token in tokens:
        assert token not in event_log

    with duckdb.connect(env["WAREHOUSE_DUCKDB_PATH"], read_only=True) as connection:
        assert connection.execute("select count(*) from raw_salesforce.account").fetchone() == (ACCOUNTS,)
        tables = connection.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        for schema, table in tables:
            for token in tokens:
                found = connection.execute(
                    f'select count(*) from "{schema}"."{table}" as row_ where contains(cast(row_ as varchar), ?)',
                    [token]).fetchone()[0]
                assert found == 0, (schema, table)
