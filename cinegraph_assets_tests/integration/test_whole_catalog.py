"""The whole catalog against the sandbox: the years' imports plus tmdb_catalog_ids and tmdb_gap_movies
account for every id of TMDb's export, and the warehouse equals /_sandbox/truth/catalog. SQLite and
PostgreSQL.

The sandbox holds two small years and nothing else dated (every other year sized 0), so the years
import in seconds; its undated, video and adult movies are spread over those ids as in the real
catalog. Its clock starts yesterday, so advancing one day brings it to the real today (the export
day the assets look for by default).
"""

from datetime import date, datetime, timedelta, timezone

import dagster as dg
import pytest
import requests
import sqlalchemy as sa

from cinegraph_assets.reporting.assets import catalog_progress
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb.assets import tmdb_assets
from cinegraph_assets.tmdb.catalog_assets import catalog_assets, catalog_checks
from cinegraph_assets.tmdb.resource import TMDbResource
from cinegraph_assets.warehouse import catalog_gap
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.schema import movies, tmdb_export_ids, tmdb_exports

YEARS = (2024, 2025)
YEAR_SIZE = 250
TODAY = datetime.now(timezone.utc).date()
START = TODAY - timedelta(days=1)
CATALOG = [*catalog_assets, *catalog_checks]


def sandbox_options(**extra) -> dict:
    sizes = [f"{year}={YEAR_SIZE if year in YEARS else 0}" for year in range(1874, TODAY.year + 2)]
    return {"seed": 5, "start_date": START.isoformat(), "detail_size": "small", "year_size": sizes,
            "change_rate": 0.0, **extra}


def resources(sandbox, warehouse_url: str, state_dir, **tmdb_fields) -> dict:
    return {
        "tmdb": TMDbResource(base_url=sandbox.tmdb_url, api_key="sandbox", state_dir=str(state_dir),
                             exports_base_url=sandbox.exports_url, max_rps=5000, **tmdb_fields),
        "warehouse": WarehouseResource(database_url=warehouse_url),
    }


def metadata(result, asset: str) -> dict:
    [event] = [e for e in result.get_asset_materialization_events()
               if e.materialization.asset_key.to_user_string() == asset]
    return {key: value.value for key, value in event.materialization.metadata.items()}


def check(result, name: str):
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return evaluation


def movie_requests(sandbox) -> int:
    return sum(sandbox.stats()["requests"].get("/3/movie/{id}", {}).values())


def truth(sandbox) -> dict:
    return requests.get(sandbox.url + "/_sandbox/truth/catalog", timeout=60).json()


def held(url: str) -> dict[int, int | None]:
    """Every movie the warehouse holds (not deleted) with its release year."""
    with get_engine(url).connect() as conn:
        return dict(conn.execute(sa.select(movies.c.tmdb_id, movies.c.release_year)
                                 .where(movies.c.deleted_at.is_(None))).all())


def import_years(res: dict, instance) -> None:
    for year in YEARS:
        assert dg.materialize(tmdb_assets, partition_key=str(year), resources=res, instance=instance).success


