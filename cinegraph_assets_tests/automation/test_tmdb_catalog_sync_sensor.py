"""tmdb_catalog_sync: the day's export once TMDb has published one newer than the loaded one (asked
with HEAD requests to the sandbox's exports), then the gap fill, continued run after run while movies
remain; never two of its runs at once."""

import socket
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from cinegraph_assets.automation.tmdb_catalog_sync_sensor import tmdb_catalog_sensor
from cinegraph_assets.tmdb.resource import TMDbResource

#: Where the tests that must not ask TMDb anything point it (the discard port: nothing listens).
NOWHERE = "http://127.0.0.1:9"


def tick(instance, exports_base_url: str = NOWHERE, **tmdb_fields):
    sensor = tmdb_catalog_sensor(dg.DefaultSensorStatus.RUNNING)
    tmdb = TMDbResource(exports_base_url=exports_base_url, **tmdb_fields)
    return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources={"tmdb": tmdb}))


@pytest.fixture
def exports(sandbox_factory):
    """A sandbox on 2026-11-30 at noon, with an id export for each day from 2026-11-27 on."""
    sandbox = sandbox_factory(start_date="2026-11-27", detail_size="small")
    sandbox.advance(3)
    return sandbox


def export_requests(sandbox) -> int:
    """HEAD and GET requests for export files so far."""
    return sum(sandbox.stats()["requests"].get("/p/exports/{file}", {}).values())


def loaded(instance, export_date: str) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(
        "tmdb_catalog_ids", metadata={"export_date": export_date}))


def gap_ran(instance, remaining: int) -> int:
    instance.report_runless_asset_event(dg.AssetMaterialization("tmdb_gap_movies", metadata={"remaining": remaining}))
    return instance.fetch_materializations(dg.AssetKey("tmdb_gap_movies"), limit=1).records[0].storage_id


def test_after_publication_it_asks_tmdb_each_tick_and_launches_once_the_days_export_is_out(
        instance, set_now, exports):
    set_now(datetime(2026, 11, 30, 9, 5, tzinfo=timezone.utc))
    exports.configure(time_of_day="07:00")  # TMDb is late: today's export is not out yet
    [request] = tick(instance, exports.exports_url).run_requests  # nothing loaded: the asset falls back
    assert (request.job_name, request.run_key) == ("tmdb_catalog_sync", "tmdb_catalog_sync:2026-11-30:09")

    loaded(instance, "2026-11-29")  # the fallback loaded yesterday's
    gap_ran(instance, 0)
    set_now(datetime(2026, 11, 30, 10, 5, tzinfo=timezone.utc))
    result = tick(instance, exports.exports_url)
    assert not result.run_requests and "2026-11-30 is not out" in result.skip_message

    exports.configure(time_of_day="10:20")  # published
    set_now(datetime(2026, 11, 30, 10, 25, tzinfo=timezone.utc))
    [request] = tick(instance, exports.exports_url).run_requests
    assert request.run_key == "tmdb_catalog_sync:2026-11-30:10"

    loaded(instance, "2026-11-30")
    gap_ran(instance, 0)
    assert "gap fill is done" in tick(instance, exports.exports_url).skip_message


def test_a_day_tmdb_skipped_launches_nothing_all_day_and_the_next_days_export_launches(
        instance, set_now, exports):
    exports.configure(export_skipped_days="2026-11-30")
    file = f"{urlsplit(exports.exports_url).netloc}/p/exports/movie_ids_11_30_2026.json.gz"
    set_now(datetime(2026, 11, 30, 9, 5, tzinfo=timezone.utc))
    before = export_requests(exports)
    [request] = tick(instance, exports.exports_url).run_requests  # nothing loaded yet: nothing to compare
    assert request.job_name == "tmdb_catalog_sync" and export_requests(exports) == before
    loaded(instance, "2026-11-29")  # the run fell back to the newest published export
    gap_ran(instance, 0)

    for hour, minute in ((10, 5), (14, 0), (23, 55)):
        set_now(datetime(2026, 11, 30, hour, minute, tzinfo=timezone.utc))
        before = export_requests(exports)
        result = tick(instance, exports.exports_url)
        assert not result.run_requests, f"{hour}:{minute:02}"
        assert ("export of 2026-11-29 is loaded" in result.skip_message
                and "export of 2026-11-30 is not out" in result.skip_message and file in result.skip_message)
        assert "http://" not in result.skip_message
        assert export_requests(exports) - before == 1  # one HEAD: only 2026-11-30 is newer than 11-29

    exports.advance(1)  # 2026-12-01: TMDb publishes again
    set_now(datetime(2026, 12, 1, 9, 5, tzinfo=timezone.utc))
    [request] = tick(instance, exports.exports_url).run_requests
    assert (request.job_name, request.run_key) == ("tmdb_catalog_sync", "tmdb_catalog_sync:2026-12-01:09")


