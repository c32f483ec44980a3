"""Detail failures: recorded with their reason, retried next run, failing the partition only past
the threshold; an invalid key stops the run at once with a message naming the env vars."""

import dagster as dg

from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb.assets import tmdb_details_and_movies, tmdb_discovered_movies
from cinegraph_assets.tmdb.checks import detail_failures_under_threshold
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets.warehouse import data_checks, failed_fetches
from cinegraph_assets.warehouse.engine import get_engine

ASSETS = [tmdb_discovered_movies, tmdb_details_and_movies, detail_failures_under_threshold]
DETAILS = [tmdb_details_and_movies, detail_failures_under_threshold]  # discovery already done


def res(sandbox, url, tmp_path, **fields):
    fields.setdefault("max_rps", 5000)
    return {"tmdb": TMDbResource(base_url=sandbox.tmdb_url, api_key="sandbox", state_dir=str(tmp_path),
                                 **fields),
            "warehouse": WarehouseResource(database_url=url)}


def failures(url, year):
    with get_engine(url).connect() as conn:
        return failed_fetches.fetch_failures(conn, year)


def test_failures_past_the_threshold_fail_the_partition_and_are_retried_next_run(
        sandbox_factory, sqlite_warehouse_url, tmp_path):
    sandbox = sandbox_factory(year_size=["2024=150"], detail_size="small")
    truth = sandbox.truth(2024)
    dg.materialize([tmdb_discovered_movies], partition_key="2024",
                   resources=res(sandbox, sqlite_warehouse_url, tmp_path))
    sandbox.configure(fault_rate=1.0, fault_kinds="503")  # TMDb is down for the details
    broken = dg.materialize(DETAILS, partition_key="2024", raise_on_error=False,
                            resources=res(sandbox, sqlite_warehouse_url, tmp_path, max_retries=1))
    assert not broken.success
    [failure] = [e for e in broken.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message
    assert "TMDB_FAILURE_THRESHOLD" in message and "2024" in message and "http_503" in message
    recorded = failures(sqlite_warehouse_url, 2024)
    assert {f["tmdb_id"] for f in recorded} == truth
    assert {(f["reason"], f["http_status"]) for f in recorded} == {("http_503", 503)}

    sandbox.configure(fault_rate=0.0)  # back up: the next run retries every failed movie
    healed = dg.materialize(ASSETS, partition_key="2024",
                            resources=res(sandbox, sqlite_warehouse_url, tmp_path))
    assert healed.success
    assert failures(sqlite_warehouse_url, 2024) == []
    with get_engine(sqlite_warehouse_url).connect() as conn:
        assert data_checks.year_movie_ids(conn, 2024) == truth


def test_failures_under_the_threshold_materialize_and_the_check_reports_them(
        sandbox_factory, sqlite_warehouse_url, tmp_path):
    sandbox = sandbox_factory(year_size=["2024=150"], detail_size="small")
    dg.materialize([tmdb_discovered_movies], partition_key="2024",
                   resources=res(sandbox, sqlite_warehouse_url, tmp_path))
    sandbox.configure(fault_rate=0.2, fault_kinds="500")
    result = dg.materialize(DETAILS, partition_key="2024",
                            resources=res(sandbox, sqlite_warehouse_url, tmp_path, max_retries=0,
                                          failure_threshold=0.9))
    assert result.success
    failed = len(failures(sqlite_warehouse_url, 2024))
    assert failed > 0
    details = [e for e in result.get_asset_materialization_events()
               if e.materialization.asset_key.to_user_string() == "tmdb_movie_details"][0]
    assert details.materialization.metadata["failed"].value == failed
    [check] = result.get_asset_check_evaluations()
    assert check.passed and check.metadata["failed"].value == failed


def test_an_invalid_key_stops_the_run_at_once_naming_the_env_vars(
        sandbox_factory, sqlite_warehouse_url, tmp_path):
    sandbox = sandbox_factory(year_size=["2024=150"], detail_size="small")
    resources = res(sandbox, sqlite_warehouse_url, tmp_path)
    resources["tmdb"] = TMDbResource(base_url=sandbox.tmdb_url, api_key="not-the-key-42",
                                     state_dir=str(tmp_path))
    result = dg.materialize(ASSETS, partition_key="2024", resources=resources, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    text = str(failure.event_specific_data.error.to_string())
    assert "TMDB_API_KEY" in text and "TMDB_ACCESS_TOKEN" in text
    assert "not-the-key-42" not in text
    assert sum(sandbox.stats()["requests"]["/3/discover/movie"].values()) == 1


def test_a_404_without_tmdbs_code_34_is_a_failure_retried_not_a_deletion(
        sandbox_factory, sqlite_warehouse_url, tmp_path):
    """A CDN answering 404 for a movie that exists (no code 34) must not hide it for good."""
    sandbox = sandbox_factory(year_size=["2024=60"], detail_size="small")
    truth = sandbox.truth(2024)
    flaky = sorted(truth)[5]
    sandbox.oddities(transient_404={str(flaky): 2})  # longer than one retry (max_retries=1)

    first = dg.materialize(ASSETS, partition_key="2024", resources=res(
        sandbox, sqlite_warehouse_url, tmp_path, max_retries=1, failure_threshold=0.05))

    assert first.success
    [recorded] = failures(sqlite_warehouse_url, 2024)
    assert (recorded["tmdb_id"], recorded["reason"], recorded["http_status"]) == (flaky, "http_404", 404)
    with get_engine(sqlite_warehouse_url).connect() as conn:
        assert data_checks.year_movie_ids(conn, 2024, include_deleted=True) == truth - {flaky}  # not "deleted"
    # The next run (the CDN answers again) fetches it: the year is whole.
    dg.materialize(ASSETS, partition_key="2024", resources=res(sandbox, sqlite_warehouse_url, tmp_path))
    with get_engine(sqlite_warehouse_url).connect() as conn:
        assert data_checks.year_movie_ids(conn, 2024) == truth
    assert failures(sqlite_warehouse_url, 2024) == []
