"""Reads of the DuckDB warehouse: through Arrow, with the pandas types DuckDB's own ``.df()`` gives."""

import duckdb
import pandas as pd

from pipelines.lib.warehouse import WarehouseResource

ROWS = """
select * from (values
    (1, 'a1', 12.345::decimal(18, 3), date '2026-01-05', timestamp '2026-01-05 10:00',
     timestamptz '2026-01-05 10:00+00', true, 2.5::double),
    (2, null, null, null, null, null, null, null),
    (3, 'ü', -0.001::decimal(18, 3), date '1999-12-31', timestamp '1999-12-31 23:59:59',
     timestamptz '1999-12-31 23:59:59+00', false, -1e300::double)
) as t(id, name, amount, day, local_time, utc_time, flag, ratio)
"""


def test_a_read_gives_the_frame_duckdb_df_gives(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(f"create table rows as {ROWS}")
        expected = connection.execute("select * from rows order by id").df()

    frame = WarehouseResource(duckdb_path=str(path)).query("select * from rows where id > ? order by id", [0])

    pd.testing.assert_frame_equal(frame, expected)
    assert frame["amount"].dtype == "float64"
    assert pd.api.types.is_datetime64_any_dtype(frame["day"])


def test_integers_and_booleans_with_nulls_read_as_nullable_types_and_without_as_numpy(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create table rows as select * from (values (1, 1::tinyint, 1::utinyint, true, 7), "
                           "(null, null, null, null, 8)) as t(a, b, c, d, e)")
        expected = connection.execute("select * from rows").df()

    frame = WarehouseResource(duckdb_path=str(path)).query("select * from rows")

    pd.testing.assert_frame_equal(frame, expected)
    assert [str(dtype) for dtype in frame.dtypes] == ["Int32", "Int8", "UInt8", "boolean", "int32"]


def test_two_columns_of_the_same_name_keep_their_own_values(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create table rows as select * from (values (1, 10), (null, 20)) as t(a, b)")

    frame = WarehouseResource(duckdb_path=str(path)).query("select a as x, b as x from rows order by b")

    assert list(frame.iloc[:, 1]) == [10, 20]
    assert frame.iloc[0, 0] == 1 and pd.isna(frame.iloc[1, 0])
    assert [str(dtype) for dtype in frame.dtypes] == ["Int32", "int32"]


def test_reads_run_under_a_memory_limit_and_still_return_more_than_it(tmp_path):
    # Without a limit, DuckDB's buffer pool kept every block the checks scanned (reading the marts as the checks
    # do at M size peaked at 927 MB; 681 MB with the limit).
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create table wide as select range as id, repeat('x', 200) || range as text "
                           "from range(2000000)")
    warehouse = WarehouseResource(duckdb_path=str(path))
    with warehouse.reading() as query:
        assert query("select current_setting('memory_limit') as limit_").iloc[0, 0] == "244.1 MiB"
        frame = query("select * from wide")
    assert len(frame) == 2_000_000 and frame["text"].str.len().sum() > 400_000_000
