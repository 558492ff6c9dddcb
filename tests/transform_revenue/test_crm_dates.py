"""Dates at the edges of the CRM marts, on hand-written raw rows through a real `dbt build` (the CRM marts, then the
revenue models); and the same rows built on PostgreSQL give the same marts.

- A Salesforce lead created 2026-03-02 08:13 UTC and converted that day (Salesforce keeps only the conversion date):
  it became a lead, and (inferred) an MQL and an SQL, at 08:13 - not at midnight, before it existed. A lead created
  2026-03-01 09:00 and converted 2026-03-04 is an SQL from the midnight of 2026-03-04 UTC.
- Mia, a Salesforce lead created 2026-03-05 09:00 and converted 2026-03-06, is also a HubSpot contact (same e-mail)
  who became an MQL 2026-03-06 14:00: her MQL time moves back to her SQL's (a stage is at most the next one's), but
  HubSpot recorded it, so the funnel does not count it as skipped.
- A EUR deal created 2019-05-01 and won 2019-06-30, and a EUR campaign of March 2019, before the first seed rate
  (2023-01-02: EUR 1.0783 USD): converted at that first rate, in opportunities, pipeline_daily and campaigns, and no
  "currency without exchange rate" issue. An open EUR deal closing 2031-03-31, after the rate calendar (2030-12-31),
  takes the last rate.
- A Salesforce deal created 2026-03-03 09:00 and won with close date 2026-03-20, without any OpportunityHistory row
  (the history was not synced): it closed at the start of its close date, a 17-day sales cycle, not at its
  creation (the stand-in row that dates its stages says nothing about when it closed).
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.defs.transform.project import DBT_PROJECT_DIR
from tests.support import postgres
from tests.transform.helpers import dbt_build, raw_tables, raw_warehouse, rows
from tests.transform.helpers import run_dbt as run_dbt_on
from tests.transform_revenue.support import REVENUE_MODELS

LOADED = datetime(2026, 3, 31, 2, 0, tzinfo=UTC)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def sf_account(record_id: str, name: str, website: str, created: datetime) -> dict:
    return {"id": record_id, "is_deleted": False, "name": name, "website": website, "type": "Customer",
            "billing_country": "Germany", "currency_iso_code": "EUR", "created_date": created,
            "system_modstamp": created, "_loaded_at": LOADED}


def sf_lead(record_id: str, first: str, last: str, created: datetime, converted: date, contact_id: str) -> dict:
    return {"id": record_id, "is_deleted": False, "first_name": first, "last_name": last,
            "email": f"{first.lower()}@newco.com", "status": "Closed - Converted", "is_converted": True,
            "converted_date": converted, "converted_account_id": "001NEW", "converted_contact_id": contact_id,
            "created_date": created, "system_modstamp": created, "_loaded_at": LOADED}


def sf_contact(record_id: str, first: str, last: str, created: datetime) -> dict:
    return {"id": record_id, "is_deleted": False, "first_name": first, "last_name": last,
            "email": f"{first.lower()}@newco.com", "account_id": "001NEW", "created_date": created,
            "system_modstamp": created, "_loaded_at": LOADED}


def sf_opportunity(record_id: str, account_id: str, stage: str, amount: int, created: datetime, close: date,
                   won: bool) -> dict:
    return {"id": record_id, "is_deleted": False, "account_id": account_id, "name": record_id, "stage_name": stage,
            "amount": amount, "probability": 100 if won else 20, "close_date": close, "is_closed": won,
            "is_won": won, "type": "New Business", "currency_iso_code": "EUR", "created_date": created,
            "system_modstamp": created, "_loaded_at": LOADED}


def sf_history(record_id: str, opportunity_id: str, stage: str, amount: int, close: date, created: datetime) -> dict:
    return {"id": record_id, "is_deleted": False, "opportunity_id": opportunity_id, "stage_name": stage,
            "amount": amount, "close_date": close, "created_date": created, "_loaded_at": LOADED}


RAW = {
    "raw_salesforce.account": [
        sf_account("001OLD", "Oldco", "oldco.com", at(2019, 1, 10)),
        sf_account("001NEW", "Newco", "newco.com", at(2026, 3, 1)),
    ],
    "raw_salesforce.lead": [
        sf_lead("00QSAME", "Sam", "Same", at(2026, 3, 2, 8, 13), date(2026, 3, 2), "003SAME"),
        sf_lead("00QLATER", "Lou", "Later", at(2026, 3, 1, 9), date(2026, 3, 4), "003LATER"),
        sf_lead("00QMQL", "Mia", "Mql", at(2026, 3, 5, 9), date(2026, 3, 6), "003MQL"),
    ],
    "raw_hubspot.contacts": [
        {"id": "9001", "archived": False, "email": "mia@newco.com", "firstname": "Mia", "lastname": "Mql",
         "lifecyclestage": "salesqualifiedlead", "createdate": at(2026, 3, 6, 13),
         "hs_lifecyclestage_marketingqualifiedlead_date": at(2026, 3, 6, 14), "lastmodifieddate": at(2026, 3, 6, 14),
         "_loaded_at": LOADED},
    ],
    "raw_salesforce.contact": [
        sf_contact("003SAME", "Sam", "Same", at(2026, 3, 2, 15, 40)),
        sf_contact("003LATER", "Lou", "Later", at(2026, 3, 4, 10)),
        sf_contact("003MQL", "Mia", "Mql", at(2026, 3, 6, 10)),
    ],
    "raw_salesforce.opportunity": [
        sf_opportunity("006OLD", "001OLD", "Closed Won", 1000, at(2019, 5, 1, 9), date(2019, 6, 30), won=True),
        sf_opportunity("006FUTURE", "001NEW", "Prospecting", 500, at(2026, 3, 10, 9), date(2031, 3, 31), won=False),
        sf_opportunity("006NOHIST", "001NEW", "Closed Won", 800, at(2026, 3, 3, 9), date(2026, 3, 20), won=True),
    ],
    "raw_salesforce.opportunity_history": [
        sf_history("008OLD1", "006OLD", "Prospecting", 1000, date(2019, 6, 30), at(2019, 5, 1, 9)),
        sf_history("008OLD2", "006OLD", "Closed Won", 1000, date(2019, 6, 30), at(2019, 6, 30, 15)),
        sf_history("008FUT1", "006FUTURE", "Prospecting", 500, date(2031, 3, 31), at(2026, 3, 10, 9)),
    ],
    "raw_salesforce.campaign": [
        {"id": "701OLD", "is_deleted": False, "name": "Oldco launch", "type": "Webinar", "status": "Completed",
         "start_date": date(2019, 3, 1), "end_date": date(2019, 3, 31), "budgeted_cost": 2000, "actual_cost": 1500,
         "currency_iso_code": "EUR", "created_date": at(2019, 2, 1), "system_modstamp": at(2019, 2, 1),
         "_loaded_at": LOADED},
    ],
}


def seed_rates(currency: str) -> tuple[Decimal, Decimal]:
    """The first and the last rate to USD of `currency` in the seed currency_rates_daily."""
    with (DBT_PROJECT_DIR / "seeds" / "currency_rates_daily.csv").open() as seed:
        rates = sorted((row["date"], Decimal(row["rate_to_usd"])) for row in csv.DictReader(seed)
                       if row["currency_code"] == currency)
    return rates[0][1], rates[-1][1]


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


FIRST_EUR, LAST_EUR = seed_rates("EUR")
FIRST_USD, LAST_USD = seed_rates("USD")
FIRST_RATE, LAST_RATE = FIRST_EUR / FIRST_USD, LAST_EUR / LAST_USD


def build(warehouse: Path | dict[str, str], folder: Path) -> None:
    """The CRM marts and everything upstream, then the revenue models (without ad spend: no ad-platform rows)."""
    dbt_build(warehouse, folder)
    result = run_dbt_on(warehouse, ["build", "--select", *REVENUE_MODELS,
                                    "--vars", json.dumps({"ad_performance_daily_enabled": False})], folder)
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-2000:]}"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("crm_dates")
    path = raw_warehouse(folder / "warehouse.duckdb", RAW)
    build(path, folder)
    return path


def _prospect(warehouse: Path, lead_id: str) -> tuple:
    return rows(warehouse, "select became_lead_at, became_mql_at, became_sql_at from marts.prospects "
                           f"where salesforce_lead_id = '{lead_id}'")[0]


def test_a_lead_converted_the_day_it_was_created_becomes_an_sql_when_it_was_created(warehouse):
    lead, mql, sql = _prospect(warehouse, "00QSAME")
    assert (lead, mql, sql) == (at(2026, 3, 2, 8, 13),) * 3
    assert _prospect(warehouse, "00QLATER") == (at(2026, 3, 1, 9), at(2026, 3, 4), at(2026, 3, 4))
    # in the funnel: the MQL is still inferred from the SQL (the conversion is known to the day only)
    assert rows(warehouse, """
        select funnel.lead_date, funnel.sql_date, funnel.is_mql_skipped, funnel.days_lead_to_mql
        from marts.prospect_funnel as funnel
        inner join marts.prospects using (prospect_id)
        where prospects.salesforce_lead_id = '00QSAME'""") == [(date(2026, 3, 2), date(2026, 3, 2), True, None)]


def test_a_recorded_mql_after_a_conversion_known_to_the_day_is_not_a_skipped_stage(warehouse):
    sql_day = at(2026, 3, 6)
    assert rows(warehouse, "select became_mql_at, became_sql_at, is_mql_inferred, is_sql_inferred, "
                           "is_mql_recorded_late, is_sql_recorded_late "
                           "from marts.prospects where salesforce_lead_id = '00QMQL'") == [
        (sql_day, sql_day, False, False, True, False)]
    assert rows(warehouse, """
        select funnel.is_lead_skipped, funnel.is_mql_skipped, funnel.is_sql_skipped, funnel.days_mql_to_sql
        from marts.prospect_funnel as funnel
        inner join marts.prospects using (prospect_id)
        where prospects.salesforce_lead_id = '00QMQL'""") == [(False, False, False, None)]


def test_a_deal_without_history_closes_on_its_close_date_not_when_it_was_created(warehouse):
    assert rows(warehouse, "select closed_at, sales_cycle_days from marts.opportunities "
                           "where salesforce_opportunity_id = '006NOHIST'") == [(at(2026, 3, 20), 17)]


def test_a_deal_closed_before_the_first_rate_converts_at_the_first_rate(warehouse):
    amounts = dict(rows(warehouse, "select source_opportunity_id, amount_reporting from marts.opportunities "
                                   "where source_opportunity_id in ('006OLD', '006FUTURE')"))
    assert amounts == {"006OLD": cents(1000 * FIRST_RATE), "006FUTURE": cents(500 * LAST_RATE)}
    assert rows(warehouse, "select count(*) from marts.alignment_issues where issue_type = 'missing_currency'") \
        == [(0,)]


def test_pipeline_days_and_campaigns_before_2020_convert_at_the_first_rate(warehouse):
    days = rows(warehouse, """
        select min(date_day), count(*), count(pipeline.amount_reporting), min(pipeline.amount_reporting),
            max(pipeline.amount_reporting)
        from marts.pipeline_daily as pipeline
        inner join marts.opportunities using (opportunity_id)
        where opportunities.source_opportunity_id = '006OLD'""")
    [(first_day, day_count, converted, lowest, highest)] = days
    assert first_day == date(2019, 5, 1) and day_count >= 60 and converted == day_count
    assert lowest == highest == cents(1000 * FIRST_RATE)
    assert rows(warehouse, "select budgeted_cost_reporting, actual_cost_reporting from marts.campaigns "
                           "where salesforce_campaign_id = '701OLD'") == [
        (cents(2000 * FIRST_RATE), cents(1500 * FIRST_RATE))]


#: Marts compared row for row between DuckDB and PostgreSQL.
PARITY_MARTS = ("prospects", "opportunities", "pipeline_daily", "campaigns", "alignment_issues", "prospect_funnel",
                "channel_performance_monthly", "shared_metrics_daily")
#: Columns that differ by construction between two builds (the build's own time).
BUILD_TIME_COLUMNS = {"alignment_issues": ("first_detected_at",)}


@pytest.fixture(scope="module")
def postgres_dates(tmp_path_factory):
    """The same raw rows built by dbt on a PostgreSQL database: an open connection to it."""
    folder = tmp_path_factory.mktemp("crm_dates_postgres")
    with postgres.built_warehouse(RAW, raw_tables(), lambda environment: build(environment, folder),
                                  port=55457) as connection:
        yield connection


@pytest.mark.e2e
@pytest.mark.parametrize("mart", PARITY_MARTS)
def test_postgresql_gives_the_same_marts(warehouse, postgres_dates, mart: str):
    leave_out = BUILD_TIME_COLUMNS.get(mart, ())
    with postgres_dates.cursor() as cursor:
        cursor.execute(f"select * from marts.{mart}")
        postgres_columns = [column.name for column in cursor.description]
        postgres_rows = cursor.fetchall()
    with duckdb.connect(str(warehouse), read_only=True) as duck:
        result = duck.execute(f"select * from marts.{mart}")
        duckdb_columns = [column[0] for column in result.description]
        duckdb_rows = result.fetchall()
    assert postgres_columns == duckdb_columns
    kept = [index for index, column in enumerate(duckdb_columns) if column not in leave_out]

    def comparable(table_rows: list[tuple]) -> list[tuple]:
        return sorted((tuple(postgres.comparable(row[index]) for index in kept) for row in table_rows), key=repr)

    assert duckdb_rows and comparable(postgres_rows) == comparable(duckdb_rows)
