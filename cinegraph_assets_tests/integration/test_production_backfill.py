"""Production path, for real: dagster-webserver + dagster-daemon on a PostgreSQL instance, the
warehouse on PostgreSQL, a five-year backfill launched through GraphQL as the UI launches it, the
sandbox limited to 20 requests a second.

What a user would notice: every run succeeds, each year holds exactly TMDb's movies, several runs
work at once, and TMDb never had to refuse a request (one rate limit for the whole deployment).
"""

from __future__ import annotations

import sqlalchemy as sa
import pytest

from benchmarks.postgres import throwaway_database
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.schema import movies
from cinegraph_assets_tests.support.dagster_processes import DagsterDeployment

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

YEARS = ["1991", "1992", "1993", "1994", "1995"]
TMDB_ASSETS = ["tmdb_discovered_movies", "tmdb_movie_details", "movies"]
MAX_RPS = 20


def _max_overlap(runs: list[dict]) -> int:
    """The most runs that were executing at the same moment."""
    events = []
    for run in runs:
        if run.get("startTime") and run.get("endTime"):
            events += [(run["startTime"], 1), (run["endTime"], -1)]
    running = peak = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        running += delta
        peak = max(peak, running)
    return peak


def test_five_year_backfill_through_graphql_is_complete_and_never_throttled(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(max_rps=MAX_RPS, latency_ms=30,
                              year_size=[f"{year}=160" for year in YEARS], detail_size="small")
    with throwaway_database("cinegraph_instance") as instance_url, \
            throwaway_database("cinegraph_warehouse") as warehouse_url:
        env = {**sandbox.env(), "CINEGRAPH_DATABASE_URL": warehouse_url, "TMDB_MAX_RPS": str(MAX_RPS),
               "CINEGRAPH_STATE_DIR": str(tmp_path / "state")}
        with DagsterDeployment(tmp_path / "home", env=env, instance_postgres_url=instance_url,
                               pool_limits={"tmdb": 5, "omdb": 1}) as dagster:
            sandbox.reset_stats()
            backfill_id = dagster.launch_partition_backfill(TMDB_ASSETS, YEARS)
            status = dagster.wait_for_backfill(backfill_id, timeout=900)
            runs = dagster.graphql(
                """query Runs($id: String!) { runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]})
                   { ... on Runs { results { id status startTime endTime } } } }""",
                {"id": backfill_id},
            )["runsOrError"]["results"]

        assert status["status"] in {"COMPLETED", "COMPLETED_SUCCESS"}, (status, dagster.tail_logs())
        assert runs and all(run["status"] == "SUCCESS" for run in runs), runs
        assert _max_overlap(runs) >= 3, f"runs did not overlap: {runs}"

        engine = get_engine(warehouse_url)
        with engine.connect() as conn:
            for year in YEARS:
                rows = conn.execute(
                    sa.select(movies.c.tmdb_id).where(movies.c.release_year == int(year),
                                                      movies.c.deleted_at.is_(None))
                ).scalars().all()
                assert len(rows) == len(set(rows))
                assert set(rows) == sandbox.truth(int(year)), f"year {year} differs from TMDb's truth"

        stats = sandbox.stats()
        assert stats["rate_limited"] == 0, stats
        assert stats["max_requests_per_second"] <= MAX_RPS, stats
