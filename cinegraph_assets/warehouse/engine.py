"""Engines for the warehouse, one per URL per process, configured for each dialect."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from cinegraph_assets.settings import setting

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def warehouse_url(explicit: str | None = None) -> str:
    """The warehouse URL: explicit, else CINEGRAPH_DATABASE_URL, else SQLite inside DAGSTER_HOME."""
    return setting("CINEGRAPH_DATABASE_URL", explicit)


def _on_sqlite_connect(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the UI's metadata queries, a second run) read while a run writes;
    # busy_timeout makes concurrent writers wait instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # pysqlite's default deferred transactions upgrade to write locks lazily, which deadlocks two
    # writers; BEGIN IMMEDIATE takes the write lock up front so the second writer simply waits.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def get_engine(url: str | None = None) -> Engine:
    """A pooled engine for the warehouse URL (cached per process)."""
    resolved = warehouse_url(url)
    with _lock:
        engine = _engines.get(resolved)
        if engine is not None:
            return engine
        parsed = make_url(resolved)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(
                resolved,
                connect_args={"timeout": 60, "check_same_thread": False, "isolation_level": None},
                pool_pre_ping=True,
            )
            sa.event.listen(engine, "connect", _on_sqlite_connect)
            sa.event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = sa.create_engine(
                resolved, pool_pre_ping=True, pool_size=8, max_overflow=8, pool_recycle=1800
            )
        _engines[resolved] = engine
        return engine


def dispose_all() -> None:
    """Close every pooled connection (tests dropping databases, forked processes)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
