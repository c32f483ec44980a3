"""The TMDb assets, one partition per release year: discovery -> raw details -> normalized movies.

Two steps: `tmdb_discovered_movies`, then `tmdb_details_and_movies`, a multi-asset that materializes
`tmdb_movie_details` and `movies` together, so responses are normalized while later ones are still
being fetched (tmdb/normalizer.py): the rate limit leaves the CPU idle, and normalizing after the
last request used to add a quarter to a year's run. Either asset can still be materialized alone.

Thin Dagster wiring: the work is done by discovery.py, details.py, normalizer.py (plain Python) and
the warehouse's stage modules (all SQL: discovered, details_queue, staging, movie_rows). Every asset reads `context.partition_keys` (never `partition_key`), so a run
may cover several years.
"""


import contextlib
import time
from datetime import datetime, timezone

import dagster as dg

from cinegraph_assets.asset_keys import MOVIES, TMDB_MOVIE_DETAILS
from cinegraph_assets.partitions import partition_years, release_years
from cinegraph_assets.pools import warn_if_unlimited
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.table_metadata import row_count_metadata
from cinegraph_assets.tmdb.details import APPEND_TO_RESPONSE, fetch_details
from cinegraph_assets.tmdb.discovery import discover_year
from cinegraph_assets.tmdb.failures import fails_clearly
from cinegraph_assets.tmdb.normalizer import StagedNormalizer, normalize_staged
from cinegraph_assets.tmdb.rederive import rederive_year
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets.upstream import import_in_the_ui, refuse_empty_run, years_label
from cinegraph_assets.warehouse import data_checks, details_queue, discovery, staging

#: Two years per backfill run. A backfill of every year (150+ partitions) starts about 77 runs, not
#: 150 one-year runs nor one run for everything:
#: - run start-up costs ~10 s; a recent year costs ~17 min at 40 requests/s, so pairing years halves
#:   the start-up overhead where it matters (the tiny old years) and is noise for the rest;
#: - the queue (4 backfill runs at once in production) keeps several runs working side by side, so
#:   one run's CPU-bound normalization overlaps another's rate-limited fetching, while
#:   TMDB_MAX_RPS still caps the total across all of them;
#: - a crash or a failed year takes down at most two years, and even those lose only in-flight
#:   requests: discovery is saved per year and details in small batches, so the rerun skips what
#:   is already stored, and the UI shows exactly which years failed.
BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=2)
GROUP = "tmdb"
#: Dagster concurrency pool of every asset that calls TMDb (limit it in dagster.yaml's
#: `concurrency: pools:`); the request rate itself is limited by TMDB_MAX_RPS across all runs.
POOL = "tmdb"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _report(context: dg.AssetExecutionContext, asset_key: dg.AssetKey, years: list[int],
            per_year: dict[int, dict], totals: dict) -> dict:
    """Per-year numbers as observations when a run covers several years; the materialization
    carries the run's totals (Dagster attaches one metadata set to every partition of a run)."""
    if len(years) > 1:
        for year in years:
            context.log_event(dg.AssetObservation(
                asset_key=asset_key, partition=str(year), metadata=per_year[year]))
        if "dagster/row_count" in per_year[years[-1]]:  # the table after the run's last year
            totals["dagster/row_count"] = per_year[years[-1]]["dagster/row_count"]
    return totals if len(years) > 1 else per_year[years[0]]


def _row_counts(engine, asset_key: dg.AssetKey, year: int) -> dict:
    with engine.connect() as conn:
        return row_count_metadata(conn, asset_key, year)


def _sum_numbers(rows: list[dict]) -> dict:
    summed: dict = {}
    for row in rows:
        for key, value in row.items():
            if key == "dagster/row_count":
                continue  # a table's total, not the year's share: _report takes the last one
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                summed[key] = summed.get(key, 0) + value
    return summed


