"""The Dagster instance's storage: Dagster's own SQLite storage, with the event log's connections kept open.

Dagster's SQLite event log creates a new SQLAlchemy engine, opens a connection and throws both away for every
read and write (``SqliteEventLogStorage._connect``). A night stores about 1,500 events (each of the ~300 dbt tests
is an asset check: planned, output, evaluation), so at scale S this took ~9.6 s of a 30 s night. Here each
database file keeps one engine whose pool holds its connection open, and the events cost ~3 s a night
(benchmarks/README.md, twelfth round). Files, schema and transactions are Dagster's own: the webserver and
``dagster`` CLI read the same databases, and an instance without this class (the default) reads them too.

Selected in ``dagster.yaml`` (``storage: custom``), which ``make ui`` and ``make demo`` copy into the Dagster home.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SQLITE_BUSY_TIMEOUT_SECONDS, SqliteEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData

#: Each run has its own database file: the engines of the most recently used files stay open, so a webserver
#: browsing many runs does not hold a file open per run.
OPEN_DATABASES = 8


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log, connecting through one engine per database file instead of one per call."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[tuple[int, str], sa.Engine] = OrderedDict()  # Dagster's init connects already
        self._tables_found: set[str] = set()
        super().__init__(base_dir, inst_data)

    def has_table(self, table_name: str) -> bool:
        """Whether the index database has the table. Dagster asks before most writes, each time through a new
        engine; a table once found stays (migrations add tables, nothing drops them), so it is asked once."""
        if table_name in self._tables_found:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables_found.add(table_name)
        return found

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        with self._db_lock, self._engine(shard).connect() as connection, connection.begin():
            yield connection

    def _engine(self, shard: str) -> sa.Engine:
        """The engine of `shard`'s database file, created (and the file's schema made) the first time."""
        key = (os.getpid(), shard)  # a forked process opens its own connections
        engine = self._engines.get(key)
        if engine is not None:
            self._engines.move_to_end(key)
            return engine
        engine = sa.create_engine(self.conn_string_for_shard(shard),
                                  connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[key] = engine
        while len(self._engines) > OPEN_DATABASES:
            _close(*self._engines.popitem(last=False))
        return engine

    def dispose(self) -> None:
        """Close every open connection, then Dagster's own clean-up (its file watcher)."""
        with self._db_lock:
            while self._engines:
                _close(*self._engines.popitem())
        super().dispose()


def _close(key: tuple[int, str], engine: sa.Engine) -> None:
    """Close the engine's connections; an engine a forked process inherited is only forgotten (SQLite's connections
    must not be closed across a fork: the parent still uses them)."""
    engine.dispose(close=key[0] == os.getpid())


class PooledSqliteStorage(DagsterSqliteStorage):
    """Dagster's default SQLite storage (runs, event log, schedules under `base_dir`), with the pooled event log."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data)
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value) -> PooledSqliteStorage:
        """The storage `dagster.yaml` configures (``base_dir``)."""
        return cls.from_local(inst_data=inst_data, **config_value)
