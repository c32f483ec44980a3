"""Dagster definitions of the oscars room (merged by cinegraph_assets.definitions)."""

import dagster as dg

from cinegraph_assets.oscars.assets import oscar_nominations
from cinegraph_assets.oscars.checks import oscar_checks
from cinegraph_assets.oscars.resource import OscarsSourceResource
from cinegraph_assets.table_metadata import described

defs = dg.Definitions(
    assets=described([oscar_nominations]),
    asset_checks=oscar_checks,
    resources={"oscars_source": OscarsSourceResource()},
)
