"""The incremental marts (touchpoints, pipeline_daily, shared_metrics_daily, attribution, prospects) after a sandbox day
advance equal a full refresh, row for row.

Night 1: the scale-S sandbox loaded by the Dagster raw assets, full `dbt build`. The sandbox then advances one
day (new, edited, deleted and merged records in both CRMs), the raw tables are synced again and `dbt build` runs
incrementally. A copy of that warehouse is rebuilt with `dbt run --full-refresh`; every incremental model must
hold the same rows in both.

The advance's own merges remove duplicates identity resolution had already put together, so no entity changes
through them (checked at seed 11). The test therefore plants an overnight identity merge: a HubSpot contact that
was a person of its own takes the e-mail address of another person's Salesforce record, so the two people become
one and touches far older than the lookback window change prospect - the lookback alone would not rebuild them.
It also plants a split: a HubSpot contact tied to a Salesforce record by their e-mail alone takes a new address,
so the person becomes two (int_person_records_clustered clusters again only the people a change reaches), and a
company that takes the e-mail domain of a person without an account: only the domain ties the person to it.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.defs.transform.project import DBT_PROJECT_DIR
from pipelines.lib.publish import publish_duckdb
from pipelines.local import local_environment
from sandbox.launcher import HUBSPOT_LIMITS_LIFTED, running_sandbox
from tests.support.publish_log import LOG_DDL, snapshot_differences
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

#: Marts built by cg_replace_scope: the incremental ones, and alignment_issues (which keeps each issue's first
#: detection, so a full refresh differs from it there: tests/transform_revenue/test_sandbox_warehouse.py).
SCOPED_MARTS = (*INCREMENTAL_MODELS, "alignment_issues")
#: Incremental models whose change scope comes from a state table of their last build: the table's name.
STATE_TABLES = {"int_person_records_clustered": "int_person_records_clustered__links",
                "prospects": "prospects__built_clusters"}


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Two nights of the scale-S sandbox (a full build, then an incremental one) and a full refresh of the second."""
    folder = tmp_path_factory.mktemp("incremental_sandbox")
    environment = local_environment(folder / "warehouse")
    warehouse = Path(environment["WAREHOUSE_DUCKDB_PATH"])
    saved = dict(os.environ)
    try:
        with running_sandbox(scale=SCALE, seed=SEED, **HUBSPOT_LIMITS_LIFTED) as sandbox:  # for the marts
            load_crm_raw(sandbox.url, environment)
            run_dbt(warehouse, folder, ["build"])
            analytics = folder / "analytics.duckdb"
            publish_duckdb(warehouse, analytics)
            first_touches = dict(query(warehouse, "select touchpoint_id, prospect_id from marts.touchpoints"))
            advanced = sandbox.advance(days=1, change_rate=0.02)
            planted = plant_identity_changes(sandbox, warehouse, advanced["clock"])
            load_crm_raw(sandbox.url, environment)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    run_dbt(warehouse, folder, ["build"])
    publication = publish_duckdb(warehouse, analytics)
    refreshed = folder / "refreshed.duckdb"
    shutil.copyfile(warehouse, refreshed)
    run_dbt(refreshed, folder / "refresh", ["run", "--full-refresh"])
    return {"warehouse": warehouse, "refreshed": refreshed, "folder": folder, "advanced": advanced, "planted": planted,
            "first_touches": first_touches, "analytics": analytics, "publication": publication}


@pytest.mark.parametrize("model", INCREMENTAL_MODELS)
def test_incremental_build_equals_a_full_refresh(nights, model):
    incremental, refreshed = model_rows(nights["warehouse"], model), model_rows(nights["refreshed"], model)
    assert_same_rows(incremental, refreshed)


@pytest.mark.parametrize("model", ("int_person_records_unioned", "int_person_records_clustered"))
def test_incremental_person_records_equal_a_full_refresh_but_for_node_ids(nights, model):
    """int_person_records_unioned rebuilds only changed records and int_person_records_clustered only the people
    they reach; node_id numbers new records after the stored ones, so only node_id (and cluster_id, the smallest
    node_id of a cluster) and clustered_at / unioned_at (when the row was written) may differ from a full refresh.
    Both ids must stay unique."""
    keep = {"schema": "intermediate", "leave_out": ("node_id", "cluster_id", "clustered_at", "unioned_at")}
    incremental = model_rows(nights["warehouse"], model, **keep)
    refreshed = model_rows(nights["refreshed"], model, **keep)
    assert len(incremental) > 1000
    assert incremental == refreshed, f"only in the incremental build: {sorted(set(incremental) - set(refreshed))[:3]}"
    assert query(nights["warehouse"], f"select count(*) - count(distinct node_id) from intermediate.{model}") == [(0,)]
    if model == "int_person_records_clustered":
        assert query(nights["warehouse"], f"select count(distinct cluster_id) - count(distinct entity_id) "
                                          f"from intermediate.{model}") == [(0,)]


