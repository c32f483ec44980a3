"""A year's movies through the warehouse's stages on SQLite and PostgreSQL: discovery, what to
fetch, staging, failures and normalizing raw responses into movies and its child tables."""

from __future__ import annotations

from datetime import date, timedelta, timezone

import pytest
import sqlalchemy as sa

from cinegraph_assets.warehouse import data_checks, details_queue, discovery, failed_fetches, schema, staging
from cinegraph_assets.tmdb import normalizer
from cinegraph_assets.warehouse.details_queue import StalenessPolicy
from cinegraph_assets.warehouse.rows import DiscoveryWindow
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets_tests.support.movies import NOW, movie_payload, discovered, window, stage, snapshot, count

@pytest.fixture
def engine(warehouse_url):
    upgrade(warehouse_url)
    return get_engine(warehouse_url)


# ------------------------------------------------------------------------------------ normalize
def test_normalizing_the_same_movie_twice_keeps_one_row_with_the_newer_values(engine):
    stage(engine, [movie_payload(1, cast=5, version=1)], NOW - timedelta(days=3))
    first = normalizer.normalize_staged(engine, 2024)
    assert first["normalized"] == 1 and first["cast"] == 5
    stage(engine, [movie_payload(1, cast=2, version=2)], NOW)
    second = normalizer.normalize_staged(engine, 2024)
    assert second["normalized"] == 1

    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.movies).where(schema.movies.c.tmdb_id == 1)).mappings().all()
    assert len(rows) == 1
    movie = rows[0]
    assert movie["title"] == "Movie 1 v2" and movie["budget"] == 2000 and movie["vote_count"] == 20
    assert movie["tmdb_data"]["title"] == "Movie 1 v2"
    assert movie["fetched_at"].replace(tzinfo=timezone.utc) == NOW
    # Child rows were replaced, not added to: the newer response's 2 cast members, 1 genre swap.
    assert count(engine, "movie_cast", 1) == 2
    assert sorted(r[1] for r in snapshot(engine)["movie_genres"]) == [18, 37]
    names = {r[0]: r[1] for r in snapshot(engine)["people"]}
    assert names[100] == "Actor 100 v2"  # people take the newer spelling
    assert count(engine, "tmdb_details_staging") == 0


def test_renormalizing_changes_nothing(engine):
    stage(engine, [movie_payload(i) for i in range(1, 6)])
    normalizer.normalize_staged(engine, 2024, batch_size=2)
    before = snapshot(engine)
    again = normalizer.normalize_staged(engine, 2024)
    assert again["normalized"] == 0 and again["movies_in_year"] == 5
    assert snapshot(engine) == before


def test_batches_hold_complete_movies(engine):
    stage(engine, [movie_payload(i, cast=4) for i in range(1, 8)])
    result = normalizer.normalize_staged(engine, 2024, batch_size=3)
    assert result["batches"] == 3 and result["normalized"] == 7
    assert result["cast"] == 28 and count(engine, "movie_cast") == 28


def test_a_movie_whose_year_changed_leaves_the_old_year(engine):
    stage(engine, [movie_payload(1, "2023-12-30"), movie_payload(2, "2023-06-01")])
    normalizer.normalize_staged(engine, 2023)
    with engine.connect() as conn:
        assert data_checks.year_movie_ids(conn, 2023) == {1, 2}

    stage(engine, [movie_payload(1, "2024-01-05", version=2)])
    result = normalizer.normalize_staged(engine, 2023)  # the old year's run fetched it (vanished)
    assert result["moved_out"] == 1 and result["movies_in_year"] == 1
    with engine.connect() as conn:
        assert data_checks.year_movie_ids(conn, 2023) == {2}
        assert data_checks.year_movie_ids(conn, 2024) == {1}
        assert details_queue.years_of_movies(conn, [1, 2, 3]) == {1: {2024}, 2: {2023}}
    # Its credits went with it: still there once, under the movie.
    assert count(engine, "movie_cast", 1) == 3


def test_a_movie_that_lost_its_date_belongs_to_no_year(engine):
    stage(engine, [movie_payload(1, "2024-05-05")])
    normalizer.normalize_staged(engine, 2024)
    stage(engine, [movie_payload(1, "", version=2)])
    result = normalizer.normalize_staged(engine, 2024)
    assert result["moved_out"] == 1 and result["undated"] == 1
    with engine.connect() as conn:
        assert data_checks.year_movie_ids(conn, 2024) == set()


