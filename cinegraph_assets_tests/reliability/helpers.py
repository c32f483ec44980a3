"""Shared pieces of the reliability tests: run the TMDb assets for one year against a sandbox and
read back what the warehouse holds."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb.assets import tmdb_assets
from cinegraph_assets.tmdb.resource import TMDbResource

TMDB_ASSETS = ["tmdb_discovered_movies", "tmdb_movie_details", "movies"]


def tmdb_resource(sandbox, state_dir: Path | str, **fields) -> TMDbResource:
    """A TMDbResource pointed at `sandbox` (key from the sandbox's defaults unless given)."""
    fields.setdefault("base_url", sandbox.tmdb_url)
    fields.setdefault("api_key", "sandbox")
    fields.setdefault("state_dir", str(state_dir))
    fields.setdefault("max_rps", 200)  # the sandbox has no limit unless a test sets one
    return TMDbResource(**fields)


def materialize_year(year: int, tmdb: TMDbResource, warehouse_url: str, *, instance=None,
                     selection=None, raise_on_error: bool = False):
    """Materialize the TMDb assets of one release year in this process."""
    return dg.materialize(
        tmdb_assets,
        partition_key=str(year),
        selection=selection,
        instance=instance,
        resources={"tmdb": tmdb, "warehouse": WarehouseResource(database_url=warehouse_url)},
        raise_on_error=raise_on_error,
    )


def materialization_metadata(result, asset: str) -> dict:
    """The numeric metadata of `asset`'s materialization in a run result."""
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(asset):
            metadata = event.step_materialization_data.materialization.metadata
            return {key: value.value for key, value in metadata.items()}
    raise AssertionError(f"no materialization of {asset} in the run")


def run_failure_text(result) -> str:
    """Every failure message of a run (step failures and the run failure), joined."""
    texts = []
    for event in result.all_events:
        if event.event_type_value in ("STEP_FAILURE", "RUN_FAILURE"):
            data = event.event_specific_data
            error = getattr(data, "error", None)
            if error is not None:
                texts.append(error.to_string())
            texts.append(event.message or "")
    return "\n".join(texts)


def year_ids(warehouse_url: str, year: int) -> list[int]:
    """tmdb_id of every (not deleted) movies row of the year, duplicates kept."""
    engine = sa.create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(
                "SELECT tmdb_id FROM movies WHERE release_year = :year AND deleted_at IS NULL"),
                {"year": year}).scalars())
    finally:
        engine.dispose()


def movies_missing_credits(conn, dialect: str) -> list[int]:
    """Movies whose raw response lists cast members but which have no movie_cast row: what a reader
    would see if a movie's rows were written in more than one transaction."""
    if dialect == "postgresql":
        has_cast = "jsonb_array_length(COALESCE(m.tmdb_data->'credits'->'cast', '[]'::jsonb)) > 0"
    else:
        has_cast = "COALESCE(json_array_length(json_extract(m.tmdb_data, '$.credits.cast')), 0) > 0"
    return list(conn.execute(sa.text(
        f"SELECT m.tmdb_id FROM movies m WHERE {has_cast} "
        "AND NOT EXISTS (SELECT 1 FROM movie_cast c WHERE c.tmdb_id = m.tmdb_id)")).scalars())


def cast_rows_not_matching_response(conn, dialect: str) -> list[int]:
    """Movies whose movie_cast rows are not exactly one per cast member of their raw response
    (a duplicate, a leftover of an earlier write, or a missing credit)."""
    if dialect == "postgresql":
        cast_len = "jsonb_array_length(COALESCE(m.tmdb_data->'credits'->'cast', '[]'::jsonb))"
    else:
        cast_len = "COALESCE(json_array_length(json_extract(m.tmdb_data, '$.credits.cast')), 0)"
    return list(conn.execute(sa.text(
        f"SELECT m.tmdb_id FROM movies m WHERE {cast_len} <> "
        "(SELECT count(*) FROM movie_cast c WHERE c.tmdb_id = m.tmdb_id)")).scalars())
