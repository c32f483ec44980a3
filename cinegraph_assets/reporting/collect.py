"""Gather the catalog progress from the warehouse and (when there is one) the Dagster instance."""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg
from sqlalchemy.engine import Engine

from cinegraph_assets.instance_history import active_years, year_run_history
from cinegraph_assets.partitions import partition_year_range
from cinegraph_assets.reporting.progress import CatalogProgress, build_progress
from cinegraph_assets.settings import setting
from cinegraph_assets.warehouse import catalog_gap
from cinegraph_assets.warehouse import progress as progress_sql
from cinegraph_assets.warehouse import ratings


def collect_progress(engine: Engine, instance: dg.DagsterInstance | None, now: datetime) -> CatalogProgress:
    """The progress report as of `now` (instance None: without running/failed years)."""
    first_year, last_year = partition_year_range(now)
    with engine.connect() as conn:
        counts = progress_sql.year_counts(conn)
        new_last_24h = progress_sql.movies_first_seen_since(conn, now - timedelta(hours=24))
        omdb = ratings.omdb_coverage(conn)
        oscars = progress_sql.oscar_match_rate(conn)
        whole_catalog = catalog_gap.catalog_accounting(conn, include_adult=setting("TMDB_INCLUDE_ADULT"))
    running: set[int] = set()
    failed: set[int] = set()
    if instance is not None:
        running = set(active_years(instance))
        failed = year_run_history(instance).failed()
    return build_progress(
        now=now,
        first_year=first_year,
        last_year=last_year,
        counts=counts,
        running_years=running,
        failed_years=failed,
        years_per_day=setting("CATALOG_BACKFILL_YEARS_PER_DAY"),
        new_movies_last_24h=new_last_24h,
        omdb=omdb,
        oscars=oscars,
        instance_known=instance is not None,
        whole_catalog=whole_catalog if whole_catalog["export_date"] is not None else {},
    )
