"""The quota ledger and the pending queue, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cinegraph_assets.omdb.client import OmdbAnswer
from cinegraph_assets.omdb.fetching import save_answer
from cinegraph_assets.omdb.quota import QuotaLedger, backlog_years
from cinegraph_assets.warehouse import ratings as ratings_sql
from cinegraph_assets.warehouse import schema
from cinegraph_assets_tests.omdb.helpers import insert_movies, migrated_engine, utc

NOW = utc(2026, 11, 21, 12, 0)


def test_two_concurrent_runs_never_overdraw_the_day(warehouse_url):
    """Four runs race for 50 requests (each wants 40): exactly 50 are granted, not one more."""
    engine = migrated_engine(warehouse_url)
    ledger = QuotaLedger(engine, daily_limit=50, clock=lambda: NOW)
    start = threading.Barrier(4)
    granted = [0] * 4

    def run(index: int) -> None:
        start.wait()
        for _ in range(40):
            if ledger.reserve():
                granted[index] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 50
    assert ledger.used_today() == 50 and ledger.remaining_today() == 0


def test_the_quota_resets_with_the_utc_day(sqlite_warehouse_url):
    engine = migrated_engine(sqlite_warehouse_url)
    clock = {"now": utc(2026, 11, 21, 23, 59)}
    ledger = QuotaLedger(engine, daily_limit=3, clock=lambda: clock["now"])
    assert [ledger.reserve() for _ in range(4)] == [True, True, True, False]
    clock["now"] = utc(2026, 11, 22, 0, 1)
    assert ledger.remaining_today() == 3
    assert ledger.reserve()


def test_omdb_saying_limit_reached_pauses_every_run_for_an_hour_not_the_rest_of_the_day(
    sqlite_warehouse_url,
):
    """OMDb does not say when its counter resets: if it is not UTC midnight, the limit answer
    early in a UTC day would otherwise cost the whole day. An hour later one request probes."""
    engine = migrated_engine(sqlite_warehouse_url)
    insert_movies(engine, [{"tmdb_id": 1, "imdb_id": "tt1", "release_year": 2020}])
    clock = {"now": utc(2026, 11, 22, 0, 10)}
    ledger = QuotaLedger(engine, daily_limit=1000, clock=lambda: clock["now"])
    assert ledger.reserve()
    until = ledger.pause()  # OMDb said "Request limit reached!" although the ledger had 999 left
    assert until == utc(2026, 11, 22, 1, 10) and ledger.paused_until() == until
    assert ledger.remaining_today() == 0 and not ledger.reserve()
    assert backlog_years(engine, clock["now"], daily_limit=1000) == []
    clock["now"] = utc(2026, 11, 22, 1, 11)
    assert ledger.paused_until() is None and ledger.remaining_today() == 999
    assert ledger.reserve() and ledger.used_today() == 2
    assert backlog_years(engine, clock["now"], daily_limit=1000) == [(2020, 1)]


def test_a_pause_taken_late_in_the_day_runs_on_into_the_next(sqlite_warehouse_url):
    engine = migrated_engine(sqlite_warehouse_url)
    clock = {"now": utc(2026, 11, 21, 23, 30)}
    ledger = QuotaLedger(engine, daily_limit=10, clock=lambda: clock["now"])
    ledger.pause()
    clock["now"] = utc(2026, 11, 22, 0, 15)
    assert not ledger.reserve() and ledger.used_today() == 0
    clock["now"] = utc(2026, 11, 22, 0, 31)
    assert ledger.reserve()


def test_pending_order_never_fetched_by_popularity_then_failures_then_oldest_ratings(warehouse_url):
    engine = migrated_engine(warehouse_url)
    insert_movies(engine, [
        {"tmdb_id": 1, "imdb_id": "tt1", "release_year": 2020, "popularity": 5.0},
        {"tmdb_id": 2, "imdb_id": "tt2", "release_year": 2020, "popularity": 50.0},
        {"tmdb_id": 3, "imdb_id": "tt3", "release_year": 2020, "popularity": 99.0},  # rated long ago
        {"tmdb_id": 4, "imdb_id": "tt4", "release_year": 2020, "popularity": 98.0},  # rated very long ago
        {"tmdb_id": 5, "imdb_id": "tt5", "release_year": 2020, "popularity": 97.0},  # rated recently
        {"tmdb_id": 6, "imdb_id": "tt6", "release_year": 2020, "popularity": 96.0},  # not found lately
        {"tmdb_id": 7, "imdb_id": "tt7", "release_year": 2020, "popularity": 1.0},   # malformed answer
        {"tmdb_id": 8, "imdb_id": None, "release_year": 2020, "popularity": 100.0},  # no IMDb id
        {"tmdb_id": 9, "imdb_id": "tt9", "release_year": 2020, "popularity": 100.0,
         "deleted_at": NOW},
        {"tmdb_id": 10, "imdb_id": "tt10", "release_year": 2019, "popularity": 100.0},
        {"tmdb_id": 11, "imdb_id": "tt11", "release_year": 2020, "popularity": 0.5},  # old not found
    ])
    with engine.begin() as conn:
        ratings_sql.upsert_ratings(conn, 3, "tt3", {}, [], None, NOW - timedelta(days=40))
        ratings_sql.upsert_ratings(conn, 4, "tt4", {}, [], None, NOW - timedelta(days=400))
        ratings_sql.upsert_ratings(conn, 5, "tt5", {}, [], None, NOW - timedelta(days=2))
        ratings_sql.record_omdb_failure(conn, 6, "tt6", "not_found", "Movie not found!",
                                        NOW - timedelta(days=1), NOW + timedelta(days=89))
        ratings_sql.record_omdb_failure(conn, 7, "tt7", "parse_error", "invalid JSON",
                                        NOW - timedelta(days=1), NOW - timedelta(days=1))
        ratings_sql.record_omdb_failure(conn, 11, "tt11", "not_found", "Movie not found!",
                                        NOW - timedelta(days=91), NOW - timedelta(days=1))
    with engine.connect() as conn:
        pending = ratings_sql.movies_pending_ratings(conn, 2020, NOW, refresh_days=30,
                                                     not_found_retry_days=90)
        summary = ratings_sql.ratings_summary(conn, 2020, NOW, refresh_days=30)
        years = ratings_sql.pending_years(conn, NOW)
    # Refreshes (4, 3) wait while any movie of any year (1, 2 and 2019's 10) was never asked.
    assert [m.tmdb_id for m in pending] == [2, 1, 7, 11]
    assert [m.never_fetched for m in pending] == [True, True, False, False]
    assert summary["eligible"] == 8
    assert summary["rated"] == 3
    assert summary["pending"] == 4
    assert summary["failed"] == {"not_found": 2, "parse_error": 1}
    assert summary["coverage_pct"] == pytest.approx(37.5)
    assert years == [(2020, 4), (2019, 1)]
    with engine.begin() as conn:
        for tmdb_id in (1, 2, 10):
            ratings_sql.upsert_ratings(conn, tmdb_id, f"tt{tmdb_id}", {}, [], None, NOW)
        pending = ratings_sql.movies_pending_ratings(conn, 2020, NOW, refresh_days=30)
    assert [m.tmdb_id for m in pending] == [7, 11, 4, 3]  # then failures, then the oldest ratings


def test_a_changed_imdb_id_makes_the_movie_pending_again(sqlite_warehouse_url):
    engine = migrated_engine(sqlite_warehouse_url)
    insert_movies(engine, [{"tmdb_id": 1, "imdb_id": "tt_new", "release_year": 2020}])
    with engine.begin() as conn:
        ratings_sql.upsert_ratings(conn, 1, "tt_old", {}, [], None, NOW)
    with engine.connect() as conn:
        pending = ratings_sql.movies_pending_ratings(conn, 2020, NOW)
    assert [(m.imdb_id, m.never_fetched) for m in pending] == [("tt_new", True)]


def test_backlog_years_are_recent_first_within_the_remaining_quota(sqlite_warehouse_url):
    engine = migrated_engine(sqlite_warehouse_url)
    insert_movies(engine, [
        {"tmdb_id": i, "imdb_id": f"tt{i}", "release_year": 2016 + i % 5} for i in range(1, 21)
    ])  # 4 movies in each of 2016..2020
    assert backlog_years(engine, NOW, daily_limit=100) == [(y, 4) for y in (2020, 2019, 2018, 2017, 2016)]
    assert backlog_years(engine, NOW, daily_limit=9) == [(2020, 4), (2019, 4), (2018, 4)]
    ledger = QuotaLedger(engine, daily_limit=9, clock=lambda: NOW)
    while ledger.reserve():
        pass
    assert backlog_years(engine, NOW, daily_limit=9) == []
    assert backlog_years(engine, NOW + timedelta(days=1), daily_limit=9)[0] == (2020, 4)


def test_a_failed_refresh_keeps_the_good_rating_and_waits_a_day(sqlite_warehouse_url):
    """OMDb down, or an invalid body, when refreshing a rated movie: the rating and OMDb's stored
    answer stay (the movie still counts as rated), and it is asked again tomorrow, not every run."""
    engine = migrated_engine(sqlite_warehouse_url)
    insert_movies(engine, [{"tmdb_id": 1, "imdb_id": "tt1", "release_year": 2020, "popularity": 5.0}])
    with engine.begin() as conn:
        ratings_sql.upsert_ratings(conn, 1, "tt1", {"rated": "PG"},
                                   [{"source": "Internet Movie Database", "value_raw": "7.0/10"}],
                                   {"Title": "One", "Response": "True"}, NOW - timedelta(days=40))
    movie = ratings_sql.PendingMovie(1, "tt1", never_fetched=False)
    for body in ("{not json", '{"Response": "True", "Title": '):
        status = save_answer(engine, movie, OmdbAnswer("tt1", 200, body, 1), NOW, 90)
        assert status == "parse_error"

    with engine.connect() as conn:
        summary = ratings_sql.ratings_summary(conn, 2020, NOW, refresh_days=30)
        stored = conn.execute(sa.select(schema.omdb_movies.c.omdb_data)).scalar_one()
        assert summary["rated"] == 1 and summary["coverage_pct"] == 100.0
        assert stored == {"Title": "One", "Response": "True"}
        assert ratings_sql.movies_pending_ratings(conn, 2020, NOW + timedelta(hours=6)) == []
        assert [m.tmdb_id for m in ratings_sql.movies_pending_ratings(conn, 2020, NOW + timedelta(days=1))] == [1]
