"""omdb_backlog: after the quota resets, runs for the years with pending movies, recent years first,
no more than the day's remaining quota can serve."""

import json
from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest

from cinegraph_assets.automation.omdb_backlog_sensor import omdb_backlog_sensor
from cinegraph_assets.omdb.resource import OMDbResource
from cinegraph_assets.warehouse import ratings

from .conftest import add_movies, start_run

LIMIT = 25


@pytest.fixture
def backlog(instance, warehouse, repository):
    now = datetime.now(timezone.utc)
    add_movies(warehouse.engine, 2026, range(1, 11), now)  # 10 pending
    add_movies(warehouse.engine, 2025, range(101, 121), now)  # 20 pending
    add_movies(warehouse.engine, 2010, range(201, 231), now)  # 30 pending
    add_movies(warehouse.engine, 2009, range(301, 311), now, imdb=False)  # OMDb cannot ask: not pending
    sensor = omdb_backlog_sensor(dg.DefaultSensorStatus.RUNNING)

    def tick(cursor=None, days_later: int = 0):
        omdb = OMDbResource(daily_limit=LIMIT, clock_offset_days=days_later)
        with dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repository,
                                     resources={"omdb": omdb, "warehouse": warehouse}) as context:
            return sensor.evaluate_tick(context)

    return tick


def spend(warehouse, count: int, days_later: int = 0) -> None:
    now = datetime.now(timezone.utc) + timedelta(days=days_later)
    with warehouse.engine.begin() as conn:
        assert ratings.reserve_omdb_requests(conn, now.date(), LIMIT, count, now=now)


def test_recent_years_first_as_far_as_the_quota_reaches(backlog):
    result = backlog()

    # 25 requests left: 2026 (10) and 2025 (20) can use them all; 2010 waits.
    assert [r.partition_key for r in result.run_requests] == ["2026", "2025"]
    day = datetime.now(timezone.utc).date().isoformat()
    assert [r.run_key for r in result.run_requests] == [f"omdb_backlog:{day}:2026",
                                                       f"omdb_backlog:{day}:2025"]
    cursor = json.loads(result.cursor)
    assert cursor["requested_today"] == [2026, 2025] and cursor["pending_movies"] == 60


def test_the_remaining_quota_is_what_counts(backlog, warehouse):
    spend(warehouse, 20)  # 5 left today

    assert [r.partition_key for r in backlog().run_requests] == ["2026"]


def test_runs_still_going_will_spend_the_rest(backlog, instance):
    first = backlog()
    for year in (2026, 2025):
        start_run(instance, year, job_name="omdb_ratings_job")

    second = backlog(first.cursor)

    assert not second.run_requests
    assert "will use the 25 requests left" in second.skip_message


def test_a_spent_quota_waits_for_midnight_utc_then_starts_again(backlog, warehouse):
    spend(warehouse, LIMIT)
    today = backlog()

    assert not today.run_requests
    assert "quota" in today.skip_message and "resets at 00:00 UTC" in today.skip_message
    assert "60 movie(s) wait" in today.skip_message

    tomorrow = backlog(today.cursor, days_later=1)

    assert [r.partition_key for r in tomorrow.run_requests] == ["2026", "2025"]
    assert json.loads(tomorrow.cursor)["day"] != json.loads(today.cursor)["day"]


def test_nothing_pending(instance, warehouse, repository):
    with dg.build_sensor_context(instance=instance, repository_def=repository, resources={
            "omdb": OMDbResource(daily_limit=LIMIT), "warehouse": warehouse}) as context:
        result = omdb_backlog_sensor(dg.DefaultSensorStatus.RUNNING).evaluate_tick(context)

    assert not result.run_requests
    assert result.skip_message == "No movie is waiting for OMDb ratings."


def rated_long_ago(warehouse, ids, days_ago: int = 40) -> None:
    at = datetime.now(timezone.utc) - timedelta(days=days_ago)
    with warehouse.engine.begin() as conn:
        for tmdb_id in ids:
            ratings.upsert_ratings(conn, tmdb_id, f"tt{tmdb_id:07d}", {}, [], {}, at)


def test_refreshes_never_starve_movies_that_were_never_rated(instance, warehouse, repository):
    """Recent years whose due refreshes fill the day's quota must not keep older years unrated
    forever: OMDB_REFRESH_DAYS promises refreshes once new movies are rated."""
    now = datetime.now(timezone.utc)
    add_movies(warehouse.engine, 2026, range(1, 31), now)
    add_movies(warehouse.engine, 2025, range(101, 121), now)
    rated_long_ago(warehouse, [*range(1, 31), *range(101, 121)])  # 50 refreshes due
    add_movies(warehouse.engine, 2010, range(201, 231), now)  # 30 never rated
    with dg.build_sensor_context(instance=instance, repository_def=repository, resources={
            "omdb": OMDbResource(daily_limit=LIMIT), "warehouse": warehouse}) as context:
        result = omdb_backlog_sensor(dg.DefaultSensorStatus.RUNNING).evaluate_tick(context)

    assert [r.partition_key for r in result.run_requests] == ["2010"]
    with warehouse.engine.connect() as conn:
        # ...and a run of 2026 (the daily sync's) spends nothing on refreshes meanwhile.
        assert ratings.movies_pending_ratings(conn, 2026, now) == []
        for tmdb_id in range(201, 231):
            ratings.upsert_ratings(conn, tmdb_id, f"tt{tmdb_id:07d}", {}, [], {}, now)
        assert len(ratings.movies_pending_ratings(conn, 2026, now)) == 30  # now their turn
