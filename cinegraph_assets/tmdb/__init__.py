"""The tmdb room."""
