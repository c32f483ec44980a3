"""Dagster definitions of the omdb room (merged by cinegraph_assets.definitions).

The coverage check (checks.py) is declared by the asset itself, evaluated in every materialization.
"""

import dagster as dg

from cinegraph_assets.omdb.assets import omdb_ratings
from cinegraph_assets.omdb.resource import OMDbResource
from cinegraph_assets.table_metadata import described

defs = dg.Definitions(assets=described([omdb_ratings]), resources={"omdb": OMDbResource()})
