"""Reading /movie/changes: contiguous windows of at most 14 days, every page, split when too long."""

from datetime import date, timedelta

import pytest

from cinegraph_assets.automation.changes import (
    MAX_PAGES_PER_QUERY,
    ChangesWindowTooLarge,
    read_changes,
    read_window,
    windows,
)


class FakeFeed:
    """A /movie/changes stand-in: `per_day` ids changed each day, 100 per page."""

    def __init__(self, per_day: int = 250, fail_on: date | None = None):
        self.per_day = per_day
        self.fail_on = fail_on
        self.calls: list[tuple[date, date, int]] = []

    def ids(self, start: date, end: date) -> list[int]:
        out = []
        day = start
        while day <= end:
            base = (day - date(2000, 1, 1)).days * 10_000
            out += [base + k for k in range(self.per_day)]
            day += timedelta(days=1)
        return out

    def __call__(self, start: date, end: date, page: int) -> dict:
        self.calls.append((start, end, page))
        if self.fail_on is not None and start <= self.fail_on <= end:
            raise RuntimeError("TMDb server error (HTTP 503)")
        assert (end - start).days < 14, "TMDb refuses windows over 14 days"
        ids = self.ids(start, end)
        total_pages = max(1, -(-len(ids) // 100))
        chunk = ids[(page - 1) * 100: page * 100] if page <= MAX_PAGES_PER_QUERY else []
        return {"page": page, "total_pages": total_pages, "total_results": len(ids),
                "results": [{"id": i, "adult": None if i % 7 == 0 else False} for i in chunk]}


def test_windows_are_contiguous_and_at_most_14_days():
    spans = windows(date(2026, 10, 1), date(2026, 11, 20))

    assert spans[0][0] == date(2026, 10, 1) and spans[-1][1] == date(2026, 11, 20)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start == end + timedelta(days=1)
    assert all((end - start).days + 1 <= 14 for start, end in spans)
    assert len(spans) == 4  # 51 days


def test_every_page_of_a_window_is_read():
    feed = FakeFeed(per_day=250)

    changed, pages = read_window(feed, date(2026, 11, 1), date(2026, 11, 3))

    assert pages == 8  # 750 ids, 100 a page
    assert [c[2] for c in feed.calls] == list(range(1, 9))
    assert set(changed) == set(feed.ids(date(2026, 11, 1), date(2026, 11, 3)))
    assert all(changed[i] is None for i in changed if i % 7 == 0)  # "adult": null is kept as None


def test_a_window_with_more_pages_than_tmdb_serves_is_split():
    feed = FakeFeed(per_day=6_000)  # 60 pages a day: 14 days would need 840 pages

    changed, _ = read_window(feed, date(2026, 11, 1), date(2026, 11, 14))

    assert len(changed) == 14 * 6_000
    assert all(page <= MAX_PAGES_PER_QUERY for _, _, page in feed.calls)


def test_a_single_day_over_the_page_limit_is_reported_not_truncated():
    with pytest.raises(ChangesWindowTooLarge, match="cannot be read completely"):
        read_window(FakeFeed(per_day=60_000), date(2026, 11, 1), date(2026, 11, 1))


def test_read_changes_covers_cursor_to_yesterday_in_windows():
    feed = FakeFeed(per_day=3)

    read = read_changes(feed, read_through=date(2026, 10, 1), up_to=date(2026, 11, 20))

    assert (read.first_day, read.last_day, read.windows) == (date(2026, 10, 2), date(2026, 11, 20), 4)
    assert len(read.changed) == 50 * 3
    assert read.error is None and not read.stopped_early


def test_a_failing_first_window_raises_so_the_cursor_stays():
    with pytest.raises(RuntimeError, match="503"):
        read_changes(FakeFeed(fail_on=date(2026, 11, 2)), date(2026, 11, 1), date(2026, 11, 20))


def test_a_failing_later_window_keeps_the_windows_before_it():
    read = read_changes(FakeFeed(per_day=3, fail_on=date(2026, 11, 20)), date(2026, 10, 1),
                        date(2026, 11, 20))

    assert read.last_day == date(2026, 11, 12)  # the cursor may advance to the last good window
    assert "503" in read.error


def test_the_time_budget_stops_between_windows():
    clock = iter(range(0, 1000, 20))
    read = read_changes(FakeFeed(per_day=1), date(2026, 1, 1), date(2026, 11, 20),
                        budget_seconds=30, monotonic=lambda: next(clock))
    assert read.stopped_early and read.windows == 2 and read.last_day == date(2026, 1, 29)
