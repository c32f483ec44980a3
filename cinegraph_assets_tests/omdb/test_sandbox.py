"""omdb_ratings against the sandbox's OMDb: its daily limit (401 "Request limit reached!"), its days,
its not-found answers. Movies rows are inserted from the sandbox's TMDb details (over HTTP), as the
TMDb assets would leave them."""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import date, datetime, timezone

import dagster as dg
import pytest
import sqlalchemy as sa

from cinegraph_assets.omdb.assets import omdb_ratings
from cinegraph_assets.omdb.resource import OMDbResource
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.warehouse.schema import movies
from cinegraph_assets_tests.omdb.helpers import insert_movies, migrated_engine, statuses
from cinegraph_assets_tests.support.sandbox import SandboxProcess

YEAR = 2025


@pytest.fixture(scope="module")
def sandbox():
    """One sandbox for the module; each test moves it to a fresh day with its own daily limit."""
    with SandboxProcess(seed=7, detail_size="small",
                        year_size=[f"{YEAR}=420", f"{YEAR - 1}=120"]) as running:
        running.rows = {}  # movies rows per year, read once over HTTP
        yield running


def fresh_day(sandbox, daily_limit: int) -> int:
    """Advance the sandbox to a day nobody has spent yet and set its OMDb limit; returns the
    clock offset that makes the quota ledger count the same day as the sandbox."""
    sandbox.configure(omdb_daily_limit=daily_limit)
    today = date.fromisoformat(sandbox.advance(1)["today"])
    sandbox.reset_stats()
    return (today - datetime.now(timezone.utc).date()).days


def sandbox_rows(sandbox, year: int, with_imdb: int) -> list[dict]:
    """The first `with_imdb` movies of the year that have an IMDb id, as movies rows."""
    if year not in sandbox.rows:
        rows = []
        for movie_id in sorted(sandbox.truth(year)):
            url = f"{sandbox.tmdb_url}/movie/{movie_id}?api_key=sandbox"
            with urllib.request.urlopen(url, timeout=30) as response:
                details = json.loads(response.read())
            if details.get("imdb_id"):
                rows.append({"tmdb_id": movie_id, "imdb_id": details["imdb_id"],
                             "release_year": year, "popularity": details["popularity"]})
        sandbox.rows[year] = rows
    rows = sandbox.rows[year][:with_imdb]
    assert len(rows) == with_imdb, f"the sandbox year {year} has only {len(rows)} movies with IMDb ids"
    return rows


def load_movies(sandbox, engine, year: int, with_imdb: int) -> list[dict]:
    rows = sandbox_rows(sandbox, year, with_imdb)
    insert_movies(engine, rows)
    return rows


def omdb_answers(sandbox) -> dict[str, int]:
    return dict(sandbox.stats()["requests"].get("/omdb/", {}))


def materialize(url, sandbox, day: int, partition: str = str(YEAR), **fields):
    fields.setdefault("max_retries", 1)
    result = dg.materialize(
        [omdb_ratings],
        partition_key=partition,
        resources={
            "warehouse": WarehouseResource(database_url=url),
            "omdb": OMDbResource(base_url=sandbox.omdb_url, api_key="sandbox",
                                 clock_offset_days=day, **fields),
        },
    )
    [event] = [e for e in result.get_asset_materialization_events() if e.partition == partition]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def rated_ids(engine) -> set[int]:
    return {tmdb_id for tmdb_id, status in statuses(engine).items() if status == "ok"}


