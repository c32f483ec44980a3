"""Dagster definitions of the automation room (merged by cinegraph_assets.definitions).

Everything starts switched on, so `make run` shows the platform working by itself; each schedule
and sensor can be switched off in the UI, or before its first start with CINEGRAPH_AUTOMATION_OFF
(e.g. `daily_sync,tmdb_changes`, or `all`). Dagster fixes a sensor's default status and interval
in its definition, so these two settings are read when the code location loads (never at
import): `defs_from_settings` is called by the platform's lazy definitions.

A malformed value never takes the code location down (the assets must stay materializable):
- a bad TMDB_CHANGES_INTERVAL_SECONDS replaces the tmdb_changes sensor with a stand-in of the same
  name whose every tick fails with the one-line error; the rest loads as usual;
- a CINEGRAPH_AUTOMATION_OFF naming something unknown replaces every schedule and sensor with such
  a stand-in: a typo in the list of what to keep off must not let it run, and the Automation page
  shows the error on each of them until the setting is fixed.
"""

from __future__ import annotations

from typing import Mapping

import dagster as dg

from cinegraph_assets.automation.freshness import freshness_sensor, movies_current_year_freshness
from cinegraph_assets.automation.jobs import ALL_JOBS
from cinegraph_assets.automation.schedules import daily_sync_schedule, oscars_yearly_schedule
from cinegraph_assets.automation.tmdb_catalog_sync_sensor import tmdb_catalog_sensor
from cinegraph_assets.automation.tmdb_changes_sensor import tmdb_changes_sensor
from cinegraph_assets.automation.catalog_backfill_sensor import catalog_backfill_sensor
from cinegraph_assets.automation.catalog_progress_sensor import catalog_progress_sensor
from cinegraph_assets.automation.omdb_backlog_sensor import omdb_backlog_sensor
from cinegraph_assets.automation.oscars_source_sensor import oscars_source_sensor
from cinegraph_assets.settings import SETTINGS, SettingError, setting

SCHEDULE_NAMES = ("daily_sync", "oscars_yearly")
SENSOR_NAMES = (
    "catalog_backfill",
    "tmdb_changes",
    "omdb_backlog",
    "oscars_source_changed",
    "movies_freshness",
    "catalog_progress_after_sync",
    "tmdb_catalog_sync",
)
#: How often a stand-in reports its setting's error (it does nothing else).
STAND_IN_INTERVAL_SECONDS = 300


def _check_names(switched_off: frozenset[str]) -> None:
    unknown = set(switched_off) - set(SCHEDULE_NAMES) - set(SENSOR_NAMES) - {"all"}
    if unknown:
        raise SettingError(
            f"CINEGRAPH_AUTOMATION_OFF names {', '.join(sorted(unknown))}, which is no schedule or "
            f"sensor; use names from {', '.join(SCHEDULE_NAMES + SENSOR_NAMES)}, or `all`."
        )


def _automation(switched_off: frozenset[str], changes_interval_seconds: int):
    """(schedules, sensors) by name, the ones in `switched_off` starting switched off."""

    def off(name: str) -> bool:
        return "all" in switched_off or name in switched_off

    def schedule_status(name: str) -> dg.DefaultScheduleStatus:
        return dg.DefaultScheduleStatus.STOPPED if off(name) else dg.DefaultScheduleStatus.RUNNING

    def sensor_status(name: str) -> dg.DefaultSensorStatus:
        return dg.DefaultSensorStatus.STOPPED if off(name) else dg.DefaultSensorStatus.RUNNING

    schedules = {
        "daily_sync": daily_sync_schedule(schedule_status("daily_sync")),
        "oscars_yearly": oscars_yearly_schedule(schedule_status("oscars_yearly")),
    }
    sensors = {
        "catalog_backfill": catalog_backfill_sensor(sensor_status("catalog_backfill")),
        "tmdb_changes": tmdb_changes_sensor(sensor_status("tmdb_changes"), changes_interval_seconds),
        "omdb_backlog": omdb_backlog_sensor(sensor_status("omdb_backlog")),
        "oscars_source_changed": oscars_source_sensor(sensor_status("oscars_source_changed")),
        "movies_freshness": freshness_sensor(sensor_status("movies_freshness")),
        "catalog_progress_after_sync": catalog_progress_sensor(sensor_status("catalog_progress_after_sync")),
        "tmdb_catalog_sync": tmdb_catalog_sensor(sensor_status("tmdb_catalog_sync")),
    }
    return schedules, sensors


def _definitions(schedules: dict, sensors: dict) -> dg.Definitions:
    return dg.Definitions(
        jobs=list(ALL_JOBS),
        asset_checks=[movies_current_year_freshness],
        schedules=[schedules[name] for name in SCHEDULE_NAMES],
        sensors=[sensors[name] for name in SENSOR_NAMES],
    )


def build_defs(switched_off: frozenset[str] = frozenset(), changes_interval_seconds: int = 300):
    """The room's Definitions with the given names starting switched off (unknown names refused)."""
    _check_names(switched_off)
    return _definitions(*_automation(switched_off, changes_interval_seconds))


def _stand_in_sensor(real: dg.SensorDefinition, error: str) -> dg.SensorDefinition:
    """A sensor named like `real` that launches nothing and fails every tick with `error`."""

    @dg.sensor(name=real.name, minimum_interval_seconds=STAND_IN_INTERVAL_SECONDS,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description=f"Not running: {error} Fix the setting and reload the code location.")
    def stand_in(_context: dg.SensorEvaluationContext):
        raise SettingError(error)

    return stand_in


def _stand_in_schedule(real: dg.ScheduleDefinition, error: str) -> dg.ScheduleDefinition:
    """A schedule named like `real` (same cron and job) that fails every tick with `error`."""

    @dg.schedule(name=real.name, cron_schedule=real.cron_schedule, execution_timezone="UTC",
                 job=real.job, default_status=dg.DefaultScheduleStatus.RUNNING,
                 description=f"Not running: {error} Fix the setting and reload the code location.")
    def stand_in(_context: dg.ScheduleEvaluationContext):
        raise SettingError(error)

    return stand_in


def defs_from_settings(environ: Mapping[str, str] | None = None) -> dg.Definitions:
    """The room's Definitions as CINEGRAPH_AUTOMATION_OFF and TMDB_CHANGES_INTERVAL_SECONDS ask,
    with stand-ins reporting a malformed value instead of raising (see the module docstring)."""
    off_error = interval_error = None
    switched_off: frozenset[str] = frozenset()
    try:
        switched_off = setting("CINEGRAPH_AUTOMATION_OFF", environ=environ)
        _check_names(switched_off)
    except SettingError as exc:
        off_error, switched_off = str(exc), frozenset()
    try:
        interval = setting("TMDB_CHANGES_INTERVAL_SECONDS", environ=environ)
    except SettingError as exc:
        interval_error, interval = str(exc), SETTINGS["TMDB_CHANGES_INTERVAL_SECONDS"].default
    schedules, sensors = _automation(switched_off, interval)
    if off_error is not None:
        schedules = {name: _stand_in_schedule(s, off_error) for name, s in schedules.items()}
        sensors = {name: _stand_in_sensor(s, off_error) for name, s in sensors.items()}
    elif interval_error is not None:
        sensors["tmdb_changes"] = _stand_in_sensor(sensors["tmdb_changes"], interval_error)
    return _definitions(schedules, sensors)
