"""The warehouse's PostgreSQL goes away in the middle of a run (every connection dropped, new ones
refused for a few seconds, as during a restart): the run fails with a clear error or rides it out,
the rerun completes the year, nothing is duplicated.

A TCP proxy between the engine and PostgreSQL stands in for the restart (see support/tcp_proxy.py:
restarting the machine's shared cluster would break every other test running at the same time).
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cinegraph_assets_tests.reliability.helpers import (
    cast_rows_not_matching_response,
    materialize_year,
    run_failure_text,
    tmdb_resource,
    year_ids,
)
from cinegraph_assets_tests.support.tcp_proxy import TcpProxy, wait_until

YEAR = 1987
OUTAGE_SECONDS = 4


@pytest.mark.postgres
@pytest.mark.slow
def test_a_database_restart_mid_run_fails_clearly_and_the_rerun_completes(
        sandbox_factory, postgres_warehouse_url, tmp_path):
    sandbox = sandbox_factory(seed=17, year_size=[f"{YEAR}=500"], detail_size="small", latency_ms=10)
    truth = sandbox.truth(YEAR)
    direct = sa.create_engine(postgres_warehouse_url)
    target = make_url(postgres_warehouse_url)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        proxied_url = target.set(port=proxy.port).render_as_string(hide_password=False)
        tmdb = tmdb_resource(sandbox, tmp_path, max_rps=60, max_workers=4)
        outcome: dict = {}
        run = threading.Thread(target=lambda: outcome.setdefault(
            "result", materialize_year(YEAR, tmdb, proxied_url)), daemon=True)
        run.start()

        def staged() -> int:
            """Responses saved so far: still staged, or already normalized (the step does both)."""
            try:
                with direct.connect() as conn:
                    return conn.execute(sa.text(
                        "SELECT (SELECT count(*) FROM tmdb_details_staging) + (SELECT count(*) FROM movies)"
                    )).scalar()
            except sa.exc.ProgrammingError:
                return 0  # not migrated yet

        assert wait_until(lambda: staged() >= len(truth) // 3, timeout=120), "details never got going"
        assert proxy.outage(OUTAGE_SECONDS) > 0
        run.join(timeout=300)
        assert not run.is_alive()
        first = outcome["result"]
        if not first.success:
            message = run_failure_text(first)
            assert "warehouse" in message.lower() and "rerun" in message.lower(), message[-2000:]

        # The database is back: the rerun completes the year.
        assert wait_until(lambda: proxy.listening, timeout=OUTAGE_SECONDS + 5)
        second = materialize_year(YEAR, tmdb, proxied_url)
        assert second.success, run_failure_text(second)[-3000:]

    stored = year_ids(postgres_warehouse_url, YEAR)
    assert sorted(stored) == sorted(truth)
    with direct.connect() as conn:
        assert cast_rows_not_matching_response(conn, "postgresql") == []
        assert conn.execute(sa.text("SELECT count(*) FROM tmdb_fetch_failures")).scalar() == 0
    direct.dispose()
