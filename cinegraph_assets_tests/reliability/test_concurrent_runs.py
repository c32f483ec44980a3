"""Two runs of the same year at once (a backfill overlapping the daily sync), each in its own
process on one Dagster instance: both finish, the warehouse ends correct, nothing is duplicated,
nothing deadlocks. On SQLite and on PostgreSQL.

Processes rather than threads: two in-process materializations started in threads of one
interpreter can deadlock inside Dagster's logging set-up (logging.config.dictConfig against a
handler another run is emitting through), which says nothing about our code; production runs are
separate processes anyway.
"""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg
import pytest
import sqlalchemy as sa

from cinegraph_assets_tests.support.runs import RUN_SCRIPT
from cinegraph_assets_tests.reliability.helpers import (
    cast_rows_not_matching_response,
    materialize_year,
    tmdb_resource,
    year_ids,
)
from cinegraph_assets_tests.support.sandbox import REPO_ROOT

YEAR = 1978
RUN_TIMEOUT_SECONDS = 300


@pytest.mark.slow
def test_two_runs_of_the_same_year_at_once_both_finish_without_duplicates(
        warehouse_url, sandbox_factory, tmp_path):
    sandbox = sandbox_factory(seed=19, year_size=[f"{YEAR}=250"], detail_size="small", latency_ms=5)
    truth = sandbox.truth(YEAR)
    env = {**os.environ, **sandbox.env(), "CINEGRAPH_DATABASE_URL": warehouse_url,
           "CINEGRAPH_STATE_DIR": str(tmp_path), "TMDB_MAX_RPS": "150", "TMDB_MAX_WORKERS": "4"}
    everything = ",".join(["tmdb_discovered_movies", "tmdb_movie_details", "movies"])
    # The instance exists before its runs, as in a deployment: Dagster's SQLite storages are not
    # meant to be created by two processes at once (both stamp their Alembic version).
    dg.DagsterInstance.get().dispose()
    runs = [subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(YEAR), everything], env=env,
                             cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in ("backfill", "daily sync")]
    outputs = []
    try:
        for run in runs:
            outputs.append(run.communicate(timeout=RUN_TIMEOUT_SECONDS)[0])
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()  # a deadlock: fail below instead of hanging the suite
    for run, output in zip(runs, outputs):
        assert run.returncode == 0, output[-3000:]

    with dg.DagsterInstance.get() as instance:
        records = instance.get_runs()
        assert len(records) == 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in records)

    stored = year_ids(warehouse_url, YEAR)
    assert sorted(stored) == sorted(truth)
    dialect = sa.engine.make_url(warehouse_url).get_backend_name()
    engine = sa.create_engine(warehouse_url)
    with engine.connect() as conn:
        assert cast_rows_not_matching_response(conn, dialect) == []
        assert conn.execute(sa.text("SELECT count(*) FROM tmdb_details_staging")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM tmdb_fetch_failures")).scalar() == 0
        assert conn.execute(sa.text(
            "SELECT count(*) FROM discovered_movies WHERE release_year = :y"), {"y": YEAR}).scalar() == len(truth)
    engine.dispose()

    # A third run right after changes nothing: the year is complete and fresh.
    sandbox.reset_stats()
    again = materialize_year(YEAR, tmdb_resource(sandbox, tmp_path), warehouse_url)
    assert again.success
    assert sandbox.stats()["requests"].get("/3/movie/{id}", {}) == {}
    assert sorted(year_ids(warehouse_url, YEAR)) == sorted(truth)