def test_a_year_of_200_is_rated_over_four_sandbox_days_of_50(sqlite_warehouse_url, sandbox):
    """The issue's "done when": --omdb-daily-limit 50, 200 movies: coverage climbs 25% a day, every
    day stops at the limit without ever meeting OMDb's 401 limit body, nothing is asked twice."""
    engine = migrated_engine(sqlite_warehouse_url)
    rows = load_movies(sandbox, engine, YEAR, with_imdb=200)
    by_popularity = [r["tmdb_id"] for r in sorted(rows, key=lambda r: -r["popularity"])]
    first_day = fresh_day(sandbox, daily_limit=50)

    coverage = []
    for day in range(first_day, first_day + 4):
        meta = materialize(sqlite_warehouse_url, sandbox, day, daily_limit=50)
        coverage.append(meta["coverage_pct"])
        assert (meta["requests"], meta["quota_used_today"], meta["quota_remaining_today"]) == (50, 50, 0)
        # The run stopped midway and kept its work; the most popular movies went first.
        done = 50 * (day - first_day + 1)
        assert rated_ids(engine) == set(by_popularity[:done])
        assert meta["pending"] == 200 - done
        if day == first_day:
            # A second run the same day: the ledger says the day is spent, nothing is sent.
            again = materialize(sqlite_warehouse_url, sandbox, day, daily_limit=50)
            assert again["requests"] == 0 and again["rated"] == 50
        sandbox.advance(1)

    assert coverage == [25.0, 50.0, 75.0, 100.0]
    assert omdb_answers(sandbox) == {"200": 200}  # never a 401 "Request limit reached!"
    with engine.connect() as conn:
        sources = dict(conn.execute(sa.text(
            "SELECT source, count(*) FROM movie_ratings GROUP BY source")).all())
    # Every source is stored; none for every movie (OMDb has no score for obscure ones: N/A).
    assert set(sources) == {"imdb", "rotten_tomatoes", "metacritic"}
    assert all(0 < count < 200 for count in sources.values())


def test_two_concurrent_runs_never_exceed_the_sandbox_limit(postgres_warehouse_url, sandbox):
    engine = migrated_engine(postgres_warehouse_url)
    load_movies(sandbox, engine, YEAR, with_imdb=40)
    load_movies(sandbox, engine, YEAR - 1, with_imdb=40)
    day = fresh_day(sandbox, daily_limit=30)
    metadata = {}

    def run(year: int) -> None:
        metadata[year] = materialize(postgres_warehouse_url, sandbox, day, partition=str(year),
                                     daily_limit=30)

    threads = [threading.Thread(target=run, args=(year,)) for year in (YEAR, YEAR - 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert omdb_answers(sandbox) == {"200": 30}
    assert metadata[YEAR]["requests"] + metadata[YEAR - 1]["requests"] == 30
    assert len(rated_ids(engine)) == 30


def test_not_found_movies_are_skipped_until_their_retry_age(sqlite_warehouse_url, sandbox):
    engine = migrated_engine(sqlite_warehouse_url)
    load_movies(sandbox, engine, YEAR, with_imdb=5)
    insert_movies(engine, [
        {"tmdb_id": 9_000_001, "imdb_id": "tt0000001", "release_year": YEAR},  # unknown to OMDb
        {"tmdb_id": 9_000_002, "imdb_id": "tt12", "release_year": YEAR},  # malformed
    ])
    day = fresh_day(sandbox, daily_limit=1000)
    first = materialize(sqlite_warehouse_url, sandbox, day)
    assert (first["rated"], first["failed_not_found"], first["failed_incorrect_imdb_id"]) == (5, 1, 1)
    assert first["pending"] == 0 and first["coverage_pct"] == round(100 * 5 / 7, 2)

    sandbox.reset_stats()
    second = materialize(sqlite_warehouse_url, sandbox, day)
    assert second["requests"] == 0 and omdb_answers(sandbox) == {}

    # 91 days on (the default retry age is 90): only the two failures are asked again.
    sandbox.reset_stats()
    later = materialize(sqlite_warehouse_url, sandbox, day + 91, refresh_days=365)
    assert later["requests"] == 2 and omdb_answers(sandbox) == {"200": 2}


def test_a_wrong_key_fails_the_run_naming_the_env_var(sqlite_warehouse_url, sandbox):
    engine = migrated_engine(sqlite_warehouse_url)
    load_movies(sandbox, engine, YEAR, with_imdb=5)
    fresh_day(sandbox, daily_limit=1000)
    result = dg.materialize(
        [omdb_ratings],
        partition_key=str(YEAR),
        resources={
            "warehouse": WarehouseResource(database_url=sqlite_warehouse_url),
            "omdb": OMDbResource(base_url=sandbox.omdb_url, api_key="not-the-key"),
        },
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "OMDB_API_KEY" in str(failure.event_specific_data.error)
    assert "not-the-key" not in str(failure.event_specific_data.error)
    assert omdb_answers(sandbox) == {"401": 1}
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(movies)).scalar_one() == 5
    assert statuses(engine) == {}
