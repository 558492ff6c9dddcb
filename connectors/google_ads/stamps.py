"""What the Google Ads client adds to every metrics row: the metrics Google left out, and the metric stamps.

proto3 JSON leaves out a metric whose value is zero, so :class:`MetricStamp` puts each metric the
stream reads back as zero (a null one too: Google never writes one), in the form Google writes
it (``"0"`` for int64 metrics, which it writes as text, 0 for doubles). It adds the key, window
key, currency and time zone every ad metric row carries (:func:`connectors.ad_metrics.stamp`), to
a decoded row or, the same way, to a page Arrow's JSON reader read (:mod:`connectors.pages`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from connectors.ad_metrics import STAMP_FIELDS, stamp, stamp_columns, text_at
from connectors.schema import Stream

#: Column types whose metrics Google writes as text (int64); the others (doubles) it writes as numbers.
_INT64_TYPES = frozenset({"int", "micros"})
#: Where a metrics row names its day.
DAY_PATH = ("segments", "date")


@dataclass(frozen=True)
class MetricStamp:
    """Stamps the metrics rows of one customer (a :class:`connectors.pages.Stamp`)."""

    customer_id: str
    currency: str | None
    time_zone: str | None
    entity_paths: tuple[tuple[str, ...], ...]
    #: Each metric the stream reads (``costMicros``), with the zero Google leaves out.
    zeros: tuple[tuple[str, object], ...]
    sources: frozenset[str] = frozenset(spec.source for spec in STAMP_FIELDS)
    reads: dict[str, pa.DataType] = field(default_factory=dict)

    @classmethod
    def for_stream(cls, stream: Stream, customer_id: str, currency: str | None, time_zone: str | None,
                   ) -> MetricStamp:
        """The stamp of `stream`'s rows read for `customer_id`: its entity ids and the metrics it reads."""
        zeros: dict[str, object] = {}
        for spec in stream.fields:
            if spec.source.startswith("metrics."):
                zeros.setdefault(spec.source.split(".", 1)[1], "0" if spec.type in _INT64_TYPES else 0)
        paths = tuple(tuple(path.split(".")) for path in stream.options["entity_ids"])
        return cls(customer_id, currency, time_zone, paths, tuple(zeros.items()))

    def record(self, row: dict) -> dict:
        """Stamp one decoded row in place and return it; one without its day or an entity id gets no key."""
        metrics = row["metrics"] = row.get("metrics") or {}
        for name, zero in self.zeros:
            if metrics.get(name) is None:
                metrics[name] = zero
        entity_ids = [_at(row, path) for path in self.entity_paths]
        return stamp(row, self.customer_id, entity_ids, _at(row, DAY_PATH), self.currency, self.time_zone)

    def columns(self, records: pa.StructArray) -> dict[str, pa.Array] | None:
        """The stamped fields of a page Arrow read, and its metrics with the zeros put back, as :meth:`record` makes
        them; None when a row lacks its day or an entity id (Python's way quarantines it)."""
        *entity_ids, day = [text_at(records, path) for path in (*self.entity_paths, DAY_PATH)]
        metrics = _metrics_with_zeros(records, dict(self.zeros))
        if metrics is None or day is None or any(part is None for part in entity_ids):
            return None
        return {"metrics": metrics, **stamp_columns(self.customer_id, entity_ids, day, self.currency, self.time_zone)}


def _at(row: dict, path: tuple[str, ...]) -> object:
    """The value at `path` (keys, outermost first) in a nested row, None where a key is missing."""
    value: object = row
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _metrics_with_zeros(records: pa.StructArray, zeros: dict[str, object]) -> pa.StructArray | None:
    """The rows' ``metrics`` with each metric Google left out as its zero; None when the metrics are not as read."""
    index = records.type.get_field_index("metrics")
    if index < 0 or not pa.types.is_struct(records.type.field(index).type):
        return None
    metrics = records.field(index)
    children = []
    for spec, values in zip(metrics.type, metrics.flatten(), strict=True):  # a row without metrics: all zero
        if spec.name in zeros and values.null_count:
            zero = zeros[spec.name]
            try:
                values = pc.fill_null(values, pa.scalar(Decimal(zero) if pa.types.is_decimal(spec.type) else zero,
                                                        spec.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, ArithmeticError):
                return None  # the metric came in another form than its zero (text for a double)
        children.append(values)
    return pa.StructArray.from_arrays(children, fields=list(metrics.type))
