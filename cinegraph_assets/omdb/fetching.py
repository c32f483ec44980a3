"""Rate one release year's movies with OMDb, within the day's quota, saving each movie as it goes.

The work behind the omdb_ratings asset, in plain Python (no Dagster): the asset wires the client,
the quota ledger and the warehouse together and reports what this returns.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cinegraph_assets.omdb.client import OmdbAnswer, OmdbClient, OmdbUnavailable, QuotaExhausted
from cinegraph_assets.omdb.parse import OmdbError, OmdbParseError, OmdbTitle, parse_response
from cinegraph_assets.warehouse import ratings as ratings_sql

log = logging.getLogger(__name__)

#: After this many movies in a row for which OMDb did not answer (after retries), stop: OMDb is
#: down, and asking on would only spend the day's quota on retries.
MAX_CONSECUTIVE_UNAVAILABLE = 5

#: A title answer is 1-3 KB; anything this large is not one, and is not stored.
MAX_BODY_CHARS = 1_000_000


@dataclass
class YearOutcome:
    """What one year's pass did."""

    year: int
    attempted: int = 0
    rated: int = 0
    skipped_fetched_by_other_run: int = 0
    failed: Counter = field(default_factory=Counter)
    stopped_for_quota: bool = False
    #: True when OMDb itself answered "Request limit reached!" (the ledger thought otherwise).
    omdb_said_limit_reached: bool = False
    #: HTTP requests sent (each one spent quota) and how many of them were retries.
    requests: int = 0
    retries: int = 0


def rate_year(
    engine: Engine,
    client: OmdbClient,
    year: int,
    clock: Callable[[], datetime],
    refresh_days: int,
    not_found_retry_days: int,
    run_started: datetime,
    logger: logging.Logger | logging.LoggerAdapter = log,
) -> YearOutcome:
    """Ask OMDb about the year's pending movies, most deserving first, until done or the quota ends.

    Each movie's answer is saved in its own transaction, so a crash or the quota running out keeps
    everything done so far. Raises InvalidApiKey at once; raises OmdbUnavailable when OMDb stops
    answering (MAX_CONSECUTIVE_UNAVAILABLE movies in a row).
    """
    outcome = YearOutcome(year=year)
    sent_before, retries_before = client.requests_sent, client.retries
    try:
        _rate_pending(engine, client, year, clock, refresh_days, not_found_retry_days,
                      run_started, logger, outcome)
    finally:
        outcome.requests = client.requests_sent - sent_before
        outcome.retries = client.retries - retries_before
    return outcome


def _rate_pending(engine, client, year, clock, refresh_days, not_found_retry_days, run_started,
                  logger, outcome: YearOutcome) -> None:
    with engine.connect() as conn:
        pending = ratings_sql.movies_pending_ratings(
            conn, year, clock(), refresh_days, not_found_retry_days
        )
    logger.info(f"OMDb {year}: {len(pending)} movies pending")
    unavailable_in_a_row = 0
    for movie in pending:
        with engine.connect() as conn:
            if ratings_sql.fetched_since(conn, movie.tmdb_id, run_started):
                outcome.skipped_fetched_by_other_run += 1
                continue
        outcome.attempted += 1
        try:
            answer = client.fetch(movie.imdb_id)
        except QuotaExhausted as exc:
            outcome.attempted -= 1
            outcome.stopped_for_quota = True
            outcome.omdb_said_limit_reached = exc.source == "omdb"
            logger.info(f"OMDb {year}: stopping, the day's quota is spent ({exc})")
            break
        except OmdbUnavailable as exc:
            unavailable_in_a_row += 1
            _record_failure(engine, movie, "unavailable", str(exc), clock(), timedelta(0))
            outcome.failed["unavailable"] += 1
            if unavailable_in_a_row >= MAX_CONSECUTIVE_UNAVAILABLE:
                raise OmdbUnavailable(
                    f"OMDb did not answer for {unavailable_in_a_row} movies in a row "
                    f"(last: {exc}); stopped {year} to save the quota. Ratings saved so far are "
                    "kept; rerun once OMDb answers (check OMDB_BASE_URL)."
                )
            continue
        unavailable_in_a_row = 0
        status = save_answer(engine, movie, answer, clock(), not_found_retry_days)
        if status == ratings_sql.OK:
            outcome.rated += 1
        else:
            outcome.failed[status] += 1


def save_answer(
    engine: Engine,
    movie: ratings_sql.PendingMovie,
    answer: OmdbAnswer,
    now: datetime,
    not_found_retry_days: int,
) -> str:
    """Parse OMDb's answer about one movie and save it in one transaction; returns the status."""
    try:
        if len(answer.body) > MAX_BODY_CHARS:
            raise OmdbParseError(
                f"response of {len(answer.body):,} characters; a title is a few KB"
            )
        parsed = parse_response(answer.body)
    except OmdbParseError as exc:
        # Malformed bodies are usually a passing fault: ask again next run.
        _record_failure(engine, movie, "parse_error", f"HTTP {answer.status_code}: {exc}", now,
                        timedelta(0))
        return "parse_error"
    if isinstance(parsed, OmdbError):
        if parsed.reason in ("not_found", "incorrect_imdb_id"):
            wait = timedelta(days=not_found_retry_days)
        else:
            wait = timedelta(0)
        _record_failure(engine, movie, parsed.reason, parsed.message, now, wait, parsed.raw)
        return parsed.reason
    assert isinstance(parsed, OmdbTitle)
    facts = {
        "box_office_usd": parsed.box_office_usd,
        "rated": parsed.rated,
        "awards_text": parsed.awards_text,
        "oscar_wins": parsed.awards.oscar_wins,
        "oscar_nominations": parsed.awards.oscar_nominations,
        "total_wins": parsed.awards.total_wins,
        "total_nominations": parsed.awards.total_nominations,
    }
    ratings = [
        {"source": r.source, "value_raw": r.value_raw, "value_0_100": r.value_0_100, "votes": r.votes}
        for r in parsed.ratings
    ]
    try:
        with engine.begin() as conn:
            ratings_sql.upsert_ratings(
                conn, movie.tmdb_id, movie.imdb_id, facts, ratings, parsed.raw, now
            )
    except sa.exc.DataError as exc:
        # A value the database refuses (e.g. a NUL character in JSONB): this movie fails, the
        # rest of the year goes on. The transaction rolled back, so nothing is half-written.
        _record_failure(engine, movie, "parse_error", f"unstorable answer: {exc.orig}"[:500], now,
                        timedelta(0))
        return "parse_error"
    return ratings_sql.OK


def _record_failure(engine, movie, status, error, now, wait, raw=None) -> None:
    error = error.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    try:
        with engine.begin() as conn:
            ratings_sql.record_omdb_failure(
                conn, movie.tmdb_id, movie.imdb_id, status, error, now, now + wait, raw
            )
    except sa.exc.DataError:
        if raw is None:
            raise
        _record_failure(engine, movie, status, error, now, wait, None)
