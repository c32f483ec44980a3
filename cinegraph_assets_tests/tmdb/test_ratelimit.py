"""The TMDb rate limit: evenly spaced slots shared by threads, processes and runs."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter

import pytest

from cinegraph_assets.tmdb.ratelimit import (
    PACED_SWITCH_INTERVAL,
    MemoryRateSlots,
    SlotRateLimiter,
    UnlimitedRateLimiter,
    paced_requests,
    shared_rate_limiter,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def most_in_any_window(times: list[float], width: float = 1.0) -> int:
    """The most events in any window of `width` seconds (sliding), which bounds every clock second."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= width:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_slots_are_evenly_spaced_below_the_limit_with_headroom():
    clock = FakeClock()
    limiter = SlotRateLimiter(MemoryRateSlots(clock), max_rps=20, sleep=clock.sleep, clock=clock)
    sent = []
    for _ in range(100):
        limiter.acquire()
        sent.append(clock())
    assert most_in_any_window(sent) <= 19  # room left below 20 for network jitter
    assert limiter.scheduled_rps == pytest.approx(18.4)  # 20 - MIN_MARGIN_RPS, tighter than 5%
    assert sent[-1] - sent[0] == pytest.approx(99 / 18.4, rel=1e-6)
    assert SlotRateLimiter(MemoryRateSlots(clock), max_rps=40).scheduled_rps == pytest.approx(38)


def test_an_idle_period_does_not_save_up_a_burst():
    clock = FakeClock()
    limiter = SlotRateLimiter(MemoryRateSlots(clock), max_rps=10, sleep=clock.sleep, clock=clock)
    limiter.acquire()
    clock.now += 60  # idle for a minute
    sent = []
    for _ in range(30):
        limiter.acquire()
        sent.append(clock())
    assert most_in_any_window(sent) <= 10


def test_pause_holds_back_every_user_of_the_limit():
    clock = FakeClock()
    slots = MemoryRateSlots(clock)
    first = SlotRateLimiter(slots, max_rps=10, sleep=clock.sleep, clock=clock)
    second = SlotRateLimiter(slots, max_rps=10, sleep=clock.sleep, clock=clock)
    first.pause(5.0)
    start = clock()
    second.acquire()
    assert clock() - start == pytest.approx(5.0)


def test_a_late_wake_up_abandons_its_slot_instead_of_bunching_requests():
    clock = FakeClock()
    slots = MemoryRateSlots(clock)
    oversleep = {"left": 2}

    def sleep(seconds):  # the first two sleeps wake up 0.2 s late (a busy machine)
        clock.sleep(seconds + (0.2 if oversleep["left"] > 0 else 0.0))
        oversleep["left"] -= 1

    limiter = SlotRateLimiter(slots, max_rps=10, sleep=sleep, clock=clock)
    sent = []
    for _ in range(12):
        limiter.acquire()
        sent.append(clock())
    assert limiter.missed_slots >= 1
    assert min(b - a for a, b in zip(sent, sent[1:])) >= limiter.interval * (1 - limiter.LATE_FRACTION)


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match="TMDB_MAX_RPS"):
        SlotRateLimiter(MemoryRateSlots(), max_rps=0)
    assert UnlimitedRateLimiter().acquire() == 0.0


# The cross-process tests schedule at 80% of the limit: each process alone would then send 16 a
# second, three unshared ones 48, so the assertion "at most 20" tells shared from unshared with a
# wide margin for the scheduling noise of a busy test machine.
HEADROOM = 0.8


def _acquire_many(state_dir: str, max_rps: float, count: int, out) -> None:
    limiter = shared_rate_limiter(max_rps, warehouse_url=None, state_dir=state_dir, headroom=HEADROOM)
    for _ in range(count):
        limiter.acquire()
        out.put(time.time())


