"""Bad input fails fast and clearly, or fails only the movie it concerns: wrong keys, unknown
partitions, malformed settings, real odd bodies TMDb sends, a 5 MB answer and mistyped fields."""

from __future__ import annotations

import json
import time

import dagster as dg
import pytest
import requests
import sqlalchemy as sa

from cinegraph_assets.omdb.assets import omdb_ratings
from cinegraph_assets.omdb.resource import OMDbResource
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb.assets import tmdb_assets
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets_tests.reliability.helpers import (
    materialization_metadata,
    materialize_year,
    run_failure_text,
    tmdb_resource,
    year_ids,
)
from cinegraph_assets_tests.support.shared_data import shared_data
from cinegraph_assets_tests.tmdb.fake_tmdb import FakeTMDb, Reply

YEAR = 1990
#: The issue's bound: a wrong key stops the run within this many seconds and requests.
FAIL_FAST_SECONDS = 10
FAIL_FAST_REQUESTS = 3


def _api_requests(sandbox, prefix: str) -> int:
    return sum(sum(statuses.values()) for label, statuses in sandbox.stats()["requests"].items()
               if label.startswith(prefix))


def test_an_invalid_tmdb_key_stops_the_run_at_once_naming_the_env_var(sandbox_factory, sqlite_warehouse_url,
                                                                       tmp_path, monkeypatch):
    sandbox = sandbox_factory(seed=5, year_size=[f"{YEAR}=200"], detail_size="small",
                              tmdb_api_key="the-accepted-key")
    monkeypatch.setenv("TMDB_API_KEY", "a-refused-key")
    started = time.monotonic()
    result = materialize_year(YEAR, TMDbResource(base_url=sandbox.tmdb_url, state_dir=str(tmp_path)),
                              sqlite_warehouse_url)
    elapsed = time.monotonic() - started
    assert not result.success
    message = run_failure_text(result)
    assert "TMDB_API_KEY" in message and "code 7" in message
    assert elapsed < FAIL_FAST_SECONDS
    assert 1 <= _api_requests(sandbox, "/3/") <= FAIL_FAST_REQUESTS
    assert "a-refused-key" not in message


def test_an_invalid_omdb_key_stops_the_run_at_once_naming_the_env_var(sandbox_factory, sqlite_warehouse_url,
                                                                       tmp_path, monkeypatch):
    sandbox = sandbox_factory(seed=5, year_size=[f"{YEAR}=60"], detail_size="small",
                              omdb_api_key="the-accepted-key")
    assert materialize_year(YEAR, tmdb_resource(sandbox, tmp_path), sqlite_warehouse_url).success
    monkeypatch.setenv("OMDB_BASE_URL", sandbox.omdb_url)
    monkeypatch.setenv("OMDB_API_KEY", "a-refused-key")
    started = time.monotonic()
    result = dg.materialize(
        [*tmdb_assets, omdb_ratings], selection=["omdb_ratings"], partition_key=str(YEAR),
        resources={"tmdb": TMDbResource(), "omdb": OMDbResource(),
                   "warehouse": WarehouseResource(database_url=sqlite_warehouse_url)},
        raise_on_error=False)
    elapsed = time.monotonic() - started
    assert not result.success
    message = run_failure_text(result)
    assert "OMDB_API_KEY" in message
    assert elapsed < FAIL_FAST_SECONDS
    assert 1 <= _api_requests(sandbox, "/omdb") <= FAIL_FAST_REQUESTS
    assert "a-refused-key" not in message


@pytest.mark.parametrize("key", ["1850", "3100", "19x9"])
def test_an_unknown_partition_is_refused_at_launch_naming_it(key, sqlite_warehouse_url, tmp_path):
    tmdb = TMDbResource(base_url="http://127.0.0.1:9/3", api_key="unused", state_dir=str(tmp_path))
    with pytest.raises(Exception) as raised:
        materialize_year(key, tmdb, sqlite_warehouse_url)  # type: ignore[arg-type]
    text = str(raised.value)
    assert "partition" in text.lower() and key in text


