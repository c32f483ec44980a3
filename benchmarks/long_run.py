"""long_run: a simulated year of the platform left on by itself (issue 15).

The sandbox's clock and the platform's advance together in steps of a week for a whole year
(across New Year) while the daily sync, the catalog backfill, the changes feed and the OMDb backlog
(a small quota) run as the daemon would run them (benchmarks/long_run_world.py): the
changes feed is down for a week, a CDN answers 404 without TMDb's code 34 to 3% of TMDb's requests,
and movies move across Dec 31 / Jan 1 every day. At the end it reports what must hold:

- every imported year equals the sandbox's truth (years_differing = 0),
- the changes cursor has read every day, nothing left waiting (cursor_current),
- no year was imported except by the backfill or the daily sync (back_door_years = 0),
- every movie with an IMDb id in the imported years has an OMDb answer (omdb_unasked = 0),
- no run failed (failed_runs = 0),

plus what it cost: runs by trigger, seconds in runs, the longest tick of the changes feed, and the
requests TMDb and OMDb were asked. `python -m benchmarks --only long_run [--quick]` runs it with the
others' bookkeeping; `python -m benchmarks.long_run --days 365` alone.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from benchmarks.long_run_world import (
    LongRun,
    LongRunPlan,
    imported_years,
    movies_without_omdb_answer,
    years_differing_from_truth,
)
from cinegraph_assets.launcher import SandboxProcess

NAME = "long_run"
DESCRIPTION = ("a simulated year (quick: 60 days) of daily sync, backfill, changes feed and OMDb backlog "
               "through an outage, CDN 404s and New Year moves: the end state must equal TMDb's")
START = date(2025, 3, 1)  # the New Year inside the year is 2025/2026
OUTAGE_AFTER_DAYS = 40  # the changes feed is down for a week from here on
YEAR_SIZE = 25
POPULATED_YEARS = 26  # 2000..2026 hold YEAR_SIZE movies at the start
QUICK_DAYS, FULL_DAYS = 60, 365
#: Days per step: the quick run's 3, the year's 7 (a year in 3-day steps takes over two hours here;
#: the OMDb quota is spent every day either way, the TMDb work once a step).
QUICK_STEP_DAYS, FULL_STEP_DAYS = 3, 7
OMDB_DAILY_LIMIT = 40


@contextmanager
def environment(values: dict[str, str]):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run(workdir: Path, days: int = FULL_DAYS, step_days: int = FULL_STEP_DAYS, log=print) -> dict:
    """One long run in `workdir`; the record for BENCHMARKS.md."""
    workdir.mkdir(parents=True, exist_ok=True)
    outage_start = START + timedelta(days=OUTAGE_AFTER_DAYS)
    plan = LongRunPlan(start=START, days=days, step_days=step_days,
                       outage=(outage_start, outage_start + timedelta(days=6)),
                       cdn_404_rate=0.03, omdb_daily_limit=OMDB_DAILY_LIMIT)
    # The recent years hold YEAR_SIZE movies each; older ones start empty (the backfill still
    # imports them, and movies added to them later are followed), so a year fits in about an hour
    # here: with every year populated, re-syncing them all each week took over two hours.
    populated = range(START.year - POPULATED_YEARS + 1, START.year + 2)
    year_sizes = {y: (YEAR_SIZE if y in populated else 0) for y in range(1874, START.year + 2)}
    warehouse_url = f"sqlite:///{workdir / 'warehouse.sqlite'}"
    with SandboxProcess(seed=7, scale="demo", start_date=START.isoformat(), detail_size="small", change_rate=0.004,
                        new_per_day=8, new_year_moves=3, omdb_daily_limit=OMDB_DAILY_LIMIT,
                        year_size=[f"{y}={n}" for y, n in year_sizes.items()]) as sandbox, \
            environment({**sandbox.env(), "CINEGRAPH_DATABASE_URL": warehouse_url,
                         "CINEGRAPH_STATE_DIR": str(workdir / "state"), "DAGSTER_HOME": str(workdir),
                         "OMDB_DAILY_LIMIT": str(OMDB_DAILY_LIMIT), "TMDB_MAX_RETRIES": "3",
                         "TMDB_MAX_RPS": "500", "CATALOG_BACKFILL_YEARS_PER_DAY": "1",
                         "TMDB_CHANGES_START_DATE": START.isoformat()}), \
            dg.instance_for_test() as instance:
        report = LongRun(sandbox, instance, plan, log=log).run()
        imported = imported_years(instance)
        from cinegraph_assets.warehouse.engine import get_engine

        engine = get_engine(warehouse_url)
        differing = years_differing_from_truth(engine, sandbox, imported)
        unasked = movies_without_omdb_answer(engine, imported)
        stats = sandbox.stats()
    cursor = report.final_changes_cursor
    started = report.years_by_trigger.get("catalog_backfill", set()) | report.years_by_trigger.get("daily_sync", set())
    cursor_current = (cursor.get("read_through") == report.last_day_read.isoformat()
                      and not cursor.get("window_end") and not cursor.get("lookup_backlog"))
    record = {
        "name": NAME,
        "days": days, "step_days": step_days, "imported_years": len(imported),
        "years_differing": len(differing), "cursor_current": cursor_current,
        "back_door_years": len(imported - started), "omdb_unasked": unasked,
        "failed_runs": len(report.failed_runs), "failed_ticks": sum(report.failed_ticks.values()),
        **{f"runs_{k}": v for k, v in sorted(report.runs.items())},
        "run_seconds": round(sum(report.run_seconds.values()), 1),
        "changes_ticks": report.changes_ticks, "changes_ticks_behind": report.changes_ticks_behind,
        "longest_changes_tick_s": round(report.longest_changes_tick_s, 2),
        "tmdb_requests": sum(n for label, by_status in stats["requests"].items() if label.startswith("/3/")
                             for n in by_status.values()),
        "cdn_404s": stats["faults"].get("404", 0), "outage_answers": stats["faults"].get("outage", 0),
        "seconds": round(report.seconds, 1),
        "differing": {str(y): d for y, d in differing.items()},
        "failures": report.failed_runs[:10],
        "settings": {"start": START.isoformat(), "year_size": YEAR_SIZE,
                     "populated_years": [populated[0], populated[-1]], "omdb_daily_limit": OMDB_DAILY_LIMIT,
                     "outage": [d.isoformat() for d in plan.outage], "cdn_404_rate": plan.cdn_404_rate,
                     "new_year_moves_per_day": 3, "change_rate": 0.004, "warehouse": "sqlite"},
    }
    record["met"] = {"years_equal_truth": not differing, "cursor_current": cursor_current,
                     "no_back_door": record["back_door_years"] == 0, "omdb_asked": unasked == 0,
                     "no_failed_runs": not report.failed_runs}
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.long_run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=FULL_DAYS)
    parser.add_argument("--step-days", type=int, default=FULL_STEP_DAYS)
    parser.add_argument("--workdir", default=None, help="default: a temporary directory")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    import tempfile

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="long_run_"))
    record = run(workdir, args.days, args.step_days)
    from benchmarks.harness import report

    return report(record, args.json)


if __name__ == "__main__":
    sys.exit(main())
