"""Re-derive a year's movies from the responses already stored, with zero TMDb requests.

When a parsing rule changes (movie_parts.RULES_VERSION is bumped) or a table is added, the
catalog does not need fetching again: every movie keeps its raw response in movies.tmdb_data.
`rederive_year` puts the responses of the movies derived by older rules back through the
normalizing path in chunks (warehouse/stored_responses.py says how), so the new rules apply to
them exactly as to a fresh fetch. Materializing `movies[year]` calls it; a backfill of `movies`
over all years re-derives every dated movie, and `tmdb_gap_movies` the undated ones. Plain Python
(no Dagster).
"""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine

from cinegraph_assets.tmdb import movie_parts
from cinegraph_assets.tmdb.normalizer import normalize_staged
from cinegraph_assets.warehouse import stored_responses

#: Movies staged per round: bounds the staging table's extra size (responses are about 50 KB).
CHUNK = 2_000


def rederive_year(engine: Engine, year: int | None, *, everything: bool = False, chunk: int = CHUNK,
                  batch_size: int = 200) -> dict:
    """Re-derive the year's movies older than the current rules (all of them with `everything`).
    Year None re-derives the undated movies (tmdb_gap_movies holds them; no year's run does).

    Returns numeric counts for metadata: rederived (movies whose rows were derived again),
    rederive_failed (stored responses the current rules refuse: recorded as fetch failures, so
    the next details run fetches them again, and their previous rows stay), rederive_s.
    """
    started = time.monotonic()
    with engine.connect() as conn:
        ids = stored_responses.movies_to_rederive(conn, year, movie_parts.RULES_VERSION, everything=everything)
    rederived = failed = 0
    for start in range(0, len(ids), chunk):
        with engine.begin() as conn:
            stored_responses.stage_stored_responses(conn, ids[start:start + chunk])
        counts = normalize_staged(engine, year, batch_size=batch_size)  # year None: the undated
        rederived += counts["normalized"]
        failed += counts["failed"]
    return {"rederived": rederived, "rederive_failed": failed,
            "rederive_s": round(time.monotonic() - started, 3)}
