"""How many movies a second normalizer.normalize_staged moves from staging into the normalized tables.

Realistic full payloads: the captured Fight Club details with the real credits example grown to
~300 credits, release dates, videos, keywords, watch providers and images (~50 KB of JSON each),
with ids and people drawn from a 600,000-person pool so people rows are mostly new, as in a backfill.

    .venv/bin/python -m benchmarks.normalize_staged_throughput --movies 2000 [--url postgresql://...]

Without --url it makes (and drops) a throwaway database on the local PostgreSQL server.
Not a test: numbers depend on the machine; the result goes in BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import json
import pstats
import random
import time
from datetime import datetime, timezone
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tmdb"


def payload_template() -> dict:
    details = json.loads((SHARED / "captures" / "movie-details.json").read_text())
    details["credits"] = json.loads((SHARED / "openapi" / "examples" / "movie-credits.200.json").read_text())
    details["credits"].pop("id", None)
    details["release_dates"] = json.loads((SHARED / "captures" / "movie-release-dates.json").read_text())
    details["release_dates"].pop("id", None)
    details["external_ids"] = json.loads((SHARED / "captures" / "movie-external-ids.json").read_text())
    return details


def make_payload(template: dict, tmdb_id: int, rng: random.Random) -> dict:
    p = copy.deepcopy(template)
    p["id"] = tmdb_id
    p["title"] = f"Movie {tmdb_id}"
    p["release_date"] = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    cast = p["credits"]["cast"]
    crew = p["credits"]["crew"]
    cast.extend(copy.deepcopy(cast[: 300 - len(cast) - len(crew)]))
    for order, credit in enumerate(cast):
        credit["id"] = rng.randrange(1, 600_000)
        credit["order"] = order
        credit["credit_id"] = f"{tmdb_id:08x}c{order:015x}"
    for k, credit in enumerate(crew):
        credit["id"] = rng.randrange(1, 600_000)
        credit["credit_id"] = f"{tmdb_id:08x}r{k:015x}"
    p["videos"] = {"results": [
        {"iso_639_1": "en", "iso_3166_1": "US", "name": f"Official Trailer {k}", "key": f"k{tmdb_id}x{k}",
         "site": "YouTube", "size": 1080, "type": "Trailer", "official": True,
         "published_at": "2024-01-10T16:00:00.000Z", "id": f"{tmdb_id:08x}v{k:015x}"} for k in range(4)]}
    p["keywords"] = {"keywords": [{"id": rng.randrange(1, 300_000), "name": f"keyword {k}"} for k in range(8)]}
    p["watch/providers"] = {"results": {
        c: {"link": f"https://www.themoviedb.org/movie/{tmdb_id}/watch?locale={c}",
            "flatrate": [{"logo_path": "/x.jpg", "provider_id": 8, "provider_name": "Netflix", "display_priority": 1}],
            "rent": [{"logo_path": "/y.jpg", "provider_id": 2, "provider_name": "Apple TV", "display_priority": 2}]}
        for c in ("US", "GB", "DE", "FR")}}
    p["images"] = {"backdrops": [
        {"aspect_ratio": 1.778, "height": 1080, "iso_639_1": None, "file_path": f"/{tmdb_id}b{k}.jpg",
         "vote_average": 5.3, "vote_count": 3, "width": 1920} for k in range(20)], "logos": [], "posters": []}
    return p


def server_cpu_seconds(engine) -> float:
    """CPU seconds used so far by the PostgreSQL backends serving this database (reads /proc)."""
    import os

    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    probe = sa.create_engine(engine.url, poolclass=NullPool)  # not one of the pool's connections
    with probe.connect() as conn:
        me = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        pids = conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars().all()
    probe.dispose()
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        if pid == me:
            continue
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--url", default=None)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    from contextlib import nullcontext

    from cinegraph_assets.warehouse import staging
    from cinegraph_assets.tmdb import normalizer
    from cinegraph_assets.warehouse.engine import get_engine
    from cinegraph_assets.warehouse.migrate import upgrade
    from benchmarks.postgres import throwaway_database

    context = nullcontext(args.url) if args.url else throwaway_database("cinegraph_bench")
    with context as url:
        upgrade(url)
        engine = get_engine(url)
        rng = random.Random(7)
        template = payload_template()
        sample = make_payload(template, 1, rng)
        print(f"payload: {len(json.dumps(sample)) / 1024:.0f} KB, "
              f"{len(sample['credits']['cast']) + len(sample['credits']['crew'])} credits")
        now = datetime.now(timezone.utc)
        ids = list(range(1_000_000, 1_000_000 + args.movies))
        for start in range(0, len(ids), 200):
            items = [(i, make_payload(template, i, rng), now) for i in ids[start : start + 200]]
            with engine.begin() as conn:
                staging.save_raw_details(conn, items)
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        server_before = server_cpu_seconds(engine)
        cpu_started = time.process_time()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = normalizer.normalize_staged(engine, 2024, batch_size=args.batch_size)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        client_cpu = time.process_time() - cpu_started
        server_cpu = server_cpu_seconds(engine) - server_before
        print(f"normalized {result['normalized']} movies in {seconds:.1f} s: "
              f"{result['normalized'] / seconds:.0f} movies/s "
              f"({result['cast'] + result['crew']} credits, {result['people']} people rows)")
        n = max(1, result["normalized"])
        print(f"CPU per movie: client {1000 * client_cpu / n:.2f} ms, PostgreSQL {1000 * server_cpu / n:.2f} ms "
              f"-> {n / (client_cpu + server_cpu):.0f} movies per CPU-second (the machine is shared: "
              f"wall-clock rate depends on load, CPU per movie does not)")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
