"""One TMDb request budget (TMDB_MAX_RPS) shared by every thread, run and process on the instance.

How: requests are handed evenly spaced *slots* (a zero-burst GCRA / "virtual scheduling" limiter).
The next free slot time lives in a database row; taking a slot is one atomic UPDATE ... RETURNING
(warehouse/rate_slots.py), and the caller sleeps until its slot. Slots are spaced evenly for
everyone at min(95% of max_rps, max_rps - 1.6) a second, so no one-second window, sliding or
wall-clock, holds more than max_rps - 1 requests, even when a second run starts mid-way, and an
idle period never builds up a burst. The spare request absorbs network jitter between the moment
a slot starts and the moment TMDb counts the request. A thread that wakes up too late for its
slot takes a new one rather than bunching up with the next (see SlotRateLimiter).

Where the row lives: in the warehouse when it is PostgreSQL (shared by every machine of the
deployment), otherwise in a small SQLite file in CINEGRAPH_STATE_DIR (shared by every process on
this machine).

Why not pyrate-limiter's buckets: its SQLite bucket counts then inserts in two statements (two
processes can both see room and both insert unless the optional file lock is used), and its
PostgreSQL bucket needs psycopg 3's pool, which this deployment does not ship. The slot row is
simpler, atomic and easy to reason about.

Plain Python (no Dagster).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Protocol

from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets.warehouse.rate_slots import PostgresRateSlots, SQLiteRateSlots

#: Fraction of max_rps actually scheduled. TMDb (and the sandbox) count requests per clock second
#: on arrival; 5% spacing slack keeps jittered arrivals from pushing one extra into a second.
DEFAULT_HEADROOM = 0.95
#: ...and never closer than this many requests a second to the limit: a sliding one-second window
#: can hold one slot more than the rate (both ends), plus one sent up to half a slot late, so at a
#: low limit (20) 5% is not enough room and an absolute margin decides.
MIN_MARGIN_RPS = 1.6
LIMIT_NAME = "tmdb"
SQLITE_FILE_NAME = "tmdb_rate_limit.sqlite"


class RateLimiter(Protocol):
    def acquire(self) -> float:
        """Block until this caller may send one request; return the seconds waited."""

    def pause(self, seconds: float) -> None:
        """Let nobody sharing the limit send anything for `seconds` (after a 429)."""


class UnlimitedRateLimiter:
    """No limit (unit tests, unthrottled benchmarks)."""

    def acquire(self) -> float:
        return 0.0

    def pause(self, seconds: float) -> None:
        return None


class SlotStore(Protocol):
    def reserve(self, name: str, interval: float) -> float: ...

    def pause(self, name: str, seconds: float) -> None: ...


class MemoryRateSlots:
    """Slots kept in this process only (tests; a single process with no shared state dir)."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, name: str, interval: float) -> float:
        with self._lock:
            now = self.clock()
            slot = max(self._next.get(name, 0.0), now)
            self._next[name] = slot + interval
            return slot - now

    def pause(self, name: str, seconds: float) -> None:
        with self._lock:
            self._next[name] = max(self._next.get(name, 0.0), self.clock() + seconds)


