"""Streams declared as data, and the conversion of a page of raw records into a typed Arrow table.

A stream names its warehouse table, primary key, cursor and fields; each field maps a source
field (a dotted path for nested values) to a column and a type. :func:`to_arrow` has Arrow
convert a whole page in one C++ call and cast its columns; a page that does not fit goes
column by column through Python lists (:func:`convert_by_columns`), and when a column will not
convert there, the records at fault are found and set aside with the reason, and the rest kept.
Both paths give identical tables: the tests convert random pages both ways. A page Arrow read
straight from the body (:mod:`connectors.pages`) goes through :func:`from_wire`, the same casts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

from connectors.naming import distinct_columns

MONEY_SCALE = 9
_DECIMAL_DIGITS = 38
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "bool": pa.bool_(),
    "int": pa.int64(),
    "float": pa.float64(),
    "decimal": pa.decimal128(38, MONEY_SCALE),
    "micros": pa.decimal128(38, MONEY_SCALE),  # an integer count of millionths (Google Ads money), as a decimal
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "json": pa.string(),
}
#: How a JSON column writes a value: as ``json.dumps(value, default=str)`` does, without a new encoder per value
#: (decoded JSON holds no cycles to look for).
_JSON_TEXT = json.JSONEncoder(default=str, check_circular=False)


@dataclass(frozen=True)
class Field:
    """One column: its warehouse name, where it comes from in a source record, and its type."""

    column: str
    source: str
    type: str = "string"

    def __post_init__(self) -> None:
        if self.type not in ARROW_TYPES:
            raise ValueError(f"field {self.column}: unknown type {self.type!r}; expected one of {sorted(ARROW_TYPES)}")


@dataclass(frozen=True)
class Stream:
    """A stream declared as data.

    `cursor` is the source field that orders changes (None: the stream is read whole and replaces
    its table). `window_column` marks a stream whose source restates a trailing window (ad
    metrics): every loaded value of that column replaces all rows that carry it, so restated
    numbers win and nothing is counted twice. `lookback_seconds` re-reads that much before the cursor.

    `cursor_ordered` says the source hands a read's records over in ascending cursor order
    (Salesforce's ``ORDER BY SystemModstamp ASC``). Only then may a read that stops early (a spent
    quota) move the cursor, to the last row it read: the rows not read yet come after it. A read
    in any other order (HubSpot's lists in id order, events newest first) keeps its cursor when it
    stops early, and the next run reads again from there.

    A read may leave in the loader's state (:mod:`connectors.loader_state`), under
    `CURSOR_CEILING_KEY`, the latest cursor its load may commit, as ISO-8601 text: the source's
    time when a long read in no cursor order began. A record read early and modified later in the
    read can get a stamp older than the newest one read, and a cursor past that stamp would never
    read its new version. The loader commits the lesser of the ceiling and the newest cursor read,
    and does not keep the key.

    A read in no cursor order that can go on where a run left it (HubSpot's first read, a listing by
    id) notes under `RESUME_KEY`, before it hands over each page, where that page's read began (any
    JSON value, the ceiling it began with included). The loader may then commit a long read in parts,
    ending a load before such a page with that note and the cursor it started from; the next run's
    read finds the note in its state. A read that ends removes the note, and the loader then removes
    the stored one.
    """

    CURSOR_CEILING_KEY = "cursor_ceiling"  # not annotated: a class constant, not a field
    RESUME_KEY = "resume_at"

    name: str
    primary_key: str
    fields: tuple[Field, ...]
    cursor: str | None = None
    lookback_seconds: int = 0
    window_column: str | None = None
    options: dict = field(default_factory=dict)
    cursor_ordered: bool = False

    def __post_init__(self) -> None:
        columns = [f.column for f in self.fields]
        if self.primary_key not in columns:
            raise ValueError(f"stream {self.name}: primary key {self.primary_key!r} is not one of its fields")
        if self.cursor is not None and self.cursor not in {f.source for f in self.fields}:
            raise ValueError(f"stream {self.name}: cursor {self.cursor!r} is not one of its source fields")
        if self.window_column is not None and self.window_column not in columns:
            raise ValueError(f"stream {self.name}: window column {self.window_column!r} is not one of its fields")

    @cached_property
    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of the stream's rows."""
        return pa.schema(
            [pa.field(f.column, ARROW_TYPES[f.type], nullable=f.column not in self.key_columns) for f in self.fields]
        )

    @property
    def key_columns(self) -> set[str]:
        """The columns that identify rows (the primary key and the window column): never null."""
        return {self.primary_key} | ({self.window_column} if self.window_column else set())

    def with_fields(self, extra: list[Field]) -> Stream:
        """The same stream with `extra` fields appended (fields the source reports but we did not declare).

        A field whose source the stream already reads is left out. Each new field's column is the name
        the warehouse will hold, distinct from every other column (:func:`~connectors.naming.distinct_columns`:
        a name that collides, ``FooBar__c`` and ``Foo_Bar__c`` both in ``foo_bar__c``, gets a hash of
        its source name), so an awkwardly named field cannot stop the load.
        """
        read = {f.source for f in self.fields}
        new: dict[str, Field] = {}
        for spec in extra:
            if spec.source not in read:
                new.setdefault(spec.source, spec)
        columns = distinct_columns((f.column for f in self.fields), {source: f.column for source, f in new.items()})
        return replace(self, fields=self.fields + tuple(replace(f, column=columns[f.source]) for f in new.values()))

    @property
    def cursor_column(self) -> str | None:
        """The warehouse column that holds the cursor field."""
        return next((f.column for f in self.fields if f.source == self.cursor), None)


