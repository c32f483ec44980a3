"""TMDb JSON -> plain rows for the warehouse. Plain Python: no Dagster, no SQL.

Every parser is tolerant of what TMDb really sends (the captures in ../shared/data/tmdb): the older
details shape without origin_country, empty release_dates, `adult: null`, appended parts missing.
A payload whose known fields have unexpected types raises MalformedMovie(reason), so the caller
records that one movie as failed with the reason instead of losing the rest of the year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


class MalformedMovie(ValueError):
    """A details payload the warehouse cannot hold; `reason` says which field and why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DiscoveredMovie:
    """One row of a /discover/movie page (re-exported by warehouse.catalog)."""

    tmdb_id: int
    release_date: date | None
    popularity: float | None
    adult: bool | None
    video: bool | None
    title: str | None


@dataclass
class MovieRows:
    """The rows one details payload becomes: the movies row and each child table's rows."""

    movie: dict
    genres: list[dict] = field(default_factory=list)  # genres lookup rows {genre_id, name}
    movie_genres: list[dict] = field(default_factory=list)
    people: list[dict] = field(default_factory=list)  # people lookup rows, one per person
    cast: list[dict] = field(default_factory=list)
    crew: list[dict] = field(default_factory=list)
    release_dates: list[dict] = field(default_factory=list)
    external_ids: list[dict] = field(default_factory=list)  # zero or one row
    videos: list[dict] = field(default_factory=list)
    keywords: list[dict] = field(default_factory=list)  # keywords lookup rows {keyword_id, name}
    movie_keywords: list[dict] = field(default_factory=list)
    watch_providers: list[dict] = field(default_factory=list)


def parse_movie(payload: dict) -> MovieRows:
    """A /movie/{id}?append_to_response=... payload as warehouse rows; MalformedMovie if unusable."""
    raise NotImplementedError


def parse_discover_page(body: dict) -> tuple[list[DiscoveredMovie], int, int]:
    """(movies, total_results, total_pages) of one /discover/movie page."""
    raise NotImplementedError


def parse_changes_page(body: dict) -> tuple[list[tuple[int, bool | None]], int]:
    """([(tmdb_id, adult)], total_pages) of one /movie/changes page (adult may be null)."""
    raise NotImplementedError
