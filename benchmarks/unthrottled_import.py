"""unthrottled_import: how fast the pipeline itself is when TMDb is not the limit.

The sandbox answers with no rate limit and no added latency, serving full appended responses
(credits of up to 300 people, images, videos, ...: 10-100 KB each), and the warehouse is a fresh
PostgreSQL database, as in production. The client's limit is set far above what the machine can
do. What is left is our own cost: HTTP and JSON in the client, staging the raw responses, and
normalizing them into the movie tables.

Bound: the CPU (2 cores shared by the sandbox rendering responses, this process and PostgreSQL);
cpu_seconds is this process's user + system time during the run, sandbox_cpu_seconds the sandbox's.
"""

from __future__ import annotations

import os

NAME = "unthrottled_import"
DESCRIPTION = "no rate limit, zero latency, full payloads, PostgreSQL: the pipeline's own speed"
GOALS = {"movies_per_s": ">= 200"}
#: A limit the client never reaches (the setting must be a positive number).
UNLIMITED_RPS = 1_000_000.0


def _per_s(count: int, seconds: float | None) -> float | None:
    return round(count / seconds, 2) if seconds else None


def shape(result: dict, *, truth_movies: int, settings: dict) -> dict:
    run = result["run"]
    steps = run["step_seconds"]
    movies = result["movies"]
    record = {
        "name": NAME,
        "movies": movies,
        "truth_movies": truth_movies,
        "seconds": round(result["seconds"], 2),
        "movies_per_s": round(movies / result["seconds"], 2),
        "cpu_seconds": result["cpu_seconds"],
        "sandbox_cpu_seconds": result["sandbox_cpu_seconds"],
        "postgres_cpu_seconds": result["postgres_cpu_seconds"],
        "cpu_ms_per_movie": {
            "import_process": round(1000 * result["cpu_seconds"] / max(1, movies), 2),
            "sandbox": round(1000 * (result["sandbox_cpu_seconds"] or 0) / max(1, movies), 2),
            "postgres": round(1000 * (result["postgres_cpu_seconds"] or 0) / max(1, movies), 2),
        },
        "step_seconds": steps,
        # details and movies share one step (normalizing runs beside the fetching): their own
        # durations come from the assets' metadata.
        "details_movies_per_s": _per_s(movies, run["metadata"].get("tmdb_movie_details", {}).get("duration_s")),
        "normalize_movies_per_s": run["metadata"].get("movies", {}).get("movies_per_second"),
        "normalize_tail_s": run["metadata"].get("movies", {}).get("normalize_tail_s"),
        "requests": result["traffic"]["requests"],
        "peak_rss_mb": result["peak_rss_mb"],
        "asset_metadata": run["metadata"],
        "load_average_before": result["load_average_before"],
        "load_average_after": result["load_average_after"],
        "settings": settings,
        "goals": GOALS,
    }
    # Load-independent view: the CPU all three processes spent per movie, and the rate the machine's
    # cores could sustain if they did nothing else (a ceiling: it assumes perfect overlap).
    total_ms = sum(record["cpu_ms_per_movie"].values())
    record["cpu_ms_per_movie"]["total"] = round(total_ms, 2)
    record["cpu_ceiling_movies_per_s"] = round((os.cpu_count() or 1) * 1000 / total_ms, 1) if total_ms else None
    record["met"] = {"movies_per_s": record["movies_per_s"] >= 200}
    return record
