"""What the Meta client adds to every insights row: the action columns and the metric stamps.

Meta reports conversions only inside ``actions`` / ``action_values``, arrays of
``{"action_type", "value"}``. :class:`InsightStamp` takes each action type the stream has a
column for out of its array (``_<array>.<type>``, "0" when the row reports no such action) and
adds the key, window key, currency and time zone every ad metric row carries
(:func:`connectors.ad_metrics.stamp`), to a decoded row or, the same way, to a page Arrow's JSON
reader read (:mod:`connectors.pages`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.ad_metrics import STAMP_FIELDS, stamp, stamp_columns, text_at
from connectors.schema import Stream

#: The arrays whose action types become columns.
ACTION_ARRAYS = ("actions", "action_values")
#: A pivot: the array, the field it fills (``_actions``), and each action type with its column under that field.
Pivot = tuple[str, str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class InsightStamp:
    """Stamps the insights rows of one ad account (a :class:`connectors.pages.Stamp`)."""

    account: str
    currency: str | None
    time_zone: str | None
    entity_names: tuple[str, ...]
    pivots: tuple[Pivot, ...]
    #: Meta sends ``date_stop`` with every row, asked for or not; it is read (and left out) so no key is unknown.
    reads: ClassVar[dict[str, pa.DataType]] = {"date_stop": pa.string()}

    @classmethod
    def for_stream(cls, stream: Stream, account: str, currency: str | None, time_zone: str | None) -> InsightStamp:
        """The stamp of `stream`'s rows read for `account`: its entity ids and the action types it has columns for."""
        types: dict[str, list[str]] = {}
        for spec in stream.fields:
            target, _, column = spec.source.partition(".")
            if target.startswith("_") and target[1:] in ACTION_ARRAYS:
                types.setdefault(target[1:], []).append(column)
        pivots = tuple((array, f"_{array}", tuple((column.replace("__", "."), column) for column in columns))
                       for array, columns in types.items())
        return cls(account, currency, time_zone, tuple(stream.options["entity_ids"]), pivots)

    @property
    def sources(self) -> frozenset[str]:
        """The fields the stamp adds."""
        return frozenset({spec.source for spec in STAMP_FIELDS} | {target for _, target, _ in self.pivots})

    def record(self, row: dict) -> dict:
        """Stamp one decoded row in place and return it; one without its day or an entity id gets no key."""
        for array, target, kinds in self.pivots:
            values = {item.get("action_type"): item.get("value") for item in row.get(array) or ()}
            row[target] = {column: values.get(kind, "0") for kind, column in kinds}
        entity_ids = [row.get(name) for name in self.entity_names]
        return stamp(row, self.account, entity_ids, row.get("date_start"), self.currency, self.time_zone)

    def columns(self, records: pa.StructArray) -> dict[str, pa.Array] | None:
        """The stamped fields of a page Arrow read, as :meth:`record` makes them; None when a row lacks its day or an
        entity id (Python's way quarantines it), or names an action type twice (Python keeps the last)."""
        *entity_ids, day = [text_at(records, (name,)) for name in (*self.entity_names, "date_start")]
        if day is None or any(part is None for part in entity_ids):
            return None
        added = stamp_columns(self.account, entity_ids, day, self.currency, self.time_zone)
        for array, target, kinds in self.pivots:
            pivoted = _pivot(records, array, kinds)
            if pivoted is None:
                return None
            added[target] = pivoted
        return added


def _pivot(records: pa.StructArray, array: str, kinds: tuple[tuple[str, str], ...]) -> pa.StructArray | None:
    """Each action type's value per row, "0" where the row's array has none; None when the array is not a list of
    ``{"action_type", "value"}`` text or a row has a type twice.

    All types at once: the values found are taken into a grid of one column of rows per type, whose
    cells without a value take the "0" appended after them.
    """
    rows = len(records)
    index = records.type.get_field_index(array)
    item = records.type.field(index).type.value_type if index >= 0 else None
    if item is None or not pa.types.is_struct(item) or any(
            item.get_field_index(name) < 0 or not pa.types.is_string(item.field(name).type)
            for name in ("action_type", "value")):
        return None
    lists = records.field(array)
    items = lists.flatten()
    kind = pc.index_in(items.field("action_type"), value_set=pa.array([kind for kind, _ in kinds], pa.string()))
    found = kind.is_valid()
    cells = (kind.filter(found).to_numpy().astype(np.int64) * rows
             + pc.list_parent_indices(lists).filter(found).to_numpy())
    if len(np.unique(cells)) != len(cells):
        return None
    taken = np.full(rows * len(kinds), len(cells), dtype=np.int64)
    taken[cells] = np.arange(len(cells))
    grid = pa.concat_arrays([items.field("value").filter(found), pa.array(["0"])]).take(pa.array(taken))
    return pa.StructArray.from_arrays([grid.slice(position * rows, rows) for position in range(len(kinds))],
                                      names=[column for _, column in kinds])
