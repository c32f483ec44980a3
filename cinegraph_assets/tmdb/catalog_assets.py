"""The whole catalog: TMDb's daily id export (`tmdb_catalog_ids`) and the movies no year's discovery
can return (`tmdb_gap_movies`), plus the check that the warehouse accounts for the export.

Thin Dagster wiring: tmdb/id_export.py reads the export, warehouse/export_ids.py loads it,
warehouse/catalog_gap.py says which ids are the gap's and how much is accounted for, and the gap's
details go through the same fetcher (tmdb/details.py), client, shared rate limit and normalizer as
a year's.
"""

import math
import time
from datetime import date, datetime, timezone
from typing import Optional

import dagster as dg

from cinegraph_assets.asset_keys import TMDB_CATALOG_IDS, TMDB_GAP_MOVIES
from cinegraph_assets.pools import warn_if_unlimited
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.table_metadata import row_count_metadata
from cinegraph_assets.tmdb.assets import GROUP, POOL, DetailsConfig
from cinegraph_assets.tmdb.details import fetch_details
from cinegraph_assets.tmdb.failures import fails_clearly
from cinegraph_assets.tmdb.id_export import ExportError, find_export
from cinegraph_assets.tmdb.normalizer import StagedNormalizer, normalize_staged_ids
from cinegraph_assets.tmdb.rederive import rederive_year
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets.warehouse import catalog_gap
from cinegraph_assets.warehouse.export_ids import EmptyExport, ExportOutOfOrder, latest_export_date, load_export

#: The check fails below this share of the export accounted for (held, deleted or failed).
MIN_ACCOUNTED_PCT = 99.9
#: The gap run fails when more than TMDB_FAILURE_THRESHOLD of its requests failed, counted against
#: at least this many (one failure in a batch of ten is the sandbox's noise, not an outage).
MIN_FAILURE_BASE = 100

_PARTITIONS_NOTE = """
**Why it has no partitions:** the export is one list for the whole catalog, and the gap's movies
belong to no year's discovery. Both assets are unpartitioned and have no partition mapping to the
release years: the UI never shows a year as materialized by their runs. Dated gap movies (`video`
entries, movies whose date discover does not return) still get their year's rows in `movies`,
exactly as a year's run would write them; the year partitions' own materializations only ever
record what the years' runs did.
"""

CATALOG_IDS_DESCRIPTION = """Every movie id TMDb lists today: its daily id export, as a table.

TMDb publishes `movie_ids_MM_DD_YYYY.json.gz` (and `adult_movie_ids_...`, read when
TMDB_INCLUDE_ADULT is true) at TMDB_EXPORTS_BASE_URL by about 08:00 UTC. This loads the newest
published one: today's, or up to three days back when it is not out yet (`fallback_days`).
Table `tmdb_export_ids` keeps every id with when it was first and last seen and the export it left
(`left_on`); `tmdb_exports` one row per export. Malformed lines are counted and skipped; a truncated
file loads nothing (the previous export stays whole); an export under 90% of the previous one's size
marks nothing as left.

**When the newest published export is the one already loaded** (TMDb is late or skipped a day), the
run fails at once, downloading nothing, with a message naming the day loaded: loading it again would
change nothing, and a run that did nothing must not look like one that loaded something (its
materialization would also start another gap fill). Run config `reload: true` loads it again anyway
(harmless: the table ends as it was). The `tmdb_catalog_sync` sensor asks TMDb before it launches a
run, so it never starts such a run.

The check `catalog_accounted_for` judges the warehouse against this list once `tmdb_gap_movies` ran.
""" + _PARTITIONS_NOTE

