"""The rest of the movie in tables: written with the movie, replaced (never duplicated) when the
movie is normalized again, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from cinegraph_assets.tmdb.normalizer import normalize_staged
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets_tests.support.movies import NOW, movie_payload, stage


def rows(engine, table: str, *columns: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(columns)}"))]


def test_every_part_is_written_and_replaced_with_the_movie(warehouse_url):
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    stage(engine, [movie_payload(1), movie_payload(2)])
    assert normalize_staged(engine, 2024)["normalized"] == 2
    assert rows(engine, "movie_companies", "tmdb_id", "company_id", "position") == [
        (1, 4, 1), (1, 501, 0), (2, 4, 1), (2, 501, 0)]
    assert rows(engine, "companies", "company_id", "name", "origin_country") == [
        (4, "Paramount", None), (501, "Studio 1", "US")]
    assert rows(engine, "movie_collections", "tmdb_id", "collection_id") == [(1, 10)]
    assert rows(engine, "collections", "collection_id", "name") == [(10, "Movie Collection")]
    assert rows(engine, "movie_production_countries", "tmdb_id", "country") == [(1, "US"), (2, "US")]
    assert rows(engine, "movie_spoken_languages", "tmdb_id", "language") == [(1, "en"), (2, "en")]
    assert rows(engine, "movie_translations", "tmdb_id", "language", "country", "title", "overview") == [
        (1, "de", "DE", None, "Etwas passiert (v1)."), (2, "de", "DE", None, "Etwas passiert (v1).")]
    assert rows(engine, "movie_alternative_titles", "tmdb_id", "seq", "title") == [(1, 0, "Film 1"), (2, 0, "Film 2")]
    assert rows(engine, "movie_recommendations", "tmdb_id", "recommended_tmdb_id", "rank") == [
        (1, 2, 1), (1, 7, 2), (2, 3, 1), (2, 7, 2)]
    assert rows(engine, "movie_similar", "tmdb_id", "similar_tmdb_id", "rank") == [(1, 7, 1), (2, 7, 1)]
    assert rows(engine, "movie_image_counts", "tmdb_id", "kind", "image_count") == [
        (1, "backdrops", 1), (1, "logos", 0), (1, "posters", 2),
        (2, "backdrops", 1), (2, "logos", 0), (2, "posters", 2)]
    assert rows(engine, "movies", "tmdb_id", "rules_version") == [(1, 2), (2, 2)]

    newer = movie_payload(1, version=2)
    newer["belongs_to_collection"] = None
    newer["similar"] = {"results": []}
    stage(engine, [newer], fetched_at=NOW + timedelta(days=1))
    normalize_staged(engine, 2024)
    assert rows(engine, "movie_companies", "tmdb_id", "company_id") == [(1, 4), (1, 502), (2, 4), (2, 501)]
    assert rows(engine, "movie_collections", "tmdb_id", "collection_id") == []
    assert rows(engine, "movie_similar", "tmdb_id", "similar_tmdb_id") == [(2, 7)]
    assert rows(engine, "movie_translations", "tmdb_id", "overview") == [
        (1, "Etwas passiert (v2)."), (2, "Etwas passiert (v1).")]
    assert len(rows(engine, "movie_image_counts", "tmdb_id", "kind")) == 6
