"""Asset checks of the TMDb assets, per release year: coverage, uniqueness, titles, failures."""


import dagster as dg

from cinegraph_assets.asset_keys import MOVIES, TMDB_MOVIE_DETAILS
from cinegraph_assets.partitions import partition_years, release_years
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb.assets import tmdb_discovered_movies
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets.warehouse import data_checks, discovery, failed_fetches

#: Discovery must find at least this share of the movies TMDb says its windows hold.
MIN_COVERAGE_PCT = 99.5
_SAMPLE = 20  # ids shown in a failing check's metadata


def _sample(ids) -> str:
    ids = sorted(ids)
    return ", ".join(str(i) for i in ids[:_SAMPLE]) + (" ..." if len(ids) > _SAMPLE else "")


@dg.asset_check(asset=tmdb_discovered_movies, partitions_def=release_years)
def discovery_coverage(context: dg.AssetCheckExecutionContext,
                       warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Discovery found at least 99.5% of the movies TMDb reports for the year's windows.

    Below that, a window was cut wrongly or TMDb changed while we walked: rematerialize the year.
    """
    years = partition_years(context)
    rows = {}
    with warehouse.engine.connect() as conn:
        for year in years:
            rows[year] = discovery.discovery_summary(conn, year)
    discovered = sum(r["discovered"] for r in rows.values())
    total = sum(r["tmdb_total"] for r in rows.values())
    coverage = 100.0 if total == 0 else round(100.0 * min(discovered, total) / total, 3)
    worst = min(years, key=lambda y: (rows[y]["discovered"] / rows[y]["tmdb_total"])
                if rows[y]["tmdb_total"] else 1.0)
    never = [y for y in years if rows[y]["discovered_at"] is None]
    return dg.AssetCheckResult(
        passed=coverage >= MIN_COVERAGE_PCT and not never,
        metadata={"coverage_pct": coverage, "discovered": discovered, "tmdb_total": total,
                  "worst_year": worst, "years_never_discovered": len(never)},
        description=None if not never else f"never discovered: {never}",
    )


@dg.asset_check(asset=TMDB_MOVIE_DETAILS, partitions_def=release_years)
def detail_failures_under_threshold(context: dg.AssetCheckExecutionContext, tmdb: TMDbResource,
                                    warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Movies whose details still fail (after retries) stay under TMDB_FAILURE_THRESHOLD of the year.

    Failed movies are retried on every run; this check lists them so they are not forgotten.
    """
    threshold = tmdb.resolved().failure_threshold
    years = partition_years(context)
    failures: list[dict] = []
    discovered = 0
    with warehouse.engine.connect() as conn:
        for year in years:
            failures.extend(failed_fetches.fetch_failures(conn, year))
            discovered += discovery.discovery_summary(conn, year)["discovered"]
    by_reason: dict[str, int] = {}
    for failure in failures:
        by_reason[failure["reason"]] = by_reason.get(failure["reason"], 0) + 1
    return dg.AssetCheckResult(
        passed=len(failures) <= threshold * max(1, discovered),
        description=(f"{len(failures)} movies failed; they are retried on the next run"
                     if failures else None),
        metadata={"failed": len(failures), "discovered": discovered,
                  "failed_pct": round(100.0 * len(failures) / max(1, discovered), 3),
                  "threshold_pct": round(100.0 * threshold, 3),
                  **{f"failed_{reason}": n for reason, n in sorted(by_reason.items())},
                  "failed_ids": _sample(f["tmdb_id"] for f in failures)},
    )


@dg.asset_check(asset=MOVIES, partitions_def=release_years)
def tmdb_id_unique(context: dg.AssetCheckExecutionContext,
                   warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """No movie appears twice in `movies` or any of its child tables for the year."""
    duplicates: list[int] = []
    with warehouse.engine.connect() as conn:
        for year in partition_years(context):
            duplicates.extend(data_checks.duplicate_movie_ids(conn, year))
    return dg.AssetCheckResult(passed=not duplicates,
                               metadata={"duplicates": len(duplicates), "ids": _sample(duplicates)})


@dg.asset_check(asset=MOVIES, partitions_def=release_years)
def title_present(context: dg.AssetCheckExecutionContext,
                  warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Every (not deleted) movie of the year has a title."""
    missing: list[int] = []
    with warehouse.engine.connect() as conn:
        for year in partition_years(context):
            missing.extend(data_checks.movies_missing_title(conn, year))
    return dg.AssetCheckResult(passed=not missing,
                               metadata={"missing_title": len(missing), "ids": _sample(missing)})


tmdb_checks = [discovery_coverage, detail_failures_under_threshold, tmdb_id_unique, title_present]
