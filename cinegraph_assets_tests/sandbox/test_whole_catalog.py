"""The whole catalog as TMDb has it: undated movies, video and adult entries, ids that leave the daily
export when deleted, an export published at 08:00 UTC, the export's faults, and /_sandbox/truth/catalog."""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta

import pytest
import requests

from cinegraph_assets_tests.sandbox.conftest import Client

TODAY = date(2026, 11, 21)


def truth_catalog(sandbox) -> dict:
    return requests.get(sandbox.url + "/_sandbox/truth/catalog", timeout=60).json()


def export_url(sandbox, day: date, kind: str = "movie_ids") -> str:
    return f"{sandbox.exports_url}/p/exports/{kind}_{day:%m_%d_%Y}.json.gz"


def export_records(sandbox, day: date, kind: str = "movie_ids") -> list[dict]:
    response = requests.get(export_url(sandbox, day, kind), timeout=60)
    assert response.status_code == 200, response.status_code
    return [json.loads(line) for line in gzip.decompress(response.content).decode("utf-8").splitlines()]


@pytest.fixture(scope="module")
def truth(demo_sandbox) -> dict:
    return truth_catalog(demo_sandbox)


def test_the_truth_lists_every_live_movie_with_its_year_or_none(demo_sandbox, truth):
    assert truth["today"] == TODAY.isoformat()
    assert truth["count"] == len(truth["ids"]) == len(truth["years"]) == len(set(truth["ids"]))
    years = dict(zip(truth["ids"], truth["years"]))
    for year in (1931, 2024):
        assert demo_sandbox.truth(year) == {
            i for i, y in years.items() if y == year and i not in set(truth["adult"]) | set(truth["video"])}
    assert set(truth["adult"]) <= set(years) and set(truth["video"]) <= set(years)
    assert not set(truth["deleted"]) & set(years)


def test_a_few_per_cent_are_undated_more_of_them_among_the_newest_ids(truth):
    ids, years = truth["ids"], truth["years"]
    undated = [i for i, y in zip(ids, years) if y is None]
    assert 0.01 <= len(undated) / len(ids) <= 0.06
    newest = sorted(ids)[int(len(ids) * 0.9)]
    recent_share = sum(i >= newest for i in undated) / (len(ids) * 0.1)
    older_share = sum(i < newest for i in undated) / (len(ids) * 0.9)
    assert recent_share > 2 * older_share


def test_undated_movies_have_an_empty_date_and_no_dated_discover_returns_them(demo, truth):
    flagged = set(truth["adult"]) | set(truth["video"])
    undated = [i for i, y in zip(truth["ids"], truth["years"]) if y is None and i not in flagged]
    dated = sum(1 for i, y in zip(truth["ids"], truth["years"]) if y is not None and i not in flagged)
    for movie_id in undated[:3] + undated[-3:]:
        body = demo.get(f"/3/movie/{movie_id}").json()
        assert body["release_date"] == "" and body["status"] in ("Rumored", "Planned")
    everything = demo.get("/3/discover/movie", {"sort_by": "primary_release_date.asc"}).json()
    assert everything["total_results"] == dated + len(undated)
    assert {m["release_date"] for m in everything["results"]} == {""}  # undated ones come first
    for params in ({"primary_release_date.lte": "2100-12-31"}, {"primary_release_date.gte": "1800-01-01"},
                   {"release_date.lte": "2100-12-31"}):
        assert demo.get("/3/discover/movie", params).json()["total_results"] == dated


def test_video_and_adult_entries_only_when_discover_asks(demo, truth):
    video = set(truth["video"]) - set(truth["adult"])
    adult = set(truth["adult"])
    assert video and adult
    plain = demo.get("/3/discover/movie").json()["total_results"]
    with_video = demo.get("/3/discover/movie", {"include_video": "true"}).json()["total_results"]
    with_adult = demo.get("/3/discover/movie", {"include_adult": "true"}).json()["total_results"]
    both = demo.get("/3/discover/movie", {"include_adult": "true", "include_video": "true"}).json()["total_results"]
    assert with_video - plain == len(video)
    assert with_adult - plain == len(adult - set(truth["video"]))
    assert both == truth["count"]
    movie = demo.get(f"/3/movie/{min(video)}").json()
    assert movie["video"] is True  # details answer by id, flag or not


