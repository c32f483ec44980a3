"""The TMDb assets end to end against the sandbox: completeness, idempotence, changes, rate limit.

Each test starts its own sandbox with a small --detail-size and only the years it needs sized up, so
the whole file stays within a couple of minutes on a 2-core machine.
"""

import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import pytest
import requests
import sqlalchemy as sa

from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb.assets import tmdb_assets
from cinegraph_assets.tmdb.changes import parse_changes_page
from cinegraph_assets.tmdb.checks import tmdb_checks
from cinegraph_assets.tmdb.client import TMDbClient
from cinegraph_assets.tmdb.discovery import RESULT_CAP, discover_year
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets.warehouse import data_checks, details_queue, schema
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets_tests.support.runs import RUN_SCRIPT

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY = "sandbox"
ALL = [*tmdb_assets, *tmdb_checks]


def resources(sandbox, warehouse_url: str, state_dir, **tmdb_fields) -> dict:
    tmdb_fields.setdefault("max_rps", 5000)  # the sandbox's own --max-rps is what a test limits
    return {
        "tmdb": TMDbResource(base_url=sandbox.tmdb_url, api_key=KEY, state_dir=str(state_dir), **tmdb_fields),
        "warehouse": WarehouseResource(database_url=warehouse_url),
    }


def materialize_year(year: int, res: dict, **kwargs) -> dg.ExecuteInProcessResult:
    result = dg.materialize(ALL, partition_key=str(year), resources=res, **kwargs)
    assert result.success
    return result


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    [event] = [e for e in result.get_asset_materialization_events()
               if e.materialization.asset_key.to_user_string() == asset]
    return {key: value.value for key, value in event.materialization.metadata.items()}


def failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]


def movie_requests(sandbox) -> int:
    return sum(sandbox.stats()["requests"].get("/3/movie/{id}", {}).values())


def discover_requests(sandbox) -> int:
    return sum(sandbox.stats()["requests"].get("/3/discover/movie", {}).values())


def year_ids(url: str, year: int, include_deleted: bool = False) -> set[int]:
    with get_engine(url).connect() as conn:
        return data_checks.year_movie_ids(conn, year, include_deleted=include_deleted)


@pytest.mark.slow
def test_a_year_over_the_cap_with_a_crowded_day_is_imported_completely_and_resyncs_cheaply(
        sandbox_factory, sqlite_warehouse_url, tmp_path):
    crowded = date(2025, 1, 1)
    sandbox = sandbox_factory(year_size=["2025=200"], crowded_date=[f"{crowded}=10800"], detail_size="small")
    one_day = requests.get(f"{sandbox.tmdb_url}/discover/movie", params={
        "api_key": KEY, "primary_release_date.gte": crowded, "primary_release_date.lte": crowded}).json()
    assert one_day["total_results"] > RESULT_CAP  # no date window alone can reach it
    truth = sandbox.truth(2025)
    assert len(truth) > RESULT_CAP
    res = resources(sandbox, sqlite_warehouse_url, tmp_path)

    first = materialize_year(2025, res)
    assert year_ids(sqlite_warehouse_url, 2025) == truth  # id by id
    assert failed_checks(first) == []
    discovered = metadata(first, "tmdb_discovered_movies")
    details = metadata(first, "tmdb_movie_details")
    assert discovered["discovered"] == discovered["tmdb_total"] == len(truth)
    assert discovered["coverage_pct"] == 100.0
    assert details["fetched"] == len(truth) and details["requests"] == len(truth)  # 1 request a movie
    assert movie_requests(sandbox) == len(truth)
    with get_engine(sqlite_warehouse_url).connect() as conn:
        windows = conn.execute(sa.select(schema.discovery_windows).where(
            schema.discovery_windows.c.release_year == 2025)).mappings().all()
    crowded_windows = [w for w in windows if w["start_date"] == w["end_date"] == crowded]
    assert len(crowded_windows) > 1 and all("vote_count" in w["extra_filter"] for w in crowded_windows)
    print(f"\nbig year: {len(truth)} movies, discovery {discovered['requests']} requests "
          f"in {discovered['duration_s']}s, details {details['requests']} requests in "
          f"{details['duration_s']}s, normalize {metadata(first, 'movies')['duration_s']}s")

    # Right away again: only discovery talks to TMDb, and nothing is duplicated.
    discover_before, movies_before = discover_requests(sandbox), movie_requests(sandbox)
    second = materialize_year(2025, res)
    assert movie_requests(sandbox) == movies_before
    assert discover_requests(sandbox) - discover_before == discovered["requests"]
    assert metadata(second, "tmdb_movie_details")["skipped_fresh"] == len(truth)
    assert metadata(second, "movies")["normalized"] == 0
    assert failed_checks(second) == []
    with get_engine(sqlite_warehouse_url).connect() as conn:
        assert data_checks.duplicate_movie_ids(conn, 2025) == []
        count = conn.execute(sa.select(sa.func.count()).select_from(schema.movies).where(
            schema.movies.c.release_year == 2025)).scalar_one()
    assert count == len(truth)


