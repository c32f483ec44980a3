"""Checks that Oscar nominations landed on the right movies."""


import dagster as dg

from cinegraph_assets.partitions import partition_years, release_years
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.warehouse import oscars as sql

#: Share of film nominations whose FilmId is in the warehouse that must be matched to that movie.
MIN_IMDB_MATCH_SHARE = 0.99


@dg.asset_check(asset="oscar_nominations", partitions_def=release_years)
def oscar_nominations_match_their_imdb_movies(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """At least 99% of film nominations whose IMDb id is in the warehouse point at that movie."""
    years = partition_years(context)
    with warehouse.engine.connect() as conn:
        total, matched = sql.imdb_match_coverage(conn, years)
    share = matched / total if total else 1.0
    return dg.AssetCheckResult(
        passed=share >= MIN_IMDB_MATCH_SHARE,
        metadata={
            "nominations_with_movie_in_warehouse": total,
            "matched_to_that_movie": matched,
            "share": round(share, 4),
            "required_share": MIN_IMDB_MATCH_SHARE,
        },
        description=None if share >= MIN_IMDB_MATCH_SHARE else (
            f"only {matched} of {total} nominations whose film is in the warehouse are matched to it"
        ),
    )


@dg.asset_check(asset="oscar_nominations", partitions_def=release_years)
def best_picture_nominations_are_matched(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """Every Best Picture nomination of the year is matched when its movie is in the warehouse."""
    years = partition_years(context)
    with warehouse.engine.connect() as conn:
        missing = sql.best_picture_nominations_not_matched(conn, years)
        nominated = sql.best_picture_nominations_count(conn, years)
    return dg.AssetCheckResult(
        passed=not missing,
        metadata={
            "best_picture_nominations": nominated,
            "not_matched_though_in_warehouse": len(missing),
            "titles": ", ".join(f"{m['film_title']} ({m['film_imdb_id']})" for m in missing[:20]) or "-",
        },
    )


oscar_checks = [oscar_nominations_match_their_imdb_movies, best_picture_nominations_are_matched]
