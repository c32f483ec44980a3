"""SQL of the instance-wide TMDb rate limit: one row per limit holding the next free request slot.

Used by cinegraph_assets.tmdb.ratelimit. Each reservation is ONE atomic UPDATE ... RETURNING, so any
number of threads and processes (runs) share the limit without a read-then-write race:
PostgreSQL serializes it with the row lock, SQLite with its database write lock.

The PostgreSQL table lives in the warehouse database and is created by the migrations (0005), like
every other table: a run only ever writes its rows, so a run role without DDL rights can pace its
requests. The SQLite table lives in its own small file in CINEGRAPH_STATE_DIR, not in the warehouse,
so a long warehouse write transaction never delays a request slot.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from sqlalchemy.engine import Engine

TABLE = "tmdb_rate_limit"

# Slot = max(next free slot, now); the next free slot moves one interval past it. The database clock
# is used so that processes on several machines agree on "now"; clock_timestamp() in SET/RETURNING
# is read after the row lock is granted, so a wait for the lock cannot hand out a slot in the past.
_PG_RESERVE = f"""
UPDATE {TABLE} SET next_slot = GREATEST(next_slot, extract(epoch FROM clock_timestamp())) + %(interval)s
WHERE name = %(name)s
RETURNING next_slot - %(interval)s - extract(epoch FROM clock_timestamp()) AS wait"""
_PG_PAUSE = f"""
UPDATE {TABLE} SET next_slot = GREATEST(next_slot, extract(epoch FROM clock_timestamp()) + %(seconds)s)
WHERE name = %(name)s"""
_PG_ENSURE_ROW = f"""
INSERT INTO {TABLE} (name, next_slot) VALUES (%(name)s, 0) ON CONFLICT (name) DO NOTHING"""


class PostgresRateSlots:
    """Slots kept in the PostgreSQL warehouse (every run and machine on the instance shares them).

    The engine's warehouse must be migrated (tmdb.ratelimit.shared_rate_limiter sees to it).

    Every request of the process takes its slot through ONE connection of its own, held for the
    store's life in autocommit mode: a reservation is then one round trip (the UPDATE is its own
    transaction), not a pool checkout, a liveness ping, BEGIN, the UPDATE and COMMIT. The row lock
    serializes reservations anyway, so sharing the connection (under a lock) costs no parallelism;
    going through the pool cost the details workers a third of their time and, with more workers
    than pooled connections, a new PostgreSQL backend every few requests (benchmarks).
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._ready: set[str] = set()
        self._lock = threading.Lock()
        self._dbapi_conn = None

    def _cursor_run(self, sql: str, params: dict):
        """Run one statement on the store's connection; a dropped connection is reopened once."""
        dbapi = self.engine.dialect.dbapi
        with self._lock:
            for attempt in (1, 2):
                if self._dbapi_conn is None:
                    self._dbapi_conn = self._connect()
                try:
                    with self._dbapi_conn.cursor() as cursor:
                        cursor.execute(sql, params)
                        return cursor.fetchone() if cursor.description else None
                except (dbapi.OperationalError, dbapi.InterfaceError):
                    # The server closed the connection (a restart, an idle timeout): reconnect once.
                    self.close()
                    if attempt == 2:
                        raise

    def _connect(self):
        fairy = self.engine.raw_connection()
        conn = fairy.driver_connection
        fairy.detach()  # ours for good: never handed back to the pool
        conn.rollback()  # the pool's ping may have opened a transaction; autocommit needs none
        conn.autocommit = True
        with conn.cursor() as cursor:
            # The slot row is ephemeral pacing state, taken once per request: waiting for its WAL
            # flush on every commit cost the details workers most of their time (benchmarks). After
            # a database crash the slot merely restarts from the clock, so no durability is lost
            # that matters.
            cursor.execute("SET synchronous_commit TO OFF")
        return conn

    def close(self) -> None:
        conn, self._dbapi_conn = self._dbapi_conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already gone
                pass

    def _ensure(self, name: str) -> None:
        if name not in self._ready:
            self._cursor_run(_PG_ENSURE_ROW, {"name": name})
            self._ready.add(name)

    def reserve(self, name: str, interval: float) -> float:
        """Take the next slot; return how many seconds from now it starts (<= 0: go now)."""
        self._ensure(name)
        return float(self._cursor_run(_PG_RESERVE, {"name": name, "interval": interval})[0])

    def pause(self, name: str, seconds: float) -> None:
        """No slot starts earlier than `seconds` from now (TMDb said 429 / Retry-After)."""
        self._ensure(name)
        self._cursor_run(_PG_PAUSE, {"name": name, "seconds": seconds})


class SQLiteRateSlots:
    """Slots kept in a small SQLite file shared by every process on this machine."""

    def __init__(self, path: str | Path, clock):
        self.path = str(path)
        self.clock = clock
        self._local = threading.local()
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # Autocommit mode: each statement below is its own atomic transaction.
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # ephemeral state: losing it on a crash is fine
            conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT PRIMARY KEY, next_slot REAL NOT NULL)")
            self._local.conn = conn
        return conn

    def _ensure(self, conn: sqlite3.Connection, name: str) -> None:
        ready = self._local.__dict__.setdefault("ready", set())
        if name not in ready:
            conn.execute(f"INSERT OR IGNORE INTO {TABLE} (name, next_slot) VALUES (?, 0)", (name,))
            ready.add(name)

    def reserve(self, name: str, interval: float) -> float:
        """Take the next slot; return how many seconds from now it starts (<= 0: go now)."""
        conn = self._conn()
        self._ensure(conn, name)
        row = conn.execute(
            f"UPDATE {TABLE} SET next_slot = max(next_slot, ?) + ? WHERE name = ? "
            f"RETURNING next_slot - ?", (self.clock(), interval, name, interval)).fetchone()
        # Measured after the statement: if it waited for the file lock, the slot (taken from the
        # clock read before) is already in the past and the limiter sees it as late.
        return float(row[0]) - self.clock()

    def pause(self, name: str, seconds: float) -> None:
        """No slot starts earlier than `seconds` from now (TMDb said 429 / Retry-After)."""
        conn = self._conn()
        self._ensure(conn, name)
        conn.execute(f"UPDATE {TABLE} SET next_slot = max(next_slot, ?) WHERE name = ?",
                     (self.clock() + seconds, name))
