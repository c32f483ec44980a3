"""The one lock order of the TMDb tables: every writer locks movie rows by ascending tmdb_id.

Two runs touching the same movies (a backfill and the daily sync, a fetcher's 404 and a
normalizer) then wait for each other instead of deadlocking. SQLite's BEGIN IMMEDIATE already
serializes writers, so the locks are PostgreSQL's only.
"""

from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def sorted_ids(tmdb_ids: Iterable[int]) -> list[int]:
    """The distinct ids, ascending (the lock order)."""
    return sorted({int(i) for i in tmdb_ids})


def lock_in_key_order(conn: Connection, table: sa.Table, where) -> list[int]:
    """Lock the matching rows in tmdb_id order (PostgreSQL) and return their ids."""
    query = sa.select(table.c.tmdb_id).where(where).order_by(table.c.tmdb_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return list(conn.execute(query).scalars())
