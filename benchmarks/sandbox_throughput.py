"""How fast the sandbox serves full appended TMDb detail responses at zero latency.

The sandbox must never be what a benchmark measures: the goal is at least 500 full appended
`/3/movie/{id}` responses a second on the 2-core machine. A concurrent client (worker processes,
each with keep-alive connections on threads) fetches every movie of one release year with the
append set the pipeline uses, twice:
- cold: each id for the first time (the body is generated),
- warm: the same ids again (served from the sandbox's body cache).
The client reads every body fully but does not parse it, so the figure is the server's, although
client and server share the machine's two cores (as they do in every benchmark run). Because that
machine is shared and often oversubscribed, each pass also reports the sandbox process's own CPU
time and `responses_per_server_cpu_second`: the rate one free core of sandbox time sustains.

    python -m benchmarks.sandbox_throughput [--quick] [--json PATH] [--workers 2] [--threads 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from cinegraph_assets.launcher import SandboxProcess

NAME = "sandbox_throughput"
APPENDS = "credits,videos,images,keywords,release_dates,external_ids,watch/providers,alternative_titles,translations"
GOAL_PER_SECOND = 500.0


def _fetch_all(args: tuple[str, int, list[int], int]) -> tuple[int, int, int, list[float]]:
    """One client process: `threads` keep-alive connections share the ids. -> (ok, errors, bytes, latencies)."""
    host, port, ids, threads = args
    lock = threading.Lock()
    queue = list(reversed(ids))
    totals = {"ok": 0, "errors": 0, "bytes": 0}
    latencies: list[float] = []

    def worker():
        conn = http.client.HTTPConnection(host, port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                movie_id = queue.pop()
            started = time.perf_counter()
            try:
                conn.request("GET", f"/3/movie/{movie_id}?api_key=sandbox&append_to_response={APPENDS}")
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
                ok, body = False, b""
            elapsed = time.perf_counter() - started
            with lock:
                totals["ok" if ok else "errors"] += 1
                totals["bytes"] += len(body)
                latencies.append(elapsed)
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return totals["ok"], totals["errors"], totals["bytes"], latencies


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux /proc), threads included."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_pass(host: str, port: int, ids: list[int], workers: int, threads: int, server_pid: int | None = None) -> dict:
    chunks = [ids[k::workers] for k in range(workers)]
    cpu_before = process_cpu_seconds(server_pid) if server_pid else None
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.map(_fetch_all, [(host, port, chunk, threads) for chunk in chunks])
    seconds = time.perf_counter() - started
    cpu_after = process_cpu_seconds(server_pid) if server_pid else None
    ok = sum(p[0] for p in parts)
    latencies = sorted(x for p in parts for x in p[3])
    server_cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return {
        # Load-independent: what one core of sandbox time buys (the machine is shared and noisy).
        "server_cpu_seconds": None if server_cpu is None else round(server_cpu, 2),
        "responses_per_server_cpu_second": round(ok / server_cpu, 1) if server_cpu else None,
        "responses": ok, "errors": sum(p[1] for p in parts), "seconds": round(seconds, 2),
        "responses_per_s": round(ok / seconds, 1),
        "mean_body_kb": round(sum(p[2] for p in parts) / max(ok, 1) / 1024, 1),
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
        "latency_p95_ms": round(1000 * latencies[int(len(latencies) * 0.95)], 1) if latencies else None,
    }


def measure(quick: bool = False, workers: int = 2, threads: int = 4, year: int = 2024,
            limit: int | None = None) -> dict:
    scale = "demo" if quick else "bench"
    with SandboxProcess(scale=scale, seed=7, start_date="2026-11-21", detail_size="full",
                        stderr=subprocess.DEVNULL, stop_grace=10.0) as sandbox:
        address = urlsplit(sandbox.url)
        host, port = address.hostname, address.port
        with urllib.request.urlopen(f"{sandbox.url}/_sandbox/truth/years/{year}", timeout=120) as r:
            ids = json.loads(r.read())["ids"]
        ids = ids[: (limit or (1500 if quick else 8000))]
        # A short warm-up so connection setup and first imports are not timed.
        run_pass(host, port, ids[:50], 1, 2)
        ids = ids[50:]
        cold = run_pass(host, port, ids, workers, threads, sandbox.process.pid)
        warm = run_pass(host, port, ids, workers, threads, sandbox.process.pid)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "name": NAME, "scale": scale, "year": year, "append_to_response": APPENDS,
        "client": {"processes": workers, "threads_per_process": threads, "keep_alive": True},
        "cpus": os.cpu_count(), "load_average_1m_after": load,
        "cold": cold, "warm": warm,
        "responses_per_s": cold["responses_per_s"],
        "goal_responses_per_s": GOAL_PER_SECOND,
        "met": {"cold_at_least_500_per_s": cold["responses_per_s"] >= GOAL_PER_SECOND,
                "warm_at_least_500_per_s": warm["responses_per_s"] >= GOAL_PER_SECOND},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.sandbox_throughput", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="demo scale, 1,500 movies (default: bench, 8,000)")
    p.add_argument("--json", metavar="PATH")
    p.add_argument("--workers", type=int, default=2, help="client processes")
    p.add_argument("--threads", type=int, default=4, help="keep-alive connections per client process")
    p.add_argument("--movies", type=int, default=None, help="how many movies of the year to fetch")
    args = p.parse_args(argv)
    result = measure(quick=args.quick, workers=args.workers, threads=args.threads, limit=args.movies)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
