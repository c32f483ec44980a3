"""The omdb room."""
