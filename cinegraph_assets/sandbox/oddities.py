"""Deliberately odd TMDb details for chosen movie ids: a body of several megabytes, or known fields
holding values of the wrong type. Real TMDb sends both now and then; a client must fail only that
movie, with the reason, and keep the rest of the year.

Steered at runtime (never by default):

    POST /_sandbox/oddities {"oversized": [603, 604], "oversized_bytes": 5242880, "mistyped": [605]}
    GET  /_sandbox/oddities            -> the current choice
    POST /_sandbox/oddities {}         -> back to normal answers

Two more answer with an error instead of the movie: `broken` ids answer HTTP 500 (TMDb's code 11)
every time, as a movie whose details TMDb cannot build does; `transient_404` maps an id to how many
of its next requests get a CDN's 404 (HTML, no TMDb code 34) before it answers normally again:

    POST /_sandbox/oddities {"broken": [607], "transient_404": {"608": 3}}

An oversized answer is the movie's real body with extra cast members (distinct credit ids, so it is
valid data, only far too much of it); a mistyped one has a string for `genres`, a number for `title`,
a word for `runtime` and an object for `credits.cast`.
"""

from __future__ import annotations

import json
import threading

from cinegraph_assets.sandbox import responses as r

DEFAULT_OVERSIZED_BYTES = 5 * 1024 * 1024
_MOVIE_PATH_PARTS = 3  # /3/movie/{id}


class Oddities:
    """Which ids answer oddly, and how their bodies are rewritten."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.oversized: set[int] = set()
        self.mistyped: set[int] = set()
        self.oversized_bytes = DEFAULT_OVERSIZED_BYTES
        self.broken: set[int] = set()
        self.transient_404: dict[int, int] = {}

    def configure(self, values: dict) -> dict:
        """Replace the choice with `values` (keys oversized, mistyped, oversized_bytes, broken,
        transient_404)."""
        unknown = sorted(set(values) - {"oversized", "mistyped", "oversized_bytes", "broken", "transient_404"})
        if unknown:
            raise ValueError(f"unknown oddity setting(s): {', '.join(unknown)}")
        oversized = {int(i) for i in values.get("oversized", [])}
        mistyped = {int(i) for i in values.get("mistyped", [])}
        size = int(values.get("oversized_bytes", DEFAULT_OVERSIZED_BYTES))
        if size <= 0:
            raise ValueError("oversized_bytes must be greater than 0")
        broken = {int(i) for i in values.get("broken", [])}
        transient = {int(i): int(n) for i, n in dict(values.get("transient_404", {})).items()}
        with self._lock:
            self.oversized, self.mistyped, self.oversized_bytes = oversized, mistyped, size
            self.broken, self.transient_404 = broken, transient
        return self.as_dict()

    def as_dict(self) -> dict:
        with self._lock:
            return {"oversized": sorted(self.oversized), "mistyped": sorted(self.mistyped),
                    "oversized_bytes": self.oversized_bytes, "broken": sorted(self.broken),
                    "transient_404": {str(i): n for i, n in sorted(self.transient_404.items())}}

    def answer(self, path: str):
        """The error a chosen id answers instead of its movie (details and sub-resources), or None."""
        parts = [p for p in path.split("/") if p]
        if len(parts) < _MOVIE_PATH_PARTS or parts[:2] != ["3", "movie"] or not parts[2].isdigit():
            return None
        movie_id = int(parts[2])
        with self._lock:
            if movie_id in self.broken:
                return r.internal_error()
            left = self.transient_404.get(movie_id, 0)
            if left <= 0:
                return None
            self.transient_404[movie_id] = left - 1
        return r.cdn_not_found()

    def movie_id(self, path: str) -> int | None:
        """The id of a /3/movie/{id} details request, else None (sub-resources are left alone)."""
        parts = [p for p in path.split("/") if p]
        if len(parts) == _MOVIE_PATH_PARTS and parts[:2] == ["3", "movie"] and parts[2].isdigit():
            return int(parts[2])
        return None

    def rewrite(self, path: str, status: int, body: bytes) -> bytes:
        """The body to send for a details answer: odd for the chosen ids, else unchanged."""
        movie_id = self.movie_id(path)
        if movie_id is None or status != 200:
            return body
        with self._lock:
            oversized = movie_id in self.oversized
            mistyped = movie_id in self.mistyped
            size = self.oversized_bytes
        if not (oversized or mistyped):
            return body
        movie = json.loads(body)
        if mistyped:
            movie = mistype(movie)
        if oversized:
            return inflate(movie, size)
        return json.dumps(movie, separators=(",", ":")).encode("utf-8")


def mistype(movie: dict) -> dict:
    """Known fields with values of the wrong type."""
    movie = dict(movie)
    movie["genres"] = "Drama, Comedy"
    movie["title"] = 12345
    movie["runtime"] = "about two hours"
    movie["credits"] = {"cast": {"name": "not a list"}, "crew": "nobody"}
    return movie


def inflate(movie: dict, size: int) -> bytes:
    """The movie's JSON grown past `size` bytes by extra (distinct, well-formed) cast members."""
    movie = dict(movie)
    credits = dict(movie.get("credits") or {})
    cast = list(credits.get("cast") or [])
    base = len(json.dumps(movie, separators=(",", ":")))
    member = {"adult": False, "gender": 0, "id": 0, "known_for_department": "Acting",
              "name": "Extra " + "x" * 120, "original_name": "Extra", "popularity": 0.1,
              "profile_path": None, "cast_id": 0, "character": "Crowd " + "y" * 60,
              "credit_id": "", "order": 0}
    per_member = len(json.dumps(member, separators=(",", ":"))) + 16
    for n in range(size // per_member + 2 - base // per_member):
        cast.append({**member, "id": 90_000_000 + n, "cast_id": 10_000 + n,
                     "credit_id": f"oddity{n:019d}", "order": len(cast)})
    credits["cast"] = cast
    movie["credits"] = credits
    return json.dumps(movie, separators=(",", ":")).encode("utf-8")
