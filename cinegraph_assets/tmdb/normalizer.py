"""Normalizing: staged TMDb responses -> parse_movie -> the warehouse's movie tables, per year.

`normalize_staged` is the loop: batches of whole movies, each one transaction (lock the staged
rows, parse, check the credits, write, record failures, unstage), a one-by-one fallback when the
database refuses a batch, and one retry without NUL characters. It lives in the TMDb room, not
the warehouse, because every decision in it is about TMDb's data: what makes a payload malformed
(parse_movie), which errors are one movie's fault. The warehouse offers each stage's SQL
(warehouse/staging.py, credit_rules.py, movie_rows.py, failed_fetches.py) and never imports the
parser, so a movie's way reads one direction: tmdb/discovery.py -> warehouse/discovery.py ->
warehouse/details_queue.py -> tmdb/details.py -> warehouse/staging.py -> this module (with
tmdb/parse.py) -> warehouse/movie_rows.py.

Run alongside the fetch, in the background. Why: fetching is paced by TMDb's rate limit, normalizing by the CPU and the database. Run one after
the other, a 38,000-movie year spent 6 minutes normalizing after its last request (a quarter of
the run on top of the rate limit's floor). Run side by side, the normalizing hides inside the
fetching's waits and the run ends a moment after its last request.

How: the details fetcher saves responses in small batches (tmdb/details.py); after each one it
calls `staged()`, which wakes a background thread that runs normalizer.normalize_staged for the year:
every staged movie of the year, in whole-movie transactions, exactly as a normalizing pass after
the fetch would. `finish()` stops the thread and normalizes what is left. Nothing new is needed for
crash safety: a response is either still staged (the next pass or run normalizes it) or normalized.

Plain Python (no Dagster).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from typing import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cinegraph_assets.tmdb.parse import MalformedMovie, parse_movie
from cinegraph_assets.warehouse import credit_rules, data_checks, failed_fetches, movie_rows, staging
from cinegraph_assets.warehouse.bulk_write import chunks
from cinegraph_assets.warehouse.rows import MovieRows

log = logging.getLogger(__name__)

#: Movies per normalizing transaction. SQLite has a single writer: a long normalizing transaction
#: would hold up the fetcher's next staged batch, and with it the requests, so it gets short ones
#: (50 movies are ~0.35 s). PostgreSQL locks rows, so its transactions can be as long as suits COPY.
SQLITE_BATCH = 50
POSTGRES_BATCH = 200
#: A pass also runs this often without being woken (a safety net; staged() is the normal trigger).
IDLE_SECONDS = 2.0
#: Counts that describe the year after the last pass rather than add up across passes.
_LATEST_ONLY = ("movies_in_year", "deleted")


# Errors that belong to one movie's data (a value PostgreSQL refuses, a NUL character) rather than
# to the database (connection lost, lock timeout): only these make a movie "failed".
_DATA_ERRORS = (sa.exc.DataError, sa.exc.IntegrityError, ValueError, TypeError)


def _short_error(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {text}"[:300]


class _Tally:
    def __init__(self, year: int | None):
        self.year = year
        self.counts = {
            "normalized": 0, "failed": 0, "moved_out": 0, "moved_in": 0, "other_year": 0,
            "undated": 0, "batches": 0,
        }
        for attribute, _, _ in movie_rows.LOOKUP_WRITES:
            self.counts[attribute] = 0
        for attribute, _ in movie_rows.CHILD_WRITES:
            self.counts[attribute] = 0

    def add(self, parsed: list[tuple[MovieRows, datetime]], old_years: dict, written: dict) -> None:
        for rows, _ in parsed:
            new_year = rows.release_year
            old_year = old_years.get(rows.tmdb_id)
            self.counts["normalized"] += 1
            if new_year is None:
                self.counts["undated"] += 1
            if new_year != self.year:
                self.counts["other_year"] += 1
                if old_year == self.year:
                    self.counts["moved_out"] += 1
            elif rows.tmdb_id in old_years and old_year != self.year:
                self.counts["moved_in"] += 1
        for key, value in written.items():
            self.counts[key] += value


def _normalize_batch(engine: Engine, year: int, ids: Sequence[int], tally: _Tally,
                     failure_at: datetime) -> None:
    """One transaction: the batch's complete movies, their failures, and the unstaging."""
    with engine.begin() as conn:
        staged = staging.lock_staged(conn, ids)
        parsed: list[tuple[MovieRows, datetime]] = []
        failures: list[tuple[int, str, int | None]] = []
        for tmdb_id, payload, fetched_at in staged:
            try:
                rows = parse_movie(payload)
                if rows.tmdb_id != tmdb_id:
                    raise MalformedMovie(f"the response is for id {rows.tmdb_id}, not {tmdb_id}")
                parsed.append((rows, fetched_at))
            except MalformedMovie as error:
                failures.append((tmdb_id, f"malformed: {error.reason}", None))
        if conn.dialect.name == "postgresql" and parsed:
            # The credits stayed in the database: check them there (same rules as parse_movie).
            bad = credit_rules.staged_credit_problems(conn, [rows.tmdb_id for rows, _ in parsed])
            if bad:
                failures += [(i, f"malformed: {reason}", None) for i, reason in bad.items()]
                parsed = [(rows, at) for rows, at in parsed if rows.tmdb_id not in bad]
        old_years = movie_rows.release_years(conn, [rows.tmdb_id for rows, _ in parsed])
        written = movie_rows.write_movies(conn, parsed)
        if failures:
            failed_fetches.record_fetch_failures(conn, year, failures, failure_at)
        staging.unstage(conn, [(tmdb_id, fetched_at) for tmdb_id, _, fetched_at in staged])
    tally.add(parsed, old_years, written)
    tally.counts["failed"] += len(failures)
    tally.counts["batches"] += 1


