"""SQL of the oscars room: what matching reads, how nominations are written, what the checks count.

Writes are idempotent: nominations upsert on their natural key (nomination_key), so their ids stay
stable and a re-materialization changes nothing; nominees are replaced per nomination.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cinegraph_assets.warehouse.bulk_write import chunks, upsert
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

BEST_PICTURE = "BEST PICTURE"
_IN_CHUNK = 900  # under SQLite's old 999-parameter limit for IN lists


def _chunks(values: Sequence) -> Iterable[Sequence]:
    return chunks(values, _IN_CHUNK)


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


#: Namespaces the PostgreSQL advisory lock of "writing the Oscar nominations of year Y".
_YEAR_LOCK_BASE = 0x05CA_0000


def upsert_oscar_ceremonies(conn: Connection, rows: Sequence[Mapping]) -> int:
    """Insert or update ceremonies (number, year, year_label); a known ceremony_date is kept."""
    return upsert(conn, oscar_ceremonies, rows, key=["number"], update=["year", "year_label"])


def upsert_oscar_categories(conn: Connection, rows: Sequence[Mapping]) -> int:
    """Insert or update categories (canonical_category, award_class, raw_names)."""
    return upsert(conn, oscar_categories, rows, key=["canonical_category"])


def _differs(stored: Mapping, wanted: Mapping) -> bool:
    return any(stored.get(column) != value for column, value in wanted.items())


def replace_oscar_nominations_for_year(
    conn: Connection, film_year: int, rows: Sequence[Mapping]
) -> dict[str, int]:
    """Make the stored nominations of one film year exactly `rows`, in the caller's transaction.

    Each row is a nomination (the oscar_nominations columns except id) with a "nominees" list
    (position, name, imdb_person_id, tmdb_person_id, link_method). Rows are compared with what is
    stored under the same nomination_key: new ones are inserted, changed ones updated in place (so
    ids stay stable), those of the year no longer in the source deleted, and a nomination's nominees
    replaced only when they differ. Re-writing the same rows writes nothing.

    Returns counts: inserted, updated, deleted, unchanged, nominees_replaced.
    """
    if conn.dialect.name == "postgresql":
        # Two runs writing the same year at once (a backfill and a sensor's run) take turns;
        # SQLite's BEGIN IMMEDIATE already serializes writers.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _YEAR_LOCK_BASE + film_year})
    stored = {
        row["nomination_key"]: row
        for row in (dict(r._mapping) for r in conn.execute(
            sa.select(oscar_nominations).where(oscar_nominations.c.film_year == film_year)))
    }
    wanted = {row["nomination_key"]: {k: v for k, v in row.items() if k != "nominees"} for row in rows}
    counts = {"inserted": 0, "updated": 0, "deleted": 0, "unchanged": 0, "nominees_replaced": 0}

    stale = [row["id"] for key, row in stored.items() if key not in wanted]
    for chunk in _chunks(stale):
        conn.execute(oscar_nominees.delete().where(oscar_nominees.c.nomination_id.in_(chunk)))
        conn.execute(oscar_nominations.delete().where(oscar_nominations.c.id.in_(chunk)))
    counts["deleted"] = len(stale)

    new = [row for key, row in wanted.items() if key not in stored]
    if new:
        conn.execute(oscar_nominations.insert(), new)
    counts["inserted"] = len(new)
    changed = [
        {"_id": stored[key]["id"], **row}
        for key, row in wanted.items() if key in stored and _differs(stored[key], row)
    ]
    if changed:
        columns = [c for c in changed[0] if c not in ("_id", "nomination_key")]
        conn.execute(
            oscar_nominations.update()
            .where(oscar_nominations.c.id == sa.bindparam("_id"))
            .values({c: sa.bindparam(c) for c in columns}),
            changed,
        )
    counts["updated"] = len(changed)
    counts["unchanged"] = len(wanted) - len(new) - len(changed)

    ids = dict(conn.execute(
        sa.select(oscar_nominations.c.nomination_key, oscar_nominations.c.id).where(
            oscar_nominations.c.film_year == film_year)
    ).all())
    stored_nominees: dict[int, list[dict]] = {}
    for chunk in _chunks(list(ids.values())):
        for r in conn.execute(
            sa.select(oscar_nominees).where(oscar_nominees.c.nomination_id.in_(chunk))
            .order_by(oscar_nominees.c.nomination_id, oscar_nominees.c.position)
        ):
            nominee = dict(r._mapping)
            stored_nominees.setdefault(nominee.pop("nomination_id"), []).append(nominee)
    replace: list[int] = []
    inserts: list[dict] = []
    for row in rows:
        nomination_id = ids[row["nomination_key"]]
        nominees = sorted((dict(n) for n in row.get("nominees", ())), key=lambda n: n["position"])
        if stored_nominees.get(nomination_id, []) != nominees:
            replace.append(nomination_id)
            inserts.extend({"nomination_id": nomination_id, **n} for n in nominees)
    for chunk in _chunks(replace):
        conn.execute(oscar_nominees.delete().where(oscar_nominees.c.nomination_id.in_(chunk)))
    if inserts:
        conn.execute(oscar_nominees.insert(), inserts)
    counts["nominees_replaced"] = len(replace)
    return counts


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
