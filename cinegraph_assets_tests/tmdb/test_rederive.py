"""Re-deriving from the stored responses: a new parsing rule reaches every imported movie with
zero TMDb requests, and the rows equal those a fresh import under the new rule writes."""

from __future__ import annotations

import contextlib

import dagster as dg
import sqlalchemy as sa

from cinegraph_assets.tmdb import movie_parts
from cinegraph_assets.tmdb.normalizer import normalize_staged_ids
from cinegraph_assets.tmdb.rederive import rederive_year
from cinegraph_assets.warehouse import schema
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from benchmarks.postgres import throwaway_database
from cinegraph_assets_tests.tmdb.test_assets import ALL, metadata, movie_requests, resources
from cinegraph_assets_tests.support.movies import movie_payload, snapshot, stage

YEAR = 2020


def add_original_title_rule(monkeypatch) -> None:
    """A new derivation rule: the original title becomes an alternative title too (rank -1 last)."""
    parse_parts = movie_parts.parse_movie_parts

    def with_original_title(payload: dict, tmdb_id: int) -> dict:
        parts = parse_parts(payload, tmdb_id)
        titles = parts["movie_alternative_titles"]
        titles.append({"tmdb_id": tmdb_id, "seq": len(titles), "country": None,
                       "title": payload.get("original_title"), "title_type": "original title"})
        return parts

    monkeypatch.setattr(movie_parts, "parse_movie_parts", with_original_title)
    monkeypatch.setattr(movie_parts, "RULES_VERSION", movie_parts.RULES_VERSION + 1)


def without_fetch_times(rows: dict) -> dict:
    """snapshot() rows with movies.fetched_at left out: two imports fetch at different moments."""
    columns = [c.name for c in schema.movies.columns if c.name != "tmdb_data"]
    at = columns.index("fetched_at")
    return {**rows, "movies": [row[:at] + row[at + 1:] for row in rows["movies"]]}


@contextlib.contextmanager
def another_warehouse(url: str, tmp_path):
    if url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    else:
        with throwaway_database() as fresh:
            yield fresh


def import_year(sandbox, url: str, state_dir, selection=None, run_config=None) -> dg.ExecuteInProcessResult:
    result = dg.materialize(ALL, partition_key=str(YEAR), resources=resources(sandbox, url, state_dir),
                            selection=selection, run_config=run_config)
    assert result.success
    return result


def import_a_year(sandbox_factory, url: str, tmp_path, movies: int = 40):
    """A sandbox and a year of it imported into `url`: (sandbox, movies in the year)."""
    sandbox = sandbox_factory(year_size=[f"{YEAR}={movies}"], detail_size="small")
    import_year(sandbox, url, tmp_path)
    with get_engine(url).connect() as conn:
        imported = conn.execute(sa.text("SELECT count(*) FROM movies WHERE release_year = :y"), {"y": YEAR}).scalar()
    assert imported > movies // 2
    return sandbox, imported


def test_a_new_rule_rederives_the_year_without_tmdb_and_equals_a_fresh_import(
        warehouse_url, sandbox_factory, tmp_path, monkeypatch):
    url = warehouse_url
    sandbox, imported = import_a_year(sandbox_factory, url, tmp_path)

    add_original_title_rule(monkeypatch)
    requests_before = movie_requests(sandbox)
    result = import_year(sandbox, url, tmp_path, selection=["movies"])
    assert movie_requests(sandbox) == requests_before  # zero TMDb requests
    assert metadata(result, "movies")["rederived"] == imported
    with get_engine(url).connect() as conn:
        assert conn.execute(sa.text(
            "SELECT count(*) FROM movie_alternative_titles WHERE title_type = 'original title'")).scalar() == imported
        assert conn.execute(sa.text("SELECT DISTINCT rules_version FROM movies")).scalars().all() == [
            movie_parts.RULES_VERSION]

    # Nothing older than the rules is left: the next materialization re-derives nothing...
    assert metadata(import_year(sandbox, url, tmp_path, selection=["movies"]), "movies")["rederived"] == 0
    # ...unless asked to re-derive everything
    everything = {"ops": {"tmdb_details_and_movies": {"config": {"rederive_all": True}}}}
    result = import_year(sandbox, url, tmp_path, selection=["movies"], run_config=everything)
    assert metadata(result, "movies")["rederived"] == imported
    assert movie_requests(sandbox) == requests_before

    # A fresh import under the new rule writes the same rows
    with another_warehouse(url, tmp_path) as fresh_url:
        import_year(sandbox, fresh_url, tmp_path)
        assert without_fetch_times(snapshot(get_engine(url))) == without_fetch_times(snapshot(get_engine(fresh_url)))


def test_undated_movies_are_rederived_without_a_year(warehouse_url, monkeypatch):
    """No year holds an undated movie: rederive_year(None) is how tmdb_gap_movies reaches them."""
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    stage(engine, [movie_payload(5, release_date=""), movie_payload(6)])
    normalize_staged_ids(engine, [5, 6])
    add_original_title_rule(monkeypatch)
    assert rederive_year(engine, None)["rederived"] == 1  # the undated one only
    with engine.connect() as conn:
        versions = dict(conn.execute(sa.text("SELECT tmdb_id, rules_version FROM movies")).all())
        titles = conn.execute(sa.text(
            "SELECT tmdb_id FROM movie_alternative_titles WHERE title_type = 'original title'")).scalars().all()
    assert versions == {5: movie_parts.RULES_VERSION, 6: movie_parts.RULES_VERSION - 1}
    assert titles == [5]