@pytest.mark.parametrize(("env", "value"), [
    ("TMDB_MAX_RPS", "-5"),
    ("TMDB_MAX_RPS", "fast"),
    ("TMDB_MAX_RPS", "inf"),
    ("TMDB_BASE_URL", "api.themoviedb.org/3"),
    ("TMDB_TIMEOUT_SECONDS", "0"),
    ("TMDB_FAILURE_THRESHOLD", "150%"),
    ("CINEGRAPH_DATABASE_URL", "mysql://root@localhost/cinegraph"),
])
def test_a_malformed_setting_fails_the_run_before_any_request_naming_the_env_var(
        env, value, sandbox_factory, sqlite_warehouse_url, tmp_path, monkeypatch):
    sandbox = sandbox_factory(seed=5, year_size=[f"{YEAR}=20"], detail_size="small")
    monkeypatch.setenv("TMDB_API_KEY", "sandbox")
    monkeypatch.setenv("TMDB_BASE_URL", sandbox.tmdb_url)
    monkeypatch.setenv("CINEGRAPH_STATE_DIR", str(tmp_path))
    monkeypatch.setenv(env, value)
    warehouse = WarehouseResource() if env == "CINEGRAPH_DATABASE_URL" else \
        WarehouseResource(database_url=sqlite_warehouse_url)
    result = dg.materialize(tmdb_assets, partition_key=str(YEAR),
                            resources={"tmdb": TMDbResource(), "warehouse": warehouse}, raise_on_error=False)
    assert not result.success
    assert env in run_failure_text(result)
    assert _api_requests(sandbox, "/3/") == 0


# ------------------------------------------------------------------ a newcomer's usual mistakes
# Each mistake gets one line naming the setting (or file) and what to set it to; where the mistake
# can be known before a request, no request is sent at all.

def _failure_lines(result) -> list[str]:
    """What the UI shows first of each step failure: a Failure's description, else the error."""
    lines = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            failure = data.user_failure_data
            lines.append(failure.description if failure else (data.error.message or "").strip())
    return lines


@pytest.mark.parametrize(("value", "expected"), [
    ("inf", "TMDB_MAX_RPS='inf' is not valid: expected a finite number greater than 0."),
    ("0", "TMDB_MAX_RPS='0' is not valid: expected a finite number greater than 0."),
])
def test_an_infinite_rate_is_refused_naming_the_setting(value, expected):
    from cinegraph_assets.settings import SettingError, setting

    with pytest.raises(SettingError) as raised:
        setting("TMDB_MAX_RPS", environ={"TMDB_MAX_RPS": value})
    assert str(raised.value).startswith(expected)


def test_a_tmdb_base_url_without_the_api_version_is_refused_before_any_request(
        sandbox_factory, sqlite_warehouse_url, tmp_path, monkeypatch):
    sandbox = sandbox_factory(seed=5, year_size=[f"{YEAR}=20"], detail_size="small")
    without_version = sandbox.url  # the host, but not its /3
    monkeypatch.setenv("TMDB_BASE_URL", without_version)
    monkeypatch.setenv("TMDB_API_KEY", "sandbox")
    result = materialize_year(YEAR, TMDbResource(state_dir=str(tmp_path)), sqlite_warehouse_url)
    assert not result.success
    assert _failure_lines(result)[0].startswith(
        f"TMDB_BASE_URL={without_version!r} is not valid: expected the TMDb API v3 base URL, "
        "ending in /3, e.g. https://api.themoviedb.org/3.")
    assert _api_requests(sandbox, "/") == 0


def test_an_unreachable_tmdb_names_the_base_url_setting(sqlite_warehouse_url, tmp_path, monkeypatch):
    from cinegraph_assets_tests.support.dagster_processes import free_port

    closed = f"http://127.0.0.1:{free_port()}/3"  # nothing listens there
    monkeypatch.setenv("TMDB_BASE_URL", closed)
    monkeypatch.setenv("TMDB_API_KEY", "sandbox")
    monkeypatch.setenv("TMDB_MAX_RETRIES", "1")  # the message, not the backoff, is under test
    result = materialize_year(YEAR, TMDbResource(state_dir=str(tmp_path)), sqlite_warehouse_url)
    assert not result.success
    [line] = _failure_lines(result)
    host = closed.split("/")[2]
    assert line == (f"TMDb could not be reached at {host}/discover/movie (connection refused) after 2 attempts: "
                    f"check TMDB_BASE_URL ({closed}) and the network.")
    assert "HTTPConnectionPool" not in run_failure_text(result)


def test_no_tmdb_credentials_fail_before_any_request_naming_both_settings(
        sandbox_factory, sqlite_warehouse_url, tmp_path):
    sandbox = sandbox_factory(seed=5, year_size=[f"{YEAR}=20"], detail_size="small")
    result = materialize_year(YEAR, TMDbResource(base_url=sandbox.tmdb_url, state_dir=str(tmp_path)),
                              sqlite_warehouse_url)
    assert not result.success
    assert _failure_lines(result)[0] == (
        "TMDB_API_KEY and TMDB_ACCESS_TOKEN are both unset: set one of them (a v3 API key or a v4 "
        "read access token from https://www.themoviedb.org/settings/api).")
    assert _api_requests(sandbox, "/") == 0


