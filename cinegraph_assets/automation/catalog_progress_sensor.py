"""catalog_progress_after_sync: refreshes the catalog_progress table after every sync."""

from __future__ import annotations

import dagster as dg
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from cinegraph_assets.asset_keys import CATALOG_PROGRESS, MOVIES, OMDB_RATINGS, OSCAR_NOMINATIONS, TMDB_GAP_MOVIES
from cinegraph_assets.automation.jobs import TRIGGER_TAG, catalog_progress_job

PROGRESS_INTERVAL_SECONDS = 60


def catalog_progress_sensor(default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    @dg.sensor(
        name="catalog_progress_after_sync",
        job=catalog_progress_job,
        minimum_interval_seconds=PROGRESS_INTERVAL_SECONDS,
        default_status=default_status,
        description=(
            "Refreshes catalog_progress after new materializations of movies, omdb_ratings, "
            "oscar_nominations or tmdb_gap_movies (at most once a minute), and once at the start so "
            "the table exists."
        ),
    )
    def catalog_progress_after_sync(context: dg.SensorEvaluationContext):
        instance = context.instance
        seen = int(context.cursor) if context.cursor else 0
        latest = seen
        for key in (MOVIES, OMDB_RATINGS, OSCAR_NOMINATIONS, TMDB_GAP_MOVIES):
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
