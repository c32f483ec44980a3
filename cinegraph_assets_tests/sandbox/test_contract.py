"""Contract: what the sandbox serves validates against TMDb's official OpenAPI spec and real captures.

The spec (../shared/data/tmdb/openapi/tmdb-api.json) was generated from example bodies, so two
adjustments make it a fair judge, both stricter or truer than the raw file, never looser on shape:
- every property the spec lists is REQUIRED in our bodies (the spec marks nothing required, so as
  written it would accept `{}`);
- any value may also be null: the spec omits nullability, but real TMDb sends null for
  belongs_to_collection, poster_path, imdb_id... (see captures/movie-details.json, "adult": null in
  captures/movie-all-changes.json).
Objects whose keys are country codes (watch/providers results) are maps, validated per entry, and
a country's flatrate/rent/buy lists are optional (real countries list only what they offer); a
change item's `value` varies by change key on the real service, so it is not pinned to the example.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache

import jsonschema
import pytest

from cinegraph_assets_tests.support.shared_data import shared_data

COUNTRY = re.compile(r"^[A-Z]{2}$")
# A country lists only the ways a film can be watched there (the spec's example country has all three).
OPTIONAL = {"flatrate", "rent", "buy", "free", "ads"}
SUB_RESOURCES = ["credits", "videos", "images", "keywords", "release_dates", "external_ids", "watch/providers",
                 "recommendations", "similar", "alternative_titles", "translations", "changes", "reviews", "lists"]


@lru_cache(maxsize=1)
def spec() -> dict:
    return json.loads(shared_data("tmdb", "openapi", "tmdb-api.json").read_text(encoding="utf-8"))


def resolve(node, root):
    """Inline every local $ref so the schema stands alone."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return resolve(target, root)
        return {k: resolve(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, root) for v in node]
    return node


def strict(schema: dict, parent_key: str = "") -> dict:
    schema = dict(schema)
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    if parent_key == "value":
        return {}
    props = schema.get("properties")
    if props:
        if all(COUNTRY.match(k) for k in props):
            schema.pop("properties")
            schema["additionalProperties"] = strict(next(iter(props.values())))
        else:
            schema["properties"] = {k: strict(v, k) for k, v in props.items()}
            schema["required"] = [k for k in props if k not in OPTIONAL]
    if isinstance(schema.get("items"), dict):
        schema["items"] = strict(schema["items"])
    return schema


def response_schema(path: str) -> dict:
    raw = spec()["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return strict(resolve(copy.deepcopy(raw), spec()))


def validate(body, path: str, drop_required: tuple[str, ...] = ()) -> None:
    schema = response_schema(path)
    schema["required"] = [k for k in schema.get("required", []) if k not in drop_required]
    jsonschema.Draft202012Validator(schema).validate(body)


@pytest.fixture(scope="module")
def sample_ids(demo) -> list[int]:
    ids = []
    for sort in ("popularity.desc", "popularity.asc"):
        body = demo.get("/3/discover/movie", {"primary_release_year": 2024, "sort_by": sort}).json()
        ids += [m["id"] for m in body["results"][:6]]
    return ids


def test_discover(demo):
    for params in ({"primary_release_year": 2024}, {"primary_release_year": 1990, "page": 2},
                   {"primary_release_year": 2024, "page": 499}):
        validate(demo.get("/3/discover/movie", params).json(), "/3/discover/movie")


def test_movie_details(demo, sample_ids):
    for movie_id in sample_ids:
        validate(demo.get(f"/3/movie/{movie_id}").json(), "/3/movie/{movie_id}")


@pytest.mark.parametrize("name", SUB_RESOURCES)
def test_sub_resources_alone_and_appended(demo, sample_ids, name):
    path = f"/3/movie/{{movie_id}}/{name}"
    for movie_id in sample_ids:
        validate(demo.get(f"/3/movie/{movie_id}/{name}").json(), path)
        appended = demo.get(f"/3/movie/{movie_id}", {"append_to_response": name}).json()[name]
        validate(appended, path, drop_required=("id",))  # appended parts carry no id, as on TMDb


def test_changes(sandbox_factory):
    from cinegraph_assets_tests.sandbox.conftest import Client

    sb = sandbox_factory(year_size=["2024=2000"], change_rate=0.05, detail_size="small")
    sb.advance(2)
    client = Client(sb.url)
    body = client.get("/3/movie/changes", {"start_date": "2026-11-22", "end_date": "2026-11-23"}).json()
    assert body["total_results"] > 0
    validate(body, "/3/movie/changes")
    changed = body["results"][0]["id"]
    history = client.get(f"/3/movie/{changed}/changes").json()
    if "changes" in history:
        validate(history, "/3/movie/{movie_id}/changes")


def test_configuration_genres_and_find(demo, sample_ids):
    validate(demo.get("/3/configuration").json(), "/3/configuration")
    validate(demo.get("/3/genre/movie/list").json(), "/3/genre/movie/list")
    imdb = next(i for i in (demo.get(f"/3/movie/{m}").json()["imdb_id"] for m in sample_ids) if i)
    found = demo.get(f"/3/find/{imdb}", {"external_source": "imdb_id"}).json()
    assert len(found["movie_results"]) == 1
    validate(found, "/3/find/{external_id}")


def test_genres_are_tmdbs(demo):
    real = json.loads(shared_data("tmdb", "captures", "genre-movie-list.json").read_text())
    assert demo.get("/3/genre/movie/list").json() == real


def test_details_have_every_key_of_the_real_capture(demo, sample_ids):
    real = json.loads(shared_data("tmdb", "captures", "movie-details.json").read_text())
    body = demo.get(f"/3/movie/{sample_ids[0]}").json()
    assert set(real) <= set(body)


def test_error_bodies_match_real_captures(demo):
    real_401 = json.loads(shared_data("tmdb", "captures", "invalid-api-key.json").read_text())
    real_404 = json.loads(shared_data("tmdb", "captures", "resource-not-found.json").read_text())
    assert demo.get("/3/movie/550", {"api_key": "wrong"}).json() == real_401
    assert demo.get("/3/movie/1").json() == real_404
    table = {}
    for line in shared_data("tmdb", "error_bodies", "tmdb_status_codes.tsv").read_text().splitlines()[1:]:
        code, status, message = line.split("\t")
        table[int(code)] = (int(status), message)
    cases = {
        22: demo.get("/3/discover/movie", {"page": 501}),
        20: demo.get("/3/movie/changes", {"start_date": "2026-10-01", "end_date": "2026-11-01"}),
        27: demo.get(f"/3/movie/{550}", {"append_to_response": ",".join(["videos"] * 21)}),
        23: demo.get("/3/movie/changes", {"start_date": "21-11-2026"}),
    }
    for code, response in cases.items():
        status, message = table[code]
        assert (response.status_code, response.json()) == (status, {"success": False, "status_code": code,
                                                                     "status_message": message})


def test_changes_items_have_the_captured_shape(demo):
    real = json.loads(shared_data("tmdb", "captures", "movie-all-changes.json").read_text())
    body = demo.get("/3/movie/changes").json()
    assert set(body) == set(real)
    assert {frozenset(item) for item in real["results"]} == {frozenset({"id", "adult"})}