@dataclass
class Rejected:
    """A record that could not be converted, with the reason, kept for the quarantine table."""

    record: dict
    reason: str


@dataclass
class Conversion:
    """The converted page and the records set aside."""

    table: pa.Table
    rejected: list[Rejected]


_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError,
                      InvalidOperation)


def to_arrow(stream: Stream, records: list[dict]) -> Conversion:
    """Convert raw records to a table of the stream's schema; unconvertible records are rejected, not lost.

    `records` hold what JSON decoding gives (objects, lists, text, ints, Decimals, booleans,
    nulls). A well-formed page takes the fast path (:func:`_fast_columns`); any page it cannot
    take whole goes through :func:`convert_by_columns`, which gives the same table and isolates
    the bad records with their reasons.
    """
    columns = _fast_columns(stream, records)
    if columns is None:
        return convert_by_columns(stream, records)
    return _conversion(stream, columns, records, [])


def convert_by_columns(stream: Stream, records: list[dict]) -> Conversion:
    """:func:`to_arrow` column by column from Python lists: the reference, and the path of malformed pages."""
    rejected: list[Rejected] = []
    good = records
    columns: dict[str, pa.Array] = {}
    picked: dict[str, list] = {}
    for spec in stream.fields:
        try:
            columns[spec.column] = _convert(_values_at(good, spec.source, picked), spec.type)
        except _CONVERSION_ERRORS:
            kept, dropped = _isolate_bad_records(good, spec)
            rejected.extend(dropped)
            kept_ids = {id(record) for record in kept}
            keep = pa.array([id(record) in kept_ids for record in good])
            columns = {name: column.filter(keep) for name, column in columns.items()}
            good = kept
            picked = {}
            columns[spec.column] = _convert(_values_at(good, spec.source, picked), spec.type)
    return _conversion(stream, columns, good, rejected)


def _conversion(stream: Stream, columns: dict[str, pa.Array], good: list[dict], rejected: list[Rejected]) -> Conversion:
    """The table of `columns` (converted from `good`), less the records without a primary key, which are rejected."""
    key = columns[stream.primary_key]
    if key.null_count:
        present = key.is_valid()
        rejected.extend(
            Rejected(record, f"primary key {stream.primary_key} is missing")
            for record, ok in zip(good, present.to_pylist(), strict=True) if not ok
        )
        columns = {name: column.filter(present) for name, column in columns.items()}
    return Conversion(pa.table(columns, schema=stream.arrow_schema), rejected)


def _values_at(records: list[dict], path: str, picked: dict[str, list]) -> list:
    """The value at a dotted path in every record, as :func:`_value_at` reads it, a column at a time.

    `picked` caches the columns of the path's prefixes (``properties`` for ``properties.email``),
    so the nested objects of a page are looked up once, not once per field.
    """
    if path in picked:
        return picked[path]
    parent_path, _, key = path.rpartition(".")
    parents = _values_at(records, parent_path, picked) if parent_path else records
    try:
        # A step that is not an object (a string, a list) has no .get: the per-record reading says why.
        values = [None if parent is None else parent.get(key) for parent in parents]
    except AttributeError:
        values = [_value_at(record, path) for record in records]
    picked[path] = values
    return values


