"""rederive: how fast a year of stored movies is re-derived from movies.tmdb_data, no network.

A year of movies, each with its full stored response (the captured Fight Club details with ~300
credits, release dates, videos, keywords, providers, images, and the parts 0008 reads: companies,
countries, languages, a collection, translations, alternative titles, recommendations, similar).
tmdb/rederive.py then re-derives the year on PostgreSQL, as `movies[year]` does, in one of two cases:
- `--part NAME` (default translations, the largest part; the issue's case): the movies are derived
  by the current rules, then that part's rules version is bumped: only its tables are rebuilt;
- `--everything`: the movies were derived before rules were versioned (rules_version NULL), so
  each goes back whole through staging and the normalizer (what `rederive_all: true` does).

    .venv/bin/python -m benchmarks.rederive --movies 38000 [--part translations | --everything]
        [--url postgresql://...] [--json out.json]
        [--profile samples.collapsed]   # then: python -m benchmarks.profile_summary samples.collapsed

Without --url it makes (and drops) a throwaway database on the local PostgreSQL server. Reports
movies/s, the CPU per movie in this process and in PostgreSQL (wall-clock depends on the machine's
load, CPU per movie does not), and this process's peak RSS.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import multiprocessing
import subprocess
import sys
import time
from contextlib import nullcontext
from datetime import datetime, timezone

from benchmarks.normalize_staged_throughput import make_payload, payload_template, server_cpu_seconds

NAME = "rederive"
PART = "translations"
QUICK_MOVIES = 2_000
FULL_MOVIES = 38_000  # a recent release year
DESCRIPTION = "a year of stored movies re-derived from tmdb_data on PostgreSQL, no network"
GOALS = {"movies_per_s": ">= 1000", "peak_rss_mb": "<= 400"}
YEAR = 2024


def whole_payload(template: dict, tmdb_id: int, rng: random.Random) -> dict:
    """make_payload's movie plus every part migration 0008 reads, at realistic sizes."""
    p = make_payload(template, tmdb_id, rng)
    p["belongs_to_collection"] = ({"id": 10 + tmdb_id // 8, "name": "A Collection", "poster_path": "/c.jpg",
                                   "backdrop_path": None} if tmdb_id % 12 == 0 else None)
    p["translations"] = {"translations": [
        {"iso_3166_1": c, "iso_639_1": lang, "name": lang, "english_name": lang,
         "data": {"homepage": "", "overview": f"Overview {lang} {tmdb_id} " * 8, "runtime": 139,
                  "tagline": "", "title": f"Title {lang} {tmdb_id}"}}
        for lang, c in (("de", "DE"), ("fr", "FR"), ("es", "ES"), ("it", "IT"), ("ja", "JP"), ("pt", "BR"))]}
    p["alternative_titles"] = {"titles": [{"iso_3166_1": c, "title": f"Film {tmdb_id} {c}", "type": ""}
                                          for c in ("FR", "DE", "RS")]}
    for name in ("recommendations", "similar"):
        p[name] = {"page": 1, "results": [{"id": rng.randrange(1, 1_200_000)} for _ in range(20)],
                   "total_pages": 1, "total_results": 20}
    return p


