"""catalog_backfill: never-imported years, newest first, N a day, never two runs for one year."""

import json
from datetime import datetime, timezone

import dagster as dg
import pytest

from cinegraph_assets.automation import catalog_backfill_sensor as sensors
from cinegraph_assets.automation.backfill import BackfillCursor, plan_backfill
from cinegraph_assets.automation.catalog_backfill_sensor import catalog_backfill_sensor

from .conftest import mark_imported, start_run

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def tick(instance, repository, set_now):
    sensor = catalog_backfill_sensor(dg.DefaultSensorStatus.RUNNING)
    set_now(NOW)

    def evaluate(cursor=None):
        context = dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repository)
        return sensor.evaluate_tick(context)

    return evaluate


def test_first_tick_imports_the_current_year_and_shows_the_next(tick):
    result = tick()

    assert [(r.partition_key, r.run_key) for r in result.run_requests] == [
        ("2026", "catalog_backfill:2026-11-21:2026")
    ]
    cursor = json.loads(result.cursor)
    assert cursor["day"] == "2026-11-21"
    assert cursor["requested_today"] == [2026]
    assert cursor["next_year"] == 2025
    assert cursor["years_left"] == 2026 - 1874 + 1


def test_goes_newest_first_past_imported_years(tick, instance):
    mark_imported(instance, [2026, 2025, 2023])

    result = tick()

    assert [r.partition_key for r in result.run_requests] == ["2024"]
    assert json.loads(result.cursor)["next_year"] == 2022


def test_years_per_day_setting_and_the_daily_allowance(tick, monkeypatch):
    monkeypatch.setenv("CATALOG_BACKFILL_YEARS_PER_DAY", "3")
    first = tick()
    assert [r.partition_key for r in first.run_requests] == ["2026", "2025"]  # two at a time
    second = tick(first.cursor)  # (those two runs finished meanwhile)
    assert [r.partition_key for r in second.run_requests] == ["2024"]

    # Same UTC day: the allowance is used up; the SkipReason says so and names the next year.
    third = tick(second.cursor)
    assert not third.run_requests
    assert "CATALOG_BACKFILL_YEARS_PER_DAY=3" in third.skip_message
    assert "next is 2023" in third.skip_message
    assert json.loads(third.cursor)["requested_today"] == [2026, 2025, 2024]


def test_a_new_utc_day_brings_a_new_allowance(tick, set_now, instance):
    first = tick()
    set_now(datetime(2026, 11, 22, 0, 5, tzinfo=timezone.utc))
    start_run(instance, 2026)  # yesterday's year is still importing

    result = tick(first.cursor)

    assert [r.partition_key for r in result.run_requests] == ["2025"]
    assert json.loads(result.cursor) | {"years_left": 0} == {
        "day": "2026-11-22", "requested_today": [2025], "next_year": 2024, "years_left": 0,
        "retry_later": [],
    }


@pytest.mark.parametrize("status", [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTED])
def test_never_two_runs_for_the_same_year(tick, instance, status):
    start_run(instance, 2026, status=status, job_name="catalog_year_sync")  # e.g. the daily sync

    result = tick()

    assert [r.partition_key for r in result.run_requests] == ["2025"]


def test_a_range_backfill_run_blocks_its_years(tick, instance):
    from dagster._core.test_utils import create_run_for_test

    create_run_for_test(instance, job_name="__ASSET_JOB", status=dg.DagsterRunStatus.STARTED, tags={
        "dagster/asset_partition_range_start": "2020",
        "dagster/asset_partition_range_end": "2026",
    })

    assert [r.partition_key for r in tick().run_requests] == ["2019"]


def test_a_year_that_failed_goes_to_the_back_of_the_queue(tick, instance):
    start_run(instance, 2026, status=dg.DagsterRunStatus.FAILURE)

    result = tick()

    assert [r.partition_key for r in result.run_requests] == ["2025"]
    assert json.loads(result.cursor)["retry_later"] == [2026]


def test_an_omdb_run_of_a_year_does_not_block_its_import(tick, instance):
    start_run(instance, 2026, job_name="omdb_ratings_job")
    assert [r.partition_key for r in tick().run_requests] == ["2026"]


def test_stops_asking_once_every_year_is_in(tick, instance, monkeypatch):
    # Recording 153 materializations takes this loaded machine ~15 s; a catalog starting in 2020
    # exercises the same path (the sensor reads the range from the partitions definition).
    monkeypatch.setattr(sensors, "partition_year_range", lambda now: (2020, 2026))
    mark_imported(instance, range(2020, 2027))

    result = tick()

    assert not result.run_requests
    assert "Every year from 2020 to 2026 has been imported" in result.skip_message
    assert json.loads(result.cursor)["years_left"] == 0


def test_the_plan_is_done_when_all_153_years_are_in():
    plan = plan_backfill(NOW.date(), 1874, 2026, set(range(1874, 2027)), {}, set(),
                         BackfillCursor(), years_per_day=5)
    assert plan.years == [] and plan.cursor.years_left == 0 and plan.cursor.next_year is None


def test_skip_reason_names_the_running_year_when_it_is_the_last_one(tick, instance, monkeypatch):
    monkeypatch.setattr(sensors, "partition_year_range", lambda now: (2020, 2026))
    mark_imported(instance, range(2020, 2026))
    start_run(instance, 2026)

    result = tick()

    assert not result.run_requests
    assert "2026 already running" in result.skip_message


def test_a_large_allowance_still_imports_years_one_after_another(tick, instance, monkeypatch):
    monkeypatch.setenv("CATALOG_BACKFILL_YEARS_PER_DAY", "200")
    first = tick()
    assert [r.partition_key for r in first.run_requests] == ["2026", "2025"]
    for year in (2026, 2025):
        start_run(instance, year, tags={"cinegraph/trigger": "catalog_backfill"})

    second = tick(first.cursor)

    assert not second.run_requests
    assert "2 backfill run(s) are queued or running" in second.skip_message
    assert "2024 starts when one finishes" in second.skip_message
