"""The tmdb_changes sensor's cursor: where reading the feed stands, and what waits for a later tick.
Plain Python (no Dagster). Reading the feed itself is the TMDb room's (tmdb/changes.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date

from cinegraph_assets.tmdb.changes import FeedPosition

#: An unknown id whose lookup keeps failing is tried on this many ticks, then left to the daily
#: sync and the backfill.
MAX_LOOKUP_ATTEMPTS = 5
#: Unknown ids waiting for a lookup on a later tick (newest kept). Ticks run every few minutes and
#: each looks up a few hundred, so the backlog drains within the hour even after a week's outage;
#: past this many, the oldest ids (almost all of years never imported) are left to the backfill.
MAX_LOOKUP_BACKLOG = 20_000


@dataclass
class ChangesCursor:
    """The tmdb_changes sensor's cursor."""

    read_through: str | None = None  # last day (YYYY-MM-DD) whose changes were fully read
    window_end: str | None = None  # the window being read when a tick stopped mid-way (its last day)
    next_page: int = 1  # ...and the page the next tick reads first
    pending_years: list[int] = field(default_factory=list)  # changed years waiting for a running run
    lookup_retries: dict[str, int] = field(default_factory=dict)  # unknown id -> failed lookups so far
    lookup_backlog: list[int] = field(default_factory=list)  # unknown ids beyond a tick's lookup cap
    last_read: dict = field(default_factory=dict)  # what the last reading tick saw (for a person)

    @classmethod
    def parse(cls, raw: str | None) -> "ChangesCursor":
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(
            read_through=data.get("read_through"),
            window_end=data.get("window_end"),
            next_page=int(data.get("next_page") or 1),
            pending_years=[int(y) for y in data.get("pending_years", [])],
            lookup_retries={str(k): int(v) for k, v in (data.get("lookup_retries") or {}).items()},
            lookup_backlog=[int(i) for i in data.get("lookup_backlog") or []],
            last_read=dict(data.get("last_read") or {}),
        )

    @property
    def read_through_date(self) -> date | None:
        return date.fromisoformat(self.read_through) if self.read_through else None

    def position(self, read_through: date) -> FeedPosition:
        """Where the next read starts (the window in progress only if it follows `read_through`)."""
        if self.window_end and self.read_through == read_through.isoformat():
            return FeedPosition(read_through, date.fromisoformat(self.window_end), self.next_page)
        return FeedPosition(read_through)

    def at(self, position: FeedPosition) -> None:
        self.read_through = position.read_through.isoformat()
        self.window_end = position.window_end.isoformat() if position.window_end else None
        self.next_page = position.next_page

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)
