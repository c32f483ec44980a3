"""The catalog_progress asset: how far the catalog has come, shown in the UI."""

import dagster as dg

from cinegraph_assets import clock
from cinegraph_assets.asset_keys import CATALOG_PROGRESS, MOVIES, OMDB_RATINGS, OSCAR_NOMINATIONS, TMDB_GAP_MOVIES
from cinegraph_assets.reporting.collect import collect_progress
from cinegraph_assets.reporting.picture import LEGEND, progress_picture_markdown
from cinegraph_assets.reporting.progress import CatalogProgress
from cinegraph_assets.resources import WarehouseResource

# Upstream only for the lineage graph: the table reads the warehouse and the instance, not inputs.
# It is refreshed by the catalog_progress_after_sync sensor (automation/catalog_progress_sensor.py) after every
# materialization of these assets: Declarative Automation would wait for all 150 upstream
# partitions to exist, which during the backfill they never do.
UPSTREAM = [MOVIES, OMDB_RATINGS, OSCAR_NOMINATIONS, TMDB_GAP_MOVIES]

#: The per-year table as Dagster table metadata: the UI shows it as a table, not behind a link.
YEAR_TABLE_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("year", "int", description="Release year (the partition)"),
    dg.TableColumn("imported", "int", description="Movies of the year in the warehouse (not deleted)"),
    dg.TableColumn("tmdb_total", "int", description="TMDb's own total over the year's discovery windows"),
    dg.TableColumn("coverage_pct", "float", description="imported / tmdb_total, in %; empty if unknown"),
    dg.TableColumn("status", "string", description="complete, partial, running, failed or pending"),
    dg.TableColumn("last_sync", "string", description="The year's last complete discovery (UTC)"),
    dg.TableColumn("failures", "int", description="Movies whose details still fail (retried next run)"),
])


def year_table(report: CatalogProgress) -> dg.TableMetadataValue:
    """One record per release year, newest first."""
    return dg.MetadataValue.table(
        records=[dg.TableRecord({
            "year": row.year,
            "imported": row.imported,
            "tmdb_total": row.tmdb_total,
            "coverage_pct": row.coverage_pct,
            "status": row.status,
            "last_sync": f"{row.last_sync:%Y-%m-%d %H:%M}" if row.last_sync else None,
            "failures": row.failures,
        }) for row in report.rows],
        schema=YEAR_TABLE_SCHEMA,
    )


@dg.asset(
    key=CATALOG_PROGRESS,
    group_name="reporting",
    deps=UPSTREAM,
    kinds={"sql"},
)
def catalog_progress(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Every release year with movies imported, TMDb's total, coverage, status and last sync.

    Shown on this page as a picture (one bar per year: TMDb's total, the share imported, the status
    by colour), the catalog's summary, and the per-year table. Status: complete (at least 99.5% of
    TMDb's total imported), partial, running (a run writing the year is queued or going), failed
    (its last run failed) or pending (never imported). Also the import rate and the backfill's ETA,
    OMDb coverage and the Oscar match rate, as numbers plotted over time. Refreshed after every
    sync; `python -m cinegraph_assets status` prints the same table (`--years`, `--unfinished`).
    """
    report = collect_progress(warehouse.engine, context.instance, clock.utc_now())
    metadata: dict = {
        "progress_chart": dg.MetadataValue.md(progress_picture_markdown(report.rows)),
        "progress_chart_legend": dg.MetadataValue.text(LEGEND),
        "summary": dg.MetadataValue.md("\n".join(f"- {line}" for line in report.summary_lines())),
        "progress_by_year": year_table(report),
        "dagster/column_schema": YEAR_TABLE_SCHEMA,
        "dagster/row_count": dg.MetadataValue.int(len(report.rows)),
    }
    for name, value in report.numeric_metadata().items():
        metadata[name] = dg.MetadataValue.float(float(value)) if isinstance(value, float) \
            else dg.MetadataValue.int(int(value))
    context.log.info("; ".join(report.summary_lines()))
    return dg.MaterializeResult(metadata=metadata)
