"""Details and movies in one step: movies are normalized while their details are still fetched,
and either asset can still be materialized alone."""

import dagster as dg
import pytest
import sqlalchemy as sa

from cinegraph_assets.tmdb.normalizer import StagedNormalizer
from cinegraph_assets.warehouse import schema
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets_tests.tmdb.test_assets import ALL, metadata, resources, year_ids


def staged_count(url: str) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(schema.tmdb_details_staging)).scalar_one()


def test_movies_are_normalized_while_details_are_fetched(sandbox_factory, sqlite_warehouse_url, tmp_path):
    # 400 movies at 100 requests/s: four seconds of fetching, long enough for several passes.
    sandbox = sandbox_factory(year_size=["2024=400"], detail_size="small", latency_ms=20)
    truth = sandbox.truth(2024)
    result = dg.materialize(ALL, partition_key="2024",
                            resources=resources(sandbox, sqlite_warehouse_url, tmp_path, max_rps=100))
    assert result.success
    movies = metadata(result, "movies")
    assert movies["normalized"] == len(truth) and year_ids(sqlite_warehouse_url, 2024) == truth
    assert movies["normalize_passes"] >= 3
    # Most of the year was normalized before the last response arrived: only the last batches wait.
    assert movies["normalized_after_fetch"] < len(truth) / 4, movies
    assert staged_count(sqlite_warehouse_url) == 0


def test_details_alone_stages_and_movies_alone_normalizes(sandbox_factory, sqlite_warehouse_url, tmp_path):
    sandbox = sandbox_factory(year_size=["2024=60"], detail_size="small")
    truth = sandbox.truth(2024)
    res = resources(sandbox, sqlite_warehouse_url, tmp_path)
    details = dg.materialize(ALL, partition_key="2024", resources=res,
                             selection=["tmdb_discovered_movies", "tmdb_movie_details"])
    assert details.success
    assert {e.asset_key.to_user_string() for e in details.get_asset_materialization_events()} == {
        "tmdb_discovered_movies", "tmdb_movie_details"}
    assert staged_count(sqlite_warehouse_url) == len(truth)
    assert year_ids(sqlite_warehouse_url, 2024) == set()  # movies was not selected: nothing written

    movies = dg.materialize(ALL, partition_key="2024", resources=res, selection=["movies"])
    assert movies.success
    assert metadata(movies, "movies")["normalized"] == len(truth)
    assert year_ids(sqlite_warehouse_url, 2024) == truth
    assert staged_count(sqlite_warehouse_url) == 0
    assert sum(sandbox.stats()["requests"].get("/3/movie/{id}", {}).values()) == len(truth)


def test_a_normalizer_that_fails_stops_the_fetch_with_its_error(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'no_tables.sqlite'}")  # never migrated
    normalizer = StagedNormalizer(engine, 2024)
    with normalizer:
        normalizer.staged()
        normalizer._thread.join(timeout=30)
        with pytest.raises(sa.exc.OperationalError, match="tmdb_details_staging"):
            normalizer.staged()
    with pytest.raises(sa.exc.OperationalError):
        normalizer.finish()