def _isolate_bad_records(records: list[dict], spec: Field) -> tuple[list[dict], list[Rejected]]:
    kept, dropped = [], []
    for record in records:
        try:
            value = _value_at(record, spec.source)
        except TypeError as exc:
            dropped.append(Rejected(record, f"field {spec.source}: {exc}"))
            continue
        try:
            _convert([value], spec.type)
            kept.append(record)
        except _CONVERSION_ERRORS:
            dropped.append(Rejected(record, f"field {spec.source}: {value!r} is not a valid {spec.type}"))
    return kept, dropped


def _value_at(record: dict, path: str) -> object:
    """The value at a dotted path; a missing step is null, a step that is not an object is an error."""
    value: object = record
    for key in path.split("."):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise TypeError(f"expected an object before {key!r}, got {type(value).__name__}")
        value = value.get(key)
    return value


_NONE = type(None)
_TEXT = frozenset({str, _NONE})


def _convert(values: list, type_name: str) -> pa.Array:
    target = ARROW_TYPES[type_name]
    # The Python types on the page decide the path: pages whose values already have the wire type
    # Arrow converts in one call; mixed pages go through the per-value paths below.
    if type_name == "json":
        encode = _JSON_TEXT.encode
        return pa.array([None if v is None else encode(v) for v in values], pa.string())
    kinds = set(map(type, values))
    if str in kinds and type_name != "string":
        # HubSpot sends a cleared number, date or boolean property as "": no value, not a malformed one.
        values = [None if isinstance(value, str) and not value.strip() else value for value in values]
        kinds = set(map(type, values))
    if type_name == "decimal":
        if kinds <= {Decimal, int, _NONE}:
            try:
                return pa.array(values, target)
            except pa.ArrowInvalid:  # more places than the column keeps: rounded below, as for text
                pass
        return _decimals(values)
    if type_name == "micros":
        return _decimals([None if v is None else _from_micros(v) for v in values])
    if type_name in {"timestamp", "date"}:
        return _instants(values, kinds, type_name)
    if type_name == "string":
        if kinds <= _TEXT:
            return pa.array(values, pa.string())
        return pa.array([v if v is None or isinstance(v, str) else _as_text(v) for v in values], pa.string())
    if kinds <= _TEXT and type_name in {"int", "float", "bool"}:
        return pa.array(values, pa.string()).cast(target)
    try:
        return pa.array(values, target)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        as_text = pa.array([None if v is None else _as_text(v) for v in values], pa.string())
        if type_name in {"int", "float", "bool"}:
            return as_text.cast(target)
        raise


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return _JSON_TEXT.encode(value)
    return str(value)


def _decimals(values: list) -> pa.Array:
    text = pa.array([None if v is None else str(v) for v in values], pa.string())
    if _plain_decimals(text, MONEY_SCALE):
        try:
            return text.cast(ARROW_TYPES["decimal"])
        except pa.ArrowInvalid:
            pass
    quantum = Decimal(1).scaleb(-MONEY_SCALE)
    with localcontext(prec=_DECIMAL_DIGITS):  # the default 28 digits cannot quantize every value a column holds
        exact = [None if v is None else Decimal(str(v)).quantize(quantum, rounding=ROUND_HALF_EVEN) for v in values]
    if any(d is not None and not d.is_finite() for d in exact):
        raise ValueError("not a finite number")
    return pa.array(exact, ARROW_TYPES["decimal"])


def _plain_decimals(text: pa.Array, places: int) -> bool:
    """Whether every value is plain decimal text that fits 38 digits with `places` places.

    Arrow's cast to a decimal with more places wraps around silently when the value is too long
    (``"12345678901234567890123456789012.12"`` became ``95513692080783205441970921468.464387584``),
    so only such text is cast; the rest is read by :class:`decimal.Decimal`.
    """
    pattern = rf"^-?\d{{1,{_DECIMAL_DIGITS - places}}}(\.\d+)?$"
    return pc.all(pc.match_substring_regex(text, pattern)).as_py() is not False