def store_year(engine, movies: int) -> None:
    """COPY the year's movies rows with their stored responses, as an import before versioned
    rules left them (rules_version NULL: every movie is re-derived whole)."""
    rng = random.Random(7)
    template = payload_template()
    fetched_at = datetime.now(timezone.utc).isoformat()
    columns = ("tmdb_id", "title", "release_date", "release_year", "tmdb_data", "fetched_at")
    for start in range(1_000_000, 1_000_000 + movies, 1000):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for tmdb_id in range(start, min(start + 1000, 1_000_000 + movies)):
            p = whole_payload(template, tmdb_id, rng)
            writer.writerow((tmdb_id, p["title"], p["release_date"], YEAR, json.dumps(p), fetched_at))
        buffer.seek(0)
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                cursor.copy_expert(f"COPY movies ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)
            raw.commit()
        finally:
            raw.close()
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE movies")


def derive_all_but(engine, part: str) -> None:
    """Make the stored year current under today's rules except `part`'s tables (not measured):
    core and other parts marked current, then `part` derived once, so its tables hold the rows
    the measured run replaces, as in a warehouse that has run for a while."""
    from cinegraph_assets.tmdb import movie_parts
    from cinegraph_assets.tmdb.rederive import rederive_parts

    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE movies SET rules_version = %(v)s", {"v": movie_parts.RULES_VERSION})
        for name, other in movie_parts.PARTS.items():
            if name != part:
                conn.exec_driver_sql(
                    "INSERT INTO movie_rules (tmdb_id, part, version) SELECT tmdb_id, %(p)s, %(v)s FROM movies",
                    {"p": name, "v": other.version})
    rederive_parts(engine, YEAR)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE movie_rules")


def _rederive_in_this_process(url: str, queue, part: str | None = None) -> None:
    """The measured part, in a fresh process (spawned), so its peak RSS is the re-derive's own.
    With `part`, that part's rules version is bumped first (the one rule change measured)."""
    import dataclasses

    from cinegraph_assets.tmdb import movie_parts
    from cinegraph_assets.tmdb.rederive import rederive_year
    from cinegraph_assets.warehouse.engine import get_engine

    if part is not None:
        movie_parts.PARTS[part] = dataclasses.replace(movie_parts.PARTS[part],
                                                     version=movie_parts.PARTS[part].version + 1)
    engine = get_engine(url)
    server_before = server_cpu_seconds(engine)
    cpu_started = time.process_time()
    started = time.perf_counter()
    counts = rederive_year(engine, YEAR)
    queue.put({**counts, "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu_started,
               "server_cpu": server_cpu_seconds(engine) - server_before,
               "peak_rss_mb": _peak_rss_mb()})


def _peak_rss_mb() -> float:
    """This process's peak RSS since it started: VmHWM (ru_maxrss would carry over the parent's
    peak, which Linux keeps across the spawn's exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(url: str, movies: int, profile: str | None = None, part: str | None = PART) -> dict:
    """One measurement: `part`'s rules changed, or (part None) every movie re-derived whole."""
    from cinegraph_assets.warehouse.engine import get_engine
    from cinegraph_assets.warehouse.migrate import upgrade

    upgrade(url)
    started = time.perf_counter()
    store_year(get_engine(url), movies)
    if part is not None:
        derive_all_but(get_engine(url), part)
    setup_s = time.perf_counter() - started
    load_before = os.getloadavg()
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    child = spawn.Process(target=_rederive_in_this_process, args=(url, queue, part))
    child.start()
    sampler = None
    if profile:  # py-spy, every thread, idle included: waiting on PostgreSQL shows as idle in its call
        sampler = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "py-spy"), "record", "--idle",
                                    "--format", "raw", "--rate", "50", "-o", profile, "--pid", str(child.pid)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = queue.get()
    child.join()
    if sampler is not None:
        sampler.wait(timeout=60)
    n = max(1, result["rederived"])
    return {
        "name": NAME,
        "case": "one part" if part is not None else "everything",
        "movies": movies,
        "changed": f"part {part}" if part is not None else "everything (rules_version NULL)",
        "rederived": result["rederived"],
        "failed": result["rederive_failed"],
        "seconds": round(result["seconds"], 2),
        "movies_per_s": round(result["rederived"] / result["seconds"], 1),
        "cpu_ms_per_movie": {"rederive_process": round(1000 * result["cpu"] / n, 2),
                             "postgres": round(1000 * result["server_cpu"] / n, 2)},
        "cpu_movies_per_s": round(n / (result["cpu"] + result["server_cpu"]), 1),
        "peak_rss_mb": round(result["peak_rss_mb"], 1),
        "setup_seconds": round(setup_s, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "goals": GOALS,
        "met": {"movies_per_s": result["rederived"] / result["seconds"] >= 1000,
                "peak_rss_mb": result["peak_rss_mb"] <= 400},
    }


def run(movies: int, profile_dir=None, log=print) -> list[dict]:
    """Both measurements, each in its own throwaway PostgreSQL database (for `python -m benchmarks`):
    one part's rules changed (the goal applies here), then everything re-derived whole."""
    from benchmarks.postgres import throwaway_database

    records = []
    for part in (PART, None):
        log(f"{NAME}: storing {movies} movies, then re-deriving {f'part {part}' if part else 'them whole'}")
        profile = str(profile_dir / f"{NAME}_{part or 'all'}.collapsed") if profile_dir else None
        with throwaway_database("cinegraph_bench") as url:
            records.append(measure(url, movies, profile, part))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=2000)
    parser.add_argument("--url", default=None)
    parser.add_argument("--json", default=None)
    parser.add_argument("--profile", metavar="PATH", help="py-spy raw samples of the re-deriving process")
    parser.add_argument("--part", default=PART, help=f"the part whose rules change (default {PART})")
    parser.add_argument("--everything", action="store_true", help="re-derive every movie whole instead")
    args = parser.parse_args()

    from benchmarks.postgres import throwaway_database

    with (nullcontext(args.url) if args.url else throwaway_database("cinegraph_bench")) as url:
        record = measure(url, args.movies, args.profile, None if args.everything else args.part)
    print(json.dumps(record, indent=2))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(record, out, indent=2)


if __name__ == "__main__":
    main()
