"""tmdb_changes against the sandbox: every page of every window, changed movies marked, runs for the
imported years they belong to only, the cursor advanced only after success, the retention fallback."""

import json
from datetime import datetime, timedelta, timezone

import dagster as dg
import pytest
import requests
import sqlalchemy as sa

from cinegraph_assets.automation.tmdb_changes_sensor import MAX_UNKNOWN_LOOKUPS_PER_TICK, tmdb_changes_sensor
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets.warehouse import schema
from cinegraph_assets_tests.support.sandbox import SandboxProcess

from .conftest import add_discovered, mark_imported, start_run

START = "2026-11-01"  # the sandbox's first day; the warehouse is imported that day
NOW = datetime(2026, 11, 5, 9, 0, tzinfo=timezone.utc)  # yesterday: 2026-11-04
IMPORTED_AT = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def sandbox():
    """A small catalog whose clock runs 2026-11-01 -> 2026-11-04 (three days of changes)."""
    with SandboxProcess(start_date=START, change_rate=0.002, new_per_day=40,
                        year_size=["2024=200", "2026=300"]) as sb:
        before = {year: sb.truth(year) for year in (2024, 2026)}
        sb.advance(3)
        sb.before = before
        yield sb


def changes_between(sb, start: str, end: str) -> set[int]:
    """What the feed lists, read by the test itself (every page)."""
    ids, page, pages = set(), 1, 1
    while page <= pages:
        body = requests.get(sb.tmdb_url + "/movie/changes", timeout=30, params={
            "api_key": "sandbox", "start_date": start, "end_date": end, "page": page}).json()
        ids |= {item["id"] for item in body["results"]}
        pages, page = body["total_pages"], page + 1
    return ids


@pytest.fixture
def setup(instance, warehouse, sandbox, set_now, tmp_path, repository):
    """2024 imported completely on day one; 2026 materialized but (here) empty, so every 2026
    change is an id the warehouse does not know; nothing else imported."""
    set_now(NOW)
    add_discovered(warehouse.engine, 2024, sandbox.before[2024], IMPORTED_AT)
    add_discovered(warehouse.engine, 2026, [], IMPORTED_AT)
    mark_imported(instance, [2024, 2026])
    tmdb = TMDbResource(base_url=sandbox.tmdb_url, api_key="sandbox", max_rps=500,
                        state_dir=str(tmp_path))
    sensor = tmdb_changes_sensor(dg.DefaultSensorStatus.RUNNING)

    def tick(cursor, resource=tmdb):
        with dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repository,
                                     resources={"tmdb": resource, "warehouse": warehouse}) as context:
            return sensor.evaluate_tick(context)

    return tick


def changed_at(engine, ids) -> dict[int, datetime | None]:
    t = schema.discovered_movies
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(t.c.tmdb_id, t.c.changed_at).where(t.c.tmdb_id.in_(list(ids)))).all())


def test_reads_all_changes_and_requests_only_the_imported_years_that_changed(setup, sandbox, warehouse):
    result = setup(json.dumps({"read_through": START}))

    changed = changes_between(sandbox, "2026-11-02", "2026-11-04")
    changed_2024 = changed & sandbox.before[2024]
    new_in_2026 = sandbox.truth(2026) - sandbox.before[2026]
    assert changed_2024 and new_in_2026  # the scenario has both kinds

    assert {r.partition_key for r in result.run_requests} == {"2024", "2026"}
    assert all(r.run_key.startswith("tmdb_changes:2026-11-02..2026-11-04:") for r in result.run_requests)
    cursor = json.loads(result.cursor)
    assert cursor["read_through"] == "2026-11-04"
    assert cursor["last_read"]["changed_ids"] == len(changed)
    # Every listed id of an imported year is marked, so the details asset refetches it...
    marks = changed_at(warehouse.engine, sandbox.before[2024])
    assert {i for i, at in marks.items() if at is not None} == changed_2024
    # ...and the ids the warehouse did not know were looked up, newest first (new movies have the
    # highest ids): 2026's new movies are why 2026 is re-synced although none of its ids is known.
    unknown = cursor["last_read"]["unknown_ids"]
    assert cursor["last_read"]["looked_up"] == min(unknown, MAX_UNKNOWN_LOOKUPS_PER_TICK) > 0


