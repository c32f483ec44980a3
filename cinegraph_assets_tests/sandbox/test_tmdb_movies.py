"""/3/movie/{id} with appends, /3/movie/changes, auth, and the sandbox clock."""

from __future__ import annotations

import requests

from cinegraph_assets_tests.sandbox.conftest import Client

ALL_APPENDS = ("credits,videos,images,keywords,release_dates,external_ids,watch/providers,recommendations,"
               "similar,alternative_titles,translations,changes")


def some_ids(client: Client, year: int = 2024, n: int = 20, sort: str = "popularity.desc") -> list[int]:
    results = client.get("/3/discover/movie", {"primary_release_year": year, "sort_by": sort}).json()
    return [m["id"] for m in results["results"][:n]]


def test_details_carry_every_append_and_agree_with_discover(demo):
    listed = demo.get("/3/discover/movie", {"primary_release_year": 2024}).json()["results"][0]
    body = demo.get(f"/3/movie/{listed['id']}", {"append_to_response": ALL_APPENDS}).json()
    for key in ("credits", "videos", "images", "keywords", "release_dates", "external_ids", "watch/providers",
                "recommendations", "similar", "alternative_titles", "translations", "changes"):
        assert key in body, key
    for key in ("id", "title", "original_title", "release_date", "popularity", "vote_count", "adult", "video"):
        assert body[key] == listed[key], key
    assert set(body["credits"]) == {"cast", "crew"}


def test_full_detail_responses_are_real_sized(demo):
    sizes = sorted(len(demo.get(f"/3/movie/{i}", {"append_to_response": ALL_APPENDS}).content)
                   for i in some_ids(demo, n=20))
    assert sizes[len(sizes) // 2] > 10_000  # popular films: tens of KB like real ones
    assert sizes[-1] < 400_000


def test_some_movies_have_no_imdb_id_and_unicode_titles(demo):
    bodies = [demo.get(f"/3/movie/{i}", {"append_to_response": "external_ids"}).json()
              for i in some_ids(demo, 2020, 20) + some_ids(demo, 2019, 20, "popularity.asc")]
    assert any(b["imdb_id"] is None for b in bodies) and any(b["imdb_id"] for b in bodies)
    assert all(b["imdb_id"] == b["external_ids"]["imdb_id"] for b in bodies)
    assert any(not b["original_title"].isascii() for b in bodies)


def test_more_than_twenty_appends_is_code_27(demo):
    movie_id = some_ids(demo, n=1)[0]
    response = demo.get(f"/3/movie/{movie_id}", {"append_to_response": ",".join(["credits"] * 21)})
    assert response.status_code == 400 and response.json()["status_code"] == 27


def test_unknown_movie_is_404_code_34_as_captured(demo):
    response = demo.get("/3/movie/1")
    assert response.status_code == 404
    assert response.json() == {"status_code": 34, "status_message": "The resource you requested could not be found."}


def test_sub_resources_are_served_on_their_own(demo):
    movie_id = some_ids(demo, n=1)[0]
    credits = demo.get(f"/3/movie/{movie_id}/credits").json()
    assert credits["id"] == movie_id and "cast" in credits
    assert demo.get(f"/3/movie/{movie_id}/watch/providers").json()["id"] == movie_id


def test_auth_by_key_or_bearer_token_and_401_code_7_otherwise(demo_sandbox):
    url = demo_sandbox.tmdb_url + "/genre/movie/list"
    assert requests.get(url, params={"api_key": "sandbox"}, timeout=10).status_code == 200
    assert requests.get(url, headers={"Authorization": "Bearer sandbox-token"}, timeout=10).status_code == 200
    for response in (requests.get(url, params={"api_key": "nope"}, timeout=10),
                     requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=10),
                     requests.get(url, timeout=10)):
        assert response.status_code == 401
        assert response.json() == {"success": False, "status_code": 7,
                                   "status_message": "Invalid API key: You must be granted a valid key."}


