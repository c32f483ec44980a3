"""A year imports completely through 10% faults, 429 bursts and popularity churn, and the run's
metadata accounts for every retry."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from cinegraph_assets_tests.reliability.helpers import (
    cast_rows_not_matching_response,
    materialization_metadata,
    materialize_year,
    tmdb_resource,
    year_ids,
)

YEAR = 1999


def _burst_429s_during_details(sandbox, stop: threading.Event) -> None:
    """Once the details step is well under way, let the sandbox allow only 5 requests a second for
    two seconds (far below the 200 the client is told), then lift the limit again."""
    while not stop.is_set():
        details = sum(sandbox.stats()["requests"].get("/3/movie/{id}", {}).values())
        if details >= 500:
            sandbox.configure(max_rps=5)
            stop.wait(2.0)
            sandbox.configure(max_rps=0)
            return
        stop.wait(0.2)


@pytest.mark.slow
def test_a_year_survives_faults_429_bursts_and_churn(sandbox_factory, sqlite_warehouse_url, tmp_path):
    sandbox = sandbox_factory(
        seed=11, year_size=[f"{YEAR}=3200"], detail_size="small",
        fault_rate=0.10, fault_kinds="500,502,503,reset,slow,truncated",
        slow_seconds=3,  # longer than the client's 2 s timeout: a slow answer is a timeout
        churn=0.5,
    )
    truth = sandbox.truth(YEAR)
    assert len(truth) >= 3000
    tmdb = tmdb_resource(sandbox, tmp_path, timeout_seconds=2, max_rps=200, max_workers=16)

    stop = threading.Event()
    burster = threading.Thread(target=_burst_429s_during_details, args=(sandbox, stop), daemon=True)
    burster.start()
    try:
        result = materialize_year(YEAR, tmdb, sqlite_warehouse_url)
    finally:
        stop.set()
        burster.join(timeout=10)
    assert result.success

    stored = year_ids(sqlite_warehouse_url, YEAR)
    assert len(stored) == len(set(stored)), "a movie is stored twice"
    assert set(stored) == truth, (
        f"missing {sorted(truth - set(stored))[:10]}, extra {sorted(set(stored) - truth)[:10]}")
    engine = sa.create_engine(sqlite_warehouse_url)
    with engine.connect() as conn:
        assert cast_rows_not_matching_response(conn, "sqlite") == []
    engine.dispose()

    # Every failed attempt the sandbox made (fault or 429) shows up as a retry in the metadata.
    stats = sandbox.stats()
    faults = sum(stats["faults"].values())
    discovery = materialization_metadata(result, "tmdb_discovered_movies")
    details = materialization_metadata(result, "tmdb_movie_details")
    assert faults > 0 and stats["rate_limited"] > 0
    assert details["http_429"] > 0 and details["retries"] > 0
    assert discovery["http_429"] + details["http_429"] == stats["rate_limited"]
    # >=: an attempt on a connection the network dropped is counted by us, never by the sandbox.
    assert discovery["requests"] + details["requests"] >= stats["api_requests"]
    retries = discovery["retries"] + details["retries"]
    assert retries + details["failed"] >= faults + stats["rate_limited"]
    assert details["failed"] == 0
    assert details["fetched"] == len(truth)
