"""Fixtures of the automation tests: a shared Dagster test instance, a warehouse, a settable clock,
and helpers that put the instance and the warehouse into a known state."""

from __future__ import annotations

from datetime import date, datetime, timezone

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from cinegraph_assets import clock
from cinegraph_assets.partitions import release_years
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.warehouse import discovery, schema
from cinegraph_assets.warehouse.rows import DiscoveredMovie, DiscoveryWindow
from cinegraph_assets.warehouse.bulk_write import upsert


@pytest.fixture(scope="session")
def shared_instance():
    """One Dagster test instance for the whole session (creating one takes seconds)."""
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def instance(shared_instance):
    """The shared test instance, emptied of runs and events before each test."""
    shared_instance.wipe()
    return shared_instance


@pytest.fixture
def warehouse(sqlite_warehouse_url) -> WarehouseResource:
    return WarehouseResource(database_url=sqlite_warehouse_url)


@pytest.fixture
def set_now(monkeypatch):
    """set_now(datetime) fixes the clock the schedules and sensors read."""

    def set_to(moment: datetime) -> datetime:
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        monkeypatch.setattr(clock, "utc_now", lambda: moment)
        return moment

    return set_to


def mark_imported(instance: dg.DagsterInstance, years, asset_key: str = "movies", metadata=None) -> None:
    """Record a successful materialization of `asset_key` for each year."""
    for year in years:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=asset_key, partition=str(year), metadata=metadata or {})
        )


def start_run(instance, year: int, status=dg.DagsterRunStatus.STARTED, job_name="tmdb_year_import",
              tags=None) -> str:
    """A run of `job_name` for `year` in the given status (no process behind it)."""
    run = create_run_for_test(
        instance, job_name=job_name, status=status,
        tags={"dagster/partition": str(year), **(tags or {})},
    )
    return run.run_id


def add_discovered(engine, year: int, ids, at: datetime, tmdb_total: int | None = None) -> None:
    """A complete discovery of `year` that found `ids`."""
    ids = list(ids)
    with engine.begin() as conn:
        discovery.record_discovery(
            conn, year,
            [DiscoveryWindow(date(year, 1, 1), date(year, 12, 31), "",
                                     len(ids) if tmdb_total is None else tmdb_total, 1)],
            [DiscoveredMovie(i, date(year, 6, 1), 1.0, False, False, f"Movie {i}") for i in ids],
            at,
        )


def add_movies(engine, year: int, ids, at: datetime, imdb: bool = True) -> None:
    """Movies rows of `year` (what normalize_staged would have written, minus the children)."""
    rows = [
        {"tmdb_id": i, "imdb_id": f"tt{i:07d}" if imdb else None, "title": f"Movie {i}",
         "release_date": date(year, 6, 1), "release_year": year, "popularity": float(i % 50),
         "fetched_at": at, "deleted_at": None}
        for i in ids
    ]
    with engine.begin() as conn:
        upsert(conn, schema.movies, rows, key=["tmdb_id"])


def _stub_year_asset(key: str, deps=()):
    @dg.asset(key=key, partitions_def=release_years, deps=list(deps))
    def stub():
        """Stands in for the real asset: the automation only refers to assets by key."""

    return stub


STUB_ASSETS = [
    _stub_year_asset("tmdb_discovered_movies"),
    _stub_year_asset("tmdb_movie_details", ["tmdb_discovered_movies"]),
    _stub_year_asset("movies", ["tmdb_movie_details"]),
    _stub_year_asset("omdb_ratings", ["movies"]),
    _stub_year_asset("oscar_nominations", ["movies"]),
]


@pytest.fixture(scope="session")
def automation_defs():
    """The automation room's definitions, over stand-in assets with the fixed keys."""
    from cinegraph_assets.automation.definitions import build_defs
    from cinegraph_assets.reporting.assets import catalog_progress

    from cinegraph_assets.omdb.resource import OMDbResource
    from cinegraph_assets.oscars.resource import OscarsSourceResource
    from cinegraph_assets.tmdb.resource import TMDbResource

    resources = {"warehouse": WarehouseResource(), "tmdb": TMDbResource(), "omdb": OMDbResource(),
                 "oscars_source": OscarsSourceResource()}
    return dg.Definitions.merge(
        dg.Definitions(assets=[*STUB_ASSETS, catalog_progress], resources=resources), build_defs()
    )


@pytest.fixture(scope="session")
def repository(automation_defs):
    return automation_defs.get_repository_def()
