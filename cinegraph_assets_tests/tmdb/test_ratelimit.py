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
