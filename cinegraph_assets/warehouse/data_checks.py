"""What the TMDb asset checks ask of a year's normalized movies: its ids, duplicates, missing titles.

Read-only queries over movies and its child tables (tmdb/checks.py turns them into asset checks).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cinegraph_assets.warehouse import schema as s
from cinegraph_assets.warehouse.movie_rows import CHILD_WRITES


def year_movie_ids(conn: Connection, year: int, include_deleted: bool = False) -> set[int]:
    """Ids of the movies rows whose release_year is `year` (deleted ones only if asked)."""
    m = s.movies
    query = sa.select(m.c.tmdb_id).where(m.c.release_year == year)
    if not include_deleted:
        query = query.where(m.c.deleted_at.is_(None))
    return set(conn.execute(query).scalars())


def duplicate_movie_ids(conn: Connection, year: int) -> list[int]:
    """Ids of the year with duplicate rows in movies or a child table (for the uniqueness check).

    The tables' primary keys make duplicates impossible today; this check is what would notice a
    key dropped by a later migration (credits keyed by credit_id, release dates by position...).
    """
    m = s.movies
    year_ids = sa.select(m.c.tmdb_id).where(m.c.release_year == year).scalar_subquery()
    found: set[int] = set()
    checks = [(m, ["tmdb_id"])] + [
        (table, [c.name for c in table.primary_key.columns]) for _, table in CHILD_WRITES
    ]
    for table, key in checks:
        query = (
            sa.select(table.c.tmdb_id)
            .where(table.c.tmdb_id.in_(year_ids))
            .group_by(*[table.c[c] for c in key])
            .having(sa.func.count() > 1)
        )
        found.update(conn.execute(query).scalars())
    return sorted(found)


def movies_missing_title(conn: Connection, year: int) -> list[int]:
    """Ids of the year's (not deleted) movies without a title (NULL or blank)."""
    m = s.movies
    query = (
        sa.select(m.c.tmdb_id)
        .where(
            m.c.release_year == year,
            m.c.deleted_at.is_(None),
            sa.or_(m.c.title.is_(None), sa.func.trim(m.c.title) == ""),
        )
        .order_by(m.c.tmdb_id)
    )
    return list(conn.execute(query).scalars())


def year_counts(conn: Connection, year: int) -> tuple[int, int]:
    """(movies in `year` not deleted, movies in `year` marked deleted)."""
    m = s.movies
    in_year, deleted = conn.execute(
        sa.select(
            sa.func.count().filter(m.c.deleted_at.is_(None)),
            sa.func.count().filter(m.c.deleted_at.is_not(None)),
        ).where(m.c.release_year == year)
    ).one()
    return int(in_year), int(deleted)
