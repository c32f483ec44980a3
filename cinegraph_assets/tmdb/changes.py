"""Reading TMDb's /movie/changes feed page by page, resumable, and learning the year of unknown ids.
Plain Python (no Dagster).

TMDb lists the ids of movies edited on each day (about 5,700 a day, 100 per page, so about 57 pages;
reading page 1 only loses most of them). A query may span at most 14 days. The feed is read in
contiguous windows from the day after `read_through` (the last day fully read) to yesterday (UTC): a
day is read once it is over, so it is read exactly once and nothing has to remember ids.

Why page by page: a sensor tick has about a minute (Dagster's default), and a 14-day window is up
to 800 pages, two minutes at TMDb's ~150 ms. So the time budget is checked before every page and a
tick may stop in the middle of a window; the position (the window's last day and the next page) is
kept in the cursor and the next tick goes on from there. A past day's list does not change any
more, so its pages can be read across ticks. An outage of any length is caught up over as many
ticks as it takes.

How far back TMDb serves changes is not documented (the change log starts in October 2012, but a
query for an old window is not promised to be complete). We trust CHANGES_RETENTION_DAYS: a cursor
further back than that is not caught up page by page; the affected years are refreshed in full
instead, which costs about as much as reading months of pages and cannot miss anything. The same
fallback covers a single day listing more pages than TMDb serves (MAX_PAGES_PER_QUERY): what is
beyond page 500 cannot be read, so the imported years are refreshed in full rather than stalling.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable

from cinegraph_assets.tmdb.client import NotFound, TMDbAuthError, TMDbClient, TMDbError
from cinegraph_assets.tmdb.parse import parse_results_page

#: TMDb refuses a /movie/changes query over more than 14 days (status_code 20).
MAX_WINDOW_DAYS = 14
#: The oldest day (before yesterday) we trust TMDb to still list completely. Further back: full refresh.
CHANGES_RETENTION_DAYS = 90
#: TMDb serves no page beyond 500 (status_code 22); a window that needs more is halved until it
#: fits, and a single day that still needs more is read as far as served (see the module).
MAX_PAGES_PER_QUERY = 500
#: Reading per sensor tick: no new page is started after this many seconds (the daemon gives a tick
#: 60 s, and the unknown-id lookups follow); the next tick continues from the cursor's position.
TICK_BUDGET_SECONDS = 25.0
#: Unknown ids looked up at once (the client is thread-safe and shares the instance's rate limit).
LOOKUP_WORKERS = 8
#: Lookups per tick: none is started after this many seconds (with the reading's budget, a tick
#: stays well inside Dagster's 60 s); the ones not started wait for the next tick.
LOOKUP_BUDGET_SECONDS = 20.0

FetchPage = Callable[[date, date, int], dict]
NOT_STARTED = "not_started"


@dataclass
class FeedPosition:
    """Where reading stands: every day through `read_through` is read; when `window_end` is set, the
    window read_through+1..window_end is read up to (not including) `next_page`."""

    read_through: date
    window_end: date | None = None
    next_page: int = 1


@dataclass
class ChangesRead:
    """What one tick read and where it stopped."""

    position: FeedPosition
    first_day: date | None = None  # first day of the first window touched
    changed: dict[int, bool | None] = field(default_factory=dict)  # id -> adult flag (None: unknown)
    pages: int = 0
    stopped_early: bool = False  # the time budget ran out before `up_to`
    error: str | None = None  # why the next page could not be read (what was read before counts)
    truncated_days: list[date] = field(default_factory=list)  # days listing more than TMDb serves


def parse_changes_page(body: dict) -> tuple[list[tuple[int, bool | None]], int]:
    """([(tmdb_id, adult)], total_pages) of one /movie/changes page (adult may be null)."""
    results, _total, total_pages = parse_results_page(body, "changes")
    changes = []
    for item in results:
        tmdb_id = item.get("id")
        if type(tmdb_id) is not int or tmdb_id <= 0:
            continue
        adult = item.get("adult")
        changes.append((tmdb_id, adult if type(adult) is bool else None))
    return changes, total_pages


def changes_page_fetcher(client: TMDbClient) -> FetchPage:
    """A FetchPage reading /movie/changes through `client` (its retries and the shared rate limit).
    The feed always exists, so a 404 is an error like an outage, not an empty page."""

    def fetch_page(start: date, end: date, page: int) -> dict:
        body = client.get("/movie/changes", {"start_date": start.isoformat(),
                                             "end_date": end.isoformat(), "page": page})
        if isinstance(body, NotFound):
            raise TMDbError("TMDb answered 404 for /movie/changes")
        return body

    return fetch_page


def read_changes(
    fetch_page: FetchPage,
    position: FeedPosition,
    up_to: date,
    budget_seconds: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> ChangesRead:
    """Read pages from `position` towards `up_to` (inclusive) until done or the budget is spent.

    The budget is checked before every page once a page was read, so a tick costs at most the
    budget plus one page. When the very first page fails the exception propagates (nothing was
    read; the caller keeps its cursor); a later failure is returned in `error` with the pages read
    before it, whose ids count and whose position is kept.
    """
    budget = TICK_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    started = monotonic()
    read_through, window_end, page = position.read_through, position.window_end, position.next_page
    result = ChangesRead(position=position)
    while read_through < up_to:
        start = read_through + timedelta(days=1)
        if window_end is None:
            window_end, page = min(up_to, start + timedelta(days=MAX_WINDOW_DAYS - 1)), 1
        if result.pages and monotonic() - started > budget:
            result.stopped_early = True
            break
        try:
            items, total_pages = parse_changes_page(fetch_page(start, window_end, page))
        except TMDbAuthError:
            raise
        except Exception as exc:
            if not result.pages:
                raise
            result.error = f"{start}..{window_end} page {page}: {exc}"
            break
        result.pages += 1
        result.first_day = result.first_day or start
        if page == 1 and total_pages > MAX_PAGES_PER_QUERY and window_end > start:
            # Too many pages for one query: read the first half of the window first.
            window_end = start + timedelta(days=(window_end - start).days // 2)
            continue
        if page == 1 and total_pages > MAX_PAGES_PER_QUERY:
            result.truncated_days.append(start)
        result.changed.update(items)
        if page >= min(total_pages, MAX_PAGES_PER_QUERY):
            read_through, window_end, page = window_end, None, 1
        else:
            page += 1
    result.position = FeedPosition(read_through, window_end, page if window_end else 1)
    return result


def year_of_details(body: dict) -> int | None:
    """The release year of a /movie/{id} response, None when it has no (valid) release date."""
    raw = body.get("release_date") if isinstance(body, dict) else None
    if not isinstance(raw, str) or len(raw) < 4:
        return None
    try:
        return date.fromisoformat(raw[:10]).year
    except ValueError:
        return None


@dataclass
class Lookups:
    """Years learned for unknown ids: id -> year (None: deleted or undated), ids that failed, and
    ids not looked up because the time budget ran out."""

    years: dict[int, int | None] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    not_started: list[int] = field(default_factory=list)


def look_up_years(get: Callable[[str], object], ids: list[int], workers: int = LOOKUP_WORKERS,
                  budget_seconds: float | None = None,
                  monotonic: Callable[[], float] = time.monotonic) -> Lookups:
    """The release year of each id from a plain /movie/{id} (no appended parts), a few at once.

    A movie TMDb does not have (code 34) has no year. One id that keeps failing (an HTTP 500 after
    the retries) fails only itself: it is returned in `failed` for the caller to try again later,
    and the others' years still count. No lookup starts once `budget_seconds` have passed (default
    LOOKUP_BUDGET_SECONDS); those ids are returned in `not_started`. Bad credentials raise.
    """
    deadline = monotonic() + (LOOKUP_BUDGET_SECONDS if budget_seconds is None else budget_seconds)

    def year_of(tmdb_id: int) -> tuple[int, int | None, str | None]:
        if monotonic() > deadline:
            return tmdb_id, None, NOT_STARTED
        try:
            body = get(f"/movie/{tmdb_id}")
        except TMDbAuthError:
            raise
        except TMDbError as exc:
            return tmdb_id, None, exc.reason
        return tmdb_id, (None if isinstance(body, NotFound) else year_of_details(body)), None

    out = Lookups()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for tmdb_id, year, failure in pool.map(year_of, ids):
            if failure is None:
                out.years[tmdb_id] = year
            elif failure == NOT_STARTED:
                out.not_started.append(tmdb_id)
            else:
                out.failed[tmdb_id] = failure
    return out