def test_deleted_movies_keep_their_rows(engine):
    with engine.begin() as conn:
        discovery.record_discovery(conn, 2024, [window(2024, 2)], discovered(1, 2), NOW)
    stage(engine, [movie_payload(1), movie_payload(2)], NOW - timedelta(days=60))
    normalizer.normalize_staged(engine, 2024)
    with engine.begin() as conn:
        assert details_queue.mark_deleted(conn, [1, 99], NOW) == 1
    result = normalizer.normalize_staged(engine, 2024)
    assert result["deleted"] == 1 and result["movies_in_year"] == 1
    assert count(engine, "movie_cast", 1) == 3
    with engine.begin() as conn:
        assert data_checks.year_movie_ids(conn, 2024) == {2}
        assert data_checks.year_movie_ids(conn, 2024, include_deleted=True) == {1, 2}
        # Deleted ids are not fetched again (2 is stale: 60 days old) ...
        assert details_queue.movies_needing_details(conn, 2024, NOW, StalenessPolicy()) == [(2, "stale")]
        # ... unless TMDb reports a change after the deletion.
        details_queue.mark_changed(conn, [1], NOW + timedelta(hours=1))
        assert details_queue.movies_needing_details(conn, 2024, NOW + timedelta(hours=2), StalenessPolicy()) == [
            (1, "changed"), (2, "stale")]
    # A successful fetch brings it back.
    stage(engine, [movie_payload(1, version=3)], NOW + timedelta(hours=3))
    normalizer.normalize_staged(engine, 2024)
    with engine.connect() as conn:
        assert data_checks.year_movie_ids(conn, 2024) == {1, 2}


def test_a_deleted_movie_that_discovery_keeps_returning_is_fetched_again(engine):
    """TMDb's discover still lists it after a 404: it is not gone, so its details are asked again
    (once per discovery that returns it) instead of dropping out of its year for good."""
    with engine.begin() as conn:
        discovery.record_discovery(conn, 2024, [window(2024, 2)], discovered(1, 2), NOW)
    stage(engine, [movie_payload(1), movie_payload(2)], NOW)
    normalizer.normalize_staged(engine, 2024)
    with engine.begin() as conn:
        details_queue.mark_deleted(conn, [1], NOW + timedelta(hours=1))
        assert details_queue.movies_needing_details(conn, 2024, NOW + timedelta(hours=2), StalenessPolicy()) == []
        # A month later discover returns it again.
        later = NOW + timedelta(days=30)
        discovery.record_discovery(conn, 2024, [window(2024, 2)], discovered(1, 2), later)
        assert (1, "rediscovered") in details_queue.movies_needing_details(conn, 2024, later, StalenessPolicy())


def test_a_malformed_payload_is_recorded_as_failed_and_the_rest_is_kept(engine):
    bad = movie_payload(2)
    bad["budget"] = "a lot"
    error_body = {"success": False, "status_code": 34, "status_message": "The resource could not be found."}
    with engine.begin() as conn:
        discovery.record_discovery(conn, 2024, [window(2024, 3)], discovered(1, 2, 3), NOW)
        staging.save_raw_details(conn, [(1, movie_payload(1), NOW), (2, bad, NOW), (3, error_body, NOW)])
    result = normalizer.normalize_staged(engine, 2024)
    assert result["normalized"] == 1 and result["failed"] == 2
    with engine.begin() as conn:
        failures = {f["tmdb_id"]: f for f in failed_fetches.fetch_failures(conn, 2024)}
        assert set(failures) == {2, 3}
        assert failures[2]["reason"] == "malformed: budget: expected an integer, got str 'a lot'"
        assert "not a movie" in failures[3]["reason"]
        assert data_checks.year_movie_ids(conn, 2024) == {1}
        # Staging is cleared so the next run fetches them again.
        needed = details_queue.movies_needing_details(conn, 2024, NOW, StalenessPolicy())
        assert needed == [(2, "retry"), (3, "retry")]
    assert count(engine, "tmdb_details_staging") == 0


def test_a_failed_refetch_keeps_the_previous_good_rows(engine):
    stage(engine, [movie_payload(1)], NOW - timedelta(days=1))
    normalizer.normalize_staged(engine, 2024)
    broken = movie_payload(1, version=2)
    broken["credits"]["cast"][0]["id"] = "not a number"
    stage(engine, [broken])
    assert normalizer.normalize_staged(engine, 2024)["failed"] == 1
    assert count(engine, "movie_cast", 1) == 3
    with engine.connect() as conn:
        assert conn.execute(sa.select(schema.movies.c.title)).scalar_one() == "Movie 1 v1"


def test_a_five_megabyte_payload_normalizes(engine):
    payload = movie_payload(1, cast=0)
    payload["credits"]["cast"] = [
        {"id": 5_000_000 + i, "name": f"Extra number {i}", "original_name": f"Extra number {i}", "gender": 0,
         "known_for_department": "Acting", "profile_path": f"/{i:026d}.jpg", "character": f"Crowd member {i}",
         "credit_id": f"{i:024x}", "order": i, "adult": False, "popularity": 0.6, "cast_id": i}
        for i in range(20_000)
    ]
    import json

    assert len(json.dumps(payload)) > 5_000_000
    stage(engine, [payload])
    result = normalizer.normalize_staged(engine, 2024)
    assert (result["normalized"], result["failed"]) == (1, 0)
    assert count(engine, "movie_cast", 1) == 20_000


