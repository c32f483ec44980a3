"""catalog_backfill: imports the years never imported, newest first, CATALOG_BACKFILL_YEARS_PER_DAY a
day, at most two runs at a time. The plan (which years, what the cursor remembers) is backfill.py's,
plain Python; this module reads the instance and turns the plan into run requests.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from cinegraph_assets import clock
from cinegraph_assets.asset_keys import MOVIES
from cinegraph_assets.automation.backfill import BackfillCursor, plan_backfill
from cinegraph_assets.automation.jobs import TRIGGER_TAG, tmdb_year_import_job
from cinegraph_assets.instance_history import active_years, materialized_years, year_run_history
from cinegraph_assets.partitions import partition_year_range
from cinegraph_assets.settings import setting

BACKFILL_INTERVAL_SECONDS = 60
#: Backfill runs queued or running at once: years import one after another, and the daily sync
#: never waits behind a queue of old years.
MAX_BACKFILL_RUNS_IN_FLIGHT = 2


def catalog_backfill_sensor(default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    @dg.sensor(
        name="catalog_backfill",
        job=tmdb_year_import_job,
        minimum_interval_seconds=BACKFILL_INTERVAL_SECONDS,
        default_status=default_status,
        description=(
            "Imports the years never imported, newest first (the current year back to 1874), "
            "CATALOG_BACKFILL_YEARS_PER_DAY per UTC day (at most two runs at a time), never two runs "
            "for the same year at once. "
            "The cursor shows the day, the years started that day, the next year and how many are "
            "left. Stops asking once every year is in."
        ),
    )
    def catalog_backfill(context: dg.SensorEvaluationContext):
        now = clock.utc_now()
        first_year, last_year = partition_year_range(now)
        instance = context.instance
        imported = materialized_years(instance, MOVIES)
        plan = plan_backfill(
            today=now.date(),
            first_year=first_year,
            last_year=last_year,
            imported=imported,
            running=active_years(instance),
            failed=year_run_history(instance).failed() - imported,
            cursor=BackfillCursor.parse(context.cursor),
            years_per_day=setting("CATALOG_BACKFILL_YEARS_PER_DAY"),
            in_flight=len(instance.get_runs(filters=dg.RunsFilter(
                tags={TRIGGER_TAG: "catalog_backfill"}, statuses=list(NOT_FINISHED_STATUSES)))),
            max_in_flight=MAX_BACKFILL_RUNS_IN_FLIGHT,
        )
        if not plan.years:
            return dg.SensorResult(skip_reason=plan.skip_reason, cursor=plan.cursor.to_json())
        context.log.info(
            f"Starting the import of {', '.join(map(str, plan.years))}; next: {plan.cursor.next_year}; "
            f"{plan.cursor.years_left} year(s) not imported yet."
        )
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    partition_key=str(year),
                    run_key=f"catalog_backfill:{plan.cursor.day}:{year}",
                    tags={TRIGGER_TAG: "catalog_backfill"},
                )
                for year in plan.years
            ],
            cursor=plan.cursor.to_json(),
        )

    return catalog_backfill