@pytest.mark.parametrize("model", (*SCOPED_MARTS, "int_person_records_unioned", "int_person_records_clustered"))
def test_second_night_ran_incrementally(nights, model):
    """The second night took the incremental path (replacing scopes), not a rebuild of the table."""
    compiled = next((nights["folder"] / "target" / "run").rglob(f"{model}.sql")).read_text()
    assert "cg_scope_key" in compiled and "delete from" in compiled
    if model in STATE_TABLES:
        selected = next((nights["folder"] / "target" / "compiled").rglob(f"{model}.sql")).read_text()
        assert STATE_TABLES[model] in selected, "built whole, not from the changes since the last build"
        if model == "int_person_records_clustered":
            assert "max(unioned_at)" in selected, "changed records found by comparing every column, not unioned_at"


def test_the_second_night_is_published_from_the_partitions_dbt_logged(nights):
    """The second night's snapshot starts from the first one's and takes only the partitions the incremental marts'
    builds logged; the other marts are copied whole. Every published table equals the warehouse's mart."""
    methods = nights["publication"].methods
    replayed = {table for table, method in methods.items() if method.startswith("replayed")}
    assert replayed == set(SCOPED_MARTS), methods
    assert all(method == "copied: rebuilt whole since the previous snapshot" for table, method in methods.items()
               if table not in replayed), methods
    assert snapshot_differences(nights["warehouse"], nights["analytics"], methods) == {}
    assert query(nights["warehouse"], "select count(distinct invocation_id), count(*) from publish_log.mart_builds "
                                      "where model = 'pipeline_daily' and kind = 'scoped'") == [(1, 1)]


def test_the_night_changed_rows_older_than_the_lookback(nights):
    """The planted identity merge moved touches far older than the lookback window to another prospect, the planted
    split made two people of one, the planted company merge moved a company's people to another account, and the
    advance deleted, merged or edited deals: the equality above is not the lookback's doing."""
    changes = nights["advanced"]["changes"]
    assert sum(changes.get("merged", {}).values()) + sum(changes.get("deleted", {}).values()) > 0, changes
    warehouse, planted = nights["warehouse"], nights["planted"]
    [(merged_entity,)] = query(warehouse, "select entity_id from intermediate.int_person_records_clustered "
                                          "where source_system = 'hubspot_contact' and source_record_id = ?",
                               [planted["contact_id"]])
    assert merged_entity in (planted["hubspot_entity"], planted["salesforce_entity"])
    split_entities = query(warehouse, "select record_key, entity_id from intermediate.int_person_records_clustered "
                                      "where record_key in (?, ?)",
                           [f"hubspot_contact:{planted['split_contact_id']}", planted["split_from_record_key"]])
    assert len(split_entities) == 2 and split_entities[0][1] != split_entities[1][1], split_entities
    assert query(warehouse, "select entity_id from intermediate.int_account_records_clustered where record_key = ?",
                 [f"hubspot:{planted['company_id']}"]) == [(planted["account_entity"],)]
    assert query(warehouse, "select account_id from marts.prospects where prospect_id = ?",
                 [planted["unlinked_prospect_id"]]) == [(planted["moved_company_entity"],)]
    [(window_start,)] = query(warehouse, "select as_of_date - 28 from intermediate.int_reporting_dates")
    old_touches = query(warehouse, "select touchpoint_id, prospect_id from marts.touchpoints "
                                   "where occurred_date < ?", [window_start])
    first = nights["first_touches"]
    re_resolved = [touch for touch, prospect in old_touches if touch in first and first[touch] != prospect]
    assert re_resolved, "no touch older than the lookback window changed prospect"
    print(f"\n{len(re_resolved)} touches older than the lookback window changed prospect")