def _from_micros(value: object) -> str:
    """``"142730000"`` → ``"142.730000"``: exact integer arithmetic, never a float."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{value!r} is not a whole number of micros")
    micros = int(value)
    units, fraction = divmod(abs(micros), 1_000_000)
    return f"{'-' if micros < 0 else ''}{units}.{fraction:06d}"


def _instants(values: list, kinds: set[type], type_name: str) -> pa.Array:
    """A timestamp or date column from ISO-8601 text (timestamps at any offset, ``+0000`` included; dates
    ``YYYY-MM-DD``) and epoch milliseconds (ints or digit strings, HubSpot's older date properties among them:
    ``"1572480000000"``); a date given as an instant is that instant's UTC day."""
    if kinds <= _TEXT:
        text = pa.array(values, pa.string())
        if not pc.any(pc.utf8_is_digit(text)).as_py():
            return text.cast(ARROW_TYPES[type_name])
    text = []
    for value in values:
        if isinstance(value, bool):
            raise TypeError(f"a boolean is not a {type_name}")
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            instant = datetime.fromtimestamp(int(value) / 1000, UTC)
            value = (instant if type_name == "timestamp" else instant.date()).isoformat()
        elif value is not None and not isinstance(value, str):
            raise TypeError(f"{value!r} is not a {type_name}")
        text.append(value)
    return pa.array(text, pa.string()).cast(ARROW_TYPES[type_name])


# --- the fast path: the page converted by Arrow in one call, then cast column by column ------------------

# Below this (the year 2242) the float seconds _instants computes round back to the exact millisecond.
_MAX_EPOCH_MILLIS = 2**33 * 1000


def _fast_columns(stream: Stream, records: list[dict]) -> dict[str, pa.Array] | None:
    """Every column of a well-formed page, or None when the page needs :func:`convert_by_columns`.

    Arrow converts the whole page in one C++ call (:func:`_wire_page`) and casts the columns
    that need a plain cast a few at a time (:func:`_cast_together`). Where no cast is known to equal
    :func:`_convert` exactly, that column alone goes through :func:`_convert` from the Python
    values, so every column equals the reference's.
    """
    wired = _wire_page(stream, records)
    if wired is None:
        return None
    page, sources = wired
    return _typed_columns(stream, page, sources, records)


def _typed_columns(stream: Stream, page: pa.StructArray, sources: frozenset[str] | None,
                   records: list[dict] | None) -> dict[str, pa.Array] | None:
    """The columns of a page Arrow converted (holding `sources`, None: all it has), cast to their types.

    A column no cast gives exactly is converted from the Python `records`; without them the page is None.
    """
    flat = _flattened(page)
    columns: dict[str, pa.Array | None] = {}
    pending: dict[str, tuple[pa.Array, str]] = {}
    picked: dict[str, list] = {}
    try:
        for spec in stream.fields:
            raw = _wire_values(flat, spec.source) if sources is None or spec.source in sources else None
            columns[spec.column] = None
            if raw is not None and _as_converted(raw.type, spec.type):
                columns[spec.column] = raw
            elif raw is not None and _plain_cast(raw.type, spec.type):
                pending[spec.column] = (raw, spec.type)
            elif raw is not None:
                columns[spec.column] = _cast_wire(raw, spec.type, keys_in_order=records is None)
        columns.update(_cast_together(pending))
        for spec in stream.fields:
            if columns[spec.column] is None:
                if records is None:
                    return None
                columns[spec.column] = _convert(_values_at(records, spec.source, picked), spec.type)
    except _CONVERSION_ERRORS:
        return None
    return columns


def _flattened(page: pa.StructArray) -> dict[str, pa.Array]:
    """Every object and value of the page by its dotted path (a null object's children are null)."""
    flat: dict[str, pa.Array] = {}

    def walk(array: pa.Array, path: str) -> None:
        flat[path] = array
        if pa.types.is_struct(array.type):
            # flatten(), not field(): it combines the object's nulls into its children.
            for spec, child in zip(array.type, array.flatten(), strict=True):
                if spec.name and "." not in spec.name:  # a key "a.b" is not the path a.b, nor is "" a step
                    walk(child, f"{path}.{spec.name}" if path else spec.name)

    walk(page, "")
    return flat


