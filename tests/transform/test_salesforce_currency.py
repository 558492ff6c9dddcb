"""Salesforce orgs without multi-currency have no CurrencyIsoCode field: their amounts are in the corporate
currency the var salesforce_corporate_currency names; the var never fills a null currency of a record that has the
field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tests.transform.helpers import raw_warehouse, rows, run_dbt

STAGING = ["stg_salesforce__accounts", "stg_salesforce__opportunities", "stg_salesforce__leads",
           "stg_salesforce__campaigns"]
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
STAMPS = {"is_deleted": False, "created_date": AT, "system_modstamp": AT, "_loaded_at": AT}
#: A single-currency org's objects (no currency_iso_code column), and a campaign table that has the column.
RAW = {
    "raw_salesforce.account": [{"id": "001A", "name": "Acme", "annual_revenue": 5000000, **STAMPS}],
    "raw_salesforce.opportunity": [{"id": "006A", "account_id": "001A", "name": "Acme deal", "amount": 1200,
                                    "stage_name": "Prospecting", **STAMPS}],
    "raw_salesforce.lead": [{"id": "00QA", "last_name": "Lane", "company": "Acme", **STAMPS}],
    "raw_salesforce.campaign": [{"id": "701A", "name": "No currency", "currency_iso_code": None, **STAMPS},
                                {"id": "701B", "name": "Dollars", "currency_iso_code": "usd", **STAMPS}],
}
WITHOUT_THE_FIELD = ("account", "opportunity", "lead")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path = raw_warehouse(tmp_path_factory.mktemp("sf_currency") / "warehouse.duckdb", RAW)
    with duckdb.connect(str(path)) as connection:
        for table in WITHOUT_THE_FIELD:
            connection.execute(f"alter table raw_salesforce.{table} drop column currency_iso_code")
    return path


def _staging(warehouse: Path, folder: Path, variables: dict) -> tuple:
    result = run_dbt(warehouse, ["run", "--select", *STAGING, "--vars", json.dumps(variables)], folder)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    return (
        rows(warehouse, "select annual_revenue_currency from staging.stg_salesforce__accounts"),
        rows(warehouse, "select currency_code from staging.stg_salesforce__opportunities"),
        rows(warehouse, "select currency_code from staging.stg_salesforce__leads"),
        rows(warehouse, "select salesforce_campaign_id, currency_code from staging.stg_salesforce__campaigns "
                        "order by 1"),
    )


def test_records_of_an_org_without_currency_iso_code_are_in_the_corporate_currency(warehouse, tmp_path):
    accounts, opportunities, leads, campaigns = _staging(warehouse, tmp_path, {"salesforce_corporate_currency": "eur"})
    assert accounts == opportunities == leads == [("EUR",)]
    assert campaigns == [("701A", None), ("701B", "USD")]  # the field exists: its null is not filled


def test_without_the_corporate_currency_their_amounts_have_no_currency(warehouse, tmp_path):
    accounts, opportunities, leads, campaigns = _staging(warehouse, tmp_path, {})
    assert accounts == opportunities == leads == [(None,)]
    assert campaigns == [("701A", None), ("701B", "USD")]


@pytest.mark.parametrize("value", ["EURO", "x' or 1=1 --"])
def test_a_corporate_currency_that_is_not_an_iso_code_fails_naming_the_var(warehouse, tmp_path, value):
    result = run_dbt(warehouse, ["run", "--select", "stg_salesforce__opportunities",
                                 "--vars", json.dumps({"salesforce_corporate_currency": value})], tmp_path)
    assert result.returncode != 0
    assert "salesforce_corporate_currency must be a three-letter ISO 4217 code" in result.stdout
