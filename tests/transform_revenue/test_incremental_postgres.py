"""On PostgreSQL, the incremental marts after a sandbox day advance equal a full refresh, row for row.

The nights of tests/transform_revenue/test_incremental.py (the same sandbox, advance and planted identity
changes) on a PostgreSQL warehouse: the models' change scopes are SQL the two warehouses plan differently, and
PostgreSQL must find the same people, deals and days to rebuild as DuckDB does.
"""

from __future__ import annotations

import os
import re

import pytest

from pipelines.local import local_environment, postgres_environment
from sandbox.launcher import HUBSPOT_LIMITS_LIFTED, running_sandbox
from tests.support.postgres import fresh_database, postgres_server
from tests.transform.helpers import load_crm_raw
from tests.transform_revenue.incremental_nights import (
    INCREMENTAL_MODELS,
    SCALE,
    SEED,
    assert_same_rows,
    model_rows,
    plant_identity_changes,
)
from tests.transform_revenue.support import query, run_dbt

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def postgres_nights(tmp_path_factory):
    """Two nights of the scale-S sandbox on PostgreSQL (a full build, then an incremental one), and a full refresh
    of a copy of the second: the URLs of both databases."""
    folder = tmp_path_factory.mktemp("incremental_postgres")
    with postgres_server(port=55493) as server, fresh_database(server) as url:
        warehouse = postgres_environment(url)
        environment = {**local_environment(folder / "loaded"), **warehouse}
        saved = dict(os.environ)
        try:
            with running_sandbox(scale=SCALE, seed=SEED, **HUBSPOT_LIMITS_LIFTED) as sandbox:
                load_crm_raw(sandbox.url, environment)
                run_dbt(warehouse, folder / "first", ["build"])
                advanced = sandbox.advance(days=1, change_rate=0.02)
                planted = plant_identity_changes(sandbox, url, advanced["clock"])
                load_crm_raw(sandbox.url, environment)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        run_dbt(warehouse, folder / "second", ["build"])
        with fresh_database(server, copy_of=url) as refreshed:
            run_dbt(postgres_environment(refreshed), folder / "refresh", ["run", "--full-refresh"])
            yield {"incremental": url, "refreshed": refreshed, "planted": planted, "folder": folder}


@pytest.mark.parametrize("model", INCREMENTAL_MODELS)
def test_incremental_build_on_postgres_equals_a_full_refresh(postgres_nights, model):
    incremental = model_rows(postgres_nights["incremental"], model)
    refreshed = model_rows(postgres_nights["refreshed"], model)
    assert_same_rows(incremental, refreshed)


def test_the_second_night_on_postgres_rebuilt_prospects_from_its_changes(postgres_nights):
    """prospects took its incremental path; the planted company merge moved the company to the older account, and
    the person without an account joined the company that took their e-mail domain."""
    compiled = next((postgres_nights["folder"] / "second" / "target" / "compiled").rglob("prospects.sql")).read_text()
    assert "prospects__built_clusters" in compiled
    incremental, planted = postgres_nights["incremental"], postgres_nights["planted"]
    assert query(incremental, "select entity_id from intermediate.int_account_records_clustered where record_key = ?",
                 [f"hubspot:{planted['company_id']}"]) == [(planted["account_entity"],)]
    assert query(incremental, "select account_id from marts.prospects where prospect_id = ?",
                 [planted["unlinked_prospect_id"]]) == [(planted["moved_company_entity"],)]


def test_postgresql_plans_prospects_without_nested_loops(postgres_nights):
    """prospects joins grouped CTEs PostgreSQL takes for 200 rows each: planned with nested loops, its incremental
    build at M stalled (macros/dialect/planner.sql). Its pre-hook turns them off for the model's transaction."""
    log = (postgres_nights["folder"] / "second" / "logs" / "dbt.log").read_text()
    statements = re.findall(r"On model\.common_ground\.(\w+): /\* [^\n]* \*/\s+set local enable_nestloop = off", log)
    assert statements == ["prospects"]
