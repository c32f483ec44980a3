"""Helpers shared by the OMDb tests: movies rows inserted directly, and what the warehouse holds."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets.warehouse.schema import movie_ratings, movies, omdb_movies


def migrated_engine(url: str) -> sa.Engine:
    upgrade(url)
    return get_engine(url)


def insert_movies(engine: sa.Engine, rows: list[dict]) -> None:
    """Movies as the TMDb assets would leave them (only the columns OMDb reads)."""
    full = [
        {
            "tmdb_id": r["tmdb_id"],
            "imdb_id": r.get("imdb_id"),
            "title": r.get("title", f"Movie {r['tmdb_id']}"),
            "release_year": r["release_year"],
            "popularity": r.get("popularity", 1.0),
            "deleted_at": r.get("deleted_at"),
        }
        for r in rows
    ]
    with engine.begin() as conn:
        conn.execute(movies.insert(), full)


def statuses(engine: sa.Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(omdb_movies.c.tmdb_id, omdb_movies.c.status)).all())


def ratings(engine: sa.Engine) -> dict[tuple[int, str], tuple]:
    with engine.connect() as conn:
        return {
            (r.tmdb_id, r.source): (r.value_raw, r.value_0_100, r.votes)
            for r in conn.execute(sa.select(movie_ratings))
        }


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
