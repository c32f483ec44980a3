"""/oscars/oscars.csv in the upstream TSV format, and TMDb's daily ID export files."""

from __future__ import annotations

import gzip
import json

import pytest
import requests

from cinegraph_assets_tests.support.sandbox import SandboxError
from cinegraph_assets_tests.support.shared_data import shared_data


def oscar_rows(sandbox) -> tuple[list[str], list[list[str]]]:
    lines = requests.get(sandbox.oscars_url, timeout=30).text.splitlines()
    return lines[0].split("\t"), [line.split("\t") for line in lines[1:]]


def test_same_columns_as_the_upstream_file(demo_sandbox):
    real_header = shared_data("oscars", "oscars.csv").read_text(encoding="utf-8").splitlines()[0].split("\t")
    header, rows = oscar_rows(demo_sandbox)
    assert header == real_header
    assert all(8 <= len(row) <= len(header) for row in rows)
    assert any(len(row) < len(header) for row in rows)  # short rows, as upstream


def test_upstream_quirks_are_all_there(demo_sandbox):
    _, rows = oscar_rows(demo_sandbox)
    years = {row[1] for row in rows}
    assert "1927/28" in years and "2025" in years
    ceremonies = {row[0] for row in rows}
    assert ceremonies == {row[0] for row in rows if row[3] == "BEST PICTURE"}  # Best Picture every year
    assert any("|" in row[5] and "|" in row[6] for row in rows)  # several films in one row
    assert any(row[5] and not row[6] for row in rows)  # a film without FilmId
    assert any("?" in row[9].split("|") for row in rows if len(row) > 9)  # unknown nominee id
    assert any(row[2] == "SciTech" and not row[5] for row in rows)


def test_nominees_are_people_in_the_films_credits(demo, demo_sandbox):
    _, rows = oscar_rows(demo_sandbox)
    recent = [row for row in rows if row[1] in ("2023", "2024") and row[2] in ("Acting", "Directing", "Writing")
              and row[6] and "|" not in row[6]]
    assert len(recent) > 10
    for row in recent:
        found = demo.get(f"/3/find/{row[6]}", {"external_source": "imdb_id"}).json()["movie_results"]
        assert len(found) == 1, row[6]
        body = demo.get(f"/3/movie/{found[0]['id']}", {"append_to_response": "credits"}).json()
        people = {p["name"] for p in body["credits"]["cast"] + body["credits"]["crew"]}
        assert row[8] in people
        assert body["release_date"][:4] in (row[1], str(int(row[1]) + 1))


def test_some_nominees_are_dated_the_next_year_on_tmdb(demo, demo_sandbox):
    _, rows = oscar_rows(demo_sandbox)
    by_film_year = {}
    for row in rows:
        if row[1].isdigit() and len(row) > 6 and row[6] and "|" not in row[6]:
            by_film_year.setdefault(row[6], int(row[1]))
    next_year = 0
    for imdb, year in list(by_film_year.items())[-150:]:
        body = requests.get(demo_sandbox.omdb_url, params={"apikey": "sandbox", "i": imdb}, timeout=10).json()
        if body.get("Year", "N/A") == str(year + 1):
            next_year += 1
    assert next_year > 0


def test_etag_lets_a_client_cache_the_file(demo_sandbox):
    first = requests.get(demo_sandbox.oscars_url, timeout=30)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = requests.get(demo_sandbox.oscars_url, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304 and again.content == b""


def test_a_real_file_can_be_served_instead(sandbox_factory):
    real = shared_data("oscars", "oscars.csv")
    sb = sandbox_factory(year_size=["2024=10"], oscars_file=str(real), detail_size="small")
    assert requests.get(sb.oscars_url, timeout=30).content == real.read_bytes()


def test_daily_export_is_gzipped_json_lines_of_live_movies(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=200"], detail_size="small")
    raw = requests.get(sb.exports_url + "/p/exports/movie_ids_11_21_2026.json.gz", timeout=60).content
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    sample = json.loads(shared_data("tmdb", "daily_export_sample", "movie_ids_sample.jsonl").read_text().splitlines()[0])
    assert all(list(r) == list(sample) for r in records)
    ids = [r["id"] for r in records]
    assert ids[5:] == sorted(ids[5:]) and ids[0] > ids[5]  # a few out of order at the top, as real files
    assert sb.truth(2024) <= set(ids)
    assert not any(r["adult"] for r in records)
    missing = requests.get(sb.exports_url + "/p/exports/movie_ids_11_22_2026.json.gz", timeout=10)
    assert missing.status_code == 404
    sb.advance(1)
    later = gzip.decompress(requests.get(sb.exports_url + "/p/exports/movie_ids_11_22_2026.json.gz", timeout=60).content)
    assert len(later.splitlines()) > len(lines) - 50


def test_a_day_tmdb_skipped_has_no_export_files_for_good(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=50"], detail_size="small")
    sb.advance(2)  # 2026-11-23

    def status(kind: str, day: str) -> int:
        return requests.head(f"{sb.exports_url}/p/exports/{kind}_{day}.json.gz", timeout=10).status_code

    sb.configure(export_skipped_days="2026-11-22")
    assert [status(kind, "11_22_2026") for kind in ("movie_ids", "adult_movie_ids")] == [404, 404]
    assert status("movie_ids", "11_21_2026") == status("movie_ids", "11_23_2026") == 200
    sb.advance(1)  # the skipped day stays skipped
    assert status("movie_ids", "11_22_2026") == 404
    with pytest.raises(SandboxError, match="YYYY-MM-DD"):
        sb.configure(export_skipped_days="11/22/2026")
    sb.configure(export_skipped_days="")
    assert status("movie_ids", "11_22_2026") == 200
