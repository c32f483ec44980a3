"""A run that did nothing is not a success: refuse a year whose upstream was never built.

Materializing `movies` (or `omdb_ratings`, `oscar_nominations`) alone for a year nobody imported
used to end green with "0 movies": the person clicked what the README said and got nothing. Each
asset now says what "nothing to work on" means for it (nothing staged to normalize, no movies to
rate...) and which upstream asset feeds it. A year is refused when both hold:

- the warehouse holds nothing for the asset to work on, and
- the Dagster instance has no materialization of the upstream partition(s) for that year.

Both, not either: a year whose upstream ran and found nothing (a year without movies) is done,
and a warehouse filled by an earlier run is worked on even when this instance never saw that run.
The message names exactly what to select in the UI instead. A run covering several years fails
only when none of them has anything to work on; otherwise it goes on and warns which years had
nothing (a range run over partly imported years still does the part it can).

Checked before any request is sent: what is missing is known in advance.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import dagster as dg

from cinegraph_assets.instance_history import materialized_years

#: Where a person imports a year in the UI (the README's path): the job of the TMDb assets and the
#: year's Oscar nominations; its Materialize all opens the partition picker.
IMPORT_IN_THE_UI = "Jobs > tmdb_year_import > Materialize all > {years}"


def years_label(years: Sequence[int]) -> str:
    """1990, or 1990, 1991 for several years."""
    return ", ".join(str(year) for year in years)


def import_in_the_ui(years: Sequence[int]) -> str:
    return IMPORT_IN_THE_UI.format(years=years_label(years))


def years_with_nothing_to_do(
    instance: dg.DagsterInstance,
    years: Iterable[int],
    upstream: dg.AssetKey,
    has_work: Callable[[int], bool],
    upstream_years: Callable[[int], Iterable[int]] = lambda year: (year,),
) -> list[int]:
    """The years with nothing to work on whose upstream partitions were never materialized."""
    built = materialized_years(instance, upstream)
    return [year for year in years
            if not has_work(year) and not built.intersection(upstream_years(year))]


def refuse_empty_run(
    context: dg.AssetExecutionContext,
    years: Sequence[int],
    upstream: dg.AssetKey,
    has_work: Callable[[int], bool],
    message: Callable[[list[int]], str],
    upstream_years: Callable[[int], Iterable[int]] = lambda year: (year,),
) -> None:
    """Fail with `message(years)` (one line) when no year of the run has anything to work on (see the module);
    warn about the years with nothing when others have work."""
    empty = years_with_nothing_to_do(context.instance, years, upstream, has_work, upstream_years)
    if not empty:
        return
    if len(empty) == len(years):
        raise dg.Failure(description=message(empty))
    context.log.warning(f"The other years of the run go on. {message(empty)}")
