"""seed_baseline: the approach this project replaces, on the same sandbox in the same run.

The old seed scripts fetched each movie with eight separate endpoint calls (/movie/{id}, /credits,
/videos, /images, /keywords, /release_dates, /external_ids, /watch/providers), sleeping a fixed
250 ms after each call to stay under the rate limit, one movie after another. We replay exactly
that against the same sandbox (same rate limit, same latency) on a small sample of the year's
movies: it runs at a fixed cost per movie, so a sample measures its rate as well as a year would.

The replay is generous to the old way: it keeps one HTTP connection alive (requests.Session) and
writes nothing to a database, so the speedup it yields is a lower bound.

Bound: the sleeps (8 x 250 ms = 2 s per movie) plus 8 round trips of the sandbox's latency.
"""

from __future__ import annotations

import time

import requests

from benchmarks.harness import SANDBOX_API_KEY, Sandbox, api_requests

NAME = "seed_baseline"
DESCRIPTION = "the old way: 8 endpoint calls per movie with 250 ms sleeps, sequential (same sandbox)"
SUB_RESOURCES = ("credits", "videos", "images", "keywords", "release_dates", "external_ids",
                 "watch/providers")
SLEEP_SECONDS = 0.25


def fetch_movie_the_old_way(session: requests.Session, base_url: str, tmdb_id: int) -> dict:
    """One movie as the seed scripts fetched it: 8 calls, a fixed sleep after each."""
    params = {"api_key": SANDBOX_API_KEY}
    movie = session.get(f"{base_url}/movie/{tmdb_id}", params=params, timeout=30)
    movie.raise_for_status()
    body = movie.json()
    time.sleep(SLEEP_SECONDS)
    for part in SUB_RESOURCES:
        response = session.get(f"{base_url}/movie/{tmdb_id}/{part}", params=params, timeout=30)
        response.raise_for_status()
        body[part] = response.json()
        time.sleep(SLEEP_SECONDS)
    return body


def run(sandbox: Sandbox, movie_ids: list[int]) -> dict:
    """Fetch `movie_ids` the old way; return the measurement's fields."""
    sandbox.reset_stats()
    session = requests.Session()
    started = time.perf_counter()
    for tmdb_id in movie_ids:
        fetch_movie_the_old_way(session, sandbox.tmdb_url, tmdb_id)
    seconds = time.perf_counter() - started
    session.close()
    traffic = api_requests(sandbox.stats())
    return {
        "movies": len(movie_ids),
        "seconds": round(seconds, 3),
        "movies_per_s": round(len(movie_ids) / seconds, 4),
        "seconds_per_movie": round(seconds / len(movie_ids), 3),
        "requests": traffic["requests"],
        "requests_per_movie": round(traffic["requests"] / len(movie_ids), 2),
        "rate_limited_429": traffic["rate_limited_429"],
    }
