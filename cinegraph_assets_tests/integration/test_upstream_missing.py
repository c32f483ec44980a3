"""A run that did nothing is not a success: `movies`, `omdb_ratings` and `oscar_nominations`
materialized alone on a year that was never imported fail before any request, with a message
that says exactly what to select; once the year is imported, the same clicks succeed."""

from __future__ import annotations

import dagster as dg
import pytest

from cinegraph_assets.omdb.assets import omdb_ratings
from cinegraph_assets.omdb.resource import OMDbResource
from cinegraph_assets.oscars.assets import oscar_nominations
from cinegraph_assets.oscars.resource import OscarsSourceResource
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb.assets import tmdb_assets
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets_tests.reliability.helpers import run_failure_text, tmdb_resource, year_ids
from cinegraph_assets_tests.support.dagster_processes import free_port
from cinegraph_assets_tests.support.shared_data import shared_data

NEVER_IMPORTED = 1920
IMPORTED = 1990
ALL_ASSETS = [*tmdb_assets, omdb_ratings, oscar_nominations]


def _resources(warehouse_url: str, tmdb: TMDbResource) -> dict:
    return {"tmdb": tmdb, "omdb": OMDbResource(),
            "warehouse": WarehouseResource(database_url=warehouse_url),
            "oscars_source": OscarsSourceResource(source_url=str(shared_data("oscars", "oscars.csv")))}


def _materialize(selection: list[str], year: int, warehouse_url: str, tmdb: TMDbResource, instance):
    return dg.materialize(ALL_ASSETS, selection=selection, partition_key=str(year), instance=instance,
                          resources=_resources(warehouse_url, tmdb), raise_on_error=False)


def _step_failure(result) -> str:
    """The description of the run's one step failure (what the UI shows for a Failure)."""
    [failure] = [event.event_specific_data for event in result.all_events
                 if event.event_type_value == "STEP_FAILURE"]
    assert failure.user_failure_data is not None, failure.error.to_string()
    return failure.user_failure_data.description


@pytest.fixture
def nowhere(tmp_path, monkeypatch) -> TMDbResource:
    """A TMDb nobody answers at: a request would fail the run with a different message."""
    monkeypatch.setenv("OMDB_API_KEY", "sandbox")
    monkeypatch.setenv("OMDB_BASE_URL", f"http://127.0.0.1:{free_port()}/omdb/")
    return TMDbResource(base_url=f"http://127.0.0.1:{free_port()}/3", api_key="unused",
                        state_dir=str(tmp_path), max_retries=0)


@pytest.mark.parametrize(("asset", "message"), [
    ("movies",
     "movies[1920] has nothing to normalize: tmdb_movie_details[1920] was never materialized. "
     "Import the year instead: Jobs > tmdb_year_import > Materialize all > 1920 (movies alone only "
     "normalizes what tmdb_movie_details fetched)."),
    ("tmdb_movie_details",
     "tmdb_movie_details[1920] has no movie ids to fetch: tmdb_discovered_movies[1920] was never "
     "materialized. Import the year instead: Jobs > tmdb_year_import > Materialize all > 1920."),
    ("omdb_ratings",
     "omdb_ratings[1920] has no movies to rate: movies[1920] was never imported. Import the year "
     "first: Jobs > tmdb_year_import > Materialize all > 1920 (or Jobs > catalog_year_sync, which "
     "imports and rates it)."),
    ("oscar_nominations",
     "oscar_nominations[1920] has no movies to attach nominations to: movies[1919..1921] were never "
     "imported. Import the year first: Jobs > tmdb_year_import > Materialize all > 1920 (which loads "
     "its nominations too)."),
])
def test_an_asset_alone_on_a_never_imported_year_fails_naming_what_to_select(
        asset, message, nowhere, sqlite_warehouse_url):
    with dg.instance_for_test() as instance:
        result = _materialize([asset], NEVER_IMPORTED, sqlite_warehouse_url, nowhere, instance)
        assert not result.success
        assert _step_failure(result) == message
        assert not instance.get_materialized_partitions(dg.AssetKey(asset))


def test_once_imported_each_asset_alone_succeeds(sandbox_factory, sqlite_warehouse_url, tmp_path, monkeypatch):
    sandbox = sandbox_factory(seed=5, year_size=[f"{IMPORTED}=30"], detail_size="small")
    monkeypatch.setenv("OMDB_API_KEY", "sandbox")
    monkeypatch.setenv("OMDB_BASE_URL", sandbox.omdb_url)
    tmdb = tmdb_resource(sandbox, tmp_path)
    with dg.instance_for_test() as instance:
        imported = _materialize(["tmdb_discovered_movies", "tmdb_movie_details", "movies"], IMPORTED,
                                sqlite_warehouse_url, tmdb, instance)
        assert imported.success, run_failure_text(imported)
        assert set(year_ids(sqlite_warehouse_url, IMPORTED)) == sandbox.truth(IMPORTED)
        for asset in ("movies", "omdb_ratings", "oscar_nominations"):
            alone = _materialize([asset], IMPORTED, sqlite_warehouse_url, tmdb, instance)
            assert alone.success, f"{asset}: {run_failure_text(alone)}"
