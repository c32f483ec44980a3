"""SQL of the oscars room: what matching reads, how nominations are written, what the checks count.

Writes are idempotent: nominations upsert on their natural key (nomination_key), so their ids stay
stable and a re-materialization changes nothing; nominees are replaced per nomination.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cinegraph_assets.warehouse.schema import (
    movie_cast,
    movie_crew,
    movies,
    oscar_categories,
    oscar_ceremonies,
    oscar_nominations,
    oscar_nominees,
    people,
)
from cinegraph_assets.warehouse.upserts import upsert

BEST_PICTURE = "BEST PICTURE"
_IN_CHUNK = 900  # under SQLite's old 999-parameter limit for IN lists


def _chunks(values: Sequence, size: int = _IN_CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ---------------------------------------------------------------------------------------------
# Reads for matching
# ---------------------------------------------------------------------------------------------

_MOVIE_COLUMNS = (
    movies.c.tmdb_id, movies.c.imdb_id, movies.c.title, movies.c.original_title, movies.c.release_year
)


def movies_released_between(conn: Connection, first_year: int, last_year: int) -> list[dict]:
    """Live movies (not deleted) released in first_year..last_year: the title-match candidates."""
    query = sa.select(*_MOVIE_COLUMNS).where(
        movies.c.release_year.between(first_year, last_year), movies.c.deleted_at.is_(None)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def movies_with_imdb_ids(conn: Connection, imdb_ids: Iterable[str]) -> list[dict]:
    """Live movies whose imdb_id is one of `imdb_ids`, whatever their release year."""
    ids = sorted({i for i in imdb_ids if i})
    found: list[dict] = []
    for chunk in _chunks(ids):
        query = sa.select(*_MOVIE_COLUMNS).where(
            movies.c.imdb_id.in_(chunk), movies.c.deleted_at.is_(None)
        )
        found.extend(dict(row._mapping) for row in conn.execute(query))
    return found


def movie_credits(conn: Connection, tmdb_ids: Iterable[int]) -> dict[int, list[dict]]:
    """Cast and crew of the given movies with the people's names: {tmdb_id: [credit, ...]}.

    Each credit: person_id, name, original_name, kind ("cast" | "crew"), department,
    imdb_id (the person's, when the people table carries one).
    """
    ids = sorted(set(tmdb_ids))
    person_imdb = people.c.get("imdb_id")
    imdb_column = (person_imdb if person_imdb is not None else sa.null()).label("imdb_id")
    credits: dict[int, list[dict]] = {tmdb_id: [] for tmdb_id in ids}
    for chunk in _chunks(ids):
        cast = sa.select(
            movie_cast.c.tmdb_id, movie_cast.c.person_id, people.c.name, people.c.original_name,
            sa.literal("cast").label("kind"), sa.null().label("department"), imdb_column,
        ).select_from(
            movie_cast.outerjoin(people, people.c.person_id == movie_cast.c.person_id)
        ).where(movie_cast.c.tmdb_id.in_(chunk))
        crew = sa.select(
            movie_crew.c.tmdb_id, movie_crew.c.person_id, people.c.name, people.c.original_name,
            sa.literal("crew").label("kind"), movie_crew.c.department, imdb_column,
        ).select_from(
            movie_crew.outerjoin(people, people.c.person_id == movie_crew.c.person_id)
        ).where(movie_crew.c.tmdb_id.in_(chunk))
        for query in (cast, crew):
            for row in conn.execute(query):
                credit = dict(row._mapping)
                credits[credit.pop("tmdb_id")].append(credit)
    return credits


# ---------------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------------


def upsert_oscar_ceremonies(conn: Connection, rows: Sequence[Mapping]) -> int:
    """Insert or update ceremonies (number, year, year_label); a known ceremony_date is kept."""
    return upsert(conn, oscar_ceremonies, rows, key=["number"], update=["year", "year_label"])


def upsert_oscar_categories(conn: Connection, rows: Sequence[Mapping]) -> int:
    """Insert or update categories (canonical_category, award_class, raw_names)."""
    return upsert(conn, oscar_categories, rows, key=["canonical_category"])


def replace_oscar_nominations_for_year(
    conn: Connection, film_year: int, rows: Sequence[Mapping]
) -> dict[str, int]:
    """Make the stored nominations of one film year exactly `rows`, in the caller's transaction.

    Each row is a nomination (the oscar_nominations columns except id) with a "nominees" list
    (position, name, imdb_person_id, tmdb_person_id, link_method). Nominations upsert on
    nomination_key (ids stay stable), those of the year no longer in the source are deleted, and
    each nomination's nominees are replaced. Returns {nomination_key: id}.
    """
    nomination_rows = [{k: v for k, v in row.items() if k != "nominees"} for row in rows]
    upsert(conn, oscar_nominations, nomination_rows, key=["nomination_key"])
    ids = dict(
        conn.execute(
            sa.select(oscar_nominations.c.nomination_key, oscar_nominations.c.id).where(
                oscar_nominations.c.film_year == film_year
            )
        ).all()
    )
    wanted = {row["nomination_key"] for row in rows}
    stale = [nomination_id for key, nomination_id in ids.items() if key not in wanted]
    for chunk in _chunks(stale):
        conn.execute(oscar_nominees.delete().where(oscar_nominees.c.nomination_id.in_(chunk)))
        conn.execute(oscar_nominations.delete().where(oscar_nominations.c.id.in_(chunk)))
    kept = {key: ids[key] for key in wanted}
    for chunk in _chunks(list(kept.values())):
        conn.execute(oscar_nominees.delete().where(oscar_nominees.c.nomination_id.in_(chunk)))
    nominee_rows = [
        {"nomination_id": kept[row["nomination_key"]], **nominee}
        for row in rows
        for nominee in row.get("nominees", ())
    ]
    if nominee_rows:
        upsert(conn, oscar_nominees, nominee_rows, key=["nomination_id", "position"])
    return kept


# ---------------------------------------------------------------------------------------------
# Reads for checks and reports
# ---------------------------------------------------------------------------------------------


def _live_movie_imdb_ids() -> sa.Select:
    return sa.select(movies.c.imdb_id).where(
        movies.c.imdb_id.is_not(None), movies.c.deleted_at.is_(None)
    )


def _matched_to_its_movie() -> sa.ColumnElement[bool]:
    return sa.exists(
        sa.select(1).where(
            movies.c.tmdb_id == oscar_nominations.c.tmdb_id,
            movies.c.imdb_id == oscar_nominations.c.film_imdb_id,
        )
    )


def imdb_match_coverage(conn: Connection, film_years: Sequence[int]) -> tuple[int, int]:
    """(film nominations whose FilmId is a warehouse imdb_id, how many are matched to that movie)."""
    in_warehouse = sa.and_(
        oscar_nominations.c.film_year.in_(list(film_years)),
        oscar_nominations.c.film_imdb_id.in_(_live_movie_imdb_ids()),
    )
    total = conn.execute(sa.select(sa.func.count()).where(in_warehouse)).scalar_one()
    matched = conn.execute(
        sa.select(sa.func.count()).where(in_warehouse, _matched_to_its_movie())
    ).scalar_one()
    return int(total), int(matched)


def best_picture_nominations_not_matched(conn: Connection, film_years: Sequence[int]) -> list[dict]:
    """Best Picture nominations whose movie (by FilmId) is in the warehouse but not matched to it."""
    query = sa.select(
        oscar_nominations.c.film_year, oscar_nominations.c.film_title,
        oscar_nominations.c.film_imdb_id, oscar_nominations.c.tmdb_id,
        oscar_nominations.c.unmatched_reason,
    ).where(
        oscar_nominations.c.film_year.in_(list(film_years)),
        oscar_nominations.c.canonical_category == BEST_PICTURE,
        oscar_nominations.c.film_imdb_id.in_(_live_movie_imdb_ids()),
        sa.not_(_matched_to_its_movie()),
    ).order_by(oscar_nominations.c.film_year, oscar_nominations.c.film_title)
    return [dict(row._mapping) for row in conn.execute(query)]


def best_picture_nominations_count(conn: Connection, film_years: Sequence[int]) -> int:
    query = sa.select(sa.func.count()).where(
        oscar_nominations.c.film_year.in_(list(film_years)),
        oscar_nominations.c.canonical_category == BEST_PICTURE,
    )
    return int(conn.execute(query).scalar_one())


def oscar_nominations_of_years(conn: Connection, film_years: Sequence[int]) -> list[dict]:
    """Stored nominations of the given film years, ordered by natural key (for reports and tests)."""
    query = sa.select(oscar_nominations).where(
        oscar_nominations.c.film_year.in_(list(film_years))
    ).order_by(oscar_nominations.c.nomination_key)
    return [dict(row._mapping) for row in conn.execute(query)]