def test_a_nul_character_does_not_fail_the_movie(engine):
    payload = movie_payload(1, title="Nul\x00Title")
    payload["credits"]["cast"][0]["character"] = "Bad\x00Role"
    stage(engine, [payload, movie_payload(2)])
    result = normalizer.normalize_staged(engine, 2024)
    assert (result["normalized"], result["failed"]) == (2, 0)
    with engine.connect() as conn:
        title = conn.execute(sa.select(schema.movies.c.title).where(schema.movies.c.tmdb_id == 1)).scalar_one()
    # PostgreSQL cannot hold U+0000, so it is dropped there; SQLite keeps the text as sent.
    assert title.replace("\x00", "") == "NulTitle"


def test_staged_movies_of_other_years_wait_for_their_year(engine):
    stage(engine, [movie_payload(1, "2024-02-02"), movie_payload(2, "1999-02-02")])
    assert normalizer.normalize_staged(engine, 2024)["normalized"] == 1
    assert count(engine, "tmdb_details_staging") == 1
    assert normalizer.normalize_staged(engine, 1999)["normalized"] == 1


# ------------------------------------------------------------------------------------ discovery
def test_record_discovery_counts_new_and_vanished_and_replaces_windows(engine):
    with engine.begin() as conn:
        first = discovery.record_discovery(conn, 2024, [window(2024, 3)], discovered(1, 2, 3), NOW)
        assert first == {"discovered": 3, "tmdb_total": 3, "windows": 1, "new": 3, "vanished": 0}
        later = NOW + timedelta(days=1)
        windows = [DiscoveryWindow(date(2024, 1, 1), date(2024, 6, 30), "", 2, 1),
                   DiscoveryWindow(date(2024, 7, 1), date(2024, 7, 1), "vote_count.gte=0&vote_count.lte=3", 1, 1)]
        second = discovery.record_discovery(conn, 2024, windows, discovered(2, 3, 4, 4), later)
        assert second == {"discovered": 3, "tmdb_total": 3, "windows": 2, "new": 1, "vanished": 1}
        assert discovery.discovered_ids(conn, 2024) == {2, 3, 4}
        summary = discovery.discovery_summary(conn, 2024)
        assert summary == {"discovered": 3, "tmdb_total": 3, "windows": 2, "discovered_at": later}
        assert discovery.discovery_summary(conn, 1900)["discovered_at"] is None
        # Running the same discovery again changes nothing.
        assert discovery.record_discovery(conn, 2024, windows, discovered(2, 3, 4), later)["new"] == 0
        assert discovery.discovered_ids(conn, 2024) == {2, 3, 4}


def test_discovery_moving_an_id_to_another_year_marks_it_changed(engine):
    with engine.begin() as conn:
        discovery.record_discovery(conn, 2023, [window(2023, 1)], discovered(1, release_date=date(2023, 12, 30)), NOW)
    stage(engine, [movie_payload(1, "2023-12-30")], NOW)
    normalizer.normalize_staged(engine, 2023)
    later = NOW + timedelta(hours=1)
    with engine.begin() as conn:
        discovery.record_discovery(conn, 2024, [window(2024, 1)], discovered(1, release_date=date(2024, 1, 2)), later)
        assert details_queue.movies_needing_details(conn, 2024, later, StalenessPolicy()) == [(1, "changed")]
        assert details_queue.movies_needing_details(conn, 2023, later, StalenessPolicy()) == []


# ------------------------------------------------------------------------------------ what to fetch
@pytest.mark.parametrize("released_days_ago, fresh_age, stale_age", [
    (-20, 1, 3),  # not yet released: as recent
    (10, 1, 3),  # within 30 days: 2 days
    (100, 6, 8),  # within 180: 7 days
    (300, 13, 15),  # within 365: 14 days
    (2000, 29, 31),  # older: 30 days
    (None, 29, 31),  # undated: as old
])
def test_staleness_follows_the_release_age(engine, released_days_ago, fresh_age, stale_age):
    release = None if released_days_ago is None else (NOW - timedelta(days=released_days_ago)).date()
    iso = release.isoformat() if release else ""
    with engine.begin() as conn:
        discovery.record_discovery(conn, 2024, [window(2024, 2)], discovered(1, release_date=release)
                                 + discovered(2, release_date=release), NOW - timedelta(days=40))
    stage(engine, [movie_payload(1, iso)], NOW - timedelta(days=fresh_age))
    stage(engine, [movie_payload(2, iso)], NOW - timedelta(days=stale_age))
    # Staged responses are normalized by the year discovery put them in (undated ones included).
    normalizer.normalize_staged(engine, 2024)
    with engine.begin() as conn:
        needed = details_queue.movies_needing_details(conn, 2024, NOW, StalenessPolicy())
    assert needed == [(2, "stale")]


