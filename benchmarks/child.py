"""The process that runs an import: `python -m benchmarks.child SPEC.json OUT.json`.

It materializes the TMDb assets (tmdb_discovered_movies -> tmdb_details_and_movies) for each
partition of the spec with `dagster.materialize` on the Dagster instance of $DAGSTER_HOME (SQLite
run and event storage, as `make run` has), and writes what happened as JSON: per-run seconds,
per-step seconds from the event log, the numeric metadata the assets reported, CPU seconds and
the movies in the warehouse afterwards. The parent reads this process's peak RSS with wait4, so
what is measured is exactly the process that ran the import.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback

_T0 = time.perf_counter()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _step_seconds(instance, run_id: str) -> dict:
    """Seconds from STEP_START to STEP_SUCCESS/FAILURE of each step, from the event log."""
    import dagster as dg

    starts: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            if event.step_key in starts:
                seconds[event.step_key] = round(entry.timestamp - starts[event.step_key], 3)
    return seconds


def _run_span(instance, run_id: str) -> float | None:
    """Seconds from the run's first event to its last (the run as Dagster recorded it)."""
    logs = instance.all_logs(run_id)
    if not logs:
        return None
    return round(logs[-1].timestamp - logs[0].timestamp, 3)


def _numeric_metadata(result) -> dict:
    out: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        values = {}
        for key, value in mat.metadata.items():
            raw = getattr(value, "value", value)
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                values[key] = raw
        out[mat.asset_key.to_user_string()] = values
    return out


def main(spec_path: str, out_path: str) -> int:
    spec = json.loads(open(spec_path).read())
    report: dict = {"ok": False}
    try:
        import dagster as dg

        from cinegraph_assets.resources import WarehouseResource
        from cinegraph_assets.tmdb import assets as tmdb_assets
        from cinegraph_assets.tmdb.resource import TMDbResource

        assets = [getattr(tmdb_assets, name) for name in spec["assets"]]
        resources = {"warehouse": WarehouseResource(database_url=spec["warehouse_url"]),
                     "tmdb": TMDbResource(**spec["tmdb"])}
        instance = dg.DagsterInstance.get()
        report["import_seconds"] = round(time.perf_counter() - _T0, 3)
        runs = []
        for key in spec["partitions"]:
            cpu0, t0 = _cpu(), time.perf_counter()
            if isinstance(key, list):
                # One run over a range of partitions, as a backfill with BackfillPolicy.multi_run(n)
                # launches them (the range travels in the run's tags).
                tags = {"dagster/asset_partition_range_start": key[0],
                        "dagster/asset_partition_range_end": key[1]}
                result = dg.materialize(assets, tags=tags, resources=resources, instance=instance,
                                        raise_on_error=False)
                key = f"{key[0]}...{key[1]}"
            else:
                result = dg.materialize(assets, partition_key=key, resources=resources, instance=instance,
                                        raise_on_error=False)
            seconds = time.perf_counter() - t0
            runs.append({
                "partition": key,
                "success": result.success,
                "seconds": round(seconds, 3),
                "cpu_seconds": round(_cpu() - cpu0, 3),
                "run_span_seconds": _run_span(instance, result.run_id),
                "step_seconds": _step_seconds(instance, result.run_id),
                "metadata": _numeric_metadata(result),
            })
            if not result.success:
                failure = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
                runs[-1]["failure"] = str(failure[0].event_specific_data.error.message)[:2000] if failure else "?"
        report["runs"] = runs
        counts = {}
        if spec.get("year_counts"):
            from cinegraph_assets.warehouse import data_checks

            engine = resources["warehouse"].engine
            with engine.connect() as conn:
                for year in spec["year_counts"]:
                    counts[str(year)] = len(data_checks.year_movie_ids(conn, int(year)))
        report["movies_in_warehouse"] = counts
        report["ok"] = all(run["success"] for run in runs)
    except BaseException as exc:  # the parent reports it; keep the traceback for the log
        report["error"] = f"{type(exc).__name__}: {exc}"
        report["traceback"] = traceback.format_exc()[-4000:]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report["self_peak_rss_mb"] = round(usage.ru_maxrss / 1024.0, 1)
    with open(out_path, "w") as out:
        json.dump(report, out, indent=1, default=str)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
