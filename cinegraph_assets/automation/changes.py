"""Reading TMDb's /movie/changes feed completely. Plain Python (no Dagster).

TMDb lists the ids of movies edited on each day (about 5,700 a day, 100 per page, so about 57 pages;
reading page 1 only loses most of them). A query may span at most 14 days. The feed is read in
contiguous windows from the day after the cursor (the last day fully read) to yesterday (UTC): a day
is read once it is over, so it is read exactly once and the cursor never has to remember ids.

How far back TMDb serves changes is not documented (the change log starts in October 2012, but a
query for an old window is not promised to be complete). We trust CHANGES_RETENTION_DAYS: a cursor
further back than that is not caught up page by page; the affected years are refreshed in full
instead, which costs about as much as reading months of pages and cannot miss anything. The
sandbox keeps every day, so the fallback is exercised by setting the cursor back on purpose.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Callable

from cinegraph_assets.tmdb.parse import parse_changes_page

#: TMDb refuses a /movie/changes query over more than 14 days (status_code 20).
MAX_WINDOW_DAYS = 14
#: The oldest day (before yesterday) we trust TMDb to still list completely. Further back: full refresh.
CHANGES_RETENTION_DAYS = 90
#: Pages beyond this are not trusted to be served (discover stops at 500); a window that needs more
#: is split in halves until each half fits.
MAX_PAGES_PER_QUERY = 500
#: Work per sensor tick: stop starting new windows after this many seconds (the daemon gives a tick
#: a minute, and the unknown-id lookups follow); the next tick continues from the cursor.
TICK_BUDGET_SECONDS = 25.0

FetchPage = Callable[[date, date, int], dict]


class ChangesWindowTooLarge(RuntimeError):
    """A single day lists more pages than TMDb serves: its changes cannot be read completely."""


@dataclass
class ChangesCursor:
    """The tmdb_changes sensor's cursor."""

    read_through: str | None = None  # last day (YYYY-MM-DD) whose changes were fully read
    pending_years: list[int] = field(default_factory=list)  # changed years waiting for a running run
    last_read: dict = field(default_factory=dict)  # what the last reading tick saw (for a person)

    @classmethod
    def parse(cls, raw: str | None) -> "ChangesCursor":
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(
            read_through=data.get("read_through"),
            pending_years=[int(y) for y in data.get("pending_years", [])],
            last_read=dict(data.get("last_read") or {}),
        )

    @property
    def read_through_date(self) -> date | None:
        return date.fromisoformat(self.read_through) if self.read_through else None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def windows(first_day: date, last_day: date, max_days: int = MAX_WINDOW_DAYS) -> list[tuple[date, date]]:
    """Contiguous inclusive windows of at most `max_days` days covering first_day..last_day."""
    out = []
    start = first_day
    while start <= last_day:
        end = min(last_day, start + timedelta(days=max_days - 1))
        out.append((start, end))
        start = end + timedelta(days=1)
    return out


def read_window(fetch_page: FetchPage, start: date, end: date) -> tuple[dict[int, bool | None], int]:
    """Every changed id of start..end (inclusive), reading every page. Returns ({id: adult}, pages).

    A window TMDb lists on more than MAX_PAGES_PER_QUERY pages is split in halves and each half read
    on its own, so nothing beyond the last servable page is lost.
    """
    first = fetch_page(start, end, 1)
    items, total_pages = parse_changes_page(first)
    if total_pages > MAX_PAGES_PER_QUERY:
        if start == end:
            raise ChangesWindowTooLarge(
                f"TMDb lists {total_pages} pages of changes for {start}, more than the "
                f"{MAX_PAGES_PER_QUERY} it serves; the day cannot be read completely"
            )
        middle = start + timedelta(days=(end - start).days // 2)
        left, left_pages = read_window(fetch_page, start, middle)
        right, right_pages = read_window(fetch_page, middle + timedelta(days=1), end)
        left.update(right)
        return left, 1 + left_pages + right_pages
    changed: dict[int, bool | None] = dict(items)
    for page in range(2, total_pages + 1):
        page_items, _ = parse_changes_page(fetch_page(start, end, page))
        changed.update(page_items)
    return changed, total_pages


@dataclass
class ChangesRead:
    """What one tick read: the days covered, the ids, the pages, and where it stopped."""

    first_day: date | None = None
    last_day: date | None = None  # the new read_through (None: nothing read)
    changed: dict[int, bool | None] = field(default_factory=dict)
    pages: int = 0
    windows: int = 0
    stopped_early: bool = False  # the time budget ran out before `up_to`
    error: str | None = None  # why a later window could not be read (the earlier ones count)


def read_changes(
    fetch_page: FetchPage,
    read_through: date,
    up_to: date,
    budget_seconds: float = TICK_BUDGET_SECONDS,
    monotonic: Callable[[], float] = time.monotonic,
) -> ChangesRead:
    """Read the windows after `read_through` up to `up_to`, window by window, within the budget.

    Only complete windows count. When the first window fails the exception propagates (nothing was
    read; the caller's cursor stays). When a later one fails, the windows before it are returned
    with `error` set, so their changes are acted on and the next tick starts at the failed window.
    """
    started = monotonic()
    result = ChangesRead()
    for start, end in windows(read_through + timedelta(days=1), up_to):
        if result.windows and monotonic() - started > budget_seconds:
            result.stopped_early = True
            break
        try:
            changed, pages = read_window(fetch_page, start, end)
        except Exception as exc:
            if not result.windows:
                raise
            result.error = f"{start}..{end}: {exc}"
            break
        result.changed.update(changed)
        result.pages += pages
        result.windows += 1
        result.first_day = result.first_day or start
        result.last_day = end
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
