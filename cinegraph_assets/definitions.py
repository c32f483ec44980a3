"""The one place that assembles the platform: every room's assets, checks, schedules and sensors,
plus the resources they share.

Loaded lazily (`@dg.definitions`): Dagster calls `defs()` when it loads the code location, so the
settings that shape a definition (which automation starts switched off, the changes sensor's
interval) are read then, at run time, never when a module is imported.
"""

import dagster as dg

from cinegraph_assets.automation import definitions as automation
from cinegraph_assets.omdb import definitions as omdb
from cinegraph_assets.oscars import definitions as oscars
from cinegraph_assets.reporting import definitions as reporting
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb import definitions as tmdb


@dg.definitions
def defs() -> dg.Definitions:
    """Every room's definitions merged, with the automation as the environment asks for it."""
    return dg.Definitions.merge(
        dg.Definitions(resources={"warehouse": WarehouseResource()}),
        tmdb.defs,
        omdb.defs,
        oscars.defs,
        automation.defs_from_settings(),
        reporting.defs,
    )
