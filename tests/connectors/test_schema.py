"""Arrow conversion of raw pages: declared types, exact money, UTC timestamps, bad records set aside."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from connectors.schema import Field, Stream, to_arrow

STREAM = Stream(
    name="things",
    primary_key="id",
    cursor="Modified",
    fields=(
        Field("id", "Id"),
        Field("amount", "Amount", "decimal"),
        Field("modified_at", "Modified", "timestamp"),
        Field("count", "Count", "int"),
        Field("is_active", "Active", "bool"),
        Field("close_date", "Close", "date"),
        Field("city", "Address.city"),
    ),
)


def test_types_follow_the_declaration_whatever_the_wire_encoding():
    records = [
        {"Id": "a", "Amount": Decimal("48500000.10"), "Modified": "2024-05-01T09:12:55.000+0000", "Count": 3,
         "Active": True, "Close": "2024-06-28", "Address": {"city": "München"}},
        {"Id": "b", "Amount": "107.5300000000000335346", "Modified": "2024-05-02T17:45:03.112Z", "Count": "4",
         "Active": "false", "Close": None, "Address": None},
        {"Id": "c", "Amount": None, "Modified": 1714550400000, "Count": None, "Active": None, "Close": None},
    ]
    conversion = to_arrow(STREAM, records)
    assert conversion.rejected == []
    assert conversion.table.schema == STREAM.arrow_schema
    rows = conversion.table.to_pylist()
    assert rows[0]["amount"] == Decimal("48500000.100000000")
    assert rows[1]["amount"] == Decimal("107.530000000")
    assert rows[0]["modified_at"] == datetime(2024, 5, 1, 9, 12, 55, tzinfo=UTC)
    assert rows[1]["modified_at"] == datetime(2024, 5, 2, 17, 45, 3, 112000, tzinfo=UTC)
    assert rows[2]["modified_at"] == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert [r["count"] for r in rows] == [3, 4, None]
    assert [r["is_active"] for r in rows] == [True, False, None]
    assert rows[0]["close_date"] == date(2024, 6, 28)
    assert [r["city"] for r in rows] == ["München", None, None]


def test_bad_records_are_rejected_with_the_field_and_the_rest_kept():
    good = {"Id": "ok", "Amount": "1.00", "Modified": "2024-05-01T00:00:00Z", "Count": 1}
    bad_amount = {"Id": "bad-amount", "Amount": "twelve", "Modified": "2024-05-01T00:00:00Z"}
    bad_stamp = {"Id": "bad-stamp", "Amount": "2.00", "Modified": "yesterday"}
    no_key = {"Id": None, "Amount": "3.00", "Modified": "2024-05-01T00:00:00Z"}
    conversion = to_arrow(STREAM, [good, bad_amount, bad_stamp, no_key])
    assert conversion.table.column("id").to_pylist() == ["ok"]
    reasons = {r.record["Id"]: r.reason for r in conversion.rejected}
    assert reasons == {
        "bad-amount": "field Amount: 'twelve' is not a valid decimal",
        "bad-stamp": "field Modified: 'yesterday' is not a valid timestamp",
        None: "primary key id is missing",
    }


def test_an_empty_page_is_an_empty_table():
    conversion = to_arrow(STREAM, [])
    assert conversion.table.num_rows == 0
    assert conversion.table.schema == STREAM.arrow_schema


def test_declarations_are_validated():
    with pytest.raises(ValueError, match="primary key 'nope'"):
        Stream(name="s", primary_key="nope", fields=(Field("id", "Id"),))
    with pytest.raises(ValueError, match="cursor 'Stamp'"):
        Stream(name="s", primary_key="id", cursor="Stamp", fields=(Field("id", "Id"),))
    with pytest.raises(ValueError, match="unknown type 'money'"):
        Field("x", "X", "money")


def test_primary_key_column_is_not_nullable():
    assert STREAM.arrow_schema.field("id").nullable is False
    assert STREAM.arrow_schema.field("amount").type == pa.decimal128(38, 9)


def test_a_record_whose_nested_object_is_not_an_object_is_rejected():
    stream = Stream(name="contacts", primary_key="id",
                    fields=(Field("id", "id"), Field("email", "properties.email")))
    records = [{"id": "1", "properties": {"email": "a@b.co"}}, {"id": "2", "properties": "garbled"},
               {"id": "3", "properties": None}]
    conversion = to_arrow(stream, records)
    assert conversion.table.to_pylist() == [{"id": "1", "email": "a@b.co"}, {"id": "3", "email": None}]
    (rejected,) = conversion.rejected
    assert rejected.record["id"] == "2"
    assert "expected an object before 'email'" in rejected.reason


def test_micros_become_exact_decimals_and_bad_ones_are_rejected():
    stream = Stream(name="spend", primary_key="id", fields=(Field("id", "id"), Field("cost", "costMicros", "micros")))
    records = [{"id": "a", "costMicros": "142730000"}, {"id": "b", "costMicros": 1}, {"id": "c", "costMicros": "0"},
               {"id": "d", "costMicros": "-2500000"}, {"id": "e", "costMicros": None},
               {"id": "f", "costMicros": "12.5e"}, {"id": "g", "costMicros": 1.5}]
    conversion = to_arrow(stream, records)
    assert conversion.table.column("cost").to_pylist() == [
        Decimal("142.73"), Decimal("0.000001"), Decimal("0"), Decimal("-2.5"), None,
    ]
    assert [r.record["id"] for r in conversion.rejected] == ["f", "g"]
