"""The catalog_progress asset: how far the catalog has come, shown in the UI."""

import dagster as dg

from cinegraph_assets.automation import clock
from cinegraph_assets.reporting.collect import collect_progress
from cinegraph_assets.resources import WarehouseResource

# Upstream only for the lineage graph: the table reads the warehouse and the instance, not inputs.
# It is refreshed by the catalog_progress_after_sync sensor (automation/sensors.py) after every
# materialization of these assets: Declarative Automation would wait for all 150 upstream
# partitions to exist, which during the backfill they never do.
UPSTREAM = [dg.AssetKey("movies"), dg.AssetKey("omdb_ratings"), dg.AssetKey("oscar_nominations")]


@dg.asset(
    key="catalog_progress",
    group_name="reporting",
    deps=UPSTREAM,
    kinds={"sql"},
)
def catalog_progress(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Every release year with movies imported, TMDb's total, coverage, status and last sync.

    Status: complete (at least 99.5% of TMDb's total imported), partial, running (a run writing the
    year is queued or going), failed (its last run failed) or pending (never imported). Also the
    catalog's totals, the import rate and the backfill's ETA, OMDb coverage and the Oscar match
    rate. Refreshed after every sync; `python -m cinegraph_assets status` prints the same table.
    """
    report = collect_progress(warehouse.engine, context.instance, clock.utc_now())
    metadata: dict = {"progress": dg.MetadataValue.md(report.to_markdown())}
    for name, value in report.numeric_metadata().items():
        metadata[name] = dg.MetadataValue.float(float(value)) if isinstance(value, float) \
            else dg.MetadataValue.int(int(value))
    context.log.info("; ".join(report.summary_lines()))
    return dg.MaterializeResult(metadata=metadata)
