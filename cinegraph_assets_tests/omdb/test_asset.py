"""omdb_ratings materialized with Dagster against the scripted local OMDb: what a user sees in the
warehouse, in the materialization metadata and in the event log."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from cinegraph_assets.omdb.assets import omdb_ratings
from cinegraph_assets.omdb.resource import OMDbResource
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.warehouse.schema import omdb_movies, omdb_quota_ledger
from cinegraph_assets_tests.omdb.fake_omdb import FakeOmdb
from cinegraph_assets_tests.omdb.helpers import insert_movies, migrated_engine, ratings, statuses

KEY = "k3y-never-shown-0mdb"


@pytest.fixture
def fake():
    with FakeOmdb() as server:
        yield server


def materialize(url, fake, partition="2020", instance=None, **omdb_fields):
    omdb_fields.setdefault("daily_limit", 1000)
    omdb_fields.setdefault("max_retries", 1)
    return dg.materialize(
        [omdb_ratings],
        partition_key=partition,
        instance=instance,
        resources={
            "warehouse": WarehouseResource(database_url=url),
            "omdb": OMDbResource(base_url=fake.url, api_key=KEY, **omdb_fields),
        },
        raise_on_error=False,
    )


def metadata_of(result, partition="2020") -> dict:
    for event in result.get_asset_materialization_events():
        if event.partition == partition:
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError(f"no materialization of {partition}")


def check_of(result):
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def test_a_year_is_rated_and_reported(sqlite_warehouse_url, fake):
    engine = migrated_engine(sqlite_warehouse_url)
    insert_movies(engine, [
        {"tmdb_id": 1, "imdb_id": "tt1", "release_year": 2020},
        {"tmdb_id": 2, "imdb_id": "tt2", "release_year": 2020},
        {"tmdb_id": 3, "imdb_id": None, "release_year": 2020},
        {"tmdb_id": 4, "imdb_id": "tt4", "release_year": 2021},
    ])
    fake.reply(200, {"Response": "True", "imdbID": "tt1", "imdbRating": "8.0", "imdbVotes": "2,345",
                     "BoxOffice": "$1,000", "Rated": "R", "Metascore": "N/A",
                     "Awards": "Won 2 Oscars. 12 wins & 30 nominations total"})
    result = materialize(sqlite_warehouse_url, fake)
    assert result.success
    assert sorted(r["i"] for r in fake.requests) == ["tt1", "tt2"]
    assert ratings(engine)[(1, "imdb")] == ("8.0/10", 80.0, 2345)
    assert statuses(engine) == {1: "ok", 2: "ok"}
    meta = metadata_of(result)
    assert meta["eligible"] == 2 and meta["rated"] == 2 and meta["pending"] == 0
    assert meta["requests"] == 2 and meta["coverage_pct"] == 100.0
    assert meta["quota_used_today"] == 2 and meta["quota_remaining_today"] == 998
    assert meta["failed_not_found"] == 0
    assert check_of(result).passed


def test_the_quota_ends_the_run_successfully_and_the_next_day_continues(sqlite_warehouse_url, fake):
    engine = migrated_engine(sqlite_warehouse_url)
    insert_movies(engine, [
        {"tmdb_id": i, "imdb_id": f"tt{i}", "release_year": 2020, "popularity": float(i)}
        for i in range(1, 9)
    ])
    instance = dg.DagsterInstance.ephemeral()
    first = materialize(sqlite_warehouse_url, fake, daily_limit=5, instance=instance)
    assert first.success
    # Most popular first, exactly the day's 5 requests.
    assert [r["i"] for r in fake.requests] == ["tt8", "tt7", "tt6", "tt5", "tt4"]
    meta = metadata_of(first)
    assert (meta["rated"], meta["pending"], meta["quota_remaining_today"]) == (5, 3, 0)
    assert meta["stopped_for_quota"] == 1
    check = check_of(first)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN

    again = materialize(sqlite_warehouse_url, fake, daily_limit=5, instance=instance)
    assert again.success and len(fake.requests) == 5  # the day is spent: nothing sent

    next_day = materialize(sqlite_warehouse_url, fake, daily_limit=5, clock_offset_days=1)
    assert next_day.success
    assert [r["i"] for r in fake.requests[5:]] == ["tt3", "tt2", "tt1"]
    meta = metadata_of(next_day)
    assert (meta["rated"], meta["pending"], meta["quota_used_today"]) == (8, 0, 3)


def test_omdb_saying_limit_reached_stops_cleanly_and_records_nothing_for_the_movie(
    sqlite_warehouse_url, fake
):
    engine = migrated_engine(sqlite_warehouse_url)
    insert_movies(engine, [
        {"tmdb_id": i, "imdb_id": f"tt{i}", "release_year": 2020, "popularity": float(i)}
        for i in range(1, 5)
    ])
    fake.reply(200, FakeOmdb.title("tt4"))
    fake.reply(401, {"Response": "False", "Error": "Request limit reached!"})
    result = materialize(sqlite_warehouse_url, fake)
    assert result.success
    assert statuses(engine) == {4: "ok"}  # tt3 got the limit body: nothing recorded against it
    meta = metadata_of(result)
    assert meta["pending"] == 3 and meta["quota_remaining_today"] == 0
    assert 59 <= meta["quota_paused_minutes"] <= 60
    assert len(fake.requests) == 2  # and nothing more was asked after the limit body

    paused = materialize(sqlite_warehouse_url, fake)
    assert paused.success and len(fake.requests) == 2  # every run waits out the pause

    # An hour later, the same UTC day: OMDb's counter may have reset (it does not say when), so
    # the next run asks again rather than giving up the rest of the day.
    with engine.begin() as conn:
        [(day, until)] = conn.execute(
            sa.select(omdb_quota_ledger.c.utc_day, omdb_quota_ledger.c.paused_until)).all()
        conn.execute(omdb_quota_ledger.update().where(omdb_quota_ledger.c.utc_day == day)
                     .values(paused_until=until - timedelta(hours=1)))
    later = materialize(sqlite_warehouse_url, fake)
    assert later.success and len(fake.requests) == 5
    assert statuses(engine) == {1: "ok", 2: "ok", 3: "ok", 4: "ok"}
    assert metadata_of(later)["quota_paused_minutes"] == 0


def test_not_found_movies_are_recorded_and_skipped_next_run(sqlite_warehouse_url, fake):
    engine = migrated_engine(sqlite_warehouse_url)
    insert_movies(engine, [
        {"tmdb_id": 1, "imdb_id": "tt1", "release_year": 2020, "popularity": 3.0},
        {"tmdb_id": 2, "imdb_id": "tt2", "release_year": 2020, "popularity": 2.0},
        {"tmdb_id": 3, "imdb_id": "tt3", "release_year": 2020, "popularity": 1.0},
    ])
    fake.reply(200, {"Response": "False", "Error": "Movie not found!"})
    fake.reply(200, {"Response": "False", "Error": "Incorrect IMDb ID."})
    fake.reply(200, '{"Response":"False","Error":"Conversion from string "tt3" to type \'Double\'"}')
    first = materialize(sqlite_warehouse_url, fake)
    assert first.success
    assert statuses(engine) == {1: "not_found", 2: "incorrect_imdb_id", 3: "parse_error"}
    meta = metadata_of(first)
    assert (meta["failed_not_found"], meta["failed_incorrect_imdb_id"], meta["failed_parse_error"]) == (1, 1, 1)
    assert meta["pending"] == 1  # the malformed answer is asked again next run

    second = materialize(sqlite_warehouse_url, fake)
    assert second.success
    assert [r["i"] for r in fake.requests] == ["tt1", "tt2", "tt3", "tt3"]
    assert statuses(engine)[3] == "ok"
    assert metadata_of(second)["rated"] == 1


def test_invalid_key_fails_at_once_naming_the_env_var_and_the_key_is_nowhere(
    sqlite_warehouse_url, fake
):
    engine = migrated_engine(sqlite_warehouse_url)
    insert_movies(engine, [
        {"tmdb_id": i, "imdb_id": f"tt{i}", "release_year": 2020} for i in range(1, 6)
    ])
    fake.reply(401, {"Response": "False", "Error": "Invalid API key!"}, times=5)
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(sqlite_warehouse_url, fake, instance=instance)
    assert not result.success
    assert len(fake.requests) == 1
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "OMDB_API_KEY" in str(failure.event_specific_data.error)
    logs = instance.all_logs(result.run_id)
    dumped = json.dumps([str(record) for record in logs])
    assert KEY not in dumped
    assert statuses(engine) == {}


def test_a_missing_key_is_a_clear_failure(sqlite_warehouse_url, fake):
    migrated_engine(sqlite_warehouse_url)
    result = dg.materialize(
        [omdb_ratings],
        partition_key="2020",
        resources={
            "warehouse": WarehouseResource(database_url=sqlite_warehouse_url),
            "omdb": OMDbResource(base_url=fake.url),
        },
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "OMDB_API_KEY is not set" in str(failure.event_specific_data.error)
    assert fake.requests == []


def test_a_multi_year_run_reports_each_year_and_spends_quota_newest_first(
    sqlite_warehouse_url, fake
):
    engine = migrated_engine(sqlite_warehouse_url)
    insert_movies(engine, [
        {"tmdb_id": 1, "imdb_id": "tt1", "release_year": 2018},
        {"tmdb_id": 2, "imdb_id": "tt2", "release_year": 2019},
        {"tmdb_id": 3, "imdb_id": "tt3", "release_year": 2019},
    ])
    result = dg.materialize(
        [omdb_ratings],
        tags={"dagster/asset_partition_range_start": "2018",
              "dagster/asset_partition_range_end": "2019"},
        resources={
            "warehouse": WarehouseResource(database_url=sqlite_warehouse_url),
            "omdb": OMDbResource(base_url=fake.url, api_key=KEY, daily_limit=2),
        },
    )
    assert result.success
    assert sorted(r["i"] for r in fake.requests) == ["tt2", "tt3"]
    assert (metadata_of(result, "2019")["rated"], metadata_of(result, "2019")["requests"]) == (2, 2)
    assert (metadata_of(result, "2018")["pending"], metadata_of(result, "2018")["requests"]) == (1, 0)


def test_two_runs_at_once_share_one_day_of_quota(postgres_warehouse_url, fake):
    """Two runs (two years) racing for a limit of 10: exactly 10 requests reach OMDb."""
    engine = migrated_engine(postgres_warehouse_url)
    insert_movies(engine, [
        {"tmdb_id": i, "imdb_id": f"tt{i}", "release_year": 2019 + i % 2} for i in range(1, 31)
    ])
    results = {}

    def run(year: str) -> None:
        results[year] = materialize(postgres_warehouse_url, fake, partition=year, daily_limit=10)

    threads = [threading.Thread(target=run, args=(year,)) for year in ("2019", "2020")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results["2019"].success and results["2020"].success
    assert len(fake.requests) == 10
    rated = metadata_of(results["2019"], "2019")["rated"] + metadata_of(results["2020"], "2020")["rated"]
    assert rated == 10
    assert len(statuses(engine)) == 10


def test_odd_answers_fail_their_movie_only(warehouse_url, fake):
    """A 5 MB body, unexpected types and a NUL character each fail one movie, with the reason;
    the rest of the year is rated and the run succeeds."""
    engine = migrated_engine(warehouse_url)
    insert_movies(engine, [
        {"tmdb_id": i, "imdb_id": f"tt{i}", "release_year": 2020, "popularity": float(10 - i)}
        for i in range(1, 6)
    ])
    fake.reply(200, json.dumps({"Response": "True", "Plot": "x" * 5_000_000}))
    fake.reply(200, {"Response": "True", "imdbID": "tt2", "Ratings": {"Source": "IMDb"}})
    fake.reply(200, {"Response": "True", "imdbID": "tt3", "imdbVotes": [1, 2]})
    fake.reply(200, {"Response": "True", "imdbID": "tt4", "Title": "nul\u0000byte", "imdbRating": "7.0"})
    result = materialize(warehouse_url, fake)
    assert result.success
    with engine.connect() as conn:
        errors = dict(conn.execute(sa.select(omdb_movies.c.tmdb_id, omdb_movies.c.error)).all())
    assert "5,000,0" in errors[1] and "Ratings" in errors[2] and "imdbVotes" in errors[3]
    expected_status_4 = "parse_error" if "postgresql" in warehouse_url else "ok"
    assert statuses(engine) == {1: "parse_error", 2: "parse_error", 3: "parse_error",
                                4: expected_status_4, 5: "ok"}
    assert ratings(engine)[(5, "imdb")] == ("7.0/10", 70.0, 1000)
