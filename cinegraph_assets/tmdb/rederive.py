"""Re-derive a year's movies from the responses already stored, with zero TMDb requests.

When a parsing rule changes or a table is added, the catalog does not need fetching again: every
movie keeps its raw response in movies.tmdb_data. `rederive_year` does the least work the rules
need, in two doors:
- the core rules changed (movie_parts.RULES_VERSION bumped): the responses of those movies go back
  through the whole normalizing path in chunks, exactly as a fresh fetch (every part included);
- one part's rules changed (a version in movie_parts.PARTS bumped, or a part added): only that
  part's fields are read from the stored responses, parsed by the same rules as a fresh fetch,
  and only that part's tables are replaced, a batch of movies per transaction. Credits, the most
  of a movie's cost, are not touched. Materializing `movies[year]` calls it; a backfill of `movies`
over all years re-derives every dated movie, and `tmdb_gap_movies` the undated ones. Plain Python
(no Dagster).
"""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine

from cinegraph_assets.tmdb import movie_parts
from cinegraph_assets.tmdb.fields import MalformedMovie
from cinegraph_assets.tmdb.normalizer import normalize_staged
from cinegraph_assets.warehouse import movie_rows, stored_responses

#: Movies staged per round: bounds the staging table's extra size (responses are about 50 KB).
CHUNK = 2_000
#: Movies per transaction when one part is rebuilt: one DELETE and one COPY per table each.
PART_BATCH = 2_000


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
    # The whole-movie door wrote every part at its current version: what is left is parts only.
    part_counts, part_movies = rederive_parts(engine, year)
    failed += sum(v for k, v in part_counts.items() if k.startswith("rederive_failed/"))
    return {"rederived": rederived + len(part_movies), "rederive_failed": failed, **part_counts,
            "rederive_s": round(time.monotonic() - started, 3)}


def rederive_parts(engine: Engine, year: int | None, *, batch: int = PART_BATCH) -> tuple[dict, set[int]]:
    """Rebuild, part by part, the tables of the year's movies whose rows of a part are older than
    its rules. Returns ({"rederived/<part>": movies}, the movies touched).

    A movie whose stored part the current rules refuse keeps its previous rows and version (it
    is counted in rederive_failed/<part>); its next fetch derives it whole.
    """
    counts: dict[str, int] = {}
    touched: set[int] = set()
    for name, part in movie_parts.PARTS.items():
        with engine.connect() as conn:
            ids = stored_responses.movies_with_old_part(conn, year, name, part.version)
        done = refused = 0
        for start in range(0, len(ids), batch):
            with engine.begin() as conn:
                rows: dict[str, list[dict]] = {attribute: [] for attribute in part.attributes}
                derived: list[int] = []
                for tmdb_id, fields in stored_responses.lock_and_read_fields(conn, ids[start:start + batch],
                                                                            part.fields):
                    try:
                        movie = movie_parts.parse_part(name, fields, tmdb_id)
                    except MalformedMovie:
                        refused += 1
                        continue
                    derived.append(tmdb_id)
                    for attribute, part_rows in movie.items():
                        rows[attribute].extend(part_rows)
                rules = [{"tmdb_id": tmdb_id, "part": name, "version": part.version} for tmdb_id in derived]
                movie_rows.replace_part(conn, derived, rows, rules)
            done += len(derived)
            touched.update(derived)
        if ids:
            counts[f"rederived/{name}"] = done
            counts[f"rederive_failed/{name}"] = refused
    return counts, touched