def test_an_oscar_file_with_a_bad_row_names_the_file_and_the_setting(sqlite_warehouse_url, tmp_path):
    from cinegraph_assets.oscars.assets import oscar_nominations
    from cinegraph_assets.oscars.resource import OscarsSourceResource
    from cinegraph_assets.warehouse.engine import get_engine
    from cinegraph_assets.warehouse.migrate import upgrade
    from cinegraph_assets.warehouse.schema import movies

    upgrade(sqlite_warehouse_url)
    with get_engine(sqlite_warehouse_url).begin() as conn:  # the year's movies are imported
        conn.execute(movies.insert(), [{"tmdb_id": 1, "title": "Wings", "release_year": 1927}])
    header = shared_data("oscars", "oscars.csv").read_text(encoding="utf-8").splitlines()[0]
    source = tmp_path / "oscars.csv"
    source.write_text(header + "\nxx\t1927/28\tTitle\tOUTSTANDING PICTURE\tOUTSTANDING PICTURE\tWings\n",
                      encoding="utf-8")
    result = dg.materialize(
        [oscar_nominations], partition_key="1927", raise_on_error=False,
        resources={"warehouse": WarehouseResource(database_url=sqlite_warehouse_url),
                   "oscars_source": OscarsSourceResource(source_url=str(source),
                                                         state_dir=str(tmp_path / "state"))})
    assert not result.success
    assert _failure_lines(result) == [
        f"The Oscar source {source} (OSCARS_SOURCE_URL) cannot be used: line 2: Ceremony 'xx' is not "
        "a number. Fix that line, or set OSCARS_SOURCE_URL to the tab-separated oscar_data table."]


def test_malformed_automation_settings_leave_the_code_location_loading(tmp_path):
    """A wrong CINEGRAPH_AUTOMATION_OFF or TMDB_CHANGES_INTERVAL_SECONDS used to stop the whole code
    location from loading (so nothing could be materialized); now it loads, as the UI loads it."""
    import os
    import subprocess
    import sys

    from cinegraph_assets_tests.support.dagster_processes import REPO_ROOT

    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "CINEGRAPH_AUTOMATION_OFF": "dayly_sync",
           "TMDB_CHANGES_INTERVAL_SECONDS": "soon"}
    loaded = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr


def test_a_malformed_interval_is_reported_by_its_sensor_and_the_rest_loads(monkeypatch):
    from cinegraph_assets.definitions import defs as load_definitions
    from cinegraph_assets.settings import SettingError

    monkeypatch.setenv("TMDB_CHANGES_INTERVAL_SECONDS", "soon")
    defs = load_definitions()
    repository = defs.get_repository_def()
    assert repository.has_job("tmdb_year_import")
    tmdb_changes = repository.get_sensor_def("tmdb_changes")
    with pytest.raises(SettingError) as raised:
        tmdb_changes.evaluate_tick(dg.build_sensor_context(repository_def=repository))
    assert str(raised.value).startswith(
        "TMDB_CHANGES_INTERVAL_SECONDS='soon' is not valid: expected a whole number greater than 0.")
    backfill = repository.get_sensor_def("catalog_backfill")
    assert backfill.default_status == dg.DefaultSensorStatus.RUNNING


def test_an_unknown_automation_name_is_reported_by_every_schedule_and_sensor(monkeypatch):
    from dagster._core.errors import ScheduleExecutionError

    from cinegraph_assets.definitions import defs as load_definitions
    from cinegraph_assets.settings import SettingError

    monkeypatch.setenv("CINEGRAPH_AUTOMATION_OFF", "dayly_sync")
    repository = load_definitions().get_repository_def()
    assert repository.has_job("tmdb_year_import")  # the assets and jobs load
    expected = "CINEGRAPH_AUTOMATION_OFF names dayly_sync, which is no schedule or sensor; use names from "
    for sensor in repository.sensor_defs:
        with pytest.raises(SettingError, match="^" + expected):
            sensor.evaluate_tick(dg.build_sensor_context(repository_def=repository))
    for schedule in repository.schedule_defs:
        # Dagster wraps a schedule's error in its own; the tick shows ours as the cause.
        with pytest.raises(ScheduleExecutionError) as raised:
            schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=None))
        assert isinstance(raised.value.__cause__, SettingError)
        assert str(raised.value.__cause__).startswith(expected)


