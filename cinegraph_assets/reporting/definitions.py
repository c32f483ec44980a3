"""Dagster definitions of the reporting room (merged by cinegraph_assets.definitions).

catalog_progress is refreshed by the automation room's catalog_progress_after_sync sensor.
"""

import dagster as dg

from cinegraph_assets.reporting.assets import catalog_progress
from cinegraph_assets.table_metadata import described

defs = dg.Definitions(assets=described([catalog_progress]))
