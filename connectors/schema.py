"""Streams declared as data, and the conversion of a page of raw records into a typed Arrow table.

A stream names its warehouse table, primary key, cursor and fields; each field maps a source
field (a dotted path for nested values) to a column and a type. :func:`to_arrow` converts a
whole page column by column with Arrow's own casts; when a column will not convert, it finds
the records at fault, sets them aside with the reason, and converts the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

MONEY_SCALE = 9
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
    """

    name: str
    primary_key: str
    fields: tuple[Field, ...]
    cursor: str | None = None
    lookback_seconds: int = 0
    window_column: str | None = None
    options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        columns = [f.column for f in self.fields]
        if self.primary_key not in columns:
            raise ValueError(f"stream {self.name}: primary key {self.primary_key!r} is not one of its fields")
        if self.cursor is not None and self.cursor not in {f.source for f in self.fields}:
            raise ValueError(f"stream {self.name}: cursor {self.cursor!r} is not one of its source fields")
        if self.window_column is not None and self.window_column not in columns:
            raise ValueError(f"stream {self.name}: window column {self.window_column!r} is not one of its fields")

    @property
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
        """The same stream with `extra` fields appended (fields the source reports but we did not declare)."""
        declared = {f.column for f in self.fields}
        return replace(self, fields=self.fields + tuple(f for f in extra if f.column not in declared))

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
    """Convert raw records to a table of the stream's schema; unconvertible records are rejected, not lost."""
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
        return pa.array([None if v is None else json.dumps(v, default=str) for v in values], pa.string())
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
    if type_name == "timestamp":
        return _timestamps(values, kinds)
    if type_name == "string":
        if kinds <= _TEXT:
            return pa.array(values, pa.string())
        return pa.array([v if v is None or isinstance(v, str) else _as_text(v) for v in values], pa.string())
    if kinds <= _TEXT and type_name in {"int", "float", "bool", "date"}:
        return pa.array(values, pa.string()).cast(target)
    try:
        return pa.array(values, target)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        as_text = pa.array([None if v is None else _as_text(v) for v in values], pa.string())
        if type_name in {"int", "float", "bool", "date"}:
            return as_text.cast(target)
        raise


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


def _decimals(values: list) -> pa.Array:
    text = pa.array([None if v is None else str(v) for v in values], pa.string())
    try:
        return text.cast(ARROW_TYPES["decimal"])
    except pa.ArrowInvalid:
        quantum = Decimal(1).scaleb(-MONEY_SCALE)
        exact = [None if v is None else Decimal(str(v)).quantize(quantum, rounding=ROUND_HALF_EVEN) for v in values]
        if any(d is not None and not d.is_finite() for d in exact):
            raise ValueError("not a finite number") from None
        return pa.array(exact, ARROW_TYPES["decimal"])


def _from_micros(value: object) -> str:
    """``"142730000"`` → ``"142.730000"``: exact integer arithmetic, never a float."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{value!r} is not a whole number of micros")
    micros = int(value)
    units, fraction = divmod(abs(micros), 1_000_000)
    return f"{'-' if micros < 0 else ''}{units}.{fraction:06d}"


def _timestamps(values: list, kinds: set[type] | None = None) -> pa.Array:
    """ISO-8601 strings (any offset, ``+0000`` included) and epoch milliseconds (ints or digit strings)."""
    if (kinds if kinds is not None else set(map(type, values))) <= _TEXT:
        text = pa.array(values, pa.string())
        if not pc.any(pc.utf8_is_digit(text)).as_py():
            return text.cast(ARROW_TYPES["timestamp"])
    text = []
    for value in values:
        if isinstance(value, bool):
            raise TypeError("a boolean is not a timestamp")
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            value = datetime.fromtimestamp(int(value) / 1000, UTC).isoformat()
        elif value is not None and not isinstance(value, str):
            raise TypeError(f"{value!r} is not a timestamp")
        text.append(value)
    return pa.array(text, pa.string()).cast(ARROW_TYPES["timestamp"])
