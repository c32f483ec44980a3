"""omdb_backlog: after the OMDb quota resets, rates the pending movies, recent years first, as many
years as the day's remaining quota can serve."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import dagster as dg

from cinegraph_assets.automation.jobs import TRIGGER_TAG, catalog_year_sync_job, omdb_ratings_job
from cinegraph_assets.instance_history import active_years_of_job
from cinegraph_assets.omdb.resource import OMDbResource
from cinegraph_assets.partitions import partition_year_range
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.warehouse import ratings

OMDB_BACKLOG_INTERVAL_SECONDS = 300


def omdb_backlog_sensor(default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    @dg.sensor(
        name="omdb_backlog",
        job=omdb_ratings_job,
        minimum_interval_seconds=OMDB_BACKLOG_INTERVAL_SECONDS,
        default_status=default_status,
        description=(
            "Once the OMDb quota has reset (UTC midnight), requests omdb_ratings runs for the years "
            "with movies waiting for ratings, most recent year first, as many as the day's "
            "remaining quota (OMDB_DAILY_LIMIT minus the ledger) can serve. Refreshes "
            "(OMDB_REFRESH_DAYS) count only once no movie of any year waits for its first rating."
        ),
    )
    def omdb_backlog(
        context: dg.SensorEvaluationContext, warehouse: WarehouseResource, omdb: OMDbResource
    ):
        settings = omdb.resolved()
        now = omdb.now()  # follows OMDB_CLOCK_OFFSET_DAYS, like the quota ledger
        day = now.date().isoformat()
        previous = json.loads(context.cursor) if context.cursor else {}
        requested_today = [int(y) for y in previous.get("requested_today", [])] \
            if previous.get("day") == day else []
        with warehouse.engine.connect() as conn:
            used = ratings.omdb_requests_used(conn, now.date())
            pending = ratings.pending_years(conn, now, settings.refresh_days)
        remaining = max(0, settings.daily_limit - used)
        pending_by_year = dict(pending)
        running = active_years_of_job(context.instance, omdb_ratings_job.name) | \
            active_years_of_job(context.instance, catalog_year_sync_job.name)
        # Runs requested today that have not finished will still spend quota on their movies.
        committed = sum(pending_by_year.get(y, 0) for y in requested_today if y in running)
        budget = remaining - committed
        first_year, last_year = partition_year_range(datetime.now(timezone.utc))
        chosen: list[int] = []
        for year, count in pending:  # most recent first
            if budget <= 0:
                break
            if year in requested_today or year in running or not first_year <= year <= last_year:
                continue
            chosen.append(year)
            budget -= count
        cursor = json.dumps({
            "day": day, "requested_today": requested_today + chosen, "quota_used": used,
            "quota_limit": settings.daily_limit, "pending_movies": sum(pending_by_year.values()),
        }, sort_keys=True)
        if chosen:
            context.log.info(
                f"OMDb quota left today: {remaining}; requesting {', '.join(map(str, chosen))} "
                f"({sum(pending_by_year[y] for y in chosen)} pending movie(s))."
            )
            return dg.SensorResult(
                run_requests=[
                    dg.RunRequest(partition_key=str(y), run_key=f"omdb_backlog:{day}:{y}",
                                  tags={TRIGGER_TAG: "omdb_backlog"})
                    for y in chosen
                ],
                cursor=cursor,
            )
        reset_in = (datetime.combine(now.date() + timedelta(days=1), datetime.min.time(),
                                     tzinfo=timezone.utc) - now)
        if not pending:
            reason = "No movie is waiting for OMDb ratings."
        elif remaining <= 0:
            reason = (f"The OMDb quota of {day} is spent ({used}/{settings.daily_limit} requests); "
                      f"it resets at 00:00 UTC, in {reset_in.total_seconds() / 3600:.1f} h. "
                      f"{sum(pending_by_year.values())} movie(s) wait.")
        elif budget <= 0:
            reason = (f"Runs requested today ({', '.join(map(str, requested_today))}) will use the "
                      f"{remaining} requests left of today's OMDb quota.")
        else:
            reason = (f"Every year with pending movies ({len(pending)}) was already requested today "
                      "or is running; the rest waits for tomorrow's quota.")
        return dg.SensorResult(skip_reason=reason, cursor=cursor)

    return omdb_backlog
