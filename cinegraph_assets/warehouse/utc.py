"""Timestamps as the warehouse stores them: aware UTC on both dialects.

SQLite keeps no zone, so everything is stored in UTC and handed back as aware UTC datetimes.
Pass timezone-aware datetimes in (naive ones are taken as UTC).
"""

from __future__ import annotations

from datetime import datetime, timezone


def to_utc(value: datetime) -> datetime:
    """Aware UTC for storing (naive input is taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def from_db(value: datetime | None) -> datetime | None:
    """Aware UTC from either dialect (SQLite hands back naive UTC)."""
    if value is None:
        return None
    return to_utc(value)
