"""tmdb_changes: reads TMDb's /movie/changes feed and re-syncs exactly the imported years whose
movies changed.

Reading the feed (pages, windows, the time budget) and looking up the year of unknown ids are the
TMDb room's (tmdb/changes.py); this module decides what a tick reads, which years to re-sync and
what waits in the cursor for the next tick.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone

import dagster as dg

from cinegraph_assets import clock
from cinegraph_assets.asset_keys import MOVIES
from cinegraph_assets.automation.jobs import TRIGGER_TAG, tmdb_year_import_job
from cinegraph_assets.instance_history import active_years, materialized_years
from cinegraph_assets.partitions import partition_year_range
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.settings import setting
from cinegraph_assets.tmdb import changes as changes_feed
from cinegraph_assets.tmdb.changes import FeedPosition
from cinegraph_assets.tmdb.client import TMDbAuthError, TMDbError
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets.warehouse import data_checks, details_queue, discovery

#: Changed ids the warehouse does not know are looked up (one light /movie/{id} each) to learn their
#: year; at most this many per tick, newest ids first (see tmdb_changes).
MAX_UNKNOWN_LOOKUPS_PER_TICK = 300
#: The sensor's requests give up sooner than a run's: a tick has a minute, and the next tick (or the
#: next lookup) tries again anyway.
SENSOR_MAX_RETRIES = 2
SENSOR_BACKOFF_MAX_SECONDS = 4.0
#: An unknown id whose lookup keeps failing is tried on this many ticks, then left to the daily
#: sync and the backfill.
MAX_LOOKUP_ATTEMPTS = 5
#: Unknown ids waiting for a lookup on a later tick (newest kept). Ticks run every few minutes and
#: each looks up a few hundred, so the backlog drains within the hour even after a week's outage;
#: past this many, the oldest ids (almost all of years never imported) are left to the backfill.
MAX_LOOKUP_BACKLOG = 20_000


@dataclass
class ChangesCursor:
    """The tmdb_changes sensor's cursor."""

    read_through: str | None = None  # last day (YYYY-MM-DD) whose changes were fully read
    window_end: str | None = None  # the window being read when a tick stopped mid-way (its last day)
    next_page: int = 1  # ...and the page the next tick reads first
    pending_years: list[int] = field(default_factory=list)  # changed years waiting for a running run
    lookup_retries: dict[str, int] = field(default_factory=dict)  # unknown id -> failed lookups so far
    lookup_backlog: list[int] = field(default_factory=list)  # unknown ids beyond a tick's lookup cap
    last_read: dict = field(default_factory=dict)  # what the last reading tick saw (for a person)

    @classmethod
    def parse(cls, raw: str | None) -> "ChangesCursor":
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(
            read_through=data.get("read_through"),
            window_end=data.get("window_end"),
            next_page=int(data.get("next_page") or 1),
            pending_years=[int(y) for y in data.get("pending_years", [])],
            lookup_retries={str(k): int(v) for k, v in (data.get("lookup_retries") or {}).items()},
            lookup_backlog=[int(i) for i in data.get("lookup_backlog") or []],
            last_read=dict(data.get("last_read") or {}),
        )

    @property
    def read_through_date(self) -> date | None:
        return date.fromisoformat(self.read_through) if self.read_through else None

    def position(self, read_through: date) -> FeedPosition:
        """Where the next read starts (the window in progress only if it follows `read_through`)."""
        if self.window_end and self.read_through == read_through.isoformat():
            return FeedPosition(read_through, date.fromisoformat(self.window_end), self.next_page)
        return FeedPosition(read_through)

    def at(self, position: FeedPosition) -> None:
        self.read_through = position.read_through.isoformat()
        self.window_end = position.window_end.isoformat() if position.window_end else None
        self.next_page = position.next_page

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


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
                ids = discovery.discovered_ids(conn, year) | data_checks.year_movie_ids(conn, year)
                details_queue.mark_changed(conn, sorted(ids), now)
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

        try:
            read = changes_feed.read_changes(changes_feed.changes_page_fetcher(client),
                                             new_cursor.position(new_cursor.read_through_date), yesterday)
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
            known_years = details_queue.years_of_movies(conn, ids)
            known_meanwhile = details_queue.years_of_movies(conn, sorted(waiting))  # a re-sync found them
        # Adult ids the warehouse does not know: discovery would leave them out, so a lookup (and a
        # re-sync of their year) would be spent for nothing. A known one is followed like any other.
        unknown = sorted((i for i in ids if i not in known_years and i not in skipped_adult), reverse=True)
        # Newest first: new movies have the highest ids. What the cap leaves waits for the next tick.
        queue = sorted((set(unknown) | waiting) - set(known_years) - set(known_meanwhile), reverse=True)
        to_look_up = queue[:MAX_UNKNOWN_LOOKUPS_PER_TICK]
        lookups = changes_feed.look_up_years(client.get, to_look_up)
    with warehouse.engine.begin() as conn:
        marked = details_queue.mark_changed(conn, ids, now)

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
