"""normalize_staged writes the same rows on both dialects (PostgreSQL extracts credits and people
server-side from the staged JSONB, SQLite from parse_movie's rows), and on PostgreSQL two runs
normalizing the same year at once neither deadlock nor duplicate."""

from __future__ import annotations

import copy
import re
import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from cinegraph_assets.warehouse import bulk_write, data_checks, discovery, failed_fetches
from cinegraph_assets.tmdb import normalizer
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets_tests.support.shared_data import shared_data
from cinegraph_assets_tests.support.movies import movie_payload, snapshot, stage

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def load(*parts: str):
    return json.loads(shared_data("tmdb", *parts).read_text())


def tricky_payloads() -> list[dict]:
    """The real Fight Club capture with its appends, plus the edge cases of the credit rules."""
    fight_club = load("captures", "movie-details.json")
    credits = load("openapi", "examples", "movie-credits.200.json")
    release_dates = load("captures", "movie-release-dates.json")
    external_ids = load("captures", "movie-external-ids.json")
    for part in (credits, release_dates, external_ids):
        part.pop("id")
    fight_club.update(credits=credits, release_dates=release_dates, external_ids=external_ids)

    edge = movie_payload(2, cast=4, crew=3)
    cast = edge["credits"]["cast"]
    cast.append(copy.deepcopy(cast[0]))  # the same credit twice: the first is kept
    cast[-1]["character"] = "Duplicate"
    cast.append({**copy.deepcopy(cast[1]), "credit_id": None})  # no credit_id
    missing_key = copy.deepcopy(cast[2])
    del missing_key["credit_id"]
    cast.append(missing_key)
    edge["credits"]["crew"].append({**copy.deepcopy(edge["credits"]["crew"][0]), "name": "Crew Spelling"})
    edge["credits"]["crew"][-1]["credit_id"] = "2-r-extra"
    cast[0]["profile_path"] = None
    cast[1]["character"] = ""  # an empty string is not NULL
    cast[2]["character"] = None

    # A person in two movies of the batch with different spellings: the higher tmdb_id wins.
    shared = movie_payload(600, cast=1, crew=0)
    shared["credits"]["cast"][0].update(id=819, name="Edward Norton Jr.", credit_id="600-c0")
    no_credits = movie_payload(4)
    no_credits["credits"] = None
    return [fight_club, edge, shared, no_credits]


def test_both_dialects_store_the_same_rows(sqlite_warehouse_url, postgres_warehouse_url):
    snapshots = []
    for url in (sqlite_warehouse_url, postgres_warehouse_url):
        upgrade(url)
        engine = get_engine(url)
        payloads = tricky_payloads()
        for p in payloads:
            p["release_date"] = "2024-05-05"
        stage(engine, payloads)
        result = normalizer.normalize_staged(engine, 2024)
        assert (result["normalized"], result["failed"]) == (4, 0)
        snapshots.append(snapshot(engine))
    on_sqlite, on_postgres = snapshots
    assert on_sqlite.keys() == on_postgres.keys()
    for table in on_sqlite:
        assert on_sqlite[table] == on_postgres[table], table
    people = {row[0]: row for row in on_postgres["people"]}
    assert people[819][1] == "Edward Norton Jr."
    cast_of_2 = [row for row in on_postgres["movie_cast"] if row[0] == 2]
    assert len(cast_of_2) == 6


def test_two_runs_normalizing_the_same_year_at_once(postgres_warehouse_url):
    upgrade(postgres_warehouse_url)
    engine = get_engine(postgres_warehouse_url)
    # Overlapping people across movies, so both runs want the same people rows.
    payloads = []
    for i in range(1, 121):
        p = movie_payload(i, cast=6, crew=2)
        for k, credit in enumerate(p["credits"]["cast"]):
            credit["id"] = 10 + (i * 7 + k) % 40
        payloads.append(p)
    stage(engine, payloads, NOW - timedelta(minutes=5))
    results, errors = [], []

    def run():
        try:
            results.append(normalizer.normalize_staged(engine, 2024, batch_size=10))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert sum(r["normalized"] for r in results) >= 120  # split between them (SKIP LOCKED), none lost
    with engine.connect() as conn:
        assert data_checks.year_movie_ids(conn, 2024) == set(range(1, 121))
        assert data_checks.duplicate_movie_ids(conn, 2024) == []
        assert conn.execute(sa.text("SELECT count(*) FROM movie_cast")).scalar() == 720
        assert conn.execute(sa.text("SELECT count(*) FROM tmdb_details_staging")).scalar() == 0


