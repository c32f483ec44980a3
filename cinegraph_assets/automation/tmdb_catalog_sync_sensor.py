"""tmdb_catalog_sync: TMDb's daily id export after it is published, then the gap fill, and more
gap-fill runs while the gap is not done.

TMDb publishes the day's export by about 08:00 UTC. From PUBLISHED_BY on, the `tmdb_catalog_sync`
sensor wants the export of today (before then, yesterday's): while the newest `tmdb_catalog_ids`
materialization holds an older export, it launches `tmdb_catalog_sync` (tmdb_catalog_ids, then
tmdb_gap_movies, then the catalog_accounted_for check), at most once an hour (a late export is tried
again the next hour; tmdb_catalog_ids itself falls back to the newest published one). Once the
export is current, a gap fill that stopped at its batch budget (`remaining` > 0 in its metadata) is
continued by one `tmdb_gap_fill` run per finished gap materialization, so a first fill of 100,000+
movies goes on by itself, one bounded run after another, within TMDB_MAX_RPS.

Why a sensor and not a cron schedule: a schedule fires once; this needs "after publication, until
loaded" and "again while unfinished", both decided from what the instance recorded.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import dagster as dg
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from cinegraph_assets import clock
from cinegraph_assets.asset_keys import TMDB_CATALOG_IDS, TMDB_GAP_MOVIES
from cinegraph_assets.automation.jobs import TRIGGER_TAG, tmdb_catalog_sync_job, tmdb_gap_fill_job

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


def tmdb_catalog_sensor(default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    @dg.sensor(
        name="tmdb_catalog_sync",
        jobs=list(CATALOG_JOBS),
        minimum_interval_seconds=INTERVAL_SECONDS,
        default_status=default_status,
        description=(
            "After TMDb publishes its daily id export (08:30 UTC): loads it into tmdb_catalog_ids, "
            "then fetches the movies no year's discovery returns (tmdb_gap_movies), retrying hourly "
            "until the day's export is loaded; then continues the gap fill, one bounded run at a "
            "time, while it reports movies remaining."
        ),
    )
    def tmdb_catalog_sync(context: dg.SensorEvaluationContext):
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