def test_nothing_more_to_read_until_the_day_is_over(setup):
    result = setup(json.dumps({"read_through": "2026-11-04"}))

    assert not result.run_requests
    assert "read through 2026-11-04" in result.skip_message
    assert "2026-11-05 is read once the day is over" in result.skip_message
    assert json.loads(result.cursor)["read_through"] == "2026-11-04"


def test_first_tick_starts_the_day_before_the_first_import(setup, instance):
    result = setup(None)

    # The materializations were recorded today by the real clock, which is after NOW's yesterday:
    # nothing complete to read yet, but the cursor now says where reading starts.
    first_import = datetime.now(timezone.utc).date()
    assert json.loads(result.cursor)["read_through"] == (first_import - timedelta(days=2)).isoformat()
    assert not result.run_requests


def test_start_date_setting_picks_the_first_day(setup, monkeypatch):
    monkeypatch.setenv("TMDB_CHANGES_START_DATE", "2026-11-03")

    result = setup(None)

    cursor = json.loads(result.cursor)
    assert cursor["last_read"]["days"] == "2026-11-03..2026-11-04"
    assert cursor["read_through"] == "2026-11-04"


def test_no_import_yet_means_nothing_to_follow(instance, warehouse, sandbox, set_now, tmp_path):
    set_now(NOW)
    with dg.build_sensor_context(instance=instance, resources={
        "tmdb": TMDbResource(base_url=sandbox.tmdb_url, api_key="sandbox", state_dir=str(tmp_path)),
        "warehouse": warehouse}) as context:
        result = tmdb_changes_sensor(dg.DefaultSensorStatus.RUNNING).evaluate_tick(context)

    assert not result.run_requests and result.cursor is None
    assert "No year has been imported yet" in result.skip_message


def test_a_failed_read_leaves_the_cursor_and_never_shows_the_key(setup, sandbox, tmp_path):
    bad = TMDbResource(base_url=sandbox.tmdb_url, api_key="not-the-key-0123", state_dir=str(tmp_path))

    with pytest.raises(Exception) as failure:
        setup(json.dumps({"read_through": START}), resource=bad)

    text = str(failure.value) + repr(failure.value)
    assert "TMDB_API_KEY" in text
    assert "not-the-key-0123" not in text


def test_a_year_with_a_run_going_waits_in_the_cursor(setup, instance):
    run_id = start_run(instance, 2024)

    result = setup(json.dumps({"read_through": START}))

    assert {r.partition_key for r in result.run_requests} == {"2026"}
    cursor = json.loads(result.cursor)
    assert cursor["pending_years"] == [2024]
    assert "changed while a run of theirs is going" not in (result.skip_message or "")

    instance.report_run_failed(instance.get_run_by_id(run_id))
    later = setup(result.cursor)  # nothing new to read, but 2024's run is over now

    # (2026 may come again: the unknown ids beyond the first tick's lookup cap are looked up now.)
    assert ("2024", "tmdb_changes:pending:2026-11-04:2024") in [
        (r.partition_key, r.run_key) for r in later.run_requests]
    assert json.loads(later.cursor)["pending_years"] == []


def test_a_cursor_older_than_tmdb_keeps_changes_falls_back_to_a_full_refresh(setup, warehouse, sandbox):
    result = setup(json.dumps({"read_through": "2026-01-01"}))

    assert {r.partition_key for r in result.run_requests} == {"2024", "2026"}
    assert all("full_refresh" in r.run_key for r in result.run_requests)
    assert json.loads(result.cursor)["read_through"] == "2026-11-04"
    marks = changed_at(warehouse.engine, sandbox.before[2024])
    assert all(at is not None for at in marks.values())  # every movie of the year is refetched