def changed_ids(sandbox, start: date, end: date) -> set[int]:
    """What the changes sensor would read from /movie/changes."""
    ids: set[int] = set()
    client = TMDbClient(base_url=sandbox.tmdb_url, api_key=KEY)
    page, pages = 1, 1
    while page <= pages:
        body = client.get("/movie/changes", {"start_date": start.isoformat(),
                                             "end_date": end.isoformat(), "page": page})
        items, pages = parse_changes_page(body)
        ids.update(tmdb_id for tmdb_id, _adult in items)
        page += 1
    return ids


def test_after_time_passes_changed_movies_are_refetched_and_deleted_ones_marked(
        sandbox_factory, sqlite_warehouse_url, tmp_path):
    sandbox = sandbox_factory(year_size=["2024=400"], detail_size="small", change_rate=0.05,
                              delete_rate=0.02, start_date="2026-11-21")
    res = resources(sandbox, sqlite_warehouse_url, tmp_path)
    materialize_year(2024, res)
    before = sandbox.truth(2024)
    assert year_ids(sqlite_warehouse_url, 2024) == before

    sandbox.advance(days=2)
    after = sandbox.truth(2024)
    changed = changed_ids(sandbox, date(2026, 11, 21), date(2026, 11, 23))
    with get_engine(sqlite_warehouse_url).begin() as conn:  # what the changes sensor does
        details_queue.mark_changed(conn, sorted(changed), datetime.now(timezone.utc))
    gone = before - after
    assert gone and changed & before, "the sandbox should have changed and removed some movies"
    expected_fetches = (changed & before) | gone | (after - before)

    fetched_before = movie_requests(sandbox)
    result = materialize_year(2024, res)
    assert movie_requests(sandbox) - fetched_before == len(expected_fetches)
    assert year_ids(sqlite_warehouse_url, 2024) == after
    deleted = year_ids(sqlite_warehouse_url, 2024, include_deleted=True) - after
    for tmdb_id in gone:
        status = requests.get(f"{sandbox.tmdb_url}/movie/{tmdb_id}", params={"api_key": KEY}).status_code
        # Deleted on TMDb -> kept and marked deleted; moved to another year -> left this year.
        assert (tmdb_id in deleted) == (status == 404)
    assert metadata(result, "tmdb_movie_details")["deleted"] == len(deleted) > 0
    assert failed_checks(result) == []


def test_popularity_churn_cannot_make_discovery_miss_or_repeat_movies(sandbox_factory):
    sandbox = sandbox_factory(year_size=["2024=3000"], detail_size="small", churn=0.5)
    client = TMDbClient(base_url=sandbox.tmdb_url, api_key=KEY)
    result = discover_year(client, 2024, max_workers=8)
    assert {m.tmdb_id for m in result.movies} == sandbox.truth(2024)
    assert result.duplicates == 0 and result.coverage_pct == 100.0


