"""A release that reads a stream with other fields loads into the table an earlier release built.

Google Ads API v23 replaced ``campaign.start_date`` / ``end_date`` (dates) by ``start_date_time`` /
``end_date_time`` (text), and the campaigns stream followed. The raw table keeps the columns the earlier release
wrote: the next load adds the new ones, leaves the old ones empty on what it writes, and loses no row.
"""

from dataclasses import replace

import duckdb

from connectors.google_ads.streams import CAMPAIGNS
from connectors.schema import Field
from pipelines.lib.raw_loader import load_streams

#: The campaigns stream as the release before v23 declared it.
CAMPAIGNS_BEFORE_V23 = replace(CAMPAIGNS, fields=(
    *(field for field in CAMPAIGNS.fields if not field.column.endswith("_date_time")),
    Field("start_date", "campaign.startDate", "date"),
    Field("end_date", "campaign.endDate", "date"),
))


def _campaign(campaign_id: str, **flight: str) -> dict:
    return {"campaign": {"id": campaign_id, "name": f"Campaign {campaign_id}", "status": "ENABLED", **flight},
            "customer": {"id": "1234567890"}}


def _load(stream, records, folder, run_id):
    def read_pages(_stream, _since):
        yield [dict(record) for record in records]

    return load_streams("google_ads", [stream], read_pages, str(folder / "warehouse.duckdb"), folder / "dlt",
                        run_id)["campaigns"]


def test_campaigns_loaded_with_v23_fields_into_a_table_built_before_v23(tmp_path):
    before = _load(CAMPAIGNS_BEFORE_V23, [_campaign("1", startDate="2025-01-01", endDate="2037-12-30"),
                                          _campaign("2", startDate="2025-06-01", endDate="2025-06-30")],
                   tmp_path, "run-1")
    assert (before.rows, before.quarantined) == (2, 0)

    after = _load(CAMPAIGNS, [_campaign("1", startDateTime="2025-01-01 00:00:00"),
                              _campaign("2", startDateTime="2025-06-01 00:00:00", endDateTime="2025-06-30 23:59:59"),
                              _campaign("3", startDateTime="2026-03-01 08:00:00")], tmp_path, "run-2")
    assert (after.rows, after.quarantined) == (3, 0)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        columns = {name for (name,) in connection.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw_google_ads' and table_name = 'campaigns'").fetchall()}
        rows = connection.execute("select campaign_id, start_date_time, end_date_time, _run_id "
                                  "from raw_google_ads.campaigns order by campaign_id").fetchall()
    assert {"start_date", "end_date", "start_date_time", "end_date_time"} <= columns
    assert rows == [("1", "2025-01-01 00:00:00", None, "run-2"),
                    ("2", "2025-06-01 00:00:00", "2025-06-30 23:59:59", "run-2"),
                    ("3", "2026-03-01 08:00:00", None, "run-2")]
