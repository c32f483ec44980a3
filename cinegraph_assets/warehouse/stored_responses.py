"""The SQL of re-deriving movies from the responses the warehouse already holds (movies.tmdb_data).

Re-deriving goes through the same door as a fresh fetch: a movie's stored response is put back in
tmdb_details_staging with its original fetched_at, and normalizing it replaces the movie's rows in
one transaction, exactly as for a response that just arrived. So both paths share every rule (and
the PostgreSQL credits SQL), a crash leaves the response staged for the next pass, and freshness
is untouched: the movie still counts as fetched when it was.

A change of one part's rules (tmdb/movie_parts.PARTS) takes a shorter door: only that part's
fields are read from the stored responses, and only that part's tables are replaced
(movie_rows.replace_part); every other row of the movie stays as it is.

Which movies: those of a release year whose rows were derived by older parsing rules than the
caller's (rules_version NULL counts as oldest), or all of them. Deleted movies (deleted_at set)
keep their rows: normalizing would mark them live again, and their next successful fetch
re-derives them anyway.
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cinegraph_assets.warehouse import bulk_write
from cinegraph_assets.warehouse import schema as s
from cinegraph_assets.warehouse.row_locks import lock_in_key_order


def movies_to_rederive(conn: Connection, year: int | None, rules_version: int, *,
                       everything: bool = False) -> list[int]:
    """tmdb ids of the year's live movies (year None: the undated ones, which no year holds) with
    a stored response whose rows are older than `rules_version` (or all of them with
    `everything`), in id order."""
    m = s.movies
    query = sa.select(m.c.tmdb_id).where(
        m.c.release_year.is_(None) if year is None else m.c.release_year == year,
        m.c.deleted_at.is_(None), m.c.tmdb_data.is_not(None),
    )
    if not everything:
        query = query.where(sa.or_(m.c.rules_version.is_(None), m.c.rules_version < rules_version))
    return list(conn.execute(query.order_by(m.c.tmdb_id)).scalars())


def stage_stored_responses(conn: Connection, tmdb_ids: Sequence[int]) -> int:
    """Stage the stored response of each of these movies for normalizing; returns how many.

    A movie that already has a staged response keeps it: that one is newer than what is stored.
    """
    if not tmdb_ids:
        return 0
    m, st = s.movies, s.tmdb_details_staging
    statement = bulk_write.insert_for(conn, st).from_select(
        ["tmdb_id", "release_year", "payload", "fetched_at"],
        sa.select(m.c.tmdb_id, m.c.release_year, m.c.tmdb_data, m.c.fetched_at).where(
            m.c.tmdb_id.in_(list(tmdb_ids)), m.c.tmdb_data.is_not(None), m.c.fetched_at.is_not(None)
        ),
    ).on_conflict_do_nothing(index_elements=["tmdb_id"])
    return conn.execute(statement).rowcount


def movies_with_old_part(conn: Connection, year: int | None, part: str, version: int) -> list[int]:
    """tmdb ids of the year's live movies with a stored response whose rows of `part` were derived
    by rules older than `version` (or by none recorded), in id order. Run after the whole-movie
    re-derive: a movie whose core is older is re-derived whole, every part included."""
    m, r = s.movies, s.movie_rules
    current = sa.select(r.c.tmdb_id).where(r.c.tmdb_id == m.c.tmdb_id, r.c.part == part, r.c.version >= version)
    query = sa.select(m.c.tmdb_id).where(
        m.c.release_year.is_(None) if year is None else m.c.release_year == year,
        m.c.deleted_at.is_(None), m.c.tmdb_data.is_not(None), ~current.exists(),
    )
    return list(conn.execute(query.order_by(m.c.tmdb_id)).scalars())


def lock_and_read_fields(conn: Connection, tmdb_ids: Sequence[int], fields: Sequence[str]) -> list[tuple[int, dict]]:
    """(tmdb_id, {field: value}) of these movies' stored responses, only the top-level `fields`.

    The fields are cut out server-side (`tmdb_data->'translations'` on PostgreSQL), so a part's
    re-derive reads kilobytes, not the 50 KB response. The movies rows are locked first, in the
    one key order, so a normalizer writing the same movie waits (or is waited for) instead of
    interleaving its child rows with ours. Deleted movies are left out (they keep their rows).
    """
    if not tmdb_ids:
        return []
    m = s.movies
    live = lock_in_key_order(conn, m, sa.and_(m.c.tmdb_id.in_(list(tmdb_ids)), m.c.deleted_at.is_(None),
                                               m.c.tmdb_data.is_not(None)))
    if not live:
        return []
    query = sa.select(m.c.tmdb_id, *[m.c.tmdb_data[f].label(f"f{i}") for i, f in enumerate(fields)]).where(
        m.c.tmdb_id.in_(live)).order_by(m.c.tmdb_id)
    return [(row[0], dict(zip(fields, row[1:]))) for row in conn.execute(query)]
