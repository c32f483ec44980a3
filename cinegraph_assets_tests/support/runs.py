"""Scripts that run the platform's assets in a process of their own (to kill it, or to run two
at once: Dagster does not support two materialize() calls in threads of one process)."""

#: One run of the TMDb assets of a year in a process of its own (so it can be killed, or run beside
#: another), on the Dagster instance in DAGSTER_HOME, configured by the environment like production.
#: argv: year, comma-separated asset selection.
RUN_SCRIPT = """
import sys
import dagster as dg
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb.assets import tmdb_assets
from cinegraph_assets.tmdb.resource import TMDbResource
with dg.DagsterInstance.get() as instance:
    result = dg.materialize(tmdb_assets, selection=sys.argv[2].split(","), partition_key=sys.argv[1],
                            instance=instance, resources={"tmdb": TMDbResource(), "warehouse": WarehouseResource()})
sys.exit(0 if result.success else 1)
"""