def test_a_malformed_explicit_resource_field_names_its_env_var(sandbox_factory, sqlite_warehouse_url, tmp_path):
    sandbox = sandbox_factory(seed=5, year_size=[f"{YEAR}=20"], detail_size="small")
    result = materialize_year(YEAR, tmdb_resource(sandbox, tmp_path, max_rps=-1.0), sqlite_warehouse_url)
    assert not result.success
    assert "TMDB_MAX_RPS" in run_failure_text(result)
    assert _api_requests(sandbox, "/3/") == 0


# ----------------------------------------------------------------------------- real captured bodies
FIGHT_CLUB = 550
ERRORS_BODY, INVALID_JSON, NOT_FOUND, ADULT_NULL, NO_APPENDS = 9001, 9002, 9003, 9004, 9005


def _captured(name: str) -> dict:
    return json.loads(shared_data("tmdb", "captures", name).read_text())


def test_real_captured_bodies_are_stored_or_recorded_with_their_reason(sqlite_warehouse_url, tmp_path):
    """A fake TMDb answering with the real captures: the older details shape without appended
    parts or origin_country, `adult: null`, a 404 (code 34, no `success`), a 422 `{"errors": [...]}`
    body and a body that is not JSON at all."""
    details = _captured("movie-details.json")  # Fight Club, the older shape
    release_dates = _captured("movie-release-dates.json")
    external_ids = _captured("movie-external-ids.json")
    listing = _captured("search-movie.json")["results"][0]  # a real list item
    answers = {
        FIGHT_CLUB: Reply(200, {**details, "release_dates": {"results": release_dates["results"]},
                                "external_ids": external_ids}),
        ERRORS_BODY: Reply(422, _captured("validation-error.json")),
        INVALID_JSON: Reply(200, b'{"adult": false, "id": 9002, "title": "cut off'),
        NOT_FOUND: Reply(404, _captured("resource-not-found.json")),
        ADULT_NULL: Reply(200, {**details, "id": ADULT_NULL, "adult": None}),
        NO_APPENDS: Reply(200, {**details, "id": NO_APPENDS, "release_date": "1999-12-31"}),
    }

    def respond(request):
        if request.path == "/3/discover/movie":
            results = [{**listing, "id": tmdb_id, "release_date": "1999-10-15", "adult": None if
                        tmdb_id == ADULT_NULL else False} for tmdb_id in sorted(answers)]
            return Reply(200, {"page": 1, "results": results, "total_pages": 1,
                               "total_results": len(results)})
        tmdb_id = int(request.path.rsplit("/", 1)[-1])
        return answers[tmdb_id]

    with FakeTMDb(respond) as fake:
        tmdb = TMDbResource(base_url=fake.url, api_key="sandbox", state_dir=str(tmp_path), max_retries=1,
                            failure_threshold=1.0)
        result = materialize_year(1999, tmdb, sqlite_warehouse_url)
    assert result.success, run_failure_text(result)
    assert sorted(year_ids(sqlite_warehouse_url, 1999)) == [FIGHT_CLUB, ADULT_NULL, NO_APPENDS]
    engine = sa.create_engine(sqlite_warehouse_url)
    with engine.connect() as conn:
        failures = dict(conn.execute(sa.text("SELECT tmdb_id, reason FROM tmdb_fetch_failures")).all())
        deleted = set(conn.execute(sa.text("SELECT tmdb_id FROM movies WHERE deleted_at IS NOT NULL "
                                           "UNION SELECT tmdb_id FROM discovered_movies "
                                           "WHERE deleted_at IS NOT NULL")).scalars())
        adult = conn.execute(sa.text("SELECT adult FROM movies WHERE tmdb_id = :i"), {"i": ADULT_NULL}).scalar()
        certified = conn.execute(sa.text("SELECT count(*) FROM movie_release_dates WHERE tmdb_id = :i"),
                                 {"i": FIGHT_CLUB}).scalar()
    engine.dispose()
    assert set(failures) == {ERRORS_BODY, INVALID_JSON}
    assert "422" in failures[ERRORS_BODY] and "json" in failures[INVALID_JSON].lower()
    assert deleted == {NOT_FOUND}
    assert adult is None
    assert certified > 0
    details_metadata = materialization_metadata(result, "tmdb_movie_details")
    assert details_metadata["failed"] == 2 and details_metadata["deleted"] == 1


