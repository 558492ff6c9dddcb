"""Pages read by Arrow's JSON reader straight from the body equal what exact decoding and to_arrow make."""

import json
import random
from dataclasses import replace
from decimal import Decimal

import pyarrow as pa
import pytest

from connectors import pages, schema
from connectors.errors import SourceError
from connectors.hubspot.streams import COMPANIES
from connectors.pages import MAX_REFUSALS, Page, PageDecoder
from connectors.salesforce.streams import ACCOUNT
from sandbox.launcher import running_sandbox
from tests.conftest import salesforce_account, write_dataset
from tests.connectors.test_crm_acceptance import hubspot_client
from tests.connectors.test_salesforce_client import _client
from tests.connectors.test_schema import _POOLS, EVERY_TYPE, _page, _pools

ENVELOPE = {"done": pa.bool_(), "nextRecordsUrl": pa.string()}


def _json(value) -> str:
    """JSON as an API writes it, Decimals as the numbers they are (json.dumps cannot write them)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key)}:{_json(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json(item) for item in value) + "]"
    return json.dumps(value)


def _body(records: list[dict], next_url: str | None = "/next/2") -> bytes:
    return _json({"totalSize": len(records), "done": next_url is None, "nextRecordsUrl": next_url,
                  "records": [{"attributes": {"type": "Thing"}, **record} for record in records]}).encode()


def _rejected(conversion: schema.Conversion) -> list[tuple[str, str]]:
    return [(json.dumps(r.record, default=str, sort_keys=True), r.reason) for r in conversion.rejected]


def _assert_like_python(stream, page: Page, body: bytes) -> None:
    """The page converts to exactly the table (and rejected records) of its body decoded by Python."""
    decoded = json.loads(body, parse_float=Decimal)
    records = decoded["records"]
    for record in records:
        record.pop("attributes")
    reference = schema.convert_by_columns(stream, records)
    conversion = pages.to_arrow(stream, page)
    assert conversion.table.schema == reference.table.schema
    assert conversion.table.equals(reference.table), (conversion.table.to_pylist(), reference.table.to_pylist())
    assert _rejected(conversion) == _rejected(reference)
    assert page.envelope == {"done": decoded["done"], "nextRecordsUrl": decoded["nextRecordsUrl"]}
    assert list(page) == records  # read as a sequence: the records exact decoding gives, without "attributes"


def _arrow_read_pools(r, stream) -> dict[str, list]:
    """Pools of wire encodings the Arrow reading takes (text, or the column's own JSON type), one per field."""
    pools = _pools(r)
    for spec in stream.fields:
        pools[spec.source] = r.choice([pool for pool in _POOLS[spec.type] if _arrow_reads(pool, spec.type)])
    return pools


def _arrow_reads(pool: list, type_name: str) -> bool:
    try:
        return schema._leaf_type(pa.array(pool).type, type_name) is not None
    except pa.ArrowInvalid:  # values of mixed JSON types
        return False


@pytest.mark.parametrize("malformed", [False, True])
def test_random_bodies_read_by_arrow_equal_python_decoding(malformed):
    by_arrow = 0
    for seed in range(8):
        r = random.Random(seed + 100 * malformed)
        # A stream of its own (no types known yet), without the micros column and the object kept as JSON: those
        # need Python values (JSON lists of text Arrow writes itself).
        stream = replace(EVERY_TYPE, name=f"every_type_pages_{seed}_{malformed}",
                         fields=tuple(f for f in EVERY_TYPE.fields if f.type != "micros" and f.source != "Address"))
        for number in range(60):
            if number % 10 == 0:  # a new read, and every field's wire encoding changes, to any encoding at all
                pools = _pools(r) if number % 20 else _arrow_read_pools(r, stream)
                decode = PageDecoder(stream, "records", ENVELOPE, dropped=("attributes",))
            size = r.choice([1, 2, 5, 30, 200])
            body = _body(_page(r, size, malformed, pools), None if number % 7 == 6 else "/next")
            page = decode(body)
            by_arrow += page.conversion is not None
            _assert_like_python(stream, page, body)
    if not malformed:  # a malformed record always takes Python's way; the comparisons above covered Arrow's too
        assert by_arrow >= 10


def test_a_body_arrow_refuses_is_decoded_by_python_with_the_same_result():
    stream = replace(ACCOUNT, name="account_pages_quirks")
    decode = PageDecoder(stream, "records", ENVELOPE, dropped=("attributes",))
    good = {"Id": "001A", "Name": "Acme", "AnnualRevenue": Decimal("1000.5"), "NumberOfEmployees": 12,
            "SystemModstamp": "2026-01-01T00:00:00.000+0000", "IsDeleted": False}
    first = _body([good])
    assert decode(first).conversion is None  # the first page shows the types
    pages.to_arrow(stream, decode(first))
    assert decode(_body([good, {**good, "Id": "001B"}])).conversion is not None
    quirks = [
        [{**good, "NumberOfEmployees": Decimal("12.0")}],  # a whole number written with a point
        [{**good, "AnnualRevenue": Decimal("0.12345678901")}],  # more places than the column keeps: rounded
        [{**good, "Id": None}],  # no primary key: quarantined with the reason
        [{**good, "Name": 12}],  # a number where text was seen
        [{**good, "AnnualRevenue": Decimal("1E+400")}],  # too large for any column
    ]
    for records in quirks:
        body = _body(records)
        page = decode(body)
        assert page.conversion is None, records
        _assert_like_python(stream, page, body)
    twice = _body([good]).replace(b'"Name":"Acme"', b'"Name":"Acme","Name":"Acme Corp"')
    page = decode(twice)
    assert page.conversion is None and page[0]["Name"] == "Acme Corp"  # a key given twice: the last one, as before
    with pytest.raises(json.JSONDecodeError):  # a body cut off mid-way: the HTTP client asks for it again
        decode(_body([good])[:-5])
    assert decode.refusals == MAX_REFUSALS and decode(first).conversion is None  # this read stopped trying Arrow
    with pytest.raises(SourceError, match="account_pages_quirks: expected a JSON object, got list"):
        decode(b"[]")
    with pytest.raises(SourceError, match="account_pages_quirks: a response without its list of records"):
        list(decode(b'{"done": true}'))


def _read_as_the_loader_does(pages_read) -> list[tuple[bool, pa.Table, list[dict]]]:
    """Each page converted as it arrives (the first one sets the stream's types), whether Arrow read it, and its
    records read as a sequence (decoded again, exactly, by Python)."""
    return [(page.conversion is not None, pages.to_arrow(stream, page).table, list(page))
            for stream, page in pages_read]


def _assert_read_by_arrow_after_the_first(stream, read, rows: int) -> None:
    assert [by_arrow for by_arrow, _, _ in read] == [False] + [True] * (len(read) - 1) and len(read) > 1
    for _, table, records in read:
        assert table.equals(schema.convert_by_columns(stream, records).table)
    assert sum(table.num_rows for _, table, _ in read) == rows


def test_salesforce_pages_after_the_first_are_read_by_arrow_and_equal_python(tmp_path):
    accounts = [salesforce_account(n, IsDeleted=n % 500 == 0) for n in range(5000)]
    stream = replace(ACCOUNT, name="account_pages_sandbox")
    with running_sandbox(dataset=write_dataset(tmp_path, {("salesforce", "Account"): accounts})) as sandbox:
        client = _client(sandbox.url)
        read = _read_as_the_loader_does((stream, page) for page in client.read_pages(stream))
    _assert_read_by_arrow_after_the_first(stream, read, len(accounts))


def test_hubspot_list_pages_after_the_first_are_read_by_arrow_and_equal_python(sandbox):
    stream = replace(COMPANIES, name="companies_pages_sandbox")
    client = hubspot_client(sandbox.url)
    read = _read_as_the_loader_does((stream, page) for page in client.read_pages(stream))
    expected = sandbox.stats()["records"]["hubspot/companies"]
    _assert_read_by_arrow_after_the_first(stream, read, expected)


def test_a_stream_with_fields_the_client_adds_is_never_read_by_arrow_without_its_stamp():
    tags = schema.Field("tags", "_tags", "json")
    stream = replace(ACCOUNT, name="account_pages_added", fields=(*ACCOUNT.fields, tags))
    decode = PageDecoder(stream, "records", ENVELOPE, dropped=("attributes",))
    good = {"Id": "001A", "Name": "Acme", "AnnualRevenue": Decimal("1000.5"), "NumberOfEmployees": 12,
            "SystemModstamp": "2026-01-01T00:00:00.000+0000", "IsDeleted": False}
    records = [{**good, "_tags": ["a"]}]  # merged in by the client after decoding (as HubSpot's associations are)
    pages.to_arrow(stream, records)  # the plan now holds every field, "_tags" included
    assert schema.wire_type(stream) is not None
    assert decode(_body([good, {**good, "Id": "001B"}])).conversion is None  # the body alone lacks "_tags"
