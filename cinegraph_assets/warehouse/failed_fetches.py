"""Details fetches that failed, per movie: why, with which HTTP status, how many times.

A failure is recorded by the fetcher (tmdb/details.py) or by normalizing (a malformed payload);
it puts the movie back in the details queue as "retry", and is resolved (deleted) once the id's
details are staged (staging.save_raw_details) or it is marked deleted.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cinegraph_assets.warehouse import schema as s
from cinegraph_assets.warehouse.bulk_write import insert_for, write_many
from cinegraph_assets.warehouse.utc import from_db, to_utc

_REASON_MAX_CHARS = 500


def record_fetch_failures(
    conn: Connection, year: int, failures: list[tuple[int, str, int | None]], at: datetime
) -> int:
    """Record (tmdb_id, reason, http_status) failures; attempts += 1 for ids that failed before.

    The reason is stored as given (cut to 500 characters): keep secrets and URLs with keys out.
    Returns the number of ids recorded.
    """
    at = to_utc(at)
    by_id: dict[int, tuple[str, int | None]] = {}
    for tmdb_id, reason, http_status in failures:
        by_id[int(tmdb_id)] = (str(reason)[:_REASON_MAX_CHARS], http_status)
    if not by_id:
        return 0
    table = s.tmdb_fetch_failures
    insert = insert_for(conn, table)
    statement = insert.on_conflict_do_update(
        index_elements=["tmdb_id"],
        set_={
            "release_year": insert.excluded.release_year,
            "reason": insert.excluded.reason,
            "http_status": insert.excluded.http_status,
            "attempts": table.c.attempts + 1,
            "last_attempt_at": insert.excluded.last_attempt_at,
        },
    )
    rows = [
        {"tmdb_id": i, "release_year": year, "reason": by_id[i][0], "http_status": by_id[i][1],
         "attempts": 1, "last_attempt_at": at}
        for i in sorted(by_id)
    ]
    write_many(conn, statement, rows)
    return len(rows)


def fetch_failures(conn: Connection, year: int) -> list[dict]:
    """Unresolved failures of the year: {tmdb_id, reason, http_status, attempts, last_attempt_at}.

    A failure is resolved (and gone) once the id's details are staged or it is marked deleted.
    """
    t = s.tmdb_fetch_failures
    rows = conn.execute(
        sa.select(t.c.tmdb_id, t.c.reason, t.c.http_status, t.c.attempts, t.c.last_attempt_at)
        .where(t.c.release_year == year)
        .order_by(t.c.tmdb_id)
    ).mappings()
    return [{**row, "last_attempt_at": from_db(row["last_attempt_at"])} for row in rows]