# ----------------------------------------------------------------------------- oddities
def test_a_5mb_answer_and_mistyped_fields_fail_only_their_movie_with_the_reason(
        sandbox_factory, sqlite_warehouse_url, tmp_path):
    sandbox = sandbox_factory(seed=5, year_size=[f"{YEAR}=320"], detail_size="small")
    truth = sorted(sandbox.truth(YEAR))
    oversized, mistyped = truth[10], truth[20]
    requests.post(sandbox.url + "/_sandbox/oddities", timeout=10,
                  json={"oversized": [oversized], "oversized_bytes": 5 * 1024 * 1024,
                        "mistyped": [mistyped]}).raise_for_status()
    result = materialize_year(YEAR, tmdb_resource(sandbox, tmp_path), sqlite_warehouse_url)
    assert result.success, run_failure_text(result)
    assert set(year_ids(sqlite_warehouse_url, YEAR)) == set(truth) - {oversized, mistyped}
    engine = sa.create_engine(sqlite_warehouse_url)
    with engine.connect() as conn:
        failures = dict(conn.execute(sa.text("SELECT tmdb_id, reason FROM tmdb_fetch_failures")).all())
    engine.dispose()
    assert set(failures) == {oversized, mistyped}
    assert "large" in failures[oversized].lower()
    assert "malformed" in failures[mistyped].lower()


def test_real_omdb_answers_rate_or_fail_only_their_movie(sqlite_warehouse_url, tmp_path, monkeypatch):
    """OMDb answering with the real captures and error bodies: a modern and an older (no Ratings)
    shape are stored; "Movie not found!", "Incorrect IMDb ID." and the real body that is not
    valid JSON fail only their movie, with the reason, and the run succeeds."""
    captured = json.loads(shared_data("omdb", "error_bodies", "omdb_error_bodies.json").read_text())
    bodies = {entry["error"]: entry["body_raw"] for entry in captured["errors"]}
    invalid_json = next(body for error, body in bodies.items() if error.startswith("Conversion from"))
    with pytest.raises(ValueError):
        json.loads(invalid_json)
    modern = shared_data("omdb", "captures", "toxic-avenger.json").read_bytes()
    older = shared_data("omdb", "captures", "james-bond.json").read_bytes()
    details = _captured("movie-details.json")
    omdb_answers = {  # imdb id -> (status, raw body)
        "tt0000001": (200, modern), "tt0000002": (200, older),
        "tt0000003": (200, bodies["Movie not found!"].encode()),
        "tt0000004": (200, bodies["Incorrect IMDb ID."].encode()),
        "tt0000005": (200, invalid_json.encode()),
    }
    movies = {7000 + n: f"tt000000{n}" for n in range(1, 6)}

    def respond(request):
        if request.path.startswith("/omdb"):
            status, body = omdb_answers[request.query["i"]]
            return Reply(status, body)
        if request.path == "/3/discover/movie":
            results = [{"id": tmdb_id, "release_date": "1999-10-15", "adult": False, "title": "x",
                        "popularity": 1.0, "video": False} for tmdb_id in sorted(movies)]
            return Reply(200, {"page": 1, "results": results, "total_pages": 1, "total_results": len(results)})
        tmdb_id = int(request.path.rsplit("/", 1)[-1])
        return Reply(200, {**details, "id": tmdb_id, "imdb_id": movies[tmdb_id]})

    with FakeTMDb(respond) as fake:
        base = fake.url.rsplit("/3", 1)[0]
        monkeypatch.setenv("OMDB_BASE_URL", base + "/omdb/")
        monkeypatch.setenv("OMDB_API_KEY", "sandbox")
        tmdb = TMDbResource(base_url=fake.url, api_key="sandbox", state_dir=str(tmp_path))
        result = dg.materialize(
            [*tmdb_assets, omdb_ratings], partition_key="1999", raise_on_error=False,
            resources={"tmdb": tmdb, "omdb": OMDbResource(),
                       "warehouse": WarehouseResource(database_url=sqlite_warehouse_url)})
    assert result.success, run_failure_text(result)
    ratings = materialization_metadata(result, "omdb_ratings")
    assert ratings["eligible"] == 5 and ratings["rated"] == 2
    assert ratings["failed_not_found"] == 1 and ratings["failed_incorrect_imdb_id"] == 1
    assert sum(v for k, v in ratings.items() if k.startswith("failed_") and not k.startswith("failed_this")) == 3