@dg.asset(
    group_name=GROUP,
    partitions_def=release_years,
    backfill_policy=BACKFILL_POLICY,
    pool=POOL,
    kinds={"python", "sql"},
    tags={"source": "tmdb"},
)
@fails_clearly
def tmdb_discovered_movies(
    context: dg.AssetExecutionContext, tmdb: TMDbResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Every TMDb movie id whose primary release date falls in the year, from /discover/movie.

    **Why windows:** TMDb's discover serves at most 500 pages of 20 results (10,000) per query,
    while a recent year holds about 38,000 movies. The year is cut into date windows until each
    window's `total_results` is under the cap (a crowded window is cut again). A single day still
    over the cap (placeholder dates such as January 1st) is cut by vote-count ranges
    (`vote_count.gte` / `vote_count.lte`: 0-1, 2-5, 6-13, ... halved again where needed), which
    partition the day exactly; a single vote count still over the cap is cut by original language
    and any shortfall against TMDb's total is reported, never hidden.

    **Why this order:** pages are walked by release date (ties by id), never by popularity, which
    changes while we walk and would make us skip and repeat movies. Ids are de-duplicated anyway.

    **What is kept:** the ids (table `discovered_movies`) and TMDb's own total for each window
    (`discovery_windows`), so `coverage_pct` = found / TMDb's total. Ids that no longer show up
    are marked vanished, so their details are fetched again to learn where they went.
    Adult titles follow TMDB_INCLUDE_ADULT (default false, as TMDb's default).
    """
    years = partition_years(context)
    warn_if_unlimited(context, POOL)
    settings = tmdb.resolved()
    engine = warehouse.engine
    per_year: dict[int, dict] = {}
    for year in years:
        started = time.monotonic()
        client = tmdb.client(warehouse.url)
        try:
            result = discover_year(client, year, include_adult=settings.include_adult,
                                   max_workers=settings.max_workers, progress=context.log.info)
        finally:
            client.close()
        with engine.begin() as conn:
            stored = discovery.record_discovery(conn, year, result.windows, result.movies, _now())
        per_year[year] = {
            "discovered": stored["discovered"],
            "tmdb_total": stored["tmdb_total"],
            "coverage_pct": result.coverage_pct,
            "windows": stored["windows"],
            "new": stored["new"],
            "vanished": stored["vanished"],
            "uncovered_windows": len(result.uncovered) + len(result.shortfalls),
            "pages": result.pages,
            "duplicates_seen": result.duplicates,
            **client.stats.as_metadata(),
            "rate_limit_missed_slots": getattr(client.rate_limiter, "missed_slots", 0),
            "duration_s": round(time.monotonic() - started, 2),
            **_row_counts(engine, context.asset_key, year),
        }
        context.log.info(
            f"discovery {year}: {stored['discovered']} movies of TMDb's {stored['tmdb_total']} "
            f"({result.coverage_pct}%) in {stored['windows']} windows, {client.stats.requests} requests")
    totals = _sum_numbers(list(per_year.values()))
    if totals:
        totals["coverage_pct"] = round(100.0 * min(totals["discovered"], totals["tmdb_total"])
                                       / totals["tmdb_total"], 3) if totals["tmdb_total"] else 100.0
        totals["years"] = len(years)
    return dg.MaterializeResult(metadata=_report(context, context.asset_key, years, per_year, totals))


#: The staleness defaults live in one place, details_queue.StalenessPolicy; the run config mirrors them.
_DEFAULT_STALENESS = details_queue.StalenessPolicy()


class DetailsConfig(dg.Config):
    """How old fetched details may get before they are fetched again, by the movie's age
    (`*_days`); `rederive_all: true` makes `movies` re-derive every movie of the year from its
    stored TMDb response, not only those derived by older parsing rules (no request either way)."""

    recent_days: int = _DEFAULT_STALENESS.recent_days
    recent_max_age_days: int = _DEFAULT_STALENESS.recent_max_age_days
    half_year_days: int = _DEFAULT_STALENESS.half_year_days
    half_year_max_age_days: int = _DEFAULT_STALENESS.half_year_max_age_days
    year_days: int = _DEFAULT_STALENESS.year_days
    year_max_age_days: int = _DEFAULT_STALENESS.year_max_age_days
    older_max_age_days: int = _DEFAULT_STALENESS.older_max_age_days
    # `movies` re-derives from the stored responses the movies whose rows older parsing rules
    # made; true re-derives every movie of the year (no TMDb request either way).
    rederive_all: bool = False

    def policy(self) -> details_queue.StalenessPolicy:
        return details_queue.StalenessPolicy(**self.model_dump(exclude={"rederive_all"}))


DETAILS_DESCRIPTION = """Raw TMDb details of the year's movies: one request per movie, only the ones that need it.

Each movie is one `/movie/{id}` request with `append_to_response` for credits, videos, images,
keywords, release dates, external ids, watch providers, recommendations, similar titles,
alternative titles and translations. Fetched: new ids, ids TMDb reported changed, ids that
vanished from discovery, earlier failures, and details stale for the movie's age (released
within 30 days: older than 2 days; 180 days: 7; 365 days: 14; otherwise 30 - see the run
config). Everything else is `skipped_fresh`, so a second materialization right after the
first costs only discovery's requests.

Requests run on TMDB_MAX_WORKERS threads under one TMDB_MAX_RPS budget shared by every run.
Responses are saved in small batches as they arrive (table `tmdb_details_staging`), so a crash
loses only requests in flight. A 404 marks the movie deleted (it is kept, with `deleted_at`).
A movie still failing after retries is recorded with its reason and retried next run; the
partition fails only when failures pass TMDB_FAILURE_THRESHOLD (default 1% of the year),
otherwise the `detail_failures_under_threshold` check reports them. An invalid key stops
the run at once, naming TMDB_API_KEY / TMDB_ACCESS_TOKEN.

Computed in one step with `movies` (op `tmdb_details_and_movies`): saved responses are
normalized while later ones are fetched, so the year is done moments after its last request.
"""

MOVIES_DESCRIPTION = """The year's movies as normalized tables, built from the raw TMDb responses.

Tables: `movies` (with the raw response in `tmdb_data`), genres, people and credits (cast order
and character, crew job and department), release dates and certifications, external ids,
videos (trailers), keywords, watch providers, production companies, production countries,
spoken languages, collections, translations (title, overview, tagline per language),
alternative titles, recommendation and similar-movie edges, and image counts per kind.

Each batch is one transaction holding complete movies, so a reader never sees a movie without
its credits. Re-materializing replaces the year's derived rows without duplicates, a movie whose
release date moved to another year leaves this year's rows, and a payload that cannot be read
is recorded as a failed fetch (retried next run) instead of failing the year.

Re-derivable without TMDb: each movie records the versions of the parsing rules that derived its
rows (`movies.rules_version` for the core, `movie_rules` per other part). Materializing
`movies[year]` re-derives, from the stored responses, what older rules derived: whole movies when
the core rules changed, only a part's tables when that part's rules did (metadata `rederived`,
`rederived/<part>`); run config `rederive_all: true` re-derives every movie whole. A backfill of
`movies` does the whole warehouse.

Computed in one step with `tmdb_movie_details`: responses are normalized in the background as
their batches are saved (rate-limited fetching leaves the CPU idle), and whatever is left when the
last request returns is normalized at the end (`normalize_tail_s`). Materialized alone, it
normalizes whatever is staged.
"""


def _details_metadata(discovered: int, todo: list, outcome, stats: dict, missed_slots: int,
                      seconds: float) -> dict:
    answered = outcome.fetched + outcome.deleted
    return {
        "discovered": discovered,
        "needed": len(todo),
        "fetched": outcome.fetched,
        "skipped_fresh": max(0, discovered - len(todo)),
        "failed": outcome.failed,
        "deleted": outcome.deleted,
        **{f"needed_{reason}": count for reason, count in sorted(outcome.needed_by_reason.items())},
        **{f"failed_{reason}": count for reason, count in sorted(outcome.failures_by_reason.items())},
        **stats,
        "rate_limit_missed_slots": missed_slots,
        "requests_per_movie": round(stats["requests"] / answered, 3) if answered else 0.0,
        # every thread stands still during a garbage collection: long ones delay paced requests
        "gc_max_pause_ms": outcome.gc_max_pause_ms,
        "duration_s": round(seconds, 2),
    }


def _movies_metadata(counts: dict, seconds: float) -> dict:
    numbers = {key: value for key, value in counts.items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)}
    numbers.pop("seconds", None)
    numbers["duration_s"] = round(seconds, 2)
    return numbers


@dg.multi_asset(
    name="tmdb_details_and_movies",
    specs=[
        dg.AssetSpec(TMDB_MOVIE_DETAILS, deps=[tmdb_discovered_movies], description=DETAILS_DESCRIPTION,
                     group_name=GROUP, kinds={"python", "sql"}, tags={"source": "tmdb"}, skippable=True),
        dg.AssetSpec(MOVIES, deps=[TMDB_MOVIE_DETAILS], description=MOVIES_DESCRIPTION,
                     group_name=GROUP, kinds={"sql"}, tags={"source": "tmdb"}, skippable=True),
    ],
    partitions_def=release_years,
    backfill_policy=BACKFILL_POLICY,
    pool=POOL,
    can_subset=True,
)
@fails_clearly
def tmdb_details_and_movies(
    context: dg.AssetExecutionContext,
    config: DetailsConfig,
    tmdb: TMDbResource,
    warehouse: WarehouseResource,
):
    """TMDb details of the year's movies, normalized into the movie tables as they arrive."""
    years = partition_years(context)
    selected = context.selected_asset_keys
    engine = warehouse.engine
    _refuse_years_without_upstream(context, years, engine, details_selected=TMDB_MOVIE_DETAILS in selected)
    warn_if_unlimited(context, POOL)
    details_per_year: dict[int, dict] = {}
    movies_per_year: dict[int, dict] = {}
    over_threshold: list[str] = []
    for year in years:
        started = time.monotonic()
        if TMDB_MOVIE_DETAILS not in selected:  # `movies` alone: normalize what earlier runs staged
            counts = normalize_staged(engine, year)
            movies_per_year[year] = _movies_metadata(counts, time.monotonic() - started)
        else:
            failed = _details_and_movies_of_year(context, config, tmdb, warehouse, year,
                                                 normalize=MOVIES in selected,
                                                 details_out=details_per_year, movies_out=movies_per_year)
            if failed:
                over_threshold.append(failed)
        if MOVIES in selected:
            movies_per_year[year].update(rederive_year(engine, year, everything=config.rederive_all))
            movies_per_year[year].update(_row_counts(engine, MOVIES, year))
            counts = movies_per_year[year]
            context.log.info(f"movies {year}: normalized {counts.get('normalized', 0)}, re-derived "
                             f"{counts['rederived']} from stored responses, "
                             f"{counts.get('movies_in_year', 0)} movies in the year")

    details_metadata = movies_metadata = None
    if TMDB_MOVIE_DETAILS in selected:
        totals = _sum_numbers(list(details_per_year.values()))
        totals.pop("requests_per_movie", None)
        totals["gc_max_pause_ms"] = max(m["gc_max_pause_ms"] for m in details_per_year.values())
        details_metadata = _report(context, TMDB_MOVIE_DETAILS, years, details_per_year, {**totals, "years": len(years)})
    if MOVIES in selected:
        totals = _sum_numbers(list(movies_per_year.values()))
        totals.pop("movies_per_second", None)
        movies_metadata = _report(context, MOVIES, years, movies_per_year, {**totals, "years": len(years)})
    if over_threshold:
        settings = tmdb.resolved()
        raise dg.Failure(
            description=(
                "TMDb details failed for more movies than TMDB_FAILURE_THRESHOLD "
                f"({settings.failure_threshold:.2%} of the year) allows: " + "; ".join(over_threshold)
                + ". The fetched ones are saved (and normalized); the failed ones are retried on "
                "the next run."),
            metadata=details_metadata,
        )
    if details_metadata is not None:
        yield dg.MaterializeResult(asset_key=TMDB_MOVIE_DETAILS, metadata=details_metadata)
    if movies_metadata is not None:
        yield dg.MaterializeResult(asset_key=MOVIES, metadata=movies_metadata)


def _refuse_years_without_upstream(context, years: list[int], engine, *, details_selected: bool) -> None:
    """`movies` alone on a year with nothing fetched, or details on a year never discovered, would
    end green having done nothing: fail naming what to select instead (see upstream.py)."""

    def discovered(year: int) -> bool:
        with engine.connect() as conn:
            return discovery.discovery_summary(conn, year)["discovered_at"] is not None

    def staged(year: int) -> bool:  # or imported: its stored responses can be re-derived
        with engine.connect() as conn:
            return staging.staged_count(conn, year) > 0 or bool(data_checks.year_movie_ids(conn, year))

    if details_selected:
        refuse_empty_run(context, years, tmdb_discovered_movies.key, discovered, lambda empty: (
            f"tmdb_movie_details[{years_label(empty)}] has no movie ids to fetch: "
            f"tmdb_discovered_movies[{years_label(empty)}] was never materialized. Import the year "
            f"instead: {import_in_the_ui(empty)}."))
    else:
        refuse_empty_run(context, years, TMDB_MOVIE_DETAILS, staged, lambda empty: (
            f"movies[{years_label(empty)}] has nothing to normalize: "
            f"tmdb_movie_details[{years_label(empty)}] was never materialized. Import the year "
            f"instead: {import_in_the_ui(empty)} (movies alone only normalizes what "
            "tmdb_movie_details fetched)."))


def _details_and_movies_of_year(context, config: DetailsConfig, tmdb: TMDbResource,
                                warehouse: WarehouseResource, year: int, *, normalize: bool,
                                details_out: dict, movies_out: dict) -> str | None:
    """Fetch the year's details (normalizing as they arrive when `movies` is selected); fill the
    two metadata dicts; return the threshold message if too many movies failed."""
    settings = tmdb.resolved()
    engine = warehouse.engine
    started = time.monotonic()
    with engine.connect() as conn:
        todo = details_queue.movies_needing_details(conn, year, _now(), config.policy())
        discovered = discovery.discovery_summary(conn, year)["discovered"]
    context.log.info(f"details {year}: {len(todo)} of {discovered} movies need fetching "
                     f"({len(APPEND_TO_RESPONSE)} parts appended to each request)"
                     + (", normalized as they arrive" if normalize else ""))
    client = tmdb.client(warehouse.url)
    normalizer = StagedNormalizer(engine, year) if normalize else contextlib.nullcontext()
    try:
        with normalizer:
            outcome = fetch_details(client, engine, year, todo, max_workers=settings.max_workers,
                                    log=context.log.info,
                                    on_staged=normalizer.staged if normalize else None)
            fetched_s = time.monotonic() - started
            if normalize:
                counts = normalizer.finish()
                movies_out[year] = _movies_metadata(counts, time.monotonic() - started)
    finally:
        client.close()
    details_out[year] = _details_metadata(discovered, todo, outcome, client.stats.as_metadata(),
                                          getattr(client.rate_limiter, "missed_slots", 0), fetched_s)
    details_out[year].update(_row_counts(engine, TMDB_MOVIE_DETAILS, year))
    limit = settings.failure_threshold * max(1, discovered)
    if outcome.failed > limit:
        reasons = ", ".join(f"{r}: {n}" for r, n in sorted(outcome.failures_by_reason.items()))
        return f"{year}: {outcome.failed} of {discovered} movies failed ({reasons})"
    return None


tmdb_assets = [tmdb_discovered_movies, tmdb_details_and_movies]
