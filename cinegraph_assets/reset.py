"""`python -m cinegraph_assets reset` and `refetch`: starting release years over on purpose.

reset forgets the years in the warehouse (warehouse/reset.py says what goes and what stays: the
OMDb quota ledger always stays) and wipes the same partitions of every year asset in the Dagster
instance, so the UI shows them missing, exactly as the warehouse now is; the catalog_backfill
sensor (or Jobs > tmdb_year_import > Materialize all in the UI) imports them again.

Dagster's open-source event storages (SQLite, PostgreSQL) cannot wipe single partitions
(wipe_asset_partitions raises NotImplementedError), only whole assets. So where that is the case,
each year asset is wiped whole and the latest materialization of every year it keeps is recorded
again, with its metadata and the time of the original (ORIGINAL_TIME_KEY, which the freshness
check reads): the kept years stay materialized with their numbers; only the UI's list of their
earlier materializations starts over.

refetch keeps everything and marks every discovered movie of the years changed, so the next
import of those years fetches each movie's details again, whatever their age.

Both refuse years that a queued or running run is writing: resetting under a run would leave
half a year behind it.
"""

from __future__ import annotations

import contextlib
import sys
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from cinegraph_assets.asset_keys import OMDB_RATINGS, OSCAR_NOMINATIONS, TMDB_ASSETS
from cinegraph_assets.home import existing_instance
from cinegraph_assets.instance_history import ORIGINAL_TIME_KEY, active_years, materialized_at
from cinegraph_assets.omdb.resource import OMDbResource
from cinegraph_assets.upstream import import_in_the_ui
from cinegraph_assets.warehouse import ratings
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets.warehouse.reset import forget_years, mark_years_for_refetch

#: The partitioned assets whose partitions a reset wipes in the Dagster instance.
YEAR_ASSETS = (*TMDB_ASSETS, OMDB_RATINGS, OSCAR_NOMINATIONS)


def years_text(years: list[int]) -> str:
    """1990, or 1920-1925 for a run of consecutive years, else the list."""
    if len(years) > 1 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return ", ".join(map(str, years))


class YearsBusy(RuntimeError):
    """A queued or running run writes one of the years; the message names the runs."""


@contextlib.contextmanager
def _instance_unless_busy(home: Path, years: list[int]):
    """The Dagster instance in `home` (None if there is none); YearsBusy when a run writes `years`."""
    instance = existing_instance(home)
    try:
        busy = {} if instance is None else {
            year: run_id for year, run_id in active_years(instance, movies_only=False).items() if year in years}
        if busy:
            runs = ", ".join(f"{year} (run {run_id[:8]})" for year, run_id in sorted(busy.items()))
            raise YearsBusy(f"Not done: {runs} is being written by a queued or running run. Wait for "
                            "it to end or terminate it in the UI (Runs), then run this command again.")
        yield instance
    finally:
        if instance is not None:
            instance.dispose()


def wipe_partitions(instance: dg.DagsterInstance, key: dg.AssetKey, years: list[int]) -> bool:
    """Make `years` of `key` show as never materialized; False when none of them was."""
    done = {int(k) for k in instance.get_materialized_partitions(key) if k.isdigit()}
    wiped = [str(year) for year in years if year in done]
    if not wiped:
        return False
    try:
        instance.wipe_asset_partitions(key, wiped)
        return True
    except NotImplementedError:
        pass  # the open-source storages: wipe the asset, record the kept years again
    kept = []
    for year in sorted(done - set(years)):
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[str(year)]), limit=1).records
        kept.append((str(year), record))
    instance.wipe_assets([key])
    for partition, record in kept:
        original = record.asset_materialization
        instance.report_runless_asset_event(dg.AssetMaterialization(
            asset_key=key, partition=partition, description=original.description, tags=original.tags,
            metadata={**original.metadata,
                      ORIGINAL_TIME_KEY: dg.MetadataValue.timestamp(materialized_at(record))}))
    return True


def reset_years(years: list[int], url: str, home: Path) -> int:
    """Forget `years` in the warehouse at `url` and in the instance in `home` (see the module)."""
    try:
        with _instance_unless_busy(home, years) as instance:
            engine = get_engine(upgrade(url))
            with engine.begin() as conn:
                deleted = forget_years(conn, years)
                used = ratings.omdb_requests_used(conn, OMDbResource().now().date())
            wiped = [key.to_user_string() for key in YEAR_ASSETS
                     if instance is not None and wipe_partitions(instance, key, years)]
    except YearsBusy as exc:
        print(exc, file=sys.stderr)
        return 1
    label = years_text(years)
    shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    print(f"Reset {label} in {shown}: {deleted['movies']} movies, {deleted['discovered_movies']} "
          f"discovered ids and {deleted['oscar_nominations']} Oscar nominations deleted.")
    print(f"Kept: the OMDb quota ledger ({used} requests used today) and OMDb's answers, which "
          "attach again when the movies return.")
    if instance is None:
        print(f"No Dagster instance in {home}: no partitions to wipe.")
    else:
        print(f"Dagster instance in {home}: {label} now shows as missing for "
              f"{', '.join(wiped) or 'every year asset (none was materialized)'}.")
    print(f"Import again: {import_in_the_ui(years)}, or leave the catalog_backfill sensor on.")
    return 0


def refetch_years(years: list[int], url: str, home: Path) -> int:
    """Mark every discovered movie of `years` for a fresh fetch of its details (see the module)."""
    try:
        with _instance_unless_busy(home, years):
            engine = get_engine(upgrade(url))
            with engine.begin() as conn:
                marked = mark_years_for_refetch(conn, years, datetime.now(timezone.utc))
    except YearsBusy as exc:
        print(exc, file=sys.stderr)
        return 1
    label = years_text(years)
    if not marked:
        print(f"Nothing to re-fetch: {label} was never discovered. Import it instead: "
              f"{import_in_the_ui(years)}.", file=sys.stderr)
        return 1
    print(f"Marked {marked} movies of {label} to be fetched again. The next import of {label} "
          f"fetches every one of them: {import_in_the_ui(years)} (the daily sync does it for the "
          "current and previous year by itself).")
    return 0
