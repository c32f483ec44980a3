"""backfill_overhead: what a partition costs beyond its TMDb work, through a Dagster instance.

Twenty small old years (a dozen or two movies each on the demo-scale sandbox, no rate limit, no
latency), so nearly all of the time is the cost of a run rather than of the movies:

1. in_process: one process, one DagsterInstance with SQLite run and event storage (a temporary
   DAGSTER_HOME, as `make run` has), `dagster.materialize(...)` once per partition: run creation,
   resource set-up, two steps (discovery, then details and movies together) with their event-log
   writes, the warehouse queries. This is the floor of a partition's cost inside Dagster.
2. policy_runs: the same years n to a run (the run's tags carry the partition range), n being the
   assets' BackfillPolicy.multi_run(max_partitions_per_run=n): how a backfill really launches them,
   the run's fixed costs shared by n years.
3. launched: `dagster asset materialize --partition YEAR` as its own process for a few of the years:
   what a launched run pays on top of (1): a fresh interpreter that imports Dagster and loads the code location, then the definitions'
   default multiprocess executor, which starts one more interpreter per step.
4. interpreter_seconds: a fresh `python -c "import cinegraph_assets.definitions"`, the part of (3)
   that every process of a launched run pays again.

Bound: Dagster's run start-up (process starts and imports, event-log writes), not TMDb.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.harness import (
    REPO, SANDBOX_API_KEY, ImportSpec, Sandbox, api_requests, log, run_child, tmdb_fields,
)

NAME = "backfill_overhead"
DESCRIPTION = "20 small old years through a Dagster instance: the per-partition cost of a run"
GOALS = {"seconds_per_partition": "reported (explained in BENCHMARKS.md)"}
ASSETS = "tmdb_discovered_movies,tmdb_movie_details,movies"


def interpreter_seconds(repeats: int = 2) -> float:
    """Seconds for a fresh interpreter to import the code location (best of `repeats`)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import cinegraph_assets.definitions"], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def launched_runs(sandbox: Sandbox, warehouse_url: str, workdir: Path, years: list[int]) -> dict:
    """`dagster asset materialize` per year as separate processes, like a multi-run backfill's runs."""
    home = workdir / "launched.dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({
        "DAGSTER_HOME": str(home),
        "CINEGRAPH_DATABASE_URL": warehouse_url,
        "CINEGRAPH_STATE_DIR": str(workdir / "launched.state"),
        "TMDB_BASE_URL": sandbox.tmdb_url,
        "TMDB_API_KEY": SANDBOX_API_KEY,
        "TMDB_MAX_RPS": "1000000",
    })
    env.pop("TMDB_ACCESS_TOKEN", None)
    seconds = []
    errors = []
    for year in years:
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "cinegraph_assets.definitions",
             "--select", ASSETS, "--partition", str(year)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            errors.append(proc.stdout.decode(errors="replace")[-1500:])
            continue
        seconds.append(elapsed)
    return {
        "partitions": len(years),
        "succeeded": len(seconds),
        "seconds_per_partition": round(statistics.mean(seconds), 3) if seconds else None,
        "seconds": [round(s, 3) for s in seconds],
        "errors": errors[:2],
    }


