"""What the Dagster instance knows about each release year: imported, running, last run failed.

Read by the sensors (never two runs for the same year at once; failed years go to the back of the
backfill queue), by the catalog progress table (status running / failed) and by `reset`. The event
log and the run storage are the record of syncs, so the warehouse keeps no history table of its own.
It sits beside the rooms, below automation/ and reporting/, so both read it without one borrowing
from the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from cinegraph_assets.asset_keys import MOVIES, YEAR_WRITING_ASSETS

#: Metadata of a materialization re-recorded by `python -m cinegraph_assets reset` (which has to
#: wipe a whole asset to wipe some of its partitions): when the original materialization happened.
ORIGINAL_TIME_KEY = "cinegraph/materialized_at"

#: Jobs (automation/jobs.py) that never write a year's movies: their runs do not block a TMDb run of
#: the same year. Named here, not imported, so this module stays below automation/; a test there
#: checks the names against the jobs' selections. The whole-catalog jobs (tmdb_catalog_sync,
#: tmdb_gap_fill) write only movies no year's discovery owns, and have no year.
NON_WRITING_JOBS = frozenset({"omdb_ratings_job", "oscar_nominations_job", "catalog_progress_job",
                              "tmdb_catalog_sync", "tmdb_gap_fill"})
#: How many recent finished runs are scanned for "did the last attempt of this year fail".
RECENT_RUNS_SCANNED = 2000


def run_years(run: dg.DagsterRun) -> list[int]:
    """The release years a run covers: its partition, or every year of its partition range."""
    tags = run.tags
    partition = tags.get(PARTITION_NAME_TAG)
    if partition is not None:
        return [int(partition)] if partition.isdigit() else []
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if start and end and start.isdigit() and end.isdigit():
        return list(range(int(start), int(end) + 1))
    return []


def writes_movies(run: dg.DagsterRun) -> bool:
    """Whether the run materializes TMDb assets (and so writes a year's movies)."""
    if run.asset_selection is not None:
        return bool(set(run.asset_selection) & YEAR_WRITING_ASSETS)
    # A run of a whole asset job has no explicit selection; only our single-purpose jobs are
    # known not to touch movies.
    return run.job_name not in NON_WRITING_JOBS


def materialized_at(record) -> float:
    """When a materialization record's materialization happened (a re-recorded one keeps the time
    of the original in its metadata), as a POSIX timestamp."""
    materialization = record.asset_materialization
    original = materialization.metadata.get(ORIGINAL_TIME_KEY) if materialization else None
    return float(original.value) if original is not None else record.timestamp


def materialized_years(instance: dg.DagsterInstance, asset_key: dg.AssetKey = MOVIES) -> set[int]:
    """Years with at least one successful materialization of `asset_key` (default: movies)."""
    return {int(key) for key in instance.get_materialized_partitions(asset_key) if key.isdigit()}


def active_years(instance: dg.DagsterInstance, movies_only: bool = True) -> dict[int, str]:
    """Year -> id of a queued or running run covering it (movie-writing runs only, by default)."""
    active: dict[int, str] = {}
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(NOT_FINISHED_STATUSES))):
        if movies_only and not writes_movies(run):
            continue
        for year in run_years(run):
            active.setdefault(year, run.run_id)
    return active


def active_years_of_job(instance: dg.DagsterInstance, job_name: str) -> set[int]:
    """Years covered by queued or running runs of one job."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(job_name=job_name, statuses=list(NOT_FINISHED_STATUSES))
    )
    return {year for run in runs for year in run_years(run)}


@dataclass
class YearRunHistory:
    """The latest finished movie-writing run of each year, from the most recent runs."""

    last_status: dict[int, dg.DagsterRunStatus] = field(default_factory=dict)
    last_run_id: dict[int, str] = field(default_factory=dict)

    def failed(self) -> set[int]:
        return {y for y, s in self.last_status.items() if s != dg.DagsterRunStatus.SUCCESS}


def year_run_history(
    instance: dg.DagsterInstance, tags: dict[str, str] | None = None, limit: int = RECENT_RUNS_SCANNED
) -> YearRunHistory:
    """Latest finished status per year (newest runs first), optionally only runs with `tags`."""
    history = YearRunHistory()
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.SUCCESS,
                dg.DagsterRunStatus.FAILURE,
                dg.DagsterRunStatus.CANCELED,
            ],
            tags=tags or {},
        ),
        limit=limit,
    )
    for run in runs:  # newest first
        if not writes_movies(run):
            continue
        for year in run_years(run):
            if year not in history.last_status:
                history.last_status[year] = run.status
                history.last_run_id[year] = run.run_id
    return history
