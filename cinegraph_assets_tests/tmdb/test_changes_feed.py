"""Reading /movie/changes: contiguous windows of at most 14 days, every page, resumable mid-window
within a time budget, halved when too long; unknown ids looked up one failure at a time."""

from datetime import date, timedelta

import pytest

from cinegraph_assets.tmdb.changes import (
    MAX_PAGES_PER_QUERY,
    FeedPosition,
    look_up_years,
    read_changes,
)
from cinegraph_assets.tmdb.client import NotFound, TMDbAuthError, TMDbTransientError


class FakeFeed:
    """A /movie/changes stand-in: `per_day` ids changed each day, 100 per page."""

    def __init__(self, per_day: int = 250, fail_on: date | None = None, fail_page: int = 1):
        self.per_day = per_day
        self.fail_on = fail_on
        self.fail_page = fail_page
        self.calls: list[tuple[date, date, int]] = []

    def ids(self, start: date, end: date) -> list[int]:
        out = []
        day = start
        while day <= end:
            base = (day - date(2000, 1, 1)).days * 100_000
            out += [base + k for k in range(self.per_day)]
            day += timedelta(days=1)
        return out

    def nth_id(self, start: date, k: int) -> int:
        day = start + timedelta(days=k // self.per_day)
        return (day - date(2000, 1, 1)).days * 100_000 + k % self.per_day

    def __call__(self, start: date, end: date, page: int) -> dict:
        self.calls.append((start, end, page))
        assert (end - start).days < 14, "TMDb refuses windows over 14 days"
        assert page <= MAX_PAGES_PER_QUERY, "TMDb refuses pages over 500"
        if self.fail_on is not None and start <= self.fail_on <= end and page >= self.fail_page:
            raise TMDbTransientError("TMDb server error (HTTP 503)", reason="http_503")
        total = ((end - start).days + 1) * self.per_day
        total_pages = max(1, -(-total // 100))
        chunk = [self.nth_id(start, k) for k in range((page - 1) * 100, min(page * 100, total))]
        return {"page": page, "total_pages": total_pages, "total_results": total,
                "results": [{"id": i, "adult": None if i % 7 == 0 else False} for i in chunk]}


def test_every_page_of_every_window_from_the_cursor_to_yesterday_is_read():
    feed = FakeFeed(per_day=250)

    read = read_changes(feed, FeedPosition(date(2026, 10, 1)), up_to=date(2026, 11, 20))

    assert read.position == FeedPosition(date(2026, 11, 20))
    assert read.first_day == date(2026, 10, 2) and not read.stopped_early and read.error is None
    assert set(read.changed) == set(feed.ids(date(2026, 10, 2), date(2026, 11, 20)))
    assert all(read.changed[i] is None for i in read.changed if i % 7 == 0)  # "adult": null kept
    windows = sorted({(start, end) for start, end, _ in feed.calls})
    assert len(windows) == 4 and windows[0][0] == date(2026, 10, 2)  # 50 days in 14-day windows
    for (_, end), (start, _) in zip(windows, windows[1:]):
        assert start == end + timedelta(days=1)


def test_the_budget_is_checked_before_every_page_and_reading_resumes_mid_window():
    feed = FakeFeed(per_day=600)  # 6 pages a day: a 14-day window is 84 pages
    clock = iter(range(0, 100_000))  # one "second" per page
    position, seen, ticks = FeedPosition(date(2026, 10, 31)), {}, 0
    while position.read_through < date(2026, 11, 20):
        read = read_changes(feed, position, date(2026, 11, 20), budget_seconds=10,
                            monotonic=lambda: next(clock))
        assert read.pages <= 12  # the budget, plus the page it was checked before
        for tmdb_id in read.changed:
            seen[tmdb_id] = seen.get(tmdb_id, 0) + 1
        position, ticks = read.position, ticks + 1

    assert ticks > 5
    assert set(seen) == set(feed.ids(date(2026, 11, 1), date(2026, 11, 20)))
    assert max(seen.values()) == 1  # each page read once, across ticks


def test_a_window_with_more_pages_than_tmdb_serves_is_halved():
    feed = FakeFeed(per_day=6_000)  # 60 pages a day: 14 days would need 840 pages

    read = read_changes(feed, FeedPosition(date(2026, 10, 31)), date(2026, 11, 14))

    assert len(read.changed) == 14 * 6_000 and read.position.read_through == date(2026, 11, 14)


def test_a_single_day_over_the_page_limit_is_read_as_far_as_served_and_reported():
    feed = FakeFeed(per_day=60_000)

    read = read_changes(feed, FeedPosition(date(2026, 10, 31)), date(2026, 11, 2))

    assert read.truncated_days == [date(2026, 11, 1), date(2026, 11, 2)]
    assert read.position.read_through == date(2026, 11, 2)  # the feed goes on


def test_a_failing_first_page_raises_so_the_cursor_stays():
    with pytest.raises(TMDbTransientError, match="503"):
        read_changes(FakeFeed(fail_on=date(2026, 11, 2)), FeedPosition(date(2026, 11, 1)),
                     date(2026, 11, 20))


def test_a_failing_later_page_keeps_what_was_read_and_where():
    read = read_changes(FakeFeed(per_day=300, fail_on=date(2026, 11, 2), fail_page=2),
                        FeedPosition(date(2026, 11, 1)), date(2026, 11, 20))

    assert read.pages == 1 and "503" in read.error
    assert read.position == FeedPosition(date(2026, 11, 1), date(2026, 11, 15), 2)


class FakeTMDb:
    def __init__(self, years: dict[int, str], broken: set[int] = frozenset(), deleted=frozenset()):
        self.years, self.broken, self.deleted = years, broken, deleted

    def get(self, path: str):
        tmdb_id = int(path.rsplit("/", 1)[1])
        if tmdb_id in self.broken:
            raise TMDbTransientError("TMDb server error (HTTP 500)", reason="http_500")
        if tmdb_id in self.deleted:
            return NotFound(path=path, status_code=34)
        return {"id": tmdb_id, "release_date": self.years[tmdb_id]}


def test_one_failing_lookup_fails_only_itself():
    tmdb = FakeTMDb({1: "2024-03-01", 2: "", 3: "2025-12-31"}, broken={4}, deleted={5})

    found = look_up_years(tmdb.get, [1, 2, 3, 4, 5])

    assert found.years == {1: 2024, 2: None, 3: 2025, 5: None}
    assert found.failed == {4: "http_500"}


def test_bad_credentials_stop_the_lookups():
    def get(path):
        raise TMDbAuthError("TMDb rejected the request; set TMDB_API_KEY", reason="auth")

    with pytest.raises(TMDbAuthError):
        look_up_years(get, [1, 2])


def test_no_lookup_starts_after_the_budget_and_the_rest_wait():
    clock = iter(range(0, 1000))  # each lookup "takes" a second
    tmdb = FakeTMDb({i: "2024-01-01" for i in range(1, 11)})

    found = look_up_years(tmdb.get, list(range(1, 11)), workers=1, budget_seconds=4,
                          monotonic=lambda: next(clock))

    assert sorted(found.years) == [1, 2, 3, 4] and found.not_started == [5, 6, 7, 8, 9, 10]
