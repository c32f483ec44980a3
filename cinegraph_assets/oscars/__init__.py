"""The oscars room."""
