"""The current year's freshness: WARN after 24 h without a sync, ERROR after 36 h, evaluated by a
sensor whenever the answer would change."""

from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest

from cinegraph_assets.automation.freshness import (
    CHECK_KEY,
    current_year_freshness,
    freshness_sensor,
)

from .conftest import mark_imported


@pytest.fixture
def synced(instance):
    """movies[this year] synced just now (by the real clock)."""
    year = datetime.now(timezone.utc).year
    mark_imported(instance, [year])
    return datetime.now(timezone.utc)


@pytest.mark.parametrize("hours, state", [(1, "fresh"), (25, "warn"), (37, "fail")])
def test_state_follows_the_hours_since_the_last_sync(instance, synced, hours, state):
    freshness = current_year_freshness(instance, synced + timedelta(hours=hours))
    assert freshness.state == state


def test_only_the_current_year_counts(instance):
    year = datetime.now(timezone.utc).year
    mark_imported(instance, [year - 1, 1950])  # last year's sync and the backfill, just now

    freshness = current_year_freshness(instance, datetime(year, 6, 1, tzinfo=timezone.utc))

    assert freshness.last_sync is None
    assert freshness.state == "fail"
    assert f"movies[{year}] never synced" in freshness.describe()


def test_a_year_that_just_began_gets_a_day_before_warning(instance):
    freshness = current_year_freshness(instance, datetime(2027, 1, 1, 1, 0, tzinfo=timezone.utc))
    assert freshness.state == "fresh"


def test_the_check_reports_warn_then_error_severity(instance, synced, set_now, automation_defs):
    # The check alone, as the sensor's run request executes it.
    check_only = automation_defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection=set(), asset_check_selection={CHECK_KEY})
    for hours, passed, severity in [(2, True, None), (30, False, dg.AssetCheckSeverity.WARN),
                                    (40, False, dg.AssetCheckSeverity.ERROR)]:
        set_now(synced + timedelta(hours=hours))
        [evaluation] = check_only.execute_in_process(
            instance=instance, partition_key=str(synced.year)).get_asset_check_evaluations()
        assert evaluation.passed is passed
        if severity:
            assert evaluation.severity == severity
        assert evaluation.metadata["year"].value == synced.year


def test_every_year_sync_evaluates_the_check(instance, automation_defs):
    job = automation_defs.resolve_job_def("catalog_year_sync")
    result = job.execute_in_process(partition_key=str(datetime.now(timezone.utc).year), instance=instance)

    assert [e.check_name for e in result.get_asset_check_evaluations()] == [CHECK_KEY.name]
    assert result.get_asset_check_evaluations()[0].passed  # synced just now


def test_sensor_evaluates_only_when_the_answer_changes(instance, synced, set_now, repository):
    sensor = freshness_sensor(dg.DefaultSensorStatus.RUNNING)

    def tick():
        return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, repository_def=repository))

    def report(state):
        instance.report_runless_asset_event(dg.AssetCheckEvaluation(
            asset_key=CHECK_KEY.asset_key, check_name=CHECK_KEY.name, passed=state == "fresh",
            metadata={"state": state}, partition=str(synced.year)))

    set_now(synced + timedelta(hours=1))
    [first] = tick().run_requests
    assert first.asset_check_keys == [CHECK_KEY] and first.partition_key == str(synced.year)

    report("fresh")
    quiet = tick()
    assert not quiet.run_requests
    assert "already says 'fresh'" in quiet.skip_message and "turns warn at" in quiet.skip_message

    set_now(synced + timedelta(hours=25))
    [stale] = tick().run_requests
    assert stale.asset_check_keys == [CHECK_KEY] and stale.run_key != first.run_key


def test_materializing_an_old_year_shows_no_verdict_about_the_current_year(instance, automation_defs):
    """The current year has never synced, so its verdict would be an ERROR: importing 1920 must not
    show it (a check that fails on work it did not judge teaches people to ignore red)."""
    job = automation_defs.resolve_job_def("tmdb_year_import")
    result = job.execute_in_process(partition_key="1920", instance=instance)

    assert result.success
    assert result.get_asset_check_evaluations() == []
    assert current_year_freshness(instance, datetime.now(timezone.utc)).state == "fail"
