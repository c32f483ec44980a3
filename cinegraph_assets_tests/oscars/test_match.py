"""Matching a nominated film to a movie, and a nominee to a credited person (plain Python)."""

from __future__ import annotations

import pytest

from cinegraph_assets.oscars.match import (
    AMBIGUOUS,
    MATCH_BY_IMDB_ID,
    MATCH_BY_TITLE,
    NO_FILM_FOR_CATEGORY,
    NO_MOVIE_WITH_TITLE,
    Credit,
    MovieCandidate,
    MovieMatcher,
    link_nominee,
    normalize_title,
)
from cinegraph_assets.oscars.source import NominatedFilm, Nominee


def film(title: str, imdb_id: str | None = None) -> NominatedFilm:
    return NominatedFilm(position=0, title=title, imdb_id=imdb_id, detail=None)


def movie(tmdb_id: int, title: str, year: int, imdb_id: str | None = None, original: str | None = None):
    return MovieCandidate(tmdb_id, imdb_id, title, original or title, year)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Les Misérables", "Les Miserables"),
        ("The Noose", "Noose, The"),
        ("Amélie", "AMELIE"),
        ("Crouching Tiger, Hidden Dragon", "Crouching Tiger Hidden Dragon"),
        ("Schindler's List", "Schindler’s List"),
        ("L'Atalante", "Atalante"),
        ("Romeo & Juliet", "Romeo and Juliet"),
        ("The Godfather: Part II", "The Godfather Part 2"),
    ],
)
def test_titles_that_differ_only_in_form_normalize_alike(a, b):
    assert normalize_title(a) == normalize_title(b)


def test_different_titles_stay_different():
    assert normalize_title("Her") != normalize_title("Hero")
    assert normalize_title("A Star Is Born") == "star is born"


def test_imdb_id_wins_over_a_better_looking_title():
    matcher = MovieMatcher([movie(1, "Sunrise", 1927, "tt0018455"), movie(2, "Sunrise", 1927)])
    result = matcher.match(film("Sunrise: A Song of Two Humans", "tt0018455"), 1927)
    assert (result.tmdb_id, result.method, result.confidence) == (1, MATCH_BY_IMDB_ID, 1.0)


def test_imdb_id_matches_a_movie_released_decades_earlier():
    limelight = movie(10, "Limelight", 1952, "tt0044837")
    matcher = MovieMatcher([], movies_by_imdb_id=[limelight])
    assert matcher.match(film("Limelight", "tt0044837"), 1972).tmdb_id == 10


def test_title_fallback_on_a_movie_without_imdb_id_one_year_later():
    matcher = MovieMatcher([movie(3, "Les Misérables", 2013), movie(4, "Gravity", 2013)])
    result = matcher.match(film("Les Miserables", "tt1707386"), 2012)
    assert (result.tmdb_id, result.method) == (3, MATCH_BY_TITLE)
    assert 0.9 <= result.confidence < 1.0  # a year away costs a little confidence


def test_title_fallback_uses_the_original_title():
    matcher = MovieMatcher([movie(5, "The Lives of Others", 2006, original="Das Leben der Anderen")])
    assert matcher.match(film("Das Leben der Anderen"), 2006).tmdb_id == 5


def test_a_movie_two_years_away_is_not_a_candidate():
    matcher = MovieMatcher([movie(6, "Wings", 1929)])
    result = matcher.match(film("Wings"), 1927)
    assert (result.tmdb_id, result.unmatched_reason) == (None, NO_MOVIE_WITH_TITLE)


def test_a_movie_with_another_imdb_id_is_another_film():
    matcher = MovieMatcher([movie(7, "7th Heaven", 1927, "tt9999999")])
    assert matcher.match(film("7th Heaven", "tt0018379"), 1927).unmatched_reason == NO_MOVIE_WITH_TITLE


def test_two_movies_of_the_same_title_are_not_guessed():
    matcher = MovieMatcher([movie(8, "Crash", 2005), movie(9, "Crash", 2004)])
    result = matcher.match(film("Crash"), 2005)
    assert (result.tmdb_id, result.unmatched_reason, result.candidates) == (None, AMBIGUOUS, (8, 9))


def test_a_clearly_better_title_is_not_ambiguous():
    # The runner-up is similar enough to be a candidate (score ~0.92) but clearly behind.
    matcher = MovieMatcher([movie(11, "Brokeback Mountain", 2005), movie(12, "Brokeback Mountains 2", 2005)])
    result = matcher.match(film("Brokeback Mountain"), 2005)
    assert (result.tmdb_id, result.confidence) == (11, 1.0)


def test_a_category_without_film():
    assert MovieMatcher([]).match(None, 1950).unmatched_reason == NO_FILM_FOR_CATEGORY


CREDITS = [
    Credit(100, "Emil Jannings", kind="cast"),
    Credit(101, "Victor Fleming", kind="crew", department="Directing"),
    Credit(102, "Gabriel García Márquez", kind="crew", department="Writing"),
    Credit(103, "Mike Nicholls", kind="cast"),
    Credit(104, "John Smith", kind="cast"),
    Credit(105, "John Smith", kind="crew", department="Sound"),
]


def test_a_nominee_is_linked_by_name_among_the_movies_credits():
    assert link_nominee(Nominee(0, "Emil Jannings", "nm0417837"), "Acting", CREDITS).tmdb_person_id == 100
    assert link_nominee(Nominee(0, "Victor Fleming", None), "Directing", CREDITS).tmdb_person_id == 101
    assert link_nominee(Nominee(0, "Gabriel Garcia Marquez", None), "Writing", CREDITS).tmdb_person_id == 102


def test_a_close_spelling_is_linked_as_fuzzy():
    link = link_nominee(Nominee(0, "Mike Nichols", None), "Acting", CREDITS)
    assert (link.tmdb_person_id, link.method) == (103, "name_fuzzy")


def test_the_credit_of_the_categorys_kind_is_preferred_then_two_namesakes_are_not_guessed():
    assert link_nominee(Nominee(0, "John Smith", None), "Acting", CREDITS).tmdb_person_id == 104
    assert link_nominee(Nominee(0, "John Smith", None), "Writing", CREDITS).tmdb_person_id is None


def test_an_imdb_person_id_known_on_both_sides_wins():
    credits = [Credit(200, "Steve McQueen", kind="crew", department="Directing", imdb_id="nm2588606"),
               Credit(201, "Steve McQueen", kind="crew", department="Directing", imdb_id="nm0000537")]
    assert link_nominee(Nominee(0, "Steve McQueen", "nm2588606"), "Directing", credits).tmdb_person_id == 200


def test_people_outside_acting_directing_writing_are_not_linked():
    assert link_nominee(Nominee(0, "Victor Fleming", None), "Production", CREDITS).tmdb_person_id is None


def test_a_sequel_number_makes_another_film():
    matcher = MovieMatcher([
        movie(20, "Harry Potter and the Deathly Hallows: Part 1", 2010),
        movie(21, "Harry Potter and the Deathly Hallows: Part 2", 2011),
    ])
    assert matcher.match(film("Harry Potter and the Deathly Hallows Part 1"), 2010).tmdb_id == 20
    assert MovieMatcher([movie(22, "Rocky 2", 1976)]).match(film("Rocky"), 1976).tmdb_id is None


def test_a_sequel_numeral_makes_another_film():
    matcher = MovieMatcher([movie(30, "The Godfather Part III", 1990), movie(31, "The Godfather Part II", 1990)])
    assert matcher.match(film("The Godfather: Part III"), 1990).tmdb_id == 30
