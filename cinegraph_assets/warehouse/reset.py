"""Forgetting release years on purpose, and marking them for a full re-fetch: the SQL of
`python -m cinegraph_assets reset` and `refetch`.

What a reset deletes, for the given release years: the year's discovery (ids and windows), staged
raw responses, recorded fetch failures, the movies rows with every child row (credits, genres,
release dates, external ids, videos, keywords, watch providers), and the Oscar nominations of those
film years (nominations of other years matched to a deleted movie are unmatched, so no row points
at a movie that is gone). The next import of the year starts from nothing.

What it keeps, on purpose:
- the OMDb quota ledger: the requests spent today are spent, whatever the warehouse holds
  (deleting warehouse.sqlite by hand used to forget them, and the next run overspent the key);
- OMDb's answers (omdb_movies, movie_ratings): each cost a request of a daily quota; keyed by
  movie, they attach again when the year is re-imported and are refreshed as usual;
- shared lookup rows (people, genres, keywords, Oscar ceremonies and categories) and the TMDb
  rate-limit slots.

Every function takes a Connection and runs in the caller's transaction (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cinegraph_assets.warehouse import schema as s

#: Rows keyed by tmdb_id that belong to one movie and go with it.
MOVIE_CHILD_TABLES = s.MOVIE_CHILD_TABLES
#: Release-year tables emptied for the years reset (besides movies and their children).
YEAR_TABLES = (s.discovered_movies, s.discovery_windows, s.tmdb_details_staging, s.tmdb_fetch_failures)
_IN_CHUNK = 5_000  # SQLite's bound-parameter limit, with room to spare


def _chunks(ids: Sequence[int]):
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start:start + _IN_CHUNK]


def forget_years(conn: Connection, years: Sequence[int]) -> dict[str, int]:
    """Delete what the warehouse holds for `years` (see the module); rows deleted per table."""
    years = sorted(set(years))
    deleted: dict[str, int] = {}
    movie_ids = sorted(conn.execute(
        sa.select(s.movies.c.tmdb_id).where(s.movies.c.release_year.in_(years))).scalars())
    for chunk in _chunks(movie_ids):
        for table in MOVIE_CHILD_TABLES:
            deleted[table.name] = deleted.get(table.name, 0) + conn.execute(
                table.delete().where(table.c.tmdb_id.in_(chunk))).rowcount
        # Nominations of neighbouring film years matched to these movies: unmatched, not dangling.
        matched = sa.select(s.oscar_nominations.c.id).where(s.oscar_nominations.c.tmdb_id.in_(chunk))
        conn.execute(s.oscar_nominees.update().where(s.oscar_nominees.c.nomination_id.in_(matched))
                     .values(tmdb_person_id=None, link_method=None))
        conn.execute(s.oscar_nominations.update().where(s.oscar_nominations.c.tmdb_id.in_(chunk))
                     .values(tmdb_id=None, match_method=None, match_confidence=None,
                             unmatched_reason="no_movie_with_title"))
    deleted["movies"] = conn.execute(s.movies.delete().where(s.movies.c.release_year.in_(years))).rowcount
    for table in YEAR_TABLES:
        deleted[table.name] = conn.execute(table.delete().where(table.c.release_year.in_(years))).rowcount
    nominations = sa.select(s.oscar_nominations.c.id).where(s.oscar_nominations.c.film_year.in_(years))
    deleted["oscar_nominees"] = conn.execute(
        s.oscar_nominees.delete().where(s.oscar_nominees.c.nomination_id.in_(nominations))).rowcount
    deleted["oscar_nominations"] = conn.execute(
        s.oscar_nominations.delete().where(s.oscar_nominations.c.film_year.in_(years))).rowcount
    return deleted


def mark_years_for_refetch(conn: Connection, years: Sequence[int], at: datetime) -> int:
    """Mark every discovered movie of `years` changed, so the next details run fetches each one
    again whatever its age; returns how many were marked."""
    d = s.discovered_movies
    return conn.execute(
        d.update().where(d.c.release_year.in_(sorted(set(years)))).values(changed_at=at)).rowcount
