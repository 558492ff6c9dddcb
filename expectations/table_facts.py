"""Table-level expectations (row count against the previous night, newest record) over one SQL aggregate row.

Freshness and volume need the whole table, not a sample of it, and they are one aggregate each:
the warehouse computes ``count(*)`` and ``max(<stamp>)`` and GX validates that one-row frame.
The same SQL runs on DuckDB, PostgreSQL, and (in tests) DuckDB over a pandas frame.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

import great_expectations.expectations as gxe

ROW_COUNT = "table_row_count"


def quoted(identifier: str) -> str:
    """A SQL identifier in double quotes, embedded quotes doubled."""
    return '"' + identifier.replace('"', '""') + '"'


def facts_sql(relation: str, stamps: Iterable[str] = ()) -> str:
    """``select count(*) …, max(<stamp>) …`` over `relation`: the row count and the newest value of each stamp."""
    newest = "".join(f", max({quoted(column)}) as {quoted(column)}" for column in stamps)
    return f"select count(*) as {ROW_COUNT}{newest} from {relation}"


def fact_expectations(spec, previous_rows: int | None, now: datetime | None = None) -> list:
    """Newest records within their window; rows no fewer than the previous count minus the tolerated drop."""
    now = now or datetime.now(UTC)
    rules = [gxe.ExpectColumnMaxToBeBetween(column=f.column, min_value=now - f.max_age) for f in spec.freshness]
    if spec.max_row_drop is not None and previous_rows:
        floor = math.ceil(previous_rows * (1 - spec.max_row_drop))
        rules.append(gxe.ExpectColumnValuesToBeBetween(column=ROW_COUNT, min_value=floor))
    return rules