def test_years_plus_the_gap_account_for_every_export_id_and_equal_the_truth(sandbox_factory, warehouse_url,
                                                                            tmp_path):
    sandbox = sandbox_factory(**sandbox_options(delete_rate=0.01, new_per_day=30))
    res = resources(sandbox, warehouse_url, tmp_path)
    with dg.instance_for_test() as instance:
        import_years(res, instance)
        first = dg.materialize(CATALOG, resources=res, instance=instance,
                               run_config={"ops": {"tmdb_catalog_ids": {"config": {"day": START.isoformat()}}}})
        assert first.success
        ids_meta, gap = metadata(first, "tmdb_catalog_ids"), metadata(first, "tmdb_gap_movies")
        whole = truth(sandbox)
        plain = {i: y for i, y in zip(whole["ids"], whole["years"]) if i not in set(whole["adult"])}
        assert (ids_meta["export_date"], ids_meta["export_ids"], ids_meta["fallback_days"]) == (
            START.isoformat(), len(plain), 0)
        undated = {i for i, y in plain.items() if y is None}
        video = set(whole["video"]) & set(plain)
        assert undated and video

        # The gap: what no year's discovery returned (undated and video movies), each asked once.
        assert gap["needed_new"] == gap["fetched"] == len(undated | video)
        assert gap["requests"] <= 1.05 * gap["needed"]
        assert (gap["remaining"], gap["progress_pct"], gap["accounted_pct"], gap["failed"]) == (0, 100.0, 100.0, 0)
        assert gap["undated"] == len(undated)
        evaluation = check(first, "catalog_accounted_for")
        assert evaluation.passed and evaluation.metadata["accounted_pct"].value == 100.0
        assert evaluation.metadata["judged"].value is True
        assert held(warehouse_url) == plain  # dated gap movies in their year, undated ones with NULL
        with get_engine(warehouse_url).connect() as conn:
            assert conn.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(movies.c.tmdb_id)))
                                .select_from(movies)).one() == (len(plain), len(plain))

        # The catalog line: in catalog_progress and in `status`.
        progress = dg.materialize([catalog_progress], resources=res, instance=instance)
        line = metadata(progress, "catalog_progress")
        assert (line["export_ids"], line["held_undated"], line["pending"], line["accounted_pct"]) == (
            len(plain), len(undated), 0, 100.0)
        assert line["held"] + line["held_undated"] == len(plain)
        assert f"{len(plain):,} ids" in line["summary"] and "100.0% accounted for" in line["summary"]

        # Right after: nothing to do, and a year's discovery does not fetch gap movies again.
        before = movie_requests(sandbox)
        again = dg.materialize(CATALOG, resources=res, instance=instance, selection=["tmdb_gap_movies"])
        assert metadata(again, "tmdb_gap_movies")["requests"] == 0 and movie_requests(sandbox) == before

        # A day later: the new ids and the ids that left, each asked once; deletions marked, not dropped.
        sandbox.advance(1)
        before = movie_requests(sandbox)
        later = dg.materialize(CATALOG, resources=res, instance=instance)
        assert later.success
        ids_meta, gap = metadata(later, "tmdb_catalog_ids"), metadata(later, "tmdb_gap_movies")
        assert ids_meta["export_date"] == TODAY.isoformat() and ids_meta["new_ids"] > 0 and ids_meta["left_ids"] > 0
        asked = movie_requests(sandbox) - before
        assert asked == gap["requests"] <= (ids_meta["new_ids"] + ids_meta["left_ids"]) * 1.01
        assert (gap["needed_left"], gap["deleted"]) == (ids_meta["left_ids"], ids_meta["left_ids"])
        whole = truth(sandbox)
        with get_engine(warehouse_url).connect() as conn:
            left = set(conn.execute(sa.select(tmdb_export_ids.c.tmdb_id)
                                    .where(tmdb_export_ids.c.left_on == TODAY)).scalars())
            deleted = set(conn.execute(sa.select(movies.c.tmdb_id).where(movies.c.deleted_at.is_not(None))).scalars())
            assert left and left <= set(whole["deleted"]) and left <= deleted
            counts = catalog_gap.catalog_accounting(conn, include_adult=False)
        # New dated movies wait for their year's next sync (pending_years) only if discovery has them;
        # here no year ran again, so the gap fill took them all.
        assert counts["accounted_pct"] == 100.0 and counts["pending_gap"] == 0
        assert check(later, "catalog_accounted_for").passed

        # This year's first import discovers the new movies the gap fill already holds: none asked again.
        before = movie_requests(sandbox)
        this_year = dg.materialize(tmdb_assets, partition_key=str(TODAY.year), resources=res, instance=instance)
        details = metadata(this_year, "tmdb_movie_details")
        assert details["discovered"] > 0 and details["needed"] == 0 and movie_requests(sandbox) == before


