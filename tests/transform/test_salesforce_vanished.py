"""A Salesforce record the loader's key reconciliation found gone from the source (``_vanished_at``) is a deleted one
in staging; a raw table without the column (never reconciled) still builds, its deletes as IsDeleted says."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tests.transform.helpers import raw_warehouse, rows, run_dbt

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
STAMPS = {"is_deleted": False, "created_date": AT, "system_modstamp": AT, "_loaded_at": AT}
RAW = {
    "raw_salesforce.contact": [{"id": "003A", "last_name": "Live", **STAMPS},
                               {"id": "003B", "last_name": "Vanished", **STAMPS},
                               {"id": "003C", "last_name": "Binned", **{**STAMPS, "is_deleted": True}}],
    "raw_salesforce.opportunity_history": [{"id": "008A", "opportunity_id": "006A", **STAMPS},
                                           {"id": "008B", "opportunity_id": "006B", **STAMPS}],
    "raw_salesforce.account": [{"id": "001A", "name": "Live", **STAMPS},
                               {"id": "001B", "name": "Binned", **{**STAMPS, "is_deleted": True}}],
}
#: The reconciled tables and their rows found gone; the account table was never reconciled: no _vanished_at.
VANISHED = {"contact": "003B", "opportunity_history": "008B"}
STAGING = ["stg_salesforce__contacts", "stg_salesforce__opportunity_histories", "stg_salesforce__accounts"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path = raw_warehouse(tmp_path_factory.mktemp("sf_vanished") / "warehouse.duckdb", RAW)
    with duckdb.connect(str(path)) as connection:
        for table, vanished_id in VANISHED.items():
            connection.execute(f"alter table raw_salesforce.{table} add column _vanished_at timestamp with time zone")
            connection.execute(f"update raw_salesforce.{table} set _vanished_at = ? where id = ?", [AT, vanished_id])
    return path


def test_a_vanished_record_is_deleted_in_staging_and_a_table_without_the_column_still_builds(warehouse, tmp_path):
    result = run_dbt(warehouse, ["run", "--select", *STAGING], tmp_path)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    assert rows(warehouse, "select salesforce_contact_id, is_deleted from staging.stg_salesforce__contacts "
                           "order by 1") == [("003A", False), ("003B", True), ("003C", True)]
    assert rows(warehouse, "select salesforce_opportunity_history_id, is_deleted "
                           "from staging.stg_salesforce__opportunity_histories order by 1") == [
        ("008A", False), ("008B", True)]
    assert rows(warehouse, "select salesforce_account_id, is_deleted from staging.stg_salesforce__accounts "
                           "order by 1") == [("001A", False), ("001B", True)]
