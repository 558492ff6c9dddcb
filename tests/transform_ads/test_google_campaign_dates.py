"""Google campaign flights in staging, from the raw columns of either API generation.

Google Ads API v23 replaced ``campaign.start_date`` / ``end_date`` (dates; 2037-12-30 for no end) by
``start_date_time`` / ``end_date_time`` ("yyyy-MM-dd HH:mm:ss" text in the customer's time zone; no end_date_time
for no end). A raw table loaded before and after the change holds rows of both kinds; one first loaded after it
has only the new columns. stg_google_ads__campaigns gives the same start_date / end_date dates from all of them,
on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from datetime import date

import duckdb
import psycopg2
import pytest

from tests.support.postgres import create_raw_tables, insert_rows, postgres_environment, postgres_server
from tests.transform.helpers import run_dbt
from tests.transform_ads.support import dbt, dicts, insert

TABLE = "raw_google_ads.campaigns"
OLD_COLUMNS = [("start_date", "DATE"), ("end_date", "DATE")]
NEW_COLUMNS = [("start_date_time", "VARCHAR"), ("end_date_time", "VARCHAR")]
KEY_COLUMNS = [("campaign_id", "VARCHAR"), ("customer_id", "VARCHAR"), ("name", "VARCHAR"), ("status", "VARCHAR")]
BUILD = ["build", "--select", "stg_google_ads__campaigns"]
STAGED = "select platform_campaign_id, start_date, end_date from staging.stg_google_ads__campaigns"


def campaign(campaign_id: str, **flight) -> dict:
    return {"campaign_id": campaign_id, "customer_id": "1234567890", "name": f"Campaign {campaign_id}",
            "status": "ENABLED", **flight}


#: Rows the v23+ connector loads, and the (start_date, end_date) staging must give them.
NEW_ROWS = {
    "daily": (campaign("N1", start_date_time="2026-03-01 00:00:00", end_date_time="2026-03-31 23:59:59"),
              (date(2026, 3, 1), date(2026, 3, 31))),
    "open-ended": (campaign("N2", start_date_time="2026-02-01 00:00:00"), (date(2026, 2, 1), None)),
    "to the hour": (campaign("N3", start_date_time="2026-04-01 09:30:00", end_date_time="2026-04-15 17:00:00"),
                    (date(2026, 4, 1), date(2026, 4, 15))),
    "the old no-end day": (campaign("N4", start_date_time="2026-05-01 00:00:00", end_date_time="2037-12-30 23:59:59"),
                           (date(2026, 5, 1), None)),
    "ISO form": (campaign("N5", start_date_time="2026-06-01T00:00:00"), (date(2026, 6, 1), None)),
    # not a date-time: null, not a failed build (the raw suite flags it), and never the old columns' dates
    "malformed": (campaign("N6", start_date_time="soon", end_date_time=""), (None, None)),
}
#: Rows loaded before v23.
OLD_ROWS = {
    "ended": (campaign("O1", start_date=date(2025, 6, 1), end_date=date(2025, 6, 30)),
              (date(2025, 6, 1), date(2025, 6, 30))),
    "no end (2037-12-30)": (campaign("O2", start_date=date(2025, 1, 1), end_date=date(2037, 12, 30)),
                            (date(2025, 1, 1), None)),
}


def _flights(rows: list[dict]) -> dict[str, tuple]:
    return {row["platform_campaign_id"]: (row["start_date"], row["end_date"]) for row in rows}


def _expected(cases: dict) -> dict[str, tuple]:
    return {row["campaign_id"]: flight for row, flight in cases.values()}


def _duckdb_staging(folder, columns: list[tuple[str, str]], cases: dict) -> dict[str, tuple]:
    warehouse = folder / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema raw_google_ads")
        connection.execute(f"create table {TABLE} ({', '.join(f'{name} {kind}' for name, kind in columns)})")
        insert(connection, TABLE, [row for row, _ in cases.values()])
    dbt(warehouse, folder, BUILD)
    return _flights(dicts(warehouse, STAGED))


def test_a_table_loaded_before_and_after_v23_gives_each_row_its_days(tmp_path):
    cases = {**NEW_ROWS, **OLD_ROWS}
    assert _duckdb_staging(tmp_path, KEY_COLUMNS + OLD_COLUMNS + NEW_COLUMNS, cases) == _expected(cases)


def test_a_table_first_loaded_after_v23_has_no_old_columns_to_read(tmp_path):
    assert _duckdb_staging(tmp_path, KEY_COLUMNS + NEW_COLUMNS, NEW_ROWS) == _expected(NEW_ROWS)


@pytest.mark.e2e
def test_the_days_come_out_the_same_on_postgres(tmp_path):
    cases = {**NEW_ROWS, **OLD_ROWS}
    with postgres_server(port=55451) as url:
        connection = psycopg2.connect(url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                create_raw_tables(cursor, {TABLE: KEY_COLUMNS + OLD_COLUMNS + NEW_COLUMNS})
                insert_rows(cursor, TABLE, [row for row, _ in cases.values()])
            result = run_dbt(postgres_environment(url), BUILD, tmp_path)
            assert result.returncode == 0, result.stdout[-8000:]
            with connection.cursor() as cursor:
                cursor.execute(STAGED)
                flights = {campaign_id: (start, end) for campaign_id, start, end in cursor.fetchall()}
        finally:
            connection.close()
    assert flights == _expected(cases)
