"""UTM parameters read from page URLs are decoded as browsers encode them, the same on DuckDB and PostgreSQL.

A form on a page reached through `?utm_medium=paid%20social` was submitted from the "paid social" medium, which is
what channel_mapping and the campaigns' UTM keys name; before decoding it stayed "paid%20social" and matched
nothing. Each case below is a page URL of a HubSpot form submission and the UTMs stg_hubspot__form_submissions must
read from it (contacts' first_page_url goes through the same macro).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support import postgres
from tests.transform.helpers import raw_tables, raw_warehouse, rows, run_dbt

#: page URL -> (utm_source, utm_medium, utm_campaign) read from it.
CASES = {
    "https://acme.example/?utm_source=Google&utm_medium=paid%20social&utm_campaign=2026q2%5Fwebinar_dataops":
        ("google", "paid social", "2026q2_webinar_dataops"),
    # `+` is a space, an escaped one (%2B) a plus; %25 a percent sign; UTF-8 escapes in either case of hex digit
    "https://acme.example/offer?utm_campaign=50%25+off%2bmore&utm_medium=caf%C3%A9+%e2%82%ac":
        (None, "café €", "50% off+more"),
    # escapes that do not spell UTF-8 (Latin-1 é), a stray % and an escaped NUL: kept as sent, the build never fails
    "https://acme.example/?utm_campaign=bad%E9x&utm_medium=100%&utm_source=%00x": ("%00x", "100%", "bad%e9x"),
    "https://acme.example/?utm_campaign=%ed%a0%80": (None, None, "%ed%a0%80"),  # a UTF-16 surrogate: not UTF-8
    "https://acme.example/#utm_source=%20linkedin%20&utm_campaign=": ("linkedin", None, None),
}
RAW = {
    "raw_hubspot.form_submissions": [
        {"conversion_id": f"C{number}", "form_guid": "F1", "page_url": url, "values": "[]",
         "submitted_at": datetime(2026, 3, 1, 9, number, tzinfo=UTC), "_loaded_at": datetime(2026, 3, 2, tzinfo=UTC)}
        for number, url in enumerate(CASES)
    ],
}
QUERY = "select page_url, utm_source, utm_medium, utm_campaign from staging.stg_hubspot__form_submissions"
BUILD = ["run", "--select", "stg_hubspot__form_submissions"]


def read_utms(table_rows: list[tuple]) -> dict[str, tuple]:
    return {page_url: tuple(utms) for page_url, *utms in table_rows}


def test_utm_parameters_are_percent_decoded_on_duckdb(tmp_path):
    warehouse = raw_warehouse(tmp_path / "warehouse.duckdb", RAW)
    result = run_dbt(warehouse, BUILD, tmp_path)
    assert result.returncode == 0, result.stdout[-6000:]
    assert read_utms(rows(warehouse, QUERY)) == CASES


@pytest.mark.e2e
def test_utm_parameters_are_percent_decoded_the_same_on_postgres(tmp_path):
    def build(environment: dict[str, str]) -> None:
        result = run_dbt(environment, BUILD, tmp_path)
        assert result.returncode == 0, result.stdout[-6000:]

    with postgres.built_warehouse(RAW, raw_tables(), build, port=55469) as connection, connection.cursor() as cursor:
        cursor.execute(QUERY)
        assert read_utms(cursor.fetchall()) == CASES
