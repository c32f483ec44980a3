"""/3/discover/movie: filters, true totals, the 500-page wall, sort orders and popularity churn."""

from __future__ import annotations

import math

from cinegraph_assets_tests.sandbox.conftest import Client


def walk(client: Client, params: dict) -> list[dict]:
    first = client.get("/3/discover/movie", {**params, "page": 1}).json()
    results = list(first["results"])
    for page in range(2, min(first["total_pages"], 500) + 1):
        results += client.get("/3/discover/movie", {**params, "page": page}).json()["results"]
    return results


def test_a_year_walked_by_date_is_exactly_the_truth(demo, demo_sandbox):
    results = walk(demo, {"primary_release_year": 2024, "sort_by": "primary_release_date.asc"})
    ids = [m["id"] for m in results]
    assert len(ids) == len(set(ids))
    assert set(ids) == demo_sandbox.truth(2024)
    assert all(m["release_date"].startswith("2024-") for m in results)
    assert not any(m["adult"] or m["video"] for m in results)


def test_totals_are_true_counts_and_pages_hold_twenty(demo, demo_sandbox):
    body = demo.get("/3/discover/movie", {"primary_release_year": 2023}).json()
    truth = demo_sandbox.truth(2023)
    assert body["total_results"] == len(truth)
    assert body["total_pages"] == math.ceil(len(truth) / 20)
    assert len(body["results"]) == 20 and body["page"] == 1


def test_date_sort_breaks_ties_by_id_and_is_stable(demo):
    params = {"primary_release_date.gte": "2024-03-01", "primary_release_date.lte": "2024-03-31",
              "sort_by": "primary_release_date.desc"}
    first, again = walk(demo, params), walk(demo, params)
    assert [m["id"] for m in first] == [m["id"] for m in again]
    keys = [(m["release_date"], -m["id"]) for m in first]
    assert keys == sorted(keys, reverse=True)


def test_page_above_500_is_refused_like_tmdb(demo):
    response = demo.get("/3/discover/movie", {"page": 501})
    assert response.status_code == 400
    assert response.json() == {"success": False, "status_code": 22, "status_message":
                               "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer."}
    assert demo.get("/3/discover/movie", {"page": "x"}).status_code == 400


def test_adult_and_video_only_on_request(demo, demo_sandbox):
    plain = demo.get("/3/discover/movie", {"primary_release_year": 2022}).json()["total_results"]
    adult = demo.get("/3/discover/movie", {"primary_release_year": 2022, "include_adult": "true"}).json()["total_results"]
    both = demo.get("/3/discover/movie", {"primary_release_year": 2022, "include_adult": "true",
                                          "include_video": "true"}).json()["total_results"]
    assert plain < adult < both
    assert adult == len(demo_sandbox.truth(2022, include_adult=True))


def test_vote_count_and_language_filters_split_a_set(demo):
    base = {"primary_release_year": 2021}
    total = demo.get("/3/discover/movie", base).json()["total_results"]
    low = demo.get("/3/discover/movie", {**base, "vote_count.lte": 3}).json()["total_results"]
    high = demo.get("/3/discover/movie", {**base, "vote_count.gte": 4}).json()["total_results"]
    assert low + high == total and low > 0 and high > 0
    english = demo.get("/3/discover/movie", {**base, "with_original_language": "en"}).json()
    assert 0 < english["total_results"] < total
    assert {m["original_language"] for m in english["results"]} == {"en"}


def test_sorts_by_title_and_votes(demo):
    params = {"primary_release_date.gte": "2024-06-01", "primary_release_date.lte": "2024-06-30"}
    titles = [m["title"].casefold() for m in walk(demo, {**params, "sort_by": "title.asc"})]
    assert titles == sorted(titles)
    votes = [m["vote_count"] for m in walk(demo, {**params, "sort_by": "vote_count.desc"})]
    assert votes == sorted(votes, reverse=True)
    popularity = [m["popularity"] for m in walk(demo, {**params, "sort_by": "popularity.asc"})]
    assert popularity == sorted(popularity)


def test_popularity_churn_makes_a_popularity_walk_skip_and_repeat(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=400"], churn=0.6, detail_size="small")
    client = Client(sb.url)
    by_popularity = walk(client, {"primary_release_year": 2024})
    ids = [m["id"] for m in by_popularity]
    truth = sb.truth(2024)
    assert len(ids) == len(truth)
    assert len(set(ids)) < len(ids)  # repeats, hence skips
    by_date = walk(client, {"primary_release_year": 2024, "sort_by": "primary_release_date.asc"})
    assert {m["id"] for m in by_date} == truth


def test_crowded_date_splits_by_vote_count(sandbox_factory):
    sb = sandbox_factory(year_size=["2025=50"], crowded_date=["2025-01-01=1200"], detail_size="small")
    client = Client(sb.url)
    day = {"primary_release_date.gte": "2025-01-01", "primary_release_date.lte": "2025-01-01"}
    total = client.get("/3/discover/movie", day).json()["total_results"]
    assert total >= 1100  # minus the adult and video films
    zero = client.get("/3/discover/movie", {**day, "vote_count.lte": 0}).json()["total_results"]
    assert zero < total * 0.2  # vote_count ranges can split a placeholder date