GAP_DESCRIPTION = """Movies in TMDb's export that no release year's discovery returns, fetched and normalized.

`/discover/movie` filtered by release date never returns a movie without a release date, nor one
flagged `video`. This asks TMDb for the details of every export id no year's discovery holds,
most popular first, at most TMDB_GAP_BATCH_SIZE requests per run (a first fill against the real
TMDb may need 100,000+; each run continues where the last stopped, `remaining` and `eta_s` say how
far it is). One request per movie, the same client, shared TMDB_MAX_RPS rate limit, staging and
normalizing as the years' details; the same staleness rules refresh them. Undated movies get
`release_year` NULL, dated ones land in their year's rows. Not fetched: ids a year's discovery
returns (their year fetches them), ids already held and fresh, failed ids for 12 hours.

Ids that left the export get one details request each: a 404 (TMDb code 34) marks the movie
deleted (kept, never silently dropped); a response keeps it. Failures are recorded with their
reason (they count as accounted for); the run fails only when more than TMDB_FAILURE_THRESHOLD of
its batch failed (counted against at least 100 requests).

Undated movies belong to no year, so this asset also re-derives them from their stored responses
when the parsing rules changed (metadata `rederived`; run config `rederive_all: true` re-derives
all of them), with no TMDb request, as `movies[year]` does for a year.
""" + _PARTITIONS_NOTE


class CatalogIdsConfig(dg.Config):
    """Which day's export to look for (it falls back up to three days when that one is not out), and
    whether to load it again when it is the one already loaded."""

    day: Optional[str] = None  # YYYY-MM-DD; default: today (UTC)
    #: Load the export even when it is the one already loaded (otherwise that run fails, downloading nothing).
    reload: bool = False


def _now() -> datetime:
    return datetime.now(timezone.utc)


#: What both assets share in the UI: the tmdb group, their kinds and source tag.
_IN_THE_TMDB_GROUP = {"group_name": GROUP, "kinds": {"python", "sql"}, "tags": {"source": "tmdb"}}