class SlotRateLimiter:
    """Evenly spaced request slots from a shared SlotStore (see the module docstring).

    A slot is only used on time: a thread that wakes up late (a busy CPU, a slow lock) would send
    right after the next slot's owner and bunch requests together, so a slot missed by more than
    LATE_FRACTION of the interval is abandoned and a new one taken. Abandoned slots leave gaps,
    never bursts.
    """

    #: How late (as a fraction of the slot interval, at least LATE_MIN_SECONDS) a request may still
    #: go out on its slot; after MAX_MISSES abandoned slots in a row it goes anyway (no livelock
    #: on a machine too busy to ever wake up on time).
    LATE_FRACTION = 0.5
    LATE_MIN_SECONDS = 0.002
    MAX_MISSES = 5

    def __init__(self, store: SlotStore, max_rps: float, *, headroom: float = DEFAULT_HEADROOM,
                 name: str = LIMIT_NAME, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        if not max_rps > 0:
            raise ValueError("max_rps must be greater than 0 (TMDB_MAX_RPS)")
        if not 0 < headroom <= 1:
            raise ValueError("headroom must be in (0, 1]")
        self.store = store
        self.max_rps = float(max_rps)
        rate = min(self.max_rps * headroom, self.max_rps - MIN_MARGIN_RPS)
        #: requests a second actually scheduled (never below half the limit, for tiny limits)
        self.scheduled_rps = max(rate, self.max_rps * 0.5)
        self.interval = 1.0 / self.scheduled_rps
        self.name = name
        self.sleep = sleep
        self.clock = clock
        self.late_after = max(self.interval * self.LATE_FRACTION, self.LATE_MIN_SECONDS)
        self.missed_slots = 0

    def acquire(self) -> float:
        started = self.clock()
        for _attempt in range(self.MAX_MISSES + 1):
            wait = self.store.reserve(self.name, self.interval)
            due = self.clock() + wait
            if wait > 0:
                self.sleep(wait)
            if self.clock() - due <= self.late_after:
                break
            self.missed_slots += 1
        return self.clock() - started

    def pause(self, seconds: float) -> None:
        if seconds > 0:
            self.store.pause(self.name, seconds)


#: How long (seconds) a thread that wants the GIL waits before the holder is asked to let go, while
#: requests are paced (Python's default is 0.005).
PACED_SWITCH_INTERVAL = 0.001


class GcPauses:
    """Stop-the-world pauses of Python's garbage collector while requests are paced (every thread
    stands still during a collection, so a long one delays every request about to be sent)."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.total_ms = 0.0
        self.max_ms = 0.0
        self._started: float | None = None

    def __call__(self, phase: str, info: dict) -> None:  # a gc.callbacks hook
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            ms = (time.perf_counter() - self._started) * 1000.0
            self._started = None
            self.count += 1
            self.total_ms += ms
            self.max_ms = max(self.max_ms, ms)


_paced_lock = threading.Lock()
_paced_users = 0
_paced_default_interval = sys.getswitchinterval()
_paced_gc_pauses = GcPauses()


@contextlib.contextmanager
def paced_requests() -> Iterator[GcPauses]:
    """Keep the process responsive while requests are paced; yields the GC pauses seen meanwhile.

    TMDb counts a request when it arrives, and the spacing leaves ~50 ms of slack (DEFAULT_HEADROOM)
    between the moment a slot starts and the moment it must have arrived. Two things in our own
    process could take more than that:
    - the GIL: the normalizer (tmdb/normalizer.py) and the staging thread run Python for long
      stretches; with the default 5 ms switch interval and a dozen threads queuing, a woken worker
      could wait several slices. While pacing, the interval is 1 ms.
    - the garbage collector: a full collection walks every tracked object of the process (Dagster,
      SQLAlchemy and the definitions are millions) with every thread stopped. gc.freeze() moves
      what exists when the fetch starts out of the collector's way, so collections only walk the
      objects the fetch itself made.
    Process-wide, so counted: the last user restores the interval and unfreezes.
    """
    global _paced_users, _paced_default_interval
    with _paced_lock:
        if _paced_users == 0:
            _paced_default_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_paced_default_interval, PACED_SWITCH_INTERVAL))
            gc.freeze()
            _paced_gc_pauses.reset()
            gc.callbacks.append(_paced_gc_pauses)
        _paced_users += 1
    try:
        yield _paced_gc_pauses
    finally:
        with _paced_lock:
            _paced_users -= 1
            if _paced_users == 0:
                sys.setswitchinterval(_paced_default_interval)
                gc.callbacks.remove(_paced_gc_pauses)
                gc.unfreeze()


def shared_rate_limiter(max_rps: float, *, warehouse_url: str | None, state_dir: str | Path,
                        headroom: float = DEFAULT_HEADROOM) -> SlotRateLimiter:
    """The instance-wide limiter: PostgreSQL-backed when the warehouse is PostgreSQL, else a SQLite
    file in state_dir (CINEGRAPH_STATE_DIR)."""
    if warehouse_url and warehouse_url.startswith("postgresql"):
        # The slot table comes with the schema: migrate it first, or refuse with the command to
        # run when this role may not (no request is sent before that).
        store: SlotStore = PostgresRateSlots(get_engine(upgrade(warehouse_url)))
    else:
        store = SQLiteRateSlots(Path(state_dir) / SQLITE_FILE_NAME, clock=time.time)
    return SlotRateLimiter(store, max_rps, headroom=headroom)
