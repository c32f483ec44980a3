"""catalog_progress_after_sync: one refresh after new syncs, none when nothing finished since."""

import dagster as dg
from dagster._core.test_utils import create_run_for_test

from cinegraph_assets.automation.catalog_progress_sensor import catalog_progress_sensor

from .conftest import mark_imported


def tick(instance, repository, cursor=None):
    sensor = catalog_progress_sensor(dg.DefaultSensorStatus.RUNNING)
    return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                         repository_def=repository))


def test_builds_the_table_once_at_the_start(instance, repository):
    [request] = tick(instance, repository).run_requests
    assert request.run_key == "catalog_progress:0"


def test_refreshes_after_a_sync_and_then_waits_for_the_next(instance, repository):
    instance.report_runless_asset_event(dg.AssetMaterialization("catalog_progress"))  # built before
    first = tick(instance, repository)
    assert not first.run_requests
    assert "No sync has finished" in first.skip_message

    mark_imported(instance, [2026])  # movies[2026] synced
    second = tick(instance, repository, first.cursor)
    [request] = second.run_requests
    assert request.run_key == f"catalog_progress:{second.cursor}"

    third = tick(instance, repository, second.cursor)
    assert not third.run_requests

    mark_imported(instance, [2026], asset_key="omdb_ratings")  # OMDb counts too
    assert tick(instance, repository, second.cursor).run_requests


def test_waits_while_a_refresh_is_running(instance, repository):
    mark_imported(instance, [2026])
    create_run_for_test(instance, job_name="catalog_progress_job", status=dg.DagsterRunStatus.STARTED)

    result = tick(instance, repository)

    assert not result.run_requests
    assert "already running" in result.skip_message