def test_sqlite_slots_are_shared_by_processes(tmp_path):
    """Three processes, each free to use the whole limit, together stay under it."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    processes = [ctx.Process(target=_acquire_many, args=(str(tmp_path), 20, 15, out)) for _ in range(3)]
    for process in processes:
        process.start()
    sent = [out.get(timeout=60) for _ in range(45)]
    for process in processes:
        process.join(timeout=30)
    assert most_in_any_window(sent) <= 20
    per_clock_second = Counter(int(t) for t in sent)
    assert max(per_clock_second.values()) <= 20
    assert (tmp_path / "tmdb_rate_limit.sqlite").exists()


@pytest.mark.postgres
def test_postgres_slots_are_shared_by_threads_of_separate_limiters(postgres_warehouse_url, tmp_path):
    limiters = [shared_rate_limiter(20, warehouse_url=postgres_warehouse_url, state_dir=str(tmp_path),
                                    headroom=HEADROOM) for _ in range(3)]
    sent: list[float] = []
    lock = threading.Lock()

    def run(limiter):
        for _ in range(12):
            limiter.acquire()
            with lock:
                sent.append(time.time())

    threads = [threading.Thread(target=run, args=(limiter,)) for limiter in limiters for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(sent) == 72
    assert most_in_any_window(sent) <= 20
    # No state file: the limit lives in the warehouse.
    assert not (tmp_path / "tmdb_rate_limit.sqlite").exists()


def test_paced_requests_keeps_the_process_responsive_and_puts_everything_back():
    import gc
    import sys

    interval = sys.getswitchinterval()
    with paced_requests() as pauses:
        assert sys.getswitchinterval() == min(interval, PACED_SWITCH_INTERVAL)
        assert gc.get_freeze_count() > 0  # what existed before the fetch is out of the collector's way
        with paced_requests():  # nested or concurrent users share one setting
            pass
        assert sys.getswitchinterval() == min(interval, PACED_SWITCH_INTERVAL)
        garbage = []
        garbage.append(garbage)  # a reference cycle, so the collection has something to do
        del garbage
        gc.collect()
        assert pauses.count >= 1 and pauses.max_ms > 0
    assert sys.getswitchinterval() == interval
    assert gc.get_freeze_count() == 0
    assert pauses not in gc.callbacks


# --- PostgresRateSlots: one autocommit connection per store ---------------------------------------

@pytest.fixture
def pg_slots(postgres_warehouse_url):
    from cinegraph_assets.warehouse.engine import get_engine
    from cinegraph_assets.warehouse.migrate import upgrade
    from cinegraph_assets.warehouse.rate_slots import PostgresRateSlots

    slots = PostgresRateSlots(get_engine(upgrade(postgres_warehouse_url)))
    try:
        yield slots
    finally:
        slots.close()


def _backend_pid(slots) -> int:
    return slots._dbapi_conn.get_backend_pid()


def _terminate_backend(slots) -> int:
    """The server ends the store's connection (as a restart or an idle timeout would)."""
    pid = _backend_pid(slots)
    with slots.engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar_one()
        for _ in range(100):  # the backend goes away asynchronously
            if not conn.exec_driver_sql(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}").scalar_one():
                break
            time.sleep(0.05)
    return pid


def _absolute_slots(slots, name: str, interval: float, threads: int, each: int) -> list[float]:
    """Reserve from several threads at once; each slot as a wall-clock time."""
    taken: list[float] = []
    lock = threading.Lock()

    def run():
        for _ in range(each):
            wait = slots.reserve(name, interval)
            with lock:
                taken.append(time.time() + wait)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return sorted(taken)


@pytest.mark.postgres
def test_postgres_slots_are_spaced_by_the_interval_across_threads_on_one_connection(pg_slots):
    # A long interval, so the few milliseconds between the database's clock and time.time() are
    # small beside it; nobody sleeps for the slots, they are only reserved.
    taken = _absolute_slots(pg_slots, "spacing", 10.0, threads=4, each=10)
    assert len(taken) == 40
    gaps = [b - a for a, b in zip(taken, taken[1:])]
    assert min(gaps) > 9.0 and max(gaps) < 11.0
    assert taken[0] - time.time() < 1.0  # the first slot was "now"
    # Every reservation went through the store's own connection, none through the pool.
    pid = _backend_pid(pg_slots)
    assert pg_slots.engine.pool.checkedout() == 0
    assert len(_absolute_slots(pg_slots, "spacing", 10.0, threads=2, each=2)) == 4
    assert _backend_pid(pg_slots) == pid


@pytest.mark.postgres
def test_postgres_slots_reconnect_after_the_server_drops_the_connection(pg_slots):
    first = pg_slots.reserve("reconnect", 10.0)
    pid = _terminate_backend(pg_slots)
    second = pg_slots.reserve("reconnect", 10.0)
    assert _backend_pid(pg_slots) != pid
    # The slot row lives in the warehouse, so the new connection carries on from it.
    assert second - first == pytest.approx(10.0, abs=1.0)
    # pause() goes through the same reconnecting path.
    pid = _terminate_backend(pg_slots)
    pg_slots.pause("reconnect", 60.0)
    assert _backend_pid(pg_slots) != pid
    assert pg_slots.reserve("reconnect", 10.0) == pytest.approx(60.0, abs=1.0)


@pytest.mark.postgres
def test_postgres_slots_pause_pushes_the_next_slot_but_never_pulls_it_in(pg_slots):
    assert pg_slots.reserve("pause", 0.001) <= 0.0
    pg_slots.pause("pause", 30.0)
    assert pg_slots.reserve("pause", 0.001) == pytest.approx(30.0, abs=1.0)
    # The next free slot is now ~30 s away: a shorter pause leaves it there.
    pg_slots.pause("pause", 5.0)
    assert pg_slots.reserve("pause", 0.001) == pytest.approx(30.0, abs=1.0)
    # Another name is its own limit.
    assert pg_slots.reserve("other", 0.001) <= 0.0


@pytest.mark.postgres
def test_postgres_slots_connection_is_autocommit_without_waiting_for_wal(pg_slots):
    """Each reservation is its own transaction: a second store sees it at once (no transaction
    left open on the shared connection), and the commit does not wait for the WAL flush."""
    from cinegraph_assets.warehouse.rate_slots import PostgresRateSlots

    pg_slots.reserve("visible", 100.0)
    other = PostgresRateSlots(pg_slots.engine)
    try:
        assert other.reserve("visible", 100.0) == pytest.approx(100.0, abs=1.0)
    finally:
        other.close()
    with pg_slots._dbapi_conn.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"
    with pg_slots.engine.connect() as conn:
        state = conn.exec_driver_sql(
            f"SELECT state FROM pg_stat_activity WHERE pid = {_backend_pid(pg_slots)}").scalar_one()
    assert state == "idle"  # not "idle in transaction"
