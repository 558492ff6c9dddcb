"""Hostile field names (acceptance b8-9): every discovered field gets a column of its own, and the load takes them all.

Field names that differ only in case or in characters the warehouse's naming drops (``FooBar__c`` and
``Foo_Bar__c``, ``Größe`` and ``Grüße``), quotes, semicolons, SQL keywords, names past PostgreSQL's 63
bytes, and names of the loader's own columns: each field's values land in a column of its own.
"""

import hashlib
import itertools
import json
import random
from dataclasses import replace

import duckdb
import pyarrow as pa
import pytest

from connectors import naming
from connectors.naming import snake_case
from connectors.pages import PageDecoder
from connectors.salesforce.streams import ACCOUNT
from connectors.schema import Field
from pipelines.lib.raw_loader import LOAD_COLUMNS, load_streams
from tests.conftest import salesforce_account

#: Custom fields a Salesforce describe could report for Account, the hostile names of acceptance test b8-9.
HOSTILE = (
    "FooBar__c", "Foo_Bar__c",  # one snake_case name
    "Owner_Id",  # the snake_case name of a declared field (OwnerId)
    "Größe__c", "Grüße__c", "名前__c",  # unicode, which the warehouse's naming drops
    'Say "hi"; DROP TABLE account;--', "with space", "with_space",  # quotes, semicolons, spaces
    "select", "from", "9lives", "trailing_",  # SQL keywords, a leading digit, a trailing underscore
    "A" * 150 + "x" + "A" * 150, "A" * 150 + "y" + "A" * 150,  # past 63 bytes, alike but in the middle
)
#: Names of the columns the loader and dlt add to every row (a source may use them too, HubSpot or LinkedIn).
LOADER_NAMES = ("_run_id", "_dlt_load_id", "_loaded_at")
#: The fields beside the records of a ``queryAll`` answer that the Salesforce client reads.
ENVELOPE = {"done": pa.bool_(), "nextRecordsUrl": pa.string()}


@pytest.fixture(scope="module")
def dlt_naming():
    """dlt's snake_case naming, as the loader's DuckDB (no length limit) and PostgreSQL (63) destinations use it.

    Imported here, after :mod:`pipelines.lib.raw_loader`, which sets dlt's settings before it imports dlt.
    """
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    return {"duckdb": NamingConvention(max_length=65536), "postgres": NamingConvention(max_length=63)}


def _extra(names) -> list[Field]:
    """The fields a Salesforce discover makes of described field names."""
    return [Field(snake_case(name), name) for name in names]


def _random_names(seed: int, count: int) -> list[str]:
    r = random.Random(seed)
    alphabet = "aAbB_zZ09 .-+*@|\"';éßü名_" + "_" * 5
    return ["".join(r.choice(alphabet) for _ in range(r.choice([1, 2, 5, 20, 70, 200]))) for _ in range(count)]


# --- the naming rule ------------------------------------------------------------------------------------------


def test_warehouse_names_are_what_dlt_writes_and_dlt_leaves_them_as_they_are(dlt_naming):
    names = [snake_case(name) for name in (*HOSTILE, *LOADER_NAMES, *_random_names(1, 3000))]
    names = [name for name in names if name.strip()]  # dlt refuses a blank name; no API has one
    written_by_dlt = 0
    for name in names:
        column = naming.warehouse_name(name)
        by_dlt = dlt_naming["postgres"].normalize_path(name)
        if dlt_naming["postgres"].normalize_path(by_dlt) == by_dlt:  # not one of the long names dlt cuts badly
            assert column == by_dlt, name
            written_by_dlt += 1
        assert len(column) <= naming.MAX_COLUMN_LENGTH
        for convention in dlt_naming.values():
            assert convention.normalize_path(column) == column, name
    assert written_by_dlt > 0.95 * len(names)
    assert naming.warehouse_name('say "hi"; drop table account;--') == "say_hi_drop_table_accountxxx"


def test_colliding_fields_get_the_hash_of_their_own_source_name_and_declared_ones_keep_theirs():
    stream = ACCOUNT.with_fields(_extra(["FooBar__c", "Foo_Bar__c", "Owner_Id", "Plain__c"]))
    columns = {f.source: f.column for f in stream.fields}
    assert columns["OwnerId"] == "owner_id"  # declared: unchanged
    assert columns["Owner_Id"] == "owner_id_" + hashlib.sha1(b"Owner_Id").hexdigest()[:6]
    assert columns["FooBar__c"] == "foo_bar__c_" + hashlib.sha1(b"FooBar__c").hexdigest()[:6]
    assert columns["Foo_Bar__c"] == "foo_bar__c_" + hashlib.sha1(b"Foo_Bar__c").hexdigest()[:6]
    assert columns["Plain__c"] == "plain__c"  # collides with nothing: the name it always had


def test_every_field_gets_a_distinct_column_whatever_order_the_source_lists_them_in(dlt_naming):
    names = [*HOSTILE, *LOADER_NAMES, *_random_names(2, 300)]
    first = ACCOUNT.with_fields(_extra(names))
    columns = [f.column for f in first.fields]
    assert len(set(columns)) == len(columns) == len(ACCOUNT.fields) + len(set(names))
    assert not set(columns) & {field.name for field in LOAD_COLUMNS}
    assert all(len(column) <= naming.MAX_COLUMN_LENGTH for column in columns)
    assert all(dlt_naming["postgres"].normalize_path(column) == column for column in columns)
    by_source = {f.source: f.column for f in first.fields}
    for seed in range(5):
        shuffled = list(names)
        random.Random(seed).shuffle(shuffled)
        assert {f.source: f.column for f in ACCOUNT.with_fields(_extra(shuffled)).fields} == by_source


