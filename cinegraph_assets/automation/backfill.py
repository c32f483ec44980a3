"""Which never-imported years the catalog backfill starts next. Plain Python (no Dagster).

The order is newest first, from the current year back to 1874: recent years are the ones people
look for, and they are the largest, so the ETA shrinks fastest that way. A year whose last attempt
failed goes to the back of the queue (still newest first among those), so one broken year cannot
block the rest of the catalog; it is tried again once the others are in, or the next day if it is
the only one left.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date


@dataclass
class BackfillCursor:
    """What the sensor shows in its cursor: the UTC day, what it started that day, what is next."""

    day: str | None = None  # the UTC day `requested_today` refers to (YYYY-MM-DD)
    requested_today: list[int] = field(default_factory=list)
    next_year: int | None = None  # the year the next request will start
    years_left: int | None = None  # years not imported yet (including running ones)
    retry_later: list[int] = field(default_factory=list)  # years whose last attempt failed

    @classmethod
    def parse(cls, raw: str | None) -> "BackfillCursor":
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
            return cls(
                day=data.get("day"),
                requested_today=[int(y) for y in data.get("requested_today", [])],
                next_year=data.get("next_year"),
                years_left=data.get("years_left"),
                retry_later=[int(y) for y in data.get("retry_later", [])],
            )
        except (ValueError, TypeError, AttributeError):
            # A cursor edited by hand into nonsense: start the day's count afresh rather than fail.
            return cls()

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class BackfillPlan:
    years: list[int]  # to request now, newest first
    cursor: BackfillCursor
    skip_reason: str | None  # why nothing was requested (None when `years` is not empty)


def backfill_queue(first_year: int, last_year: int, imported: set[int], failed: set[int]) -> list[int]:
    """Years not imported, newest first; years whose last attempt failed after the others."""
    missing = [y for y in range(last_year, first_year - 1, -1) if y not in imported]
    return [y for y in missing if y not in failed] + [y for y in missing if y in failed]


def plan_backfill(
    today: date,
    first_year: int,
    last_year: int,
    imported: set[int],
    running: dict[int, str],
    failed: set[int],
    cursor: BackfillCursor,
    years_per_day: int,
    in_flight: int = 0,
    max_in_flight: int | None = None,
) -> BackfillPlan:
    """Choose the years to start now.

    imported: years with a successful `movies` materialization; running: year -> id of a queued or
    running run writing that year (never start a second one); failed: years whose last finished
    run failed; years_per_day: CATALOG_BACKFILL_YEARS_PER_DAY; in_flight: backfill runs queued or
    running now, at most max_in_flight at once (so a large allowance imports years one after
    another instead of queueing a hundred runs in front of the daily sync).
    """
    day = today.isoformat()
    requested_today = list(cursor.requested_today) if cursor.day == day else []
    queue = backfill_queue(first_year, last_year, imported, failed)
    retry_later = sorted((set(queue) & failed), reverse=True)
    new_cursor = BackfillCursor(
        day=day, requested_today=requested_today, years_left=len(queue), retry_later=retry_later
    )
    if not queue:
        new_cursor.next_year = None
        return BackfillPlan([], new_cursor, (
            f"Every year from {first_year} to {last_year} has been imported: the backfill is done. "
            "The daily sync and the changes feed keep them fresh."
        ))
    # Years started today whose run has not finished yet stay out of the queue for today either
    # way; a year started today that failed waits for tomorrow (at the back of the queue).
    candidates = [y for y in queue if y not in running and y not in requested_today]
    budget = years_per_day - len(requested_today)
    slots = budget if max_in_flight is None else min(budget, max_in_flight - in_flight)
    chosen = candidates[: max(0, slots)]
    new_cursor.requested_today = requested_today + chosen
    rest = [y for y in candidates if y not in chosen]
    new_cursor.next_year = rest[0] if rest else None
    if chosen:
        return BackfillPlan(chosen, new_cursor, None)

    if budget <= 0:
        started = ", ".join(str(y) for y in requested_today)
        nxt = f"; next is {candidates[0]}" if candidates else ""
        reason = (
            f"Already started {len(requested_today)} year(s) today ({day} UTC: {started}), the "
            f"daily allowance CATALOG_BACKFILL_YEARS_PER_DAY={years_per_day}{nxt}, tomorrow. "
            f"{len(queue)} year(s) left to import."
        )
    elif max_in_flight is not None and in_flight >= max_in_flight:
        reason = (
            f"{in_flight} backfill run(s) are queued or running (at most {max_in_flight} at once); "
            f"{candidates[0] if candidates else 'the next year'} starts when one finishes. "
            f"{len(queue)} year(s) left to import."
        )
    else:
        busy = [y for y in queue if y in running]
        reason = (
            f"{len(queue)} year(s) left, but none can start now: "
            + (f"{', '.join(str(y) for y in busy[:10])} already running (never two runs for one year)"
               if busy else "all were started today")
            + "; the sensor tries again on its next tick."
        )
    return BackfillPlan([], new_cursor, reason)
