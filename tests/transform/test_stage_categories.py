"""Stage categories are keyed by the stage, not its label, on hand-written raw rows through a real `dbt build`.

HubSpot stages belong to a pipeline, and two pipelines may use one label with different meanings: in the pipeline
"New business" the stage "Contract signed" is closed won, in "Renewals" a stage of the same label is open
(probability 0.9). Deal 302, open in Renewals at "Contract signed", is open in opportunities, in
opportunity_stage_history and on every day of pipeline_daily; deal 301, in New business at "Contract signed", is
won in all three. A deal in a stage the pipeline definitions lack (304) takes its category from its own flags, as
in opportunities. A Salesforce opportunity at a stage of the same name keeps its own, org-wide, category.
Moving 302 to New business's "Contract signed" (the same label, now won) rebuilds its days in an incremental
pipeline_daily, which then equals a full refresh. The same rows built on PostgreSQL give the same categories.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from tests.support import postgres
from tests.transform.helpers import (
    assert_pipeline_daily_equals_full_refresh,
    built_world,
    dbt_build,
    insert_rows,
    raw_tables,
    rows,
    run_dbt,
)

LOADED = datetime(2026, 3, 31, 2, 0, tzinfo=UTC)
AS_OF = date(2026, 3, 31)


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def stage(pipeline_id: str, pipeline_label: str, stage_id: str, label: str, order: int, probability: float,
          is_closed: bool) -> dict:
    return {"stage_key": f"{pipeline_id}:{stage_id}", "pipeline_id": pipeline_id, "pipeline_label": pipeline_label,
            "stage_id": stage_id, "stage_label": label, "display_order": order, "probability": probability,
            "is_closed": is_closed, "archived": False, "_loaded_at": LOADED}


def deal(deal_id: str, pipeline_id: str, stage_id: str, probability: float, closed: bool = False, won: bool = False,
         loaded: datetime = LOADED) -> dict:
    return {"id": deal_id, "archived": False, "dealname": f"Deal {deal_id}", "amount": 100,
            "deal_currency_code": "USD", "dealstage": stage_id, "pipeline": pipeline_id, "hs_is_closed": closed,
            "hs_is_closed_won": won, "hs_deal_stage_probability": probability, "closedate": at(3, 20),
            "createdate": at(3, 2), "hs_lastmodifieddate": at(3, 10), "_loaded_at": loaded}


STAGES = [
    stage("new", "New business", "s1", "Qualified", 1, 0.2, False),
    stage("new", "New business", "s2", "Contract signed", 2, 1.0, True),
    stage("ren", "Renewals", "r1", "Qualified", 1, 0.2, False),
    stage("ren", "Renewals", "r2", "Contract signed", 2, 0.9, False),
    stage("ren", "Renewals", "r3", "Renewed", 3, 1.0, True),
]

RAW = {
    "raw_hubspot.deal_pipeline_stages": STAGES,
    "raw_hubspot.deals": [
        deal("301", "new", "s2", 1.0, closed=True, won=True),
        deal("302", "ren", "r2", 0.9),
        # a stage the pipeline definitions do not hold (deleted in HubSpot, or not synced): the deal's own flags
        deal("304", "new", "s9", 0.0, closed=True),
    ],
    "raw_salesforce.opportunity": [
        {"id": "006SIGNED", "is_deleted": False, "name": "Signed", "stage_name": "Contract signed", "amount": 100,
         "probability": 90, "close_date": date(2026, 4, 30), "is_closed": False, "is_won": False,
         "type": "New Business", "currency_iso_code": "USD", "created_date": at(3, 4),
         "system_modstamp": at(3, 4), "_loaded_at": LOADED},
    ],
}

#: Per deal (source id): the category opportunities gives it, and the days pipeline_daily holds for it.
EXPECTED = {"301": ("won", 19), "302": ("open", 30), "304": ("lost", 19), "006SIGNED": ("open", 28)}

CATEGORIES_SQL = """
    select opportunities.source_opportunity_id, opportunities.stage, opportunities.stage_category,
        history.stage, history.stage_category, count(*), min(pipeline.stage), min(pipeline.stage_category),
        max(pipeline.stage_category), bool_or(pipeline.is_open), bool_and(pipeline.is_open)
    from marts.opportunities as opportunities
    inner join marts.opportunity_stage_history as history
        on history.opportunity_id = opportunities.opportunity_id and history.is_current_stage
    inner join marts.pipeline_daily as pipeline on pipeline.opportunity_id = opportunities.opportunity_id
    group by 1, 2, 3, 4, 5
    order by 1
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The hand-written world, built by dbt."""
    return built_world(tmp_path_factory.mktemp("stage_categories"), RAW)


def _by_deal(table_rows: list[tuple]) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in table_rows}


def test_an_open_renewal_at_a_label_another_pipeline_closes_won_is_open_everywhere(built):
    deal_302 = _by_deal(rows(built, CATEGORIES_SQL))["302"]
    stage_label, category, history_stage, history_category, days, *pipeline = deal_302
    assert (stage_label, category) == ("Contract signed", "open")
    assert (history_stage, history_category) == ("Contract signed", "open")
    # every day from its creation (2026-03-02) to the as-of date: open, not won
    assert (days, *pipeline) == (30, "Contract signed", "open", "open", True, True)


def test_a_new_business_deal_at_contract_signed_is_won_everywhere(built):
    deal_301 = _by_deal(rows(built, CATEGORIES_SQL))["301"]
    stage_label, category, history_stage, history_category, days, *pipeline = deal_301
    assert (stage_label, category, history_stage, history_category) == ("Contract signed", "won") * 2
    # from its creation to its close day (2026-03-20): won (HubSpot deals only know their current stage)
    assert (days, *pipeline) == (19, "Contract signed", "won", "won", False, False)


def test_the_three_marts_agree_on_every_deal(built):
    """opportunities, the current stage of opportunity_stage_history and pipeline_daily give each deal one category,
    also a HubSpot deal whose stage has no definition and a Salesforce opportunity at a label HubSpot uses."""
    found = {deal_id: (category, days) for deal_id, (_, category, _, history_category, days, _, low, high, *_)
             in _by_deal(rows(built, CATEGORIES_SQL)).items() if category == history_category == low == high}
    assert found == EXPECTED


def test_hubspot_categories_are_keyed_by_pipeline_and_stage_id(built):
    assert rows(built, """
        select source_system, pipeline_id, stage_id, stage, stage_category
        from intermediate.int_opportunity_stage_categories
        where stage = 'Contract signed' or stage_id = 's9'
        order by 1, 2, 3""") == [
        ("hubspot", "new", "s2", "Contract signed", "won"),
        ("hubspot", "new", "s9", "s9", "lost"),
        ("hubspot", "ren", "r2", "Contract signed", "open"),
        ("salesforce", None, "Contract signed", "Contract signed", "open"),
    ]


def test_a_deal_moved_to_the_same_label_in_another_pipeline_is_rebuilt_incrementally(built, tmp_path):
    """302 moves from Renewals' open "Contract signed" to New business's won one (same label) and closes: the
    incremental pipeline_daily rebuilds its days as won, equal to a full refresh."""
    incremental = Path(shutil.copy(built, tmp_path / "incremental.duckdb"))
    with duckdb.connect(str(incremental)) as connection:
        connection.execute("delete from raw_hubspot.deals where id = '302'")
        insert_rows(connection, "raw_hubspot.deals", [
            deal("302", "new", "s2", 1.0, closed=True, won=True, loaded=at(4, 1, 2))])
    result = run_dbt(incremental, ["run", "--select", "+pipeline_daily"], tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
    assert rows(incremental, """
        select min(pipeline.stage_category), max(pipeline.stage_category), count(*)
        from marts.pipeline_daily as pipeline
        inner join marts.opportunities using (opportunity_id)
        where opportunities.source_opportunity_id = '302'""") == [("won", "won", 19)]
    assert_pipeline_daily_equals_full_refresh(incremental, tmp_path)


@pytest.fixture(scope="module")
def postgres_built(tmp_path_factory):
    """The same raw rows built by dbt on a PostgreSQL database: an open connection to it."""
    folder = tmp_path_factory.mktemp("stage_categories_postgres")
    with postgres.built_warehouse(RAW, raw_tables(), lambda environment: dbt_build(environment, folder),
                                  port=55475) as connection:
        yield connection


@pytest.mark.e2e
def test_postgresql_gives_the_same_categories(built, postgres_built):
    with postgres_built.cursor() as cursor:
        cursor.execute(CATEGORIES_SQL)
        postgres_rows = cursor.fetchall()
    assert postgres_rows == rows(built, CATEGORIES_SQL)
    # 302: open in opportunities, its stage history and every day of pipeline_daily
    _, category, _, history_category, _, _, lowest, highest, *_ = _by_deal(postgres_rows)["302"]
    assert (category, history_category, lowest, highest) == ("open",) * 4
