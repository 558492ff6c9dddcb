"""Periodic key reconciliation of the raw tables: stored rows whose record vanished from the source get flagged.

A record hard-deleted at the source (Salesforce: an emptied recycle bin, a ``hardDelete``, or the bin's purge after
about 15 days; HubSpot: a GDPR delete) leaves every listing, so an incremental read never learns of it and the raw
table would keep it as a live row forever. Every `RECONCILIATION_SETTING` days (Fivetran's inferred-delete pattern),
after the stream's load has committed, the loader lists every key the source still holds (the client's
``source_keys(stream)``: pages of primary-key values, deleted-but-retained records included) into a temporary table
and anti-joins the raw table with it, in the warehouse. The stored rows whose key the listing lacks, and that are
not flagged yet, get `VANISHED_COLUMN` (when the reconciliation found them gone) and this load's ``_loaded_at`` and
``_run_id``, so the incremental dbt models take them up again. No row is ever deleted. A record that comes back is
merged whole by a normal read, whose row has no `VANISHED_COLUMN` value: the flag clears.

Each reconciliation is recorded in ``raw_<source>._key_reconciliation`` (`RECONCILIATIONS_TABLE`), in the
transaction that flags its rows: a run that dies before it commits flagged nothing and recorded nothing, and the
next run lists the keys again. A read that starts without a cursor and leaves no row of an earlier run in the table
(a stream's first load) read every record the source has, so it is recorded as a reconciliation too.

A listing that is not the whole flags nothing: one the source stopped early (`SourceLimitReached`, a spent API
budget) or refused, and one that listed no key at all while the table holds unflagged rows (an API answering
nothing must not mark a whole table deleted). Nor does one that would flag more than `MAX_VANISHED_SETTING` percent
of the table's unflagged rows (default 20), once at least `MIN_GUARDED_VANISHED_ROWS` rows would be flagged: a
listing truncated without an error (a pagination fault, a permission hiding part of the records) is likelier than
that many deletions, and its flags would take live records out of every mart; a small table losing a few rows is
ordinary. Each is reported in the stream's notes, and the next run tries again (after a mass deletion at the
source, the setting raised for one run lets it through).
What a stream's reconciliation did, or why it did not run (not due yet, or a stream its client opts out with
`NOT_RECONCILED_OPTION`: HubSpot's append-only email events and form submissions), is its load's `reconciliation`.
A flag says the record left the source's listings, not why: a HubSpot record merged away leaves them too (its
survivor lists it in ``hs_merged_object_ids``), and staging counts it a merge, not a delete.

A stream read whole (no cursor, no window) needs no listing: its read is one. Its load merges on the key, and
:func:`flag_unread_rows` flags the stored rows the read no longer has, every run, with the same guard.

The listings run once every stream of the sync is loaded, never alongside the reads (one client, one API budget);
a listing that meets a limit of the whole source leaves the other streams' listings to the next run, and a stream
whose read stopped early is not listed. A record that comes back with the content its row had before is counted
unchanged by its merge (:mod:`pipelines.lib.merge_changes` compares the columns dlt loads; `VANISHED_COLUMN` is
not one of them).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv
from dlt.common.destination.exceptions import DestinationUndefinedEntity
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

from connectors.errors import SourceError, SourceLimitReached
from connectors.redact import get_logger
from connectors.schema import Stream
from pipelines.lib.settings import whole_days, whole_percent

if TYPE_CHECKING:
    import dlt

    from pipelines.lib.raw_loader import StreamLoad

log = get_logger("pipelines.key_reconciliation")

#: The setting of how many days apart a stream's keys are reconciled (0: every run).
RECONCILIATION_SETTING = "RAW_KEY_RECONCILIATION_DAYS"
DEFAULT_RECONCILIATION_DAYS = 7
#: The setting of the largest share of a table's unflagged rows, in percent, one reconciliation may flag (100: any).
MAX_VANISHED_SETTING = "RAW_KEY_RECONCILIATION_MAX_VANISHED_PERCENT"
DEFAULT_MAX_VANISHED_PERCENT = 20
#: Fewer rows than this to flag are never refused, whatever their share: 3 of 10 rows gone is ordinary.
MIN_GUARDED_VANISHED_ROWS = 100
#: The loader column of a stored row whose key the source no longer lists: when a reconciliation found it gone.
VANISHED_COLUMN = "_vanished_at"
#: The raw schema's table of the reconciliations done: one row per stream and reconciliation.
RECONCILIATIONS_TABLE = "_key_reconciliation"
#: The temporary table a listing's keys go into, and its column (a name no stream's key has).
KEYS_TABLE = "_cg_source_keys"
KEY_COLUMN = "_cg_listed_key"
#: A nightly run may start a little earlier than the one a reconciliation period before it: without this slack it
#: would find that one not quite old enough and put its reconciliation off by a whole night.
SCHEDULE_SLACK = timedelta(hours=1)

KeyLister = Callable[[Stream], Iterable[Sequence[str]]]


def reconciliation_days() -> int:
    """``RAW_KEY_RECONCILIATION_DAYS``: whole days (0 or more, default 7) between two reconciliations of a stream's
    keys, 0 for every run; a `ValueError` naming the variable otherwise."""
    return whole_days(RECONCILIATION_SETTING, DEFAULT_RECONCILIATION_DAYS, zero_means="reconciles every run")


def max_vanished_percent() -> int:
    """``RAW_KEY_RECONCILIATION_MAX_VANISHED_PERCENT``: the largest share (a whole percent from 1 to 100, default 20)
    of a table's unflagged rows one reconciliation may flag, 100 for any; a `ValueError` naming the variable
    otherwise."""
    return whole_percent(MAX_VANISHED_SETTING, DEFAULT_MAX_VANISHED_PERCENT, hundred_means="flags any share")


#: The stream option by which a client opts a cursor-read stream out of the reconciliation: why, as text.
NOT_RECONCILED_OPTION = "keys_not_reconciled"


def reconciles(stream: Stream) -> bool:
    """Whether `stream`'s keys are reconciled: it is read by its cursor and merged on its key, and its client does
    not opt it out. A full refresh is its own listing (:func:`flag_unread_rows`), a windowed stream's rows are days of
    metrics, not records, and a stream whose options give a `NOT_RECONCILED_OPTION` (append-only events too many to
    list, say) is left as it is read; its load's ``reconciliation`` says so (:func:`not_reconciled`)."""
    return stream.cursor is not None and stream.window_column is None and not stream.options.get(NOT_RECONCILED_OPTION)


