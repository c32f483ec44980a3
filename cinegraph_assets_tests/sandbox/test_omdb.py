"""/omdb/: lookups consistent with the catalog's IMDb ids, real shapes and real error bodies."""

from __future__ import annotations

import json
import re

import requests

from cinegraph_assets_tests.sandbox.conftest import Client
from cinegraph_assets_tests.support.shared_data import shared_data


def imdb_ids(client: Client, n: int = 60) -> list[tuple[int, str]]:
    out = []
    for page in (1, 2, 3):
        for movie in client.get("/3/discover/movie", {"primary_release_year": 2023, "page": page}).json()["results"]:
            imdb = client.get(f"/3/movie/{movie['id']}/external_ids").json()["imdb_id"]
            if imdb:
                out.append((movie["id"], imdb))
    return out[:n]


def omdb(sandbox, **params) -> requests.Response:
    return requests.get(sandbox.omdb_url, params={"apikey": "sandbox", **params}, timeout=10)


def test_lookup_matches_the_tmdb_movie(demo, demo_sandbox):
    movie_id, imdb = imdb_ids(demo, 1)[0]
    tmdb = demo.get(f"/3/movie/{movie_id}").json()
    body = omdb(demo_sandbox, i=imdb).json()
    assert body["Response"] == "True" and body["imdbID"] == imdb
    assert body["Title"] == tmdb["title"] and body["Year"] == tmdb["release_date"][:4]


def test_both_real_shapes_and_string_numbers(demo, demo_sandbox):
    bodies = [omdb(demo_sandbox, i=imdb).json() for _, imdb in imdb_ids(demo)]
    modern = [b for b in bodies if "Ratings" in b]
    older = [b for b in bodies if "Ratings" not in b]
    assert modern and older
    assert all("BoxOffice" not in b and "DVD" not in b for b in older)
    values = [r["Value"] for b in modern for r in b["Ratings"]]
    assert any(re.fullmatch(r"\d+(\.\d)?/10", v) for v in values)
    assert any(re.fullmatch(r"\d+%", v) for v in values)
    assert any(re.fullmatch(r"\d+/100", v) for v in values)
    assert all(re.fullmatch(r"[\d,]+|N/A", b["imdbVotes"]) for b in bodies)
    assert any("," in b["imdbVotes"] for b in bodies)
    assert any(v == "N/A" for b in bodies for v in b.values() if isinstance(v, str))


def test_awards_text_comes_in_both_real_forms(demo_sandbox):
    rows = requests.get(demo_sandbox.oscars_url, timeout=30).text.splitlines()[1:]
    film_ids = sorted({f for row in rows for f in row.split("\t")[6].split("|") if len(row.split("\t")) > 6 and f})
    awards = [omdb(demo_sandbox, i=f).json().get("Awards", "") for f in film_ids[:80]]
    assert any(re.fullmatch(r"(Won \d+ Oscars?|Nominated for \d+ Oscars?)\. Another \d+ wins? & \d+ nominations?\.", a)
               for a in awards)
    assert any(re.fullmatch(r"(Won \d+ Oscars?|Nominated for \d+ Oscars?)\. \d+ wins? & \d+ nominations total", a)
               for a in awards)


def test_error_bodies_are_omdbs(demo_sandbox):
    unknown = omdb(demo_sandbox, i="tt0000001")
    assert unknown.status_code == 200 and unknown.json() == {"Response": "False", "Error": "Movie not found!"}
    malformed = omdb(demo_sandbox, i="0137523")
    assert malformed.status_code == 200 and malformed.json() == {"Response": "False", "Error": "Incorrect IMDb ID."}
    bad_key = omdb(demo_sandbox, i="tt0137523", apikey="nope")
    assert bad_key.status_code == 401 and bad_key.json() == {"Response": "False", "Error": "Invalid API key!"}


def test_error_bodies_match_the_real_captures():
    captured = json.loads(shared_data("omdb", "error_bodies", "omdb_error_bodies.json").read_text())
    real = {e["error"]: e["body_raw"] for e in captured["errors"] if e["body_raw"]}
    for message in ("Movie not found!", "Incorrect IMDb ID.", "Invalid API key!", "Request limit reached!"):
        assert json.loads(real[message]) == {"Response": "False", "Error": message}


def test_movie_keys_match_the_real_captures(demo, demo_sandbox):
    modern_keys = set(json.loads(shared_data("omdb", "captures", "toxic-avenger.json").read_text()))
    older_keys = set(json.loads(shared_data("omdb", "captures", "james-bond.json").read_text()))
    bodies = [omdb(demo_sandbox, i=imdb).json() for _, imdb in imdb_ids(demo)]
    assert {frozenset(b) for b in bodies} == {frozenset(modern_keys), frozenset(older_keys)}


def test_daily_limit_answers_401_and_resets_next_sandbox_day(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=10"], omdb_daily_limit=3, detail_size="small")
    codes = [omdb(sb, i="tt0000001").status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    over = omdb(sb, i="tt0000001")
    assert over.status_code == 401 and over.json() == {"Response": "False", "Error": "Request limit reached!"}
    sb.advance(1)
    assert omdb(sb, i="tt0000001").status_code == 200
    assert sb.stats()["omdb_requests_today"] == 1
