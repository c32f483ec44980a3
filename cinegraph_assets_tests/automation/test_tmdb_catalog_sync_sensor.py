"""tmdb_catalog_sync: the day's export once it is published (hourly until it is loaded), then the gap
fill, continued run after run while movies remain; never two of its runs at once."""

from datetime import datetime, timezone

import dagster as dg
from dagster._core.test_utils import create_run_for_test

from cinegraph_assets.automation.tmdb_catalog_sync_sensor import tmdb_catalog_sensor


def tick(instance):
    sensor = tmdb_catalog_sensor(dg.DefaultSensorStatus.RUNNING)
    return sensor.evaluate_tick(dg.build_sensor_context(instance=instance))


def loaded(instance, export_date: str) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(
        "tmdb_catalog_ids", metadata={"export_date": export_date}))


def gap_ran(instance, remaining: int) -> int:
    instance.report_runless_asset_event(dg.AssetMaterialization("tmdb_gap_movies", metadata={"remaining": remaining}))
    return instance.fetch_materializations(dg.AssetKey("tmdb_gap_movies"), limit=1).records[0].storage_id


def test_after_publication_it_loads_the_days_export_and_retries_hourly_until_it_is_loaded(instance, set_now):
    set_now(datetime(2026, 11, 30, 9, 5, tzinfo=timezone.utc))
    [request] = tick(instance).run_requests
    assert (request.job_name, request.run_key) == ("tmdb_catalog_sync", "tmdb_catalog_sync:2026-11-30:09")

    loaded(instance, "2026-11-29")  # TMDb was late: the fallback loaded yesterday's
    gap_ran(instance, 0)
    set_now(datetime(2026, 11, 30, 10, 5, tzinfo=timezone.utc))
    [request] = tick(instance).run_requests
    assert request.run_key == "tmdb_catalog_sync:2026-11-30:10"

    loaded(instance, "2026-11-30")
    gap_ran(instance, 0)
    assert "gap fill is done" in tick(instance).skip_message


def test_before_08_30_yesterdays_export_is_the_newest_to_want(instance, set_now):
    loaded(instance, "2026-11-29")
    gap_ran(instance, 0)
    set_now(datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc))
    assert not tick(instance).run_requests


def test_the_gap_fill_goes_on_while_movies_remain_and_after_an_export_loaded_alone(instance, set_now):
    set_now(datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc))
    loaded(instance, "2026-11-30")
    [request] = tick(instance).run_requests  # loaded alone: the gap fill follows once
    assert request.job_name == "tmdb_gap_fill" and request.run_key.startswith("tmdb_gap_fill:export:")

    storage_id = gap_ran(instance, remaining=25_000)
    [request] = tick(instance).run_requests
    assert (request.job_name, request.run_key) == ("tmdb_gap_fill", f"tmdb_gap_fill:{storage_id}")

    gap_ran(instance, remaining=0)
    assert not tick(instance).run_requests


def test_never_two_runs_at_once(instance, set_now):
    set_now(datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc))
    create_run_for_test(instance, job_name="tmdb_gap_fill", status=dg.DagsterRunStatus.STARTED)
    result = tick(instance)
    assert not result.run_requests and "tmdb_gap_fill run is queued or running" in result.skip_message
