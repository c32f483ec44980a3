"""fetch_details against a scripted fake TMDb and a real (SQLite) warehouse."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from cinegraph_assets.tmdb.client import TMDbAuthError, TMDbClient
from cinegraph_assets.tmdb.details import APPEND_TO_RESPONSE, fetch_details
from cinegraph_assets.warehouse import failed_fetches, schema
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets_tests.tmdb.fake_tmdb import FakeTMDb, Reply

NOT_FOUND = {"status_message": "The resource you requested could not be found.", "status_code": 34}
INVALID_KEY = {"status_message": "Invalid API key: You must be granted a valid key.", "success": False,
               "status_code": 7}


def payload(tmdb_id: int) -> dict:
    return {"id": tmdb_id, "title": f"Movie {tmdb_id}", "release_date": "2024-05-01",
            "credits": {"cast": [], "crew": []}}


@pytest.fixture
def engine(sqlite_warehouse_url):
    upgrade(sqlite_warehouse_url)
    return get_engine(sqlite_warehouse_url)


def staged_ids(engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(schema.tmdb_details_staging.c.tmdb_id)).scalars())


def client_for(fake: FakeTMDb, **kwargs) -> TMDbClient:
    return TMDbClient(base_url=fake.url, api_key="test-key", sleep=lambda s: None, max_retries=2, **kwargs)


def test_one_request_per_movie_with_every_part_appended(engine):
    with FakeTMDb(lambda r: Reply(body=payload(int(r.path.rsplit("/", 1)[1])))) as fake:
        outcome = fetch_details(client_for(fake), engine, 2024, [(i, "new") for i in range(1, 61)],
                                max_workers=4, batch_size=7)
    assert outcome.fetched == 60 and outcome.failed == 0
    assert sorted(fake.paths()) == sorted(f"/3/movie/{i}" for i in range(1, 61))
    appended = {r.query["append_to_response"] for r in fake.requests}
    assert appended == {",".join(APPEND_TO_RESPONSE)} and len(APPEND_TO_RESPONSE) <= 20
    assert staged_ids(engine) == set(range(1, 61))


def test_404_marks_deleted_and_failures_are_recorded_without_losing_the_rest(engine):
    def respond(request):
        tmdb_id = int(request.path.rsplit("/", 1)[1])
        if tmdb_id % 10 == 0:
            return Reply(status=404, body=NOT_FOUND)
        if tmdb_id == 7:
            return Reply(status=503, body={"status_code": 9, "status_message": "offline"})
        return Reply(body=payload(tmdb_id))

    with FakeTMDb(respond) as fake:
        outcome = fetch_details(client_for(fake), engine, 2024, [(i, "new") for i in range(1, 31)],
                                max_workers=3)
    assert outcome.deleted == 3 and outcome.failures == [(7, "http_503", 503)]
    assert outcome.fetched == 26
    assert staged_ids(engine) == set(range(1, 31)) - {7, 10, 20, 30}
    with engine.connect() as conn:
        failures = failed_fetches.fetch_failures(conn, 2024)
    assert [(f["tmdb_id"], f["reason"], f["http_status"]) for f in failures] == [(7, "http_503", 503)]


def test_invalid_key_costs_one_request_and_stops(engine):
    with FakeTMDb(lambda r: Reply(status=401, body=INVALID_KEY)) as fake:
        with pytest.raises(TMDbAuthError, match="TMDB_API_KEY"):
            fetch_details(client_for(fake), engine, 2024, [(i, "new") for i in range(1, 200)],
                          max_workers=16)
    assert len(fake.requests) == 1


def test_responses_already_received_are_saved_when_the_run_stops(engine):
    """Progress survives an abort: what arrived before it is in the staging table."""
    lock = threading.Lock()
    served = {"n": 0}

    def respond(request):
        with lock:
            served["n"] += 1
            if served["n"] > 40:  # the key is revoked mid-run
                return Reply(status=401, body=INVALID_KEY)
        return Reply(body=payload(int(request.path.rsplit("/", 1)[1])))

    with FakeTMDb(respond) as fake:
        with pytest.raises(TMDbAuthError):
            fetch_details(client_for(fake), engine, 2024, [(i, "new") for i in range(1, 500)],
                          max_workers=4, batch_size=1000, flush_seconds=60)
    saved = staged_ids(engine)
    assert len(saved) >= 35  # everything answered before the 401, minus at most the in-flight ones
    assert len(fake.requests) < 60  # and it stopped promptly


def test_progress_is_logged_with_rate_and_eta(engine):
    lines: list[str] = []
    with FakeTMDb(lambda r: Reply(body=payload(int(r.path.rsplit("/", 1)[1])))) as fake:
        fetch_details(client_for(fake), engine, 2024, [(i, "new") for i in range(1, 21)],
                      max_workers=2, progress_seconds=0.0, log=lines.append)
    assert lines and "20/20 movies" in lines[-1] and "movies/s" in lines[-1] and "ETA" in lines[-1]


@pytest.fixture
def any_engine(warehouse_url):
    upgrade(warehouse_url)
    return get_engine(warehouse_url)


def test_an_unreadable_body_is_an_invalid_json_failure_and_the_rest_of_the_batch_is_staged(any_engine):
    """Movie 3's body is never JSON (the client gives up after its retries); movie 5's looks like
    an object but is not JSON (only staging finds out); movie 7 carries a \\u0000 escape. All in
    one batch: 3 and 5 are failures, the others are staged."""
    import json

    def respond(request):
        tmdb_id = int(request.path.rsplit("/", 1)[1])
        if tmdb_id == 3:
            return Reply(body=b"<html>Service Unavailable</html>")
        if tmdb_id == 5:
            return Reply(body=b'{"id": 5, "title": }')
        if tmdb_id == 7:
            return Reply(body=json.dumps({**payload(7), "title": "Nul\u0000"}).encode())
        return Reply(body=payload(tmdb_id))

    staged_batches = []
    with FakeTMDb(respond) as fake:
        outcome = fetch_details(client_for(fake), any_engine, 2024, [(i, "new") for i in range(1, 11)],
                                max_workers=3, batch_size=1000, flush_seconds=60,
                                on_staged=lambda: staged_batches.append(1))
    assert fake.paths().count("/3/movie/3") == 3  # tried again before giving up
    assert fake.paths().count("/3/movie/5") == 1  # the client cannot tell: staging does
    assert sorted(outcome.failures) == [(3, "invalid_json", 200), (5, "invalid_json", 200)]
    assert outcome.fetched == 8 and outcome.failed == 2 and staged_batches
    assert staged_ids(any_engine) == set(range(1, 11)) - {3, 5}
    with any_engine.connect() as conn:
        failures = failed_fetches.fetch_failures(conn, 2024)
        title = conn.execute(sa.select(schema.tmdb_details_staging.c.payload)
                             .where(schema.tmdb_details_staging.c.tmdb_id == 7)).scalar_one()["title"]
    assert [(f["tmdb_id"], f["reason"], f["http_status"]) for f in failures] == [
        (3, "invalid_json", 200), (5, "invalid_json", 200)]
    assert title.replace("\x00", "") == "Nul"


def test_a_batch_of_only_unreadable_bodies_stages_nothing_and_says_so(any_engine):
    staged_batches = []
    with FakeTMDb(lambda r: Reply(body=b'{"id": 1, "title": NaNa}')) as fake:
        outcome = fetch_details(client_for(fake), any_engine, 2024, [(1, "new"), (2, "new")],
                                max_workers=2, batch_size=1000, on_staged=lambda: staged_batches.append(1))
    assert outcome.fetched == 0 and sorted(outcome.failures) == [(1, "invalid_json", 200), (2, "invalid_json", 200)]
    assert staged_ids(any_engine) == set() and staged_batches == []  # nothing for the normalizer