def test_the_export_lists_every_live_id_dated_or_not_adult_ones_apart(demo_sandbox, truth):
    movies = export_records(demo_sandbox, TODAY)
    adult = export_records(demo_sandbox, TODAY, "adult_movie_ids")
    assert {r["id"] for r in movies} == set(truth["ids"]) - set(truth["adult"])
    assert {r["id"] for r in adult} == set(truth["adult"])
    assert {r["id"] for r in movies if r["video"]} == set(truth["video"]) - set(truth["adult"])
    assert all(r["adult"] and r["popularity"] == 0.0 for r in adult)


def test_todays_export_is_published_at_eight_utc(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=50"], detail_size="small")
    sb.configure(time_of_day="07:59")
    assert requests.get(export_url(sb, TODAY), timeout=30).status_code == 404
    assert requests.head(export_url(sb, TODAY, "adult_movie_ids"), timeout=30).status_code == 404
    assert requests.get(export_url(sb, TODAY - timedelta(days=1)), timeout=30).status_code == 404  # before the start
    sb.advance(1)  # the clock keeps its time of day
    assert requests.get(export_url(sb, TODAY + timedelta(days=1)), timeout=30).status_code == 404
    assert requests.get(export_url(sb, TODAY), timeout=30).status_code == 200  # yesterday's is out
    sb.configure(time_of_day="08:00")
    assert requests.get(export_url(sb, TODAY + timedelta(days=1)), timeout=30).status_code == 200
    assert requests.get(sb.url + "/_sandbox/health", timeout=30).json()["time_of_day"] == "08:00"
    refused = requests.post(sb.url + "/_sandbox/config", json={"time_of_day": "8am"}, timeout=30)
    assert refused.status_code == 400 and "HH:MM" in refused.json()["error"]


def test_a_deleted_id_leaves_the_export_that_day_and_answers_404(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=300"], detail_size="small", delete_rate=0.002, new_per_day=20)
    before = truth_catalog(sb)
    sb.advance(1)
    after = truth_catalog(sb)
    deleted = set(after["deleted"]) - set(before["deleted"])
    added = set(after["ids"]) - set(before["ids"])
    assert deleted and added
    yesterday = {r["id"] for r in export_records(sb, TODAY)}
    today = {r["id"] for r in export_records(sb, TODAY + timedelta(days=1))}
    adult = set(before["adult"]) | set(after["adult"])
    assert deleted - adult <= yesterday and not deleted & today
    assert today - yesterday == added - adult
    client = Client(sb.url)
    for movie_id in sorted(deleted)[:3]:
        response = client.get(f"/3/movie/{movie_id}")
        assert response.status_code == 404 and response.json()["status_code"] == 34


def test_export_faults_for_tests_of_the_reader(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=300"], detail_size="small")
    good = requests.get(export_url(sb, TODAY), timeout=30).content
    good_lines = gzip.decompress(good).splitlines()

    sb.configure(export_faults="truncated")
    cut = requests.get(export_url(sb, TODAY), timeout=30).content
    assert 0 < len(cut) < len(good) and good.startswith(cut)
    with pytest.raises(EOFError):
        gzip.decompress(cut)

    sb.configure(export_faults="malformed")
    lines = gzip.decompress(requests.get(export_url(sb, TODAY), timeout=30).content).splitlines()
    known = set(good_lines)
    odd = [line for line in lines if line not in known]
    assert len(lines) == len(good_lines) + 3 and len(odd) == 3
    assert lines[1] == odd[0]  # near the top, where a reader reports line numbers

    sb.configure(export_faults="small")
    lines = gzip.decompress(requests.get(export_url(sb, TODAY), timeout=30).content).splitlines()
    assert lines == good_lines[: len(good_lines) // 2]

    sb.configure(export_faults="")
    assert requests.get(export_url(sb, TODAY), timeout=30).content == good
    refused = requests.post(sb.url + "/_sandbox/config", json={"export_faults": "gone"}, timeout=30)
    assert refused.status_code == 400 and "truncated" in refused.json()["error"]