def not_reconciled(stream: Stream) -> str | None:
    """What a reconciliation says of a cursor-read stream its client opted out (`NOT_RECONCILED_OPTION`), else None."""
    reason = stream.options.get(NOT_RECONCILED_OPTION) if stream.cursor is not None else None
    return f"not reconciled: {reason}" if reason else None


@dataclass(frozen=True)
class KeyReconciliation:
    """The reconciliation of a source's keys: its client's key listing, the days between two of a stream, and the
    largest share of a table's unflagged rows, in percent, one may flag."""

    source_keys: KeyLister
    every_days: int
    max_vanished_percent: int

    @classmethod
    def of(cls, source_keys: KeyLister | None) -> KeyReconciliation | None:
        """The reconciliation of a source whose client lists its keys with `source_keys` (None when it cannot),
        its period read from `RECONCILIATION_SETTING` and its largest share flagged from `MAX_VANISHED_SETTING` (a
        `ValueError` naming the one that is not a whole number in its range)."""
        if source_keys is None:
            return None
        return cls(source_keys, reconciliation_days(), max_vanished_percent())

    def run(self, pipeline: dlt.Pipeline, streams: Sequence[Stream], results: Mapping[str, StreamLoad],
            run_id: str, loaded_at: datetime) -> None:
        """Reconcile the keys of each of `streams` that is due, once its load has committed, and say in its
        `results` what was done or why not (``reconciliation``), and in their notes what was left undone by a fault;
        `run_id` and `loaded_at` are the load's stamps."""
        reconciler = _Reconciler(pipeline, self, run_id, loaded_at)
        for stream in streams:
            if reconciles(stream) and stream.name in results:
                result = results[stream.name]
                result.reconciliation = reconciler.reconcile(stream, result)
            elif stream.name in results and (opted_out := not_reconciled(stream)) is not None:
                results[stream.name].reconciliation = opted_out


