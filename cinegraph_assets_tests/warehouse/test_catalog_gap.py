"""warehouse/catalog_gap.py on SQLite and PostgreSQL: which export ids the gap fill asks for and in
what order, failures that wait, 404s that count as deleted, ids that left, and the accounting."""

from datetime import date, datetime, timedelta, timezone

import pytest

from cinegraph_assets.tmdb.normalizer import normalize_staged_ids
from cinegraph_assets.warehouse import catalog_gap, details_queue, discovery, failed_fetches, migrate, staging
from cinegraph_assets.warehouse.details_queue import StalenessPolicy
from cinegraph_assets.warehouse.rows import DiscoveredMovie, DiscoveryWindow
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.export_ids import ExportId, load_export

DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
POLICY = StalenessPolicy()


def export(engine, day: date, ids, now: datetime = NOW, adult=()) -> None:
    records = [ExportId(i, i in adult, False, float(i % 7), f"Movie {i}") for i in ids]
    load_export(engine, day, records, include_adult=False, now=now)


def todo(engine, now: datetime = NOW, limit: int = 100) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return catalog_gap.gap_todo(conn, include_adult=False, now=now, policy=POLICY, limit=limit)


def accounting(engine) -> dict:
    with engine.connect() as conn:
        return catalog_gap.catalog_accounting(conn, include_adult=False)


def hold(engine, tmdb_id: int, release_date: str, at: datetime = NOW) -> None:
    """A fetched and normalized movie (release_date "" for an undated one)."""
    payload = {"id": tmdb_id, "title": f"Movie {tmdb_id}", "release_date": release_date}
    with engine.begin() as conn:
        staging.save_raw_details(conn, [(tmdb_id, payload, at)])
    normalize_staged_ids(engine, [tmdb_id])


@pytest.fixture
def engine(warehouse_url):
    migrate.upgrade(warehouse_url)
    return get_engine(warehouse_url)


def test_the_gap_is_what_no_year_owns_most_popular_first_and_the_accounting_adds_up(engine):
    export(engine, DAY, range(1, 15), adult={14})
    with engine.begin() as conn:  # a year's discovery owns 1-4
        discovery.record_discovery(conn, 2020, [DiscoveryWindow(date(2020, 1, 1), date(2020, 12, 31), "", 4, 1)],
                                 [DiscoveredMovie(i, date(2020, 5, 1), 1.0, False, False, "x") for i in range(1, 5)], NOW)
    hold(engine, 1, "2020-05-01")  # the year fetched it
    hold(engine, 5, "")  # the gap fetched an undated movie
    hold(engine, 6, "1999-03-03")  # and a dated one no discovery returns (a video entry, say)
    with engine.begin() as conn:
        details_queue.mark_deleted(conn, [7], NOW)  # never held: a 404 from the gap ...
        catalog_gap.mark_not_found(conn, [7], NOW)  # ... is kept on the export row
        failed_fetches.record_fetch_failures(conn, None, [(8, "http_500", 500)], NOW)

    chosen = todo(engine)
    assert [reason for _, reason in chosen] == ["new"] * 5  # 9-13; not adult 14, not 1-8
    assert [i for i, _ in chosen] == sorted(range(9, 14), key=lambda i: (-(i % 7), i))
    assert todo(engine, limit=2) == chosen[:2]
    assert accounting(engine) == {
        "export_date": DAY, "export_ids": 13, "held": 2, "held_undated": 1, "deleted": 1, "failed": 1,
        "pending_years": 3, "pending_gap": 5, "accounted": 5, "accounted_pct": round(100 * 5 / 13, 3)}
    with engine.connect() as conn:
        assert catalog_gap.gap_size(conn, include_adult=False) == 9
        assert catalog_gap.missing_examples(conn, include_adult=False, per_kind=2) == {
            "pending_years": [4, 3], "pending_gap": [13, 12]}
        assert catalog_gap.failures_by_reason(conn, include_adult=False) == {"http_500": 1}


def test_a_failure_waits_twelve_hours_and_stale_gap_movies_come_last(engine):
    export(engine, DAY, [1, 2, 3])
    with engine.begin() as conn:
        failed_fetches.record_fetch_failures(conn, None, [(1, "timeout", None)], NOW)
    hold(engine, 2, "", at=NOW - timedelta(days=31))  # undated: stale after 30 days
    hold(engine, 3, "", at=NOW - timedelta(days=29))
    assert todo(engine) == [(2, "stale")]
    assert todo(engine, now=NOW + timedelta(hours=13)) == [(1, "retry"), (2, "stale")]


def test_ids_that_left_are_asked_once_and_a_404_counts_as_deleted_until_the_id_comes_back(engine):
    everything = range(1, 21)  # 18 of 20 stay listed: not suspiciously small
    export(engine, DAY, everything)
    for tmdb_id in everything:
        hold(engine, tmdb_id, "")
    later = NOW + timedelta(days=1)
    export(engine, DAY + timedelta(days=1), range(3, 21), now=later)  # 1 and 2 left
    assert todo(engine, now=later) == [(1, "left"), (2, "left")]

    with engine.begin() as conn:  # 1 answered 404, 2 answered: both confirmed
        details_queue.mark_deleted(conn, [1], later)
        catalog_gap.mark_not_found(conn, [1, 3], later)  # and 3 404s while still listed
    hold(engine, 2, "", at=later + timedelta(minutes=1))
    assert todo(engine, now=later) == []
    assert accounting(engine)["deleted"] == 1  # 3 (1 and 2 are no longer in the export)

    back = later + timedelta(days=2)
    export(engine, DAY + timedelta(days=3), range(1, 21), now=back)  # 1 and 2 are back
    with engine.connect() as conn:  # 1 (its movies row, until asked again) and 3
        assert catalog_gap.catalog_accounting(conn, include_adult=False)["deleted"] == 2
    assert todo(engine, now=back) == [(1, "back")]  # deleted, then listed again: asked once more
    hold(engine, 1, "", at=back)
    assert todo(engine, now=back) == []
