"""The parser reads every row of the real oscar_data file, quirks included."""

from __future__ import annotations

from collections import Counter

import pytest

from cinegraph_assets.oscars.source import OscarsSourceError, parse_oscars_tsv
from cinegraph_assets_tests.support.shared_data import shared_data

HEADER = "Ceremony\tYear\tClass\tCanonicalCategory\tCategory\tFilm\tFilmId\tName\tNominees\tNomineeIds\tWinner\tDetail\tNote\tCitation"


@pytest.fixture(scope="module")
def real_text() -> str:
    return shared_data("oscars", "oscars.csv").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def real_table(real_text):
    return parse_oscars_tsv(real_text)


@pytest.fixture(scope="module")
def real_lines(real_text) -> list[list[str]]:
    """The file cut by hand, independently of the parser: one list of fields per data line."""
    return [line.split("\t") for line in real_text.split("\n")[1:] if line]


def test_every_row_of_the_real_file_becomes_one_nomination(real_table, real_lines):
    assert len(real_lines) == 12_137
    assert len(real_table.nominations) == 12_137
    assert [c.number for c in real_table.ceremonies] == list(range(1, 99))
    assert len({n.key for n in real_table.nominations}) == 12_137


def test_counts_by_class_and_by_ceremony_agree_with_the_file(real_table, real_lines):
    assert Counter(n.award_class for n in real_table.nominations) == Counter(f[2] for f in real_lines)
    assert Counter(n.ceremony for n in real_table.nominations) == Counter(int(f[0]) for f in real_lines)
    assert Counter(n.canonical_category for n in real_table.nominations) == Counter(f[3] for f in real_lines)


def test_winners_agree_with_the_file_whether_winner_is_empty_or_missing(real_table, real_lines):
    winners = sum(1 for f in real_lines if len(f) > 10 and f[10] == "True")
    assert winners == sum(n.winner for n in real_table.nominations)
    # Rows that stop before the Winner column are losers, not errors.
    short = [n for n, f in zip(real_table.nominations, real_lines) if len(f) <= 10]
    assert short and not any(n.winner for n in short)


def test_season_years_keep_the_first_year_and_the_text(real_table):
    first = real_table.nominations[0]
    assert (first.ceremony, first.year_label, first.film_year) == (1, "1927/28", 1927)
    assert real_table.ceremonies[5].year_label == "1932/33" and real_table.ceremonies[5].year == 1932
    assert real_table.ceremonies[-1].year == 2025


def test_a_row_naming_several_films_gives_one_film_each_with_its_id_and_detail(real_table, real_lines):
    gaynor = next(n for n in real_table.nominations if n.name == "Janet Gaynor")
    assert [(f.title, f.imdb_id, f.detail) for f in gaynor.films] == [
        ("7th Heaven", "tt0018379", "Diane"),
        ("Street Angel", "tt0019429", "Angela"),
        ("Sunrise", "tt0018455", "The Wife"),
    ]
    named = sum(len(f[5].split("|")) for f in real_lines if f[5])
    assert sum(len(n.films) for n in real_table.nominations) == named


def test_unknown_nominee_ids_are_none_and_known_ones_kept(real_table):
    row = next(n for n in real_table.nominations if [m.name for m in n.nominees][:2] == ["Fox Film Corporation", "FRED JACKMAN"])
    assert [m.imdb_id for m in row.nominees] == [None, "nm0413164", None, None]
    assert not row.films  # a SciTech award names no film


def test_film_without_imdb_id_keeps_its_title(real_table):
    livingston = next(n for n in real_table.nominations for f in n.films if f.title == "Letter from Livingston")
    assert livingston.films[0].imdb_id is None


def test_escaped_quotes_are_read_as_quotes(real_table):
    names = {n.name for n in real_table.nominations}
    assert 'Barney "Chick" McGill' in names
    titles = {f.title for n in real_table.nominations for f in n.films}
    assert 'Maggie Simpson in "The Longest Daycare"' in titles


def test_classes_without_a_film(real_table):
    without_film = Counter(n.award_class for n in real_table.nominations if not n.films)
    assert without_film["SciTech"] >= 900 and without_film["Special"] >= 300
    assert without_film["Acting"] == 0


def test_categories_keep_every_wording_under_the_canonical_name(real_table):
    by_name = {c.canonical_category: c for c in real_table.categories}
    picture = by_name["BEST PICTURE"]
    assert picture.award_class == "Title"
    assert len(picture.raw_names) > 1 and "BEST PICTURE" in picture.raw_names


def test_a_row_without_a_year_fails_naming_the_line():
    text = HEADER + "\n1\t1927/28\tActing\tACTOR\tACTOR\tX\ttt0000001\tA\tA\tnm0000001\n2\tsoon\tActing\tACTOR\tACTOR\n"
    with pytest.raises(OscarsSourceError, match="line 3: Year 'soon'"):
        parse_oscars_tsv(text)


def test_a_file_that_is_not_the_table_fails_naming_the_setting():
    with pytest.raises(OscarsSourceError, match="OSCARS_SOURCE_URL"):
        parse_oscars_tsv("<html><body>Not Found</body></html>\n")
