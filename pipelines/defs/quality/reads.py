"""What a suite reads from the warehouse: only the columns it checks, a sample of a very large table,
and one aggregate row for freshness and volume. The same SQL serves DuckDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from expectations.table_facts import facts_sql, quoted

SAMPLE_SEED = 7


@dataclass(frozen=True)
class TableReader:
    """Reads one warehouse table through an open connection (`query` from `WarehouseResource.reading`)."""

    query: Callable[..., pd.DataFrame]
    postgres: bool
    schema: str
    table: str

    @property
    def relation(self) -> str:
        """The quoted ``"schema"."table"``."""
        return f"{quoted(self.schema)}.{quoted(self.table)}"

    def columns(self) -> list[str]:
        """The table's columns in order; empty when the table does not exist."""
        mark = "%s" if self.postgres else "?"
        frame = self.query("select column_name from information_schema.columns "
                           f"where table_schema = {mark} and table_name = {mark} order by ordinal_position",
                           [self.schema, self.table])
        return list(frame["column_name"])

    def facts(self, stamps: Iterable[str], excludes: str | None = None) -> pd.DataFrame:
        """One row: the table's row count, the newest value of each of its `stamps`, and the rows not
        flagged by the `excludes` column (what a source's own total counts)."""
        return self.query(facts_sql(self.relation, stamps, excludes))

    def rows(self, columns: list[str], row_count: int, sample_rows: int) -> pd.DataFrame:
        """The `columns` of every row, or of a repeatable random sample of about `sample_rows` rows when more."""
        selected = ", ".join(quoted(column) for column in columns) or "1 as no_columns"
        if not 0 < sample_rows < row_count:
            return self.query(f"select {selected} from {self.relation}")
        # Each row is kept with the same probability, independently (Bernoulli): a fault in 1 row in k is missed
        # with probability about e^(-sample_rows / k), as with a fixed-size sample, and DuckDB draws it 3-5x faster
        # than a reservoir of exactly sample_rows rows.
        percent = 100.0 * sample_rows / row_count
        sample = (f"tablesample bernoulli ({percent:.6f}) repeatable ({SAMPLE_SEED})" if self.postgres
                  else f"using sample {percent:.6f}% (bernoulli, {SAMPLE_SEED})")
        return self.query(f"select {selected} from {self.relation} {sample}")