def test_the_gap_works_in_bounded_batches_most_popular_first_and_resumes(sandbox_factory, warehouse_url,
                                                                         tmp_path):
    sandbox = sandbox_factory(**sandbox_options())
    res = resources(sandbox, warehouse_url, tmp_path, gap_batch_size=100)
    config = {"ops": {"tmdb_catalog_ids": {"config": {"day": START.isoformat()}}}}
    with dg.instance_for_test() as instance:
        # No year imported: the whole export is the gap's (the years' discovery would own most of it).
        first = dg.materialize(CATALOG, resources=res, instance=instance, run_config=config)
        gap = metadata(first, "tmdb_gap_movies")
        total = metadata(first, "tmdb_catalog_ids")["export_ids"]
        assert gap["needed"] == gap["fetched"] == 100 and gap["remaining"] == total - 100
        assert gap["eta_s"] > 0 and gap["runs_left"] == -(-(total - 100) // 100)
        evaluation = check(first, "catalog_accounted_for")
        assert not evaluation.passed and "pending_gap" in evaluation.description
        with get_engine(warehouse_url).connect() as conn:
            popularity = dict(conn.execute(sa.select(tmdb_export_ids.c.tmdb_id, tmdb_export_ids.c.popularity)).all())
        fetched = set(held(warehouse_url))
        assert min(popularity[i] for i in fetched) >= max(p for i, p in popularity.items() if i not in fetched)
        runs = 1
        gap_fill = dg.AssetSelection.assets("tmdb_gap_movies") | dg.AssetSelection.checks_for_assets("tmdb_catalog_ids")
        while gap["remaining"]:  # as the tmdb_gap_fill job does: a batch, then the check
            result = dg.materialize(CATALOG, resources=res, instance=instance, selection=gap_fill)
            gap = metadata(result, "tmdb_gap_movies")
            runs += 1
        assert runs == -(-total // 100) and len(held(warehouse_url)) == total
        assert check(result, "catalog_accounted_for").passed  # green once the fill is done
        assert movie_requests(sandbox) == total  # every movie asked once across the runs


def test_export_faults_end_clearly_and_lose_nothing(sandbox_factory, sqlite_warehouse_url, tmp_path):
    sandbox = sandbox_factory(**sandbox_options(delete_rate=0.01))
    sandbox.advance(1)  # today: yesterday's export exists, today's is published at 08:00
    res = resources(sandbox, sqlite_warehouse_url, tmp_path)
    engine = get_engine(sqlite_warehouse_url)
    with dg.instance_for_test() as instance:
        def catalog_ids(**kwargs):
            return dg.materialize(catalog_assets[:1], resources=res, instance=instance, raise_on_error=False,
                                  **kwargs)

        def exports():
            with engine.connect() as conn:
                return conn.execute(sa.select(tmdb_exports).order_by(tmdb_exports.c.export_date)).all()

        # Before 08:00 today's export is not out: yesterday's is loaded, and says so.
        sandbox.configure(time_of_day="07:00")
        result = catalog_ids()
        assert metadata(result, "tmdb_catalog_ids")["fallback_days"] == 1
        sandbox.configure(time_of_day="12:00")
        loaded = exports()

        # Nothing published for four days: a failure naming the setting, nothing changed.
        stale = catalog_ids(run_config={"ops": {"tmdb_catalog_ids": {"config": {"day": "2020-01-01"}}}})
        assert not stale.success
        assert "TMDB_EXPORTS_BASE_URL" in _failure(stale) and exports() == loaded

        try:
            sandbox.configure(export_faults="truncated")
            cut = catalog_ids()
            assert not cut.success
            assert f"movie_ids_{TODAY:%m_%d_%Y}" in _failure(cut) and "previous export stays loaded" in _failure(cut)
            assert exports() == loaded
            sandbox.configure(export_faults="malformed")
            result = catalog_ids()
            assert metadata(result, "tmdb_catalog_ids")["malformed_lines"] == 3
            sandbox.advance(1)
            sandbox.configure(export_faults="small")
            result = catalog_ids(run_config={"ops": {"tmdb_catalog_ids": {"config": {
                "day": (TODAY + timedelta(days=1)).isoformat()}}}})
        finally:
            sandbox.configure(export_faults="")
        small = metadata(result, "tmdb_catalog_ids")
        assert small["left_held_back"] is True and small["left_ids"] == 0
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).where(
                tmdb_export_ids.c.left_on == TODAY + timedelta(days=1))).scalar() == 0


def _failure(result) -> str:
    [event] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return event.step_failure_data.error.message if event.step_failure_data.error else ""