def _wire_values(flat: dict[str, pa.Array], path: str) -> pa.Array | None:
    """The values at a dotted path as Arrow converted them, null where a step is missing or null.

    None when a step is not an object: the per-record reading says which records are at fault.
    """
    if path in flat:
        return flat[path]
    parent_path = path.rpartition(".")[0]
    parent = _wire_values(flat, parent_path)
    if parent is None or not (pa.types.is_struct(parent.type) or pa.types.is_null(parent.type)):
        return None
    return pa.nulls(len(parent))


def _as_converted(wire: pa.DataType, type_name: str) -> bool:
    """Whether values Arrow converted to `wire` are the column already: ``pa.array(values, type)``, as :func:`_convert`
    builds the columns whose values are not text (json and micros columns are rewritten value by value)."""
    return type_name in {"string", "bool", "int", "float", "decimal"} and wire == ARROW_TYPES[type_name]


def _plain_cast(wire: pa.DataType, type_name: str) -> bool:
    """Whether Arrow's cast from `wire` gives exactly :func:`_convert`'s column (when the cast succeeds).

    Text that casts to a timestamp has a date with dashes, so none of it is epoch milliseconds.
    """
    if pa.types.is_null(wire):
        return True
    if pa.types.is_string(wire):
        return type_name in {"int", "float", "bool", "date", "decimal", "timestamp"}
    if pa.types.is_boolean(wire):
        return type_name == "string"  # "true" / "false", as _as_text writes them
    if pa.types.is_int64(wire):
        return type_name in {"string", "decimal"}
    return False


def _cast_together(pending: dict[str, tuple[pa.Array, str]]) -> dict[str, pa.Array | None]:
    """The pending columns cast with one call per wire type and column type, as one long array cut back into columns.

    A cast has a fixed cost per call that, on pages of a hundred records, outweighs the values
    themselves. A group that will not cast is cast column by column, so the column at fault is
    found (None: left to :func:`_convert`; an error: the page goes to :func:`convert_by_columns`).
    """
    groups: dict[tuple[pa.DataType, str], list[str]] = {}
    for name, (raw, type_name) in pending.items():
        groups.setdefault((raw.type, type_name), []).append(name)
    columns: dict[str, pa.Array | None] = {}
    for (_, type_name), names in groups.items():
        arrays = [pending[name][0] for name in names]
        try:
            together = pa.concat_arrays(arrays).cast(ARROW_TYPES[type_name])
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            columns.update({name: _cast_wire(array, type_name) for name, array in zip(names, arrays, strict=True)})
            continue
        offset = 0
        for name, array in zip(names, arrays, strict=True):
            columns[name] = together.slice(offset, len(array))
            offset += len(array)
    return columns


@dataclass(frozen=True)
class _Plan:
    """The Arrow type a stream's pages are read as, and the sources it holds (the others are read by Python).

    Python records are converted with `records_type`, which leaves out the JSON columns: Arrow's
    converter takes a string as a list of its characters, while its JSON reader refuses one.
    """

    type: pa.StructType
    sources: frozenset[str]
    records_type: pa.StructType
    records_sources: frozenset[str]


_PLANS: dict[tuple, _Plan] = {}
_WIRE_ERRORS = (pa.ArrowException, TypeError, ValueError, OverflowError)


def _plan_key(stream: Stream) -> tuple:
    return stream.name, tuple((spec.source, spec.type) for spec in stream.fields)


def wire_type(stream: Stream) -> pa.StructType | None:
    """The Arrow type `stream`'s earlier pages were converted to, when it holds every field of the stream.

    None before the stream's first page, and while a field's values showed a type whose Arrow
    conversion would differ from :func:`to_arrow`'s (its pages then need the Python values).
    """
    plan = _PLANS.get(_plan_key(stream))
    return plan.type if plan is not None and plan.sources >= {spec.source for spec in stream.fields} else None


def from_wire(stream: Stream, records: pa.StructArray) -> Conversion | None:
    """A page Arrow read as :func:`wire_type`'s records, as :func:`to_arrow` converts it; None when a
    column or a record (one without its primary key) needs the Python values."""
    if records.null_count or records.type != wire_type(stream):
        return None
    if len(records) == 0:
        return Conversion(stream.arrow_schema.empty_table(), [])
    columns = _typed_columns(stream, records, None, None)
    if columns is None or columns[stream.primary_key].null_count:
        return None
    return Conversion(pa.table(columns, schema=stream.arrow_schema), [])


