"""memory: the peak resident memory of the process that imports a year.

The import runs in a child process (benchmarks/child.py: dagster.materialize of the three TMDb
assets in two steps, in-process executor), and the parent reads the child's ru_maxrss with wait4 when it exits:
the high-water mark of that process's resident set over its whole life, Python, Dagster and the
import together. It is the same child as rate_limited_import at R=40 (4,000 movies in quick mode,
a 38,000-movie year in full mode).

Bound: what the process holds at once. tmdb/details.py keeps only the responses in flight and one
unsaved batch (full responses are 10-100 KB), and the normalizer beside it works in batches of
50-200 movies, so the peak should not grow with the year; Dagster and its imports are most of it.
"""

from __future__ import annotations

NAME = "memory"
DESCRIPTION = "peak RSS of the process that runs the import (child process, ru_maxrss via wait4)"
GOALS = {"peak_rss_mb": "<= 400"}


def shape(result: dict, *, settings: dict) -> dict:
    record = {
        "name": NAME,
        "movies": result["movies"],
        "peak_rss_mb": result["peak_rss_mb"],
        "seconds": round(result["seconds"], 2),
        "settings": settings,
        "goals": GOALS,
    }
    record["met"] = {"peak_rss_mb": result["peak_rss_mb"] <= 400}
    return record
