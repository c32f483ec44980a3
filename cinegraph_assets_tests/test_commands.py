"""The commands beside `make run`: --help in full sentences, `init` preparing DAGSTER_HOME the way
`make run` does, and `reset` / `refetch` starting years over on purpose without forgetting the
OMDb requests already spent today, leaving the UI's view of the partitions equal to the warehouse."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from cinegraph_assets.cli import main
from cinegraph_assets.instance_history import materialized_at
from cinegraph_assets.pools import POOL_LIMITS
from cinegraph_assets.warehouse import ratings
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets_tests.reliability.helpers import (
    materialization_metadata,
    materialize_year,
    run_failure_text,
    tmdb_resource,
    year_ids,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
YEAR_ASSETS = ["tmdb_discovered_movies", "tmdb_movie_details", "movies"]
RESET, KEPT = 1990, 1991
SPENT_TODAY = 15


def test_help_says_what_each_command_does_in_full_sentences(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    description = out.split("\n\n")[1].replace("\n", " ")
    assert description.endswith("."), f"cut mid-sentence: {description!r}"
    for command in ("run", "status", "init", "reset", "refetch", "db-roles", "migrate"):
        assert f"  {command} " in out or f"    {command}" in out, f"{command} missing from --help"


def test_init_puts_the_repos_dagster_yaml_and_the_pool_limits_in_dagster_home(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("CINEGRAPH_DATABASE_URL", f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    assert main(["init", "--project-dir", str(REPO_ROOT)]) == 0
    assert (home / "dagster.yaml").read_text() == (REPO_ROOT / "dagster.yaml").read_text()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        limits = {pool: instance.event_log_storage.get_concurrency_info(pool).slot_count for pool in POOL_LIMITS}
    assert limits == POOL_LIMITS

    assert main(["init", "--project-dir", str(tmp_path / "not_a_checkout")]) == 1
    assert "dagster.yaml is missing" in capsys.readouterr().err


@pytest.fixture
def imported(sandbox_factory, sqlite_warehouse_url, tmp_path, monkeypatch):
    """Two years imported on the instance in DAGSTER_HOME (prepared by init), 15 OMDb requests spent."""
    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("CINEGRAPH_DATABASE_URL", sqlite_warehouse_url)
    assert main(["init", "--project-dir", str(REPO_ROOT)]) == 0
    sandbox = sandbox_factory(seed=5, year_size=[f"{RESET}=25", f"{KEPT}=20"], detail_size="small")
    tmdb = tmdb_resource(sandbox, tmp_path)
    instance = dg.DagsterInstance.from_config(str(home))
    for year in (RESET, KEPT):
        result = materialize_year(year, tmdb, sqlite_warehouse_url, instance=instance)
        assert result.success, run_failure_text(result)
        assert "has no limit on this Dagster instance" not in str(result.all_events)  # init set them
    with get_engine(upgrade(sqlite_warehouse_url)).begin() as conn:
        now = datetime.now(timezone.utc)
        assert ratings.reserve_omdb_requests(conn, now.date(), 1000, count=SPENT_TODAY, now=now)
    yield sandbox, tmdb, instance
    instance.dispose()


def _materialized(instance, asset: str) -> set[str]:
    return set(instance.get_materialized_partitions(dg.AssetKey(asset)))


def _latest(instance, asset: str, year: int) -> list:
    return instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[str(year)]), limit=1).records


def _details_requests(sandbox) -> int:
    return sum(sandbox.stats()["requests"].get("/3/movie/{id}", {}).values())


def test_reset_forgets_the_years_keeps_the_omdb_ledger_and_shows_them_missing(
        imported, sqlite_warehouse_url, capsys):
    sandbox, tmdb, instance = imported
    kept_before = sorted(year_ids(sqlite_warehouse_url, KEPT))
    [synced] = _latest(instance, "movies", KEPT)

    assert main(["reset", "--years", str(RESET)]) == 0

    out = capsys.readouterr().out
    assert year_ids(sqlite_warehouse_url, RESET) == []
    assert sorted(year_ids(sqlite_warehouse_url, KEPT)) == kept_before
    with get_engine(sqlite_warehouse_url).connect() as conn:
        assert ratings.omdb_requests_used(conn, datetime.now(timezone.utc).date()) == SPENT_TODAY
        left = conn.execute(sa.text("SELECT count(*) FROM discovered_movies WHERE release_year = :y"),
                            {"y": RESET}).scalar()
    assert left == 0
    assert f"the OMDb quota ledger ({SPENT_TODAY} requests used today)" in out
    for asset in YEAR_ASSETS:  # what the UI's partition bar reads
        assert _materialized(instance, asset) == {str(KEPT)}, asset
    # The kept year keeps its numbers and its sync time (which the freshness check reads).
    [kept] = _latest(instance, "movies", KEPT)
    assert materialized_at(kept) == synced.timestamp
    assert kept.asset_materialization.metadata["movies_in_year"] == \
        synced.asset_materialization.metadata["movies_in_year"]

    # Imported again from nothing: every movie is fetched again.
    sandbox.reset_stats()
    again = materialize_year(RESET, tmdb, sqlite_warehouse_url, instance=instance)
    assert again.success, run_failure_text(again)
    assert set(year_ids(sqlite_warehouse_url, RESET)) == sandbox.truth(RESET)
    assert _details_requests(sandbox) == len(sandbox.truth(RESET))


def test_reset_refuses_a_year_a_run_is_writing(tmp_path, monkeypatch, capsys):
    from dagster._core.test_utils import create_run_for_test

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CINEGRAPH_DATABASE_URL", f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    assert main(["init", "--project-dir", str(REPO_ROOT)]) == 0
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        for year in (RESET, KEPT):
            instance.report_runless_asset_event(dg.AssetMaterialization("movies", partition=str(year)))
        create_run_for_test(instance, job_name="tmdb_year_import", status=dg.DagsterRunStatus.STARTED,
                            tags={"dagster/partition": str(RESET)})
        assert main(["reset", "--years", f"{RESET}-{KEPT}"]) == 1
        assert f"{RESET} (run " in capsys.readouterr().err
        assert _materialized(instance, "movies") == {str(RESET), str(KEPT)}  # nothing wiped


def test_refetch_makes_the_next_import_fetch_every_movie_again(imported, sqlite_warehouse_url, capsys):
    sandbox, tmdb, instance = imported
    sandbox.reset_stats()
    fresh = materialize_year(KEPT, tmdb, sqlite_warehouse_url, instance=instance)
    assert materialization_metadata(fresh, "tmdb_movie_details")["fetched"] == 0  # all fresh: skipped

    assert main(["refetch", "--years", str(KEPT)]) == 0
    assert f"Marked {len(sandbox.truth(KEPT))} movies of {KEPT}" in capsys.readouterr().out
    forced = materialize_year(KEPT, tmdb, sqlite_warehouse_url, instance=instance)
    assert materialization_metadata(forced, "tmdb_movie_details")["fetched"] == len(sandbox.truth(KEPT))


@pytest.mark.parametrize(("years", "message"), [
    ("1800", "'1800' is outside the release-year partitions 1874-"),
    ("1990-1980", "'1990-1980' runs backwards; write the earlier year first, e.g. 1980-1990"),
    ("nineteen", "'nineteen' is not a year or a range of years; write 1990, 1920-1925 or 1990,1995-1997"),
])
def test_a_bad_year_range_is_refused_naming_the_fix(years, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["reset", "--years", years])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_a_run_on_an_instance_without_pool_limits_says_so(sandbox_factory, sqlite_warehouse_url, tmp_path):
    sandbox = sandbox_factory(seed=5, year_size=[f"{KEPT}=5"], detail_size="small")
    with dg.instance_for_test() as bare:  # no dagster.yaml: no limit, no default limit
        result = materialize_year(KEPT, tmdb_resource(sandbox, tmp_path), sqlite_warehouse_url, instance=bare)
        assert result.success
        warnings = [record.user_message for record in bare.all_logs(result.run_id)
                    if "has no limit on this Dagster instance" in record.user_message]
    assert warnings and "python -m cinegraph_assets init" in warnings[0]
