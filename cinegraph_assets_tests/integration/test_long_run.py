"""Weeks of running, compressed: the sandbox's clock and the platform's advance together across New
Year while the daily sync, the backfill, the changes feed and the OMDb backlog (with a small quota)
work by themselves; the changes feed is down for a week, a CDN answers 404 to a share of TMDb's
requests, and movies move across Dec 31 / Jan 1 every day.

At the end: every imported year equals the sandbox's truth, id by id; the feed has read every day;
no year was imported except by the backfill or the daily sync; every movie with an IMDb id in the
imported years has an OMDb answer (a rating or a recorded reason); no run failed.

The year-long version is a benchmark (benchmarks/long_run.py, BENCHMARKS.md).
"""

from datetime import date

import dagster as dg
import pytest

from benchmarks.long_run_world import (
    LongRun,
    LongRunPlan,
    imported_years,
    movies_without_omdb_answer,
    years_differing_from_truth,
)
from cinegraph_assets.warehouse.engine import get_engine

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

START = date(2025, 12, 17)
PLAN = LongRunPlan(start=START, days=20, step_days=4, outage=(date(2025, 12, 21), date(2025, 12, 27)),
                   cdn_404_rate=0.03, omdb_daily_limit=40)
RECENT = range(START.year - 15, START.year + 2)


def test_weeks_across_new_year_with_an_outage_and_404s_end_equal_to_tmdb(
        sandbox_factory, tmp_path, monkeypatch):
    sandbox = sandbox_factory(
        start_date=START.isoformat(), detail_size="small", change_rate=0.004, new_per_day=8,
        new_year_moves=3, omdb_daily_limit=PLAN.omdb_daily_limit,
        year_size=[f"{year}=25" for year in RECENT])
    warehouse_url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    for name, value in {**sandbox.env(), "CINEGRAPH_DATABASE_URL": warehouse_url,
                        "CINEGRAPH_STATE_DIR": str(tmp_path / "state"),
                        "OMDB_DAILY_LIMIT": str(PLAN.omdb_daily_limit),
                        "TMDB_MAX_RETRIES": str(PLAN.tmdb_max_retries), "TMDB_MAX_RPS": "500",
                        "CATALOG_BACKFILL_YEARS_PER_DAY": str(PLAN.backfill_years_per_day),
                        "TMDB_CHANGES_START_DATE": START.isoformat()}.items():
        monkeypatch.setenv(name, value)

    with dg.instance_for_test() as instance:
        report = LongRun(sandbox, instance, PLAN, log=lambda _: None).run()
        imported = imported_years(instance)

    engine = get_engine(warehouse_url)
    cursor = report.final_changes_cursor
    started = report.years_by_trigger.get("catalog_backfill", set()) | report.years_by_trigger["daily_sync"]
    problems = {
        "failed runs": report.failed_runs,
        "failed ticks": report.failed_ticks,
        "imported years differing from TMDb": years_differing_from_truth(engine, sandbox, imported),
        "changes cursor not current": [] if cursor.get("read_through") == report.last_day_read.isoformat()
        and not cursor.get("window_end") and not cursor.get("lookup_backlog") else [cursor],
        # No back door: every imported year was started by the backfill or the daily sync, and the
        # changes feed only re-synced years already imported.
        "years imported by another path": sorted(imported - started),
        "re-synced years never imported": sorted(report.years_by_trigger.get("tmdb_changes", set()) - imported),
        "movies with an IMDb id never asked to OMDb": movies_without_omdb_answer(engine, imported),
    }
    assert problems == {"failed runs": [], "failed ticks": {}, "imported years differing from TMDb": {},
                        "changes cursor not current": [], "years imported by another path": [],
                        "re-synced years never imported": [],
                        "movies with an IMDb id never asked to OMDb": 0}
    assert imported and imported <= set(RECENT), imported  # the backfill stayed in years of 25 movies
    assert report.changes_ticks_behind >= 2  # the week-long outage did happen
