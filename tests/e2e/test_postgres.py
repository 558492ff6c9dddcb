"""The nightly job on a real PostgreSQL warehouse: loads, builds, checks, publishes for a read-only BI role."""

import json

import psycopg2
import pytest

from pipelines.defs.transform.project import dbt_project
from pipelines.demo import run_nightly_job
from tests.support.postgres import postgres_environment, postgres_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server() as url:
        yield url


BI_ROLE, BI_PASSWORD = "bi_reader", "bi-reader-test-password"


def _fetch(url: str, sql: str, user: str | None = None) -> list[tuple]:
    connection = psycopg2.connect(url, **({"user": user, "password": BI_PASSWORD} if user else {}))
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.rollback()
        connection.close()


def _tables_built_by_dbt() -> set[tuple[str, str]]:
    """(schema, table) of every model dbt stores as a table (incremental ones included), from its manifest."""
    nodes = json.loads(dbt_project.manifest_path.read_text())["nodes"].values()
    return {(node["schema"], node["alias"]) for node in nodes
            if node["resource_type"] == "model" and node["config"]["materialized"] in ("table", "incremental")}


def test_nightly_job_publishes_to_postgres_for_a_read_only_bi_role(sandbox, pipeline_env, monkeypatch, postgres_url):
    pipeline_env(sandbox)
    for key, value in postgres_environment(postgres_url).items():
        monkeypatch.setenv(key, value)
    # The DBA creates the BI login; the pipeline only grants it the analytics schema.
    _fetch(postgres_url, f"do $$ begin if not exists (select from pg_roles where rolname = '{BI_ROLE}') then "
                         f"create role {BI_ROLE}; end if; end $$; "
                         f"alter role {BI_ROLE} login password '{BI_PASSWORD}'; commit")

    result = run_nightly_job()
    assert result.success
    raw_accounts = _fetch(postgres_url, "select count(*) from raw_salesforce.account")[0][0]
    assert raw_accounts == sandbox.stats()["records"]["salesforce/Account"]
    marts = _fetch(postgres_url, "select count(*) from marts.accounts")[0][0]
    # Over the view, PostgreSQL planned touchpoints as nested loops: over half of the night's dbt build.
    assert _fetch(postgres_url, "select table_type from information_schema.tables where table_schema = "
                                "'intermediate' and table_name = 'int_touchpoints_unioned'") == [("BASE TABLE",)]
    # Every table dbt built was analyzed as it was built (by the post-hook, not autovacuum): models built on a table
    # without statistics were planned blind.
    analyzed = set(_fetch(postgres_url, "select schemaname, relname from pg_stat_user_tables "
                                        "where last_analyze is not null"))
    built = _tables_built_by_dbt()
    assert ("marts", "accounts") in built and ("intermediate", "int_person_records_clustered") in built
    assert built <= analyzed
    assert _fetch(postgres_url, "select count(*) from analytics.accounts") == [(marts,)]

    assert _fetch(postgres_url, "select count(*) from analytics.accounts", user=BI_ROLE) == [(marts,)]
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        _fetch(postgres_url, "delete from analytics.accounts", user=BI_ROLE)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        _fetch(postgres_url, "select count(*) from raw_salesforce.account", user=BI_ROLE)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        _fetch(postgres_url, "select count(*) from marts.accounts", user=BI_ROLE)

    # A second night swaps in a fresh analytics schema and keeps the previous one for rollback.
    assert run_nightly_job().success
    assert _fetch(postgres_url, "select count(*) from analytics_previous.accounts") == [(marts,)]
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        _fetch(postgres_url, "select count(*) from analytics_previous.accounts", user=BI_ROLE)
