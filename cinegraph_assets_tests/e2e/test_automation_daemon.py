"""The platform keeps itself complete and fresh with no one clicking: a real dagster-daemon (and
webserver) against the sandbox.

1. Day one (the sandbox's clock starts four days ago): the catalog_backfill sensor imports the
   current and the previous year by itself, newest first; catalog_progress fills in.
2. Three sandbox days pass (movies change, some are deleted, new ones appear). The tmdb_changes
   sensor is switched on, reads the three days of /movie/changes, and re-syncs exactly the years
   that changed.
3. The warehouse then equals the sandbox's truth for both years: changed movies refetched, deleted
   ones marked deleted, new ones imported.
4. The tmdb_catalog_sync sensor is switched on: it loads the newest id export (tmdb_catalog_ids) and
   fetches one bounded batch of the movies no imported year holds (tmdb_gap_movies), by itself.

Why the sandbox starts in the past: the sensor reads a day of changes once that UTC day is over,
so the sandbox's days must be real days that have ended by the time it reads them. The sensor is
switched on only after the days passed, because it would otherwise read those (still empty) days
first and rightly never read them again.

Bounded: two small years (60 movies, small details), a few minutes on an idle machine; the waits
allow ten minutes each because this machine is shared by many test runs at once.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest
import requests
import sqlalchemy as sa

from cinegraph_assets.warehouse import data_checks
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.schema import movies
from cinegraph_assets_tests.support.dagster_processes import DagsterDeployment

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

YEAR_SIZE = 60
DAYS_PASSED = 3
OFF_AT_START = ("daily_sync,oscars_yearly,omdb_backlog,oscars_source_changed,movies_freshness,tmdb_changes,"
                "tmdb_catalog_sync")
#: The gap fill's batch here: every other year of the demo catalog is gap to it, so one small batch.
GAP_BATCH = 40


def wait_for(what: str, condition, dagster: DagsterDeployment, timeout: float = 600, poll: float = 3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f}s\n{dagster.tail_logs(60)}")


def finished_runs(instance: dg.DagsterInstance, trigger: str) -> list[dg.DagsterRun]:
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"cinegraph/trigger": trigger}))
    return [r for r in runs if r.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE,
                                            dg.DagsterRunStatus.CANCELED)]


def start_sensor(dagster: DagsterDeployment, name: str) -> None:
    result = dagster.graphql(
        """mutation Start($selector: SensorSelector!) {
             startSensor(sensorSelector: $selector) {
               __typename ... on Sensor { sensorState { status } } ... on PythonError { message } } }""",
        {"selector": {"repositoryLocationName": "cinegraph_assets",
                      "repositoryName": "__repository__", "sensorName": name}},
    )["startSensor"]
    assert result["__typename"] == "Sensor", result


def test_backfill_then_changes_keep_the_warehouse_equal_to_the_sandbox(sandbox_factory, tmp_path):
    today = datetime.now(timezone.utc).date()
    start = today - timedelta(days=DAYS_PASSED + 1)
    years = [today.year, today.year - 1]
    sandbox = sandbox_factory(
        start_date=start.isoformat(), detail_size="small", change_rate=0.03, delete_rate=0.03,
        new_per_day=40, year_size=[f"{year}={YEAR_SIZE}" for year in years],
    )
    warehouse_url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    env = {
        **sandbox.env(),
        "CINEGRAPH_DATABASE_URL": warehouse_url,
        "CINEGRAPH_STATE_DIR": str(tmp_path / "state"),
        "CATALOG_BACKFILL_YEARS_PER_DAY": "2",
        "CINEGRAPH_AUTOMATION_OFF": OFF_AT_START,
        "TMDB_CHANGES_START_DATE": start.isoformat(),
        "TMDB_CHANGES_INTERVAL_SECONDS": "10",
        "TMDB_MAX_RPS": "200",
        "TMDB_GAP_BATCH_SIZE": str(GAP_BATCH),
    }
    home = tmp_path / "home"
    with DagsterDeployment(home, env=env, pool_limits={"tmdb": 2, "omdb": 1}) as dagster:
        instance = dg.DagsterInstance.from_config(str(home))
        try:
            # 1. Nobody clicks: the backfill sensor imports this year and last year.
            backfill_runs = wait_for(
                "the backfill importing both years",
                lambda: (runs := finished_runs(instance, "catalog_backfill")) and len(runs) >= len(years)
                and runs, dagster)
            assert {str(y) for y in years} <= instance.get_materialized_partitions(dg.AssetKey("movies"))
            assert sorted(r.tags["dagster/partition"] for r in backfill_runs) == sorted(map(str, years))
            assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in backfill_runs)
            engine = get_engine(warehouse_url)
            with engine.connect() as conn:
                first = {y: data_checks.year_movie_ids(conn, y) for y in years}
            for year in years:
                assert first[year] == sandbox.truth(year), f"{year} after the backfill"
            imported_at = datetime.now(timezone.utc)

            # 2. Days pass on TMDb; then the changes feed is followed.
            sandbox.advance(DAYS_PASSED)
            start_sensor(dagster, "tmdb_changes")
            wait_for(
                "the changes sensor's re-syncs of both years",
                lambda: len([r for r in finished_runs(instance, "tmdb_changes")]) >= len(years),
                dagster)
            change_runs = finished_runs(instance, "tmdb_changes")
            assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in change_runs), change_runs
            assert {r.tags["dagster/partition"] for r in change_runs} == {str(y) for y in years}

            # 3. The warehouse equals the sandbox's truth for the synced years.
            with engine.connect() as conn:
                for year in years:
                    assert data_checks.year_movie_ids(conn, year) == sandbox.truth(year), f"{year} after the changes"
                gone = set().union(*first.values()) - set().union(*(sandbox.truth(y) for y in years))
                deleted = {i for i in gone if requests.get(
                    f"{sandbox.tmdb_url}/movie/{i}", params={"api_key": "sandbox"}, timeout=30).status_code == 404}
                marked = set(conn.execute(sa.select(movies.c.tmdb_id).where(
                    movies.c.tmdb_id.in_(list(deleted) or [0]), movies.c.deleted_at.is_not(None))).scalars())
                kept = set().union(*first.values()) - gone
                refreshed = set(conn.execute(sa.select(movies.c.tmdb_id).where(
                    movies.c.tmdb_id.in_(list(kept)), movies.c.fetched_at > imported_at)).scalars())
            assert deleted and marked == deleted, "deleted movies are kept and marked deleted"
            assert refreshed, "changed movies were fetched again"
            assert len(refreshed) < len(kept), "only the changed movies were fetched again"
            assert instance.fetch_materializations(dg.AssetKey("catalog_progress"), limit=1).records

            # 4. The whole catalog: the export, then a batch of the gap, by themselves.
            start_sensor(dagster, "tmdb_catalog_sync")
            [sync] = wait_for("the catalog sync run", lambda: finished_runs(instance, "tmdb_catalog_sync"), dagster)
            assert sync.status == dg.DagsterRunStatus.SUCCESS, sync
            export = instance.fetch_materializations(dg.AssetKey("tmdb_catalog_ids"), limit=1).records[0]
            gap = instance.fetch_materializations(dg.AssetKey("tmdb_gap_movies"), limit=1).records[0]
            assert export.run_id == gap.run_id == sync.run_id
            gap_metadata = gap.asset_materialization.metadata
            assert gap_metadata["fetched"].value == GAP_BATCH and gap_metadata["remaining"].value > 0
            with engine.connect() as conn:
                outside = conn.execute(sa.select(sa.func.count()).where(
                    sa.or_(movies.c.release_year.is_(None), movies.c.release_year.not_in(years)))).scalar()
            assert outside == GAP_BATCH
        finally:
            instance.dispose()