def test_pipeline_daily_keeps_the_days_before_a_change_and_rebuilds_from_it(nights, tmp_path):
    """pipeline_daily keeps its stored days up to the day before the first changed currency rate, rebuilds every
    deal from that day, and rebuilds every day of a deal whose stage history changed before it.

    On a copy of the second night's warehouse, the state of the last build is made to differ (one day's rate, one
    deal's ranges) and the stored rows those differences cover get marked; one row of another deal before the
    changed day is marked too. An incremental run must replace the first marks and keep the last one."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(nights["warehouse"], warehouse)
    [(changed_day,)] = query(warehouse, "select as_of_date - 100 from intermediate.int_reporting_dates")
    [(edited_deal,), (kept_deal,)] = query(
        warehouse, "select opportunity_id from marts.pipeline_daily where date_day = ? - 30 "
                   "and currency_code = 'USD' order by opportunity_id limit 2", [changed_day])
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("update intermediate.pipeline_daily__built_rates "
                           "set rate_to_reporting = rate_to_reporting * 2 where date_day = ?", [changed_day])
        connection.execute("update intermediate.pipeline_daily__built_ranges set stage = stage || ' (before)' "
                           "where opportunity_id = ?", [edited_deal])
        connection.execute("update marts.pipeline_daily set amount_reporting = -1.11 where date_day >= ?",
                           [changed_day])
        connection.execute("update marts.pipeline_daily set amount_reporting = -2.22 where opportunity_id = ?",
                           [edited_deal])
        connection.execute("update marts.pipeline_daily set amount_reporting = -3.33 "
                           "where opportunity_id = ? and date_day = ? - 30", [kept_deal, changed_day])
    run_dbt(warehouse, tmp_path, ["run", "--select", "pipeline_daily"])
    marks = query(warehouse, "select amount_reporting, count(*) from marts.pipeline_daily "
                             "where amount_reporting in (-1.11, -2.22, -3.33) group by 1")
    assert [(float(mark), rows) for mark, rows in marks] == [(-3.33, 1)]
    incremental = model_rows(warehouse, "pipeline_daily")
    refreshed = model_rows(nights["refreshed"], "pipeline_daily")
    assert len(set(incremental) - set(refreshed)) == 1 and len(incremental) == len(refreshed)


def test_pipeline_daily_built_as_of_an_earlier_date_holds_no_later_day(nights, tmp_path):
    """An incremental build with the as-of date moved back three days (var as_of_date), which rebuilds no deal,
    still deletes the stored days after it: it equals a full refresh as of that date."""
    [(as_of,)] = query(nights["warehouse"], "select as_of_date from intermediate.int_reporting_dates")
    earlier = as_of - timedelta(days=3)
    as_of_earlier = ["--select", "int_reporting_dates", "int_opportunity_stage_ranges", "pipeline_daily",
                     "--vars", json.dumps({"as_of_date": earlier.isoformat()})]
    incremental, refreshed = tmp_path / "incremental.duckdb", tmp_path / "refreshed.duckdb"
    shutil.copyfile(nights["warehouse"], incremental)
    shutil.copyfile(nights["refreshed"], refreshed)
    run_dbt(incremental, tmp_path / "incremental", ["run", *as_of_earlier])
    run_dbt(refreshed, tmp_path / "refreshed", ["run", "--full-refresh", *as_of_earlier])
    assert query(incremental, "select max(date_day) from marts.pipeline_daily") == [(earlier,)]
    assert model_rows(incremental, "pipeline_daily") == model_rows(refreshed, "pipeline_daily")


#: A column of each incremental mart, dropped from its stored table to stand for one a new release adds.
NEW_COLUMNS = {"touchpoints": "platform", "pipeline_daily": "amount_reporting", "shared_metrics_daily": "value",
               "attribution": "credit", "prospects": "lifecycle_stage"}


def test_a_mart_stored_without_one_of_its_columns_is_rebuilt_whole(nights, tmp_path):
    """A mart built by a release before one of its columns existed gets that column on every row from the next
    incremental run (cg_rebuild_on_new_columns), not only on the rows the run rebuilds: it equals a full refresh.
    One run for the five marts, each lacking its own column."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(nights["warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        for model in INCREMENTAL_MODELS:
            connection.execute(f"alter table marts.{model} drop column {NEW_COLUMNS[model]}")
    run_dbt(warehouse, tmp_path, ["run", "--select", *INCREMENTAL_MODELS])
    for model in INCREMENTAL_MODELS:
        assert model_rows(warehouse, model) == model_rows(nights["refreshed"], model), model
        [(kind,)] = query(warehouse, "select kind from publish_log.mart_builds where model = ? "
                                     "order by built_at desc limit 1", [model])
        assert kind == "full", model  # publishing copies the whole table


