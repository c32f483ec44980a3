"""Per-part rules versions: changing one part's rules re-derives only that part's tables from the
stored responses (zero TMDb requests, every other row of the movie untouched), and the rows equal
a fresh import's; changing the core rules still re-derives whole movies."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from cinegraph_assets.tmdb import movie_parts
from cinegraph_assets.warehouse import schema
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets_tests.tmdb.test_assets import metadata, movie_requests
from cinegraph_assets_tests.tmdb.test_rederive import (
    YEAR, another_warehouse, import_a_year, import_year, without_fetch_times)
from cinegraph_assets_tests.support.movies import snapshot

SENTINEL = "sentinel"


def add_original_title_part_rule(monkeypatch) -> None:
    """A new rule of one part: the original title becomes an alternative title too. It reads one
    more field of the payload, which the part declares, and bumps the part's version only."""
    part = movie_parts.PARTS["alternative_titles"]

    def with_original_title(payload: dict, tmdb_id: int, rows: dict) -> None:
        part.parse(payload, tmdb_id, rows)
        titles = rows["movie_alternative_titles"]
        titles.append({"tmdb_id": tmdb_id, "seq": len(titles), "country": None,
                       "title": payload.get("original_title"), "title_type": "original title"})

    monkeypatch.setitem(movie_parts.PARTS, "alternative_titles", dataclasses.replace(
        part, version=part.version + 1, fields=(*part.fields, "original_title"), parse=with_original_title))


def plant_sentinels(url: str) -> None:
    """A row no rule derives, in a core table (credits) and in another part's table: a path that
    rebuilds those tables drops it."""
    with get_engine(url).begin() as conn:
        tmdb_id = conn.execute(sa.text("SELECT min(tmdb_id) FROM movies WHERE release_year = :y"),
                               {"y": YEAR}).scalar()
        conn.execute(sa.text("INSERT INTO movie_crew (tmdb_id, credit_id, person_id, department, job) "
                             "VALUES (:i, :s, 1, :s, :s)"), {"i": tmdb_id, "s": SENTINEL})
        conn.execute(sa.text("INSERT INTO movie_image_counts (tmdb_id, kind, image_count) VALUES (:i, :s, 7)"),
                     {"i": tmdb_id, "s": SENTINEL})


def sentinels(url: str) -> dict[str, int]:
    with get_engine(url).connect() as conn:
        return {table: conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {column} = :s"),
                                    {"s": SENTINEL}).scalar()
                for table, column in (("movie_crew", "credit_id"), ("movie_image_counts", "kind"))}


def without_sentinels(rows: dict) -> dict:
    return {name: [row for row in table if SENTINEL not in row] for name, table in rows.items()}


def test_a_new_part_rule_rebuilds_only_that_part_without_tmdb_and_equals_a_fresh_import(
        warehouse_url, sandbox_factory, tmp_path, monkeypatch):
    url = warehouse_url
    sandbox, imported = import_a_year(sandbox_factory, url, tmp_path)
    plant_sentinels(url)

    add_original_title_part_rule(monkeypatch)
    requests_before = movie_requests(sandbox)
    result = import_year(sandbox, url, tmp_path, selection=["movies"])
    assert movie_requests(sandbox) == requests_before  # zero TMDb requests
    counts = metadata(result, "movies")
    assert (counts["rederived"], counts["rederived/alternative_titles"]) == (imported, imported)
    assert not [key for key in counts if key.startswith("rederived/") and key != "rederived/alternative_titles"]
    assert sentinels(url) == {"movie_crew": 1, "movie_image_counts": 1}  # credits, other parts untouched
    with get_engine(url).connect() as conn:
        assert conn.execute(sa.text(
            "SELECT count(*) FROM movie_alternative_titles WHERE title_type = 'original title'")).scalar() == imported
        assert conn.execute(sa.text(
            "SELECT DISTINCT version FROM movie_rules WHERE part = 'alternative_titles'")).scalars().all() == [
            movie_parts.PARTS["alternative_titles"].version]

    # Nothing older than the rules is left: the next materialization re-derives nothing
    assert metadata(import_year(sandbox, url, tmp_path, selection=["movies"]), "movies")["rederived"] == 0
    assert movie_requests(sandbox) == requests_before

    # A fresh import under the new rule writes the same rows (movie_rules included)
    with another_warehouse(url, tmp_path) as fresh_url:
        import_year(sandbox, fresh_url, tmp_path)
        assert (without_sentinels(without_fetch_times(snapshot(get_engine(url))))
                == without_fetch_times(snapshot(get_engine(fresh_url))))


def test_a_new_core_rule_still_rederives_whole_movies(warehouse_url, sandbox_factory, tmp_path, monkeypatch):
    url = warehouse_url
    sandbox, _ = import_a_year(sandbox_factory, url, tmp_path, movies=12)
    plant_sentinels(url)
    monkeypatch.setattr(movie_parts, "RULES_VERSION", movie_parts.RULES_VERSION + 1)
    requests_before = movie_requests(sandbox)
    counts = metadata(import_year(sandbox, url, tmp_path, selection=["movies"]), "movies")
    assert movie_requests(sandbox) == requests_before
    assert counts["rederived"] > 0
    assert not [key for key in counts if key.startswith("rederived/")]  # whole movies, no part on top
    assert sentinels(url) == {"movie_crew": 0, "movie_image_counts": 0}  # every table rebuilt


def test_a_stored_part_the_new_rules_refuse_keeps_its_rows_and_version(warehouse_url, monkeypatch):
    """One movie's stored alternative titles are not an object: that movie keeps its rows and its
    part's old version (counted as refused); the others are re-derived."""
    from cinegraph_assets.tmdb.normalizer import normalize_staged_ids
    from cinegraph_assets.tmdb.rederive import rederive_year
    from cinegraph_assets.warehouse.migrate import upgrade
    from cinegraph_assets_tests.support.movies import movie_payload, stage

    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    good, bad = movie_payload(5), movie_payload(6)
    good["alternative_titles"] = bad["alternative_titles"] = {"titles": [{"iso_3166_1": "FR", "title": "Le film"}]}
    stage(engine, [good, bad])
    normalize_staged_ids(engine, [5, 6])
    with engine.begin() as conn:  # what a later rule finds unreadable, as if TMDb had sent it
        conn.execute(sa.update(schema.movies).where(schema.movies.c.tmdb_id == 6).values(
            tmdb_data={**bad, "alternative_titles": "not an object"}))
    add_original_title_part_rule(monkeypatch)
    counts = rederive_year(engine, 2024)
    assert (counts["rederived"], counts["rederived/alternative_titles"], counts["rederive_failed"]) == (1, 1, 1)
    with engine.connect() as conn:
        titles = conn.execute(sa.text("SELECT tmdb_id, title FROM movie_alternative_titles ORDER BY tmdb_id, seq")).all()
        versions = dict(conn.execute(sa.text(
            "SELECT tmdb_id, version FROM movie_rules WHERE part = 'alternative_titles'")).all())
    assert titles == [(5, "Le film"), (5, "Movie 5"), (6, "Le film")]
    assert versions == {5: movie_parts.PARTS["alternative_titles"].version,
                        6: movie_parts.PARTS["alternative_titles"].version - 1}
