"""Is this year's catalog fresh? A check on `movies` for the current year, and the sensor running it.

Dagster's ready-made freshness checks (build_last_update_freshness_checks, and the newer
FreshnessPolicy) look at the latest materialization of *any* partition. Here the catalog backfill
materializes an old year every day, so `movies` always looks fresh to them even when the current
year (where new releases land) has not synced for days. This check reads the current year's
partition only, and has two thresholds in one check: WARN after 24 hours without a successful sync,
ERROR after 36 hours. A year that has just begun is measured from its first day, so New Year's night
does not page anyone before the 02:00 sync.

The sensor evaluates the check only when its answer would change (fresh -> warn -> fail, or a new
sync), so the run list is not flooded with check runs; every sync run of a year also evaluates it,
because the sync jobs select `movies` and with it its checks.
"""


from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import dagster as dg

from cinegraph_assets.automation import clock
from cinegraph_assets.automation.jobs import MOVIES

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
    return datetime.fromtimestamp(result.records[0].timestamp, tz=timezone.utc)


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


@dg.asset_check(
    asset=MOVIES,
    name=CHECK_NAME,
    description=(
        "The current release year was synced recently: WARN after 24 hours without a successful "
        "materialization of movies for this year, ERROR after 36 hours."
    ),
)
def movies_current_year_freshness(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    freshness = current_year_freshness(context.instance, clock.utc_now())
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
    return dg.AssetCheckResult(
        passed=freshness.state == "fresh",
        severity=freshness.severity,
        description=freshness.describe(),
        metadata=metadata,
    )


def _last_evaluation(instance: dg.DagsterInstance) -> tuple[str | None, bool]:
    """(state the check last reported, whether an evaluation is in flight)."""
    record = instance.event_log_storage.get_asset_check_summary_records([CHECK_KEY])[CHECK_KEY]
    last_any = record.last_check_execution_record
    in_flight = last_any is not None and last_any.status.value == "PLANNED"
    completed = record.last_completed_check_execution_record
    if completed is None or completed.event is None or completed.event.asset_check_evaluation is None:
        return None, in_flight
    evaluation = completed.event.asset_check_evaluation
    state = evaluation.metadata.get("state")
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
        reported, in_flight = _last_evaluation(context.instance)
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
        )

    return movies_freshness
