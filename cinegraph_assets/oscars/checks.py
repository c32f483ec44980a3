"""Checks that Oscar nominations landed on the right movies.

Each check is a plain function of the warehouse and the film years (callable from tests and
scripts) wrapped in a partitioned @asset_check that runs after every materialization.
"""

from typing import Sequence

import dagster as dg
from sqlalchemy.engine import Engine

from cinegraph_assets.asset_keys import OSCAR_NOMINATIONS
from cinegraph_assets.partitions import partition_years, release_years
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.warehouse import oscars as sql

#: Share of film nominations whose FilmId is in the warehouse that must be matched to that movie.
MIN_IMDB_MATCH_SHARE = 0.99


def imdb_match_coverage_result(engine: Engine, film_years: Sequence[int]) -> dg.AssetCheckResult:
    """Passes when >= 99% of film nominations whose FilmId is a warehouse imdb_id point at that movie."""
    with engine.connect() as conn:
        total, matched = sql.imdb_match_coverage(conn, film_years)
    share = matched / total if total else 1.0
    passed = share >= MIN_IMDB_MATCH_SHARE
    return dg.AssetCheckResult(
        passed=passed,
        metadata={
            "nominations_with_movie_in_warehouse": total,
            "matched_to_that_movie": matched,
            "share": round(share, 4),
            "required_share": MIN_IMDB_MATCH_SHARE,
        },
        description=None if passed else (
            f"only {matched} of {total} nominations whose film is in the warehouse are matched to it; "
            "materialize oscar_nominations again for these years once their movies are imported"
        ),
    )


def best_picture_result(engine: Engine, film_years: Sequence[int]) -> dg.AssetCheckResult:
    """Passes when every Best Picture nomination whose movie is in the warehouse is matched to it."""
    with engine.connect() as conn:
        missing = sql.best_picture_nominations_not_matched(conn, film_years)
        nominated = sql.best_picture_nominations_count(conn, film_years)
    return dg.AssetCheckResult(
        passed=not missing,
        metadata={
            "best_picture_nominations": nominated,
            "not_matched_though_in_warehouse": len(missing),
            "titles": ", ".join(f"{m['film_title']} ({m['film_imdb_id']})" for m in missing[:20]) or "-",
        },
    )


@dg.asset_check(asset=OSCAR_NOMINATIONS, partitions_def=release_years)
def oscar_nominations_match_their_imdb_movies(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """At least 99% of film nominations whose IMDb id is in the warehouse point at that movie."""
    return imdb_match_coverage_result(warehouse.engine, partition_years(context))


@dg.asset_check(asset=OSCAR_NOMINATIONS, partitions_def=release_years)
def best_picture_nominations_are_matched(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """Every Best Picture nomination of the year is matched when its movie is in the warehouse."""
    return best_picture_result(warehouse.engine, partition_years(context))


oscar_checks = [oscar_nominations_match_their_imdb_movies, best_picture_nominations_are_matched]
