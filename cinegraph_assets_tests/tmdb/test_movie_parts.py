"""The rest of the movie (companies, countries, languages, collection, translations, alternative
titles, recommendation and similar edges, image counts) parsed from real TMDb bodies: the captured
Fight Club details, the OpenAPI spec's own example bodies, and the sandbox's details."""

from __future__ import annotations

import copy
import json
from functools import lru_cache

import pytest
import requests

from cinegraph_assets.tmdb import movie_parts
from cinegraph_assets.tmdb.details import APPEND_TO_RESPONSE
from cinegraph_assets.tmdb.parse import MalformedMovie, parse_movie
from cinegraph_assets_tests.support.shared_data import shared_data


def load(*parts: str):
    return json.loads(shared_data("tmdb", *parts).read_text())


@lru_cache(maxsize=1)
def spec() -> dict:
    return load("openapi", "tmdb-api.json")


def example_of(schema: dict):
    """An instance built from the spec's `example` values (one item per list): TMDb's own sample."""
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: example_of(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example_of(schema.get("items", {}))]
    return schema.get("example")


def spec_body(sub_resource: str) -> dict:
    operation = spec()["paths"][f"/3/movie/{{movie_id}}/{sub_resource}"]["get"]
    body = example_of(operation["responses"]["200"]["content"]["application/json"]["schema"])
    body.pop("id", None)  # appended parts carry no id
    return body


def test_real_fight_club_details_give_companies_countries_and_languages():
    rows = parse_movie(load("captures", "movie-details.json"))
    assert [(r["company_id"], r["name"], r["origin_country"]) for r in rows.companies] == [
        (711, "Fox 2000 Pictures", "US"), (508, "Regency Enterprises", "US"), (4700, "The Linson Company", "US"),
        (25, "20th Century Fox", "US"), (20555, "Taurus Film", "DE")]
    assert rows.companies[0]["logo_path"] == "/tEiIH5QesdheJmDAqQwvtN60727.png"
    assert [(r["company_id"], r["position"]) for r in rows.movie_companies] == [
        (711, 0), (508, 1), (4700, 2), (25, 3), (20555, 4)]
    assert rows.countries == [{"country": "DE", "name": "Germany"},
                              {"country": "US", "name": "United States of America"}]
    assert [r["country"] for r in rows.movie_production_countries] == ["DE", "US"]
    assert rows.languages == [{"language": "en", "english_name": "English", "name": "English"}]
    assert rows.movie_spoken_languages == [{"tmdb_id": 550, "language": "en", "position": 0}]
    # belongs_to_collection is null for Fight Club; nothing appended, so no titles, edges or images
    assert rows.collections == rows.movie_collections == []
    assert rows.movie_translations == rows.movie_alternative_titles == rows.movie_image_counts == []
    assert rows.movie["rules_version"] == movie_parts.RULES_VERSION


def test_spec_example_details_give_the_collection():
    rows = parse_movie(load("openapi", "examples", "movie-details.200.json"))
    assert rows.collections == [{"collection_id": 10, "name": "Star Wars Collection",
                                 "poster_path": "/pWVLFh4OuejTpUaDQbB1C4zoS2p.jpg",
                                 "backdrop_path": "/iY2ujEY2m68OTTlPFTiHub9joHS.jpg"}]
    assert rows.movie_collections == [{"tmdb_id": rows.tmdb_id, "collection_id": 10}]


def test_spec_example_appends_give_translations_titles_edges_and_image_counts():
    payload = load("captures", "movie-details.json")
    for name in ("translations", "alternative_titles", "similar", "images"):
        payload[name] = spec_body(name)
    payload["recommendations"] = copy.deepcopy(payload["similar"])
    rows = parse_movie(payload)
    translation = spec_body("translations")["translations"][0]
    assert rows.movie_translations == [{
        "tmdb_id": 550, "language": "ar", "country": "SA", "english_name": "Arabic",
        "name": translation["name"], "title": translation["data"]["title"] or None,
        "overview": translation["data"]["overview"], "tagline": translation["data"]["tagline"] or None,
        "homepage": None, "runtime": translation["data"]["runtime"] or None}]
    assert rows.movie_alternative_titles == [
        {"tmdb_id": 550, "seq": 0, "country": "RS", "title": "Borilački klub", "title_type": None}]
    assert rows.movie_similar == [{"tmdb_id": 550, "similar_tmdb_id": 9300, "rank": 1}]
    assert rows.movie_recommendations == [{"tmdb_id": 550, "recommended_tmdb_id": 9300, "rank": 1}]
    assert {r["kind"]: r["image_count"] for r in rows.movie_image_counts} == {
        "backdrops": 1, "logos": 1, "posters": 1}


