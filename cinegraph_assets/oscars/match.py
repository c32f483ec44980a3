"""Attach Oscar nominations to movies in the warehouse, and nominees to people in their credits.

A nominated film is matched to a movie:

1. by IMDb id: the nomination's FilmId equals movies.imdb_id (exact; confidence 1.0);
2. else by title and year: the normalized titles (case, punctuation, leading articles, diacritics)
   are compared with rapidfuzz against each movie's title and original title, among movies released
   in film_year-1 .. film_year+1 (festival premieres and late releases). A movie carrying a
   *different* IMDb id is never a candidate: it is known to be another film, and neither is a title
   whose numbers differ (sequels, "Part 1" / "Part 2"). The best candidate is
   taken only when no other movie scores within AMBIGUITY_MARGIN of it; otherwise nothing is guessed;
3. else it stays unmatched, with the reason (UNMATCHED_REASONS).

Plain Python: imports nothing of Dagster and runs no SQL (warehouse/oscars.py loads the inputs).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

from rapidfuzz import fuzz, process

from cinegraph_assets.oscars.source import NominatedFilm, Nominee

MATCH_BY_IMDB_ID = "imdb_id"
MATCH_BY_TITLE = "title"

NO_MOVIE_WITH_TITLE = "no_movie_with_title"  # no movie of that title (and year) in the warehouse yet
AMBIGUOUS = "ambiguous"  # several movies fit about equally well: left for a human
NO_FILM_FOR_CATEGORY = "no_film_for_category"  # SciTech, most Special awards, early assistant directors
UNMATCHED_REASONS = (NO_MOVIE_WITH_TITLE, AMBIGUOUS, NO_FILM_FOR_CATEGORY)

#: Lowest rapidfuzz ratio (0..1) of normalized titles that counts as the same title.
MIN_TITLE_SCORE = 0.90
#: Confidence lost per year between the film year and the movie's release year.
YEAR_PENALTY = 0.02
#: Two candidates whose confidence differs by less than this are ambiguous. It is larger than the
#: year penalty on purpose: the same title released in Y and in Y+1 is two films we cannot tell apart.
AMBIGUITY_MARGIN = 0.05
#: How far (in years) a movie's release year may be from the nomination's film year.
YEAR_WINDOW = 1

#: Classes whose nominees are people credited on the film (linked to TMDb people).
PERSON_CLASSES = ("Acting", "Directing", "Writing")
#: Lowest rapidfuzz token_sort_ratio (0..100) for a nominee name to match a credited name that is
#: not equal after normalization ("Mike Nicholls" / "Mike Nichols"). Only among one movie's credits.
MIN_NAME_SCORE = 90

LINK_BY_NAME = "name"
LINK_BY_FUZZY_NAME = "name_fuzzy"
LINK_BY_IMDB_ID = "imdb_id"

_LEADING_ARTICLES = frozenset({"the", "a", "an", "le", "la", "les", "l", "el", "los", "las", "il", "lo", "der", "das"})
_TRAILING_ARTICLE = re.compile(r",\s*(the|a|an)\s*$", re.IGNORECASE)  # "Noose, The"
_ELISION = re.compile(r"\b([ld])['’](?=\w)", re.IGNORECASE)  # L'Atalante, D'Artagnan
_APOSTROPHES = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[\W_]+")
_NUMBER = re.compile(r"\b\d+\b")
#: Sequel numerals read as numbers ("Part II" = "Part 2"); I, V and X are left alone ("I, Tonya").
_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}


def _fold(text: str) -> str:
    """Lower case, without diacritics, '&' spelled out, punctuation as spaces."""
    if not text.isascii():  # the slow part, and most titles do not need it
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().replace("&", " and ")
    text = _ELISION.sub(r"\1 ", text)
    text = _APOSTROPHES.sub("", text)  # Schindler's -> schindlers, not "schindler s"
    return " ".join(_NON_WORD.sub(" ", text).split())


def normalize_title(title: str | None) -> str:
    """The comparable form of a title: 'Les Misérables' -> 'miserables', 'Noose, The' -> 'noose'."""
    if not title:
        return ""
    words = [_ROMAN.get(w, w) for w in _fold(_TRAILING_ARTICLE.sub("", title.strip())).split()]
    if len(words) > 1 and words[0] in _LEADING_ARTICLES:
        words = words[1:]
    return " ".join(words)


def normalize_name(name: str | None) -> str:
    """The comparable form of a person's name (case, diacritics, punctuation)."""
    return _fold(name) if name else ""