def test_two_runs_told_20_rps_never_get_a_429_from_a_20_rps_service(
        sandbox_factory, sqlite_warehouse_url, tmp_path):
    """Two runs at once (different years, one instance, two processes as the daemon launches them)
    share the 20 requests a second. Processes, not threads: Dagster does not support two
    materialize() calls in threads of one process."""
    sandbox = sandbox_factory(year_size=["2023=150", "2024=150"], detail_size="small", max_rps=20)
    env = {**os.environ, **sandbox.env(), "CINEGRAPH_DATABASE_URL": sqlite_warehouse_url,
           "CINEGRAPH_STATE_DIR": str(tmp_path / "state"), "TMDB_MAX_RPS": "20"}
    selection = "tmdb_discovered_movies,tmdb_movie_details,movies"
    dg.DagsterInstance.get().dispose()  # the instance exists before its runs, as in a deployment
    runs = [subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(year), selection], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for year in (2023, 2024)]
    outputs = []
    try:
        outputs = [run.communicate(timeout=300)[0] for run in runs]
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
    for run, output in zip(runs, outputs):
        assert run.returncode == 0, output[-3000:]
    stats = sandbox.stats()
    assert stats["rate_limited"] == 0
    assert stats["max_requests_per_second"] <= 20
    for year in (2023, 2024):
        assert year_ids(sqlite_warehouse_url, year) == sandbox.truth(year)
    print(f"\n20 rps limit: {stats['api_requests']} requests, busiest second "
          f"{stats['max_requests_per_second']}")


def test_a_run_covering_several_years_reports_each_year(sandbox_factory, warehouse_url, tmp_path):
    """Also run on PostgreSQL: the warehouse and the rate limit's slot row live there."""
    sandbox = sandbox_factory(year_size=["2022=60", "2023=80"], detail_size="small")
    res = resources(sandbox, warehouse_url, tmp_path)
    result = dg.materialize(ALL, resources=res, tags={
        "dagster/asset_partition_range_start": "2022", "dagster/asset_partition_range_end": "2023"})
    assert result.success
    for year in (2022, 2023):
        assert year_ids(warehouse_url, year) == sandbox.truth(year)
    observed = {e.event_specific_data.asset_observation.partition:
                e.event_specific_data.asset_observation.metadata["fetched"].value
                for e in result.all_events if e.event_type_value == "ASSET_OBSERVATION"
                and e.event_specific_data.asset_observation.asset_key.to_user_string() == "tmdb_movie_details"}
    assert observed == {"2022": len(sandbox.truth(2022)), "2023": len(sandbox.truth(2023))}


def test_dagster_cli_materializes_a_partition_from_the_environment_without_leaking_the_key(
        sandbox_factory, tmp_path):
    secret = "cli-secret-7d1e0c9a5b"
    sandbox = sandbox_factory(year_size=["2024=120"], detail_size="small", tmdb_api_key=secret)
    home = tmp_path / "cli_home"
    home.mkdir()
    url = f"sqlite:///{tmp_path / 'cli_warehouse.sqlite'}"
    env = {**os.environ, **sandbox.env(), "TMDB_API_KEY": secret, "DAGSTER_HOME": str(home),
           "CINEGRAPH_DATABASE_URL": url, "CINEGRAPH_STATE_DIR": str(home)}
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "--partition", "2024",
         "-m", "cinegraph_assets.definitions", "--select", "tmdb_discovered_movies,tmdb_movie_details,movies",
         # One process for the three steps: the default starts a Python process per step, which
         # only adds start-up time here.
         "--config-json", '{"execution": {"config": {"in_process": {}}}}'],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert year_ids(url, 2024) == sandbox.truth(2024)
    # The key is nowhere: not printed, not in Dagster's storage (event log, runs, compute logs).
    assert secret not in completed.stdout + completed.stderr
    leaked = [str(p) for p in home.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert leaked == []