class _Reconciler:
    """The reconciliations of one sync, stream after stream, through `pipeline`'s destination."""

    def __init__(self, pipeline: dlt.Pipeline, reconciliation: KeyReconciliation, run_id: str,
                 loaded_at: datetime) -> None:
        self.pipeline = pipeline
        self.source_keys = reconciliation.source_keys
        self.every_days = reconciliation.every_days
        self.max_vanished_percent = reconciliation.max_vanished_percent
        self.run_id = run_id
        self.loaded_at = loaded_at
        self.source_limit: SourceLimitReached | None = None  # a limit of the whole source an earlier listing met

    def reconcile(self, stream: Stream, result: StreamLoad) -> str:
        """Reconcile `stream`'s keys when due, flagging its vanished rows and counting them in `result`, whose notes
        get what a fault left undone; what was done or why not."""
        if self.source_limit is not None:
            return _left_undone(result, f"skipped: an earlier listing met a limit of the whole source "
                                        f"({self.source_limit}); the next run lists the keys")
        if result.stopped_early:
            return "skipped: the stream's read stopped early; the next run lists the keys"
        with self.pipeline.sql_client() as client:
            table = client.make_qualified_table_name(stream.name)
            if not _with_vanished_column(client, table):
                return "skipped: the stream has no table yet"
            reconciliations = client.make_qualified_table_name(RECONCILIATIONS_TABLE)
            client.execute_sql(f"create table if not exists {reconciliations} (stream varchar, reconciled_at "
                               "timestamp with time zone, run_id varchar, keys_listed bigint, vanished bigint)")
            if result.cursor_before is None and _rows_of_earlier_runs(client, table, self.run_id) == 0:
                self._record(client, reconciliations, stream, None, 0)
                return "counted as done: the stream was read whole (no cursor before)"
            last = client.execute_sql(f"select max(reconciled_at) from {reconciliations} where stream = %s",
                                      stream.name)[0][0]
            now = datetime.now(UTC)
            if last is not None and now - last < timedelta(days=self.every_days) - SCHEDULE_SLACK:
                return (f"not due: last done {last.astimezone(UTC).isoformat()}, every "
                        f"{self.every_days} days ({RECONCILIATION_SETTING})")
            return self._list_and_flag(client, stream, result, table, reconciliations)

    def _list_and_flag(self, client, stream: Stream, result: StreamLoad, table: str, reconciliations: str) -> str:
        """List `stream`'s keys at the source and flag the stored rows of `table` whose key is not among them,
        unless the listing is not whole; what was done or why not."""
        client.execute_sql(f"create temporary table {KEYS_TABLE} ({KEY_COLUMN} varchar)")
        try:
            try:
                listed = self._list_keys(client, stream)
            except SourceLimitReached as exc:
                if exc.source_wide:
                    self.source_limit = exc
                log.warning(f"{stream.name}: listing its keys stopped early: {exc}; nothing is flagged as vanished")
                return _left_undone(result, f"stopped early: {exc}; nothing flagged, the next run lists the keys "
                                            "again")
            except SourceError as exc:
                log.warning(f"{stream.name}: listing its keys failed: {exc}; nothing is flagged as vanished")
                return _left_undone(result, f"failed: {exc}; nothing flagged, the next run lists the keys again")
            unflagged, vanishing = _flaggable(client, table, _vanished_rows(client, stream))
            if listed == 0 and unflagged:
                log.warning(f"{stream.name}: the source listed no {stream.primary_key}; nothing is flagged as vanished")
                return _left_undone(result, f"refused: the source listed no {stream.primary_key} while the table "
                                            f"holds {unflagged} rows; nothing flagged (more likely a fault at the "
                                            "source than every record gone), the next run lists the keys again")
            refusal = _too_many_vanished(vanishing, unflagged, self.max_vanished_percent)
            if refusal is not None:
                log.warning(f"{stream.name}: {refusal}")
                return _left_undone(result, refusal)
            result.vanished = self._flag_vanished(client, stream, table, reconciliations, listed, vanishing)
        finally:
            client.execute_sql(f"drop table if exists {KEYS_TABLE}")
        return (f"done: {listed} keys listed at the source; {result.vanished} stored rows no longer there flagged "
                f"{VANISHED_COLUMN}")

    def _list_keys(self, client, stream: Stream) -> int:
        """Put every key the source lists for `stream` into `KEYS_TABLE`, page by page; how many it listed."""
        listed = 0
        for page in self.source_keys(stream):
            keys = pc.drop_null(pc.cast(pa.array(page), pa.string()))
            listed += len(keys)
            if len(keys):
                _insert_keys(client, pa.table({KEY_COLUMN: keys}))
        return listed

    def _flag_vanished(self, client, stream: Stream, table: str, reconciliations: str, listed: int,
                       count: int) -> int:
        """Flag the `count` unflagged rows of `table` whose key `KEYS_TABLE` lacks, and record the reconciliation, in
        one transaction; how many rows it flagged. The count was taken just before: during a sync, its loader alone
        writes the raw schema."""
        now = datetime.now(UTC)
        with client.begin_transaction():
            if count:
                _flag(client, stream, table, _vanished_rows(client, stream), (), now, self.loaded_at, self.run_id,
                      count)
            self._record(client, reconciliations, stream, listed, count, now)
        return count

    def _record(self, client, reconciliations: str, stream: Stream, listed: int | None, vanished: int,
                at: datetime | None = None) -> None:
        """Record a reconciliation of `stream` (`listed` None: its whole read counts as one)."""
        client.execute_sql(f"insert into {reconciliations} (stream, reconciled_at, run_id, keys_listed, vanished) "
                           "values (%s, %s, %s, %s, %s)", stream.name, at or datetime.now(UTC), self.run_id, listed,
                           vanished)


