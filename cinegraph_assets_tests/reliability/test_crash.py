"""kill -9 in the middle of the details step: the rerun completes the year, re-fetches almost
nothing of what was already fetched, and no reader ever sees a movie without its credits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from cinegraph_assets_tests.support.runs import RUN_SCRIPT
from cinegraph_assets_tests.reliability.helpers import (
    cast_rows_not_matching_response,
    materialize_year,
    movies_missing_credits,
    tmdb_resource,
    year_ids,
)
from cinegraph_assets_tests.support.sandbox import REPO_ROOT

YEAR = 1994
STEPS = "tmdb_movie_details,movies"  # discovery runs first, in the test's process


#: Responses saved so far: still staged, or already normalized into movies (the step normalizes
#: while it fetches; the warehouse holds no other year).
SAVED = "SELECT (SELECT count(*) FROM tmdb_details_staging) + (SELECT count(*) FROM movies)"


def _details_requests(sandbox) -> int:
    return sum(sandbox.stats()["requests"].get("/3/movie/{id}", {}).values())


class _Reader(threading.Thread):
    """Polls the warehouse like a user's query would, recording any movie seen without credits."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.engine = sa.create_engine(url)
        self.stop = threading.Event()
        self.violations: set[int] = set()
        self.polls = 0
        self.saw_movies = False

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with self.engine.connect() as conn:
                    self.violations.update(movies_missing_credits(conn, "sqlite"))
                    self.saw_movies = self.saw_movies or bool(
                        conn.execute(sa.text("SELECT count(*) FROM movies")).scalar())
                self.polls += 1
            except sa.exc.OperationalError:
                pass  # the table may not exist yet, or the writer holds a lock for a moment
            self.stop.wait(0.05)


@pytest.mark.slow
def test_a_killed_run_loses_nothing_and_its_rerun_refetches_almost_nothing(
        sandbox_factory, sqlite_warehouse_url, tmp_path):
    sandbox = sandbox_factory(seed=13, year_size=[f"{YEAR}=900"], detail_size="small", latency_ms=30)
    truth = sandbox.truth(YEAR)
    # Discovery first, in this process: the kill below targets the details step.
    assert materialize_year(YEAR, tmdb_resource(sandbox, tmp_path), sqlite_warehouse_url,
                            selection=["tmdb_discovered_movies"]).success
    env = {**os.environ, **sandbox.env(), "CINEGRAPH_DATABASE_URL": sqlite_warehouse_url,
           "CINEGRAPH_STATE_DIR": str(tmp_path), "TMDB_MAX_RPS": "80", "TMDB_MAX_WORKERS": "4"}
    engine = sa.create_engine(sqlite_warehouse_url)
    reader = _Reader(sqlite_warehouse_url)
    reader.start()
    try:
        run = subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(YEAR), STEPS], env=env, cwd=REPO_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            saved = 0
            while saved < len(truth) // 2:
                assert run.poll() is None, "the run ended before it could be killed"
                assert time.monotonic() < deadline, "the details step never got half way"
                time.sleep(0.1)
                with engine.connect() as conn:
                    saved = conn.execute(sa.text(SAVED)).scalar()
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(timeout=30)
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
        fetched_before_kill = _details_requests(sandbox)
        with engine.connect() as conn:
            saved_before_kill = conn.execute(sa.text(SAVED)).scalar()
        assert 0 < saved_before_kill < len(truth)
        # Lost at most: the requests in flight (2 per worker) and the batch not yet saved (25, plus
        # what arrived together with its last answer).
        assert saved_before_kill >= fetched_before_kill - (4 * 2 + 25 + 4 * 2)

        sandbox.reset_stats()
        rerun = subprocess.run([sys.executable, "-c", RUN_SCRIPT, str(YEAR), STEPS], env=env, cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
    finally:
        reader.stop.set()
        reader.join(timeout=10)

    assert reader.polls > 10 and reader.saw_movies
    assert reader.violations == set(), f"movies seen without their credits: {sorted(reader.violations)[:10]}"
    stored = year_ids(sqlite_warehouse_url, YEAR)
    assert sorted(stored) == sorted(truth)
    with engine.connect() as conn:
        assert cast_rows_not_matching_response(conn, "sqlite") == []
        assert conn.execute(sa.text("SELECT count(*) FROM tmdb_details_staging")).scalar() == 0
    engine.dispose()
    # Every movie is fetched once more at most by the rerun; of those fetched before the kill,
    # at least 90% are not fetched again.
    fetched_again = _details_requests(sandbox) - (len(truth) - fetched_before_kill)
    assert fetched_again <= 0.10 * fetched_before_kill, (fetched_again, fetched_before_kill)