# ---------------------------------------------------------------------------------------------
# Movies
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MovieCandidate:
    """A movie of the warehouse, as far as matching needs it."""

    tmdb_id: int
    imdb_id: str | None
    title: str | None
    original_title: str | None
    release_year: int | None


@dataclass(frozen=True)
class MovieMatch:
    """How one nominated film was (or was not) matched."""

    tmdb_id: int | None
    method: str | None  # MATCH_BY_IMDB_ID | MATCH_BY_TITLE | None
    confidence: float | None
    unmatched_reason: str | None
    candidates: tuple[int, ...] = ()  # the tmdb ids that made it ambiguous

    @property
    def matched(self) -> bool:
        return self.tmdb_id is not None


NO_FILM = MovieMatch(None, None, None, NO_FILM_FOR_CATEGORY)


class MovieMatcher:
    """Matches nominated films against a set of movies (typically those of Y-1..Y+1).

    `movies` are the title candidates; `movies_by_imdb_id` may hold more (an exact IMDb id match is
    trusted whatever the movie's year: Chaplin's Limelight, 1952, was nominated for 1972).
    """

    def __init__(
        self,
        movies: Iterable[MovieCandidate],
        movies_by_imdb_id: Iterable[MovieCandidate] = (),
    ) -> None:
        self._movies = [m for m in movies if m.release_year is not None]
        self._by_imdb: dict[str, list[MovieCandidate]] = {}
        for movie in [*self._movies, *movies_by_imdb_id]:
            if movie.imdb_id:
                found = self._by_imdb.setdefault(movie.imdb_id, [])
                if all(m.tmdb_id != movie.tmdb_id for m in found):
                    found.append(movie)
        # One choice per distinct normalized title or original title of each movie.
        self._choices: list[str] = []
        self._choice_movie: list[int] = []
        for index, movie in enumerate(self._movies):
            names = {normalize_title(movie.title)}
            if movie.original_title and movie.original_title != movie.title:
                names.add(normalize_title(movie.original_title))
            names.discard("")
            for name in sorted(names):
                self._choices.append(name)
                self._choice_movie.append(index)

    def match(self, film: NominatedFilm | None, film_year: int) -> MovieMatch:
        if film is None or not film.title:
            return NO_FILM
        if film.imdb_id and film.imdb_id in self._by_imdb:
            found = self._by_imdb[film.imdb_id]
            # TMDb occasionally holds a duplicate of a film; the one closest to the year wins.
            best = min(
                found,
                key=lambda m: (abs((m.release_year or -10_000) - film_year), m.tmdb_id),
            )
            return MovieMatch(best.tmdb_id, MATCH_BY_IMDB_ID, 1.0, None)
        return self._match_title(film, film_year)

    def _match_title(self, film: NominatedFilm, film_year: int) -> MovieMatch:
        query = normalize_title(film.title)
        if not query:
            return MovieMatch(None, None, None, NO_MOVIE_WITH_TITLE)
        numbers = _NUMBER.findall(query)
        best_by_movie: dict[int, float] = {}
        for choice, score, choice_index in process.extract(
            query, self._choices, scorer=fuzz.ratio, score_cutoff=MIN_TITLE_SCORE * 100, limit=None
        ):
            if _NUMBER.findall(choice) != numbers:
                continue  # "Part 1" is not "Part 2", and "Rocky" is not "Rocky 2"
            movie_index = self._choice_movie[choice_index]
            movie = self._movies[movie_index]
            if film.imdb_id and movie.imdb_id and movie.imdb_id != film.imdb_id:
                continue  # a different film, by its own IMDb id
            distance = abs(movie.release_year - film_year)
            if distance > YEAR_WINDOW:
                continue
            confidence = score / 100 - YEAR_PENALTY * distance
            if confidence > best_by_movie.get(movie_index, -1.0):
                best_by_movie[movie_index] = confidence
        if not best_by_movie:
            return MovieMatch(None, None, None, NO_MOVIE_WITH_TITLE)
        ranked = sorted(best_by_movie.items(), key=lambda item: (-item[1], self._movies[item[0]].tmdb_id))
        best_index, best_confidence = ranked[0]
        close = [self._movies[i].tmdb_id for i, c in ranked if best_confidence - c < AMBIGUITY_MARGIN]
        if len(close) > 1:
            return MovieMatch(None, None, round(best_confidence, 4), AMBIGUOUS, tuple(sorted(close)))
        return MovieMatch(self._movies[best_index].tmdb_id, MATCH_BY_TITLE, round(best_confidence, 4), None)


# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credit:
    """A person credited on a movie (cast or crew)."""

    person_id: int
    name: str | None
    original_name: str | None = None
    kind: str = "cast"  # cast | crew
    department: str | None = None  # crew only: Directing, Writing, ...
    imdb_id: str | None = None  # when the warehouse knows the person's IMDb id


@dataclass(frozen=True)
class PersonLink:
    tmdb_person_id: int | None
    method: str | None  # LINK_BY_IMDB_ID | LINK_BY_NAME | LINK_BY_FUZZY_NAME | None


NOT_LINKED = PersonLink(None, None)


def _preferred(award_class: str, credit: Credit) -> bool:
    """Credits of the kind the category is about are tried first (an actor's cast credit...)."""
    if award_class == "Acting":
        return credit.kind == "cast"
    return credit.kind == "crew" and (credit.department or "") == award_class


def link_nominee(nominee: Nominee, award_class: str, credits: Sequence[Credit]) -> PersonLink:
    """The TMDb person a nominee is among a movie's credits, or NOT_LINKED.

    By IMDb person id when both sides know it; else by normalized name (first among credits of the
    category's kind, then among all); else by a close fuzzy name within this movie's credits.
    A name that fits two different people is not guessed.
    """
    if award_class not in PERSON_CLASSES or not credits:
        return NOT_LINKED
    if nominee.imdb_id:
        by_id = {c.person_id for c in credits if c.imdb_id and c.imdb_id == nominee.imdb_id}
        if len(by_id) == 1:
            return PersonLink(by_id.pop(), LINK_BY_IMDB_ID)
    wanted = normalize_name(nominee.name)
    if not wanted:
        return NOT_LINKED
    preferred = [c for c in credits if _preferred(award_class, c)]
    for pool in (preferred, credits):
        ids = {
            c.person_id for c in pool
            if wanted in (normalize_name(c.name), normalize_name(c.original_name))
        }
        if len(ids) == 1:
            return PersonLink(ids.pop(), LINK_BY_NAME)
        if len(ids) > 1:
            return NOT_LINKED
    for pool in (preferred, credits):
        scores: dict[int, float] = {}
        for c in pool:
            for name in (c.name, c.original_name):
                if name:
                    score = fuzz.token_sort_ratio(wanted, normalize_name(name))
                    scores[c.person_id] = max(scores.get(c.person_id, 0.0), score)
        good = sorted(((s, pid) for pid, s in scores.items() if s >= MIN_NAME_SCORE), reverse=True)
        if len(good) == 1 or (len(good) > 1 and good[0][0] - good[1][0] >= 5):
            return PersonLink(good[0][1], LINK_BY_FUZZY_NAME)
        if good:
            return NOT_LINKED
    return NOT_LINKED