def policy_partitions_per_run() -> int:
    """max_partitions_per_run of the TMDb assets' BackfillPolicy (1 when it is single-run or unset)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dagster flags backfill_policy as beta on import
        from cinegraph_assets.tmdb.assets import tmdb_details_and_movies

    policy = tmdb_details_and_movies.backfill_policy
    return int(getattr(policy, "max_partitions_per_run", None) or 1)


def ranged_runs(sandbox: Sandbox, workdir: Path, years: list[int], per_run: int) -> dict:
    """The years in runs of `per_run` partitions each (a fresh warehouse and instance)."""
    chunks = [years[k:k + per_run] for k in range(0, len(years), per_run)]
    spec = ImportSpec(warehouse_url=f"sqlite:///{workdir / 'backfill_ranged.sqlite'}",
                      tmdb=tmdb_fields(sandbox, max_rps=1_000_000.0, state_dir=workdir / "ranged.state"),
                      partitions=[[str(c[0]), str(c[-1])] for c in chunks], year_counts=years,
                      dagster_home=str(workdir / "ranged.dagster_home"))
    child = run_child(spec, workdir, "backfill_ranged")
    if not child.report.get("ok"):
        raise RuntimeError(f"{NAME} (ranged runs): {child.report.get('error') or child.report.get('runs')}\n"
                           f"{child.report.get('traceback', '')}")
    runs = child.report["runs"]
    seconds = sum(r["seconds"] for r in runs)
    return {
        "runs": len(runs),
        "partitions": len(years),
        "movies": sum(child.report["movies_in_warehouse"].values()),
        "seconds": round(seconds, 2),
        "seconds_per_run": [r["seconds"] for r in runs],
        "seconds_per_partition": round(seconds / len(years), 3),
        "step_seconds": [r["step_seconds"] for r in runs],
    }


def run(sandbox: Sandbox, warehouse_url: str, workdir: Path, years: list[int], *, launched: int,
        settings: dict) -> dict:
    sandbox.reset_stats()
    spec = ImportSpec(warehouse_url=warehouse_url,
                      tmdb=tmdb_fields(sandbox, max_rps=1_000_000.0, state_dir=workdir / "backfill.state"),
                      partitions=[str(y) for y in years], year_counts=years,
                      dagster_home=str(workdir / "backfill.dagster_home"))
    log(f"{NAME}: {len(years)} partitions in one process ({years[0]}-{years[-1]})")
    child = run_child(spec, workdir, "backfill")
    if not child.report.get("ok"):
        raise RuntimeError(f"{NAME}: {child.report.get('error') or child.report.get('runs')}\n"
                           f"{child.report.get('traceback', '')}\n{child.stderr_tail}")
    traffic = api_requests(sandbox.stats())
    runs = child.report["runs"]
    per_run = [r["seconds"] for r in runs]
    in_steps = [sum(r["step_seconds"].values()) for r in runs]
    movies = sum(child.report["movies_in_warehouse"].values())
    # The first run of a process also pays one-off set-up (migrations check, engine, code paths
    # warming up); the steady state is what each further partition of a backfill costs.
    steady = per_run[1:] or per_run
    record = {
        "name": NAME,
        "partitions": len(runs),
        "years": f"{years[0]}-{years[-1]}",
        "movies": movies,
        "requests": traffic["requests"],
        "seconds": round(sum(per_run), 2),
        "seconds_per_partition": round(sum(per_run) / len(per_run), 3),
        "steady_seconds_per_partition": round(statistics.median(steady), 3),
        "first_partition_seconds": round(per_run[0], 3),
        "step_seconds_per_partition": round(statistics.median(in_steps), 3),
        "outside_steps_seconds_per_partition": round(statistics.median(
            [a - b for a, b in zip(per_run, in_steps)]), 3),
        "cpu_seconds_per_partition": round(statistics.median([r["cpu_seconds"] for r in runs]), 3),
        "median_step_seconds": {
            step: round(statistics.median([r["step_seconds"].get(step, 0.0) for r in runs]), 3)
            for step in runs[0]["step_seconds"]
        },
        "process_import_seconds": child.report.get("import_seconds"),
        "settings": settings,
        "goals": GOALS,
    }
    # The same years as the assets' backfill policy launches them (n partitions to a run).
    per_run = policy_partitions_per_run()
    ranged = ranged_runs(sandbox, workdir, years, per_run=per_run)
    record["policy_partitions_per_run"] = per_run
    record["policy_runs"] = ranged
    record["policy_seconds_per_partition"] = ranged["seconds_per_partition"]
    log(f"{NAME}: in-process {record['seconds_per_partition']:.2f} s/partition one run each, "
        f"{ranged['seconds_per_partition']:.2f} s/partition {per_run} to a run; "
        f"timing a fresh interpreter and {launched} launched run(s)")
    record["interpreter_seconds"] = interpreter_seconds()
    if launched:
        # Years the in-process runs did not touch, so the launched runs do the same first-import work.
        fresh = [years[-1] + 1 + k for k in range(launched)]
        record["launched"] = launched_runs(sandbox, warehouse_url, workdir, fresh)
        record["launched_years"] = fresh
    record["met"] = {}
    return record