BAD_CREDITS = {
    "person id as text": lambda c: c["cast"][3].update(id="819"),
    "person id zero": lambda c: c["cast"][0].update(id=0),
    "person id fractional": lambda c: c["crew"][1].update(id=12.5),
    "credit_id number": lambda c: c["crew"][0].update(credit_id=5),
    "job a list": lambda c: c["crew"][0].update(job=["Director"]),
    "gender text": lambda c: c["cast"][1].update(gender="male"),
    "order fractional": lambda c: c["cast"][2].update(order=1.5),
    "character number": lambda c: c["cast"][0].update(character=5),
    "credit not an object": lambda c: c["cast"].__setitem__(2, "Edward Norton"),
    "cast not a list": lambda c: c.update(cast="everyone"),
}


@pytest.mark.parametrize("case", sorted(BAD_CREDITS))
def test_both_dialects_refuse_the_same_bad_credits(case, sqlite_warehouse_url, postgres_warehouse_url):
    """PostgreSQL checks credits in SQL; it must fail the same movies at the same place as Python."""
    places = []
    for url in (sqlite_warehouse_url, postgres_warehouse_url):
        upgrade(url)
        engine = get_engine(url)
        bad = movie_payload(1, cast=4, crew=3)
        BAD_CREDITS[case](bad["credits"])
        stage(engine, [bad, movie_payload(2)])
        result = normalizer.normalize_staged(engine, 2024)
        assert (result["normalized"], result["failed"]) == (1, 1)
        with engine.connect() as conn:
            [failure] = failed_fetches.fetch_failures(conn, 2024)
            assert data_checks.year_movie_ids(conn, 2024) == {2}
        assert failure["tmdb_id"] == 1 and failure["reason"].startswith("malformed: credits")
        places.append(re.match(r"malformed: (credits(\.\w+)?(\[\d+\])?)", failure["reason"]).group(1))
    assert places[0] == places[1]


def test_credits_null_or_missing_are_no_credits(postgres_warehouse_url):
    upgrade(postgres_warehouse_url)
    engine = get_engine(postgres_warehouse_url)
    no_credits, null_lists = movie_payload(1), movie_payload(2)
    del no_credits["credits"]
    null_lists["credits"] = {"cast": None, "crew": None}
    stage(engine, [no_credits, null_lists])
    result = normalizer.normalize_staged(engine, 2024)
    assert (result["normalized"], result["failed"], result["cast"]) == (2, 0, 0)


def test_postgresql_without_copy_stores_the_same_rows(postgres_warehouse_url, monkeypatch):
    """Another PostgreSQL driver (no psycopg2 copy_expert) takes the executemany path: same rows,
    and the whole raw response (credits included) still lands in tmdb_data."""
    upgrade(postgres_warehouse_url)
    engine = get_engine(postgres_warehouse_url)
    payloads = tricky_payloads()
    for p in payloads:
        p["release_date"] = "2024-05-05"
    stage(engine, payloads)
    normalizer.normalize_staged(engine, 2024)
    with_copy = snapshot(engine)
    with engine.begin() as conn:
        data = conn.execute(sa.text("SELECT tmdb_data FROM movies WHERE tmdb_id = 550")).scalar_one()
        assert len(data["credits"]["cast"]) == 76  # the raw response is kept whole
        conn.execute(sa.text("TRUNCATE movies, people, genres, keywords, movie_cast, movie_crew, "
                             "movie_genres, movie_release_dates, movie_external_ids, movie_videos, "
                             "movie_keywords, movie_watch_providers"))
    monkeypatch.setattr(bulk_write, "can_copy", lambda conn: False)
    stage(engine, payloads)
    assert normalizer.normalize_staged(engine, 2024)["normalized"] == 4
    assert snapshot(engine) == with_copy
    with engine.connect() as conn:
        data = conn.execute(sa.text("SELECT tmdb_data FROM movies WHERE tmdb_id = 550")).scalar_one()
    assert len(data["credits"]["cast"]) == 76


def test_two_discoveries_of_the_same_year_at_once(postgres_warehouse_url):
    """A backfill and the daily sync discovering one year with slightly different results (churn):
    both finish (no deadlock), and the warehouse holds the later one's view."""
    from cinegraph_assets_tests.support.movies import discovered, window

    upgrade(postgres_warehouse_url)
    engine = get_engine(postgres_warehouse_url)
    with engine.begin() as conn:
        discovery.record_discovery(conn, 2024, [window(2024, 3000)], discovered(*range(1, 3001)), NOW)
    errors = []

    def discover(ids, at):
        try:
            with engine.begin() as conn:
                discovery.record_discovery(conn, 2024, [window(2024, len(ids))], discovered(*ids), at)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    runs = [threading.Thread(target=discover, args=(list(range(500, 3500)), NOW + timedelta(minutes=1))),
            threading.Thread(target=discover, args=(list(range(1, 3001, 2)), NOW + timedelta(minutes=2)))]
    for t in runs:
        t.start()
    for t in runs:
        t.join(timeout=120)
    assert errors == []
    with engine.connect() as conn:
        seen = discovery.discovered_ids(conn, 2024)
    assert seen in (set(range(500, 3500)), set(range(1, 3001, 2)))
