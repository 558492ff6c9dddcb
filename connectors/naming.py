"""Column names: the source's field names in snake_case, as the raw-layer contract asks.

The loader's dlt names every column again with its ``snake_case`` naming convention, which keeps only
ASCII letters, digits and underscores, and shortens a name longer than the warehouse allows. Two
source fields can therefore end up in one column even when their names differ (``FooBar__c`` and
``Foo_Bar__c``, ``Größe`` and ``Grüße``), and the load then fails. :func:`warehouse_name` gives the
name dlt will write, and :func:`distinct_columns` picks a distinct one for every discovered field.
"""

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``SystemModstamp`` → ``system_modstamp``, ``hs_lastmodifieddate`` stays, ``Foo__c`` → ``foo__c``."""
    return _BOUNDARY.sub("_", name.replace(".", "__")).lower()


#: The longest column name every warehouse takes: PostgreSQL's 63 bytes (names here are ASCII, so characters).
#: DuckDB takes longer ones, but one limit for both keeps a stream's columns the same in either warehouse.
MAX_COLUMN_LENGTH = 63
#: Columns the loader (``_loaded_at``, ``_run_id``) and dlt (``_dlt_load_id``, ``_dlt_id``) add to every row.
LOADER_COLUMNS = frozenset({"_loaded_at", "_run_id", "_dlt_load_id", "_dlt_id"})
#: Hex digits of the hash a colliding field's column ends with; more only if even that collides.
HASH_DIGITS = 6

# dlt 1.31's snake_case naming convention (dlt.common.normalizers.naming.snake_case), mirrored rather than
# imported: connectors do not import dlt, whose settings the loader sets before importing it.
# tests/connectors/test_field_names.py checks the mirror against dlt itself.
_DLT_PATH_SEPARATOR = "__"
_DLT_REDUCED_ALPHABET = str.maketrans("+-*@|", "x_xal")
_DLT_NOT_ALLOWED = re.compile(r"[^a-zA-Z\d_]+")
_DLT_WORD_BREAK = re.compile("([^_])([A-Z][a-z]+)")
_DLT_CASE_BREAK = re.compile("([a-z0-9])([A-Z])")
_DLT_LEADING_DIGITS = re.compile(r"^\d+")
_DLT_UNDERSCORES = re.compile("__+")
_DLT_TAG_BYTES = 4  # dlt's tag for its default collision probability of 0.001
_DLT_TAG_ALPHABET = bytes.maketrans(b"/+", b"ab")


def warehouse_name(column: str) -> str:
    """The name dlt gives a column in the warehouse: ``weird "quote"; drop`` → ``weird_quote_drop``.

    Characters other than ASCII letters, digits and ``_`` become ``_`` (so ``größe`` → ``gr_e``), a
    leading digit gets a ``_`` before it, and a name longer than :data:`MAX_COLUMN_LENGTH` keeps its
    start and end around a hash of the whole name. ``__`` (a nested path) is kept. A name this returns
    comes back unchanged from dlt, so it is the column the warehouse holds.
    """
    name = _dlt_path(column)
    if _dlt_path(name) == name:
        return name
    # Where dlt's shortening cuts a long name it can leave ``__`` before a digit, which dlt would change
    # again the next time it reads the name (and again, with a new hash, each time). With its runs of
    # underscores made single, the name is one dlt keeps.
    return _DLT_UNDERSCORES.sub("_", name)


def _dlt_path(column: str) -> str:
    """A name as dlt's ``normalize_path`` writes it once: each ``__``-separated part, then the whole shortened."""
    parts = [_dlt_identifier(part) for part in column.split(_DLT_PATH_SEPARATOR) if part.strip()]
    return _dlt_shortened(_DLT_PATH_SEPARATOR.join(part for part in parts if part.strip()), column)


