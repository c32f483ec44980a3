"""Diagnostic: are 429s caused by our client's spacing, or by jitter after the request leaves it?

Sends one details request per movie through the real TMDbClient and the instance-wide
SlotRateLimiter (SQLite slots, as `make run` has) on 16 threads against a sandbox with a rate limit,
records the moment each request is released by the limiter, and compares the most sends our client
made in any sliding second with the 429s the sandbox served (it counts a sliding second at arrival).

    .venv/bin/python -m benchmarks.send_jitter [--rps 40] [--movies 1200]

If the client never released more than R sends in a second but the sandbox still answered 429,
the requests bunched on the way (thread scheduling in either process, the network).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks.harness import SANDBOX_API_KEY, Sandbox


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    start = best = 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rps", type=float, default=40.0)
    p.add_argument("--movies", type=int, default=1200)
    p.add_argument("--workers", type=int, default=16)
    args = p.parse_args(argv)

    from cinegraph_assets.tmdb.client import TMDbClient
    from cinegraph_assets.tmdb.details import fetch_movie
    from cinegraph_assets.tmdb.ratelimit import shared_rate_limiter

    sandbox = Sandbox(scale="demo", name="jitter", year_size=[f"2024={args.movies + 200}"],
                      max_rps=args.rps, latency_ms=100).start()
    try:
        ids = sorted(sandbox.truth(2024))[: args.movies]
        limiter = shared_rate_limiter(args.rps, warehouse_url=None, state_dir=tempfile.mkdtemp())
        sends: list[float] = []
        lock = threading.Lock()
        acquire = limiter.acquire

        def recording_acquire() -> float:
            waited = acquire()
            with lock:
                sends.append(time.time())
            return waited

        limiter.acquire = recording_acquire
        client = TMDbClient(base_url=sandbox.tmdb_url, api_key=SANDBOX_API_KEY, rate_limiter=limiter)
        sandbox.reset_stats()
        started = time.time()
        with ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(lambda i: fetch_movie(client, i), ids))
        seconds = time.time() - started
        stats = sandbox.stats()
    finally:
        sandbox.stop()
    print(json.dumps({
        "max_rps": args.rps, "movies": len(ids), "seconds": round(seconds, 2),
        "sends_per_s": round(len(sends) / seconds, 2),
        "client_max_sends_in_any_second": max_in_window(sends),
        "sandbox_429": stats["rate_limited"],
        "missed_slots": getattr(limiter, "missed_slots", None),
    }))


if __name__ == "__main__":
    main()
