"""Schema drift for the ad platforms: fields a platform reports beyond the declared ones, as new fields.

What "a new field" means differs per platform, so each client discovers its own way (Google
Ads: the field catalogue of ``GoogleAdsFieldService``, since a GAQL answer holds only what was
selected; Meta: the node type's ``metadata`` fields, since Graph answers hold only the requested
fields; LinkedIn: the keys of the records themselves, which come whole). This module turns what
they found into :class:`~connectors.schema.Field` declarations: a column per new field, typed
from what is known about it, structures kept as JSON text so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterable

from connectors.naming import snake_case
from connectors.schema import Field, Stream


def value_type(values: Iterable[object]) -> str:
    """The column type that holds every one of `values` without loss (nulls ignored)."""
    present = [value for value in values if value is not None]
    if not present:
        return "string"
    if all(isinstance(value, bool) for value in present):
        return "bool"
    if all(isinstance(value, int) and not isinstance(value, bool) for value in present):
        return "int"
    if any(isinstance(value, (dict, list)) for value in present):
        return "json"
    return "string"


def declared_roots(stream: Stream) -> set[str]:
    """The first path step of every declared source (``totalBudget`` for ``totalBudget.amount``)."""
    return {spec.source.split(".", 1)[0] for spec in stream.fields}


def new_record_fields(stream: Stream, records: Iterable[dict]) -> list[Field]:
    """A field for every top-level key of `records` that no declared field reads, typed from its values.

    Each field's column is the key in snake_case, even when a declared or another new field has that
    name (``createdAt`` beside the declared ``created_at``): :meth:`~connectors.schema.Stream.with_fields`,
    which the fields are meant for, gives each a column of its own.
    """
    roots = declared_roots(stream)
    values: dict[str, list[object]] = {}
    for record in records:
        for key, value in record.items():
            if key not in roots and not key.startswith("_"):
                values.setdefault(key, []).append(value)
    return [Field(snake_case(key), key, value_type(values[key])) for key in sorted(values)]