def _dlt_identifier(identifier: str) -> str:
    """One ``__``-separated part of a name, as dlt's ``normalize_identifier`` writes it."""
    identifier = identifier.strip()
    name = _DLT_NOT_ALLOWED.sub("_", identifier.translate(_DLT_REDUCED_ALPHABET))
    name = _DLT_CASE_BREAK.sub(r"\1_\2", _DLT_WORD_BREAK.sub(r"\1_\2", name)).lower()
    if _DLT_LEADING_DIGITS.match(name):
        name = "_" + name
    stripped = name.rstrip("_")
    name = stripped + "x" * (len(name) - len(stripped))  # a trailing "_" would read as half a path separator
    return _dlt_shortened(_DLT_UNDERSCORES.sub("_", name), identifier)


def _dlt_shortened(name: str, original: str) -> str:
    """`name` cut to :data:`MAX_COLUMN_LENGTH` around a tag hashed from `original`, as dlt shortens it."""
    if len(name) <= MAX_COLUMN_LENGTH:
        return name
    digest = hashlib.shake_128(original.encode("utf-8")).digest(_DLT_TAG_BYTES)
    tag = base64.b64encode(digest).rstrip(b"=").translate(_DLT_TAG_ALPHABET).lower().decode("ascii")
    kept = MAX_COLUMN_LENGTH - len(tag)
    return name[: kept // 2 + kept % 2] + tag + name[len(name) - kept // 2:]


def distinct_columns(declared: Iterable[str], discovered: Mapping[str, str]) -> dict[str, str]:
    """A distinct warehouse column for every discovered field: `discovered` maps each one's source name to its column.

    Declared columns keep their names. A discovered field keeps its :func:`warehouse_name` unless
    that is a declared column's, a loader column's (:data:`LOADER_COLUMNS`), or another discovered
    field's: then every field of that name gets ``<name>_<6 hex digits of the SHA-1 of its exact
    source name>`` (``FooBar__c`` and ``Foo_Bar__c`` → ``foo_bar__c_3b2c5d`` and ``foo_bar__c_b3d3a6``),
    the name cut so the whole fits :data:`MAX_COLUMN_LENGTH`; in the unlikely case that is taken too,
    more digits. So a field's column depends only on its own name and on which names collide with it,
    never on the order the source lists its fields.

    The trade-off: no state is kept from one night to the next, so a name is stable only while the
    set of colliding names is. When a field whose name collides with an existing one appears (or
    a declared field takes its name), the existing field moves to its hashed column from then on,
    and its old column keeps the rows loaded before, null afterwards; when the collision goes
    away, the remaining field moves back to the plain name. Fields that collide with nothing keep
    the name dlt has always given them, except on DuckDB a name past :data:`MAX_COLUMN_LENGTH`,
    now shortened there as on PostgreSQL.
    """
    taken = {warehouse_name(column) for column in declared} | LOADER_COLUMNS | {""}
    wanted = {source: warehouse_name(column) for source, column in discovered.items()}
    counts: dict[str, int] = {}
    for name in wanted.values():
        counts[name] = counts.get(name, 0) + 1
    columns = {source: name for source, name in wanted.items() if name not in taken and counts[name] == 1}
    taken |= set(columns.values())
    for source in sorted(set(wanted) - set(columns)):
        columns[source] = _hashed_name(wanted[source], source, taken)
        taken.add(columns[source])
    return {source: columns[source] for source in discovered}


def _hashed_name(name: str, source: str, taken: set[str]) -> str:
    """``<name>_<hex digits of the SHA-1 of source>``, as few digits (from :data:`HASH_DIGITS`) as make it untaken."""
    digest = hashlib.sha1(source.encode("utf-8")).hexdigest()
    for digits in range(HASH_DIGITS, len(digest) + 1, 2):
        base = name[: MAX_COLUMN_LENGTH - digits - 1].rstrip("_")
        candidate = warehouse_name(f"{base}_{digest[:digits]}")
        if candidate not in taken:
            return candidate
    raise ValueError(f"field {source!r}: no column name left for it (every hashed form of {name!r} is taken)")
