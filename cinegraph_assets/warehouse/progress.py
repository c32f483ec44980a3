"""The reporting room's SQL: how far the catalog has come, year by year.

Read-only queries for catalog_progress and `python -m cinegraph_assets status`. Every function
takes a Connection and works on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cinegraph_assets.warehouse.schema import (
    discovered_movies,
    discovery_windows,
    movies,
    oscar_nominations,
    tmdb_fetch_failures,
)

#: Tables the progress report reads; a warehouse without them has not been migrated yet.
REQUIRED_TABLES = ("movies", "discovered_movies", "discovery_windows", "tmdb_fetch_failures")


@dataclass(frozen=True)
class YearCounts:
    """What the warehouse holds for one release year."""

    year: int
    imported: int = 0  # movies rows of the year, not deleted
    discovered: int = 0  # ids the last discovery returned (not vanished, not deleted)
    tmdb_total: int = 0  # TMDb's own total over the year's discovery windows
    failures: int = 0  # movies whose details still fail
    last_sync: datetime | None = None  # the year's last complete discovery (every sync starts with it)
    first_import: datetime | None = None  # when the year's first movie was discovered


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def has_catalog_tables(conn: Connection) -> bool:
    """Whether the warehouse has been migrated far enough to report on."""
    names = set(sa.inspect(conn).get_table_names())
    return all(name in names for name in REQUIRED_TABLES)


def year_counts(conn: Connection) -> dict[int, YearCounts]:
    """Counts of every year the warehouse knows anything about (years it never saw are absent)."""
    imported = dict(
        conn.execute(
            sa.select(movies.c.release_year, sa.func.count())
            .where(movies.c.deleted_at.is_(None), movies.c.release_year.is_not(None))
            .group_by(movies.c.release_year)
        ).all()
    )
    discovered: dict[int, tuple[int, datetime | None]] = {
        row.release_year: (row.n, row.first_seen)
        for row in conn.execute(
            sa.select(
                discovered_movies.c.release_year,
                sa.func.count().label("n"),
                sa.func.min(discovered_movies.c.first_seen_at).label("first_seen"),
            )
            .where(discovered_movies.c.vanished_at.is_(None), discovered_movies.c.deleted_at.is_(None))
            .group_by(discovered_movies.c.release_year)
        )
    }
    windows = {
        row.release_year: (int(row.total or 0), row.last)
        for row in conn.execute(
            sa.select(
                discovery_windows.c.release_year,
                sa.func.sum(discovery_windows.c.tmdb_total).label("total"),
                sa.func.max(discovery_windows.c.discovered_at).label("last"),
            ).group_by(discovery_windows.c.release_year)
        )
    }
    failures = dict(
        conn.execute(
            sa.select(tmdb_fetch_failures.c.release_year, sa.func.count())
            .where(tmdb_fetch_failures.c.release_year.is_not(None))
            .group_by(tmdb_fetch_failures.c.release_year)
        ).all()
    )
    years = set(imported) | set(discovered) | set(windows) | set(failures)
    return {
        year: YearCounts(
            year=year,
            imported=int(imported.get(year, 0)),
            discovered=int(discovered.get(year, (0, None))[0]),
            tmdb_total=windows.get(year, (0, None))[0],
            failures=int(failures.get(year, 0)),
            last_sync=_utc(windows.get(year, (0, None))[1]),
            first_import=_utc(discovered.get(year, (0, None))[1]),
        )
        for year in years
        if year is not None
    }


def movies_count(conn: Connection, first_year: int, last_year: int) -> int:
    """Movies (not deleted) released from first_year to last_year: whether a year was imported."""
    return int(conn.execute(
        sa.select(sa.func.count()).select_from(movies)
        .where(movies.c.release_year.between(first_year, last_year), movies.c.deleted_at.is_(None))
    ).scalar_one())


def oscar_match_rate(conn: Connection) -> dict:
    """Nominations naming a film, how many are matched to a movie, and the rate (for the report)."""
    names = set(sa.inspect(conn).get_table_names())
    if "oscar_nominations" not in names:
        return {"film_nominations": 0, "matched": 0, "match_pct": None}
    named, matched = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(oscar_nominations.c.tmdb_id),
        ).where(oscar_nominations.c.film_title.is_not(None))
    ).one()
    return {
        "film_nominations": int(named),
        "matched": int(matched),
        "match_pct": round(100.0 * matched / named, 2) if named else None,
    }


def movies_first_seen_since(conn: Connection, since: datetime) -> int:
    """Movies in the catalog whose id was first discovered at or after `since` (the import rate)."""
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(
                discovered_movies.join(movies, movies.c.tmdb_id == discovered_movies.c.tmdb_id)
            )
            .where(discovered_movies.c.first_seen_at >= since, movies.c.deleted_at.is_(None))
        ).scalar_one()
    )
