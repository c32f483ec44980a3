"""tmdb_catalog_sync: TMDb's daily id export after it is published, then the gap fill, and more
gap-fill runs while the gap is not done.

TMDb publishes the day's export by about 08:00 UTC. From PUBLISHED_BY on, the `tmdb_catalog_sync`
sensor wants the export of today (before then, yesterday's): while the newest `tmdb_catalog_ids`
materialization holds an older export, it first asks TMDb (HEAD requests, as tmdb_catalog_ids
does) whether an export newer than the loaded one is published, from the wanted day back at most
FALLBACK_DAYS days. Only then does it launch `tmdb_catalog_sync` (tmdb_catalog_ids, then
tmdb_gap_movies, then the catalog_accounted_for check), at most once an hour. When TMDb is late or
skipped a day, tmdb_catalog_ids would fall back to the export already loaded: reloading 1.24
million lines and running a gap batch for nothing, every hour. Instead the tick skips, naming the
day loaded, the day wanted and the URL it asked; a request that fails skips too (the next tick asks
again). Once the export is current, a gap fill that stopped at its batch budget (`remaining` > 0
in its metadata) is continued by one `tmdb_gap_fill` run per finished gap materialization, so a
first fill of 100,000+ movies goes on by itself, one bounded run after another, within TMDB_MAX_RPS.

Why a sensor and not a cron schedule: a schedule fires once; this needs "after publication, until
loaded" and "again while unfinished", both decided from what the instance recorded.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import dagster as dg
import requests
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from cinegraph_assets import clock
from cinegraph_assets.asset_keys import TMDB_CATALOG_IDS, TMDB_GAP_MOVIES
from cinegraph_assets.automation.jobs import TRIGGER_TAG, tmdb_catalog_sync_job, tmdb_gap_fill_job
from cinegraph_assets.tmdb.id_export import (FALLBACK_DAYS, MOVIE_FILE, ExportError, export_url, newer_export_day,
                                             shown_url)
from cinegraph_assets.tmdb.resource import TMDbResource

#: TMDb's export is out by about 08:00 UTC; half an hour of margin.
PUBLISHED_BY = time(8, 30)
INTERVAL_SECONDS = 300

CATALOG_JOBS = (tmdb_catalog_sync_job, tmdb_gap_fill_job)


def export_day_wanted(now: datetime) -> date:
    """The newest export day TMDb should have published at `now`."""
    return now.date() if now.time() >= PUBLISHED_BY else now.date() - timedelta(days=1)


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey):
    records = instance.fetch_materializations(key, limit=1).records
    return records[0] if records else None


def _metadata_value(record, name: str):
    entry = record.asset_materialization.metadata.get(name) if record else None
    return entry.value if entry is not None else None


def _nothing_newer(tmdb: TMDbResource, wanted: date, loaded: date) -> dg.SkipReason | None:
    """None when TMDb has published an export newer than `loaded` (`wanted`'s, or one of the
    FALLBACK_DAYS days before it), else why the tick launches nothing.

    At most FALLBACK_DAYS + 1 days of HEADs (one per file), usually one: the loaded export is most
    often the day before the wanted one. One attempt each, with TMDB_TIMEOUT_SECONDS (15 s by
    default) rather than the download's 60 s and its retries: a tick must end well within Dagster's
    60 s sensor deadline, and the next tick is the retry."""
    settings = tmdb.resolved()
    checked = shown_url(export_url(settings.exports_base_url, MOVIE_FILE, wanted))
    session = requests.Session()
    try:
        newer = newer_export_day(wanted, loaded, base_url=settings.exports_base_url,
                                 include_adult=settings.include_adult, session=session,
                                 timeout=settings.timeout_seconds)
    except ExportError as error:
        where = shown_url(error.url) if error.url else checked
        return dg.SkipReason(
            f"Could not ask TMDb whether an export newer than the loaded one ({loaded}) is out "
            f"({error.reason or 'no answer'} at {where}). Nothing launched; the next tick asks again.")
    finally:
        session.close()
    if newer is not None:
        return None
    days_back = min(FALLBACK_DAYS, (wanted - loaded).days - 1)
    before = f" nor any of the {days_back} day(s) before it" if days_back else ""
    return dg.SkipReason(
        f"TMDb's export of {loaded} is loaded and nothing newer is published: the export of {wanted} is "
        f"not out ({checked}){before}. Reloading the same export would change nothing; the next tick "
        "asks again.")


def tmdb_catalog_sensor(default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    @dg.sensor(
        name="tmdb_catalog_sync",
        jobs=list(CATALOG_JOBS),
        minimum_interval_seconds=INTERVAL_SECONDS,
        default_status=default_status,
        description=(
            "After TMDb publishes its daily id export (08:30 UTC): loads it into tmdb_catalog_ids, "
            "then fetches the movies no year's discovery returns (tmdb_gap_movies), at most hourly "
            "until the day's export is loaded, and only when TMDb has published an export newer than "
            "the loaded one (asked with HEAD requests; a late or skipped day launches nothing); then "
            "continues the gap fill, one bounded run at a time, while it reports movies remaining."
        ),
    )
    def tmdb_catalog_sync(context: dg.SensorEvaluationContext, tmdb: TMDbResource):
        instance = context.instance
        for job in CATALOG_JOBS:
            if instance.get_runs(filters=dg.RunsFilter(job_name=job.name, statuses=list(NOT_FINISHED_STATUSES)),
                                 limit=1):
                return dg.SkipReason(f"A {job.name} run is queued or running; the next tick looks again.")
        now = clock.utc_now()
        wanted = export_day_wanted(now)
        export = _latest(instance, TMDB_CATALOG_IDS)
        loaded = _metadata_value(export, "export_date")
        if loaded is None or date.fromisoformat(loaded) < wanted:
            skip = _nothing_newer(tmdb, wanted, date.fromisoformat(loaded)) if loaded else None
            if skip is not None:
                return skip
            return dg.RunRequest(
                job_name=tmdb_catalog_sync_job.name,
                run_key=f"tmdb_catalog_sync:{wanted}:{now:%H}",
                tags={TRIGGER_TAG: "tmdb_catalog_sync"},
            )
        gap = _latest(instance, TMDB_GAP_MOVIES)
        if gap is None or gap.storage_id < export.storage_id:
            # The export was loaded without a gap fill after it (alone, or the fill failed): once.
            run_key = f"tmdb_gap_fill:export:{export.storage_id}"
        elif _metadata_value(gap, "remaining"):
            run_key = f"tmdb_gap_fill:{gap.storage_id}"
        else:
            return dg.SkipReason(f"TMDb's export of {loaded} is loaded and the gap fill is done.")
        return dg.RunRequest(job_name=tmdb_gap_fill_job.name, run_key=run_key,
                             tags={TRIGGER_TAG: "tmdb_gap_fill"})

    return tmdb_catalog_sync
