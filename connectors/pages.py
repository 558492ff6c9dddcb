"""A page of a list endpoint read by Arrow's JSON reader straight from the body, when the stream allows.

Decoding a body into Python objects and converting those to Arrow is most of a sync's client
CPU, and it holds the interpreter lock, so the loader waits while it runs. Once a stream's
first page has shown the types of its fields (:func:`connectors.schema.wire_type`), Arrow's C++
JSON reader parses the next bodies of that stream into the same typed records directly, with the
lock released. It is strict where Python is lenient (``1.0`` in an integer field, a key given
twice, more decimal places than the column keeps): any body it refuses, and any page whose
columns or records need the Python values, is decoded exactly as before. So the table is the
one :func:`connectors.schema.to_arrow` makes from the Python records, and only faster.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from connectors.errors import SourceError
from connectors.http import exact_json
from connectors.schema import Conversion, Stream, from_wire, wire_type
from connectors.schema import to_arrow as records_to_arrow


class Stamp(Protocol):
    """What a client adds to every record it reads (an ad row's key, day, currency...), both ways.

    `sources` are the top-level fields it adds; `reads` the body's fields it needs beyond the
    stream's own, with their types. `record` stamps one decoded record in place and returns it;
    `columns` gives the added fields of a page Arrow read, and any top-level field of the body it
    changes, None when the page needs Python's way (a record the stamp could not complete is
    quarantined there, with its reason).
    """

    sources: frozenset[str]
    reads: dict[str, pa.DataType]

    def record(self, record: dict) -> dict: ...

    def columns(self, records: pa.StructArray) -> dict[str, pa.Array] | None: ...


@dataclass(eq=False)
class Page(Sequence[dict]):
    """One page's records, and the fields beside them in the body (`envelope`) that the client pages with.

    Read as a sequence it is the records as exact JSON decoding gives them, without `dropped`
    keys and with the client's `stamp` (decoded on first use when Arrow read the body).
    `conversion` is the page as Arrow read it, None when it was decoded by Python; `converted`,
    the page as its decoded records convert, when the decoder converted them at once. A `batched`
    body is a JSON array of parts, each with its share of the records (Google's ``searchStream``).
    """

    stream: Stream = field(repr=False)
    body: bytes
    records_key: str
    envelope: dict[str, object]
    dropped: tuple[str, ...] = ()
    conversion: Conversion | None = None
    decoded: dict | list | None = field(default=None, repr=False)
    stamp: Stamp | None = field(default=None, repr=False)
    batched: bool = False
    converted: Conversion | None = field(default=None, repr=False)

    @cached_property
    def records(self) -> list[dict]:
        """The records as exact JSON decoding gives them."""
        body = self.decoded if self.decoded is not None else exact_json(self.body)
        records = _records_in(body, self.records_key, self.batched)
        if records is None:
            raise SourceError(f"{self.stream.name}: a response without its list of records ({self.records_key!r})")
        for record in records:
            for key in self.dropped:
                record.pop(key, None)
        if self.stamp is not None:
            records = [self.stamp.record(record) for record in records]
        return records

    def __getitem__(self, index):
        return self.records[index]

    def __len__(self) -> int:
        return len(self.conversion.table) if self.conversion is not None else len(self.records)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.records)


def _records_in(body: object, records_key: str, batched: bool) -> list | None:
    """The records of a decoded body (every part's, in order, when `batched`); None when it holds no such list.

    A part without the key holds no records: ``searchStream`` leaves ``results`` out of an empty answer.
    """
    if not batched:
        records = body.get(records_key) if isinstance(body, dict) else None
        return records if isinstance(records, list) else None
    if not isinstance(body, list):
        return None
    parts = [part.get(records_key, []) if isinstance(part, dict) else None for part in body]
    if not all(isinstance(part, list) for part in parts):
        return None
    return [record for part in parts for record in part]


#: The field a batched body's parts are read under (Arrow's JSON reader reads objects, not arrays).
_PARTS = "parts"
#: Bodies in a row Arrow may refuse before a read stops trying (each refusal costs a parse on top of Python's).
MAX_REFUSALS = 3


@dataclass
class PageDecoder:
    """Decodes the bodies of one read of a stream's list endpoint into :class:`Page` (an `HttpClient` ``decode``).

    `envelope` names the top-level fields beside the records the client reads, with their types
    (none for a `batched` body, see :class:`Page`); `stamp`, what the client adds to every record.
    """

    stream: Stream
    records_key: str
    envelope: dict[str, pa.DataType]
    dropped: tuple[str, ...] = ()
    stamp: Stamp | None = None
    batched: bool = False
    refusals: int = 0

    def __post_init__(self) -> None:
        if self.batched and self.envelope:
            raise ValueError(f"{self.stream.name}: a batched body has no envelope beside its parts")

    def __call__(self, body: bytes) -> Page:
        """The body as a page, read by Arrow when the stream's types are known and the body fits them."""
        by_arrow = self.refusals < MAX_REFUSALS and self._body_holds_every_field
        record_type = wire_type(self.stream) if by_arrow else None
        if record_type is not None:
            page = self._read_by_arrow(body, record_type)
            self.refusals = 0 if page is not None else self.refusals + 1
            if page is not None:
                return page
        decoded = exact_json(body)  # a body cut off mid-way raises here, and the client asks for it again
        if not isinstance(decoded, list if self.batched else dict):
            raise SourceError(f"{self.stream.name}: expected a JSON {'array' if self.batched else 'object'}, "
                              f"got {type(decoded).__name__}")
        page = Page(self.stream, body, self.records_key, {key: decoded.get(key) for key in self.envelope},
                    self.dropped, decoded=decoded, stamp=self.stamp, batched=self.batched)
        if record_type is None and self._body_holds_every_field:
            # Converted now rather than when the loader takes it, so the stream's types are known for the next
            # body: the bodies of a chunk read whole (see connectors.ad_metrics.read_in_chunks) are then Arrow's.
            page.converted = records_to_arrow(self.stream, page.records)
        return page

    @cached_property
    def _body_holds_every_field(self) -> bool:
        """Whether the body alone makes the records: fields a client adds after decoding (sources starting with
        ``_``, such as HubSpot's merged associations) come from the `stamp` or the records must be decoded."""
        stamped = self.stamp.sources if self.stamp is not None else frozenset()
        return all(not spec.source.startswith("_") or spec.source.split(".", 1)[0] in stamped
                   for spec in self.stream.fields)

    def _read_by_arrow(self, body: bytes, record_type: pa.StructType) -> Page | None:
        read_type = record_type
        if self.stamp is not None:
            read_type = pa.struct([*(f for f in record_type if f.name not in self.stamp.sources),
                                   *(pa.field(name, type_) for name, type_ in self.stamp.reads.items()
                                     if record_type.get_field_index(name) < 0)])
        records_field = (self.records_key, pa.list_(read_type))
        expected = pa.schema([(_PARTS, pa.list_(pa.struct([records_field])))] if self.batched
                             else [*self.envelope.items(), records_field])
        text = b'{"%s":%s}' % (_PARTS.encode(), body) if self.batched else body  # the reader takes objects only
        object_lists = list(_object_lists(read_type))
        try:
            table = pa_json.read_json(
                io.BytesIO(text),
                read_options=pa_json.ReadOptions(use_threads=False, block_size=len(text) + 1),
                # an object with a key the type lacks would be written without it: such a body is Python's
                parse_options=pa_json.ParseOptions(explicit_schema=expected,
                                                   unexpected_field_behavior="error" if object_lists else "ignore"),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        records = self._records(table)
        if records is None:
            return None
        if object_lists and not _keys_in_order(body, records, object_lists):
            return None
        if self.stamp is not None and not records.null_count:
            records = self._stamped(records, record_type)
        conversion = None if records is None else from_wire(self.stream, records)
        if conversion is None:
            return None
        envelope = {key: table.column(key)[0].as_py() for key in self.envelope}
        return Page(self.stream, body, self.records_key, envelope, self.dropped, conversion, stamp=self.stamp,
                    batched=self.batched)

    def _records(self, table: pa.Table) -> pa.StructArray | None:
        """The records of the body Arrow read (every part's, in order, when batched); None when it holds no list."""
        lists = table.column(_PARTS if self.batched else self.records_key)
        if table.num_rows != 1 or lists.null_count:
            return None
        records = lists.chunk(0).flatten()
        if self.batched:
            if records.null_count:
                return None
            records = records.field(self.records_key).flatten()  # a part without records holds none
        return records

    def _stamped(self, records: pa.StructArray, record_type: pa.StructType) -> pa.StructArray | None:
        """The records Arrow read with the stamp's fields added, as `record_type` orders them; None when the stamp
        needs Python's way."""
        try:
            added = self.stamp.columns(records) if len(records) else {}
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        if added is None:
            return None
        children = []
        for spec in record_type:
            if spec.name in added:
                children.append(added[spec.name])
            elif spec.name in self.stamp.sources:
                children.append(pa.nulls(len(records), spec.type))
            else:
                children.append(records.field(spec.name))
        try:
            return pa.StructArray.from_arrays(children, fields=list(record_type))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None


def _object_lists(struct: pa.StructType, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """The path of every list of objects in a record type, with its objects' first key."""
    for spec in struct:
        if pa.types.is_list(spec.type) and pa.types.is_struct(spec.type.value_type):
            yield (*path, spec.name), spec.type.value_type[0].name
        elif pa.types.is_struct(spec.type):
            yield from _object_lists(spec.type, (*path, spec.name))


def _keys_in_order(body: bytes, records: pa.StructArray, object_lists: list[tuple[tuple[str, ...], str]]) -> bool:
    """Whether every object of the lists opens with its type's first key, as the body shows by counting them.

    Arrow's reader keeps no key order, and JSON text is written in the order the body gave. A read that takes no
    unknown key and no key twice, of objects with no missing key (see :func:`connectors.schema._json_text_objects`),
    leaves two keys one order once the first is known. A ``{"key":`` inside a string would be escaped, so each
    count is the objects opening with that key; any other object opening with it fails the check.
    """
    objects: dict[str, int] = {}
    for path, first_key in object_lists:
        lists = pc.struct_field(records, list(path))
        objects[first_key] = objects.get(first_key, 0) + (pc.sum(pc.list_value_length(lists)).as_py() or 0)
    return all(body.count(b'{"' + key.encode() + b'":') == count for key, count in objects.items())


def to_arrow(stream: Stream, page: Sequence[dict]) -> Conversion:
    """:func:`connectors.schema.to_arrow`, taking the conversion a :class:`Page` of `stream` already has."""
    if not isinstance(page, Page):
        return records_to_arrow(stream, page)
    if page.stream == stream and (page.conversion or page.converted) is not None:
        return page.conversion or page.converted
    return records_to_arrow(stream, page.records)


def key_stream(stream: Stream) -> Stream:
    """`stream` with its primary key's field alone: what a listing of the keys a source holds reads."""
    key = next(f for f in stream.fields if f.column == stream.primary_key)
    return Stream(name=stream.name, primary_key=stream.primary_key, fields=(key,), options=stream.options)


def listed_keys(stream: Stream, page: Sequence[dict], where: str) -> list[str]:
    """The primary-key values of a page of a key listing of `stream`, taken from its Arrow table (a page Arrow read is
    not decoded).

    A record whose key does not convert fails the listing with a `SourceError` naming `where` (``salesforce Lead``):
    left out, its warehouse row would look deleted at the source.
    """
    conversion = to_arrow(stream, page)
    if conversion.rejected:
        raise SourceError(f"{where}: a record listed without a usable {stream.primary_key} "
                          f"({conversion.rejected[0].reason}); the key list is incomplete")
    return conversion.table.column(stream.primary_key).to_pylist()