def test_edges_rank_in_tmdb_order_skipping_self_duplicates_and_bad_ids():
    payload = load("captures", "movie-details.json")
    payload["similar"] = {"results": [{"id": 13}, {"id": 550}, {"id": 13}, {"id": None}, {"id": 680}]}
    assert parse_movie(payload).movie_similar == [
        {"tmdb_id": 550, "similar_tmdb_id": 13, "rank": 1}, {"tmdb_id": 550, "similar_tmdb_id": 680, "rank": 2}]


@pytest.mark.parametrize("change, field", [
    ({"production_companies": [{"id": "711"}]}, "production_companies[0].id"),
    ({"production_countries": {"iso_3166_1": "US"}}, "production_countries"),
    ({"spoken_languages": [{"iso_639_1": 7}]}, "spoken_languages[0].iso_639_1"),
    ({"belongs_to_collection": [10]}, "belongs_to_collection"),
    ({"translations": {"translations": [{"iso_639_1": "de", "data": {"title": 5}}]}},
     "translations.translations[0].data.title"),
    ({"alternative_titles": {"titles": [{"title": ["x"]}]}}, "alternative_titles.titles[0].title"),
    ({"recommendations": {"results": [{"id": 1.5}]}}, "recommendations.results.id"),
    ({"images": {"posters": {}}}, "images.posters"),
])
def test_wrong_types_make_the_movie_malformed_naming_the_field(change, field):
    payload = {**load("captures", "movie-details.json"), **change}
    with pytest.raises(MalformedMovie) as raised:
        parse_movie(payload)
    assert raised.value.reason.startswith(field)


def test_sandbox_details_carry_every_part_and_parse_to_its_values(demo_sandbox):
    """The sandbox's append_to_response body, parsed, equals the sandbox's own sub-resources."""
    session = requests.Session()
    key = {"api_key": "sandbox"}
    ids = [m["id"] for page in (1, 2, 3) for m in session.get(
        f"{demo_sandbox.url}/3/discover/movie",
        params={**key, "primary_release_year": 2020, "sort_by": "primary_release_date.asc", "page": page},
        timeout=30).json()["results"]]
    seen = {name: 0 for name in movie_parts.LOOKUP_PARTS + movie_parts.CHILD_PARTS}
    collection_names: dict[int, set[str]] = {}
    for tmdb_id in ids:
        base = f"{demo_sandbox.url}/3/movie/{tmdb_id}"
        payload = session.get(base, params={**key, "append_to_response": ",".join(APPEND_TO_RESPONSE)},
                              timeout=30).json()
        rows = parse_movie(payload)
        for collection in rows.collections:
            collection_names.setdefault(collection["collection_id"], set()).add(collection["name"])
        for name in seen:
            seen[name] += len(getattr(rows, name))
        titles = session.get(f"{base}/alternative_titles", params=key, timeout=30).json()["titles"]
        assert [r["title"] for r in rows.movie_alternative_titles] == [t["title"] for t in titles]
        translations = session.get(f"{base}/translations", params=key, timeout=30).json()["translations"]
        assert [(r["language"], r["overview"]) for r in rows.movie_translations] == [
            (t["iso_639_1"], t["data"]["overview"] or None) for t in translations]
        similar = session.get(f"{base}/similar", params=key, timeout=30).json()["results"]
        assert [r["similar_tmdb_id"] for r in rows.movie_similar] == [m["id"] for m in similar]
        assert [r["company_id"] for r in rows.movie_companies] == [c["id"] for c in payload["production_companies"]]
    assert all(count > 0 for count in seen.values()), seen  # every part occurs over 60 movies
    # A collection is one franchise: the same name from every movie in it (the lookup row agrees)
    assert all(len(names) == 1 for names in collection_names.values()), collection_names
