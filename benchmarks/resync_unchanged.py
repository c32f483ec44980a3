"""resync_unchanged: the same year materialized again right away, nothing having changed.

A re-sync must not re-download the year: discovery walks the discover pages again (that is how it
learns of new, moved and vanished movies), and tmdb_movie_details asks the warehouse which movies
need details (new, changed, stale by the staleness policy, or failed last time): none, right after
an import. So the requests should be the discover pages plus at most 1% of the movies, and the run
should take at most 15% of the first import.

Bound: the discover pages at the rate limit (pages / R seconds), plus Dagster's run start-up and
the warehouse queries that find nothing to do.
"""

from __future__ import annotations

NAME = "resync_unchanged"
DESCRIPTION = "the same year again right away: discover pages + <= 1% of movies, <= 15% of the first import's time"
GOALS = {"requests": "<= discover pages + 1% of movies", "ratio_to_first_import": "<= 0.15"}


def shape(first: dict, again: dict, *, settings: dict) -> dict:
    """first/again: results of rate_limited_import.import_year for the same sandbox and warehouse."""
    movies = first["movies"]
    discover_pages = first["traffic"]["discover_requests"]
    allowed = discover_pages + 0.01 * movies
    requests_ = again["traffic"]["requests"]
    ratio = again["seconds"] / first["seconds"]
    record = {
        "name": NAME,
        "movies": movies,
        "requests": requests_,
        "discover_requests": again["traffic"]["discover_requests"],
        "detail_requests": again["traffic"]["detail_requests"],
        "first_import_discover_pages": discover_pages,
        "allowed_requests": round(allowed, 1),
        "seconds": round(again["seconds"], 2),
        "first_import_seconds": round(first["seconds"], 2),
        "ratio_to_first_import": round(ratio, 4),
        "step_seconds": again["run"]["step_seconds"],
        "rate_limited_429": again["traffic"]["rate_limited_429"],
        "asset_metadata": again["run"]["metadata"],
        "peak_rss_mb": again["peak_rss_mb"],
        "settings": settings,
        "goals": GOALS,
    }
    record["met"] = {"requests": requests_ <= allowed, "ratio_to_first_import": ratio <= 0.15}
    return record
