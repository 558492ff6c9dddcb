"""The dbt benchmark's publish timing reports how each table reached the snapshot, as the nightly job publishes."""

from datetime import date

from benchmarks.build_targets import time_publish
from tests.support.publish_log import FIRST_BUILD, Warehouse


def test_the_second_publish_is_timed_with_how_each_table_got_there(tmp_path):
    warehouse, analytics = Warehouse(tmp_path / "warehouse.duckdb"), tmp_path / "analytics.duckdb"
    warehouse.build("full", FIRST_BUILD)
    first = time_publish(warehouse.path, analytics)
    warehouse.build("scoped", ["delete from marts.pipeline_daily where date_day >= date '2026-10-30'"],
                    replace_from=date(2026, 10, 30))
    second = time_publish(warehouse.path, analytics)

    assert first["tables"] == {"pipeline_daily": "copied"} and second["tables"] == {"pipeline_daily": "replayed"}
    assert first["seconds"] >= 0 and second["seconds"] >= 0
    assert not (tmp_path / "snapshots").exists()
