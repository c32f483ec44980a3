"""tmdb_changes over the long run: a week behind, an id that keeps failing, movies that moved to a
year never imported or whose two years disagree, adult ids, a day with more pages than TMDb serves.

Each scenario drifted silently before (issue 15): no run failed, yet the warehouse stopped following
TMDb. The ticks are evaluated as the daemon does, with its time limit scaled down: a tick that
outlasts it fails and keeps its old cursor, as Dagster's 60 s sensor timeout does.
"""

import json
import threading
import time
from datetime import datetime, timezone

import dagster as dg
import pytest
import requests
import sqlalchemy as sa

from cinegraph_assets.automation import tmdb_changes_sensor as sensors
from cinegraph_assets.automation.tmdb_changes_sensor import tmdb_changes_sensor
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets.warehouse import schema
from cinegraph_assets_tests.support.sandbox import SandboxProcess

from .conftest import add_discovered, add_movies, mark_imported

START = "2026-11-01"
DAYS = 7
NOW = datetime(2026, 11, 8, 9, 0, tzinfo=timezone.utc)  # yesterday: 2026-11-07, a week after START
IMPORTED_AT = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
LATENCY_MS = 50
#: Dagster gives a sensor tick 60 s and we give the reading 25 s of it; scaled down here so a week
#: of pages (about 60 of them at 50 ms) cannot fit in one tick.
TICK_DEADLINE_S = 2.5
TICK_BUDGET_S = 0.4


@pytest.fixture(scope="module")
def sandbox():
    """A week of changes, about 9 pages a day."""
    with SandboxProcess(start_date=START, change_rate=0.02, new_per_day=40, detail_size="small",
                        year_size=["2023=100", "2024=200", "2025=200", "2026=300"]) as sb:
        sb.before = {year: sb.truth(year) for year in (2023, 2024, 2025, 2026)}
        sb.advance(DAYS)
        yield sb


def changes_between(sb, start: str, end: str) -> dict[int, bool | None]:
    """What the feed lists, read by the test itself (every page): {id: adult}."""
    ids, page, pages = {}, 1, 1
    while page <= pages:
        body = requests.get(sb.tmdb_url + "/movie/changes", timeout=30, params={
            "api_key": "sandbox", "start_date": start, "end_date": end, "page": page}).json()
        ids.update({item["id"]: item["adult"] for item in body["results"]})
        pages, page = body["total_pages"], page + 1
    return ids


@pytest.fixture
def world(instance, warehouse, sandbox, set_now, tmp_path, repository, monkeypatch):
    """2024 imported on day one; 2025 and 2026 materialized but empty here (their changed ids are
    unknown to the warehouse); 2023 never imported."""
    set_now(NOW)
    sandbox.configure(latency_ms=0)
    sandbox.oddities()
    add_discovered(warehouse.engine, 2024, sandbox.before[2024], IMPORTED_AT)
    add_discovered(warehouse.engine, 2025, [], IMPORTED_AT)
    add_discovered(warehouse.engine, 2026, [], IMPORTED_AT)
    mark_imported(instance, [2024, 2025, 2026])
    monkeypatch.setattr(sensors, "MAX_UNKNOWN_LOOKUPS_PER_TICK", 20)
    tmdb = TMDbResource(base_url=sandbox.tmdb_url, api_key="sandbox", max_rps=500, max_retries=1,
                        state_dir=str(tmp_path))
    sensor = tmdb_changes_sensor(dg.DefaultSensorStatus.RUNNING)

    def tick(cursor):
        with dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repository,
                                     resources={"tmdb": tmdb, "warehouse": warehouse}) as context:
            return sensor.evaluate_tick(context)

    return tick


def tick_like_the_daemon(tick, cursor, deadline=TICK_DEADLINE_S):
    """(result or None, seconds): None when the tick outlasted the deadline (the daemon then
    records a failed tick and keeps the old cursor)."""
    out = {}

    def run():
        try:
            out["result"] = tick(cursor)
        except Exception as exc:  # noqa: BLE001 - a failed tick keeps the cursor too
            out["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    seconds = time.monotonic() - started
    if seconds > deadline or "error" in out:
        return None, seconds
    return out["result"], seconds


def changed_at(engine, ids) -> dict[int, datetime | None]:
    t = schema.discovered_movies
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(t.c.tmdb_id, t.c.changed_at).where(t.c.tmdb_id.in_(list(ids)))).all())


def test_a_week_behind_catches_up_over_several_ticks_each_within_the_time_limit(
        world, sandbox, warehouse, monkeypatch):
    monkeypatch.setattr("cinegraph_assets.tmdb.changes.TICK_BUDGET_SECONDS", TICK_BUDGET_S, raising=False)
    sandbox.configure(latency_ms=LATENCY_MS)
    cursor = json.dumps({"read_through": START})
    timed_out, positions = 0, []
    for _ in range(30):
        result, seconds = tick_like_the_daemon(world, cursor)
        if result is None:
            timed_out += 1
            if timed_out >= 3:
                break
            continue
        cursor = result.cursor
        state = json.loads(cursor)
        positions.append((state["read_through"], state.get("window_end"), state.get("next_page")))
        if state["read_through"] == "2026-11-07":
            break

    assert timed_out == 0, f"{timed_out} tick(s) outlasted the daemon's limit and kept their cursor"
    assert json.loads(cursor)["read_through"] == "2026-11-07"
    assert len(positions) > 2  # the week took several ticks, each resuming mid-window
    assert any(window_end for _, window_end, _ in positions[:-1])
    changed_2024 = set(changes_between(sandbox, "2026-11-02", "2026-11-07")) & sandbox.before[2024]
    marks = changed_at(warehouse.engine, sandbox.before[2024])
    assert {i for i, at in marks.items() if at is not None} == changed_2024


