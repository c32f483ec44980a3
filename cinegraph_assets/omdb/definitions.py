"""Dagster definitions of the omdb room (merged by cinegraph_assets.definitions)."""

import dagster as dg

defs = dg.Definitions()
