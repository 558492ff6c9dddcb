"""Days between funnel stages on hand-written prospects, through a real dbt build (as-of date 2026-04-15, UTC).

January 2026 cohort, channel email:
- PA became a lead and an MQL at the same moment (a contact created as an MQL): 0 days lead to MQL.
- PB took 10 days from lead to MQL.
- PC took 1 day from lead to MQL, 1 to SQL, 2 to an opportunity created won: 0 days opportunity to customer.
- PD's MQL was recorded only after her SQL: prospects moved it back onto the SQL's time and flagged it recorded
  late, so no MQL-to-SQL days (her MQL's own time is not known), while lead to MQL counts (4 days).
- PE skipped the MQL (inferred from the SQL's time): no days on either side of it.

Medians: lead to MQL over 0, 10, 1, 4 = 2.5; MQL to SQL over PC's 1 = 1; opportunity to customer 0.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.transform_revenue import support
from tests.transform_revenue.support import query

AS_OF = date(2026, 4, 15)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def person(prospect_id: str, lead: datetime, mql=None, sql=None, opportunity=None, customer=None, **flags) -> dict:
    return {"prospect_id": prospect_id, "account_id": f"ACC_{prospect_id}", "original_channel": "email",
            "lifecycle_stage": "lead", "became_lead_at": lead, "became_mql_at": mql, "became_sql_at": sql,
            "became_opportunity_at": opportunity, "became_customer_at": customer, "is_deleted": False, **flags}


PROSPECTS = [
    person("PA", at(1, 5), at(1, 5)),
    person("PB", at(1, 5), at(1, 15)),
    person("PC", at(1, 6), at(1, 7), at(1, 8), at(1, 10, 12), at(1, 10, 12)),
    person("PD", at(1, 8), at(1, 12), at(1, 12), is_mql_recorded_late=True),
    person("PE", at(1, 9), at(1, 20), at(1, 20), is_mql_inferred=True),
]

#: Per person: days lead->MQL, MQL->SQL, SQL->opportunity, opportunity->customer.
EXPECTED_DAYS = [
    ("PA", 0, None, None, None),
    ("PB", 10, None, None, None),
    ("PC", 1, 1, 2, 0),
    ("PD", 4, None, None, None),
    ("PE", None, None, None, None),
]


def test_stages_recorded_at_one_moment_take_zero_days_and_moved_back_or_skipped_ones_none(tmp_path):
    warehouse = support.build_world(tmp_path, AS_OF, {"marts.prospects": PROSPECTS})
    assert query(warehouse, """
        select prospect_id, days_lead_to_mql, days_mql_to_sql, days_sql_to_opportunity, days_opportunity_to_customer
        from marts.prospect_funnel
        order by prospect_id""") == EXPECTED_DAYS
    assert query(warehouse, """
        select median_days_lead_to_mql, median_days_mql_to_sql, median_days_sql_to_opportunity,
            median_days_opportunity_to_customer
        from marts.funnel_monthly""") == [(2.5, 1, 2, 0)]
