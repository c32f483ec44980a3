"""The jobs the schedules and sensors launch, defined by asset key so this room imports no asset code.

Which assets a year's run covers is a choice about the OMDb quota:
- `catalog_year_sync` (the daily sync of the current and previous year): TMDb discovery, details and
  movies, then OMDb ratings and Oscar nominations downstream, as the issue asks.
- `tmdb_year_import` (catalog backfill and the changes feed): the TMDb assets and Oscar nominations,
  but not OMDb. A backfill of 150 old years would otherwise spend each day's OMDb quota on whatever
  year it happens to import; the `omdb_backlog` sensor spends it instead, recent years first.
- `omdb_ratings_job` and `oscar_nominations_job`: one asset each, for the backlog and Oscar triggers.
- `catalog_progress_job`: refreshes the reporting table after syncs.
- `tmdb_catalog_sync` and `tmdb_gap_fill` (the tmdb_catalog_sync sensor): the whole catalog, not
  partitioned: the day's export then one gap batch, and further gap batches.

They run in one process (in_process_executor): a year's steps form a chain anyway (discovery ->
details -> movies -> Oscars, then the checks), the details step already fetches with a thread pool,
and one Python process per step (the default) costs more than the work of a small old year. The
steps' order, retries and events in the UI are the same.
"""

from __future__ import annotations

import dagster as dg

from cinegraph_assets.asset_keys import (
    CATALOG_PROGRESS,
    OMDB_RATINGS,
    OSCAR_NOMINATIONS,
    TMDB_ASSETS,
    TMDB_CATALOG_IDS,
    TMDB_GAP_MOVIES,
)
from cinegraph_assets.partitions import release_years

#: Tag on every run a sensor requests: which sensor asked for it (seen in the UI's run list).
TRIGGER_TAG = "cinegraph/trigger"

catalog_year_sync_job = dg.define_asset_job(
    name="catalog_year_sync",
    executor_def=dg.in_process_executor,
    selection=dg.AssetSelection.assets(*TMDB_ASSETS, OMDB_RATINGS, OSCAR_NOMINATIONS),
    partitions_def=release_years,
    description=(
        "One release year end to end: TMDb discovery, details of new/changed/stale movies, the "
        "normalized movies, then OMDb ratings (within the day's quota) and Oscar nominations."
    ),
)

tmdb_year_import_job = dg.define_asset_job(
    name="tmdb_year_import",
    executor_def=dg.in_process_executor,
    selection=dg.AssetSelection.assets(*TMDB_ASSETS, OSCAR_NOMINATIONS),
    partitions_def=release_years,
    description=(
        "One release year from TMDb (discovery, details, movies) plus its Oscar nominations. "
        "OMDb is left to the omdb_backlog sensor, which spends the daily quota on recent years first."
    ),
)

omdb_ratings_job = dg.define_asset_job(
    name="omdb_ratings_job",
    executor_def=dg.in_process_executor,
    selection=dg.AssetSelection.assets(OMDB_RATINGS),
    partitions_def=release_years,
    description="OMDb ratings of one release year, as far as the day's OMDb quota reaches.",
)

oscar_nominations_job = dg.define_asset_job(
    name="oscar_nominations_job",
    executor_def=dg.in_process_executor,
    selection=dg.AssetSelection.assets(OSCAR_NOMINATIONS),
    partitions_def=release_years,
    description="Academy Award nominations of the selected film years, matched to movies.",
)

catalog_progress_job = dg.define_asset_job(
    name="catalog_progress_job",
    executor_def=dg.in_process_executor,
    selection=dg.AssetSelection.assets(CATALOG_PROGRESS),
    description="Recompute the catalog progress table (every year's coverage, ETA, OMDb/Oscars).",
)

tmdb_catalog_sync_job = dg.define_asset_job(
    name="tmdb_catalog_sync",
    executor_def=dg.in_process_executor,
    selection=dg.AssetSelection.assets(TMDB_CATALOG_IDS, TMDB_GAP_MOVIES),
    description=("TMDb's newest daily id export into tmdb_catalog_ids, then the movies no year's "
                 "discovery returns (tmdb_gap_movies, one batch), then the catalog_accounted_for check."),
)

tmdb_gap_fill_job = dg.define_asset_job(
    name="tmdb_gap_fill",
    executor_def=dg.in_process_executor,
    # The check judges the export again after each batch, so it turns green when the fill is done.
    selection=dg.AssetSelection.assets(TMDB_GAP_MOVIES) | dg.AssetSelection.checks_for_assets(TMDB_CATALOG_IDS),
    description=("One more batch of the gap fill (tmdb_gap_movies), continuing where the last one "
                 "stopped, then the catalog_accounted_for check."),
)

ALL_JOBS = (
    catalog_year_sync_job,
    tmdb_year_import_job,
    omdb_ratings_job,
    oscar_nominations_job,
    catalog_progress_job,
    tmdb_catalog_sync_job,
    tmdb_gap_fill_job,
)
