"""Movies for the warehouse tests: TMDb-shaped details payloads, discovery rows, staging them,
and a snapshot of every movie table to compare two warehouses or two runs."""

from __future__ import annotations

from datetime import date, datetime, timezone

import sqlalchemy as sa

from cinegraph_assets.warehouse import schema, staging
from cinegraph_assets.warehouse.rows import DiscoveredMovie, DiscoveryWindow

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
CHILD_TABLES = [t.name for t in schema.MOVIE_CHILD_TABLES]
LOOKUP_TABLES = ["genres", "people", "keywords", "companies", "countries", "languages", "collections"]

def movie_payload(tmdb_id: int, release_date: str = "2024-03-01", title: str | None = None,
                  cast: int = 3, crew: int = 2, version: int = 1) -> dict:
    """A details body shaped like TMDb's, with every append the pipeline requests."""
    people = [(tmdb_id * 100 + i) for i in range(max(cast, crew))]
    return {
        "id": tmdb_id,
        "title": title if title is not None else f"Movie {tmdb_id} v{version}",
        "original_title": f"Movie {tmdb_id}",
        "release_date": release_date,
        "imdb_id": f"tt{tmdb_id:07d}",
        "adult": False,
        "budget": 1000 * version,
        "revenue": 0,
        "runtime": 90 + version,
        "popularity": 1.5 * version,
        "vote_average": 6.5,
        "vote_count": 10 * version,
        "status": "Released",
        "original_language": "en",
        "overview": "Something happens.",
        "tagline": "",
        "genres": [{"id": 18, "name": "Drama"}, {"id": 35 + version, "name": f"Genre {35 + version}"}],
        "credits": {
            "cast": [
                {"id": people[i], "name": f"Actor {people[i]} v{version}", "original_name": f"Actor {people[i]}",
                 "gender": 2, "known_for_department": "Acting", "profile_path": None,
                 "character": f"Role {i}", "credit_id": f"{tmdb_id}-c{i}", "order": i}
                for i in range(cast)
            ],
            "crew": [
                {"id": people[i], "name": f"Actor {people[i]} v{version}", "original_name": f"Actor {people[i]}",
                 "gender": 1, "known_for_department": "Directing", "profile_path": "/p.jpg",
                 "credit_id": f"{tmdb_id}-r{i}", "department": "Directing", "job": "Director"}
                for i in range(crew)
            ],
        },
        "release_dates": {"results": [] if not release_date else [
            {"iso_3166_1": "US", "release_dates": [
                {"certification": "R", "descriptors": [], "iso_639_1": "", "note": "",
                 "release_date": f"{release_date}T00:00:00.000Z", "type": 3}]},
        ]},
        "external_ids": {"imdb_id": f"tt{tmdb_id:07d}", "wikidata_id": None, "facebook_id": None,
                         "instagram_id": None, "twitter_id": None},
        "videos": {"results": [{"iso_639_1": "en", "iso_3166_1": "US", "name": "Trailer", "key": f"k{tmdb_id}",
                                "site": "YouTube", "size": 1080, "type": "Trailer", "official": True,
                                "published_at": "2024-01-01T10:00:00.000Z", "id": f"v{tmdb_id}"}]},
        "keywords": {"keywords": [{"id": 9000 + version, "name": f"keyword {version}"}]},
        "watch/providers": {"results": {"US": {"link": "https://example.test/watch",
                                               "flatrate": [{"provider_id": 8, "provider_name": "Netflix",
                                                             "display_priority": 1, "logo_path": "/n.jpg"}]}}},
        "production_companies": [{"id": 500 + version, "logo_path": None, "name": f"Studio {version}",
                                  "origin_country": "US"}, {"id": 4, "logo_path": "/p.png",
                                                            "name": "Paramount", "origin_country": ""}],
        "production_countries": [{"iso_3166_1": "US", "name": "United States of America"}],
        "spoken_languages": [{"english_name": "English", "iso_639_1": "en", "name": "English"}],
        "belongs_to_collection": {"id": 10, "name": "Movie Collection", "poster_path": None,
                                  "backdrop_path": "/b.jpg"} if tmdb_id % 2 else None,
        "translations": {"translations": [
            {"iso_3166_1": "DE", "iso_639_1": "de", "name": "Deutsch", "english_name": "German",
             "data": {"homepage": "", "overview": f"Etwas passiert (v{version}).", "runtime": 0,
                      "tagline": "", "title": ""}}]},
        "alternative_titles": {"titles": [{"iso_3166_1": "FR", "title": f"Film {tmdb_id}", "type": ""}]},
        "recommendations": {"page": 1, "results": [{"id": tmdb_id + 1}, {"id": 7}], "total_pages": 1,
                            "total_results": 2},
        "similar": {"page": 1, "results": [{"id": 7}], "total_pages": 1, "total_results": 1},
        "images": {"backdrops": [{"file_path": "/a.jpg"}], "logos": [], "posters": [{}, {}]},
    }


def discovered(*ids: int, release_date: date | None = date(2024, 3, 1)) -> list[DiscoveredMovie]:
    return [DiscoveredMovie(i, release_date, 1.0, False, False, f"Movie {i}") for i in ids]


def window(year: int, total: int) -> DiscoveryWindow:
    return DiscoveryWindow(date(year, 1, 1), date(year, 12, 31), "", total, 1)


def stage(engine, payloads: list[dict], fetched_at: datetime = NOW) -> None:
    with engine.begin() as conn:
        staging.save_raw_details(conn, [(p["id"], p, fetched_at) for p in payloads])


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of movies and its child and lookup tables, comparable across runs."""
    tables = ["movies", *LOOKUP_TABLES, *CHILD_TABLES]
    out = {}
    with engine.connect() as conn:
        for name in tables:
            table = schema.metadata.tables[name]
            columns = [c for c in table.columns if c.name != "tmdb_data"]
            rows = conn.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
            out[name] = [tuple(_utc_naive(v) for v in r) for r in rows]
    return out


def _utc_naive(value):
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones: compare them as naive UTC."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def count(engine, table: str, tmdb_id: int | None = None) -> int:
    t = schema.metadata.tables[table]
    query = sa.select(sa.func.count()).select_from(t)
    if tmdb_id is not None:
        query = query.where(t.c.tmdb_id == tmdb_id)
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()
