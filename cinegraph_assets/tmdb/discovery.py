"""Complete discovery of one release year through TMDb's /discover/movie, despite its 10,000 cap.

/discover/movie serves at most 500 pages of 20 (10,000 results) per query, while a recent year holds
about 38,000 movies. So the year is cut into queries small enough to be walked to the end:

1. Date windows. A query over [start, end] (inclusive primary_release_date bounds) whose
   total_results is over the cap is cut into equal date windows, about ceil(total / 7,000) of them,
   and each is probed again (recursively) until every window is under the cap.
2. A single day still over the cap (TMDb has placeholder dates such as January 1st holding more
   movies than the cap) is cut by vote_count ranges (vote_count.gte / vote_count.lte):
   [0, 1], [2, inf) -> [2, 5], [6, inf) -> ... and bounded ranges are halved, until each range is
   under the cap. The ranges partition 0..inf, so together they cover the day exactly.
3. A single day with a single vote count still over the cap is cut by original language
   (with_original_language, the languages of /configuration/languages); TMDb has no "every other
   language" filter, so such a query's totals are compared and a shortfall shows up as coverage
   below 100% instead of passing silently.

Every leaf query is walked page by page sorted by primary_release_date.asc (ties broken by id),
never by popularity: popularity changes while we walk, so a popularity-ordered walk skips some
movies and repeats others. Ids are deduplicated anyway, and TMDb's own total_results is kept for each
leaf so coverage (found / TMDb's total) can be checked.

Plain Python (no Dagster): pages run concurrently on a thread pool, under the client's rate limit.
"""

from __future__ import annotations

import logging
import math
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable

from cinegraph_assets.tmdb.client import NotFound, TMDbClient, TMDbRequestError
from cinegraph_assets.tmdb.parse import parse_discover_page
from cinegraph_assets.warehouse.rows import DiscoveredMovie, DiscoveryWindow

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
MAX_PAGE = 500
RESULT_CAP = PAGE_SIZE * MAX_PAGE  # 10,000
#: Aim windows well below the cap, so a window that grows while we walk it still fits.
TARGET_PER_WINDOW = 7_000
#: Stable order: release date, then id (TMDb and the sandbox break ties by id). Never popularity.
SORT_BY = "primary_release_date.asc"


@dataclass(frozen=True)
class DiscoverQuery:
    """One /discover/movie query: a date window, optionally narrowed by a second/third filter."""

    start: date
    end: date
    vote_min: int | None = None  # vote_count.gte
    vote_max: int | None = None  # vote_count.lte (None: no upper bound)
    language: str | None = None  # with_original_language

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def extra_filter(self) -> str:
        """The non-date filters, as stored in discovery_windows ("" for a plain date window)."""
        parts = []
        if self.vote_min is not None:
            parts.append(f"vote_count.gte={self.vote_min}")
        if self.vote_max is not None:
            parts.append(f"vote_count.lte={self.vote_max}")
        if self.language is not None:
            parts.append(f"with_original_language={self.language}")
        return "&".join(parts)

    def params(self, include_adult: bool, page: int) -> dict[str, str | int]:
        params: dict[str, str | int] = {
            "primary_release_date.gte": self.start.isoformat(),
            "primary_release_date.lte": self.end.isoformat(),
            "sort_by": SORT_BY,
            "include_adult": "true" if include_adult else "false",
            "page": page,
        }
        if self.vote_min is not None:
            params["vote_count.gte"] = self.vote_min
        if self.vote_max is not None:
            params["vote_count.lte"] = self.vote_max
        if self.language is not None:
            params["with_original_language"] = self.language
        return params

    def split(self, total: int, languages: Callable[[], list[str]]) -> list["DiscoverQuery"]:
        """Smaller queries that together cover exactly this one (empty: cannot split further)."""
        if self.days > 1:
            pieces = min(self.days, max(2, math.ceil(total / TARGET_PER_WINDOW)))
            bounds = [self.start + timedelta(days=round(i * self.days / pieces)) for i in range(pieces + 1)]
            return [DiscoverQuery(bounds[i], bounds[i + 1] - timedelta(days=1))
                    for i in range(pieces) if bounds[i + 1] > bounds[i]]
        if self.language is None and (self.vote_min is None or self.vote_max is None
                                      or self.vote_max > self.vote_min):
            low = self.vote_min or 0
            if self.vote_max is None:
                # Unbounded: peel off a bounded range that doubles as counts grow.
                cut = max(low + 1, 2 * low + 1)
                return [DiscoverQuery(self.start, self.end, low, cut),
                        DiscoverQuery(self.start, self.end, cut + 1, None)]
            middle = (low + self.vote_max) // 2
            return [DiscoverQuery(self.start, self.end, low, middle),
                    DiscoverQuery(self.start, self.end, middle + 1, self.vote_max)]
        if self.language is None:
            return [DiscoverQuery(self.start, self.end, self.vote_min, self.vote_max, code)
                    for code in languages()]
        return []


