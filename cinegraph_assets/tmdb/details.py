"""Fetch TMDb movie details concurrently, one request per movie, saving raw responses as they arrive.

Each movie costs exactly one request: /movie/{id}?append_to_response=<11 parts> (TMDb allows up to
20 appended parts per request). A thread pool of TMDB_MAX_WORKERS workers, each with its own
requests.Session (via TMDbClient), sends them under the instance-wide rate limit.

Crash safety and memory: the caller's thread saves responses in small batches (every BATCH_SIZE
movies or FLUSH_SECONDS, whichever comes first) into the staging table, so a `kill -9` loses at most
the responses in flight and the last unsaved batch, and memory holds only those, never a year of
payloads. The work queue is bounded too (at most a few requests per worker are queued at a time).

Outcomes: a response -> staged; HTTP 404 -> marked deleted (kept, with deleted_at); anything still
failing after the client's retries -> recorded with its reason (retried next run). Invalid
credentials stop everything at once.

Plain Python (no Dagster).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from cinegraph_assets.tmdb.client import NotFound, TMDbAuthError, TMDbClient, TMDbError
from cinegraph_assets.tmdb.ratelimit import paced_requests
from cinegraph_assets.warehouse import details_queue, failed_fetches, staging

logger = logging.getLogger(__name__)

#: The parts appended to every /movie/{id} request (11 of TMDb's maximum 20).
APPEND_TO_RESPONSE = (
    "credits", "videos", "images", "keywords", "release_dates", "external_ids", "watch/providers",
    "recommendations", "similar", "alternative_titles", "translations",
)
BATCH_SIZE = 25
FLUSH_SECONDS = 2.0
PROGRESS_SECONDS = 5.0


@dataclass
class DetailsOutcome:
    """What one details pass did (numbers for the asset's metadata)."""

    requested: int = 0
    fetched: int = 0
    deleted: int = 0
    failures: list[tuple[int, str, int | None]] = field(default_factory=list)
    needed_by_reason: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    gc_max_pause_ms: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def failures_by_reason(self) -> dict[str, int]:
        return dict(Counter(reason for _id, reason, _status in self.failures))


def fetch_movie(client: TMDbClient, tmdb_id: int) -> str | NotFound:
    """One movie's full details with every appended part, in one request: the JSON text as TMDb
    sent it (staging stores it as is; the normalizer decodes what it reads)."""
    return client.get(f"/movie/{int(tmdb_id)}", {"append_to_response": ",".join(APPEND_TO_RESPONSE)},
                      as_text=True)


class _Progress:
    def __init__(self, label: str, total: int, log: Callable[[str], None], every: float):
        self.label, self.total, self.log, self.every = label, total, log, every
        self.started = self.last = time.monotonic()

    def maybe_log(self, done: int, failed: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        elapsed = max(1e-6, now - self.started)
        rate = done / elapsed
        remaining = self.total - done
        eta = remaining / rate if rate > 0 else float("inf")
        eta_text = "?" if eta == float("inf") else f"{int(eta // 60)}m{int(eta % 60):02d}s"
        self.log(f"{self.label}: {done}/{self.total} movies ({100.0 * done / max(1, self.total):.1f}%), "
                 f"{rate:.1f} movies/s, {failed} failed, ETA {eta_text}")


def fetch_details(
    client: TMDbClient,
    engine: Engine,
    year: int | None,
    todo: Iterable[tuple[int, str]],
    *,
    max_workers: int = 16,
    batch_size: int = BATCH_SIZE,
    flush_seconds: float = FLUSH_SECONDS,
    progress_seconds: float = PROGRESS_SECONDS,
    log: Callable[[str], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    on_staged: Callable[[], None] | None = None,
    on_deleted: Callable[[Connection, list[int], datetime], None] | None = None,
    label: str | None = None,
) -> DetailsOutcome:
    """Fetch every (tmdb_id, reason) of `todo` and save the results as they arrive.

    `year` is the partition the movies belong to (their failures are filed under it); None for
    movies of no year (the gap fill), which names itself with `label` in the progress lines.
    `on_staged` is called after every batch that saved responses (tmdb/normalizer.py normalizes
    them while later ones are fetched); an error it raises stops the fetch. `on_deleted` records
    the batch's 404s somewhere more, in the batch's transaction.
    """
    log = log or logger.info
    todo = list(todo)
    outcome = DetailsOutcome(requested=len(todo), needed_by_reason=dict(Counter(r for _i, r in todo)))
    started = time.monotonic()
    progress = _Progress(label or f"details {year}", len(todo), log, progress_seconds)
    staged: list[tuple[int, str, datetime]] = []
    deleted: list[int] = []
    failures: list[tuple[int, str, int | None]] = []
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal staged, deleted, failures, last_flush
        saved_responses = bool(staged)
        if staged or deleted or failures:
            at = clock()
            # One transaction per batch: the batch is saved whole or not at all.
            with engine.begin() as conn:
                if staged:
                    unreadable = set(staging.stage_response_texts(conn, staged))
                    if unreadable:
                        staged = [item for item in staged if item[0] not in unreadable]
                        failures.extend((tmdb_id, "invalid_json", 200) for tmdb_id in sorted(unreadable))
                        saved_responses = bool(staged)
                if deleted:
                    details_queue.mark_deleted(conn, deleted, at)
                    if on_deleted is not None:
                        on_deleted(conn, deleted, at)
                if failures:
                    failed_fetches.record_fetch_failures(conn, year, failures, at)
            outcome.fetched += len(staged)
            outcome.deleted += len(deleted)
            outcome.failures.extend(failures)
            staged, deleted, failures = [], [], []
        last_flush = time.monotonic()
        if saved_responses and on_staged is not None:
            on_staged()

    workers = max(1, max_workers)
    queue = iter(todo)
    with paced_requests() as gc_pauses, \
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tmdb-details") as pool:
        pending: dict[Future, int] = {}

        answered = False

        def top_up() -> None:
            # Bounded: a few queued requests per worker keep them busy without queuing a year.
            # Until the first answer arrives only one request is out, so bad credentials cost
            # one request, not one per worker.
            while len(pending) < (workers * 2 if answered else 1):
                item = next(queue, None)
                if item is None:
                    return
                pending[pool.submit(fetch_movie, client, item[0])] = item[0]

        try:
            top_up()
            while pending:
                done, _ = wait(list(pending), timeout=flush_seconds, return_when=FIRST_COMPLETED)
                for future in done:
                    tmdb_id = pending.pop(future)
                    answered = True
                    try:
                        body = future.result()
                    except (TMDbAuthError, DBAPIError):
                        # Bad credentials, or the warehouse holding the shared rate limit is gone:
                        # nothing this movie did, so stop the run rather than fail every movie.
                        raise
                    except TMDbError as exc:
                        failures.append((tmdb_id, exc.reason, exc.status))
                        continue
                    except Exception as exc:  # a bug in one movie must not lose the year
                        failures.append((tmdb_id, f"error:{type(exc).__name__}", None))
                        continue
                    if isinstance(body, NotFound):
                        deleted.append(tmdb_id)
                    else:
                        staged.append((tmdb_id, body, clock()))
                top_up()
                if len(staged) + len(deleted) + len(failures) >= batch_size or (
                        time.monotonic() - last_flush >= flush_seconds):
                    flush()
                progress.maybe_log(outcome.fetched + outcome.deleted + outcome.failed, outcome.failed)
        except BaseException:
            # Stop feeding the pool, keep what already arrived, then let the error surface.
            for future in pending:
                future.cancel()
            try:
                flush()
            except Exception:  # pragma: no cover - the original error matters more
                logger.exception("could not save the last batch of TMDb details")
            raise
        flush()
        outcome.gc_max_pause_ms = round(gc_pauses.max_ms, 1)
    outcome.duration_s = time.monotonic() - started
    progress.maybe_log(outcome.fetched + outcome.deleted + outcome.failed, outcome.failed, force=True)
    return outcome
