"""Diagnostic: when a 429 comes back, was our request late leaving our process, or late being counted?

Imports one year (the real child, benchmarks/child.py) against a rate-limited sandbox. It records,
for every request, how long after its rate-limit slot the request's bytes were handed to the
socket (http.client's send), and compares that with the 429s the sandbox served:

    .venv/bin/python -m benchmarks.send_lateness [--rps 40] [--movies 6300] [--scale bench]

The client spaces slots 1 / (R x 0.95) apart. If no request leaves more than one interval minus a
little after its slot, no sliding second of *sends* can hold R, so every 429 is delay added after
the bytes left us (the loopback and the sandbox's own scheduling before it stamps the arrival).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.harness import REPO, ImportSpec, Sandbox, api_requests, sqlite_warehouse, tmdb_fields
from cinegraph_assets.tmdb.ratelimit import MemoryRateSlots, SlotRateLimiter

THRESHOLDS_MS = (10, 20, 30, 40, 50, 75, 100)


def _instrumented_child(spec_path: str, out_path: str) -> int:
    """Run benchmarks.child with the slot-to-send lateness of every request recorded."""
    from benchmarks import child
    from cinegraph_assets.warehouse import rate_slots

    local = threading.local()
    late: list[float] = []
    reserve = rate_slots.SQLiteRateSlots.reserve

    def timed_reserve(self, name: str, interval: float) -> float:
        wait = reserve(self, name, interval)
        local.due = time.monotonic() + wait  # the slot, as the limiter computes it
        return wait

    send = http.client.HTTPConnection.send

    def timed_send(self, data) -> None:
        due = getattr(local, "due", None)
        if due is not None:  # the first send of a request: its request line and headers
            late.append(time.monotonic() - due)
            local.due = None
        return send(self, data)

    rate_slots.SQLiteRateSlots.reserve = timed_reserve
    http.client.HTTPConnection.send = timed_send
    rc = child.main(spec_path, out_path)
    xs = sorted(late)
    n = len(xs)
    Path(out_path + ".late.json").write_text(json.dumps({
        "requests": n,
        "p50_ms": round(xs[n // 2] * 1000, 2) if n else None,
        "p99_ms": round(xs[int(n * 0.99)] * 1000, 2) if n else None,
        "max_ms": round(xs[-1] * 1000, 2) if n else None,
        "later_than_ms": {str(t): sum(1 for x in xs if x * 1000 > t) for t in THRESHOLDS_MS},
    }))
    return rc


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rps", type=float, default=40.0)
    p.add_argument("--movies", type=int, default=6300, help="the sandbox's year size")
    p.add_argument("--scale", default="bench", choices=["demo", "bench"])
    p.add_argument("--child", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        sys.exit(_instrumented_child(*args.child))

    work = Path(tempfile.mkdtemp(prefix="send_lateness_"))
    extra = {"crowded_date": "none"} if args.scale == "bench" else {}
    sandbox = Sandbox(scale=args.scale, name="lateness", log_dir=work, year_size=[f"2024={args.movies}"],
                      max_rps=args.rps, latency_ms=100.0, **extra).start()
    try:
        with sqlite_warehouse(work, "lateness") as url:
            spec = ImportSpec(warehouse_url=url, partitions=["2024"], year_counts=[2024],
                              tmdb=tmdb_fields(sandbox, max_rps=args.rps, state_dir=work / "state"),
                              dagster_home=str(work / "home"))
            Path(spec.dagster_home).mkdir(parents=True, exist_ok=True)
            spec_path, out_path = work / "spec.json", work / "out.json"
            spec_path.write_text(json.dumps(spec.__dict__))
            sandbox.reset_stats()
            subprocess.run([sys.executable, "-m", "benchmarks.send_lateness", "--child", str(spec_path),
                            str(out_path)], cwd=REPO, env={**os.environ, "DAGSTER_HOME": spec.dagster_home},
                           stdout=open(work / "child.log", "wb"), stderr=subprocess.STDOUT, check=True)
            traffic = api_requests(sandbox.stats())
    finally:
        sandbox.stop()
    lateness = json.loads(Path(str(out_path) + ".late.json").read_text())
    # The spacing the client really uses (headroom and margin live in tmdb/ratelimit.py only).
    interval_ms = 1000.0 * SlotRateLimiter(MemoryRateSlots(), args.rps).interval
    print(json.dumps({"max_rps": args.rps, "slot_interval_ms": round(interval_ms, 1),
                      "sandbox_requests": traffic["requests"], "sandbox_429": traffic["rate_limited_429"],
                      "send_lateness": lateness}, indent=1))


if __name__ == "__main__":
    main()
