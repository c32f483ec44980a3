"""The asset keys, written once: the assets that define them, the jobs that select them, the
sensors that watch them and the run history that reads them all name the same constant."""

from __future__ import annotations

import dagster as dg

TMDB_DISCOVERED_MOVIES = dg.AssetKey("tmdb_discovered_movies")
TMDB_MOVIE_DETAILS = dg.AssetKey("tmdb_movie_details")
MOVIES = dg.AssetKey("movies")
OMDB_RATINGS = dg.AssetKey("omdb_ratings")
OSCAR_NOMINATIONS = dg.AssetKey("oscar_nominations")
CATALOG_PROGRESS = dg.AssetKey("catalog_progress")
#: The whole catalog (unpartitioned): TMDb's daily id export, and the movies no year's discovery returns.
TMDB_CATALOG_IDS = dg.AssetKey("tmdb_catalog_ids")
TMDB_GAP_MOVIES = dg.AssetKey("tmdb_gap_movies")

#: The TMDb chain of a year: discovery, details, the normalized movies.
TMDB_ASSETS = (TMDB_DISCOVERED_MOVIES, TMDB_MOVIE_DETAILS, MOVIES)
#: Assets whose runs write a year's movies: two of these on the same year at once would do the
#: same work twice (the sensors avoid it).
YEAR_WRITING_ASSETS = frozenset(TMDB_ASSETS)