def _wire_page(stream: Stream, records: list[dict]) -> tuple[pa.StructArray, frozenset[str] | None] | None:
    """The page as one Arrow struct array, and the sources it holds (None: every source it has).

    The stream's plan (the wire types of an earlier page) makes the conversion a typed one; a
    page that does not fit it is converted again with Arrow inferring every type, which shows
    the values' Python types exactly, and sets the plan for the next pages. A page Arrow cannot
    convert at all (text and numbers in one field, an object and text) gives None.
    """
    key = _plan_key(stream)
    plan = _PLANS.get(key)
    if plan is not None and records:
        try:
            return pa.array(records, type=plan.records_type), plan.records_sources
        except _WIRE_ERRORS:
            pass
    try:
        page = pa.array(records)
    except _WIRE_ERRORS:
        return None
    if not pa.types.is_struct(page.type):
        return None
    _PLANS[key] = _plan(stream, page.type, plan)
    return page, None


def _plan(stream: Stream, inferred: pa.StructType, previous: _Plan | None) -> _Plan:
    """The typed conversion for a stream's next pages, from the types Arrow inferred for this one.

    A source's leaf type is one whose Arrow converter accepts exactly the Python values that
    :func:`_convert` treats the same way (see :func:`_leaf_type`); a source seen only as null
    keeps its leaf from the previous plan.
    """
    leaves: dict[str, pa.DataType] = {}
    for spec in stream.fields:
        wire = _type_at(inferred, spec.source)
        if (wire is None or pa.types.is_null(wire)) and previous is not None and spec.source in previous.sources:
            leaves[spec.source] = _type_at(previous.type, spec.source)
            continue
        leaf = _leaf_type(wire, spec.type)
        if leaf is not None:
            leaves[spec.source] = leaf
    nested = {path for path in leaves for prefix in _prefixes(path) if prefix in leaves}
    leaves = {path: leaf for path, leaf in leaves.items() if path not in nested and not any(
        other != path and other.startswith(path + ".") for other in leaves)}
    json_sources = {spec.source for spec in stream.fields if spec.type == "json"}
    by_records = {path: leaf for path, leaf in leaves.items() if path not in json_sources}
    return _Plan(_nested_type(leaves), frozenset(leaves), _nested_type(by_records), frozenset(by_records))


def _prefixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _type_at(struct: pa.DataType, path: str) -> pa.DataType | None:
    """The type at a dotted path of a struct type; None where a step is missing or not a struct."""
    current: pa.DataType | None = struct
    for key in path.split("."):
        if current is None or not pa.types.is_struct(current) or current.get_field_index(key) < 0:
            return None
        current = current.field(key).type
    return current


def _nested_type(leaves: dict[str, pa.DataType]) -> pa.StructType:
    tree: dict = {}
    for path, leaf in leaves.items():
        *steps, last = path.split(".")
        node = tree
        for step in steps:
            node = node.setdefault(step, {})
        node[last] = leaf

    def build(node: dict) -> pa.StructType:
        return pa.struct([(name, build(child) if isinstance(child, dict) else child) for name, child in node.items()])

    return build(tree)


def _leaf_type(wire: pa.DataType | None, type_name: str) -> pa.DataType | None:
    """The Arrow type to convert a source's Python values to, given the type Arrow inferred for them.

    Text stays text (Arrow's string converter takes nothing else) and is cast afterwards. A
    column that is not text :func:`_convert` builds with ``pa.array(values, type)``, so the
    typed conversion uses that very converter. Anything else (numbers or objects read as text,
    epoch milliseconds, micros not given as text, JSON other than :func:`_json_wire_type`) is left to
    :func:`_convert`.
    """
    if type_name == "json":
        return _json_wire_type(wire)
    if type_name == "micros":
        return pa.string() if wire is not None and pa.types.is_string(wire) else None  # see _micros_from_text
    if wire is None or pa.types.is_null(wire):
        return ARROW_TYPES[type_name] if type_name in {"int", "float", "bool", "decimal"} else pa.string()
    if pa.types.is_string(wire):
        return pa.string()
    if any(is_native(wire) for is_native in _NATIVE_WIRES.get(type_name, ())):
        return ARROW_TYPES[type_name]
    if pa.types.is_boolean(wire) and type_name in {"bool", "string"}:
        return pa.bool_()  # booleans as text are "true" / "false", as _as_text writes them
    return None