def test_it_looks_back_at_most_the_fallback_days_and_launches_for_an_older_export_newer_than_the_loaded(
        instance, set_now, exports):
    exports.advance(5)  # 2026-12-05; TMDb skipped the last two days
    exports.configure(export_skipped_days="2026-12-04,2026-12-05")
    loaded(instance, "2026-11-28")
    gap_ran(instance, 0)
    set_now(datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc))
    before = export_requests(exports)
    [request] = tick(instance, exports.exports_url).run_requests  # 12-03's is newer than 11-28's
    assert request.job_name == "tmdb_catalog_sync"
    assert export_requests(exports) - before == 3  # 12-05, 12-04 (404), 12-03 (found)

    loaded(instance, "2026-12-03")
    gap_ran(instance, 0)
    before = export_requests(exports)
    result = tick(instance, exports.exports_url)
    assert not result.run_requests and "nor any of the 1 day(s) before it" in result.skip_message
    assert export_requests(exports) - before == 2  # 12-05 and 12-04: never 12-03 itself again


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("fault", ["refused", "silent"])
def test_a_tick_whose_head_fails_skips_and_says_so(instance, set_now, fault):
    """No exception, no run: the next tick asks again. `silent` accepts the connection and never
    answers, so the tick also shows the timeout is TMDB_TIMEOUT_SECONDS, one attempt."""
    loaded(instance, "2026-11-29")
    gap_ran(instance, 0)
    set_now(datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc))
    with socket.socket() as listener:
        if fault == "silent":
            listener.bind(("127.0.0.1", 0))
            listener.listen(8)  # connections wait in the backlog, never accepted
            port = listener.getsockname()[1]
        else:
            port = _closed_port()
        started = time.monotonic()
        result = tick(instance, f"http://user:secret@127.0.0.1:{port}", timeout_seconds=0.5)
        took = time.monotonic() - started
    assert not result.run_requests
    message = result.skip_message
    assert message.startswith("Could not ask TMDb") and "next tick asks again" in message
    assert f"127.0.0.1:{port}/p/exports/movie_ids_11_30_2026.json.gz" in message
    assert ("ConnectionError" if fault == "refused" else "ReadTimeout") in message
    assert "secret" not in message and "user" not in message
    assert took < 5


def test_before_08_30_yesterdays_export_is_the_newest_to_want(instance, set_now):
    loaded(instance, "2026-11-29")
    gap_ran(instance, 0)
    set_now(datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc))
    assert not tick(instance).run_requests  # 11-29 is the day wanted: TMDb is not even asked


def test_the_gap_fill_goes_on_while_movies_remain_and_after_an_export_loaded_alone(instance, set_now):
    set_now(datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc))
    loaded(instance, "2026-11-30")
    [request] = tick(instance).run_requests  # loaded alone: the gap fill follows once
    assert request.job_name == "tmdb_gap_fill" and request.run_key.startswith("tmdb_gap_fill:export:")

    storage_id = gap_ran(instance, remaining=25_000)
    [request] = tick(instance).run_requests
    assert (request.job_name, request.run_key) == ("tmdb_gap_fill", f"tmdb_gap_fill:{storage_id}")

    gap_ran(instance, remaining=0)
    assert not tick(instance).run_requests


def test_never_two_runs_at_once(instance, set_now):
    set_now(datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc))
    create_run_for_test(instance, job_name="tmdb_gap_fill", status=dg.DagsterRunStatus.STARTED)
    result = tick(instance)
    assert not result.run_requests and "tmdb_gap_fill run is queued or running" in result.skip_message
