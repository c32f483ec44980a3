"""Is this year's catalog fresh? A check on `movies` for the current year, and the sensor running it.

Dagster's ready-made freshness checks (build_last_update_freshness_checks, and the newer
FreshnessPolicy) look at the latest materialization of *any* partition. Here the catalog backfill
materializes an old year every day, so `movies` always looks fresh to them even when the current
year (where new releases land) has not synced for days. This check reads the current year's
partition only, and has two thresholds in one check: WARN after 24 hours without a successful sync,
ERROR after 36 hours. A year that has just begun is measured from its first day, so New Year's night
does not page anyone before the 02:00 sync.

The verdict appears only where it judges the work at hand. The check is partitioned like `movies`
and gives its verdict on the current year's partition only: a run importing 1920 plans the check
for 1920 and leaves it unevaluated (Dagster shows it as skipped), instead of showing a red ERROR
about the current year on work it did not judge. The current year's own verdict stays on its
partition, where the UI shows it.

The sensor evaluates the check only when its answer would change (fresh -> warn -> fail, or a new
sync), so the run list is not flooded with check runs; every sync run of the current year also
evaluates it, because the sync jobs select `movies` and with it its checks.
"""


from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import dagster as dg
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from cinegraph_assets import clock
from cinegraph_assets.asset_keys import MOVIES
from cinegraph_assets.instance_history import materialized_at
from cinegraph_assets.partitions import partition_years, release_years

WARN_AFTER = timedelta(hours=24)
FAIL_AFTER = timedelta(hours=36)
CHECK_NAME = "current_year_freshness"
CHECK_KEY = dg.AssetCheckKey(MOVIES, CHECK_NAME)
SENSOR_INTERVAL_SECONDS = 300
FRESH_UNTIL_KEY = "dagster/fresh_until_timestamp"  # the key Dagster's own freshness checks use


@dataclass(frozen=True)
class Freshness:
    year: int
    state: str  # fresh | warn | fail
    last_sync: datetime | None  # latest successful materialization of movies[year]
    age: timedelta  # since last_sync, or since the year began when it never synced
    fresh_until: datetime  # when the state gets worse next, without a sync

    @property
    def severity(self) -> dg.AssetCheckSeverity:
        return dg.AssetCheckSeverity.ERROR if self.state == "fail" else dg.AssetCheckSeverity.WARN

    def describe(self) -> str:
        hours = self.age.total_seconds() / 3600
        when = (f"last synced {hours:.1f} h ago ({self.last_sync:%Y-%m-%d %H:%M} UTC)"
                if self.last_sync else f"never synced ({hours:.1f} h since the year began)")
        verdict = {
            "fresh": "fresh",
            "warn": f"stale: no successful sync for more than {WARN_AFTER.total_seconds() / 3600:.0f} h",
            "fail": f"overdue: no successful sync for more than {FAIL_AFTER.total_seconds() / 3600:.0f} h; "
                    "check the daily_sync schedule and the last catalog_year_sync runs",
        }[self.state]
        return f"movies[{self.year}] {when}: {verdict}."


def last_sync_of_year(instance: dg.DagsterInstance, year: int) -> datetime | None:
    """When movies[year] last materialized successfully, or None."""
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=MOVIES, asset_partitions=[str(year)]), limit=1
    )
    if not result.records:
        return None
    return datetime.fromtimestamp(materialized_at(result.records[0]), tz=timezone.utc)


def current_year_freshness(instance: dg.DagsterInstance, now: datetime) -> Freshness:
    year = now.year
    last_sync = last_sync_of_year(instance, year)
    reference = last_sync or datetime(year, 1, 1, tzinfo=timezone.utc)
    age = now - reference
    if age > FAIL_AFTER:
        state, fresh_until = "fail", now
    elif age > WARN_AFTER:
        state, fresh_until = "warn", reference + FAIL_AFTER
    else:
        state, fresh_until = "fresh", reference + WARN_AFTER
    return Freshness(year, state, last_sync, age, fresh_until)


