"""All SQL of the TMDb room: discovery, which details to fetch, the raw staging area, failures,
and normalizing raw responses into movies and its child tables.

Every function takes a SQLAlchemy Connection and runs in the caller's transaction, except
normalize_staged, which commits its own batches (each batch holds complete movies, so a reader
never sees a movie without its credits and a crash loses at most the batch in flight).
All of it works on SQLite and PostgreSQL and is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Connection, Engine

from cinegraph_assets.tmdb.parse import DiscoveredMovie  # one class for parser and warehouse

__all__ = [
    "DiscoveredMovie",
    "DiscoveryWindow",
    "StalenessPolicy",
    "record_discovery",
    "discovered_ids",
    "discovery_summary",
    "movies_needing_details",
    "save_raw_details",
    "mark_deleted",
    "record_fetch_failures",
    "fetch_failures",
    "mark_changed",
    "years_of_movies",
    "normalize_staged",
    "year_movie_ids",
    "duplicate_movie_ids",
    "movies_missing_title",
]

REASONS = ("retry", "new", "vanished", "changed", "stale")


@dataclass(frozen=True)
class DiscoveryWindow:
    """One leaf discover query whose results were fully walked."""

    start: date  # inclusive primary_release_date bounds
    end: date
    extra_filter: str  # "" or e.g. "vote_count.gte=0&vote_count.lte=3" (what split a crowded day)
    tmdb_total: int  # TMDb's total_results for that query
    pages: int


@dataclass(frozen=True)
class StalenessPolicy:
    """How old fetched details may get, by how long ago the movie was released."""

    recent_days: int = 30
    recent_max_age_days: int = 2
    half_year_days: int = 180
    half_year_max_age_days: int = 7
    year_days: int = 365
    year_max_age_days: int = 14
    older_max_age_days: int = 30


def record_discovery(
    conn: Connection,
    year: int,
    windows: list[DiscoveryWindow],
    movies: list[DiscoveredMovie],
    at: datetime,
) -> dict:
    """Store one complete discovery of `year`.

    Replaces the year's windows; upserts discovered_movies (release_year=year, last_seen_at=at);
    ids of this year not seen this time get vanished_at=at. Returns
    {"discovered", "tmdb_total", "new", "vanished"}.
    """
    raise NotImplementedError


def discovered_ids(conn: Connection, year: int) -> set[int]:
    """Ids the last discovery of `year` returned (not vanished)."""
    raise NotImplementedError


def discovery_summary(conn: Connection, year: int) -> dict:
    """{"discovered", "tmdb_total", "windows", "discovered_at"} of the year's last discovery."""
    raise NotImplementedError


def movies_needing_details(
    conn: Connection, year: int, now: datetime, policy: StalenessPolicy
) -> list[tuple[int, str]]:
    """(tmdb_id, reason) for every id of `year` whose details must be fetched.

    reason is one of "new", "changed", "stale", "retry", "vanished". Excludes ids already staged
    and not yet normalized, and ids marked deleted (unless changed since).
    """
    raise NotImplementedError


def save_raw_details(conn: Connection, items: list[tuple[int, dict, datetime]]) -> int:
    """Stage raw responses (tmdb_id, payload, fetched_at); clears those ids' fetch failures."""
    raise NotImplementedError


def mark_deleted(conn: Connection, tmdb_ids: list[int], at: datetime) -> int:
    """TMDb answered 404: set deleted_at on movies and discovered_movies (rows are kept)."""
    raise NotImplementedError


def record_fetch_failures(
    conn: Connection, year: int, failures: list[tuple[int, str, int | None]], at: datetime
) -> int:
    """Record (tmdb_id, reason, http_status) failures; attempts += 1 for ids that failed before."""
    raise NotImplementedError


def fetch_failures(conn: Connection, year: int) -> list[dict]:
    """Unresolved failures of the year: {tmdb_id, reason, http_status, attempts, last_attempt_at}."""
    raise NotImplementedError


def mark_changed(conn: Connection, tmdb_ids: list[int], at: datetime) -> int:
    """TMDb reported these ids changed (the changes sensor): changed_at=at."""
    raise NotImplementedError


def years_of_movies(conn: Connection, tmdb_ids: list[int]) -> dict[int, int | None]:
    """id -> release year (None if unknown) for the ids the warehouse knows."""
    raise NotImplementedError


def normalize_staged(engine: Engine, year: int, batch_size: int = 200) -> dict:
    """Move the year's staged raw responses into movies and its child tables.

    Returns counts for metadata: {"normalized", "movies_in_year", "moved_out", "deleted", ...}.
    """
    raise NotImplementedError


def year_movie_ids(conn: Connection, year: int, include_deleted: bool = False) -> set[int]:
    """Ids of the movies rows whose release_year is `year`."""
    raise NotImplementedError


def duplicate_movie_ids(conn: Connection, year: int) -> list[int]:
    """Ids of the year with duplicate rows in movies or a child table (for the uniqueness check)."""
    raise NotImplementedError


def movies_missing_title(conn: Connection, year: int) -> list[int]:
    """Ids of the year's (not deleted) movies without a title."""
    raise NotImplementedError