def flag_unread_rows(client, stream: Stream, result: StreamLoad, run_id: str, loaded_at: datetime,
                     guarded: bool = True) -> str:
    """After a full refresh of `stream` loaded its whole read (merged on its key, run `run_id`), flag the stored
    rows it did not read: their record left the source (a cancelled ad account's campaigns, a deleted owner). The
    read is the listing, so this runs every time; the rows are kept, flagged `VANISHED_COLUMN` and stamped with
    this load, and a record read again clears its flag. Unless `guarded` is False (the stream may read nothing,
    ``RAW_EMPTY_REFRESH_ALLOWED``), more than ``RAW_KEY_RECONCILIATION_MAX_VANISHED_PERCENT`` of the table's
    unflagged rows (at least `MIN_GUARDED_VANISHED_ROWS`) are not flagged: a read cut short without an error is
    likelier. Counts them in `result` (its notes say a refusal); what was done."""
    table = client.make_qualified_table_name(stream.name)
    if not _with_vanished_column(client, table):
        return "skipped: the stream has no table yet"
    unread = f"{VANISHED_COLUMN} is null and _run_id is distinct from %s"
    unflagged, vanishing = _flaggable(client, table, unread, run_id)
    refusal = _too_many_vanished(vanishing, unflagged, max_vanished_percent(), "read") if guarded else None
    if refusal is not None:
        log.warning(f"{stream.name}: {refusal}")
        return _left_undone(result, refusal)
    if vanishing:
        _flag(client, stream, table, unread, (run_id,), datetime.now(UTC), loaded_at, run_id, vanishing)
    result.vanished += vanishing
    return f"done: read whole; {vanishing} stored rows no longer there flagged {VANISHED_COLUMN}"


