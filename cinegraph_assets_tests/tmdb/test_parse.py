"""The TMDb parsers on the real captures in ../shared/data/tmdb, and on bodies they must refuse."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone

import pytest

from cinegraph_assets.tmdb.changes import parse_changes_page
from cinegraph_assets.tmdb.parse import (
    DiscoveredMovie,
    MalformedMovie,
    parse_discover_page,
    parse_movie,
)
from cinegraph_assets_tests.support.shared_data import shared_data


def load(*parts: str):
    return json.loads(shared_data("tmdb", *parts).read_text())


def full_fight_club() -> dict:
    """The captured details with the captured appends, as one append_to_response body."""
    payload = load("captures", "movie-details.json")
    credits = load("openapi", "examples", "movie-credits.200.json")
    credits.pop("id")
    release_dates = load("captures", "movie-release-dates.json")
    release_dates.pop("id")
    external_ids = load("captures", "movie-external-ids.json")
    external_ids.pop("id")
    return {**payload, "credits": credits, "release_dates": release_dates, "external_ids": external_ids}


def test_older_details_shape_without_origin_country_parses():
    payload = load("captures", "movie-details.json")
    assert "origin_country" not in payload
    rows = parse_movie(payload)
    movie = rows.movie
    assert movie["tmdb_id"] == 550
    assert movie["title"] == "Fight Club"
    assert movie["imdb_id"] == "tt0137523"
    assert movie["release_date"] == date(1999, 10, 15)
    assert movie["release_year"] == 1999
    assert movie["budget"] == 63_000_000
    assert movie["adult"] is False
    assert movie["tmdb_data"] is payload
    assert [(g["genre_id"], g["name"]) for g in rows.genres] == [(18, "Drama")]
    # No appends in this capture: the child tables are simply empty.
    assert rows.cast == rows.crew == rows.release_dates == rows.external_ids == []
    assert rows.videos == rows.movie_keywords == rows.watch_providers == []


def test_current_details_shape_parses():
    rows = parse_movie(load("openapi", "examples", "movie-details.200.json"))
    assert rows.movie["title"] == "Star Wars"
    assert rows.movie["release_year"] == 1977
    assert [g["name"] for g in rows.genres] == ["Adventure", "Action", "Science Fiction"]
    assert [mg["position"] for mg in rows.movie_genres] == [0, 1, 2]


def test_movie_without_release_date_has_no_year():
    rows = parse_movie(load("captures", "movie-latest.json"))
    assert rows.movie["release_date"] is None
    assert rows.movie["release_year"] is None
    assert rows.movie["imdb_id"] is None  # null on TMDb stays null
    assert rows.genres == []


def test_appended_credits_release_dates_and_external_ids():
    rows = parse_movie(full_fight_club())
    assert len(rows.cast) == 76 and len(rows.crew) == 175
    first = rows.cast[0]
    assert (first["person_id"], first["cast_order"], first["character"]) == (819, 0, "The Narrator")
    assert first["credit_id"] == "52fe4250c3a36847f80149f3"
    people = {p["person_id"]: p for p in rows.people}
    assert len(people) == len(rows.people)  # one row per person, though many have several credits
    assert people[819]["name"] == "Edward Norton"
    assert {c["person_id"] for c in rows.cast + rows.crew} == set(people)
    assert {"department", "job"} <= set(rows.crew[0])

    argentina = [r for r in rows.release_dates if r["country"] == "AR"]
    assert argentina == [{
        "tmdb_id": 550, "country": "AR", "seq": 0, "release_type": 3,
        "release_date": date(1999, 11, 4), "certification": "18", "language": None, "note": "",
    }]
    assert rows.external_ids == [{
        "tmdb_id": 550, "imdb_id": "tt0137523", "wikidata_id": "Q190050",
        "facebook_id": "FightClub", "instagram_id": None, "twitter_id": None,
    }]


def test_empty_release_dates_and_appends_give_no_rows():
    payload = load("captures", "movie-details.json")
    payload.update({
        "release_date": "",
        "release_dates": {"results": []},
        "credits": {"cast": [], "crew": []},
        "videos": {"results": []},
        "keywords": {"keywords": []},
        "watch/providers": {"results": {}},
        "external_ids": {},
    })
    rows = parse_movie(payload)
    assert rows.movie["release_year"] is None
    assert rows.release_dates == rows.cast == rows.videos == rows.watch_providers == []
    assert rows.external_ids == []


def test_videos_keywords_and_watch_providers():
    payload = load("captures", "movie-details.json")
    payload["videos"] = {"results": [{
        "iso_639_1": "en", "iso_3166_1": "US", "name": "Official Trailer", "key": "qtRKdVHc-cE",
        "site": "YouTube", "size": 1080, "type": "Trailer", "official": True,
        "published_at": "2014-10-15T16:00:02.000Z", "id": "5c9294240e0a267cd516835f",
    }]}
    payload["keywords"] = {"keywords": [{"id": 825, "name": "support group"}, {"id": 825, "name": "dup"}]}
    payload["watch/providers"] = {"results": {"US": {
        "link": "https://www.themoviedb.org/movie/550-fight-club/watch?locale=US",
        "rent": [{"logo_path": "/a.jpg", "provider_id": 2, "provider_name": "Apple TV", "display_priority": 4}],
        "buy": [{"logo_path": "/a.jpg", "provider_id": 2, "provider_name": "Apple TV", "display_priority": 4}],
    }}}
    rows = parse_movie(payload)
    video = rows.videos[0]
    assert (video["video_key"], video["video_type"], video["official"]) == ("qtRKdVHc-cE", "Trailer", True)
    assert video["published_at"] == datetime(2014, 10, 15, 16, 0, 2, tzinfo=timezone.utc)
    assert rows.keywords == [{"keyword_id": 825, "name": "support group"}]  # duplicate dropped
    assert sorted(w["offer_type"] for w in rows.watch_providers) == ["buy", "rent"]


def test_duplicate_and_missing_credit_ids_are_resolved():
    payload = full_fight_club()
    cast = payload["credits"]["cast"]
    cast.append(copy.deepcopy(cast[0]))  # the same credit twice
    cast.append({**copy.deepcopy(cast[1]), "credit_id": None})
    rows = parse_movie(payload)
    credit_ids = [c["credit_id"] for c in rows.cast]
    assert len(credit_ids) == len(set(credit_ids)) == 77
    assert credit_ids[-1] == f"cast:{cast[1]['id']}:{len(cast) - 1}"


def test_discover_page():
    movies, total_results, total_pages = parse_discover_page(load("openapi", "examples", "discover-movie.200.json"))
    assert (total_results, total_pages) == (760385, 38020)
    assert len(movies) == 20
    assert movies[0] == DiscoveredMovie(
        tmdb_id=640146, release_date=date(2023, 2, 15), popularity=9272.643, adult=False,
        video=False, title="Ant-Man and the Wasp: Quantumania",
    )


def test_discover_page_tolerates_nulls_and_refuses_error_bodies():
    body = {"page": 1, "total_results": 1, "total_pages": 1, "results": [
        {"id": 7, "adult": None, "video": None, "popularity": None, "release_date": "", "title": None},
    ]}
    movies, _, _ = parse_discover_page(body)
    assert movies == [DiscoveredMovie(7, None, None, None, None, None)]
    with pytest.raises(ValueError, match="status_code 7"):
        parse_discover_page(load("captures", "invalid-api-key.json"))
    with pytest.raises(ValueError, match="query must be provided"):
        parse_discover_page(load("captures", "validation-error.json"))


@pytest.mark.parametrize("parts", [
    ("captures", "movie-all-changes.json"),
    ("openapi", "examples", "changes-movie-list.200.json"),
])
def test_changes_pages_with_adult_null(parts):
    body = load(*parts)
    changes, total_pages = parse_changes_page(body)
    assert total_pages == body["total_pages"]
    assert len(changes) == len(body["results"])
    nulls = [tmdb_id for tmdb_id, adult in changes if adult is None]
    assert nulls and nulls == [r["id"] for r in body["results"] if r["adult"] is None]
    assert all(adult in (True, False, None) for _, adult in changes)


@pytest.mark.parametrize("parts, fragment", [
    (("captures", "invalid-api-key.json"), "status_code 7"),
    (("captures", "resource-not-found.json"), "status_code 34"),
    (("captures", "validation-error.json"), "query must be provided"),
    (("openapi", "examples", "authentication-validate-key.401.json"), "status_code 7"),
    (("captures", "movie-external-ids.json"), None),  # an id, but only external ids: still parses
])
def test_error_bodies_are_not_movies(parts, fragment):
    body = load(*parts)
    if fragment is None:
        assert parse_movie(body).movie["tmdb_id"] == 550
        return
    with pytest.raises(MalformedMovie) as caught:
        parse_movie(body)
    assert "not a movie" in caught.value.reason and fragment in caught.value.reason


@pytest.mark.parametrize("change, field", [
    (lambda p: p.update(budget="lots"), "budget"),
    (lambda p: p.update(title=5), "title"),
    (lambda p: p.update(release_date="yesterday"), "release_date"),
    (lambda p: p.update(imdb_id="tt" + "9" * 30), "imdb_id"),
    (lambda p: p.update(runtime=10**12), "runtime"),
    (lambda p: p.update(genres="Drama"), "genres"),
    (lambda p: p.update(adult="no"), "adult"),
    (lambda p: p.update(popularity=float("nan")), "popularity"),
    (lambda p: p.update(credits=["cast"]), "credits"),
    (lambda p: p["credits"]["cast"][3].update(id="819"), "credits.cast[3].id"),
    (lambda p: p["credits"]["crew"][0].update(job=["Producer"]), "credits.crew[0]"),
    (lambda p: p["release_dates"]["results"][1]["release_dates"][0].update(type="3"), "release_dates.results[1]"),
    (lambda p: p.update(id="550"), "id"),
])
def test_unexpected_types_raise_malformed_movie_naming_the_field(change, field):
    payload = full_fight_club()
    change(payload)
    with pytest.raises(MalformedMovie) as caught:
        parse_movie(payload)
    assert caught.value.reason.startswith(field) or field in caught.value.reason


def test_a_json_array_or_string_is_not_a_movie():
    for body in ([], "oops", None):
        with pytest.raises(MalformedMovie, match="not a movie"):
            parse_movie(body)


def test_a_five_megabyte_payload_parses():
    payload = full_fight_club()
    cast = payload["credits"]["cast"]
    template = cast[0]
    payload["credits"]["cast"] = [
        {**template, "id": 10_000_000 + i, "credit_id": f"c{i:023d}", "order": i, "character": f"Extra {i}"}
        for i in range(20_000)
    ]
    assert len(json.dumps(payload)) > 5_000_000
    rows = parse_movie(payload)
    assert len(rows.cast) == 20_000
    assert len(rows.people) == 20_000 + len({c["id"] for c in payload["credits"]["crew"]})
