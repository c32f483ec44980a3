"""The sensors that keep the catalog complete and fresh without anyone clicking.

- catalog_backfill: imports the years never imported, newest first, CATALOG_BACKFILL_YEARS_PER_DAY a day.
- tmdb_changes: reads TMDb's /movie/changes feed and re-syncs exactly the years whose movies changed.
- omdb_backlog: after the OMDb quota resets, rates the pending movies, recent years first.
- oscars_source_changed: reloads the Oscar nominations when the upstream table changed.
- catalog_progress_after_sync: refreshes the catalog_progress table after every sync.

Each sensor is built by a function taking its default status, so definitions.py can start any of
them switched off (CINEGRAPH_AUTOMATION_OFF); the UI's switch overrides that once used. Every tick
that requests nothing returns a SkipReason saying why, in words meant for the person reading the UI.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from cinegraph_assets.automation import clock
from cinegraph_assets.automation.backfill import BackfillCursor, plan_backfill
from cinegraph_assets.automation.changes import (
    CHANGES_RETENTION_DAYS,
    ChangesCursor,
    read_changes,
    year_of_details,
)
from cinegraph_assets.automation.instance_state import (
    active_years,
    active_years_of_job,
    materialized_years,
    year_run_history,
)
from cinegraph_assets.automation.jobs import (
    CATALOG_PROGRESS,
    MOVIES,
    OMDB_RATINGS,
    OSCAR_NOMINATIONS,
    catalog_progress_job,
    catalog_year_sync_job,
    omdb_ratings_job,
    oscar_nominations_job,
    tmdb_year_import_job,
)
from cinegraph_assets.omdb.resource import OMDbResource
from cinegraph_assets.oscars.resource import OscarsSourceResource
from cinegraph_assets.oscars.source import OscarsSourceError, fetch_oscars_source
from cinegraph_assets.partitions import release_years
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.settings import setting
from cinegraph_assets.tmdb.client import NotFound, TMDbError
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets.warehouse import catalog, ratings

TRIGGER_TAG = "cinegraph/trigger"

BACKFILL_INTERVAL_SECONDS = 60
#: Backfill runs queued or running at once: years import one after another, and the daily sync
#: never waits behind a queue of old years.
MAX_BACKFILL_RUNS_IN_FLIGHT = 2
OMDB_BACKLOG_INTERVAL_SECONDS = 300
OSCARS_SOURCE_INTERVAL_SECONDS = 6 * 3600  # the upstream table changes a few times a year
PROGRESS_INTERVAL_SECONDS = 60
#: Changed ids the warehouse does not know are looked up (one light /movie/{id} each) to learn their
#: year; at most this many per tick, newest ids first (see tmdb_changes).
MAX_UNKNOWN_LOOKUPS_PER_TICK = 300
LOOKUP_WORKERS = 8


def partition_year_range(now: datetime) -> tuple[int, int]:
    """First and last release-year partition that exist at `now` (1874 .. the current year)."""
    keys = release_years.get_partition_keys(current_time=now)
    return int(keys[0]), int(keys[-1])


# --------------------------------------------------------------------------------- catalog_backfill


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


# ------------------------------------------------------------------------------------ tmdb_changes


def _first_import_day(instance: dg.DagsterInstance) -> date | None:
    """The UTC day of the first successful materialization of movies (any year)."""
    result = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=MOVIES), limit=1,
                                              ascending=True)
    if not result.records:
        return None
    return datetime.fromtimestamp(result.records[0].timestamp, tz=timezone.utc).date()


def _look_up_years(client, ids: list[int]) -> tuple[dict[int, int | None], int]:
    """Release year of each id from a plain /movie/{id} (no appended parts). 404: deleted, skipped.

    A few requests at once (the client is thread-safe and shares the instance's rate limit): one
    after another, 300 lookups at TMDb's ~150 ms latency would outlast the sensor tick.
    """

    def year_of(tmdb_id: int) -> int | None:
        body = client.get(f"/movie/{tmdb_id}")
        return None if isinstance(body, NotFound) else year_of_details(body)

    with ThreadPoolExecutor(max_workers=LOOKUP_WORKERS) as pool:
        years = dict(zip(ids, pool.map(year_of, ids)))
    return years, len(ids)


def tmdb_changes_sensor(
    default_status: dg.DefaultSensorStatus, minimum_interval_seconds: int = 300
) -> dg.SensorDefinition:
    @dg.sensor(
        name="tmdb_changes",
        job=tmdb_year_import_job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=(
            "Reads TMDb's /movie/changes from its cursor (the last UTC day fully read) to yesterday, "
            "in windows of at most 14 days and every page, marks the changed movies, and re-syncs "
            "only the years they belong to, so the details asset refetches exactly those movies."
        ),
    )
    def tmdb_changes(
        context: dg.SensorEvaluationContext, tmdb: TMDbResource, warehouse: WarehouseResource
    ):
        return evaluate_tmdb_changes(context, tmdb, warehouse)

    return tmdb_changes


def evaluate_tmdb_changes(
    context: dg.SensorEvaluationContext, tmdb: TMDbResource, warehouse: WarehouseResource
) -> dg.SensorResult:
    """One tick of tmdb_changes (see the module and the sensor's description).

    Unknown ids: a changed id the warehouse has never seen may be a new movie of a year we already
    imported. Its year cannot be known from the feed, so it is looked up with one light
    /movie/{id} request (at most MAX_UNKNOWN_LOOKUPS_PER_TICK, newest ids first). If its year is
    imported, that year is re-synced and its discovery picks the movie up as new; otherwise the
    backfill will import it with its year. Beyond the cap, the oldest unknown ids are left out: they
    are almost all movies of years not imported yet, and the daily sync's discovery of the current
    and previous year finds the new releases among them anyway.
    """
    now = clock.utc_now()
    instance = context.instance
    cursor = ChangesCursor.parse(context.cursor)
    yesterday = now.date() - timedelta(days=1)
    first_year, last_year = partition_year_range(now)
    imported = materialized_years(instance, MOVIES)
    running = active_years(instance)

    read_through = cursor.read_through_date
    if read_through is None:
        start = setting("TMDB_CHANGES_START_DATE") or (
            (_first_import_day(instance) - timedelta(days=1)) if imported else None
        )
        if start is None:
            return dg.SensorResult(skip_reason=(
                "No year has been imported yet: the changes feed is read from the day before the "
                "first import (set TMDB_CHANGES_START_DATE to start elsewhere)."
            ))
        read_through = start - timedelta(days=1)

    requests: dict[int, str] = {}  # year -> run key
    # Years that changed while a run of theirs was going: requested now if that run is over.
    still_pending = []
    for year in cursor.pending_years:
        if year in running:
            still_pending.append(year)
        else:
            requests[year] = f"tmdb_changes:pending:{cursor.read_through}:{year}"

    new_cursor = ChangesCursor(read_through=read_through.isoformat(), last_read=cursor.last_read)
    messages: list[str] = []
    if read_through >= yesterday:
        messages.append(
            f"Changes are read through {read_through} (UTC); {now.date()} is read once the day is over."
        )
    elif (yesterday - read_through).days > CHANGES_RETENTION_DAYS:
        # Too far behind to trust the feed: refresh every imported year in full instead.
        message = (
            f"The changes cursor ({read_through}) is {(yesterday - read_through).days} days back, "
            f"further than the {CHANGES_RETENTION_DAYS} days TMDb is trusted to keep changes: "
            f"falling back to a full refresh of the {len(imported)} imported year(s)."
        )
        context.log.warning(message)
        messages.append(message)
        with warehouse.engine.begin() as conn:
            for year in sorted(imported):
                ids = catalog.discovered_ids(conn, year) | catalog.year_movie_ids(conn, year)
                catalog.mark_changed(conn, sorted(ids), now)
        for year in imported:
            if year in running:
                still_pending.append(year)
            else:
                requests.setdefault(year, f"tmdb_changes:full_refresh:{yesterday}:{year}")
        new_cursor.read_through = yesterday.isoformat()
        new_cursor.last_read = {"full_refresh_at": now.isoformat(), "years": len(imported)}
    else:
        with tmdb.client(warehouse_url=warehouse.url) as client:

            def fetch_page(start: date, end: date, page: int) -> dict:
                body = client.get("/movie/changes", {"start_date": start.isoformat(),
                                                     "end_date": end.isoformat(), "page": page})
                if isinstance(body, NotFound):
                    raise TMDbError("TMDb answered 404 for /movie/changes")
                return body

            read = read_changes(fetch_page, read_through, yesterday)
            ids = sorted(read.changed)
            with warehouse.engine.connect() as conn:
                known_years = catalog.years_of_movies(conn, ids)
            unknown = sorted((i for i, y in known_years.items() if y is None), reverse=True)
            looked_up, lookups = _look_up_years(client, unknown[:MAX_UNKNOWN_LOOKUPS_PER_TICK])
        with warehouse.engine.begin() as conn:
            marked = catalog.mark_changed(conn, ids, now)
        years_known = {y for y in known_years.values() if y is not None}
        years_new = {y for y in looked_up.values() if y is not None and y in imported}
        changed_years = {y for y in years_known | years_new if first_year <= y <= last_year}
        span = f"{read.first_day}..{read.last_day}"
        for year in sorted(changed_years, reverse=True):
            if year in running:
                still_pending.append(year)
            else:
                requests.setdefault(year, f"tmdb_changes:{span}:{year}")
        new_cursor.read_through = read.last_day.isoformat()
        new_cursor.last_read = {
            "days": span, "pages": read.pages, "changed_ids": len(ids), "marked": marked,
            "unknown_ids": len(unknown), "looked_up": lookups, "years": len(changed_years),
        }
        summary = (
            f"Read {span}: {read.pages} page(s), {len(ids)} changed id(s), {marked} known; "
            f"{len(unknown)} unknown, {lookups} looked up ({len(years_new)} new in imported years); "
            f"{len(changed_years)} year(s) to re-sync."
        )
        if len(unknown) > lookups:
            summary += (f" {len(unknown) - lookups} unknown id(s) beyond the lookup cap were left to "
                        "the backfill and the daily sync.")
        context.log.info(summary)
        messages.append(summary)
        if read.stopped_early:
            messages.append("Stopped early to stay within the tick's time budget; continuing next tick.")
        if read.error:
            context.log.warning(f"Reading changes stopped at {read.error}; retrying next tick.")
            messages.append(f"Stopped at {read.error}; retrying next tick.")

    new_cursor.pending_years = sorted(set(still_pending), reverse=True)
    if still_pending:
        messages.append(
            f"Year(s) {', '.join(map(str, new_cursor.pending_years))} changed while a run of theirs "
            "is going; requested once it ends."
        )
    run_requests = [
        dg.RunRequest(partition_key=str(year), run_key=key, tags={TRIGGER_TAG: "tmdb_changes"})
        for year, key in sorted(requests.items(), reverse=True)
    ]
    if run_requests:
        return dg.SensorResult(run_requests=run_requests, cursor=new_cursor.to_json())
    if not messages or messages[-1].startswith("Read "):
        messages.append("No imported year has changed movies: nothing to re-sync.")
    return dg.SensorResult(skip_reason=" ".join(messages), cursor=new_cursor.to_json())


# ------------------------------------------------------------------------------------ omdb_backlog


def omdb_backlog_sensor(default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    @dg.sensor(
        name="omdb_backlog",
        job=omdb_ratings_job,
        minimum_interval_seconds=OMDB_BACKLOG_INTERVAL_SECONDS,
        default_status=default_status,
        description=(
            "Once the OMDb quota has reset (UTC midnight), requests omdb_ratings runs for the years "
            "with movies waiting for ratings, most recent year first, as many as the day's "
            "remaining quota (OMDB_DAILY_LIMIT minus the ledger) can serve."
        ),
    )
    def omdb_backlog(
        context: dg.SensorEvaluationContext, warehouse: WarehouseResource, omdb: OMDbResource
    ):
        settings = omdb.settings()
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


# -------------------------------------------------------------------------- oscars_source_changed


def _last_loaded_sha(instance: dg.DagsterInstance) -> str | None:
    """The source sha256 the latest oscar_nominations materialization read."""
    result = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=OSCAR_NOMINATIONS),
                                              limit=1)
    if not result.records:
        return None
    materialization = result.records[0].asset_materialization
    value = materialization.metadata.get("source_sha256") if materialization else None
    return getattr(value, "value", value)


def oscars_source_sensor(default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    @dg.sensor(
        name="oscars_source_changed",
        job=oscar_nominations_job,
        minimum_interval_seconds=OSCARS_SOURCE_INTERVAL_SECONDS,
        default_status=default_status,
        description=(
            "Asks the Oscar source whether it changed (conditional GET with ETag/Last-Modified, "
            "then the content's sha256) and, when it did, reloads the nominations of every film "
            "year in one run."
        ),
    )
    def oscars_source_changed(
        context: dg.SensorEvaluationContext, oscars_source: OscarsSourceResource
    ):
        # A cache of its own: sharing the asset's would make the next run report "unchanged".
        state_dir = Path(oscars_source.resolved_state_dir()) / "oscars_source_sensor"
        try:
            snapshot = fetch_oscars_source(oscars_source.resolved_source(), state_dir)
        except OscarsSourceError as exc:
            raise dg.Failure(description=str(exc)) from None
        previous = json.loads(context.cursor) if context.cursor else {}
        baseline = previous.get("sha256") or _last_loaded_sha(context.instance)
        cursor = json.dumps({"sha256": snapshot.sha256, "status": snapshot.status,
                             "checked_at": clock.utc_now().isoformat(timespec="seconds")})
        if snapshot.error:
            context.log.warning(f"Oscar source unreachable, cached copy used: {snapshot.error}")
        if baseline is None:
            return dg.SensorResult(cursor=cursor, skip_reason=(
                f"Oscar nominations were never loaded; each year's sync loads them. Watching "
                f"{snapshot.source} from now on (sha256 {snapshot.sha256[:12]})."
            ))
        if baseline == snapshot.sha256:
            return dg.SensorResult(cursor=cursor, skip_reason=(
                f"The Oscar source is unchanged (sha256 {snapshot.sha256[:12]}, {snapshot.status})"
                + (f"; the server could not be reached: {snapshot.error}" if snapshot.error else "")
                + "."
            ))
        table = oscars_source.parse(snapshot)
        first_year, last_year = partition_year_range(clock.utc_now())
        years = sorted({n.film_year for n in table.nominations if first_year <= n.film_year <= last_year})
        if not years:
            return dg.SensorResult(cursor=cursor, skip_reason="The Oscar source changed but names "
                                   "no film year inside the catalog's partitions.")
        context.log.info(f"Oscar source changed ({baseline[:12]} -> {snapshot.sha256[:12]}): "
                         f"reloading film years {years[0]}..{years[-1]}")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(
                run_key=f"oscars_source:{snapshot.sha256[:16]}",
                tags={
                    "dagster/asset_partition_range_start": str(years[0]),
                    "dagster/asset_partition_range_end": str(years[-1]),
                    TRIGGER_TAG: "oscars_source_changed",
                },
            )],
            cursor=cursor,
        )

    return oscars_source_changed


# -------------------------------------------------------------------- catalog_progress_after_sync


def catalog_progress_sensor(default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    @dg.sensor(
        name="catalog_progress_after_sync",
        job=catalog_progress_job,
        minimum_interval_seconds=PROGRESS_INTERVAL_SECONDS,
        default_status=default_status,
        description=(
            "Refreshes catalog_progress after new materializations of movies, omdb_ratings or "
            "oscar_nominations (at most once a minute), and once at the start so the table exists."
        ),
    )
    def catalog_progress_after_sync(context: dg.SensorEvaluationContext):
        instance = context.instance
        seen = int(context.cursor) if context.cursor else 0
        latest = seen
        for key in (MOVIES, OMDB_RATINGS, OSCAR_NOMINATIONS):
            result = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, after_storage_id=seen or None), limit=1
            )
            if result.records:
                latest = max(latest, result.records[0].storage_id)
        never_built = not instance.fetch_materializations(CATALOG_PROGRESS, limit=1).records
        if latest == seen and not never_built:
            return dg.SkipReason("No sync has finished since catalog_progress was last refreshed.")
        if instance.get_runs(
            filters=dg.RunsFilter(job_name=catalog_progress_job.name,
                                  statuses=list(NOT_FINISHED_STATUSES)),
            limit=1,
        ):
            return dg.SkipReason("A catalog_progress refresh is already running; the next tick "
                                 "picks up what finished meanwhile.")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=f"catalog_progress:{latest}",
                                        tags={TRIGGER_TAG: "catalog_progress_after_sync"})],
            cursor=str(latest),
        )

    return catalog_progress_after_sync
