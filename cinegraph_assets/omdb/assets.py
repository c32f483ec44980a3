"""The omdb_ratings asset: IMDb, Rotten Tomatoes and Metacritic ratings of each release year."""


import dagster as dg

from cinegraph_assets.asset_keys import MOVIES, OMDB_RATINGS
from cinegraph_assets.omdb.checks import coverage_check, coverage_result
from cinegraph_assets.omdb.client import InvalidApiKey, OmdbUnavailable
from cinegraph_assets.omdb.fetching import YearOutcome, rate_year
from cinegraph_assets.omdb.quota import QuotaLedger
from cinegraph_assets.omdb.resource import OMDbResource
from cinegraph_assets.partitions import partition_years, release_years
from cinegraph_assets.pools import warn_if_unlimited
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.settings import SettingError
from cinegraph_assets.table_metadata import row_count_metadata
from cinegraph_assets.upstream import import_in_the_ui, refuse_empty_run, years_label
from cinegraph_assets.warehouse import progress as progress_sql
from cinegraph_assets.warehouse import ratings as ratings_sql

#: Failure reasons always reported (as 0 when none), so the UI plots a continuous line for each.
FAILURE_REASONS = (
    "not_found", "incorrect_imdb_id", "parse_error", "omdb_error", "unavailable",
)


@dg.asset(
    key=OMDB_RATINGS,
    group_name="omdb",
    partitions_def=release_years,
    deps=[MOVIES],
    pool="omdb",
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[coverage_check],
    # Materializations are reported per year (each with its own counts), not through the output.
    output_required=False,
    kinds={"omdb", "sql"},
)
def omdb_ratings(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, omdb: OMDbResource
):
    """Ratings from OMDb for the year's movies that have an IMDb id: IMDb (with votes), Rotten
    Tomatoes and Metacritic, plus box office, certificate (Rated) and the Awards text counted.

    OMDb allows a fixed number of requests per UTC day (OMDB_DAILY_LIMIT), shared by every run
    through a ledger in the warehouse. A run spends what today allows: movies never asked first,
    most popular first, then refreshes of the oldest ratings (older than OMDB_REFRESH_DAYS). It
    saves each movie as it goes and succeeds when the quota runs out; `pending` says what is left
    for the next day. Movies OMDb does not know are asked again after OMDB_NOT_FOUND_RETRY_DAYS.
    """
    years = partition_years(context)
    warn_if_unlimited(context, "omdb")
    engine = warehouse.engine
    try:
        settings = omdb.resolved()
    except SettingError as exc:
        raise dg.Failure(str(exc)) from None
    ledger = QuotaLedger(engine, settings.daily_limit, clock=omdb.now)
    try:
        client = omdb.client(before_request=ledger.reserve)
    except (SettingError, InvalidApiKey) as exc:
        raise dg.Failure(str(exc)) from None

    def imported(year: int) -> bool:
        with engine.connect() as conn:
            return progress_sql.movies_count(conn, year, year) > 0

    try:  # a setting mistake is named first; then a year with nothing to rate is refused
        refuse_empty_run(context, years, MOVIES, imported, lambda empty: (
            f"omdb_ratings[{years_label(empty)}] has no movies to rate: movies[{years_label(empty)}] "
            f"was never imported. Import the year first: {import_in_the_ui(empty)} (or Jobs > "
            "catalog_year_sync, which imports and rates it)."))
    except dg.Failure:
        client.close()
        raise

    run_started = omdb.now()
    outcomes: dict[int, YearOutcome] = {}
    failure: str | None = None
    try:
        # Newest years first: they are the ones people look at, and the quota may not reach all.
        for year in sorted(years, reverse=True):
            outcomes[year] = rate_year(
                engine,
                client,
                year,
                clock=omdb.now,
                refresh_days=settings.refresh_days,
                not_found_retry_days=settings.not_found_retry_days,
                run_started=run_started,
                logger=context.log,
            )
            if outcomes[year].omdb_said_limit_reached:
                # The key's real counter is ahead of the ledger (another user of the key, or
                # OMDb's day is not the UTC day): every run pauses, then probes again.
                until = ledger.pause()
                context.log.info(f"OMDb said its request limit is reached: every run waits until "
                                 f"{until:%Y-%m-%d %H:%M} UTC, then asks again")
            if outcomes[year].stopped_for_quota:
                break
    except InvalidApiKey as exc:
        failure = str(exc)
    except OmdbUnavailable as exc:
        failure = str(exc)
    finally:
        client.close()
    if failure is not None:
        # Raised outside the except block: the client's messages are redacted, the chained
        # originals might not be.
        raise dg.Failure(description=failure)

    now = omdb.now()
    used = ledger.used_today()
    remaining = ledger.remaining_today()
    paused_until = ledger.paused_until()
    summaries = []
    for year in sorted(years, reverse=True):
        with engine.connect() as conn:
            summary = ratings_sql.ratings_summary(conn, year, now, settings.refresh_days)
        summaries.append(summary)
        outcome = outcomes.get(year, YearOutcome(year=year))
        metadata: dict[str, object] = {
            "eligible": summary["eligible"],
            "rated": summary["rated"],
            "pending": summary["pending"],
            "never_fetched": summary["never_fetched"],
            "coverage_pct": dg.MetadataValue.float(float(summary["coverage_pct"])),
            "rated_this_run": outcome.rated,
            "quota_used_today": used,
            "quota_remaining_today": remaining,
            "stopped_for_quota": int(outcome.stopped_for_quota or remaining == 0),
            # Minutes until OMDb is asked again after "Request limit reached!" (0: not paused).
            "quota_paused_minutes": 0 if paused_until is None
            else max(1, round((paused_until - now).total_seconds() / 60)),
        }
        for reason in sorted(set(FAILURE_REASONS) | set(summary["failed"])):
            metadata[f"failed_{reason}"] = summary["failed"].get(reason, 0)
        for reason, count in sorted(outcome.failed.items()):
            metadata[f"failed_this_run_{reason}"] = count
        metadata["requests"] = outcome.requests
        metadata["retries"] = outcome.retries
        with engine.connect() as conn:
            metadata.update(row_count_metadata(conn, OMDB_RATINGS, year))
        context.log_event(
            dg.AssetMaterialization(asset_key=OMDB_RATINGS, partition=str(year), metadata=metadata)
        )
    context.log.info(
        f"OMDb: {client.requests_sent} requests ({client.retries} retries) this run; "
        f"{used} of {settings.daily_limit} used today"
    )
    yield coverage_result(summaries, remaining)