#: The wire types whose values :func:`_convert` hands to ``pa.array(values, type)`` for each column type.
_NATIVE_WIRES = {
    "int": (pa.types.is_integer,),
    "float": (pa.types.is_integer, pa.types.is_floating),
    "decimal": (pa.types.is_integer, pa.types.is_decimal),
}


def _cast_wire(raw: pa.Array, type_name: str, keys_in_order: bool = False) -> pa.Array | None:
    """`raw` cast to the column's type where that equals :func:`_convert` of the same values; None elsewhere.

    Objects inside JSON are written only when `keys_in_order`: a page read from a body whose objects' keys were
    checked to come in the type's order. Python's objects each keep their own order, which Arrow's type does not.
    """
    wire = raw.type
    if _as_converted(wire, type_name):
        return raw
    if pa.types.is_null(wire):
        return pa.nulls(len(raw), ARROW_TYPES[type_name])
    if pa.types.is_string(wire):
        return _from_text(raw, type_name)
    if pa.types.is_int64(wire):
        return _from_integers(raw, type_name)
    if pa.types.is_boolean(wire) and type_name in {"bool", "string"}:
        return raw.cast(ARROW_TYPES[type_name])  # a boolean as text is "true" / "false", as _as_text writes it
    if (pa.types.is_decimal128(wire) and type_name == "decimal" and 0 <= wire.scale <= MONEY_SCALE
            and wire.precision - wire.scale <= _DECIMAL_DIGITS - MONEY_SCALE):  # see _plain_decimals
        return _cast_or_none(raw, ARROW_TYPES["decimal"])  # more places than the column keeps: rounded by _convert
    if type_name == "json" and _json_wire_type(wire) is not None and (
            keys_in_order or not pa.types.is_struct(wire.value_type)):
        return _json_text_lists(raw)
    return None


def _is_null_or_string(value_type: pa.DataType) -> bool:
    return pa.types.is_null(value_type) or pa.types.is_string(value_type)


#: The most fields an object in a JSON list may have for Arrow to write it: a reader sees the order of its keys only
#: through the first one (see :mod:`connectors.pages`), and that fixes the order of two.
MAX_OBJECT_FIELDS = 2


def _json_wire_type(wire: pa.DataType | None) -> pa.DataType | None:
    """The Arrow type a JSON column's values are read as when Arrow can write them as :func:`_convert` does: lists of
    text (LinkedIn's ``pivotValues``) and lists of objects of at most two text fields (Meta's ``actions``)."""
    if wire is None or not pa.types.is_list(wire):
        return None
    item = wire.value_type
    if _is_null_or_string(item):
        return pa.list_(pa.string())
    if pa.types.is_struct(item) and 0 < item.num_fields <= MAX_OBJECT_FIELDS and all(
            pa.types.is_string(field.type) for field in item):
        return wire
    return None


#: A character ``json.dumps`` writes as an escape: a quote, a backslash, or anything outside printable ASCII.
_ESCAPED_IN_JSON = r'["\\]|[^\x20-\x7e]'


def _json_text_lists(raw: pa.ListArray) -> pa.Array | None:
    """Lists of text, or of objects of text, as JSON text exactly as ``json.dumps`` writes them (``["a", "b"]``,
    ``[{"action_type": "lead", "value": "3"}]``); None when a value would need an escape, or an object lacks a field
    (those are left to :func:`_convert`)."""
    offsets = raw.offsets
    first, last = offsets[0].as_py(), offsets[-1].as_py()
    items = raw.values.slice(first, last - first)
    is_objects = pa.types.is_struct(items.type)
    written = _json_text_objects(items) if is_objects else _json_text_strings(items.cast(pa.string()))
    if written is None:
        return None
    lists = pa.ListArray.from_arrays(pc.subtract(offsets, first), written, mask=raw.is_null())
    return pc.binary_join_element_wise("[", pc.binary_join(lists, ", "), "]", "")


def _json_text_strings(values: pa.Array) -> pa.Array | None:
    if pc.any(pc.match_substring_regex(values, _ESCAPED_IN_JSON)).as_py():
        return None
    return pc.fill_null(pc.binary_join_element_wise('"', values, '"', ""), "null")


