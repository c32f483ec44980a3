"""Against the sandbox: its Oscar file for its synthetic catalog, movies imported by the TMDb assets."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from cinegraph_assets.oscars.assets import oscar_nominations
from cinegraph_assets.oscars.checks import oscar_checks
from cinegraph_assets.oscars.resource import OscarsSourceResource
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.schema import movies, oscar_nominations as nominations_table, oscar_nominees

pytestmark = pytest.mark.timeout(300)


def _metadata(result) -> dict:
    [event] = result.get_asset_materialization_events()
    return {key: value.value for key, value in event.materialization.metadata.items()}


def test_nominations_of_the_sandbox_catalog_find_their_movies_and_people(sandbox_factory, sqlite_warehouse_url, tmp_path):
    from cinegraph_assets.tmdb.assets import tmdb_assets
    from cinegraph_assets.tmdb.resource import TMDbResource

    sandbox = sandbox_factory(seed=7, scale="demo", start_date="2026-11-21",
                              year_size=["2004=60", "2005=60", "2006=60"], detail_size="small")
    resources = {
        "warehouse": WarehouseResource(database_url=sqlite_warehouse_url),
        "tmdb": TMDbResource(base_url=sandbox.tmdb_url, api_key="sandbox", state_dir=str(tmp_path)),
        "oscars_source": OscarsSourceResource(source_url=sandbox.oscars_url, state_dir=str(tmp_path)),
    }
    # Film year 2005 reads the movies of 2004..2006.
    imported = dg.materialize(tmdb_assets, resources=resources, tags={
        "dagster/asset_partition_range_start": "2004", "dagster/asset_partition_range_end": "2006"})
    assert imported.success

    first = dg.materialize([oscar_nominations, *oscar_checks], resources=resources, partition_key="2005")
    meta = _metadata(first)
    assert meta["source_status"] == "downloaded" and meta["nominations"] > 20
    assert all(e.passed for e in first.get_asset_check_evaluations())

    engine = get_engine(sqlite_warehouse_url)
    with engine.connect() as conn:
        known_ids = {i for (i,) in conn.execute(sa.select(movies.c.imdb_id).where(movies.c.imdb_id.is_not(None)))}
        rows = [dict(r._mapping) for r in conn.execute(sa.select(nominations_table))]
        nominees = conn.execute(sa.select(oscar_nominees).order_by(oscar_nominees.c.nomination_id)).all()
    with_known_id = [r for r in rows if r["film_imdb_id"] in known_ids]
    assert with_known_id and all(r["match_method"] == "imdb_id" for r in with_known_id)
    assert meta["matched_by_imdb_id"] == len(with_known_id)
    # The sandbox names actors, directors and writers from the film's own credits.
    assert meta["person_nominees"] > 0 and meta["persons_linked"] == meta["person_nominees"]

    again = dg.materialize([oscar_nominations, *oscar_checks], resources=resources, partition_key="2005")
    assert _metadata(again)["source_status"] == "not_modified"  # conditional GET answered 304
    with engine.connect() as conn:
        assert [dict(r._mapping) for r in conn.execute(sa.select(nominations_table))] == rows
        assert conn.execute(sa.select(oscar_nominees).order_by(oscar_nominees.c.nomination_id)).all() == nominees
