"""HubSpot deals' stage history from their "date entered <stage>" properties, on hand-written raw rows through a
real `dbt build`.

HubSpot keeps, per deal and stage, when the deal last entered it (`hs_v2_date_entered_<stage id>`, before 2024
`hs_date_entered_<stage id>`); the connector syncs them as columns of raw deals. Pipeline "new": s1 Qualified,
s2 Proposal, s3 Won (closed won), s4 Lost; pipeline "ren": r1 Renewal review, r2 Renewed. Every deal is created
2026-03-02 09:00 UTC; the as-of date is 2026-03-31.

- 401 went s1 (03-02), s2 (03-10), s3 (03-20, won): three visits, and 8 / 10 / 1 days in pipeline_daily.
- 402 went s1, s2 (03-08), back to s1 (03-15): HubSpot keeps s1's second entry only, so two visits, Proposal then
  Qualified; the first state also covers the days before it.
- 403 carries none of the properties (a portal that does not report them): its current stage at the estimated
  moment (its last modification, 03-10), flagged estimated, as before this history existed.
- 404 was won (03-12) and reopened at s2 (03-14): the two won days count as won.
- 405's portal has the old property for s1 (03-04) and both for s2: the v2 one (03-09) wins.
- 406 moved from pipeline "new" (s1, 03-03) to "ren" (r1, 03-06): the first visit keeps its own pipeline's stage.
- 407 reports entering s2 (03-09) after its current stage s1 (03-05): that contradicts the current stage, and is
  left out.
- 409's pipeline "odd" has stage ids the loader renames in the columns (demoBooked, Stage+2, ready?-, Über):
  matched all the same, Demo booked (03-03), Über (03-05), Stage 2 (03-07), Ready (03-12).
- 408 was won on 03-22 with its closedate backdated to 03-18: it closed when it entered Won, so its won day is
  counted and its days run to 03-22.

A later day moves 402 to s2 again; the incremental pipeline_daily equals a full refresh. PostgreSQL gives the same
history.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from connectors.naming import snake_case, warehouse_name
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
MODIFIED = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
STAGE_IDS = ("s1", "s2", "s3", "s4", "r1", "r2", "demoBooked", "Stage+2", "ready?-", "Über")


def entered_column(stage_id: str, old: bool = False) -> str:
    """The raw deals' column of the property saying when a deal entered `stage_id`, named as the loader names it."""
    return warehouse_name(snake_case(f"hs_{'date' if old else 'v2_date'}_entered_{stage_id}"))


#: The raw deals' columns of the properties: v2 for every stage, the old ones for s1 and s2.
ENTERED_COLUMNS = [entered_column(stage_id) for stage_id in STAGE_IDS] + [
    entered_column("s1", old=True), entered_column("s2", old=True)]


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def stage(pipeline_id: str, stage_id: str, label: str, order: int, probability: float, is_closed: bool) -> dict:
    return {"stage_key": f"{pipeline_id}:{stage_id}", "pipeline_id": pipeline_id, "pipeline_label": pipeline_id,
            "stage_id": stage_id, "stage_label": label, "display_order": order, "probability": probability,
            "is_closed": is_closed, "archived": False, "_loaded_at": LOADED}


#: The closedate of every deal but 408.
CLOSEDATE = at(3, 20)


def deal(deal_id: str, stage_id: str, entered: dict[str, datetime], pipeline_id: str = "new", won: bool = False,
         modified: datetime = MODIFIED, loaded: datetime = LOADED, closedate: datetime = CLOSEDATE) -> dict:
    """A deal in `stage_id`, with `entered`: stage id (``s1``, or ``old_s1`` for the old property) -> moment."""
    closed = stage_id in ("s3", "s4", "r2")
    row = {"id": deal_id, "archived": False, "dealname": f"Deal {deal_id}", "amount": 100,
           "deal_currency_code": "USD", "dealstage": stage_id, "pipeline": pipeline_id, "hs_is_closed": closed,
           "hs_is_closed_won": won, "closedate": closedate, "createdate": at(3, 2), "hs_lastmodifieddate": modified,
           "_loaded_at": loaded}
    for stage_key, moment in entered.items():
        row[entered_column(stage_key.removeprefix("old_"), old=stage_key.startswith("old_"))] = moment
    return row