def test_the_real_export_sample_loads_through_the_asset(sqlite_warehouse_url, tmp_path):
    """The 18 lines copied from a real export (five ids out of order at the top, one `video`), served
    as a day's movie file: tmdb_catalog_ids loads them all."""
    import functools
    import shutil
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from cinegraph_assets_tests.support.shared_data import shared_data

    sample = shared_data("tmdb", "daily_export_sample", "movie_ids_sample.json.gz")
    day = date(2026, 8, 31)
    (tmp_path / "p" / "exports").mkdir(parents=True)
    shutil.copy(sample, tmp_path / "p" / "exports" / f"movie_ids_{day:%m_%d_%Y}.json.gz")
    handler = type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda *args: None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        res = {"tmdb": TMDbResource(api_key="unused", exports_base_url=f"http://127.0.0.1:{server.server_address[1]}",
                                    state_dir=str(tmp_path)),
               "warehouse": WarehouseResource(database_url=sqlite_warehouse_url)}
        result = dg.materialize(catalog_assets[:1], resources=res,
                                run_config={"ops": {"tmdb_catalog_ids": {"config": {"day": day.isoformat()}}}})
    finally:
        server.shutdown()
        server.server_close()
    loaded = metadata(result, "tmdb_catalog_ids")
    assert (loaded["export_date"], loaded["export_ids"], loaded["malformed_lines"]) == ("2026-08-31", 18, 0)
    with get_engine(sqlite_warehouse_url).connect() as conn:
        rows = dict(conn.execute(sa.select(tmdb_export_ids.c.tmdb_id, tmdb_export_ids.c.video)).all())
    assert len(rows) == 18 and {3924, 6124, 8773, 25449, 31975, 2} <= set(rows) and rows[31975] is True


def test_the_export_already_loaded_fails_clearly_without_a_download_unless_reload(
        sandbox_factory, sqlite_warehouse_url, tmp_path, monkeypatch):
    """Materializing tmdb_catalog_ids when the newest published export is the one loaded (a person's
    click, or a race): a failure naming the day loaded, nothing downloaded, no materialization; with
    `reload: true` it loads it again."""
    sandbox = sandbox_factory(**sandbox_options())
    sandbox.advance(1)  # today
    res = resources(sandbox, sqlite_warehouse_url, tmp_path)
    asked: list[tuple[str, str]] = []
    request = requests.Session.request

    def counted(session, method, url, *args, **kwargs):
        asked.append((method.upper(), url))
        return request(session, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", counted)

    def downloads() -> list[str]:
        return [url for method, url in asked if method == "GET" and "/p/exports/" in url]

    with dg.instance_for_test() as instance:
        def catalog_ids(**config):
            return dg.materialize(catalog_assets[:1], resources=res, instance=instance, raise_on_error=False,
                                  run_config={"ops": {"tmdb_catalog_ids": {"config": config}}})

        first = metadata(catalog_ids(), "tmdb_catalog_ids")
        assert first["export_date"] == TODAY.isoformat() and len(downloads()) == 1
        asked.clear()
        again = catalog_ids()
        assert not again.success and not again.get_asset_materialization_events()
        message = _failure(again)
        assert f"export of {TODAY} is already loaded" in message and "reload: true" in message
        assert downloads() == [] and asked  # it asked (HEAD) what is published, and fetched nothing

        # TMDb skipped the next day: the fallback finds the same export, and says why.
        sandbox.advance(1)
        sandbox.configure(export_skipped_days=(TODAY + timedelta(days=1)).isoformat())
        asked.clear()
        skipped = catalog_ids(day=(TODAY + timedelta(days=1)).isoformat())
        message = _failure(skipped)
        assert not skipped.success and downloads() == []
        assert f"export of {TODAY + timedelta(days=1)} is not out" in message
        assert f"export of {TODAY} is already loaded" in message

        forced = catalog_ids(day=(TODAY + timedelta(days=1)).isoformat(), reload=True)
        loaded = metadata(forced, "tmdb_catalog_ids")
        assert (loaded["export_date"], loaded["export_ids"]) == (TODAY.isoformat(), first["export_ids"])
        assert len(downloads()) == 1