def _json_text_objects(items: pa.StructArray) -> pa.Array | None:
    """Objects of text fields in the struct's field order; None when one is null or lacks a field, since Arrow shows
    a missing key and a null alike (the reader checks the keys' order, see :mod:`connectors.pages`)."""
    if items.null_count or any(re.search(_ESCAPED_IN_JSON, key.name) for key in items.type):
        return None
    pieces: list[str | pa.Array] = []
    for index, key in enumerate(items.type):
        values = items.field(index)
        if values.null_count or pc.any(pc.match_substring_regex(values, _ESCAPED_IN_JSON)).as_py():
            return None
        pieces += [f'{"{" if index == 0 else ", "}"{key.name}": "', values, '"']
    return pc.binary_join_element_wise(*pieces, "}", "")


def _from_text(raw: pa.Array, type_name: str) -> pa.Array | None:
    if type_name == "string":
        return raw
    if type_name in {"int", "float", "bool"}:
        return raw.cast(ARROW_TYPES[type_name])
    if type_name in {"timestamp", "date"} and not pc.any(pc.utf8_is_digit(raw)).as_py():
        return raw.cast(ARROW_TYPES[type_name])
    if type_name == "decimal":
        exact = _cast_or_none(raw, ARROW_TYPES["decimal"]) if _plain_decimals(raw, MONEY_SCALE) else None
        return exact if exact is not None else _rounded_decimals(raw)
    if type_name == "micros":
        return _micros_from_text(raw)
    return None  # epoch milliseconds as text, json: _convert's per-value readings


#: Micros the column holds: at most as many integer digits as it keeps, plus the six places.
_MICROS_TEXT = rf"^[0-9]{{1,{_DECIMAL_DIGITS - MONEY_SCALE + 6}}}$"


def _micros_from_text(raw: pa.Array) -> pa.Array | None:
    """Whole numbers of millionths as text (Google's ``"142730000"``) as decimals, as :func:`_from_micros` reads them:
    the point put before the last six digits. None when one is not plain digits (a sign, or too long)."""
    if not pc.all(pc.match_substring_regex(raw, _MICROS_TEXT)).as_py():
        return None
    padded = pc.utf8_lpad(raw, 7, "0")
    units, millionths = pc.utf8_slice_codeunits(padded, 0, -6), pc.utf8_slice_codeunits(padded, -6)
    return _cast_or_none(pc.binary_join_element_wise(units, millionths, "."), ARROW_TYPES["micros"])


#: Places a decimal text may have for Arrow to round it to the column's places (text with more is left to Python).
_TEXT_PLACES = 28


def _rounded_decimals(raw: pa.Array) -> pa.Array | None:
    """Decimal text with more places than the column keeps, rounded half to even as :func:`_decimals` rounds it
    (LinkedIn writes money as ``"107.5300000000000011369"``); None when a value is too long for that."""
    if not _plain_decimals(raw, _TEXT_PLACES):
        return None
    try:
        wide = raw.cast(pa.decimal128(_DECIMAL_DIGITS, _TEXT_PLACES))
        return pc.round(wide, ndigits=MONEY_SCALE, round_mode="half_to_even").cast(ARROW_TYPES["decimal"])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _from_integers(raw: pa.Array, type_name: str) -> pa.Array | None:
    if type_name == "int":
        return raw
    if type_name == "string":
        return raw.cast(pa.string())
    if type_name == "decimal":
        return _cast_or_none(raw, ARROW_TYPES["decimal"])
    if type_name == "timestamp":
        return _from_epoch_millis(raw)
    return None


def _from_epoch_millis(raw: pa.Array) -> pa.Array | None:
    """Epoch milliseconds as timestamps, as :func:`_instants` reads them; None outside the range where they agree."""
    bounds = pc.min_max(raw).as_py()
    if bounds["min"] is None:
        return pa.nulls(len(raw), ARROW_TYPES["timestamp"])
    if bounds["min"] < 0 or bounds["max"] >= _MAX_EPOCH_MILLIS:
        return None
    return pc.multiply(raw, 1000).cast(ARROW_TYPES["timestamp"])


def _cast_or_none(raw: pa.Array, target: pa.DataType) -> pa.Array | None:
    try:
        return raw.cast(target)
    except pa.ArrowInvalid:
        return None
