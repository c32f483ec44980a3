"""Idempotent writes on both dialects: re-running replaces, never duplicates."""

from datetime import date, datetime, timezone

import sqlalchemy as sa

from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets.warehouse.schema import movies
from cinegraph_assets.warehouse.bulk_write import replace_rows, upsert


def _movie(title: str, vote_count: int, fetched_at: datetime) -> dict:
    return {
        "tmdb_id": 550, "imdb_id": "tt0137523", "title": title, "original_title": "Fight Club",
        "release_date": date(1999, 10, 15), "release_year": 1999, "runtime": 139,
        "budget": 63_000_000, "revenue": 100_853_753, "popularity": 61.4,
        "vote_average": 8.4, "vote_count": vote_count, "status": "Released", "adult": False,
        "original_language": "en", "overview": "A ticking-time-bomb insomniac...", "tagline": None,
        "tmdb_data": {"id": 550, "title": title, "credits": {"cast": [{"name": "Édouard"}]}},
        "fetched_at": fetched_at, "deleted_at": None,
    }


def test_upserting_the_same_movie_twice_keeps_one_row_with_the_newer_values(warehouse_url):
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    first = datetime(2026, 1, 1, tzinfo=timezone.utc)
    second = datetime(2026, 2, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        upsert(conn, movies, [_movie("Fight Club", 100, first)], key=["tmdb_id"])
    with engine.begin() as conn:
        upsert(conn, movies, [_movie("Fight Club (Director's Cut)", 200, second)], key=["tmdb_id"])
    with engine.connect() as conn:
        rows = conn.execute(sa.select(movies)).mappings().all()
    assert len(rows) == 1
    row = rows[0]
    assert row["title"] == "Fight Club (Director's Cut)"
    assert row["vote_count"] == 200
    assert row["tmdb_data"]["credits"]["cast"][0]["name"] == "Édouard"
    assert row["fetched_at"].replace(tzinfo=timezone.utc) == second


def test_upsert_writes_large_batches_in_one_call(warehouse_url):
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows = [{**_movie(f"Movie {i}", i, now), "tmdb_id": i, "tmdb_data": None} for i in range(1, 3001)]
    with engine.begin() as conn:
        assert upsert(conn, movies, rows, key=["tmdb_id"]) == 3000
        assert upsert(conn, movies, rows, key=["tmdb_id"]) == 3000
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(movies)).scalar_one() == 3000


def test_replace_rows_swaps_a_set_without_duplicates(warehouse_url):
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    year_rows = [{**_movie(f"M{i}", i, now), "tmdb_id": i} for i in (1, 2, 3)]
    for _ in range(2):
        with engine.begin() as conn:
            replace_rows(conn, movies, movies.c.release_year == 1999, year_rows)
    with engine.connect() as conn:
        ids = conn.execute(sa.select(movies.c.tmdb_id).order_by(movies.c.tmdb_id)).scalars().all()
    assert ids == [1, 2, 3]
