"""The row types the warehouse stores, defined by the warehouse.

The service rooms build these and hand them down (tmdb/parse.py turns TMDb JSON into them); the
warehouse never imports a service room to learn what it is given. Plain dataclasses: no SQL here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class DiscoveredMovie:
    """One row of a /discover/movie page, as discovered_movies stores it."""

    tmdb_id: int
    release_date: date | None
    popularity: float | None
    adult: bool | None
    video: bool | None
    title: str | None


@dataclass(frozen=True)
class DiscoveryWindow:
    """One leaf discover query whose results were fully walked (a discovery_windows row)."""

    start: date  # inclusive primary_release_date bounds
    end: date
    extra_filter: str  # "" or e.g. "vote_count.gte=0&vote_count.lte=3" (what split a crowded day)
    tmdb_total: int  # TMDb's total_results for that query
    pages: int


@dataclass
class MovieRows:
    """The rows one details payload becomes: the movies row and each child table's rows.

    `movie` holds the movies columns except fetched_at (the caller knows when it was fetched);
    tmdb_data is the payload itself. Lookup rows (genres, people, keywords) are shared between
    movies and upserted; the others belong to this movie alone and are replaced wholesale.
    """

    movie: dict
    genres: list[dict] = field(default_factory=list)  # {genre_id, name}
    movie_genres: list[dict] = field(default_factory=list)  # {tmdb_id, genre_id, position}
    people: list[dict] = field(default_factory=list)  # one per person of the credits
    cast: list[dict] = field(default_factory=list)
    crew: list[dict] = field(default_factory=list)
    release_dates: list[dict] = field(default_factory=list)
    external_ids: list[dict] = field(default_factory=list)  # zero or one row
    videos: list[dict] = field(default_factory=list)
    keywords: list[dict] = field(default_factory=list)  # {keyword_id, name}
    movie_keywords: list[dict] = field(default_factory=list)  # {tmdb_id, keyword_id}
    watch_providers: list[dict] = field(default_factory=list)
    # The rest of the movie (migration 0008): lookups (shared, upserted), then the movie's own rows.
    companies: list[dict] = field(default_factory=list)
    countries: list[dict] = field(default_factory=list)
    languages: list[dict] = field(default_factory=list)
    collections: list[dict] = field(default_factory=list)
    movie_companies: list[dict] = field(default_factory=list)
    movie_production_countries: list[dict] = field(default_factory=list)
    movie_spoken_languages: list[dict] = field(default_factory=list)
    movie_collections: list[dict] = field(default_factory=list)
    movie_translations: list[dict] = field(default_factory=list)
    movie_alternative_titles: list[dict] = field(default_factory=list)
    movie_recommendations: list[dict] = field(default_factory=list)
    movie_similar: list[dict] = field(default_factory=list)
    movie_image_counts: list[dict] = field(default_factory=list)
    movie_rules: list[dict] = field(default_factory=list)  # {tmdb_id, part, version}: each part's rules

    @property
    def tmdb_id(self) -> int:
        return self.movie["tmdb_id"]

    @property
    def release_year(self) -> int | None:
        return self.movie["release_year"]
