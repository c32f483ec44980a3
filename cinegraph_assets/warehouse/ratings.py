"""The OMDb room's SQL: which movies need ratings, saving one movie's answer, the quota ledger, and
the summaries the asset, its check and the automation sensors report.

Every function takes a Connection and runs in the caller's transaction, so a caller decides what is
atomic (one movie's rows together; one quota reservation on its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cinegraph_assets.warehouse.bulk_write import replace_rows, upsert
from cinegraph_assets.warehouse.schema import movie_ratings, movies, omdb_movies, omdb_quota_ledger

OK = "ok"
#: Answers that say nothing about the movie (OMDb down, a body that is not JSON, an odd error): they
#: never replace a good rating, which is refreshed again after FAILED_REFRESH_WAIT instead.
PASSING_FAILURES = ("unavailable", "parse_error", "omdb_error")
FAILED_REFRESH_WAIT = timedelta(days=1)


@dataclass(frozen=True)
class PendingMovie:
    tmdb_id: int
    imdb_id: str
    never_fetched: bool


def _eligible(year: int | None = None) -> sa.ColumnElement[bool]:
    """Movies OMDb can be asked about: alive, with an IMDb id (and of the year, if given)."""
    condition = sa.and_(
        movies.c.imdb_id.is_not(None), movies.c.imdb_id != "", movies.c.deleted_at.is_(None)
    )
    if year is not None:
        condition = sa.and_(condition, movies.c.release_year == year)
    return condition


def _joined() -> sa.FromClause:
    return movies.outerjoin(omdb_movies, omdb_movies.c.tmdb_id == movies.c.tmdb_id)


def _never_asked() -> sa.ColumnElement[bool]:
    """Never asked, or asked about another IMDb id than the movie has now."""
    return sa.or_(omdb_movies.c.tmdb_id.is_(None), omdb_movies.c.imdb_id != movies.c.imdb_id)


def refreshes_allowed(conn: Connection) -> bool:
    """Whether ratings may be refreshed now: only once no movie of any year waits for its first
    answer (OMDB_REFRESH_DAYS' promise). Otherwise a few recent years' refreshes, due every month,
    could take the whole daily quota for good and older years would never be rated."""
    waiting = conn.execute(
        sa.select(movies.c.tmdb_id).select_from(_joined()).where(_eligible(), _never_asked()).limit(1)
    ).first()
    return waiting is None


def _due(now: datetime, refresh_days: int, refresh: bool = True) -> sa.ColumnElement[bool]:
    """Whether an eligible movie (joined to its omdb_movies row) should be asked now.

    Never asked (or its IMDb id changed since); a failure whose retry_after has passed (not found:
    after OMDB_NOT_FOUND_RETRY_DAYS; malformed or unavailable answers: the next run); and, when
    `refresh` (see refreshes_allowed), rated longer ago than refresh_days.
    """
    refresh_before = now - timedelta(days=refresh_days)
    due = [
        _never_asked(),
        sa.and_(omdb_movies.c.status != OK, omdb_movies.c.retry_after <= now),
    ]
    if refresh:
        due.append(sa.and_(
            omdb_movies.c.status == OK, omdb_movies.c.fetched_at < refresh_before,
            sa.or_(omdb_movies.c.retry_after.is_(None), omdb_movies.c.retry_after <= now)))
    return sa.or_(*due)


def movies_pending_ratings(
    conn: Connection,
    year: int,
    now: datetime,
    refresh_days: int = 30,
    not_found_retry_days: int = 90,
) -> list[PendingMovie]:
    """The year's movies OMDb should be asked about now, in the order the quota should be spent.

    Never-fetched movies first, most popular first; then movies never rated whose earlier answer
    failed; then refreshes, oldest ratings first, but only once no movie of any year waits for its
    first answer (refreshes_allowed). (not_found_retry_days is applied when a failure is recorded,
    as its retry_after; it is accepted here so callers pass one set of settings.)
    """
    del not_found_retry_days  # already folded into omdb_movies.retry_after
    never = _never_asked()
    rank = sa.case(
        (never, 0),
        (omdb_movies.c.status != OK, 1),
        else_=2,
    )
    popularity_first = sa.case((rank < 2, movies.c.popularity), else_=None)
    query = (
        sa.select(movies.c.tmdb_id, movies.c.imdb_id, rank.label("rank"))
        .select_from(_joined())
        .where(_eligible(year), _due(now, refresh_days, refreshes_allowed(conn)))
        .order_by(
            rank,
            popularity_first.desc().nulls_last(),
            omdb_movies.c.fetched_at.asc().nulls_first(),
            movies.c.tmdb_id,
        )
    )
    return [
        PendingMovie(tmdb_id=row.tmdb_id, imdb_id=row.imdb_id, never_fetched=row.rank == 0)
        for row in conn.execute(query)
    ]


def fetched_since(conn: Connection, tmdb_id: int, since: datetime) -> bool:
    """Whether another run already asked OMDb about this movie since `since` (saves quota when two
    runs of the same year overlap)."""
    row = conn.execute(
        sa.select(omdb_movies.c.fetched_at).where(omdb_movies.c.tmdb_id == tmdb_id)
    ).first()
    return row is not None and _as_utc(row.fetched_at) >= since


def upsert_ratings(
    conn: Connection,
    tmdb_id: int,
    imdb_id: str,
    facts: Mapping[str, Any],
    ratings: Iterable[Mapping[str, Any]],
    raw: Mapping[str, Any] | None,
    fetched_at: datetime,
) -> int:
    """Save one movie's successful answer: its facts and all its rating rows, replacing the old
    ones. Call it inside one transaction so readers never see a movie half-written.

    facts: box_office_usd, rated, awards_text, oscar_wins, oscar_nominations, total_wins,
    total_nominations. ratings: dicts with source, value_raw, value_0_100, votes.
    Returns the number of rating rows written.
    """
    row = {
        "tmdb_id": tmdb_id,
        "imdb_id": imdb_id,
        "omdb_data": dict(raw) if raw is not None else None,
        "box_office_usd": facts.get("box_office_usd"),
        "rated": facts.get("rated"),
        "awards_text": facts.get("awards_text"),
        "oscar_wins": facts.get("oscar_wins"),
        "oscar_nominations": facts.get("oscar_nominations"),
        "total_wins": facts.get("total_wins"),
        "total_nominations": facts.get("total_nominations"),
        "fetched_at": fetched_at,
        "status": OK,
        "error": None,
        "retry_after": None,
    }
    upsert(conn, omdb_movies, [row], key=["tmdb_id"])
    rows = [
        {
            "tmdb_id": tmdb_id,
            "source": rating["source"],
            "value_raw": rating["value_raw"],
            "value_0_100": rating.get("value_0_100"),
            "votes": rating.get("votes"),
            "fetched_at": fetched_at,
        }
        for rating in ratings
    ]
    return replace_rows(conn, movie_ratings, movie_ratings.c.tmdb_id == tmdb_id, rows)


def record_omdb_failure(
    conn: Connection,
    tmdb_id: int,
    imdb_id: str,
    status: str,
    error: str,
    fetched_at: datetime,
    retry_after: datetime,
    raw: Mapping[str, Any] | None = None,
) -> None:
    """Record that OMDb's answer about a movie was not usable, why, and when to ask again.

    Ratings saved by an earlier successful fetch are kept (they are still the best we know). A
    passing failure (PASSING_FAILURES) of a movie whose last answer was good keeps that answer and
    its status too, so the movie still counts as rated; only its error is noted and the refresh
    waits FAILED_REFRESH_WAIT. Otherwise the movie counts as failed until a later fetch succeeds.
    """
    if status in PASSING_FAILURES:
        kept = conn.execute(
            omdb_movies.update()
            .where(omdb_movies.c.tmdb_id == tmdb_id, omdb_movies.c.imdb_id == imdb_id,
                   omdb_movies.c.status == OK)
            .values(error=error[:2000], retry_after=max(retry_after, fetched_at + FAILED_REFRESH_WAIT))
        ).rowcount
        if kept:
            return
    upsert(
        conn,
        omdb_movies,
        [
            {
                "tmdb_id": tmdb_id,
                "imdb_id": imdb_id,
                "omdb_data": dict(raw) if raw is not None else None,
                "fetched_at": fetched_at,
                "status": status,
                "error": error[:2000],
                "retry_after": retry_after,
            }
        ],
        key=["tmdb_id"],
    )


def ratings_summary(
    conn: Connection, year: int, now: datetime, refresh_days: int = 30
) -> dict[str, Any]:
    """Counts for one year: eligible (alive, with an IMDb id), rated (last answer ok), pending
    (due to be asked now), failed (by status), coverage_pct (rated / eligible)."""
    eligible = conn.execute(
        sa.select(sa.func.count()).select_from(movies).where(_eligible(year))
    ).scalar_one()
    by_status = {
        row.status: row.n
        for row in conn.execute(
            sa.select(omdb_movies.c.status, sa.func.count().label("n"))
            .select_from(_joined())
            .where(_eligible(year), omdb_movies.c.imdb_id == movies.c.imdb_id)
            .group_by(omdb_movies.c.status)
        )
    }
    pending = conn.execute(
        sa.select(sa.func.count())
        .select_from(_joined())
        .where(_eligible(year), _due(now, refresh_days, refreshes_allowed(conn)))
    ).scalar_one()
    never_fetched = conn.execute(
        sa.select(sa.func.count())
        .select_from(_joined())
        .where(
            _eligible(year),
            _never_asked(),
        )
    ).scalar_one()
    rated = by_status.pop(OK, 0)
    return {
        "eligible": eligible,
        "rated": rated,
        "pending": pending,
        "never_fetched": never_fetched,
        "failed": dict(sorted(by_status.items())),
        "coverage_pct": round(100.0 * rated / eligible, 2) if eligible else 100.0,
    }


def pending_years(
    conn: Connection, now: datetime, refresh_days: int = 30
) -> list[tuple[int, int]]:
    """(year, movies due for OMDb now) for every year with any, most recent year first.

    For the omdb_backlog sensor: request omdb_ratings runs for these years, within the quota.
    Refreshes count only once no movie waits for its first answer, as the runs spend it.
    """
    query = (
        sa.select(movies.c.release_year, sa.func.count().label("n"))
        .select_from(_joined())
        .where(_eligible(), movies.c.release_year.is_not(None),
               _due(now, refresh_days, refreshes_allowed(conn)))
        .group_by(movies.c.release_year)
        .order_by(movies.c.release_year.desc())
    )
    return [(row.release_year, row.n) for row in conn.execute(query)]


def omdb_coverage(conn: Connection) -> dict[str, Any]:
    """Catalog-wide OMDb coverage: eligible movies, rated ones, coverage_pct (for catalog_progress)."""
    eligible = conn.execute(
        sa.select(sa.func.count()).select_from(movies).where(_eligible())
    ).scalar_one()
    rated = conn.execute(
        sa.select(sa.func.count())
        .select_from(_joined())
        .where(_eligible(), omdb_movies.c.status == OK, omdb_movies.c.imdb_id == movies.c.imdb_id)
    ).scalar_one()
    return {
        "eligible": eligible,
        "rated": rated,
        "coverage_pct": round(100.0 * rated / eligible, 2) if eligible else 100.0,
    }


# --- The quota ledger -----------------------------------------------------------------------


def reserve_omdb_requests(
    conn: Connection, day: date, daily_limit: int, count: int = 1, *, now: datetime
) -> bool:
    """Take `count` requests of `day`'s quota, or none if that would exceed daily_limit or OMDb's
    limit answer paused requests until after `now`.

    Atomic under concurrency: the conditional UPDATE takes the row's lock on PostgreSQL (a second
    run waits, then re-checks the condition against the committed count); on SQLite the engine's
    BEGIN IMMEDIATE serializes writers. Commit promptly: the lock is held until then.
    """
    _ensure_day(conn, day, daily_limit)
    if omdb_paused_until(conn, now) is not None:
        return False
    result = conn.execute(
        omdb_quota_ledger.update()
        .where(
            omdb_quota_ledger.c.utc_day == day,
            omdb_quota_ledger.c.requests_used + count <= daily_limit,
        )
        .values(
            requests_used=omdb_quota_ledger.c.requests_used + count, daily_limit=daily_limit
        )
    )
    return result.rowcount == 1


def pause_omdb_requests(conn: Connection, day: date, daily_limit: int, until: datetime) -> None:
    """OMDb said "Request limit reached!": every run stops asking until `until`, whatever the
    ledger counted (the key may be shared, or OMDb's day may not be the UTC day: it does not say
    when it resets). The first request after `until` probes whether the key is usable again."""
    _ensure_day(conn, day, daily_limit)
    conn.execute(
        omdb_quota_ledger.update()
        .where(omdb_quota_ledger.c.utc_day == day)
        .values(paused_until=until, daily_limit=daily_limit)
    )


def omdb_paused_until(conn: Connection, now: datetime) -> datetime | None:
    """When the latest "Request limit reached!" pause ends, if it has not ended by `now`. Read over
    every day's row: a pause taken at 23:30 UTC runs on into the next day."""
    until = conn.execute(sa.select(sa.func.max(omdb_quota_ledger.c.paused_until))).scalar_one_or_none()
    if until is None:
        return None
    until = _as_utc(until)
    return until if until > now else None


def omdb_requests_used(conn: Connection, day: date) -> int:
    """Requests spent on `day` (UTC) by every run."""
    used = conn.execute(
        sa.select(omdb_quota_ledger.c.requests_used).where(omdb_quota_ledger.c.utc_day == day)
    ).scalar_one_or_none()
    return used or 0


def _ensure_day(conn: Connection, day: date, daily_limit: int) -> None:
    upsert(
        conn,
        omdb_quota_ledger,
        [{"utc_day": day, "requests_used": 0, "daily_limit": daily_limit}],
        key=["utc_day"],
        update=[],
    )


def _as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