@dataclass
class DiscoveryResult:
    """Everything one discovery of a year found."""

    year: int
    windows: list[DiscoveryWindow]
    movies: list[DiscoveredMovie]
    #: leaf queries TMDb reported over the cap that no filter could split (coverage < 100%)
    uncovered: list[DiscoverQuery] = field(default_factory=list)
    #: (query, TMDb's total, results found) for split queries whose parts did not add up
    shortfalls: list[tuple[DiscoverQuery, int, int]] = field(default_factory=list)
    pages: int = 0
    duplicates: int = 0

    @property
    def discovered(self) -> int:
        return len(self.movies)

    @property
    def tmdb_total(self) -> int:
        return sum(window.tmdb_total for window in self.windows)

    @property
    def coverage_pct(self) -> float:
        total = self.tmdb_total
        return 100.0 if total == 0 else round(100.0 * min(self.discovered, total) / total, 3)


class _Leaf:
    """A query under the cap, being walked page by page."""

    def __init__(self, query: DiscoverQuery, total: int, total_pages: int):
        self.query = query
        self.total = total
        self.total_pages = min(total_pages, MAX_PAGE)
        self.found: dict[int, DiscoveredMovie] = {}


def discover_year(
    client: TMDbClient,
    year: int,
    *,
    include_adult: bool = False,
    max_workers: int = 8,
    progress: Callable[[str], None] | None = None,
) -> DiscoveryResult:
    """Every movie whose primary release date falls in `year`, with TMDb's totals per leaf query."""
    log = progress or logger.info
    languages_cache: list[str] = []
    languages_lock = threading.Lock()

    def languages() -> list[str]:
        with languages_lock:
            if not languages_cache:
                body = client.get("/configuration/languages")
                codes = body if isinstance(body, list) else []
                languages_cache.extend(sorted({item["iso_639_1"] for item in (codes or [])
                                               if isinstance(item, dict) and item.get("iso_639_1")}))
            return list(languages_cache)

    def fetch(query: DiscoverQuery, page: int) -> tuple[list[DiscoveredMovie], int, int]:
        body = client.get("/discover/movie", query.params(include_adult, page))
        if isinstance(body, NotFound):
            raise TMDbRequestError(f"TMDb answered 404 to /discover/movie ({query.extra_filter})",
                                   status=404, reason="http_404")
        return parse_discover_page(body)

    result = DiscoveryResult(year=year, windows=[], movies=[])
    leaves: list[_Leaf] = []
    seen: dict[int, DiscoveredMovie] = {}
    # parent query -> (its total, its children); to report parts that do not add up.
    splits: list[tuple[DiscoverQuery, int, list[DiscoverQuery]]] = []
    probed_totals: dict[DiscoverQuery, int] = {}

    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="tmdb-discover") as pool:
        pending: dict[Future, tuple[str, object, int]] = {}

        def probe(query: DiscoverQuery) -> None:
            pending[pool.submit(fetch, query, 1)] = ("probe", query, 1)

        probe(DiscoverQuery(date(year, 1, 1), date(year, 12, 31)))
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                kind, subject, page = pending.pop(future)
                movies, total, total_pages = future.result()  # errors propagate: discovery is all or nothing
                result.pages += 1
                if kind == "probe":
                    query = subject  # type: ignore[assignment]
                    probed_totals[query] = total
                    if total > RESULT_CAP:
                        children = query.split(total, languages)
                        if children:
                            splits.append((query, total, children))
                            for child in children:
                                probe(child)
                            continue
                        log(f"discovery {year}: {query.start}..{query.end} {query.extra_filter} still "
                            f"holds {total} movies after every split; walking the first {RESULT_CAP}")
                        result.uncovered.append(query)
                    leaf = _Leaf(query, total, total_pages)
                    leaves.append(leaf)
                    for movie in movies:
                        leaf.found.setdefault(movie.tmdb_id, movie)
                    for next_page in range(2, leaf.total_pages + 1):
                        pending[pool.submit(fetch, query, next_page)] = ("page", leaf, next_page)
                else:
                    leaf = subject  # type: ignore[assignment]
                    for movie in movies:
                        leaf.found.setdefault(movie.tmdb_id, movie)

    for leaf in sorted(leaves, key=lambda l: (l.query.start, l.query.vote_min or 0, l.query.language or "")):
        result.windows.append(DiscoveryWindow(
            start=leaf.query.start, end=leaf.query.end, extra_filter=leaf.query.extra_filter,
            tmdb_total=leaf.total, pages=leaf.total_pages))
        for tmdb_id, movie in leaf.found.items():
            if tmdb_id in seen:
                result.duplicates += 1
            else:
                seen[tmdb_id] = movie
    # Language splits cannot be proven complete: compare the parts with the parent's total.
    for parent, total, children in splits:
        if children and children[0].language is not None:
            parts = sum(probed_totals.get(child, 0) for child in children)
            if parts < total:
                result.shortfalls.append((parent, total, parts))
                # Kept as a window of its own (0 pages) so TMDb's full total, and therefore the
                # coverage shortfall, survives in discovery_windows.
                result.windows.append(DiscoveryWindow(
                    start=parent.start, end=parent.end,
                    extra_filter=(parent.extra_filter + "&" if parent.extra_filter else "")
                    + "not_covered_by_language_split", tmdb_total=total - parts, pages=0))
                log(f"discovery {year}: {parent.start} {parent.extra_filter}: the language split "
                    f"reaches {parts} of TMDb's {total} movies")
    result.movies = sorted(seen.values(), key=lambda m: m.tmdb_id)
    return result
