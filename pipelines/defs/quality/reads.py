"""What a suite reads from the warehouse: only the columns it checks, a sample of a very large table (or, after a
night's load into a table that had rows before, every row that load wrote and a small sample of the earlier
ones), and one aggregate row for freshness and volume. The same SQL serves DuckDB and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from expectations.table_facts import facts_sql, quoted

SAMPLE_SEED = 7
#: The column of a raw table naming the Dagster run that loaded each row (pipelines/lib/raw_loader.py).
RUN_COLUMN = "_run_id"
#: Next to the rows a run loaded, earlier rows are validated on a sample this share of `sample_rows` (20,000 by
#: default): they were validated when they were loaded, and the sample still shows them a rule added since.
EARLIER_ROWS_SHARE = 0.1


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
        frame = self.query("select column_name from information_schema.columns "
                           f"where table_schema = {self._mark} and table_name = {self._mark} order by ordinal_position",
                           [self.schema, self.table])
        return list(frame["column_name"])

    def facts(self, stamps: Iterable[str], excludes: str | None = None, vanished: str | None = None) -> pd.DataFrame:
        """One row: the table's row count, the newest value of each of its `stamps`, and the rows neither
        flagged by the `excludes` column nor stamped `vanished` (what a source's own total counts)."""
        return self.query(facts_sql(self.relation, stamps, excludes, vanished))

    def rows_loaded_by(self, run_id: str) -> int:
        """How many rows of the table the run `run_id` loaded (stamped in :data:`RUN_COLUMN`)."""
        frame = self.query(f"select count(*) as loaded from {self.relation} where {quoted(RUN_COLUMN)} = {self._mark}",
                           [run_id])
        return int(frame.iloc[0]["loaded"])

    def rows(self, columns: list[str], row_count: int, sample_rows: int) -> pd.DataFrame:
        """The `columns` of every row, or of a repeatable random sample of about `sample_rows` rows when more."""
        return self.query(self._select(columns, sample_rows, row_count))

    def rows_of_run(self, columns: list[str], run_id: str, loaded: int, row_count: int,
                    sample_rows: int) -> pd.DataFrame:
        """The `columns` of the `loaded` rows the run `run_id` loaded (a sample of about `sample_rows` of them when
        more), and of a sample of about ``EARLIER_ROWS_SHARE * sample_rows`` of the earlier rows."""
        run = quoted(RUN_COLUMN)
        of_run = self._select(columns, sample_rows, loaded, f"{run} = {self._mark}")
        earlier = min(max(int(sample_rows * EARLIER_ROWS_SHARE), 1), row_count - loaded)
        if earlier <= 0:
            return self.query(of_run, [run_id])
        before = self._select(columns, earlier, row_count - loaded, f"{run} is distinct from {self._mark}")
        return self.query(f"{of_run} union all {before}", [run_id, run_id])

    @property
    def _mark(self) -> str:
        return "%s" if self.postgres else "?"

    def _select(self, columns: list[str], sample_rows: int, row_count: int, where: str | None = None) -> str:
        """``select <columns>`` of the rows `where` holds (`row_count` of them), every one, or each with probability
        `sample_rows` / `row_count` when fewer are asked for."""
        selected = ", ".join(quoted(column) for column in columns) or "1 as no_columns"
        condition = f" where {where}" if where else ""
        if not 0 < sample_rows < row_count:
            return f"select {selected} from {self.relation}{condition}"
        # Each row is kept with the same probability, independently (Bernoulli): a fault in 1 row in k is missed
        # with probability about e^(-sample_rows / k), as with a fixed-size sample, and DuckDB draws it 3-5x faster
        # than a reservoir of exactly sample_rows rows. Independent draws make it the same whether a row is drawn
        # before or after the condition is applied.
        percent = 100.0 * sample_rows / row_count
        if self.postgres:
            return (f"select {selected} from {self.relation} tablesample bernoulli ({percent:.6f}) "
                    f"repeatable ({SAMPLE_SEED}){condition}")
        return (f"select {selected} from {self.relation}{condition} "
                f"using sample {percent:.6f}% (bernoulli, {SAMPLE_SEED})")
