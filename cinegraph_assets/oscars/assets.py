"""The oscar_nominations asset: Academy Award nominations of a film year, attached to movies."""


from collections import Counter

import dagster as dg

from cinegraph_assets.asset_keys import MOVIES, OSCAR_NOMINATIONS
from cinegraph_assets.oscars.load import empty_stats, load_film_year, write_reference_tables
from cinegraph_assets.oscars.resource import OscarsSourceResource
from cinegraph_assets.oscars.source import OscarsSourceError
from cinegraph_assets.partitions import partition_years, release_years
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.table_metadata import row_count_metadata
from cinegraph_assets.upstream import import_in_the_ui, refuse_empty_run, years_label
from cinegraph_assets.warehouse import progress as progress_sql

#: A nomination for films of year Y may name a movie whose TMDb release year is Y-1 or Y+1
#: (festival premieres, late releases). allow_nonexistent_upstream_partitions: the first year
#: (1874) has no Y-1 and the current year no Y+1, and those partitions must still run.
MOVIES_OF_NEIGHBOUR_YEARS = dg.TimeWindowPartitionMapping(
    start_offset=-1, end_offset=1, allow_nonexistent_upstream_partitions=True
)


@dg.asset(
    key=OSCAR_NOMINATIONS,
    group_name="oscars",
    partitions_def=release_years,
    deps=[dg.AssetDep(MOVIES, partition_mapping=MOVIES_OF_NEIGHBOUR_YEARS)],
    # Loading a year takes well under a second: a range runs as one run, year by year.
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"python", "sql"},
    tags={"source": "oscar_data"},
)
def oscar_nominations(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    oscars_source: OscarsSourceResource,
) -> dg.MaterializeResult:
    """Academy Award nominations for the films of this year, each attached to its movie.

    Reads the oscar_data table (OSCARS_SOURCE_URL; downloaded again only when it changed), keeps the
    nominations whose film year is this partition (1927 for "1927/28"), and writes one row per
    nomination and film named to `oscar_nominations`, plus its nominees to `oscar_nominees`.

    Each film is matched to a movie released the year before, that year or the year after: first by
    IMDb id, else by normalized title with a fuzzy score (confidence recorded). Ambiguous titles are
    left unmatched, as are films not imported yet and awards that name no film; the reason is kept in
    `unmatched_reason`, and materializing again after the movies arrive fills them in. Actors,
    directors and writers are linked to the matched movie's TMDb credits by name.
    """
    years = partition_years(context)
    engine = warehouse.engine

    def movies_nearby(year: int) -> bool:
        with engine.connect() as conn:
            return progress_sql.movies_count(conn, year - 1, year + 1) > 0

    refuse_empty_run(
        context, years, MOVIES, movies_nearby,
        lambda empty: (
            f"oscar_nominations[{years_label(empty)}] has no movies to attach nominations to: "
            f"movies[{min(empty) - 1}..{max(empty) + 1}] were never imported. Import the year first: "
            f"{import_in_the_ui(empty)} (which loads its nominations too)."),
        upstream_years=lambda year: (year - 1, year, year + 1),
    )
    try:
        snapshot, table = oscars_source.read_table()
    except OscarsSourceError as exc:  # its message names the file or OSCARS_SOURCE_URL
        raise dg.Failure(description=str(exc)) from None
    if snapshot.error:
        context.log.warning(f"Using the cached Oscar source: {snapshot.error}")
    context.log.info(
        f"Oscar source {snapshot.source}: {snapshot.status}, sha256 {snapshot.sha256[:12]}, "
        f"{len(table.nominations)} nominations"
    )
    write_reference_tables(engine, table)

    totals: Counter = empty_stats()
    by_year: dict[str, dict[str, int]] = {}
    failed: dict[int, str] = {}
    for year in years:
        try:
            stats = load_film_year(engine, table, year, log=context.log.info)
        except Exception as exc:  # one bad year must not lose the others of a range run
            context.log.exception(f"Oscar nominations of film year {year} failed")
            failed[year] = f"{type(exc).__name__}: {exc}"
            continue
        totals.update(stats)
        by_year[str(year)] = dict(stats)
        context.log.info(f"Film year {year}: " + ", ".join(f"{k}={v}" for k, v in stats.items() if v))
    if failed:
        raise dg.Failure(
            description=(
                f"Oscar nominations failed for film year(s) {', '.join(map(str, sorted(failed)))}; "
                "the other years were written. Re-materialize those partitions after fixing: "
                + "; ".join(f"{y}: {m}" for y, m in sorted(failed.items()))
            )[:2000],
        )

    matched = totals["matched_by_imdb_id"] + totals["matched_by_title"]
    metadata: dict[str, dg.MetadataValue | int | float | str | bool] = {
        name: dg.MetadataValue.int(int(value)) for name, value in totals.items()
    }
    metadata["film_match_rate"] = dg.MetadataValue.float(
        round(matched / totals["film_nominations"], 4) if totals["film_nominations"] else 1.0
    )
    metadata["source_changed"] = dg.MetadataValue.bool(snapshot.changed)
    metadata["source_status"] = dg.MetadataValue.text(snapshot.status)
    metadata["source_sha256"] = dg.MetadataValue.text(snapshot.sha256)
    metadata["source_rows"] = dg.MetadataValue.int(len(table.nominations))
    metadata["years"] = dg.MetadataValue.int(len(years))
    with engine.connect() as conn:  # the film year's rows when the run holds one year
        metadata.update(row_count_metadata(conn, context.asset_key,
                                           years[0] if len(years) == 1 else None))
    if len(years) > 1:
        # A range run reports its totals on every partition; the split per year is kept here.
        metadata["by_year"] = dg.MetadataValue.json(by_year)
    return dg.MaterializeResult(metadata=metadata)
