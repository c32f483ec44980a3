"""tmdb_export_ids: loading TMDb's daily id export, on SQLite and PostgreSQL. New ids, ids that left,
the guard against a suspiciously small export, a stream that breaks half way, reloading the same day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from cinegraph_assets.warehouse import export_ids, migrate
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.export_ids import (
    EmptyExport, ExportId, ExportOutOfOrder, left_ids, load_export, new_ids,
)
from cinegraph_assets.warehouse.schema import tmdb_export_ids, tmdb_exports

D1 = date(2026, 11, 20)
D2, D3, D4 = (D1 + timedelta(days=n) for n in (1, 2, 3))


def record(tmdb_id: int, *, adult: bool = False, popularity: float | None = None, title: str | None = None) -> ExportId:
    return ExportId(tmdb_id, adult, tmdb_id % 50 == 0, popularity if popularity is not None else tmdb_id / 100,
                    title if title is not None else f"Movie {tmdb_id}")


def records(ids, **kwargs) -> list[ExportId]:
    return [record(i, **kwargs) for i in ids]


def table(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.select(tmdb_export_ids).order_by(tmdb_export_ids.c.tmdb_id))]


@pytest.fixture
def engine(warehouse_url):
    migrate.upgrade(warehouse_url)
    return get_engine(warehouse_url)


def test_the_first_export_is_all_new_and_a_day_later_only_the_difference(engine):
    first = load_export(engine, D1, records(range(1, 1001)), include_adult=False)
    assert (first.movie_ids, first.new_ids, first.left_ids, first.previous_export) == (1000, 1000, 0, None)
    second = load_export(engine, D2, records([*range(1, 601), *range(611, 1001), *range(2001, 2004)]),
                         include_adult=False)
    assert (second.movie_ids, second.new_ids, second.left_ids) == (993, 3, 10)
    assert (second.previous_export, second.size_ratio, second.left_held_back) == (D1, 0.993, False)
    with engine.connect() as conn:
        assert new_ids(conn, D2) == [2003, 2002, 2001]  # most popular first
        assert left_ids(conn, D2) == list(range(601, 611))
        kept = conn.execute(sa.select(tmdb_export_ids).where(tmdb_export_ids.c.tmdb_id == 5)).mappings().one()
        gone = conn.execute(sa.select(tmdb_export_ids).where(tmdb_export_ids.c.tmdb_id == 605)).mappings().one()
        logged = conn.execute(sa.select(tmdb_exports).order_by(tmdb_exports.c.export_date)).mappings().all()
    assert (kept["first_seen"], kept["last_seen"], kept["left_on"]) == (D1, D2, None)
    assert (gone["first_seen"], gone["last_seen"], gone["left_on"]) == (D1, D1, D2)
    assert [(r["export_date"], r["movie_ids"], r["new_ids"], r["left_ids"]) for r in logged] == [
        (D1, 1000, 1000, 0), (D2, 993, 3, 10)]


def test_loading_the_same_export_again_changes_nothing(engine):
    load_export(engine, D1, records(range(1, 501)), include_adult=False)
    day_two = records([*range(1, 481), *range(900, 905)])
    once = load_export(engine, D2, day_two, include_adult=False)
    after_once = table(engine)
    again = load_export(engine, D2, day_two, include_adult=False)
    assert again == once and (once.new_ids, once.left_ids) == (5, 20)
    assert table(engine) == after_once


def test_a_suspiciously_small_export_marks_nothing_as_left(engine):
    load_export(engine, D1, records(range(1, 1001)), include_adult=False)
    small = load_export(engine, D2, records(range(1, 801)), include_adult=False)
    assert small.left_held_back and small.left_ids == 0 and small.size_ratio == 0.8
    assert export_ids.SUSPICIOUSLY_SMALL_RATIO > 0.8
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(tmdb_export_ids.c.left_on.is_not(None))).scalar() == 0
        assert conn.execute(sa.select(sa.func.max(tmdb_export_ids.c.last_seen))
                            .where(tmdb_export_ids.c.tmdb_id > 800)).scalar() == D1  # not seen, not gone
    # Another small one is measured against the last trusted export (D1), not against D2.
    assert load_export(engine, D3, records(range(1, 781)), include_adult=False).left_held_back
    whole = load_export(engine, D4, records(range(1, 991)), include_adult=False)
    assert (whole.previous_export, whole.left_held_back, whole.left_ids) == (D1, False, 10)
    with engine.connect() as conn:
        assert left_ids(conn, D4) == list(range(991, 1001))


def test_an_export_that_breaks_half_way_leaves_the_warehouse_as_it_was(engine):
    size = export_ids.BATCH_ROWS + 5000
    load_export(engine, D1, records(range(1, size + 1)), include_adult=False)
    before = table(engine)

    class Truncated(Exception):
        pass

    def breaking():
        yield from records(range(1, size))  # past the first batch: some of it already staged
        raise Truncated("the gzip ended early")

    with pytest.raises(Truncated):
        load_export(engine, D2, breaking(), include_adult=False)
    assert table(engine) == before
    with engine.connect() as conn:
        assert conn.execute(sa.select(tmdb_exports.c.export_date)).scalars().all() == [D1]
    assert load_export(engine, D2, records(range(1, size + 1)), include_adult=False).left_ids == 0


def test_an_older_or_empty_export_is_refused_before_it_changes_anything(engine):
    load_export(engine, D2, records(range(1, 11)), include_adult=False)
    before = table(engine)
    with pytest.raises(ExportOutOfOrder, match=f"{D1}.*older.*{D2}"):
        load_export(engine, D1, records(range(1, 11)), include_adult=False)
    with pytest.raises(EmptyExport, match=f"{D3} lists no movie ids"):
        load_export(engine, D3, records([5], adult=True), include_adult=False)
    assert table(engine) == before


def test_adult_ids_leave_only_when_the_adult_file_was_read(engine):
    both = [*records(range(1, 101)), *records(range(1001, 1011), adult=True)]
    first = load_export(engine, D1, both, include_adult=True)
    assert (first.movie_ids, first.adult_ids, first.ids) == (100, 10, 110)
    movies_only = load_export(engine, D2, records(range(1, 101)), include_adult=False)
    assert (movies_only.adult_ids, movies_only.left_ids) == (None, 0)
    again_both = load_export(engine, D3, [*records(range(1, 101)), *records(range(1001, 1006), adult=True)],
                             include_adult=True)
    assert again_both.left_held_back  # half the adult file is missing: suspicious too
    with engine.connect() as conn:
        assert left_ids(conn, D3) == [] and new_ids(conn, D3, include_adult=True) == []


def test_an_id_back_after_leaving_starts_a_new_stretch_and_counts_as_new(engine):
    load_export(engine, D1, records(range(1, 101)), include_adult=False)
    load_export(engine, D2, records(range(2, 101)), include_adult=False)
    back = load_export(engine, D3, records(range(1, 101)), include_adult=False)
    assert (back.new_ids, back.left_ids) == (1, 0)
    with engine.connect() as conn:
        row = conn.execute(sa.select(tmdb_export_ids).where(tmdb_export_ids.c.tmdb_id == 1)).mappings().one()
        assert new_ids(conn, D3) == [1]
    assert (row["first_seen"], row["last_seen"], row["left_on"]) == (D3, D3, None)


def test_an_id_listed_twice_keeps_its_last_line_and_titles_keep_every_character(engine):
    odd = ["tab\there", "back\\slash", "new\nline", "", "nul\0byte", "ünï©ødé 東京"]
    lines = [record(1, title="first"), *[record(10 + k, title=t) for k, t in enumerate(odd)],
             ExportId(20, False, False, None, None), record(1, title="second", popularity=9.5)]
    result = load_export(engine, D1, lines, include_adult=False)
    assert (result.lines, result.duplicate_ids, result.movie_ids) == (9, 1, 8)
    rows = {row[0]: row for row in table(engine)}
    assert (rows[1][3], rows[1][4]) == (9.5, "second")
    assert [rows[10 + k][4] for k in range(len(odd))] == ["tab\there", "back\\slash", "new\nline", "",
                                                           "nul\0byte" if engine.dialect.name == "sqlite"
                                                           else "nulbyte", "ünï©ødé 東京"]
    assert (rows[20][3], rows[20][4]) == (None, None)
