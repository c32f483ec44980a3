"""Type checks for TMDb JSON fields, shared by every parser of the TMDb room.

Each returns the value in the warehouse's type, None for null (and "" where TMDb means "none"),
or raises MalformedMovie naming the field, so one bad movie fails alone with its reason.
Plain Python: no Dagster, no SQL.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timezone

# Column bounds of the warehouse (PostgreSQL INTEGER/BIGINT): a value outside them would fail the
# whole insert, so it makes the one movie malformed instead.
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1


class MalformedMovie(ValueError):
    """A details payload the warehouse cannot hold; `reason` says which field and why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def bad(where: str, expected: str, value) -> MalformedMovie:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return MalformedMovie(f"{where}: expected {expected}, got {type(value).__name__} {shown}")


def integer(value, where: str, maximum: int = INT_MAX) -> int | None:
    if value is None:
        return None
    if type(value) is int:
        if -maximum - 1 <= value <= maximum:
            return value
        raise bad(where, "an integer in the column's range", value)
    if type(value) is float and value.is_integer() and abs(value) <= maximum:
        return int(value)  # JSON has one number type; 120.0 is a fine runtime
    raise bad(where, "an integer", value)


def number(value, where: str) -> float | None:
    if value is None:
        return None
    if type(value) is float:
        if math.isfinite(value):
            return value
        raise bad(where, "a finite number", value)
    if type(value) is int:
        return float(value)
    raise bad(where, "a number", value)


def text(value, where: str) -> str | None:
    if value is None or type(value) is str:
        return value
    raise bad(where, "a string", value)


def boolean(value, where: str) -> bool | None:
    if value is None or type(value) is bool:
        return value
    raise bad(where, "true, false or null", value)


def day(value, where: str) -> date | None:
    """TMDb dates: "YYYY-MM-DD", an ISO timestamp (release_dates), or "" / null for none."""
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise bad(where, "a date string", value)
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise bad(where, "a YYYY-MM-DD date", value) from None


def timestamp(value, where: str) -> datetime | None:
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise bad(where, "a timestamp string", value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad(where, "an ISO timestamp", value) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def as_list(value, where: str) -> list:
    if value is None:
        return []
    if type(value) is list:
        return value
    raise bad(where, "a list", value)


def as_dict(value, where: str) -> dict:
    if value is None:
        return {}
    if type(value) is dict:
        return value
    raise bad(where, "an object", value)


def objects(value, where: str) -> list[dict]:
    """A list of objects (genres, cast...)."""
    items = as_list(value, where)
    for i, item in enumerate(items):
        if type(item) is not dict:
            raise bad(f"{where}[{i}]", "an object", item)
    return items