def test_reasons_new_retry_vanished_changed_and_exclusions(engine):
    policy = StalenessPolicy()
    with engine.begin() as conn:
        discovery.record_discovery(conn, 2024, [window(2024, 6)], discovered(1, 2, 3, 4, 5, 6), NOW - timedelta(days=2))
    stage(engine, [movie_payload(i) for i in (3, 4, 5)], NOW - timedelta(days=1))
    normalizer.normalize_staged(engine, 2024)
    with engine.begin() as conn:
        assert details_queue.movies_needing_details(conn, 2024, NOW, policy) == [(1, "new"), (2, "new"), (6, "new")]
        failed_fetches.record_fetch_failures(conn, 2024, [(2, "HTTP 503 after 6 retries", 503)], NOW)
        failed_fetches.record_fetch_failures(conn, 2024, [(2, "HTTP 503 after 6 retries", 503)], NOW)
        assert failed_fetches.fetch_failures(conn, 2024) == [{
            "tmdb_id": 2, "reason": "HTTP 503 after 6 retries", "http_status": 503, "attempts": 2,
            "last_attempt_at": NOW}]
        details_queue.mark_changed(conn, [4], NOW)
        # 5 vanishes from the year's discovery; 6 is staged (fetched, not yet normalized).
        discovery.record_discovery(conn, 2024, [window(2024, 5)], discovered(1, 2, 3, 4, 6), NOW)
        staging.save_raw_details(conn, [(6, movie_payload(6), NOW)])
        assert details_queue.movies_needing_details(conn, 2024, NOW, policy) == [
            (1, "new"), (2, "retry"), (4, "changed"), (5, "vanished")]
        # Staging a response resolves the failure.
        staging.save_raw_details(conn, [(2, movie_payload(2), NOW)])
        assert failed_fetches.fetch_failures(conn, 2024) == []
    # Once refetched, a vanished movie that now belongs to another year is left to that year.
    stage(engine, [movie_payload(5, "2025-01-10")], NOW + timedelta(minutes=1))
    normalizer.normalize_staged(engine, 2024)
    with engine.begin() as conn:
        needed = details_queue.movies_needing_details(conn, 2024, NOW + timedelta(minutes=2), policy)
        assert needed == [(1, "new"), (4, "changed")]


def test_record_fetch_failures_and_mark_deleted_resolve(engine):
    with engine.begin() as conn:
        discovery.record_discovery(conn, 2024, [window(2024, 1)], discovered(7), NOW)
        failed_fetches.record_fetch_failures(conn, 2024, [(7, "timeout", None)], NOW)
        assert details_queue.mark_deleted(conn, [7], NOW) == 1
        assert failed_fetches.fetch_failures(conn, 2024) == []
        assert details_queue.movies_needing_details(conn, 2024, NOW, StalenessPolicy()) == []


# ------------------------------------------------------------------------------------ checks
def test_checks_find_missing_titles_and_no_duplicates(engine):
    stage(engine, [movie_payload(1), movie_payload(2, title=""), movie_payload(3, title="  ")])
    normalizer.normalize_staged(engine, 2024)
    with engine.connect() as conn:
        assert data_checks.movies_missing_title(conn, 2024) == [2, 3]
        assert data_checks.duplicate_movie_ids(conn, 2024) == []


def test_a_year_of_many_thousand_ids_is_recorded_whole(engine):
    ids = list(range(1, 12_001))  # past every chunk size (IN lists, bound parameters)
    with engine.begin() as conn:
        first = discovery.record_discovery(conn, 2024, [window(2024, 12_000)], discovered(*ids), NOW)
        assert (first["discovered"], first["new"]) == (12_000, 12_000)
        later = NOW + timedelta(days=1)
        second = discovery.record_discovery(conn, 2024, [window(2024, 11_000)], discovered(*ids[1000:]), later)
        assert (second["new"], second["vanished"]) == (0, 1000)
        assert discovery.discovered_ids(conn, 2024) == set(ids[1000:])
        needed = details_queue.movies_needing_details(conn, 2024, later, StalenessPolicy())
        assert len(needed) == 12_000 and needed[0] == (1, "new")
        assert details_queue.mark_changed(conn, ids, later) == 12_000
        assert failed_fetches.record_fetch_failures(conn, 2024, [(i, "timeout", None) for i in ids], later) == 12_000
        assert len(failed_fetches.fetch_failures(conn, 2024)) == 12_000
