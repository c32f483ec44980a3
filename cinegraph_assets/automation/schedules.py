"""The schedules: the daily sync of the recent years, and the yearly Oscar reload after the ceremony."""

from __future__ import annotations

import dagster as dg

from cinegraph_assets.automation.jobs import TRIGGER_TAG, catalog_year_sync_job, oscar_nominations_job

DAILY_SYNC_CRON = "0 2 * * *"  # 02:00 UTC, after TMDb's daily ID export and the OMDb quota reset
OSCARS_YEARLY_CRON = "0 6 1 4 *"  # April 1, 06:00 UTC: the ceremony (February/March) is over


def daily_sync_schedule(default_status: dg.DefaultScheduleStatus) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_sync",
        cron_schedule=DAILY_SYNC_CRON,
        execution_timezone="UTC",
        job=catalog_year_sync_job,
        default_status=default_status,
        description=(
            "Every day at 02:00 UTC: syncs the current and the previous release year (where new "
            "releases and most changes land): TMDb discovery, details and movies, then OMDb ratings "
            "and Oscar nominations. One run per year; the run key (date and year) means a tick "
            "evaluated twice never starts a second run."
        ),
    )
    def daily_sync(context: dg.ScheduleEvaluationContext):
        scheduled = context.scheduled_execution_time
        day = scheduled.date().isoformat()
        for year in (scheduled.year, scheduled.year - 1):
            yield dg.RunRequest(
                partition_key=str(year),
                run_key=f"daily_sync:{day}:{year}",
                tags={TRIGGER_TAG: "daily_sync"},
            )

    return daily_sync


def oscars_yearly_schedule(default_status: dg.DefaultScheduleStatus) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="oscars_yearly",
        cron_schedule=OSCARS_YEARLY_CRON,
        execution_timezone="UTC",
        job=oscar_nominations_job,
        default_status=default_status,
        description=(
            "April 1, after the Academy Awards ceremony: reloads the nominations of the film year "
            "the ceremony honoured (the previous calendar year) and matches them to movies."
        ),
    )
    def oscars_yearly(context: dg.ScheduleEvaluationContext):
        film_year = context.scheduled_execution_time.year - 1
        return dg.RunRequest(
            partition_key=str(film_year),
            run_key=f"oscars_yearly:{film_year}",
            tags={TRIGGER_TAG: "oscars_yearly"},
        )

    return oscars_yearly
