"""Render a results JSON as the Markdown table of BENCHMARKS.md (results beside the goals).

    .venv/bin/python -m benchmarks.report benchmarks/results/latest.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

#: (measurement, label, [(field, unit)], goal text)
ROWS = [
    ("rate_limited_import", "rate_limited_import R={max_rps:g}",
     ["movies", "requests", "seconds", "floor_seconds", "requests_per_s", "efficiency", "fetch_efficiency",
      "normalize_tail_s", "requests_per_movie", "rate_limited_429"],
     "efficiency >= 0.90, requests_per_movie <= 1.06, zero 429s"),
    ("seed_baseline", "seed_baseline (old way)", ["movies", "seconds", "movies_per_s", "ours_movies_per_s",
                                                  "speedup"], "reported: speedup = ours / baseline"),
    ("unthrottled_import", "unthrottled_import (PostgreSQL)",
     ["movies", "seconds", "movies_per_s", "details_movies_per_s", "normalize_movies_per_s", "cpu_seconds",
      "sandbox_cpu_seconds", "postgres_cpu_seconds", "cpu_ceiling_movies_per_s"], ">= 200 movies/s"),
    ("resync_unchanged", "resync_unchanged", ["requests", "allowed_requests", "seconds", "ratio_to_first_import"],
     "requests <= discover pages + 1% of movies; ratio <= 0.15"),
    ("memory", "memory", ["movies", "peak_rss_mb"], "<= 400 MB"),
    ("backfill_overhead", "backfill_overhead", ["partitions", "movies", "seconds", "seconds_per_partition",
                                                "steady_seconds_per_partition", "policy_partitions_per_run", "policy_seconds_per_partition",
                                                "interpreter_seconds"],
     "reported (see below)"),
    ("sandbox_throughput", "sandbox_throughput", ["responses_per_s"], ">= 500 responses/s (the sandbox's own goal)"),
]


def _verdict(record: dict) -> str:
    met = record.get("met")
    if record.get("skipped"):
        return "skipped"
    if not met:
        return "-"
    missed = [k for k, v in met.items() if not v]
    return "met" if not missed else "**missed**: " + ", ".join(missed)


def table(result: dict) -> str:
    lines = ["| measurement | result | goal | verdict |", "|---|---|---|---|"]
    for name, label, fields, goal in ROWS:
        for record in [r for r in result["measurements"] if r["name"] == name]:
            shown = []
            for field in fields:
                value = record.get(field)
                if value is None and name == "backfill_overhead" and field == "launched":
                    continue
                if value is not None:
                    shown.append(f"{field}={value}")
            if name == "backfill_overhead" and record.get("launched", {}).get("seconds_per_partition"):
                shown.append(f"launched_run_seconds={record['launched']['seconds_per_partition']}")
            lines.append(f"| {label.format(**record)} | {', '.join(shown)} | {goal} | {_verdict(record)} |")
    return "\n".join(lines)


def header(result: dict) -> str:
    m = result["machine"]
    return (f"{result['mode']} run of {result['started_at']} ({result['total_seconds']:.0f} s): "
            f"{m['hostname']}, {m['cpu_count']} x {m['cpu_model']}, {m['memory_mb']} MB, Python {m['python']}, "
            f"Dagster {m['dagster']}; load average at start {result.get('load_average_at_start')}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", type=Path)
    args = p.parse_args(argv)
    result = json.loads(args.results.read_text())
    print(header(result))
    print()
    print(table(result))
    if result.get("errors"):
        print("\nerrors: " + "; ".join(result["errors"]))


if __name__ == "__main__":
    main()