def test_a_repeated_day_of_a_deal_fails_the_build_when_its_deal_was_rebuilt(nights, tmp_path):
    """The grain test of pipeline_daily (unique_combination_of_columns, which DuckDB runs by hashes first) reads only
    the deals rebuilt since it last passed (where: cg_rebuilt_partitions): a repeated (date_day, opportunity_id)
    written by hand into a deal no build touched is not read; once a build has logged that deal it is found and
    named, and the test keeps failing until it passes; once its last whole read is a week old it reads everything."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(nights["warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        [(opportunity_id, date_day)] = connection.execute(
            "select opportunity_id, date_day from marts.pipeline_daily order by opportunity_id, date_day limit 1"
        ).fetchall()
        connection.execute("insert into marts.pipeline_daily select * from marts.pipeline_daily "
                           "where opportunity_id = ? and date_day = ?", [opportunity_id, date_day])
    grain_test = ["test", "--select", "pipeline_daily,test_name:unique_combination_of_columns"]
    run_dbt(warehouse, tmp_path, grain_test)  # passes: no build since the second night's pass touched the deal

    with duckdb.connect(str(warehouse)) as connection:  # a build that replaced the deal, logged as dbt logs one
        connection.execute("insert into publish_log.mart_builds values ('pipeline_daily', 'planted', now(), "
                           "'scoped', 'opportunity_id', 'date_day')")
        connection.execute("insert into publish_log.mart_build_scopes values ('pipeline_daily', 'planted', ?, null)",
                           [opportunity_id])
    for _ in range(2):
        with pytest.raises(AssertionError,
                           match=r"Failure in test unique_combination_of_columns_pipeline_daily_date_day"):
            run_dbt(warehouse, tmp_path, grain_test)
    [compiled] = (tmp_path / "target" / "compiled").rglob("unique_combination_of_columns_*.sql")  # the one selected
    assert "mart_build_scopes" in compiled.read_text()
    assert query(warehouse, compiled.read_text()) == [(date_day, opportunity_id, 2)]

    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("delete from publish_log.mart_build_scopes where invocation_id = 'planted'")
        connection.execute("delete from publish_log.mart_builds where invocation_id = 'planted'")
        connection.execute("update publish_log.passed_tests set passed_at = passed_at - interval 8 days")
    with pytest.raises(AssertionError, match=r"Failure in test unique_combination_of_columns_pipeline_daily_date_day"):
        run_dbt(warehouse, tmp_path, grain_test)


def test_the_grain_tests_of_the_incremental_marts_read_the_whole_table_first_then_the_rebuilt_partitions(nights):
    """Both nights passed the four grain tests marked cg_rebuilt_partitions: the first reading the whole tables,
    the second only the partitions its incremental builds replaced."""
    passes = query(nights["warehouse"], "select split_part(test_id, '.', 3), list(read_whole order by passed_at) "
                                        "from publish_log.passed_tests group by 1 order by 1")
    assert passes == [
        ("unique_alignment_issues_issue_id", [True, False]),
        ("unique_combination_of_columns_attribution_opportunity_id__touchpoint_id__attribution_model", [True, False]),
        ("unique_combination_of_columns_pipeline_daily_date_day__opportunity_id", [True, False]),
        ("unique_combination_of_columns_shared_metrics_daily_date_day__metric_name__channel", [True, False])], passes


def test_the_marts_schema_holds_only_the_marts(nights):
    """Publish copies every table of the marts schema to BI, so the incremental models keep what their last build
    read (their state tables) in another schema."""
    models = {path.stem for path in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    tables = {name for (name,) in query(nights["warehouse"], "select table_name from information_schema.tables "
                                                             "where table_schema = 'marts'")}
    assert tables and tables <= models, f"not a mart: {sorted(tables - models)}"


def test_the_publish_tests_write_the_log_dbt_writes(nights, tmp_path):
    """tests/support/publish_log.py writes builds into a log it creates itself: its tables are dbt's."""
    layout = ("select table_name, column_name, data_type from information_schema.columns "
              "where table_schema = 'publish_log' and table_name in ('mart_builds', 'mart_build_scopes') order by all")
    handmade = tmp_path / "handmade.duckdb"
    with duckdb.connect(str(handmade)) as connection:
        for statement in LOG_DDL:
            connection.execute(statement)
    assert query(handmade, layout) == query(nights["warehouse"], layout)