def _flaggable(client, table: str, condition: str, *params) -> tuple[int, int]:
    """In one scan of `table`: its rows not flagged yet, and those of them that meet `condition` (whose record is
    gone; `params` fill its placeholders)."""
    return tuple(client.execute_sql(f"select count(*) filter (where {VANISHED_COLUMN} is null), "
                                    f"count(*) filter (where {condition}) from {table}", *params)[0])


def _flag(client, stream: Stream, table: str, condition: str, params: tuple, at: datetime, loaded_at: datetime,
          run_id: str, count: int) -> None:
    """Flag the `count` rows of `stream`'s `table` that meet `condition` gone from the source (`VANISHED_COLUMN`
    `at`), stamped with the load (`loaded_at`, `run_id`) so the incremental dbt models take them up again."""
    client.execute_sql(f"update {table} set {VANISHED_COLUMN} = %s, _loaded_at = %s, _run_id = %s where {condition}",
                       at, loaded_at, run_id, *params)
    log.info(f"{stream.name}: {count} stored rows are no longer at the source; flagged {VANISHED_COLUMN}")


def _too_many_vanished(count: int, unflagged: int, percent: int, listing: str = "listing") -> str | None:
    """Why the `count` rows whose key the `listing` lacks are not flagged: they are at least
    `MIN_GUARDED_VANISHED_ROWS` and more than `percent` of the table's `unflagged` rows; None when they may be."""
    if count < MIN_GUARDED_VANISHED_ROWS or count * 100 <= percent * unflagged:
        return None
    return (f"refused: {count} of {unflagged} stored rows ({round(100 * count / unflagged, 1):g}%) would be "
            f"flagged, more than {MAX_VANISHED_SETTING} ({percent}); nothing flagged (more likely a truncated "
            f"{listing} than that many records deleted); if they were deleted, raise the setting for one run")


def _left_undone(result: StreamLoad, reason: str) -> str:
    """`reason`, a reconciliation left undone by a fault, also in `result`'s notes."""
    result.notes.append(f"key reconciliation {reason}")
    return reason


def _vanished_rows(client, stream: Stream) -> str:
    """The condition of the unflagged rows of `stream`'s table whose key `KEYS_TABLE` lacks."""
    key = client.escape_column_name(stream.primary_key)
    # The key is compared as text: the listing's keys are text, whatever type the raw column has. NOT EXISTS, not
    # NOT IN: PostgreSQL runs it as a hash anti-join however many keys there are.
    return (f"{VANISHED_COLUMN} is null and not exists (select 1 from {KEYS_TABLE} "
            f"where {KEY_COLUMN} = cast({key} as varchar))")


def _with_vanished_column(client, table: str) -> bool:
    """Give `table` the `VANISHED_COLUMN` where it lacks it (every reconciled table has it, flagged rows or not);
    False when the table does not exist (a stream whose loads brought no row yet)."""
    try:
        client.execute_sql(f"alter table {table} add column if not exists {VANISHED_COLUMN} timestamp with time zone")
    except (DatabaseUndefinedRelation, DestinationUndefinedEntity):
        return False
    return True


def _rows_of_earlier_runs(client, table: str, run_id: str) -> int:
    """The rows of `table` an earlier run than `run_id` loaded."""
    return client.execute_sql(f"select count(*) from {table} where _run_id is distinct from %s", run_id)[0][0]


def _insert_keys(client, keys: pa.Table) -> None:
    """Append a page of keys to `KEYS_TABLE`: DuckDB scans the Arrow table, PostgreSQL copies it in as CSV."""
    connection = client.native_connection
    if isinstance(client, DuckDbSqlClient):
        view = f"{KEYS_TABLE}_page"
        connection.register(view, keys)
        try:
            client.execute_sql(f"insert into {KEYS_TABLE} select {KEY_COLUMN} from {view}")
        finally:
            connection.unregister(view)
        return
    text = io.BytesIO()
    pyarrow.csv.write_csv(keys, text, pyarrow.csv.WriteOptions(include_header=False))
    text.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"copy {KEYS_TABLE} ({KEY_COLUMN}) from stdin with (format csv)", text)
