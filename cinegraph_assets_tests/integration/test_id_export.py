"""The sandbox's daily id export, read by tmdb/id_export.py and loaded by warehouse/export_ids.py, day
after day, against the sandbox's whole truth; a truncated or malformed export on the way. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import requests
import sqlalchemy as sa

from cinegraph_assets.tmdb.id_export import ExportTruncated, find_export
from cinegraph_assets.warehouse import migrate
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.export_ids import left_ids, load_export, new_ids
from cinegraph_assets.warehouse.schema import tmdb_export_ids, tmdb_exports
from cinegraph_assets_tests.support.sandbox import SandboxProcess

DAY = date(2026, 11, 21)
NEXT = DAY + timedelta(days=1)


@pytest.fixture(scope="module")
def sandbox():
    """A demo sandbox one day on from its start: its truth on both days, and exports for both."""
    with SandboxProcess(seed=11, detail_size="small", delete_rate=0.001, new_per_day=40) as sb:
        before = requests.get(sb.url + "/_sandbox/truth/catalog", timeout=60).json()
        sb.advance(1)
        after = requests.get(sb.url + "/_sandbox/truth/catalog", timeout=60).json()
        sb.truths = {DAY: before, NEXT: after}
        yield sb


def load_day(sandbox, engine, day: date):
    export = find_export(day, base_url=sandbox.exports_url, include_adult=True)
    assert export.day == day
    return load_export(engine, export.day, export.records(), include_adult=True), export.stats


def ids_seen_on(engine, day: date) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(tmdb_export_ids.c.tmdb_id).where(tmdb_export_ids.c.last_seen == day)).scalars())


def test_day_after_day_the_warehouse_holds_the_whole_catalog_and_what_changed(sandbox, warehouse_url):
    migrate.upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    before, after = sandbox.truths[DAY], sandbox.truths[NEXT]

    first, _ = load_day(sandbox, engine, DAY)
    assert ids_seen_on(engine, DAY) == set(before["ids"])  # undated, video and adult ids included
    assert (first.ids, first.adult_ids) == (before["count"], len(before["adult"]))

    second, stats = load_day(sandbox, engine, NEXT)
    assert stats.malformed == 0 and stats.records == after["count"]
    assert ids_seen_on(engine, NEXT) == set(after["ids"])
    with engine.connect() as conn:
        assert set(new_ids(conn, NEXT, include_adult=True)) == set(after["ids"]) - set(before["ids"])
        assert set(left_ids(conn, NEXT)) == set(after["deleted"]) - set(before["deleted"]) != set()
    assert (second.new_ids, second.left_ids, second.left_held_back) == (40, len(after["deleted"]), False)


def test_a_truncated_export_loses_nothing_and_malformed_lines_lose_no_movie(sandbox, sqlite_warehouse_url):
    migrate.upgrade(sqlite_warehouse_url)
    engine = get_engine(sqlite_warehouse_url)
    load_day(sandbox, engine, DAY)
    with engine.connect() as conn:
        before = conn.execute(sa.select(tmdb_export_ids).order_by(tmdb_export_ids.c.tmdb_id)).all()
    try:
        sandbox.configure(export_faults="truncated")
        with pytest.raises(ExportTruncated, match="adult_movie_ids_11_22_2026|movie_ids_11_22_2026"):
            load_day(sandbox, engine, NEXT)
        with engine.connect() as conn:
            assert conn.execute(sa.select(tmdb_export_ids).order_by(tmdb_export_ids.c.tmdb_id)).all() == before
            assert conn.execute(sa.select(tmdb_exports.c.export_date)).scalars().all() == [DAY]

        sandbox.configure(export_faults="malformed")
        loaded, stats = load_day(sandbox, engine, NEXT)
    finally:
        sandbox.configure(export_faults="")
    assert stats.malformed == 6  # three in each file
    assert ids_seen_on(engine, NEXT) == set(sandbox.truths[NEXT]["ids"])
    assert loaded.left_ids == len(sandbox.truths[NEXT]["deleted"])