@dg.multi_asset_check(
    name="movies_current_year_freshness",
    specs=[dg.AssetCheckSpec(
        CHECK_NAME, asset=MOVIES, partitions_def=release_years,
        description=(
            "The current release year was synced recently: WARN after 24 hours without a successful "
            "materialization of movies for this year, ERROR after 36 hours. Evaluated on the current "
            "year's partition only; other years are not judged by it (shown as skipped)."
        ),
    )],
    # can_subset: a run of other years yields no result, so the check is skipped, not failed.
    can_subset=True,
)
def movies_current_year_freshness(context: dg.AssetCheckExecutionContext):
    now = clock.utc_now()
    if now.year not in partition_years(context):
        context.log.info(f"Freshness is judged on movies[{now.year}] only; this run covers "
                         f"{', '.join(context.partition_keys)}.")
        return
    freshness = current_year_freshness(context.instance, now)
    metadata: dict = {
        "year": dg.MetadataValue.int(freshness.year),
        "age_hours": dg.MetadataValue.float(round(freshness.age.total_seconds() / 3600, 2)),
        "warn_after_hours": dg.MetadataValue.float(WARN_AFTER.total_seconds() / 3600),
        "fail_after_hours": dg.MetadataValue.float(FAIL_AFTER.total_seconds() / 3600),
        "state": dg.MetadataValue.text(freshness.state),
        FRESH_UNTIL_KEY: dg.MetadataValue.timestamp(freshness.fresh_until.timestamp()),
    }
    if freshness.last_sync:
        metadata["last_synced_at"] = dg.MetadataValue.timestamp(freshness.last_sync.timestamp())
    yield dg.AssetCheckResult(
        asset_key=MOVIES,
        check_name=CHECK_NAME,
        passed=freshness.state == "fresh",
        severity=freshness.severity,
        description=freshness.describe(),
        metadata=metadata,
    )


def _last_evaluation(instance: dg.DagsterInstance, year: int) -> tuple[str | None, bool]:
    """(state the check last reported on movies[year], whether an evaluation of it is in flight)."""
    storage = instance.event_log_storage
    partition = PartitionKeyFilter(key=str(year))
    [latest] = storage.get_asset_check_execution_history(CHECK_KEY, limit=1, partition_filter=partition) \
        or [None]
    in_flight = False
    if latest is not None and latest.status == AssetCheckExecutionRecordStatus.PLANNED:
        # A planned check whose run has ended was skipped (or its run died): nothing in flight.
        run = instance.get_run_by_id(latest.run_id)
        in_flight = run is not None and not run.is_finished
    completed = storage.get_asset_check_execution_history(
        CHECK_KEY, limit=1, partition_filter=partition,
        status={AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED})
    if not completed or completed[0].event is None or completed[0].event.asset_check_evaluation is None:
        return None, in_flight
    state = completed[0].event.asset_check_evaluation.metadata.get("state")
    return (state.value if state is not None else None), in_flight


def freshness_sensor(default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    @dg.sensor(
        name="movies_freshness",
        asset_selection=dg.AssetSelection.checks(movies_current_year_freshness),
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=default_status,
        description=(
            "Evaluates the current-year freshness check on movies whenever its answer would change "
            "(24 h: warning, 36 h: failure)."
        ),
    )
    def movies_freshness(context: dg.SensorEvaluationContext):
        now = clock.utc_now()
        freshness = current_year_freshness(context.instance, now)
        reported, in_flight = _last_evaluation(context.instance, freshness.year)
        if in_flight:
            return dg.SkipReason("The freshness check is being evaluated right now.")
        if reported == freshness.state:
            nxt = ("" if freshness.state == "fail"
                   else f" It turns {'warn' if freshness.state == 'fresh' else 'fail'} at "
                        f"{freshness.fresh_until:%Y-%m-%d %H:%M} UTC without a sync.")
            return dg.SkipReason(f"{freshness.describe()} The check already says '{reported}'.{nxt}")
        stamp = int(freshness.last_sync.timestamp()) if freshness.last_sync else 0
        return dg.RunRequest(
            run_key=f"movies_freshness:{freshness.year}:{stamp}:{freshness.state}",
            asset_check_keys=[CHECK_KEY],
            partition_key=str(freshness.year),
        )

    return movies_freshness
