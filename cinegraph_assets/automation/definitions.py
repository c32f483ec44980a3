"""Dagster definitions of the automation room (merged by cinegraph_assets.definitions).

Everything starts switched on, so `make run` shows the platform working by itself; each schedule
and sensor can be switched off in the UI, or before its first start with CINEGRAPH_AUTOMATION_OFF
(e.g. `daily_sync,tmdb_changes`, or `all`). These two settings are read when the code location
loads, because Dagster fixes a sensor's default status and interval in its definition.
"""

from __future__ import annotations

import dagster as dg

from cinegraph_assets.automation.freshness import freshness_sensor, movies_current_year_freshness
from cinegraph_assets.automation.jobs import ALL_JOBS
from cinegraph_assets.automation.schedules import daily_sync_schedule, oscars_yearly_schedule
from cinegraph_assets.automation.sensors import (
    catalog_backfill_sensor,
    catalog_progress_sensor,
    omdb_backlog_sensor,
    oscars_source_sensor,
    tmdb_changes_sensor,
)
from cinegraph_assets.settings import SettingError, setting

SCHEDULE_NAMES = ("daily_sync", "oscars_yearly")
SENSOR_NAMES = (
    "catalog_backfill",
    "tmdb_changes",
    "omdb_backlog",
    "oscars_source_changed",
    "movies_freshness",
    "catalog_progress_after_sync",
)


def build_defs(switched_off: frozenset[str] = frozenset(), changes_interval_seconds: int = 300):
    """The room's Definitions with the given names starting switched off."""
    unknown = set(switched_off) - set(SCHEDULE_NAMES) - set(SENSOR_NAMES) - {"all"}
    if unknown:
        raise SettingError(
            f"CINEGRAPH_AUTOMATION_OFF names {', '.join(sorted(unknown))}, which is no schedule or "
            f"sensor; use names from {', '.join(SCHEDULE_NAMES + SENSOR_NAMES)}, or `all`."
        )

    def off(name: str) -> bool:
        return "all" in switched_off or name in switched_off

    def schedule_status(name: str) -> dg.DefaultScheduleStatus:
        return dg.DefaultScheduleStatus.STOPPED if off(name) else dg.DefaultScheduleStatus.RUNNING

    def sensor_status(name: str) -> dg.DefaultSensorStatus:
        return dg.DefaultSensorStatus.STOPPED if off(name) else dg.DefaultSensorStatus.RUNNING

    return dg.Definitions(
        jobs=list(ALL_JOBS),
        asset_checks=[movies_current_year_freshness],
        schedules=[
            daily_sync_schedule(schedule_status("daily_sync")),
            oscars_yearly_schedule(schedule_status("oscars_yearly")),
        ],
        sensors=[
            catalog_backfill_sensor(sensor_status("catalog_backfill")),
            tmdb_changes_sensor(sensor_status("tmdb_changes"), changes_interval_seconds),
            omdb_backlog_sensor(sensor_status("omdb_backlog")),
            oscars_source_sensor(sensor_status("oscars_source_changed")),
            freshness_sensor(sensor_status("movies_freshness")),
            catalog_progress_sensor(sensor_status("catalog_progress_after_sync")),
        ],
    )


defs = build_defs(
    switched_off=setting("CINEGRAPH_AUTOMATION_OFF"),
    changes_interval_seconds=setting("TMDB_CHANGES_INTERVAL_SECONDS"),
)
