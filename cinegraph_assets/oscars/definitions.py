"""Dagster definitions of the oscars room (merged by cinegraph_assets.definitions)."""

import dagster as dg

defs = dg.Definitions()
