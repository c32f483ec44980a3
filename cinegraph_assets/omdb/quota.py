"""The OMDb daily quota, kept as a ledger in the warehouse so every run on the instance shares it.

A request is reserved in the ledger (its own short transaction) before it is sent, so two runs at
once can never spend more than OMDB_DAILY_LIMIT between them, retries included. The day is the UTC
day of an injectable clock (tests move it forward together with the sandbox's).

OMDb does not document when its counter resets. When it answers "Request limit reached!" before the
ledger's day is spent (a shared key, or OMDb's day is not the UTC day), every run pauses for
PAUSE_AFTER_LIMIT and then probes again, instead of giving up the rest of the UTC day.

Plain Python: imports nothing of Dagster; the SQL lives in warehouse/ratings.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from sqlalchemy.engine import Engine

from cinegraph_assets.warehouse import ratings as ratings_sql

Clock = Callable[[], datetime]

#: How long "Request limit reached!" stops every run before one request probes the key again.
PAUSE_AFTER_LIMIT = timedelta(hours=1)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class QuotaLedger:
    """Requests per UTC day for one OMDb key, shared through the warehouse."""

    engine: Engine
    daily_limit: int
    clock: Clock = utc_now

    def today(self) -> date:
        return self.clock().astimezone(timezone.utc).date()

    def reserve(self) -> bool:
        """Take one request of today's quota; False when the day is spent or OMDb's limit answer
        paused requests (send nothing then)."""
        with self.engine.begin() as conn:
            return ratings_sql.reserve_omdb_requests(
                conn, self.today(), self.daily_limit, now=self.clock())

    def pause(self) -> datetime:
        """OMDb itself said the limit is reached: no run asks for PAUSE_AFTER_LIMIT; returns when
        the pause ends."""
        until = self.clock() + PAUSE_AFTER_LIMIT
        with self.engine.begin() as conn:
            ratings_sql.pause_omdb_requests(conn, self.today(), self.daily_limit, until)
        return until

    def paused_until(self) -> datetime | None:
        """When the running pause ends, or None when requests may be sent."""
        with self.engine.connect() as conn:
            return ratings_sql.omdb_paused_until(conn, self.clock())

    def used_today(self) -> int:
        with self.engine.connect() as conn:
            return ratings_sql.omdb_requests_used(conn, self.today())

    def remaining_today(self) -> int:
        """Requests a run may still send today: 0 while paused."""
        if self.paused_until() is not None:
            return 0
        return max(0, self.daily_limit - self.used_today())


def backlog_years(engine: Engine, now: datetime, daily_limit: int, refresh_days: int = 30) -> list[tuple[int, int]]:
    """The years worth an omdb_ratings run today: (year, pending), most recent first, as many as
    today's remaining quota can serve (the year that exhausts it included). Empty when the day is
    spent, OMDb's limit answer paused requests, or nothing is pending. For the omdb_backlog sensor.
    """
    with engine.connect() as conn:
        if ratings_sql.omdb_paused_until(conn, now) is not None:
            return []
        remaining = daily_limit - ratings_sql.omdb_requests_used(
            conn, now.astimezone(timezone.utc).date()
        )
        if remaining <= 0:
            return []
        chosen: list[tuple[int, int]] = []
        for year, pending in ratings_sql.pending_years(conn, now, refresh_days):
            chosen.append((year, pending))
            remaining -= pending
            if remaining <= 0:
                break
        return chosen