def test_an_unknown_id_that_keeps_failing_does_not_stop_the_feed(world, sandbox, warehouse):
    changed = changes_between(sandbox, "2026-11-02", "2026-11-07")
    unknown_2026 = sorted((set(changed) & sandbox.truth(2026)) - sandbox.before[2024], reverse=True)
    broken = unknown_2026[0]  # the newest ids are looked up first
    sandbox.oddities(broken=[broken])

    cursor = json.dumps({"read_through": START})
    for _ in range(3):
        result = world(cursor)
        cursor = result.cursor

    state = json.loads(cursor)
    assert state["read_through"] == "2026-11-07"
    changed_2024 = set(changed) & sandbox.before[2024]
    marks = changed_at(warehouse.engine, sandbox.before[2024])
    assert {i for i, at in marks.items() if at is not None} == changed_2024
    # The failing id is asked again on later ticks, not forgotten after one try.
    assert str(broken) in state["lookup_retries"]


def test_a_movie_that_moved_to_a_year_never_imported_does_not_import_that_year(world, sandbox, warehouse):
    changed = changes_between(sandbox, "2026-11-02", "2026-11-07")
    mover = sorted(set(changed) & sandbox.before[2024])[0]
    # An earlier re-sync of 2024 fetched its new details: it now says 2023, which was never imported.
    add_movies(warehouse.engine, 2023, [mover], IMPORTED_AT)

    result = world(json.dumps({"read_through": START}))

    assert "2023" not in {r.partition_key for r in result.run_requests}
    assert {r.partition_key for r in result.run_requests} <= {"2024", "2025", "2026"}


def test_both_years_of_a_movie_whose_details_and_discovery_disagree_are_resynced(
        world, sandbox, warehouse, monkeypatch):
    monkeypatch.setattr(sensors, "MAX_UNKNOWN_LOOKUPS_PER_TICK", 0)  # only known ids decide here
    changed = changes_between(sandbox, "2026-11-02", "2026-11-07")
    mover = sorted(set(changed) & sandbox.before[2024])[0]
    # Its details (fetched by 2024's run) say 2024, but 2025's latest discovery returned it: only
    # 2025's run schedules its details now.
    add_movies(warehouse.engine, 2024, [mover], IMPORTED_AT)
    add_discovered(warehouse.engine, 2025, [mover], IMPORTED_AT)

    result = world(json.dumps({"read_through": START}))

    assert {"2024", "2025"} <= {r.partition_key for r in result.run_requests}


def test_adult_ids_are_not_looked_up_when_adult_titles_are_left_out(world, sandbox):
    changed = changes_between(sandbox, "2026-11-02", "2026-11-07")
    adult = {i for i, flag in changed.items() if flag is True} - sandbox.before[2024]
    assert adult  # the scenario has some

    result = world(json.dumps({"read_through": START}))

    last_read = json.loads(result.cursor)["last_read"]
    unknown = {i for i in changed if i not in sandbox.before[2024]}
    assert last_read["unknown_ids"] == len(unknown - adult)
    assert last_read["adult_skipped"] == len(adult)


def test_a_day_with_more_pages_than_tmdb_serves_falls_back_to_a_full_refresh(world, sandbox, monkeypatch):
    # TMDb serves 500 pages of 100; a day of 50,000+ changes is rare. Scaled down: 2 pages.
    monkeypatch.setattr("cinegraph_assets.tmdb.changes.MAX_PAGES_PER_QUERY", 2)

    cursor = json.dumps({"read_through": START})
    requested = []
    for _ in range(3):
        result = world(cursor)
        cursor = result.cursor
        requested += result.run_requests

    assert json.loads(cursor)["read_through"] == "2026-11-07"
    assert {r.partition_key for r in requested if "full_refresh" in r.run_key} == {"2024", "2025", "2026"}


def test_unknown_ids_beyond_a_ticks_lookup_cap_are_looked_up_on_the_next_ticks(
        world, sandbox, monkeypatch, set_now):
    """An old movie whose date moved into an imported year is an unknown id like thousands of
    others; dropped at the cap, no other path would ever bring it in."""
    monkeypatch.setattr(sensors, "MAX_UNKNOWN_LOOKUPS_PER_TICK", 500)
    set_now(datetime(2026, 11, 4, 9, 0, tzinfo=timezone.utc))  # two days to read
    changed = changes_between(sandbox, "2026-11-02", "2026-11-03")
    unknown = {i for i, adult in changed.items() if i not in sandbox.before[2024] and adult is not True}

    cursor, looked_up = json.dumps({"read_through": START}), 0
    for _ in range(len(unknown) // 500 + 2):
        state = json.loads(world(cursor).cursor)
        looked_up += state["last_read"]["looked_up"]
        cursor = json.dumps(state)

    assert state["read_through"] == "2026-11-03" and state["lookup_backlog"] == []
    assert looked_up >= len(unknown)  # (an id changed on two days may be looked up twice)
