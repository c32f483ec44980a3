"""Idempotent writes on both dialects: re-running replaces, never duplicates."""

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets.warehouse.schema import movies, tmdb_details_staging
from cinegraph_assets.warehouse.bulk_write import copy_text, replace_rows, temp_table_for, upsert


def _movie(title: str, vote_count: int, fetched_at: datetime) -> dict:
    return {
        "tmdb_id": 550, "imdb_id": "tt0137523", "title": title, "original_title": "Fight Club",
        "release_date": date(1999, 10, 15), "release_year": 1999, "runtime": 139,
        "budget": 63_000_000, "revenue": 100_853_753, "popularity": 61.4,
        "vote_average": 8.4, "vote_count": vote_count, "status": "Released", "adult": False,
        "original_language": "en", "overview": "A ticking-time-bomb insomniac...", "tagline": None,
        "tmdb_data": {"id": 550, "title": title, "credits": {"cast": [{"name": "Édouard"}]}},
        "fetched_at": fetched_at, "deleted_at": None,
    }


def test_upserting_the_same_movie_twice_keeps_one_row_with_the_newer_values(warehouse_url):
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    first = datetime(2026, 1, 1, tzinfo=timezone.utc)
    second = datetime(2026, 2, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        upsert(conn, movies, [_movie("Fight Club", 100, first)], key=["tmdb_id"])
    with engine.begin() as conn:
        upsert(conn, movies, [_movie("Fight Club (Director's Cut)", 200, second)], key=["tmdb_id"])
    with engine.connect() as conn:
        rows = conn.execute(sa.select(movies)).mappings().all()
    assert len(rows) == 1
    row = rows[0]
    assert row["title"] == "Fight Club (Director's Cut)"
    assert row["vote_count"] == 200
    assert row["tmdb_data"]["credits"]["cast"][0]["name"] == "Édouard"
    assert row["fetched_at"].replace(tzinfo=timezone.utc) == second


def test_upsert_writes_large_batches_in_one_call(warehouse_url):
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows = [{**_movie(f"Movie {i}", i, now), "tmdb_id": i, "tmdb_data": None} for i in range(1, 3001)]
    with engine.begin() as conn:
        assert upsert(conn, movies, rows, key=["tmdb_id"]) == 3000
        assert upsert(conn, movies, rows, key=["tmdb_id"]) == 3000
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(movies)).scalar_one() == 3000


def test_replace_rows_swaps_a_set_without_duplicates(warehouse_url):
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    year_rows = [{**_movie(f"M{i}", i, now), "tmdb_id": i} for i in (1, 2, 3)]
    for _ in range(2):
        with engine.begin() as conn:
            replace_rows(conn, movies, movies.c.release_year == 1999, year_rows)
    with engine.connect() as conn:
        ids = conn.execute(sa.select(movies.c.tmdb_id).order_by(movies.c.tmdb_id)).scalars().all()
    assert ids == [1, 2, 3]


COPY_TEXT_VALUES = [
    "plain", "back\\slash", "\\N", "\\.", "two\\\\back", "tab\there", "new\nline", "carriage\rreturn",
    "\r\n", "'single' \"double\"", "Édouard ☃ 😀 中文", "", " leading and trailing ", "ends with \\",
]


@pytest.mark.postgres
def test_copy_text_round_trips_every_character_its_format_escapes(postgres_warehouse_url):
    engine = get_engine(postgres_warehouse_url)
    rows = [(i, value, i * 1000) for i, value in enumerate(COPY_TEXT_VALUES)]
    rows += [(len(rows), None, None), (len(rows) + 1, "\\N", -7)]  # NULL and the text "\N" stay apart
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TEMP TABLE copied (id int, body text, n bigint)")
        copy_text(conn, "copied", ["id", "body", "n"], rows)
        copy_text(conn, "copied", ["id", "body", "n"], [])  # nothing to send is no statement
        back = [tuple(r) for r in conn.exec_driver_sql("SELECT id, body, n FROM copied ORDER BY id")]
    assert back == rows


@pytest.mark.postgres
def test_copy_text_refusals_are_sqlalchemy_errors_that_leave_a_savepoint_usable(postgres_warehouse_url):
    engine = get_engine(postgres_warehouse_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TEMP TABLE copied (id int, body jsonb)")
        with pytest.raises(sa.exc.DataError):
            with conn.begin_nested():
                copy_text(conn, "copied", ["id", "body"], [(1, '{"a": 1}'), (2, '{"a": ')])
        copy_text(conn, "copied", ["id", "body"], [(3, '{"a": "\\\\ \\t"}')])
        assert conn.exec_driver_sql("SELECT id, body->>'a' FROM copied").all() == [(3, "\\ \t")]


@pytest.mark.postgres
def test_temp_tables_take_the_tables_lz4_compression(postgres_warehouse_url):
    """A response compressed with LZ4 in the temp table moves into the table as it is."""
    upgrade(postgres_warehouse_url)
    engine = get_engine(postgres_warehouse_url)
    with engine.begin() as conn:
        temp = temp_table_for(conn, tmdb_details_staging)
        compression = conn.exec_driver_sql(
            "SELECT attcompression FROM pg_attribute "
            f"WHERE attrelid = '{temp.name}'::regclass AND attname = 'payload'").scalar_one()
    assert compression == "l"