def test_custom_keys(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=10"], tmdb_api_key="k123", tmdb_access_token="tok", detail_size="small")
    url = sb.tmdb_url + "/configuration"
    assert requests.get(url, params={"api_key": "sandbox"}, timeout=10).status_code == 401
    assert requests.get(url, params={"api_key": "k123"}, timeout=10).status_code == 200
    assert requests.get(url, headers={"Authorization": "Bearer tok"}, timeout=10).status_code == 200


def test_changes_window_is_at_most_14_days(demo):
    response = demo.get("/3/movie/changes", {"start_date": "2026-11-01", "end_date": "2026-11-16"})
    assert response.status_code == 422
    assert response.json() == {"success": False, "status_code": 20,
                               "status_message": "Invalid date range: Should be a range no longer than 14 days."}
    ok = demo.get("/3/movie/changes", {"start_date": "2026-11-07", "end_date": "2026-11-21"})
    assert ok.status_code == 200


def test_advancing_time_changes_deletes_and_adds_movies(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=800", "2025=800"], change_rate=0.03, delete_rate=0.005,
                         new_per_day=20, detail_size="small")
    client = Client(sb.url)
    years = (2022, 2023, 2024, 2025, 2026)
    before = {year: sb.truth(year) for year in years}
    snapshot = {i: client.get(f"/3/movie/{i}").json() for i in sorted(before[2024])[:250]}
    summary = sb.advance(3)
    assert summary["today"] == "2026-11-24" and summary["changed"] > 0 and summary["deleted"] > 0

    changes = client.get("/3/movie/changes", {"start_date": "2026-11-22", "end_date": "2026-11-24"}).json()
    listed = []
    for page in range(1, changes["total_pages"] + 1):
        listed += client.get("/3/movie/changes", {"start_date": "2026-11-22", "end_date": "2026-11-24",
                                                   "page": page}).json()["results"]
    assert len(listed) == changes["total_results"] and len({m["id"] for m in listed}) == len(listed)
    assert all(set(m) == {"id", "adult"} for m in listed)
    assert any(m["adult"] is None for m in listed)
    changed = {m["id"] for m in listed}

    after = {year: sb.truth(year) for year in years}
    gone = before[2024] - after[2024]
    assert gone and gone <= changed
    moved = {i for y in years for i in before[y] if any(i in after[other] for other in years if other != y)}
    assert summary["moved_year"] > 0 and moved  # corrections moved release dates to other years
    assert moved <= changed
    for movie_id in gone:
        if movie_id not in set().union(*after.values()):
            response = client.get(f"/3/movie/{movie_id}")
            if response.status_code == 404:
                assert response.json()["status_code"] == 34
    new_ids = set().union(*after.values()) - set().union(*before.values())
    assert new_ids <= changed | set().union(*after.values())
    differing = [i for i, old in snapshot.items() if i in after[2024] and client.get(f"/3/movie/{i}").json() != old]
    assert differing and set(differing) <= changed
    unchanged_and_same = [i for i in snapshot if i not in changed and i in after[2024]]
    assert all(client.get(f"/3/movie/{i}").json() == snapshot[i] for i in unchanged_and_same[:20])


def test_changes_default_to_the_last_day_and_page_by_100(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=3000"], change_rate=0.05, detail_size="small")
    client = Client(sb.url)
    assert client.get("/3/movie/changes").json()["total_results"] == 0
    sb.advance(1)
    body = client.get("/3/movie/changes").json()
    assert body["total_results"] > 100 and len(body["results"]) == 100
    assert body["total_pages"] == -(-body["total_results"] // 100)


def test_stats_count_requests_by_endpoint_and_status(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=10"], detail_size="small")
    client = Client(sb.url)
    client.get("/3/discover/movie")
    client.get("/3/movie/1")
    client.get("/3/configuration", auth=False)
    stats = sb.stats()
    assert stats["requests"]["/3/discover/movie"] == {"200": 1}
    assert stats["requests"]["/3/movie/{id}"] == {"404": 1}
    assert stats["requests"]["/3/configuration"] == {"401": 1}
    assert stats["api_requests"] == 3 and stats["max_concurrent_connections"] >= 1
    sb.reset_stats()
    assert sb.stats()["api_requests"] == 0


def test_config_changes_settings_at_runtime(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=10"], detail_size="small")
    assert sb.configure(max_rps=12, latency_ms=1)["max_rps"] == 12
    assert requests.get(sb.url + "/_sandbox/config", timeout=10).json()["latency_ms"] == 1
    bad = requests.post(sb.url + "/_sandbox/config", json={"nonsense": 1}, timeout=10)
    assert bad.status_code == 400 and "nonsense" in bad.json()["error"]


def test_same_seed_same_catalog(sandbox_factory):
    one = sandbox_factory(seed=3, year_size=["2024=50"], detail_size="small")
    two = sandbox_factory(seed=3, year_size=["2024=50"], detail_size="small")
    three = sandbox_factory(seed=4, year_size=["2024=50"], detail_size="small")
    assert one.truth(2024) == two.truth(2024) != three.truth(2024)
    movie = sorted(one.truth(2024))[0]
    assert Client(one.url).get(f"/3/movie/{movie}").json() == Client(two.url).get(f"/3/movie/{movie}").json()
