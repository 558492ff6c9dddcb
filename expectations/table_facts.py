"""Table-level expectations over one SQL aggregate row: the row count against the source's own total
(where its API reports one) or else against the previous night, and the newest record.

Freshness and volume need the whole table, not a sample of it, and they are one aggregate each:
the warehouse computes ``count(*)`` and ``max(<stamp>)`` and GX validates that one-row frame.
The same SQL runs on DuckDB, PostgreSQL, and (in tests) DuckDB over a pandas frame.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import great_expectations.expectations as gxe

ROW_COUNT = "table_row_count"
#: The moment the newest records' age is judged at, when it is not now (ISO 8601): for sources frozen at a known
#: moment, like the sandbox at its clock, or a night replayed later.
AS_OF_VARIABLE = "QUALITY_FRESHNESS_AS_OF"
#: The rows compared with the source's total: all of them, or those not flagged deleted when the total omits those.
SOURCE_COMPARED = "rows_compared_with_source_total"


@dataclass(frozen=True)
class SourceTotal:
    """How many records the source reported for a table's stream at its last sync.

    `excludes` names the column flagging the rows the source's count leaves out (deleted or archived);
    `vanished` the column set on the rows a key reconciliation found gone from the source, which it no longer counts.
    """

    total: int
    excludes: str | None = None
    vanished: str | None = None

    def allowed_difference(self, tolerance: float) -> int:
        """How many rows the table may differ from the total by: `tolerance` of it, rounded up."""
        return math.ceil(self.total * tolerance)

    def describe(self, relation: str, rows: int, tolerance: float) -> str:
        """``raw_salesforce.account has 2990 rows (not is_deleted, no _vanished_at) where the source reports 3000
        (±30 tolerated)``."""
        counted = [f"not {self.excludes}"] * bool(self.excludes) + [f"no {self.vanished}"] * bool(self.vanished)
        scope = f" ({', '.join(counted)})" if counted else ""
        return (f"{relation} has {rows} rows{scope} where the source reports {self.total} "
                f"(±{self.allowed_difference(tolerance)} tolerated)")


def quoted(identifier: str) -> str:
    """A SQL identifier in double quotes, embedded quotes doubled."""
    return '"' + identifier.replace('"', '""') + '"'


def facts_sql(relation: str, stamps: Iterable[str] = (), excludes: str | None = None,
              vanished: str | None = None) -> str:
    """``select count(*) …, max(<stamp>) …`` over `relation`: the row count and the newest value of each stamp.

    Also the rows a source's own total counts, as :data:`SOURCE_COMPARED`: those the boolean column `excludes` does
    not flag and whose `vanished` column (a stamp) is not set, where given.
    """
    newest = "".join(f", max({quoted(column)}) as {quoted(column)}" for column in stamps)
    counted = ([f"not coalesce({quoted(excludes)}, false)"] if excludes else []) + (
        [f"{quoted(vanished)} is null"] if vanished else [])
    kept = f" filter (where {' and '.join(counted)})" if counted else ""
    return f"select count(*) as {ROW_COUNT}{newest}, count(*){kept} as {SOURCE_COMPARED} from {relation}"


def fact_expectations(spec, previous_rows: int | None, now: datetime | None = None,
                      source_total: SourceTotal | None = None) -> list:
    """Newest records within their window; the row count within the tolerance of the source's own total
    where there is one, else no fewer rows than the previous count minus the tolerated drop."""
    now = now or freshness_as_of()
    rules = [gxe.ExpectColumnMaxToBeBetween(column=f.column, min_value=now - f.max_age) for f in spec.freshness]
    if source_total is not None and spec.source_total_tolerance is not None:
        allowed = source_total.allowed_difference(spec.source_total_tolerance)
        rules.append(gxe.ExpectColumnValuesToBeBetween(column=SOURCE_COMPARED, min_value=source_total.total - allowed,
                                                       max_value=source_total.total + allowed))
    elif spec.max_row_drop is not None and previous_rows:
        floor = math.ceil(previous_rows * (1 - spec.max_row_drop))
        rules.append(gxe.ExpectColumnValuesToBeBetween(column=ROW_COUNT, min_value=floor))
    return rules


def freshness_as_of() -> datetime:
    """``QUALITY_FRESHNESS_AS_OF`` when it is set (a moment without a zone is UTC), else now."""
    value = os.environ.get(AS_OF_VARIABLE)
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{AS_OF_VARIABLE} is not an ISO 8601 moment: {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
