"""Dagster definitions of the reporting room (merged by cinegraph_assets.definitions)."""

import dagster as dg

defs = dg.Definitions()
