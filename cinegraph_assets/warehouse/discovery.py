"""Discovery's rows: which ids TMDb's /discover/movie put in each year, and the leaf queries walked.

The first stage of a movie's way in: tmdb/discovery.py walks the discover pages and hands the
result (rows.DiscoveredMovie, rows.DiscoveryWindow) to record_discovery. Discovery notices moves
first: an id missing from its year's discovery gets vanished_at, an id found under a different
year gets changed_at; either makes details_queue.movies_needing_details fetch it once.

Every function takes a SQLAlchemy Connection and runs in the caller's transaction; all of it
works on SQLite and PostgreSQL and is idempotent.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from cinegraph_assets.warehouse import schema as s
from cinegraph_assets.warehouse.bulk_write import IN_CHUNK, chunks, insert_for, write_many
from cinegraph_assets.warehouse.row_locks import lock_in_key_order
from cinegraph_assets.warehouse.rows import DiscoveredMovie, DiscoveryWindow
from cinegraph_assets.warehouse.utc import from_db, to_utc

#: Advisory lock "a discovery is being written" (one key for every year: see record_discovery).
_DISCOVERY_LOCK = 720_4312


# ------------------------------------------------------------------------------------ discovery
def record_discovery(
    conn: Connection,
    year: int,
    windows: list[DiscoveryWindow],
    movies: list[DiscoveredMovie],
    at: datetime,
) -> dict:
    """Store one complete discovery of `year`.

    Replaces the year's windows; upserts discovered_movies (release_year=year, last_seen_at=at,
    vanished_at cleared); an id that discover had put in another year gets changed_at=at, so its
    details are fetched again and its movies row can follow it. Ids of this year not seen this
    time get vanished_at=at (details must be re-fetched to learn whether they moved year or were
    deleted). Returns {"discovered", "tmdb_total", "windows", "new", "vanished"}.
    """
    at = to_utc(at)
    by_id: dict[int, DiscoveredMovie] = {}
    for movie in movies:  # churn can return an id twice; one statement may not touch a row twice
        by_id[movie.tmdb_id] = movie
    ids = sorted(by_id)

    d = s.discovered_movies
    if conn.dialect.name == "postgresql":
        # One discovery written at a time, whatever its year: a movie that moved across New Year
        # is a row of both adjacent years' discoveries (the daily sync runs them together), so a
        # lock per year let each transaction hold rows the other one then had to write: deadlock.
        # Writing a discovery takes a second or two; the HTTP walk before it runs in parallel.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(space)s, 0)", {"space": _DISCOVERY_LOCK})
        # Every row this writes, locked up front in one key-ordered pass (the year's rows, some of
        # which will vanish, and the found ids, some filed under another year until now), so the
        # other writers of these rows, which lock in key order too, wait instead of deadlocking.
        lock_in_key_order(conn, d, sa.or_(
            d.c.release_year == year,
            d.c.tmdb_id == sa.any_(sa.bindparam("found_ids", ids, type_=postgresql.ARRAY(sa.Integer)))))
    known: set[int] = set()
    for chunk in chunks(ids, IN_CHUNK):
        known.update(
            conn.execute(
                sa.select(s.discovered_movies.c.tmdb_id).where(s.discovered_movies.c.tmdb_id.in_(chunk))
            ).scalars()
        )

    table = s.discovered_movies
    insert = insert_for(conn, table)
    statement = insert.on_conflict_do_update(
        index_elements=["tmdb_id"],
        set_={
            "release_year": insert.excluded.release_year,
            "release_date": insert.excluded.release_date,
            "popularity": insert.excluded.popularity,
            "adult": insert.excluded.adult,
            "video": insert.excluded.video,
            "title": insert.excluded.title,
            "last_seen_at": insert.excluded.last_seen_at,
            "vanished_at": None,
            "changed_at": sa.case(
                (table.c.release_year != insert.excluded.release_year, insert.excluded.last_seen_at),
                else_=table.c.changed_at,
            ),
        },
    )
    rows = [
        {
            "tmdb_id": tmdb_id,
            "release_year": year,
            "release_date": by_id[tmdb_id].release_date,
            "popularity": by_id[tmdb_id].popularity,
            "adult": by_id[tmdb_id].adult,
            "video": by_id[tmdb_id].video,
            "title": by_id[tmdb_id].title,
            "first_seen_at": at,
            "last_seen_at": at,
        }
        for tmdb_id in ids
    ]
    write_many(conn, statement, rows)

    vanished = conn.execute(
        table.update()
        .where(
            table.c.release_year == year,
            table.c.vanished_at.is_(None),
            table.c.last_seen_at != at,
        )
        .values(vanished_at=at)
    ).rowcount

    conn.execute(s.discovery_windows.delete().where(s.discovery_windows.c.release_year == year))
    window_rows = {}
    for w in windows:
        window_rows[(w.start, w.end, w.extra_filter or "")] = {
            "release_year": year,
            "start_date": w.start,
            "end_date": w.end,
            "extra_filter": w.extra_filter or "",
            "tmdb_total": int(w.tmdb_total),
            "pages": int(w.pages),
            "discovered_at": at,
        }
    write_many(conn, s.discovery_windows.insert(), list(window_rows.values()))
    return {
        "discovered": len(ids),
        "tmdb_total": sum(r["tmdb_total"] for r in window_rows.values()),
        "windows": len(window_rows),
        "new": len(ids) - len(known),
        "vanished": vanished,
    }


def discovered_ids(conn: Connection, year: int) -> set[int]:
    """Ids the last discovery of `year` returned (not vanished; deleted ones included)."""
    t = s.discovered_movies
    return set(
        conn.execute(
            sa.select(t.c.tmdb_id).where(t.c.release_year == year, t.c.vanished_at.is_(None))
        ).scalars()
    )


def discovery_summary(conn: Connection, year: int) -> dict:
    """{"discovered", "tmdb_total", "windows", "discovered_at"} of the year's last discovery.

    discovered_at is None (and the counts 0) when the year was never discovered.
    """
    w = s.discovery_windows
    tmdb_total, windows, discovered_at = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(w.c.tmdb_total), 0),
            sa.func.count(),
            sa.func.max(w.c.discovered_at),
        ).where(w.c.release_year == year)
    ).one()
    return {
        "discovered": len(discovered_ids(conn, year)),
        "tmdb_total": int(tmdb_total),
        "windows": int(windows),
        "discovered_at": from_db(discovered_at),
    }
