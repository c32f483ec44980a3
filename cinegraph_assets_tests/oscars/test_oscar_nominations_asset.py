"""The oscar_nominations asset, materialized by Dagster on SQLite and PostgreSQL."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from cinegraph_assets.oscars.assets import oscar_nominations
from cinegraph_assets.oscars.checks import best_picture_result, imdb_match_coverage_result, oscar_checks
from cinegraph_assets.oscars.resource import OscarsSourceResource
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets.warehouse.schema import (
    movie_cast, movie_crew, movies, oscar_categories, oscar_ceremonies, oscar_nominations as nominations_table,
    oscar_nominees, people,
)

HEADER = ["Ceremony", "Year", "Class", "CanonicalCategory", "Category", "Film", "FilmId", "Name",
          "Nominees", "NomineeIds", "Winner", "Detail", "Note", "Citation"]

# Ceremony 78 honours the films of 2005; ceremony 77 those of 2004. Rows end early like the real file.
ROWS = [
    ["77", "2004", "Title", "BEST PICTURE", "BEST PICTURE", "Million Dollar Baby", "tt0405159",
     "Clint Eastwood, Albert S. Ruddy and Tom Rosenberg, Producers", "Clint Eastwood|Albert S. Ruddy|Tom Rosenberg",
     "nm0000142|nm0748784|nm0742146", "True"],
    ["78", "2005", "Title", "BEST PICTURE", "BEST PICTURE", "Crash", "tt0375679",
     "Paul Haggis and Cathy Schulman, Producers", "Paul Haggis|Cathy Schulman", "nm0353673|nm0776208", "True"],
    ["78", "2005", "Title", "BEST PICTURE", "BEST PICTURE", "Brokeback Mountain", "tt0388795",
     "Diana Ossana and James Schamus, Producers", "Diana Ossana|James Schamus", "nm0652663|nm0770005"],
    ["78", "2005", "Title", "BEST PICTURE", "BEST PICTURE", "Good Night, and Good Luck.", "tt0433383",
     "Grant Heslov, Producer", "Grant Heslov", "nm0381416", ""],
    ["78", "2005", "Title", "BEST PICTURE", "BEST PICTURE", "Munich", "tt0408306",
     "Kathleen Kennedy, Steven Spielberg and Barry Mendel, Producers", "Kathleen Kennedy|Steven Spielberg|Barry Mendel",
     "nm0005086|nm0000229|nm0578814"],
    ["78", "2005", "Acting", "ACTOR IN A LEADING ROLE", "ACTOR IN A LEADING ROLE", "Capote", "tt0379725",
     "Philip Seymour Hoffman", "Philip Seymour Hoffman", "nm0000450", "True", "Truman Capote"],
    ["78", "2005", "Directing", "DIRECTING", "DIRECTING", "Munich", "tt0408306", "Steven Spielberg",
     "Steven Spielberg", "nm0000229"],
    ["78", "2005", "Title", "INTERNATIONAL FEATURE FILM", "FOREIGN LANGUAGE FILM", "Joyeux Noël", "",
     "France", "", ""],
    ["78", "2005", "Writing", "WRITING (Original Screenplay)", "WRITING (Original Screenplay)",
     "Syriana|Match Point", "tt0365737|tt0416320", "Stephen Gaghan|Woody Allen", "Stephen Gaghan|Woody Allen",
     "nm0300962|?"],
    ["78", "2005", "SciTech", "SCIENTIFIC OR TECHNICAL AWARD (Technical Achievement Award)",
     "SCIENTIFIC OR TECHNICAL AWARD (Technical Achievement Award)", "", "", "Jane Doe", "Jane Doe|ACME Corp",
     "?|?", "True", "", "", 'To Jane Doe and ACME Corp for the "Widget" lens.'],
]

MOVIES = [
    # tmdb_id, imdb_id, title, original_title, release_year
    (1, "tt0375679", "Crash", "Crash", 2004),  # by IMDb id, released the year before
    (2, None, "Brokeback Mountain", "Brokeback Mountain", 2005),  # by title: no imdb id yet
    (3, None, "Good Night and Good Luck", "Good Night and Good Luck", 2006),  # by title, a year later
    (4, "tt0379725", "Capote", "Capote", 2005),
    (5, None, "Joyeux Noel", "Joyeux Noël", 2005),  # two namesakes: ambiguous
    (6, None, "Joyeux Noël", "Joyeux Noël", 2006),
    (7, "tt0416320", "Match Point", "Match Point", 2005),
    (8, "tt0405159", "Million Dollar Baby", "Million Dollar Baby", 2004),
]


def write_source(path, rows=ROWS):
    path.write_text("\t".join(HEADER) + "\n" + "".join("\t".join(r).replace('"', '\\"') + "\n" for r in rows),
                    encoding="utf-8")
    return str(path)


@pytest.fixture
def warehouse(warehouse_url):
    upgrade(warehouse_url)
    engine = get_engine(warehouse_url)
    with engine.begin() as conn:
        conn.execute(movies.insert(), [
            dict(zip(("tmdb_id", "imdb_id", "title", "original_title", "release_year"), m)) for m in MOVIES
        ])
        conn.execute(people.insert(), [
            {"person_id": 400, "name": "Philip Seymour Hoffman"},
            {"person_id": 401, "name": "Catherine Keener"},
            {"person_id": 402, "name": "Woody Allen"},
        ])
        conn.execute(movie_cast.insert(), [
            {"tmdb_id": 4, "credit_id": "c1", "person_id": 400, "cast_order": 0, "character": "Truman Capote"},
            {"tmdb_id": 4, "credit_id": "c2", "person_id": 401, "cast_order": 1, "character": "Nelle"},
        ])
        conn.execute(movie_crew.insert(), [
            {"tmdb_id": 7, "credit_id": "w1", "person_id": 402, "department": "Writing", "job": "Screenplay"},
            {"tmdb_id": 7, "credit_id": "d1", "person_id": 402, "department": "Directing", "job": "Director"},
        ])
    return warehouse_url


def run(url, source, partition_key=None, tags=None, selection=None):
    return dg.materialize(
        [oscar_nominations, *oscar_checks],
        partition_key=partition_key,
        tags=tags,
        selection=selection,
        resources={
            "warehouse": WarehouseResource(database_url=url),
            "oscars_source": OscarsSourceResource(source_url=source),
        },
        raise_on_error=False,
    )


def metadata(result) -> dict:
    [event] = result.get_asset_materialization_events()
    return {key: value.value for key, value in event.materialization.metadata.items()}


def checks(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def stored(url) -> tuple[list[dict], list[dict]]:
    with get_engine(url).connect() as conn:
        noms = [dict(r._mapping) for r in conn.execute(sa.select(nominations_table).order_by(nominations_table.c.id))]
        nominees = [dict(r._mapping) for r in conn.execute(
            sa.select(oscar_nominees).order_by(oscar_nominees.c.nomination_id, oscar_nominees.c.position))]
    return noms, nominees


def by_title(noms: list[dict]) -> dict[str, dict]:
    return {n["film_title"]: n for n in noms if n["film_title"]}


def test_a_year_is_loaded_matched_and_linked(warehouse, tmp_path):
    result = run(warehouse, write_source(tmp_path / "oscars.csv"), partition_key="2005")
    assert result.success
    meta = metadata(result)
    assert {k: meta[k] for k in (
        "nominations", "film_nominations", "matched_by_imdb_id", "matched_by_title", "unmatched_no_movie_with_title",
        "unmatched_ambiguous", "unmatched_no_film_for_category", "winners", "persons_linked",
    )} == {
        "nominations": 9, "film_nominations": 9, "matched_by_imdb_id": 3, "matched_by_title": 2,
        "unmatched_no_movie_with_title": 3, "unmatched_ambiguous": 1, "unmatched_no_film_for_category": 1,
        "winners": 3, "persons_linked": 2,
    }
    assert checks(result) == {
        "oscar_nominations_match_their_imdb_movies": True, "best_picture_nominations_are_matched": True,
    }

    noms, nominees = stored(warehouse)
    assert {n["film_year"] for n in noms} == {2005}  # 2004's Million Dollar Baby belongs to another partition
    films = by_title(noms)
    assert (films["Crash"]["tmdb_id"], films["Crash"]["match_method"], films["Crash"]["winner"]) == (1, "imdb_id", True)
    assert (films["Brokeback Mountain"]["tmdb_id"], films["Brokeback Mountain"]["match_method"]) == (2, "title")
    assert films["Good Night, and Good Luck."]["tmdb_id"] == 3
    assert 0.9 <= films["Good Night, and Good Luck."]["match_confidence"] < 1
    assert (films["Joyeux Noël"]["tmdb_id"], films["Joyeux Noël"]["unmatched_reason"]) == (None, "ambiguous")
    assert (films["Munich"]["tmdb_id"], films["Munich"]["unmatched_reason"]) == (None, "no_movie_with_title")
    assert films["Syriana"]["unmatched_reason"] == "no_movie_with_title"
    assert films["Match Point"]["tmdb_id"] == 7
    assert films["Syriana"]["source_key"] == films["Match Point"]["source_key"]  # one nomination, two films
    [scitech] = [n for n in noms if n["award_class"] == "SciTech"]
    assert scitech["unmatched_reason"] == "no_film_for_category"
    assert scitech["citation"] == 'To Jane Doe and ACME Corp for the "Widget" lens.'
    assert films["Capote"]["detail"] == "Truman Capote"

    by_nomination = {}
    for nominee in nominees:
        by_nomination.setdefault(nominee["nomination_id"], []).append(nominee)
    hoffman = by_nomination[films["Capote"]["id"]][0]
    assert (hoffman["name"], hoffman["imdb_person_id"], hoffman["tmdb_person_id"]) == (
        "Philip Seymour Hoffman", "nm0000450", 400)
    allen = by_nomination[films["Match Point"]["id"]][1]
    assert (allen["name"], allen["imdb_person_id"], allen["tmdb_person_id"]) == ("Woody Allen", None, 402)
    assert [n["imdb_person_id"] for n in by_nomination[scitech["id"]]] == [None, None]
    # Producers of Best Picture are nominees too, but only acting/directing/writing link to credits.
    assert all(n["tmdb_person_id"] is None for n in by_nomination[films["Crash"]["id"]])

    with get_engine(warehouse).connect() as conn:
        assert conn.execute(sa.select(oscar_ceremonies.c.number, oscar_ceremonies.c.year_label)
                            .order_by(oscar_ceremonies.c.number)).all() == [(77, "2004"), (78, "2005")]
        raw = conn.execute(sa.select(oscar_categories.c.raw_names).where(
            oscar_categories.c.canonical_category == "INTERNATIONAL FEATURE FILM")).scalar_one()
        assert raw == ["FOREIGN LANGUAGE FILM"]


def test_materializing_again_changes_nothing(warehouse, tmp_path):
    source = write_source(tmp_path / "oscars.csv")
    assert run(warehouse, source, partition_key="2005").success
    before = stored(warehouse)
    again = run(warehouse, source, partition_key="2005")
    assert again.success
    assert stored(warehouse) == before
    meta = metadata(again)
    assert meta["source_changed"] is False
    assert (meta["rows_inserted"], meta["rows_updated"], meta["rows_deleted"], meta["rows_unchanged"]) == (0, 0, 0, 10)


def test_movies_imported_later_are_matched_by_the_next_materialization(warehouse, tmp_path):
    source = write_source(tmp_path / "oscars.csv")
    assert run(warehouse, source, partition_key="2005").success
    munich_ids = sorted(n["id"] for n in stored(warehouse)[0] if n["film_title"] == "Munich")
    with get_engine(warehouse).begin() as conn:
        conn.execute(movies.insert().values(tmdb_id=9, imdb_id="tt0408306", title="Munich", release_year=2005))
        conn.execute(movies.insert().values(tmdb_id=10, imdb_id="tt0365737", title="Syriana", release_year=2005))

    # The checks notice the films now in the warehouse but not matched (Dagster 1.13 cannot run
    # partitioned checks without their asset, so the checks' functions are called directly)...
    engine = get_engine(warehouse)
    coverage = imdb_match_coverage_result(engine, [2005])
    assert coverage.passed is False
    assert (coverage.metadata["nominations_with_movie_in_warehouse"].value,
            coverage.metadata["matched_to_that_movie"].value) == (6, 3)
    best_picture = best_picture_result(engine, [2005])
    assert best_picture.passed is False and best_picture.metadata["titles"].value == "Munich (tt0408306)"

    # ...and the next materialization matches it, keeping the nomination's id.
    result = run(warehouse, source, partition_key="2005")
    assert metadata(result)["matched_by_imdb_id"] == 6
    munich = [n for n in stored(warehouse)[0] if n["film_title"] == "Munich"]
    assert sorted(n["id"] for n in munich) == munich_ids
    assert {(n["tmdb_id"], n["unmatched_reason"]) for n in munich} == {(9, None)}
    assert all(checks(result).values())


def test_a_row_removed_upstream_is_removed_and_the_others_keep_their_ids(warehouse, tmp_path):
    assert run(warehouse, write_source(tmp_path / "oscars.csv"), partition_key="2005").success
    ids_before = {n["nomination_key"]: n["id"] for n in stored(warehouse)[0]}
    corrected = [r for r in ROWS if r[5] != "Munich"]
    corrected[1] = corrected[1][:10] + [""]  # Crash's win withdrawn: same nomination, new value
    result = run(warehouse, write_source(tmp_path / "oscars.csv", corrected), partition_key="2005")
    assert metadata(result)["source_changed"] is True
    noms = stored(warehouse)[0]
    assert "Munich" not in by_title(noms) and len(noms) == len(ids_before) - 2
    assert (metadata(result)["rows_deleted"], metadata(result)["rows_updated"]) == (2, 1)
    assert by_title(noms)["Crash"]["winner"] is False
    assert all(ids_before[n["nomination_key"]] == n["id"] for n in noms)


def test_a_run_covering_several_years_loads_each(warehouse, tmp_path):
    result = run(warehouse, write_source(tmp_path / "oscars.csv"), tags={
        "dagster/asset_partition_range_start": "2004", "dagster/asset_partition_range_end": "2005",
    })
    assert result.success
    events = result.get_asset_materialization_events()
    assert sorted(e.materialization.partition for e in events) == ["2004", "2005"]
    assert {e.materialization.metadata["nominations"].value for e in events} == {10}  # 1 + 9, the run's total
    noms = stored(warehouse)[0]
    assert sorted({n["film_year"] for n in noms}) == [2004, 2005]
    assert by_title(noms)["Million Dollar Baby"]["tmdb_id"] == 8


def test_a_failing_year_fails_the_run_naming_it_and_keeps_the_other_years(sqlite_warehouse_url, tmp_path, monkeypatch):
    import cinegraph_assets.oscars.assets as oscar_assets

    real_load = oscar_assets.load_film_year

    def load_failing_2004(engine, table, year, log=None):
        if year == 2004:
            raise RuntimeError("disk full")
        return real_load(engine, table, year, log)

    monkeypatch.setattr(oscar_assets, "load_film_year", load_failing_2004)
    upgrade(sqlite_warehouse_url)
    with get_engine(sqlite_warehouse_url).begin() as conn:  # the years are imported
        conn.execute(movies.insert(), [dict(zip(("tmdb_id", "imdb_id", "title", "original_title",
                                                 "release_year"), MOVIES[1]))])
    result = run(sqlite_warehouse_url, write_source(tmp_path / "oscars.csv"), tags={
        "dagster/asset_partition_range_start": "2004", "dagster/asset_partition_range_end": "2005",
    })
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "failed for film year(s) 2004; the other years were written" in failure.event_specific_data.error.message
    assert "disk full" in failure.event_specific_data.error.message
    assert {n["film_year"] for n in stored(sqlite_warehouse_url)[0]} == {2005}
