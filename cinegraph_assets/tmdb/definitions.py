"""Dagster definitions of the tmdb room (merged by cinegraph_assets.definitions)."""

import dagster as dg

from cinegraph_assets.table_metadata import described
from cinegraph_assets.tmdb.assets import tmdb_assets
from cinegraph_assets.tmdb.catalog_assets import catalog_assets, catalog_checks
from cinegraph_assets.tmdb.checks import tmdb_checks
from cinegraph_assets.tmdb.resource import TMDbResource

defs = dg.Definitions(
    assets=described(tmdb_assets + catalog_assets),
    asset_checks=tmdb_checks + catalog_checks,
    resources={"tmdb": TMDbResource()},
)