@dg.asset(key=TMDB_CATALOG_IDS, description=CATALOG_IDS_DESCRIPTION, **_IN_THE_TMDB_GROUP)
@fails_clearly
def tmdb_catalog_ids(context: dg.AssetExecutionContext, config: CatalogIdsConfig, tmdb: TMDbResource,
                     warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = tmdb.resolved()
    try:
        day = date.fromisoformat(config.day) if config.day else _now().date()
    except ValueError:
        raise dg.Failure(f"run config day={config.day!r} is no date: use YYYY-MM-DD or leave it empty "
                         "for today") from None
    started = time.monotonic()
    try:
        export = find_export(day, base_url=settings.exports_base_url, include_adult=settings.include_adult)
        if not config.reload:
            _refuse_the_loaded_export(warehouse, export.day, day)
        loaded = load_export(warehouse.engine, export.day, export.records(),
                             include_adult=settings.include_adult)
    except (ExportError, ExportOutOfOrder, EmptyExport) as error:
        # Nothing was loaded: the warehouse keeps the previous export whole.
        raise dg.Failure(description=f"{error}. The previous export stays loaded.") from None
    stats = export.stats
    if stats.malformed:
        context.log.warning(stats.malformed_report())
    if loaded.left_held_back:
        context.log.warning(
            f"the export of {export.day} lists {loaded.movie_ids} movie ids, under 90% of the previous "
            f"one's: nothing was marked as left (a partial file is not believed about what it omits)")
    context.log.info(f"TMDb export of {export.day}: {loaded.ids} ids, {loaded.new_ids} new, "
                     f"{loaded.left_ids} left, {stats.malformed} malformed lines")
    with warehouse.engine.connect() as conn:
        row_counts = row_count_metadata(conn, TMDB_CATALOG_IDS)
    return dg.MaterializeResult(metadata={
        **row_counts,
        "export_date": export.day.isoformat(),
        "fallback_days": (day - export.day).days,
        "export_ids": loaded.ids,
        "movie_ids": loaded.movie_ids,
        "adult_ids": loaded.adult_ids or 0,
        "new_ids": loaded.new_ids,
        "left_ids": loaded.left_ids,
        "left_held_back": loaded.left_held_back,
        "malformed_lines": stats.malformed,
        "malformed": stats.malformed_report(),
        "lines": loaded.lines,
        "duplicate_ids": loaded.duplicate_ids,
        "megabytes_read": round(stats.bytes_read / 1e6, 2),
        "dagster/row_count": loaded.ids,
        "duration_s": round(time.monotonic() - started, 2),
    })


def _refuse_the_loaded_export(warehouse: WarehouseResource, found: date, day: date) -> None:
    """Fail, before anything is downloaded, when the newest published export is the one loaded."""
    with warehouse.engine.connect() as conn:
        newest = latest_export_date(conn)
    if newest != found:
        return
    not_out = f" (the export of {day} is not out)" if found != day else ""
    raise dg.Failure(description=(
        f"TMDb's export of {found} is already loaded and is still the newest published{not_out}: "
        "nothing was downloaded or changed. Run again after TMDb publishes the next one (about 08:00 "
        f"UTC), or set run config `reload: true` to load {found}'s again."))


def _gap_ran_since_export(context, engine) -> tuple[bool, str]:
    """Whether tmdb_gap_movies materialized after the newest export was loaded (and why not)."""
    with engine.connect() as conn:
        newest = latest_export_date(conn)
        loaded_at = catalog_gap.export_load_time(conn, newest) if newest else None
    if loaded_at is None:
        return False, "no TMDb export was loaded yet: materialize tmdb_catalog_ids"
    event = context.instance.get_latest_materialization_event(TMDB_GAP_MOVIES)
    if event is None or event.timestamp < loaded_at.timestamp():
        return False, (f"not judged yet: tmdb_gap_movies has not run since the export of {newest} was "
                       "loaded; materialize it (the daily catalog sync does)")
    return True, ""


@dg.asset_check(asset=TMDB_CATALOG_IDS, additional_deps=[TMDB_GAP_MOVIES], blocking=False)
def catalog_accounted_for(context: dg.AssetCheckExecutionContext, tmdb: TMDbResource,
                          warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """At least 99.9% of the export's ids are accounted for: held (dated or not), deleted, or failed
    with a reason. Judged once tmdb_gap_movies ran after the export was loaded; a failure names what
    is missing (counts by kind and example ids)."""
    include_adult = tmdb.resolved().include_adult
    judged, why_not = _gap_ran_since_export(context, warehouse.engine)
    with warehouse.engine.connect() as conn:
        counts = catalog_gap.catalog_accounting(conn, include_adult=include_adult)
        examples = catalog_gap.missing_examples(conn, include_adult=include_adult)
    metadata = {key: value for key, value in counts.items() if key != "export_date"}
    metadata["judged"] = judged
    passed = not judged or counts["accounted_pct"] >= MIN_ACCOUNTED_PCT
    missing = "; ".join(f"{kind} {counts[kind]} (e.g. {', '.join(map(str, ids))})"
                        for kind, ids in examples.items())
    if not judged:
        description = why_not
    elif passed:
        description = f"{counts['accounted_pct']}% of {counts['export_ids']} export ids accounted for"
    else:
        description = (f"only {counts['accounted_pct']}% of {counts['export_ids']} export ids accounted for "
                       f"(needs {MIN_ACCOUNTED_PCT}%); missing: {missing}. pending_gap: materialize "
                       "tmdb_gap_movies until its `remaining` is 0; pending_years: import those years")
    if missing:
        metadata["missing"] = missing
    return dg.AssetCheckResult(passed=passed, metadata=metadata, description=description)


@dg.asset(key=TMDB_GAP_MOVIES, deps=[TMDB_CATALOG_IDS], description=GAP_DESCRIPTION, pool=POOL, **_IN_THE_TMDB_GROUP)
@fails_clearly
def tmdb_gap_movies(context: dg.AssetExecutionContext, config: DetailsConfig, tmdb: TMDbResource,
                    warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = tmdb.resolved()
    engine = warehouse.engine
    warn_if_unlimited(context, POOL)
    with engine.connect() as conn:
        if latest_export_date(conn) is None:
            raise dg.Failure(description=(
                "tmdb_gap_movies has no export ids to compare with: tmdb_catalog_ids was never "
                "materialized. Materialize tmdb_catalog_ids first (or both together)."))
        todo = catalog_gap.gap_todo(conn, include_adult=settings.include_adult, now=_now(),
                                    policy=config.policy(), limit=settings.gap_batch_size)
    context.log.info(f"gap: {len(todo)} movies to ask TMDb for (at most TMDB_GAP_BATCH_SIZE="
                     f"{settings.gap_batch_size} per run), most popular first")
    started = time.monotonic()

    def normalize_gap(engine_, batch_size: int) -> dict:
        with engine_.connect() as conn_:
            staged = catalog_gap.staged_gap_ids(conn_)
        return normalize_staged_ids(engine_, staged, batch_size=batch_size)

    client = tmdb.client(warehouse.url)
    try:
        with StagedNormalizer(engine, None, normalize=normalize_gap) as normalizer:
            outcome = fetch_details(client, engine, None, todo, max_workers=settings.max_workers,
                                    log=context.log.info, on_staged=normalizer.staged,
                                    on_deleted=catalog_gap.mark_not_found, label="gap")
            fetch_s = time.monotonic() - started
            normalized = normalizer.finish()
    finally:
        client.close()
    with engine.connect() as conn:
        counts = catalog_gap.catalog_accounting(conn, include_adult=settings.include_adult)
        gap_size = catalog_gap.gap_size(conn, include_adult=settings.include_adult)
    metadata = _gap_metadata(todo, outcome, normalized, client.stats.as_metadata(), counts, gap_size,
                             fetch_s, settings.gap_batch_size)
    # Undated movies belong to no year, so no movies[year] run re-derives them: this asset does.
    metadata.update(rederive_year(engine, None, everything=config.rederive_all))
    metadata["duration_s"] = round(time.monotonic() - started, 2)
    if outcome.failed > settings.failure_threshold * max(len(todo), MIN_FAILURE_BASE):
        reasons = ", ".join(f"{r}: {n}" for r, n in sorted(outcome.failures_by_reason.items()))
        raise dg.Failure(
            description=(f"TMDb details failed for {outcome.failed} of {len(todo)} gap movies ({reasons}), "
                         f"more than TMDB_FAILURE_THRESHOLD ({settings.failure_threshold:.2%}) allows. The "
                         "fetched ones are saved and normalized; the failed ones are retried after 12 hours."),
            metadata=metadata)
    context.log.info(f"gap: {outcome.fetched} fetched, {outcome.deleted} deleted, {outcome.failed} failed; "
                     f"{counts['pending_gap']} remaining, {counts['accounted_pct']}% of the export accounted for")
    return dg.MaterializeResult(metadata=metadata)


def _gap_metadata(todo: list, outcome, normalized: dict, stats: dict, counts: dict, gap_size: int,
                  fetch_s: float, batch_size: int) -> dict:
    remaining = counts["pending_gap"]
    answered = outcome.fetched + outcome.deleted + outcome.failed
    rate = answered / fetch_s if answered and fetch_s > 0 else 0.0
    reasons = {f"needed_{reason}": count for reason, count in sorted(outcome.needed_by_reason.items())}
    return {
        **stats,
        "needed": len(todo),
        **reasons,
        "fetched": outcome.fetched,
        "normalized": normalized.get("normalized", 0),
        "undated": normalized.get("undated", 0),
        "deleted": outcome.deleted,
        "failed": outcome.failed + normalized.get("failed", 0),
        **{f"failed_{reason}": count for reason, count in sorted(outcome.failures_by_reason.items())},
        "requests_per_movie": round(stats["requests"] / answered, 3) if answered else 0.0,
        "remaining": remaining,
        "gap_ids": gap_size,
        "progress_pct": round(100.0 * (gap_size - remaining) / gap_size, 3) if gap_size else 100.0,
        "movies_per_second": round(rate, 2),
        # At this run's observed rate (0 when nothing remains); a run takes at most
        # TMDB_GAP_BATCH_SIZE of them, so this is the fetching time, not the calendar time.
        **({"eta_s": round(remaining / rate, 1) if remaining else 0.0} if rate or not remaining else {}),
        "runs_left": math.ceil(remaining / batch_size),
        "accounted_pct": counts["accounted_pct"],
        "export_ids": counts["export_ids"],
    }


catalog_assets = [tmdb_catalog_ids, tmdb_gap_movies]
catalog_checks = [catalog_accounted_for]