def _normalize_one_by_one(engine: Engine, year: int, ids: Sequence[int], tally: _Tally,
                          failure_at: datetime) -> None:
    """After a batch failed on data: each movie alone, so one bad movie fails only itself."""
    for tmdb_id in ids:
        try:
            _normalize_batch(engine, year, [tmdb_id], tally, failure_at)
            continue
        except _DATA_ERRORS as error:
            if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
                raise
            reason = _short_error(error)
        if "0x00" in reason or "\\u0000" in reason or "NUL" in reason:
            try:  # the data is fine apart from NUL characters: store it without them
                staging.strip_staged_nul(engine, tmdb_id)
                _normalize_batch(engine, year, [tmdb_id], tally, failure_at)
                continue
            except _DATA_ERRORS as error:
                reason = _short_error(error)
        log.warning("TMDb movie %s could not be stored: %s", tmdb_id, reason)
        with engine.begin() as conn:
            failed_fetches.record_fetch_failures(conn, year, [(tmdb_id, f"could not store: {reason}", None)], failure_at)
            staging.drop_staged(conn, tmdb_id)
        tally.counts["failed"] += 1


def normalize_staged(engine: Engine, year: int, batch_size: int = 200) -> dict:
    """Move the year's staged raw responses into movies and its child tables.

    Staged responses of the year are those whose release date is in `year`, or whose movie
    discovery or the movies table puts in `year` (so a movie that moved out is normalized by the
    run that fetched it, and leaves the year). Each batch of up to `batch_size` movies is one
    transaction holding complete movies: movies row, genres, people, credits, release dates,
    external ids, videos, keywords and watch providers, plus the deletion of those staged rows.
    A malformed payload (or one the database refuses) is recorded as a fetch failure of the year
    with its reason, and its staged row dropped, so the next run fetches it again ("retry");
    the movie's previous rows stay as they were. Idempotent: with nothing staged it changes
    nothing. Database trouble (connection lost) is raised, not recorded as movie failures.

    A movie's release_year is the year of its details' release_date (TMDb's primary release date,
    the date discover's primary_release_year filters on), not the year whose run fetched it: so a
    movie whose date moved leaves `year` here, and one whose details have no date gets NULL and
    belongs to no year. Discover by year never returns an undated movie, so keeping the
    discovered year instead would file it under a year TMDb itself no longer puts it in.

    On PostgreSQL the credits never leave the database: they are checked (the credit rules
    parse_movie checks too, warehouse/credit_rules.py) and written to movie_cast, movie_crew and people from the staged JSONB, and the
    other child rows travel by COPY. SQLite uses parse_movie's rows; a test keeps both identical.

    Returns counts for metadata: normalized, failed, movies_in_year, moved_out (was in `year`,
    now elsewhere), moved_in, other_year, undated, deleted (rows of the year marked deleted),
    batches, seconds, movies_per_second, and rows written per child table.
    """
    started = time.monotonic()
    with engine.connect() as conn:
        ids = staging.staged_ids_of_year(conn, year)
    tally = _normalize_in_batches(engine, year, ids, batch_size)
    with engine.connect() as conn:
        in_year, deleted = data_checks.year_counts(conn, year)
    seconds = time.monotonic() - started
    return {
        **tally.counts,
        "movies_in_year": int(in_year),
        "deleted": int(deleted),
        "seconds": round(seconds, 3),
        "movies_per_second": round(tally.counts["normalized"] / seconds, 1) if seconds > 0 else 0.0,
    }


def _normalize_in_batches(engine: Engine, year: int | None, ids: Sequence[int], batch_size: int) -> _Tally:
    failure_at = datetime.now(timezone.utc)
    tally = _Tally(year)
    for batch in chunks(ids, max(1, batch_size)):
        try:
            _normalize_batch(engine, year, batch, tally, failure_at)
        except _DATA_ERRORS as error:
            if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
                raise
            log.warning("a batch of %s movies failed (%s); storing them one by one", len(batch),
                        _short_error(error))
            _normalize_one_by_one(engine, year, batch, tally, failure_at)
    return tally


def normalize_staged_ids(engine: Engine, ids: Sequence[int], batch_size: int = 200) -> dict:
    """normalize_staged for the staged responses of `ids` whatever their year (the gap fill's
    movies: undated, or dated but returned by no year's discovery). Their failures are filed under
    no year. Returns the tally: normalized, failed, undated, batches, rows per child table."""
    return dict(_normalize_in_batches(engine, None, sorted(set(ids)), batch_size).counts)


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
            lambda engine, batch_size: normalize_staged(engine, year, batch_size=batch_size))
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
        (normalize_staged's, summed over the passes)."""
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
