"""Dagster definitions of the automation room (merged by cinegraph_assets.definitions)."""

import dagster as dg

defs = dg.Definitions()
