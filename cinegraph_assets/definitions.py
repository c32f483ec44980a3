"""The one place that assembles the platform: every room's assets, checks, schedules and sensors,
plus the resources they share."""

import dagster as dg

from cinegraph_assets.automation import definitions as automation
from cinegraph_assets.omdb import definitions as omdb
from cinegraph_assets.oscars import definitions as oscars
from cinegraph_assets.reporting import definitions as reporting
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb import definitions as tmdb

# Dagster loads the single Definitions object at module scope, so the rooms are imported as modules
# and merged here rather than imported by name.
defs = dg.Definitions.merge(
    dg.Definitions(resources={"warehouse": WarehouseResource()}),
    tmdb.defs,
    omdb.defs,
    oscars.defs,
    automation.defs,
    reporting.defs,
)