RAW = {
    "raw_hubspot.deal_pipeline_stages": [
        stage("new", "s1", "Qualified", 1, 0.2, False), stage("new", "s2", "Proposal", 2, 0.6, False),
        stage("new", "s3", "Won", 3, 1.0, True), stage("new", "s4", "Lost", 4, 0.0, True),
        stage("ren", "r1", "Renewal review", 1, 0.5, False), stage("ren", "r2", "Renewed", 2, 1.0, True),
        stage("odd", "demoBooked", "Demo booked", 1, 0.2, False), stage("odd", "Stage+2", "Stage 2", 2, 0.4, False),
        stage("odd", "ready?-", "Ready", 3, 0.8, False), stage("odd", "Über", "Über", 4, 0.9, False),
    ],
    "raw_hubspot.deals": [
        deal("401", "s3", {"s1": at(3, 2), "s2": at(3, 10), "s3": at(3, 20)}, won=True, modified=at(3, 20)),
        deal("402", "s1", {"s2": at(3, 8), "s1": at(3, 15)}, modified=at(3, 15)),
        deal("403", "s2", {}),
        deal("404", "s2", {"s1": at(3, 2), "s3": at(3, 12), "s2": at(3, 14)}, modified=at(3, 14)),
        deal("405", "s2", {"old_s1": at(3, 4), "old_s2": at(3, 1), "s2": at(3, 9)}),
        deal("406", "r1", {"s1": at(3, 3), "r1": at(3, 6)}, pipeline_id="ren"),
        deal("407", "s1", {"s1": at(3, 5), "s2": at(3, 9)}),
        deal("408", "s3", {"s1": at(3, 2), "s2": at(3, 10), "s3": at(3, 22)}, won=True, modified=at(3, 22),
             closedate=at(3, 18)),
        deal("409", "ready?-", {"demoBooked": at(3, 3), "Über": at(3, 5), "Stage+2": at(3, 7), "ready?-": at(3, 12)},
             pipeline_id="odd"),
    ],
}

#: Per deal: its visits in opportunity_stage_history (stage, category, entered, estimated, current), in order.
EXPECTED_VISITS = {
    "401": [("Qualified", "open", at(3, 2), False, False), ("Proposal", "open", at(3, 10), False, False),
            ("Won", "won", at(3, 20), False, True)],
    "402": [("Proposal", "open", at(3, 8), False, False), ("Qualified", "open", at(3, 15), False, True)],
    "403": [("Proposal", "open", at(3, 10), True, True)],
    "404": [("Qualified", "open", at(3, 2), False, False), ("Won", "won", at(3, 12), False, False),
            ("Proposal", "open", at(3, 14), False, True)],
    "405": [("Qualified", "open", at(3, 4), False, False), ("Proposal", "open", at(3, 9), False, True)],
    "406": [("Qualified", "open", at(3, 3), False, False), ("Renewal review", "open", at(3, 6), False, True)],
    "407": [("Qualified", "open", at(3, 5), False, True)],
    "408": [("Qualified", "open", at(3, 2), False, False), ("Proposal", "open", at(3, 10), False, False),
            ("Won", "won", at(3, 22), False, True)],
    "409": [("Demo booked", "open", at(3, 3), False, False), ("Über", "open", at(3, 5), False, False),
            ("Stage 2", "open", at(3, 7), False, False),
            ("Ready", "open", at(3, 12), False, True)],
}

#: Per deal: days per (stage, category) in pipeline_daily, 03-02 to its close or the as-of date (03-31).
EXPECTED_DAYS = {
    "401": {("Qualified", "open"): 8, ("Proposal", "open"): 10, ("Won", "won"): 1},
    "402": {("Proposal", "open"): 13, ("Qualified", "open"): 17},
    "403": {("Proposal", "open"): 30},
    "404": {("Qualified", "open"): 10, ("Won", "won"): 2, ("Proposal", "open"): 18},
    "405": {("Qualified", "open"): 7, ("Proposal", "open"): 23},
    "406": {("Qualified", "open"): 4, ("Renewal review", "open"): 26},
    "407": {("Qualified", "open"): 30},
    "408": {("Qualified", "open"): 8, ("Proposal", "open"): 12, ("Won", "won"): 1},
    "409": {("Demo booked", "open"): 3, ("Über", "open"): 2, ("Stage 2", "open"): 5, ("Ready", "open"): 20},
}

VISITS_SQL = """
    select source_opportunity_id, stage, stage_category, entered_at, is_entered_at_estimated, is_current_stage
    from marts.opportunity_stage_history
    where source_system = 'hubspot'
    order by source_opportunity_id, stage_sequence
"""

DAYS_SQL = """
    select opportunities.source_opportunity_id, pipeline.stage, pipeline.stage_category, count(*)
    from marts.pipeline_daily as pipeline
    inner join marts.opportunities as opportunities using (opportunity_id)
    group by 1, 2, 3
"""


def raw_tables_with_entries() -> dict[str, list[tuple[str, str]]]:
    """The raw contract's tables, raw deals with the date-entered columns of this portal."""
    tables = raw_tables()
    tables["raw_hubspot.deals"] = tables["raw_hubspot.deals"] + [
        (column, "TIMESTAMP WITH TIME ZONE") for column in ENTERED_COLUMNS]
    return tables


