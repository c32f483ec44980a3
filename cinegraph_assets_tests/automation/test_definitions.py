"""Everything starts switched on, each can start switched off by setting, and names are checked."""

import dagster as dg
import pytest

from cinegraph_assets.automation.definitions import (
    SCHEDULE_NAMES,
    SENSOR_NAMES,
    build_defs,
    defs_from_settings,
)
from cinegraph_assets.settings import SettingError


def statuses(defs: dg.Definitions) -> dict[str, str]:
    out = {s.name: s.default_status.value for s in defs.schedules}
    out.update({s.name: s.default_status.value for s in defs.sensors})
    return out


def test_everything_is_on_by_default():
    assert statuses(build_defs()) == {name: "RUNNING" for name in SCHEDULE_NAMES + SENSOR_NAMES}


def test_a_setting_starts_some_switched_off():
    got = statuses(build_defs(frozenset({"daily_sync", "tmdb_changes"})))
    assert got["daily_sync"] == got["tmdb_changes"] == "STOPPED"
    assert got["catalog_backfill"] == "RUNNING"
    assert set(statuses(build_defs(frozenset({"all"}))).values()) == {"STOPPED"}


def test_an_unknown_name_is_refused_with_the_setting_named():
    with pytest.raises(SettingError, match="CINEGRAPH_AUTOMATION_OFF names dayly_sync"):
        build_defs(frozenset({"dayly_sync"}))


def test_the_settings_are_read_when_the_location_loads_not_at_import():
    assert statuses(defs_from_settings({"CINEGRAPH_AUTOMATION_OFF": "daily_sync"}))["daily_sync"] == "STOPPED"
    assert statuses(defs_from_settings({}))["daily_sync"] == "RUNNING"
    changes = {s.name: s for s in defs_from_settings({"TMDB_CHANGES_INTERVAL_SECONDS": "60"}).sensors}
    assert changes["tmdb_changes"].minimum_interval_seconds == 60


def test_every_sensor_and_schedule_is_in_the_platform():
    from cinegraph_assets.definitions import defs as load_definitions

    defs = load_definitions()

    repository = defs.get_repository_def()
    assert {s.name for s in repository.sensor_defs} >= set(SENSOR_NAMES)
    assert {s.name for s in repository.schedule_defs} >= set(SCHEDULE_NAMES)
    assert repository.assets_defs_by_key[dg.AssetKey("catalog_progress")].group_names_by_key[
        dg.AssetKey("catalog_progress")] == "reporting"


def test_the_jobs_run_history_counts_as_not_writing_movies_are_exactly_those():
    """instance_history names the jobs that never write movies (it sits below automation/, so it
    cannot import them): the names must stay those of the jobs whose assets write no movies."""
    from cinegraph_assets.asset_keys import YEAR_WRITING_ASSETS
    from cinegraph_assets.automation.jobs import ALL_JOBS
    from cinegraph_assets.definitions import defs
    from cinegraph_assets.instance_history import NON_WRITING_JOBS

    platform = defs()
    not_writing = {job.name for job in ALL_JOBS
                   if not platform.resolve_job_def(job.name).asset_layer.executable_asset_keys
                   & YEAR_WRITING_ASSETS}
    assert not_writing == NON_WRITING_JOBS
