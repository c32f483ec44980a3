"""The one place that assembles the platform: every room's assets, checks, schedules and sensors,
plus the resources they share."""

import dagster as dg

from cinegraph_assets.automation.definitions import defs as automation_defs
from cinegraph_assets.omdb.definitions import defs as omdb_defs
from cinegraph_assets.oscars.definitions import defs as oscars_defs
from cinegraph_assets.reporting.definitions import defs as reporting_defs
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb.definitions import defs as tmdb_defs

shared_resources = dg.Definitions(resources={"warehouse": WarehouseResource()})

defs = dg.Definitions.merge(
    shared_resources, tmdb_defs, omdb_defs, oscars_defs, automation_defs, reporting_defs
)