def _visits(table_rows: list[tuple]) -> dict[str, list[tuple]]:
    visits: dict[str, list[tuple]] = {}
    for deal_id, *visit in table_rows:
        visits.setdefault(deal_id, []).append(tuple(visit))
    return visits


def _days(table_rows: list[tuple]) -> dict[str, dict[tuple[str, str], int]]:
    days: dict[str, dict[tuple[str, str], int]] = {}
    for deal_id, stage_label, category, count in table_rows:
        days.setdefault(deal_id, {})[(stage_label, category)] = count
    return days


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The hand-written portal, built by dbt."""
    return built_world(tmp_path_factory.mktemp("hubspot_stage_entries"), RAW, raw_tables_with_entries())


def test_each_deal_visits_the_stages_it_entered_in_order(built):
    assert _visits(rows(built, VISITS_SQL)) == EXPECTED_VISITS


def test_pipeline_daily_shows_the_stage_of_each_day(built):
    assert _days(rows(built, DAYS_SQL)) == EXPECTED_DAYS


def test_a_closed_deal_closed_when_it_entered_its_closing_stage(built):
    """closed_at is the recorded entry into the closing stage, not the closedate: 401 entered Won on its closedate,
    408 four days after its backdated one, which stays its close_date."""
    assert rows(built, """
        select source_opportunity_id, closed_at, close_date
        from marts.opportunities
        where source_system = 'hubspot' and is_closed
        order by 1""") == [("401", at(3, 20), at(3, 20).date()), ("408", at(3, 22), at(3, 18).date())]


def test_the_stage_entries_are_read_from_both_properties(built):
    assert rows(built, """
        select hubspot_deal_id, stage_column_key, entered_at
        from staging.stg_hubspot__deal_stage_entries
        where hubspot_deal_id = '405'
        order by 2""") == [("405", "s1", at(3, 4)), ("405", "s2", at(3, 9))]


def test_a_portal_without_the_properties_keeps_one_estimated_row_per_deal(tmp_path):
    """The raw contract's deals have none of the columns: the staging model is empty and every deal has its current
    stage at an estimated moment, as before this history was read."""
    plain = {"raw_hubspot.deal_pipeline_stages": RAW["raw_hubspot.deal_pipeline_stages"],
             "raw_hubspot.deals": [{key: value for key, value in row.items() if "_entered_" not in key}
                                   for row in RAW["raw_hubspot.deals"]]}
    warehouse = built_world(tmp_path, plain)
    assert rows(warehouse, "select count(*) from staging.stg_hubspot__deal_stage_entries") == [(0,)]
    visits = _visits(rows(warehouse, VISITS_SQL))
    assert sorted(visits) == sorted(EXPECTED_VISITS)
    assert all(len(deal_visits) == 1 and deal_visits[0][3] for deal_visits in visits.values())


def test_a_deal_entering_a_stage_again_is_rebuilt_incrementally(built, tmp_path):
    """402 enters s2 again on 03-25: its days from then on are Proposal, those before stay Qualified back to its
    creation (its s2 entry of 03-08 is overwritten, as in HubSpot); the incremental pipeline_daily equals a full
    refresh."""
    incremental = Path(shutil.copy(built, tmp_path / "incremental.duckdb"))
    with duckdb.connect(str(incremental)) as connection:
        connection.execute("delete from raw_hubspot.deals where id = '402'")
        insert_rows(connection, "raw_hubspot.deals", [
            deal("402", "s2", {"s1": at(3, 15), "s2": at(3, 25)}, modified=at(3, 25), loaded=at(4, 1, 2))])
    result = run_dbt(incremental, ["run", "--select", "+pipeline_daily"], tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
    assert _days(rows(incremental, DAYS_SQL))["402"] == {("Qualified", "open"): 23, ("Proposal", "open"): 8}
    assert_pipeline_daily_equals_full_refresh(incremental, tmp_path)


@pytest.fixture(scope="module")
def postgres_built(tmp_path_factory):
    """The same portal built by dbt on a PostgreSQL database: an open connection to it."""
    folder = tmp_path_factory.mktemp("hubspot_stage_entries_postgres")
    with postgres.built_warehouse(RAW, raw_tables_with_entries(), lambda environment: dbt_build(environment, folder),
                                  port=55487) as connection:
        yield connection


@pytest.mark.e2e
def test_postgresql_gives_the_same_history(built, postgres_built):
    with postgres_built.cursor() as cursor:
        cursor.execute(VISITS_SQL)
        visits = cursor.fetchall()
        cursor.execute(DAYS_SQL)
        days = cursor.fetchall()
    assert _visits(visits) == EXPECTED_VISITS
    assert _days(days) == EXPECTED_DAYS