def test_a_field_the_stream_already_reads_is_not_added_again():
    again = ACCOUNT.with_fields([Field("owner_id", "OwnerId"), Field("other", "OwnerId"), *_extra(["X__c"] * 2)])
    assert [f.source for f in again.fields] == [*(f.source for f in ACCOUNT.fields), "X__c"]
    assert again.with_fields(_extra(["X__c"])) == again


def test_a_hashed_name_that_is_taken_gets_more_digits():
    digest = hashlib.sha1(b"A").hexdigest()
    columns = naming.distinct_columns(["a", f"a_{digest[:6]}"], {"A": "a"})
    assert columns == {"A": f"a_{digest[:8]}"}


def test_a_collision_renames_only_the_fields_that_collide():
    """The documented trade-off: a field that comes to collide moves to its hashed column; the others stay."""
    before = naming.distinct_columns(["id"], {"FooBar__c": "foo_bar__c", "Other__c": "other__c"})
    after = naming.distinct_columns(["id"], {"FooBar__c": "foo_bar__c", "Other__c": "other__c",
                                             "Foo_Bar__c": "foo_bar__c"})
    assert before == {"FooBar__c": "foo_bar__c", "Other__c": "other__c"}
    assert after["Other__c"] == "other__c"
    assert after["FooBar__c"] == "foo_bar__c_" + hashlib.sha1(b"FooBar__c").hexdigest()[:6]


# --- the load -------------------------------------------------------------------------------------------------


def _body(records: list[dict], last: bool) -> bytes:
    """A ``queryAll`` answer as Salesforce writes it."""
    return json.dumps({"totalSize": len(records), "done": last, "nextRecordsUrl": None if last else "/next",
                       "records": [{"attributes": {"type": "Account"}, **record} for record in records]},
                      ensure_ascii=False).encode()


def _night(names, night: int, pages: int = 3, size: int = 40):
    """A page reader serving every field of `names` a value naming the field, the record and the night, and the
    records it serves; the pages it decoded by Arrow's JSON reader are counted in its ``by_arrow`` list.

    The pages are decoded from bodies the way the Salesforce client decodes them (the first by Python, the next
    ones by Arrow's JSON reader once the first showed the types, when the stream allows).
    """
    records = [salesforce_account(n, **{name: f"{name}|{n}|{night}" for name in names}) for n in range(pages * size)]

    def read_pages(read, _since):
        decode = PageDecoder(read, "records", ENVELOPE, dropped=("attributes",))
        for start in range(0, len(records), size):
            page = decode(_body(records[start:start + size], start + size >= len(records)))
            read_pages.by_arrow.append(page.conversion is not None)
            yield page

    read_pages.by_arrow = []
    return read_pages, records


def _load(tmp_path, stream, names, night: int) -> tuple[list[dict], list[bool]]:
    """Load a night of `stream` serving `names`: the records served, and which pages Arrow's JSON reader read."""
    read_pages, records = _night(names, night)
    load = load_streams("salesforce", [stream], read_pages, str(tmp_path / "warehouse.duckdb"), tmp_path / "dlt",
                        f"run-{night}")[stream.name]
    assert (load.rows, load.quarantined) == (len(records), 0)
    return records, read_pages.by_arrow


def _table(tmp_path, stream) -> dict[str, dict[str, object]]:
    """Every row of the stream's table by id, as {column: value}."""
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as connection:
        cursor = connection.execute(f'select * from raw_salesforce."{stream.name}"')
        names = [column[0] for column in cursor.description]
        return {row[names.index("id")]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _assert_loaded(tmp_path, stream, names, records) -> None:
    """Every record is a row, and every field of `names` holds the record's value in its own column."""
    rows = _table(tmp_path, stream)
    columns = {f.source: f.column for f in stream.fields}
    assert len(rows) == len(records)
    for record in records:
        row = rows[record["Id"]]
        assert {name: row[columns[name]] for name in names} == {name: record[name] for name in names}
        assert row["owner_id"] == record["OwnerId"]  # the declared field beside its look-alike "Owner_Id"


def test_hostile_field_names_each_load_into_a_column_of_their_own_night_after_night(tmp_path):
    first = replace(ACCOUNT, name="account_hostile").with_fields(_extra(HOSTILE))
    records, by_arrow = _load(tmp_path, first, HOSTILE, night=1)
    assert by_arrow == [False, True, True]  # the hostile keys went through Arrow's JSON reader too
    _assert_loaded(tmp_path, first, HOSTILE, records)

    # The next night describe lists the fields in another order: the same columns, and the merge takes the new values.
    second = replace(ACCOUNT, name="account_hostile").with_fields(_extra(reversed(HOSTILE)))
    assert second.fields == first.fields[:len(ACCOUNT.fields)] + tuple(reversed(first.fields[len(ACCOUNT.fields):]))
    records, _ = _load(tmp_path, second, HOSTILE, night=2)
    assert all(r[name].endswith("|2") for r, name in itertools.product(records, HOSTILE))
    _assert_loaded(tmp_path, second, HOSTILE, records)


def test_fields_named_like_the_loaders_own_columns_load_beside_them(tmp_path):
    names = (*HOSTILE, *LOADER_NAMES)
    stream = replace(ACCOUNT, name="account_loader_names").with_fields(_extra(names))
    records, _ = _load(tmp_path, stream, names, night=1)
    _assert_loaded(tmp_path, stream, names, records)
    assert {row["_run_id"] for row in _table(tmp_path, stream).values()} == {"run-1"}
