"""The OMDb daily quota, kept as a ledger in the warehouse so every run on the instance shares it.

A request is reserved in the ledger (its own short transaction) before it is sent, so two runs at
once can never spend more than OMDB_DAILY_LIMIT between them, retries included. The day is the UTC
day of an injectable clock: OMDb resets its counters at UTC midnight, and tests move the day forward
together with the sandbox's.

Plain Python: imports nothing of Dagster; the SQL lives in warehouse/ratings.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable

from sqlalchemy.engine import Engine

from cinegraph_assets.warehouse import ratings as ratings_sql

Clock = Callable[[], datetime]


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
        """Take one request of today's quota; False when the day is spent (send nothing then)."""
        with self.engine.begin() as conn:
            return ratings_sql.reserve_omdb_requests(conn, self.today(), self.daily_limit)

    def mark_spent(self) -> None:
        """OMDb itself said the limit is reached: no run asks again today."""
        with self.engine.begin() as conn:
            ratings_sql.mark_omdb_day_spent(conn, self.today(), self.daily_limit)

    def used_today(self) -> int:
        with self.engine.connect() as conn:
            return ratings_sql.omdb_requests_used(conn, self.today())

    def remaining_today(self) -> int:
        return max(0, self.daily_limit - self.used_today())


def backlog_years(engine: Engine, now: datetime, daily_limit: int, refresh_days: int = 30) -> list[tuple[int, int]]:
    """The years worth an omdb_ratings run today: (year, pending), most recent first, as many as
    today's remaining quota can serve (the year that exhausts it included). Empty when the day is
    spent or nothing is pending. For the omdb_backlog sensor.
    """
    with engine.connect() as conn:
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
