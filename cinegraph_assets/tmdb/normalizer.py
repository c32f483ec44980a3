"""Normalize a year's staged TMDb responses while its details are still being fetched.

Why: fetching is paced by TMDb's rate limit, normalizing by the CPU and the database. Run one after
the other, a 38,000-movie year spent 6 minutes normalizing after its last request (a quarter of
the run on top of the rate limit's floor). Run side by side, the normalizing hides inside the
fetching's waits and the run ends a moment after its last request.

How: the details fetcher saves responses in small batches (tmdb/details.py); after each one it
calls `staged()`, which wakes a background thread that runs catalog.normalize_staged for the year:
every staged movie of the year, in whole-movie transactions, exactly as a normalizing pass after
the fetch would. `finish()` stops the thread and normalizes what is left. Nothing new is needed for
crash safety: a response is either still staged (the next pass or run normalizes it) or normalized.

Plain Python (no Dagster).
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from sqlalchemy.engine import Engine

from cinegraph_assets.warehouse import catalog

#: Movies per normalizing transaction. SQLite has a single writer: a long normalizing transaction
#: would hold up the fetcher's next staged batch, and with it the requests, so it gets short ones
#: (50 movies are ~0.35 s). PostgreSQL locks rows, so its transactions can be as long as suits COPY.
SQLITE_BATCH = 50
POSTGRES_BATCH = 200
#: A pass also runs this often without being woken (a safety net; staged() is the normal trigger).
IDLE_SECONDS = 2.0
#: Counts that describe the year after the last pass rather than add up across passes.
_LATEST_ONLY = ("movies_in_year", "deleted")


class StagedNormalizer:
    """A background thread that keeps a year's staging table drained while details are fetched.

    Use as a context manager around the fetch, call `staged()` after every saved batch, then
    `finish()` for the year's counts. An error in the thread (the warehouse went away) is raised
    from the next `staged()`, so the fetch stops instead of filling a staging table nobody drains.
    """

    def __init__(self, engine: Engine, year: int | None, *, batch_size: int | None = None,
                 normalize: Callable[[Engine, int], dict] | None = None):
        self.engine = engine
        self.year = year
        self.batch_size = batch_size or (POSTGRES_BATCH if engine.dialect.name == "postgresql"
                                         else SQLITE_BATCH)
        # What one pass normalizes: the year's staged responses, or (the gap fill, year None) the
        # pass it hands in, called with the engine and the batch size.
        self._normalize = normalize or (
            lambda engine, batch_size: catalog.normalize_staged(engine, year, batch_size=batch_size))
        self.error: BaseException | None = None
        self.passes = 0
        self.busy_seconds = 0.0
        self.tail_seconds = 0.0
        self.normalized_after_fetch = 0
        self._counts: dict = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"normalize-{year or 'gap'}", daemon=True)

    def __enter__(self) -> "StagedNormalizer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._halt()

    def staged(self) -> None:
        """A batch was saved to the staging table: normalize it soon."""
        if self.error is not None:
            raise self.error
        self._wake.set()

    def finish(self) -> dict:
        """Stop the thread, normalize what is still staged, and return the year's counts
        (catalog.normalize_staged's, summed over the passes)."""
        self._halt()
        if self.error is not None:
            raise self.error
        started = time.monotonic()
        before = self._counts.get("normalized", 0)
        self._pass()
        self.tail_seconds = time.monotonic() - started
        self.normalized_after_fetch = self._counts.get("normalized", 0) - before
        return self.counts

    @property
    def counts(self) -> dict:
        counts = dict(self._counts)
        counts.pop("seconds", None)
        normalized = counts.get("normalized", 0)
        counts["movies_per_second"] = round(normalized / self.busy_seconds, 1) if self.busy_seconds else 0.0
        counts["normalize_passes"] = self.passes
        counts["normalize_busy_s"] = round(self.busy_seconds, 3)
        counts["normalize_tail_s"] = round(self.tail_seconds, 3)
        counts["normalized_after_fetch"] = self.normalized_after_fetch
        return counts

    def _halt(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while True:
            self._wake.wait(IDLE_SECONDS)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self._pass()
            except BaseException as exc:  # handed to the fetching thread by staged()
                self.error = exc
                return

    def _pass(self) -> None:
        started = time.monotonic()
        counts = self._normalize(self.engine, self.batch_size)
        self.busy_seconds += time.monotonic() - started
        self.passes += 1
        for key, value in counts.items():
            if key in _LATEST_ONLY or key not in self._counts:
                self._counts[key] = value
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                self._counts[key] += value
