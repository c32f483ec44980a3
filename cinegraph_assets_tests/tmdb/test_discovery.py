"""Discovery covers a year completely despite the result cap, against a small fake /discover/movie.

The cap is scaled down (100 results = 5 pages of 20) so a few thousand fake movies exercise every
split: date windows, a crowded day split by vote_count, and a day that needs the language split.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from cinegraph_assets.tmdb import discovery
from cinegraph_assets.tmdb.client import TMDbAuthError, TMDbClient
from cinegraph_assets_tests.tmdb.fake_tmdb import FakeTMDb, Reply

PAGE = 20
CAP_PAGES = 5


@pytest.fixture(autouse=True)
def small_cap(monkeypatch):
    monkeypatch.setattr(discovery, "MAX_PAGE", CAP_PAGES)
    monkeypatch.setattr(discovery, "RESULT_CAP", CAP_PAGES * PAGE)
    monkeypatch.setattr(discovery, "TARGET_PER_WINDOW", 70)


def make_catalog(year: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    movies = []
    next_id = 1
    for _ in range(1500):  # spread over the year
        day = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        movies.append({"id": next_id, "date": day, "votes": rng.randrange(0, 50), "lang": "en"})
        next_id += 1
    for _ in range(400):  # a placeholder day far over the cap, spread over vote counts
        movies.append({"id": next_id, "date": date(year, 1, 1), "votes": int(rng.expovariate(0.05)),
                       "lang": "en"})
        next_id += 1
    for index in range(30):  # neighbours in other years must never leak in
        movies.append({"id": next_id, "date": date(year - 1 + 2 * (index % 2), 6, 1), "votes": 1, "lang": "en"})
        next_id += 1
    rng.shuffle(movies)
    return movies


class FakeDiscover:
    """/discover/movie over a list of movies, with TMDb's filters, order and page cap."""

    def __init__(self, movies: list[dict], languages: list[str] | None = None):
        self.movies = movies
        self.languages = languages or ["en", "fr"]

    def __call__(self, request):
        if request.path == "/3/configuration/languages":
            return Reply(body=[{"iso_639_1": code, "english_name": code} for code in self.languages])
        assert request.path == "/3/discover/movie"
        q = request.query
        page = int(q.get("page", 1))
        if page > CAP_PAGES:
            return Reply(status=400, body={"status_code": 22, "status_message": "Invalid page"})
        low = date.fromisoformat(q["primary_release_date.gte"])
        high = date.fromisoformat(q["primary_release_date.lte"])
        matches = [m for m in self.movies if low <= m["date"] <= high
                   and m["votes"] >= int(q.get("vote_count.gte", 0))
                   and m["votes"] <= int(q.get("vote_count.lte", 10**9))
                   and ("with_original_language" not in q or m["lang"] == q["with_original_language"])]
        assert q["sort_by"] == "primary_release_date.asc"
        matches.sort(key=lambda m: (m["date"], m["id"]))
        chunk = matches[(page - 1) * PAGE: page * PAGE]
        return Reply(body={
            "page": page, "total_results": len(matches), "total_pages": -(-len(matches) // PAGE),
            "results": [{"id": m["id"], "title": f"Movie {m['id']}", "release_date": m["date"].isoformat(),
                         "popularity": random.random(), "adult": False, "video": False,
                         "vote_count": m["votes"]} for m in chunk]})


def client_for(fake: FakeTMDb) -> TMDbClient:
    return TMDbClient(base_url=fake.url, api_key="test-key", sleep=lambda s: None)


def test_a_year_over_the_cap_is_discovered_completely_including_a_crowded_day():
    movies = make_catalog(2024)
    truth = {m["id"] for m in movies if m["date"].year == 2024}
    with FakeTMDb(FakeDiscover(movies)) as fake:
        result = discovery.discover_year(client_for(fake), 2024, max_workers=4)
    assert {m.tmdb_id for m in result.movies} == truth
    assert result.tmdb_total == len(truth) and result.coverage_pct == 100.0
    assert not result.uncovered and not result.shortfalls
    assert all(w.tmdb_total <= CAP_PAGES * PAGE for w in result.windows)
    crowded = [w for w in result.windows if w.start == w.end == date(2024, 1, 1)]
    assert len(crowded) > 1 and all(w.extra_filter.startswith("vote_count.gte=") for w in crowded)
    # Never a page past the cap, and the page walk costs about one request per 20 movies.
    pages = [int(r.query["page"]) for r in fake.requests]
    assert max(pages) <= CAP_PAGES
    assert len(fake.requests) <= len(truth) / PAGE * 1.6


def test_adult_movies_follow_the_setting():
    with FakeTMDb(FakeDiscover(make_catalog(2024))) as fake:
        discovery.discover_year(client_for(fake), 2024, include_adult=True, max_workers=2)
        assert {r.query["include_adult"] for r in fake.requests} == {"true"}
    with FakeTMDb(FakeDiscover(make_catalog(2024))) as fake:
        discovery.discover_year(client_for(fake), 2024, max_workers=2)
        assert {r.query["include_adult"] for r in fake.requests} == {"false"}


def test_a_single_vote_count_over_the_cap_is_split_by_language_and_a_shortfall_is_reported():
    movies = [{"id": i, "date": date(2024, 3, 3), "votes": 0, "lang": "en" if i % 3 else "fr"}
              for i in range(1, 151)]
    movies += [{"id": 1000 + i, "date": date(2024, 3, 3), "votes": 0, "lang": "xx"} for i in range(5)]
    with FakeTMDb(FakeDiscover(movies, languages=["en", "fr"])) as fake:
        result = discovery.discover_year(client_for(fake), 2024, max_workers=2)
    assert {m.tmdb_id for m in result.movies} == set(range(1, 151))
    # The five movies in a language TMDb's list lacks are not claimed as covered.
    assert result.tmdb_total == 155
    assert result.coverage_pct < 100.0
    assert result.shortfalls and result.shortfalls[0][1:] == (155, 150)


def test_invalid_key_stops_discovery_after_one_request():
    body = {"status_code": 7, "status_message": "Invalid API key: You must be granted a valid key.",
            "success": False}
    with FakeTMDb(lambda request: Reply(status=401, body=body)) as fake:
        with pytest.raises(TMDbAuthError, match="TMDB_API_KEY"):
            discovery.discover_year(client_for(fake), 2024, max_workers=4)
    assert len(fake.requests) == 1


def test_split_queries_partition_the_query_exactly():
    languages = lambda: ["en"]  # noqa: E731
    day = discovery.DiscoverQuery(date(2024, 1, 1), date(2024, 1, 1))
    # vote_count ranges: contiguous, non-overlapping, from 0 to unbounded.
    parts = day.split(50_000, languages)
    assert [(p.vote_min, p.vote_max) for p in parts] == [(0, 1), (2, None)]
    assert [(p.vote_min, p.vote_max) for p in parts[1].split(50_000, languages)] == [(2, 5), (6, None)]
    bounded = discovery.DiscoverQuery(date(2024, 1, 1), date(2024, 1, 1), 2, 5)
    assert [(p.vote_min, p.vote_max) for p in bounded.split(50_000, languages)] == [(2, 3), (4, 5)]
    year = discovery.DiscoverQuery(date(2024, 1, 1), date(2024, 12, 31))
    windows = year.split(38_000, languages)
    assert windows[0].start == date(2024, 1, 1) and windows[-1].end == date(2024, 12, 31)
    assert all(a.end + timedelta(days=1) == b.start for a, b in zip(windows, windows[1:]))
