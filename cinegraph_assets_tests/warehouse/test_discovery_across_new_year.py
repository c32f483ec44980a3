"""Discoveries of two adjacent years at once, while movies move across Dec 31 / Jan 1 (PostgreSQL).

The daily sync runs the current and the previous year together. When a movie moved from one to the
other, each year's discovery writes a row that the other year's discovery holds: both must finish
(before issue 15 one of them died of a deadlock and failed as a "warehouse outage").
"""

import threading
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from cinegraph_assets.warehouse import discovery, schema
from cinegraph_assets.warehouse.rows import DiscoveredMovie, DiscoveryWindow
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 1, 2, 2, 0, tzinfo=timezone.utc)


def movies(year: int, ids) -> list[DiscoveredMovie]:
    day = date(year, 12, 31) if year == 2025 else date(year, 1, 1)
    return [DiscoveredMovie(i, day, 1.0, False, False, f"Movie {i}") for i in ids]


def discover(engine, year: int, ids, at: datetime) -> None:
    with engine.begin() as conn:
        discovery.record_discovery(conn, year, [DiscoveryWindow(date(year, 1, 1), date(year, 12, 31), "",
                                                              len(ids), 1)], movies(year, ids), at)


def test_two_years_discovered_at_once_while_movies_cross_new_year_both_finish(postgres_warehouse_url):
    upgrade(postgres_warehouse_url)
    engine = get_engine(postgres_warehouse_url)
    old_2025, old_2026 = set(range(1, 301)), set(range(301, 601))
    discover(engine, 2025, old_2025, NOW - timedelta(days=1))
    discover(engine, 2026, old_2026, NOW - timedelta(days=1))
    # Overnight: every third movie of each year moved across New Year.
    to_2026 = {i for i in old_2025 if i % 3 == 0}
    to_2025 = {i for i in old_2026 if i % 3 == 0}
    new_2025, new_2026 = (old_2025 - to_2026) | to_2025, (old_2026 - to_2025) | to_2026

    # Both transactions hold their own year's rows before either writes the other's: the order
    # the two runs of the daily sync reach that point in, made certain here.
    both_locked = threading.Barrier(2, timeout=3)
    local = threading.local()

    def after_execute(conn, cursor, statement, parameters, context, executemany):
        if "FOR UPDATE" in statement and not getattr(local, "waited", False):
            local.waited = True
            try:
                both_locked.wait()
            except threading.BrokenBarrierError:
                pass  # the other discovery waits for this one before taking any row: fine

    sa.event.listen(engine, "after_cursor_execute", after_execute)
    errors: list[BaseException] = []

    def run(year, ids):
        try:
            discover(engine, year, ids, NOW)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(2025, new_2025)),
               threading.Thread(target=run, args=(2026, new_2026))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    sa.event.remove(engine, "after_cursor_execute", after_execute)

    assert errors == []
    with engine.connect() as conn:
        assert discovery.discovered_ids(conn, 2025) == new_2025
        assert discovery.discovered_ids(conn, 2026) == new_2026
        t = schema.discovered_movies
        moved = set(conn.execute(sa.select(t.c.tmdb_id).where(t.c.changed_at == NOW)).scalars())
    assert moved == to_2025 | to_2026  # each mover is marked, so its details are fetched again
