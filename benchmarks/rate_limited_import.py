"""rate_limited_import: a year imported through the sandbox's rate limit, against the floor.

At R requests a second a year of N movies needs at least N + N/20 requests (one details request per
movie plus one discover page per 20 movies), so it cannot take less than (N + N/20) / R seconds.
We import a year (tmdb_discovered_movies -> tmdb_movie_details -> movies, one Dagster run) through
a sandbox that answers 429 above R requests a second and adds 100 ms to every answer, and report
how close to the floor that run gets:

- efficiency = requests_per_s / R over the whole run (discovery, details and normalizing);
- fetch_efficiency: the same over discovery and the details' fetching only (where the rate limit is
  the bound);
- requests_per_movie (the floor is 1.05) and the 429s the sandbox served (the goal is none).

Bound: the rate limit. The client spaces requests at R x 0.95 (tmdb/ratelimit.py's headroom), so
0.95 is the best efficiency a run can show. Movies are normalized while their details are fetched
(one step); only what is left after the last request (normalize_tail_s) adds to the floor.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.harness import (
    ImportSpec, PostgresCpuSampler, Sandbox, api_requests, load_average, log, run_child, tmdb_fields,
)

NAME = "rate_limited_import"
DESCRIPTION = "a year through the sandbox's rate limit (R=40 and R=20, 100 ms latency) against (N + N/20) / R"
GOALS = {"efficiency": ">= 0.90", "requests_per_movie": "<= 1.06", "rate_limited_429": "== 0"}
DISCOVERY_STEP = "tmdb_discovered_movies"


def import_year(sandbox: Sandbox, warehouse_url: str, workdir: Path, name: str, year: int, *,
                max_rps: float, max_workers: int | None = None, profile: str | None = None,
                profile_dir: Path | None = None, state_dir: Path | None = None) -> dict:
    """One child process that materializes `year`; the traffic it caused and what it cost."""
    state_dir = state_dir or workdir / f"{name}.state"
    state_dir.mkdir(parents=True, exist_ok=True)
    spec = ImportSpec(warehouse_url=warehouse_url,
                      tmdb=tmdb_fields(sandbox, max_rps=max_rps, state_dir=state_dir, max_workers=max_workers),
                      partitions=[str(year)], year_counts=[year],
                      dagster_home=str(workdir / f"{name}.dagster_home"))
    sandbox.reset_stats()
    sandbox_cpu0 = sandbox.cpu_seconds()
    load0 = load_average()
    log(f"{name}: importing {year} (max_rps={max_rps})")
    if warehouse_url.startswith("postgresql"):
        with PostgresCpuSampler(warehouse_url.rsplit("/", 1)[1]) as pg:
            child = run_child(spec, workdir, name, profile=profile, profile_dir=profile_dir)
        postgres_cpu = pg.cpu_seconds
    else:
        child = run_child(spec, workdir, name, profile=profile, profile_dir=profile_dir)
        postgres_cpu = None
    sandbox_cpu1 = sandbox.cpu_seconds()
    traffic = api_requests(sandbox.stats())
    if not child.report.get("ok"):
        raise RuntimeError(f"{name}: the import failed: {child.report.get('error') or child.report.get('runs')}"
                           f"\n{child.report.get('traceback', '')}\n{child.stderr_tail}")
    run = child.report["runs"][0]
    log(f"{name}: {run['seconds']:.1f} s, {traffic['requests']} requests, "
        f"{traffic['rate_limited_429']} x 429, peak RSS {child.peak_rss_mb:.0f} MB")
    return {
        "run": run,
        "movies": child.report["movies_in_warehouse"].get(str(year), 0),
        "seconds": run["seconds"],
        "cpu_seconds": run["cpu_seconds"],
        "process_cpu_seconds": round(child.cpu_seconds, 2),
        "process_wall_seconds": round(child.wall_seconds, 2),
        "interpreter_and_import_seconds": child.report.get("import_seconds"),
        "peak_rss_mb": round(child.peak_rss_mb, 1),
        "sandbox_cpu_seconds": (round(sandbox_cpu1 - sandbox_cpu0, 2)
                                if sandbox_cpu0 is not None and sandbox_cpu1 is not None else None),
        "postgres_cpu_seconds": postgres_cpu,
        "traffic": traffic,
        "load_average_before": load0,
        "load_average_after": load_average(),
    }


def shape(result: dict, *, max_rps: float, truth_movies: int, settings: dict) -> dict:
    """The measurement object for one R."""
    traffic, run = result["traffic"], result["run"]
    n = truth_movies
    seconds = result["seconds"]
    requests_ = traffic["requests"]
    # The fetching: discovery's step plus the details' own duration (details and movies share one
    # step, tmdb_details_and_movies, and normalize while fetching; what is left after the last
    # request is the movies metadata's normalize_tail_s).
    details_seconds = run["metadata"].get("tmdb_movie_details", {}).get("duration_s", 0.0)
    fetch_seconds = run["step_seconds"].get(DISCOVERY_STEP, 0.0) + details_seconds
    fetch_requests = requests_  # every request belongs to a fetching step
    record = {
        "name": NAME,
        "max_rps": max_rps,
        "movies": result["movies"],
        "truth_movies": n,
        "coverage": round(result["movies"] / n, 4) if n else None,
        "requests": requests_,
        "discover_requests": traffic["discover_requests"],
        "detail_requests": traffic["detail_requests"],
        "seconds": round(seconds, 2),
        "requests_per_s": round(requests_ / seconds, 2),
        "efficiency": round(requests_ / seconds / max_rps, 4),
        "requests_per_movie": round(requests_ / max(1, result["movies"]), 4),
        "floor_seconds": round((n + n / 20) / max_rps, 2),
        "seconds_over_floor": round(seconds / ((n + n / 20) / max_rps), 4),
        "fetch_seconds": round(fetch_seconds, 2),
        "fetch_efficiency": round(fetch_requests / fetch_seconds / max_rps, 4) if fetch_seconds else None,
        "step_seconds": run["step_seconds"],
        "normalize_tail_s": run["metadata"].get("movies", {}).get("normalize_tail_s"),
        "movies_per_s": round(result["movies"] / seconds, 2),
        "rate_limited_429": traffic["rate_limited_429"],
        "max_requests_per_second_seen": traffic["max_requests_per_second"],
        "max_concurrent_connections": traffic["max_concurrent_connections"],
        "cpu_seconds": result["cpu_seconds"],
        "sandbox_cpu_seconds": result["sandbox_cpu_seconds"],
        "peak_rss_mb": result["peak_rss_mb"],
        "asset_metadata": run["metadata"],
        "load_average_before": result["load_average_before"],
        "load_average_after": result["load_average_after"],
        "settings": settings,
        "goals": GOALS,
    }
    record["met"] = {
        "efficiency": record["efficiency"] >= 0.90,
        "requests_per_movie": record["requests_per_movie"] <= 1.06,
        "rate_limited_429": record["rate_limited_429"] == 0,
    }
    return record
