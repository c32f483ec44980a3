"""TMDb v3 endpoints of the sandbox: discover, movie details (+ appends and sub-resources), changes,
configuration and genres.

Sort orders: every sort has the id as its documented, stable tie-breaker, always ascending
(`primary_release_date.desc` is day descending, then id ascending). With popularity churn on, the
popularity of every movie is perturbed afresh for each discover request, as on the live service, so a
popularity-sorted walk over pages skips and repeats while date, title and vote sorts stay stable.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

import numpy as np

from cinegraph_assets.sandbox import responses as r
from cinegraph_assets.sandbox import words
from cinegraph_assets.sandbox.catalog import imdb_number, movie_id_of_imdb, np_unit_hash, to_day, year_bounds
from cinegraph_assets.sandbox.details import APPENDABLE

PAGE_SIZE = 20
MAX_PAGE = 500
CHANGES_PAGE_SIZE = 100
MAX_CHANGES_DAYS = 14
MAX_APPENDS = 20
SORT_FIELDS = ("popularity", "primary_release_date", "release_date", "title", "original_title",
               "vote_count", "vote_average")
SUB_RESOURCES = tuple(name for name in APPENDABLE if name != "releases")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

CONFIGURATION = {
    "images": {
        "base_url": "http://image.tmdb.org/t/p/", "secure_base_url": "https://image.tmdb.org/t/p/",
        "backdrop_sizes": ["w300", "w780", "w1280", "original"],
        "logo_sizes": ["w45", "w92", "w154", "w185", "w300", "w500", "original"],
        "poster_sizes": ["w92", "w154", "w185", "w342", "w500", "w780", "original"],
        "profile_sizes": ["w45", "w185", "h632", "original"],
        "still_sizes": ["w92", "w185", "w300", "original"],
    },
    "change_keys": ["adult", "air_date", "also_known_as", "alternative_titles", "biography", "birthday",
                    "budget", "cast", "certifications", "character_names", "created_by", "crew", "deathday",
                    "episode", "episode_number", "episode_run_time", "freebase_id", "freebase_mid", "general",
                    "genres", "guest_stars", "homepage", "images", "imdb_id", "languages", "name", "network",
                    "origin_country", "original_name", "original_title", "overview", "parts", "place_of_birth",
                    "plot_keywords", "production_code", "production_companies", "production_countries",
                    "releases", "revenue", "runtime", "season", "season_number", "season_regular",
                    "spoken_languages", "status", "tagline", "title", "translations", "tvdb_id", "tvrage_id",
                    "type", "video", "videos"],
}


class BadRequest(Exception):
    def __init__(self, response: r.Response):
        self.response = response


def parse_date(value: str | None) -> date | None:
    if value is None or value == "":
        return None
    if not _DATE.match(value):
        raise BadRequest(r.invalid_date())
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(r.invalid_date()) from None


def parse_page(value: str | None) -> int:
    if value is None:
        return 1
    try:
        page = int(value)
    except ValueError:
        raise BadRequest(r.invalid_page()) from None
    if not 1 <= page <= MAX_PAGE:
        raise BadRequest(r.invalid_page())
    return page


def flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def number(value: str | None) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        return None


class TMDbApi:
    def __init__(self, sandbox):
        self.sb = sandbox
        self.catalog = sandbox.catalog
        self.renderer = sandbox.renderer

    # ------------------------------------------------------------------ discover
    def discover(self, params: dict[str, str]) -> r.Response:
        page = parse_page(params.get("page"))
        lo, hi = self._date_window(params)
        include_adult = flag(params.get("include_adult"))
        include_video = flag(params.get("include_video"))
        languages = tuple(sorted(x for x in re.split(r"[|,]", params.get("with_original_language", "")) if x))
        bounds = tuple(number(params.get(k)) for k in
                       ("vote_count.gte", "vote_count.lte", "vote_average.gte", "vote_average.lte"))
        field, _, direction = params.get("sort_by", "popularity.desc").partition(".")
        if field not in SORT_FIELDS or direction not in ("asc", "desc"):
            field, direction = "popularity", "desc"  # TMDb ignores a sort it does not know
        filters = (lo, hi, include_adult, include_video, languages, bounds)
        churn = float(self.sb.settings.churn)
        cat = self.catalog
        if field == "popularity" and churn > 0:
            with cat.lock:
                epoch = self.sb.next_churn_epoch()
                slots = self._filtered(*filters)
                noise = np_unit_hash(cat.ids[slots], epoch * 7919 + cat.seed)
                effective = cat.popularity[slots] * np.exp(churn * 3.0 * (noise - 0.5))
                order = np.lexsort((cat.ids[slots], effective if direction == "asc" else -effective))
                window = order[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
                page_slots = slots[window]
                shown = {int(s): float(e) for s, e in zip(page_slots, effective[window])}  # churned values
                total = len(order)
        else:
            key = (filters, field, direction)
            ordered = cat.cached_query(key, lambda: self._sorted(filters, field, direction))
            page_slots = ordered[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
            shown = {}
            total = len(ordered)
        rows = cat.rows(page_slots)
        results = [self.renderer.list_item(row, shown.get(int(s))) for s, row in zip(page_slots, rows)]
        return r.json_response(200, {"page": page, "results": results,
                                     "total_pages": math.ceil(total / PAGE_SIZE), "total_results": total})

    def _date_window(self, params: dict[str, str]) -> tuple[int | None, int | None]:
        lo: int | None = None
        hi: int | None = None

        def narrow(new_lo: int | None, new_hi: int | None) -> None:
            nonlocal lo, hi
            if new_lo is not None:
                lo = new_lo if lo is None else max(lo, new_lo)
            if new_hi is not None:
                hi = new_hi if hi is None else min(hi, new_hi)

        for key in ("primary_release_year", "year"):
            raw = params.get(key)
            if raw:
                try:
                    narrow(*year_bounds(int(raw)))
                except ValueError:
                    pass
        for prefix in ("primary_release_date", "release_date"):
            gte, lte = parse_date(params.get(f"{prefix}.gte")), parse_date(params.get(f"{prefix}.lte"))
            narrow(to_day(gte) if gte else None, to_day(lte) if lte else None)
        return lo, hi

    def _filtered(self, lo, hi, include_adult, include_video, languages, bounds) -> np.ndarray:
        """Slots matching the filters, in (release day, id) order. Caller holds the catalog lock."""
        cat = self.catalog
        slots = cat.slots_between(lo, hi)
        keep = ~cat.deleted[slots]
        if not include_adult:
            keep &= ~cat.adult[slots]
        if not include_video:
            keep &= ~cat.video[slots]
        if languages:
            codes = [words.LANGUAGE_CODES.index(x) for x in languages if x in words.LANGUAGE_CODES]
            keep &= np.isin(cat.lang[slots], codes)
        vc_gte, vc_lte, va_gte, va_lte = bounds
        if vc_gte is not None:
            keep &= cat.vote_count[slots] >= vc_gte
        if vc_lte is not None:
            keep &= cat.vote_count[slots] <= vc_lte
        if va_gte is not None:
            keep &= cat.vote_average[slots] >= va_gte
        if va_lte is not None:
            keep &= cat.vote_average[slots] <= va_lte
        return slots[keep]

    def _order(self, slots: np.ndarray, key: np.ndarray, direction: str) -> np.ndarray:
        ids = self.catalog.ids[slots]
        order = np.lexsort((ids, key if direction == "asc" else -key))
        return slots[order]

    def _sorted(self, filters, field: str, direction: str) -> np.ndarray:
        cat = self.catalog
        slots = self._filtered(*filters)
        if field in ("primary_release_date", "release_date"):
            days = cat.day[slots].astype(np.int64)
            return slots if direction == "asc" else self._order(slots, days, "desc")
        if field in ("title", "original_title"):
            rows = cat.rows(slots)
            pick = 0 if field == "title" else 1
            titles = [self.renderer.titles(row["id"], row["lang"], row["title_variant"])[pick].casefold() for row in rows]
            order = sorted(range(len(slots)), key=lambda k: (titles[k], rows[k]["id"]))
            if direction == "desc":
                order = sorted(range(len(slots)), key=lambda k: rows[k]["id"])
                order.sort(key=lambda k: titles[k], reverse=True)
            return slots[np.array(order, dtype=np.int64)] if order else slots
        key = {"popularity": cat.popularity, "vote_count": cat.vote_count, "vote_average": cat.vote_average}[field]
        return self._order(slots, key[slots].astype(np.float64), direction)

    # ------------------------------------------------------------------ movie details
    def movie(self, movie_id_text: str, params: dict[str, str]) -> r.Response:
        appends = [a.strip() for a in params.get("append_to_response", "").split(",") if a.strip()]
        if len(appends) > MAX_APPENDS:
            return r.too_many_appends()
        row = self._live_row(movie_id_text)
        if row is None:
            return r.not_found()
        key = (row["id"], self.catalog.state_version, tuple(appends))
        body = self.sb.body_cache.get(key)
        if body is None:
            body = self.renderer.render(row, appends)
            self.sb.body_cache.put(key, body)
        return r.Response(200, body)

    def movie_part(self, movie_id_text: str, name: str) -> r.Response:
        row = self._live_row(movie_id_text)
        if row is None or name not in SUB_RESOURCES:
            return r.not_found()
        return r.Response(200, self.renderer.part(row, name, with_id=True).encode("utf-8"))

    def _live_row(self, movie_id_text: str) -> dict | None:
        if not movie_id_text.isdigit():
            return None
        return self.catalog.row(int(movie_id_text))

    # ------------------------------------------------------------------ changes
    def changes(self, params: dict[str, str]) -> r.Response:
        cat = self.catalog
        today = cat.today_date
        start = parse_date(params.get("start_date")) or (parse_date(params.get("end_date")) or today) - timedelta(days=1)
        end = parse_date(params.get("end_date")) or today
        if (end - start).days > MAX_CHANGES_DAYS:
            return r.invalid_date_range()
        page = parse_page(params.get("page"))
        items = cat.changed_ids(to_day(start), to_day(end)) if start <= end else []
        chunk = items[(page - 1) * CHANGES_PAGE_SIZE: page * CHANGES_PAGE_SIZE]
        return r.json_response(200, {
            "results": [{"id": movie_id, "adult": adult} for movie_id, adult in chunk],
            "page": page,
            "total_pages": math.ceil(len(items) / CHANGES_PAGE_SIZE),
            "total_results": len(items),
        })

    # ------------------------------------------------------------------ find by IMDb id
    def find(self, external_id: str, params: dict[str, str]) -> r.Response:
        empty = {"movie_results": [], "person_results": [], "tv_results": [], "tv_episode_results": [],
                 "tv_season_results": []}
        if params.get("external_source") != "imdb_id":
            return r.json_response(200, empty)  # other sources hold no movies in the sandbox
        match = re.fullmatch(r"tt(\d{7,8})", external_id)
        if match:
            number = int(match.group(1))
            movie_id = movie_id_of_imdb(number)
            row = self.catalog.row(movie_id)
            if row is not None and row["has_imdb"] and imdb_number(movie_id) == number:
                empty["movie_results"] = [{**self.renderer.list_item(row), "media_type": "movie"}]
        return r.json_response(200, empty)

    # ------------------------------------------------------------------ reference data
    def configuration(self) -> r.Response:
        return r.json_response(200, CONFIGURATION)

    def genres(self) -> r.Response:
        return r.json_response(200, {"genres": [{"id": g, "name": n} for g, n in words.GENRES]})

    # ------------------------------------------------------------------ routing
    def handle(self, path: str, params: dict[str, str]) -> r.Response:
        """`path` is what follows /3 (e.g. /discover/movie). Auth is checked by the caller."""
        try:
            parts = [p for p in path.split("/") if p]
            if parts == ["discover", "movie"]:
                return self.discover(params)
            if parts == ["movie", "changes"]:
                return self.changes(params)
            if parts == ["configuration"]:
                return self.configuration()
            if parts == ["genre", "movie", "list"]:
                return self.genres()
            if len(parts) == 2 and parts[0] == "find":
                return self.find(parts[1], params)
            if len(parts) == 2 and parts[0] == "movie":
                return self.movie(parts[1], params)
            if len(parts) >= 3 and parts[0] == "movie":
                return self.movie_part(parts[1], "/".join(parts[2:]))
            return r.not_found()
        except BadRequest as bad:
            return bad.response


def endpoint_label(path: str) -> str:
    """Group request paths for /_sandbox/stats: /3/movie/550 -> /3/movie/{id}."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[:2] == ["3", "movie"] and parts[2].isdigit():
        return "/" + "/".join(["3", "movie", "{id}"] + parts[3:])
    if parts[:2] == ["p", "exports"]:
        return "/p/exports/{file}"
    if parts[:3] == ["_sandbox", "truth", "years"]:
        return "/_sandbox/truth/years/{year}"
    return "/" + "/".join(parts) + ("/" if path.endswith("/") and parts else "")

