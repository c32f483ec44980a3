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
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from cinegraph_assets.asset_keys import CATALOG_PROGRESS, MOVIES, OMDB_RATINGS, OSCAR_NOMINATIONS
from cinegraph_assets.automation import clock
from cinegraph_assets.automation.backfill import BackfillCursor, plan_backfill
from cinegraph_assets.automation.changes import MAX_LOOKUP_ATTEMPTS, MAX_LOOKUP_BACKLOG, ChangesCursor
from cinegraph_assets.automation.instance_state import (
    active_years,
    active_years_of_job,
    materialized_years,
    year_run_history,
)
from cinegraph_assets.automation.jobs import (
    TRIGGER_TAG,
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
from cinegraph_assets.tmdb import changes as changes_feed
from cinegraph_assets.tmdb.client import NotFound, TMDbAuthError, TMDbError
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets.warehouse import catalog, ratings

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
#: The sensor's requests give up sooner than a run's: a tick has a minute, and the next tick (or the
#: next lookup) tries again anyway.
SENSOR_MAX_RETRIES = 2
SENSOR_BACKOFF_MAX_SECONDS = 4.0


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


def tmdb_changes_sensor(
    default_status: dg.DefaultSensorStatus, minimum_interval_seconds: int = 300
) -> dg.SensorDefinition:
    @dg.sensor(
        name="tmdb_changes",
        job=tmdb_year_import_job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=(
            "Reads TMDb's /movie/changes from its cursor (the last UTC day fully read, and the page "
            "reached in the window being read) to yesterday, every page, as far as a tick's time "
            "budget allows; marks the changed movies and re-syncs only the imported years they "
            "belong to, so the details asset refetches exactly those movies. Unknown ids are looked "
            "up (a few hundred a tick, the rest wait in the cursor) to find new movies of imported years."
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

    Reading: page by page from the cursor's position, within changes_feed.TICK_BUDGET_SECONDS; a
    tick may stop mid-window and the next one goes on from there (the ids read so far are acted on
    now). Only years that were imported are re-synced: a changed movie whose year was never
    imported is the backfill's to import with that year.

    Unknown ids: a changed id the warehouse has never seen may be a new movie of a year we already
    imported. Its year cannot be known from the feed, so it is looked up with one light
    /movie/{id} request (at most MAX_UNKNOWN_LOOKUPS_PER_TICK, newest ids first; adult ids are
    skipped unless TMDB_INCLUDE_ADULT, as discovery would leave them out). If its year is imported,
    that year is re-synced and its discovery picks the movie up as new; otherwise the backfill will
    import it with its year. A lookup that fails is tried again on the next ticks (at most
    MAX_LOOKUP_ATTEMPTS), never holding up the rest. Beyond the cap, the older unknown ids wait in
    the cursor for the next ticks (at most MAX_LOOKUP_BACKLOG): one of them may be an old movie
    whose date moved into an imported year, which no other path would bring in.
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

    new_cursor = ChangesCursor(last_read=cursor.last_read, lookup_retries=dict(cursor.lookup_retries))
    new_cursor.at(cursor.position(read_through))
    messages: list[str] = []

    def full_refresh(why: str) -> None:
        """Refresh every imported year in full (every id marked changed): nothing can be missed."""
        context.log.warning(why)
        messages.append(why)
        with warehouse.engine.begin() as conn:
            for year in sorted(imported):
                ids = catalog.discovered_ids(conn, year) | catalog.year_movie_ids(conn, year)
                catalog.mark_changed(conn, sorted(ids), now)
        for year in imported:
            if year in running:
                still_pending.append(year)
            else:
                requests[year] = f"tmdb_changes:full_refresh:{yesterday}:{year}"

    if read_through >= yesterday and not (cursor.lookup_backlog or cursor.lookup_retries):
        messages.append(
            f"Changes are read through {read_through} (UTC); {now.date()} is read once the day is over."
        )
    elif (yesterday - read_through).days > changes_feed.CHANGES_RETENTION_DAYS:
        # Too far behind to trust the feed: refresh every imported year in full instead.
        full_refresh(
            f"The changes cursor ({read_through}) is {(yesterday - read_through).days} days back, "
            f"further than the {changes_feed.CHANGES_RETENTION_DAYS} days TMDb is trusted to keep "
            f"changes: falling back to a full refresh of the {len(imported)} imported year(s).")
        new_cursor.at(changes_feed.FeedPosition(yesterday))
        new_cursor.lookup_retries, new_cursor.lookup_backlog = {}, []
        new_cursor.last_read = {"full_refresh_at": now.isoformat(), "years": len(imported)}
    else:
        _read_changes_tick(context, tmdb, warehouse, cursor, new_cursor, now, yesterday, imported,
                           (first_year, last_year), running, requests, still_pending, messages,
                           full_refresh)

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


def _read_changes_tick(context, tmdb, warehouse, cursor, new_cursor, now, yesterday, imported,
                       year_range, running, requests, still_pending, messages, full_refresh) -> None:
    """Read what the budget allows, mark the changed movies, and choose the years to re-sync."""
    include_adult = tmdb.resolved().include_adult
    with tmdb.client(warehouse_url=warehouse.url) as client:
        client.max_retries = min(client.max_retries, SENSOR_MAX_RETRIES)
        client.backoff_max_seconds = min(client.backoff_max_seconds, SENSOR_BACKOFF_MAX_SECONDS)

        def fetch_page(start: date, end: date, page: int) -> dict:
            body = client.get("/movie/changes", {"start_date": start.isoformat(),
                                                 "end_date": end.isoformat(), "page": page})
            if isinstance(body, NotFound):
                raise TMDbError("TMDb answered 404 for /movie/changes")
            return body

        try:
            read = changes_feed.read_changes(
                fetch_page, new_cursor.position(new_cursor.read_through_date), yesterday)
        except TMDbAuthError:
            raise
        except TMDbError as exc:
            # Nothing read (an outage of the feed): the cursor stays where it is, and the years
            # waiting for a finished run are still requested.
            why = f"TMDb's changes feed did not answer ({exc}); reading resumes from " \
                  f"{new_cursor.read_through} on the next tick."
            context.log.warning(why)
            messages.append(why)
            return
        skipped_adult = {i for i, adult in read.changed.items() if adult is True and not include_adult}
        ids = sorted(read.changed)
        waiting = {int(i) for i in cursor.lookup_retries} | set(cursor.lookup_backlog)
        with warehouse.engine.connect() as conn:
            known_years = catalog.years_of_movies(conn, ids)
            known_meanwhile = catalog.years_of_movies(conn, sorted(waiting))  # a re-sync found them
        # Adult ids the warehouse does not know: discovery would leave them out, so a lookup (and a
        # re-sync of their year) would be spent for nothing. A known one is followed like any other.
        unknown = sorted((i for i in ids if i not in known_years and i not in skipped_adult), reverse=True)
        # Newest first: new movies have the highest ids. What the cap leaves waits for the next tick.
        queue = sorted((set(unknown) | waiting) - set(known_years) - set(known_meanwhile), reverse=True)
        to_look_up = queue[:MAX_UNKNOWN_LOOKUPS_PER_TICK]
        lookups = changes_feed.look_up_years(client.get, to_look_up)
    with warehouse.engine.begin() as conn:
        marked = catalog.mark_changed(conn, ids, now)

    new_cursor.lookup_retries = {}
    waiting_next = lookups.not_started + queue[MAX_UNKNOWN_LOOKUPS_PER_TICK:]
    new_cursor.lookup_backlog = waiting_next[:MAX_LOOKUP_BACKLOG]
    given_up = []
    for tmdb_id in lookups.failed:
        attempts = cursor.lookup_retries.get(str(tmdb_id), 0) + 1
        if attempts < MAX_LOOKUP_ATTEMPTS:
            new_cursor.lookup_retries[str(tmdb_id)] = attempts
        else:
            given_up.append(tmdb_id)
    first_year, last_year = year_range
    years_known = {y for years in known_years.values() for y in years}
    years_new = {y for y in lookups.years.values() if y is not None}
    # Only years already imported: a movie that moved into a year never imported waits for the
    # backfill to import that year whole (at its own pace), never through the back door here.
    changed_years = {y for y in years_known | years_new if first_year <= y <= last_year and y in imported}
    position = read.position
    span = (f"{read.first_day}..{position.read_through if position.window_end is None else position.window_end}"
            if read.first_day else f"nothing new after {position.read_through}")
    # Unique per tick that found something: a tick of lookups only, or one that stopped mid-window,
    # must not share a run key with another (the daemon drops a repeated key).
    run_key_part = span if read.first_day else f"lookups@{now.isoformat(timespec='seconds')}"
    if position.window_end:
        run_key_part += f":to-page-{position.next_page - 1}"
    for year in sorted(changed_years, reverse=True):
        if year in running:
            still_pending.append(year)
        else:
            requests.setdefault(year, f"tmdb_changes:{run_key_part}:{year}")
    new_cursor.at(position)
    new_cursor.last_read = {
        "days": span, "pages": read.pages, "changed_ids": len(ids), "marked": marked,
        "unknown_ids": len(unknown), "looked_up": len(to_look_up) - len(lookups.not_started),
        "lookup_failures": len(lookups.failed),
        "lookup_backlog": len(new_cursor.lookup_backlog),
        "adult_skipped": len(skipped_adult), "years": len(changed_years),
    }
    summary = (
        f"Read {span}" + (f" (to page {position.next_page - 1} of the window ending {position.window_end})"
                          if position.window_end else "")
        + f": {read.pages} page(s), {len(ids)} changed id(s), {marked} known; "
        f"{len(unknown)} unknown, {len(to_look_up) - len(lookups.not_started)} looked up "
        f"({len(years_new)} year(s) learned), "
        f"{len(skipped_adult)} adult id(s) skipped; {len(changed_years)} imported year(s) to re-sync."
    )
    if new_cursor.lookup_backlog:
        summary += (f" {len(new_cursor.lookup_backlog)} unknown id(s) beyond the lookup cap wait for "
                    "the next tick.")
    if len(waiting_next) > MAX_LOOKUP_BACKLOG:
        summary += (f" {len(waiting_next) - MAX_LOOKUP_BACKLOG} older unknown id(s) were left to the "
                    "backfill.")
    context.log.info(summary)
    messages.append(summary)
    if lookups.failed:
        context.log.warning(f"{len(lookups.failed)} lookup(s) failed "
                            f"({', '.join(sorted(set(lookups.failed.values())))}); tried again next tick"
                            + (f", except {len(given_up)} given up after {MAX_LOOKUP_ATTEMPTS} attempts"
                               if given_up else "") + ".")
    if read.stopped_early:
        messages.append("Stopped to stay within the tick's time budget; the next tick continues "
                        f"from page {position.next_page} of the window.")
    if read.error:
        context.log.warning(f"Reading changes stopped at {read.error}; retrying next tick.")
        messages.append(f"Stopped at {read.error}; retrying next tick.")
    if read.truncated_days:
        full_refresh(
            f"TMDb lists more than {changes_feed.MAX_PAGES_PER_QUERY} pages of changes for "
            f"{', '.join(map(str, read.truncated_days))}, more than it serves: the rest of that day "
            f"cannot be read, so the {len(imported)} imported year(s) are refreshed in full.")


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
            "remaining quota (OMDB_DAILY_LIMIT minus the ledger) can serve. Refreshes "
            "(OMDB_REFRESH_DAYS) count only once no movie of any year waits for its first rating."
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


def _reload_state(instance: dg.DagsterInstance, requested: dict | None) -> str | None:
    """What became of the reload the sensor requested: "loaded", "failed", "running" (also while
    the daemon has not launched it yet), or None when none was requested."""
    if not requested:
        return None
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/run_key": requested["run_key"]}), limit=1)
    if not runs or runs[0].status in NOT_FINISHED_STATUSES:
        return "running"
    return "loaded" if runs[0].status == dg.DagsterRunStatus.SUCCESS else "failed"


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
        # The baseline is what a run actually loaded: a reload that failed leaves it where it was,
        # so it is requested again (with a new run key) instead of being taken as done.
        baseline = previous.get("loaded_sha256", previous.get("sha256")) or _last_loaded_sha(context.instance)
        requested = previous.get("requested")
        reload_state = _reload_state(context.instance, requested)
        if reload_state == "loaded":
            baseline, requested = requested["sha256"], None

        def cursor_with(requested_now: dict | None) -> str:
            return json.dumps({"sha256": snapshot.sha256, "loaded_sha256": baseline,
                               "requested": requested_now, "status": snapshot.status,
                               "checked_at": clock.utc_now().isoformat(timespec="seconds")})

        if snapshot.error:
            context.log.warning(f"Oscar source unreachable, cached copy used: {snapshot.error}")
        if baseline is None:
            return dg.SensorResult(cursor=cursor_with(None), skip_reason=(
                f"Oscar nominations were never loaded; each year's sync loads them. Watching "
                f"{snapshot.source} from now on (sha256 {snapshot.sha256[:12]})."
            ))
        if baseline == snapshot.sha256:
            return dg.SensorResult(cursor=cursor_with(None), skip_reason=(
                f"The Oscar source is unchanged (sha256 {snapshot.sha256[:12]}, {snapshot.status})"
                + (f"; the server could not be reached: {snapshot.error}" if snapshot.error else "")
                + "."
            ))
        if reload_state == "running":
            return dg.SensorResult(cursor=cursor_with(requested), skip_reason=(
                f"The reload of the Oscar source (sha256 {requested['sha256'][:12]}) is under way."))
        table = oscars_source.parse(snapshot)
        first_year, last_year = partition_year_range(clock.utc_now())
        years = sorted({n.film_year for n in table.nominations if first_year <= n.film_year <= last_year})
        if not years:
            return dg.SensorResult(cursor=cursor_with(None), skip_reason="The Oscar source changed but "
                                   "names no film year inside the catalog's partitions.")
        attempt = requested["attempt"] + 1 if requested and requested["sha256"] == snapshot.sha256 else 1
        run_key = f"oscars_source:{snapshot.sha256[:16]}" + (f":attempt{attempt}" if attempt > 1 else "")
        context.log.info(f"Oscar source changed ({baseline[:12]} -> {snapshot.sha256[:12]}): "
                         f"reloading film years {years[0]}..{years[-1]}"
                         + (f" (attempt {attempt}: the last reload failed)" if attempt > 1 else ""))
        return dg.SensorResult(
            run_requests=[dg.RunRequest(
                run_key=run_key,
                tags={
                    "dagster/asset_partition_range_start": str(years[0]),
                    "dagster/asset_partition_range_end": str(years[-1]),
                    TRIGGER_TAG: "oscars_source_changed",
                },
            )],
            cursor=cursor_with({"sha256": snapshot.sha256, "run_key": run_key, "attempt": attempt}),
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
