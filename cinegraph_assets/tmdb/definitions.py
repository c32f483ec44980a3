"""Dagster definitions of the tmdb room (merged by cinegraph_assets.definitions)."""

import dagster as dg

defs = dg.Definitions()
