"""oscars_source_changed: reloads the Oscar nominations when the upstream table changed.

Fetching and parsing the table are the Oscar room's (oscars/resource.py, oscars/source.py); this
module decides when a reload is due and remembers what the last one loaded.
"""

from __future__ import annotations

import json

import dagster as dg
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from cinegraph_assets import clock
from cinegraph_assets.asset_keys import OSCAR_NOMINATIONS
from cinegraph_assets.automation.jobs import TRIGGER_TAG, oscar_nominations_job
from cinegraph_assets.oscars.resource import OscarsSourceResource
from cinegraph_assets.oscars.source import OscarsSourceError
from cinegraph_assets.partitions import partition_year_range

OSCARS_SOURCE_INTERVAL_SECONDS = 6 * 3600  # the upstream table changes a few times a year


def _last_loaded_sha(instance: dg.DagsterInstance) -> str | None:
    """The source sha256 the latest oscar_nominations materialization read."""
    result = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=OSCAR_NOMINATIONS),
                                              limit=1)
    if not result.records:
        return None
    materialization = result.records[0].asset_materialization
    value = materialization.metadata.get("source_sha256") if materialization else None
    return getattr(value, "value", value)


def _reload_state(instance: dg.DagsterInstance, requested: dict | None) -> str | None:
    """What became of the reload the sensor requested: "loaded", "failed", "running" (also while
    the daemon has not launched it yet), or None when none was requested."""
    if not requested:
        return None
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/run_key": requested["run_key"]}), limit=1)
    if not runs or runs[0].status in NOT_FINISHED_STATUSES:
        return "running"
    return "loaded" if runs[0].status == dg.DagsterRunStatus.SUCCESS else "failed"


def oscars_source_sensor(default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    @dg.sensor(
        name="oscars_source_changed",
        job=oscar_nominations_job,
        minimum_interval_seconds=OSCARS_SOURCE_INTERVAL_SECONDS,
        default_status=default_status,
        description=(
            "Asks the Oscar source whether it changed (conditional GET with ETag/Last-Modified, "
            "then the content's sha256) and, when it did, reloads the nominations of every film "
            "year in one run."
        ),
    )
    def oscars_source_changed(
        context: dg.SensorEvaluationContext, oscars_source: OscarsSourceResource
    ):
        try:
            snapshot = oscars_source.fetch_for_sensor()
        except OscarsSourceError as exc:
            raise dg.Failure(description=str(exc)) from None
        previous = json.loads(context.cursor) if context.cursor else {}
        # The baseline is what a run actually loaded: a reload that failed leaves it where it was,
        # so it is requested again (with a new run key) instead of being taken as done.
        baseline = previous.get("loaded_sha256", previous.get("sha256")) or _last_loaded_sha(context.instance)
        requested = previous.get("requested")
        reload_state = _reload_state(context.instance, requested)
        if reload_state == "loaded":
            baseline, requested = requested["sha256"], None

        def cursor_with(requested_now: dict | None) -> str:
            return json.dumps({"sha256": snapshot.sha256, "loaded_sha256": baseline,
                               "requested": requested_now, "status": snapshot.status,
                               "checked_at": clock.utc_now().isoformat(timespec="seconds")})

        if snapshot.error:
            context.log.warning(f"Oscar source unreachable, cached copy used: {snapshot.error}")
        if baseline is None:
            return dg.SensorResult(cursor=cursor_with(None), skip_reason=(
                f"Oscar nominations were never loaded; each year's sync loads them. Watching "
                f"{snapshot.source} from now on (sha256 {snapshot.sha256[:12]})."
            ))
        if baseline == snapshot.sha256:
            return dg.SensorResult(cursor=cursor_with(None), skip_reason=(
                f"The Oscar source is unchanged (sha256 {snapshot.sha256[:12]}, {snapshot.status})"
                + (f"; the server could not be reached: {snapshot.error}" if snapshot.error else "")
                + "."
            ))
        if reload_state == "running":
            return dg.SensorResult(cursor=cursor_with(requested), skip_reason=(
                f"The reload of the Oscar source (sha256 {requested['sha256'][:12]}) is under way."))
        first_year, last_year = partition_year_range(clock.utc_now())
        years = [y for y in oscars_source.parse(snapshot).film_years() if first_year <= y <= last_year]
        if not years:
            return dg.SensorResult(cursor=cursor_with(None), skip_reason="The Oscar source changed but "
                                   "names no film year inside the catalog's partitions.")
        attempt = requested["attempt"] + 1 if requested and requested["sha256"] == snapshot.sha256 else 1
        run_key = f"oscars_source:{snapshot.sha256[:16]}" + (f":attempt{attempt}" if attempt > 1 else "")
        context.log.info(f"Oscar source changed ({baseline[:12]} -> {snapshot.sha256[:12]}): "
                         f"reloading film years {years[0]}..{years[-1]}"
                         + (f" (attempt {attempt}: the last reload failed)" if attempt > 1 else ""))
        return dg.SensorResult(
            run_requests=[dg.RunRequest(
                run_key=run_key,
                tags={
                    "dagster/asset_partition_range_start": str(years[0]),
                    "dagster/asset_partition_range_end": str(years[-1]),
                    TRIGGER_TAG: "oscars_source_changed",
                },
            )],
            cursor=cursor_with({"sha256": snapshot.sha256, "run_key": run_key, "attempt": attempt}),
        )

    return oscars_source_changed
