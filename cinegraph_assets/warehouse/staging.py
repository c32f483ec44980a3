"""The raw staging area: details responses as TMDb sent them, waiting to be normalized.

The third stage: tmdb/details.py saves each response here, as the text TMDb sent
(stage_response_texts; save_raw_details for decoded ones), the moment it arrives, so a crash
loses no request; normalizing (tmdb/normalizer.py) then takes the staged rows
of a year (staged_ids_of_year, lock_staged), turns them into rows and writes them
(movie_rows.write_movies), and unstages them in the same transaction.

On PostgreSQL lock_staged hands the payloads over without their credits, which stay in the
database: credit_rules checks them and movie_rows writes them there.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cinegraph_assets.warehouse import schema as s
from cinegraph_assets.warehouse.bulk_write import (
    IN_CHUNK, can_copy, chunks, copy_text, insert_for, temp_table_for, write_many,
)
from cinegraph_assets.warehouse.utc import from_db, to_utc


_RELEASE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def payload_year(payload) -> int | None:
    """The year of a response's release_date ('YYYY-MM-DD...', a real calendar date), else None.

    Only a hint for finding a year's staged rows (the normalizer decides the year from the parsed
    movie); release_year_sql computes the same in PostgreSQL, and a test holds them equal.
    """
    value = payload.get("release_date") if isinstance(payload, dict) else None
    if not isinstance(value, str) or not _RELEASE_DATE.match(value):
        return None
    try:
        return date(int(value[:4]), int(value[5:7]), int(value[8:10])).year
    except ValueError:
        return None


def release_year_sql(release_date: str) -> str:
    """payload_year in PostgreSQL, over the JSONB expression `release_date` (the payload's
    release_date value: reading it once matters, each read of a large JSONB decompresses it).
    Nested CASEs, so no cast runs on a value the outer test refused."""
    text = f"({release_date} #>> '{{}}')"
    year, month, day = (f"substr({text}, {start}, {length})::int" for start, length in ((1, 4), (6, 2), (9, 2)))
    last_day = f"extract(day FROM make_date({year}, {month}, 1) + interval '1 month' - interval '1 day')"
    return (
        f"CASE WHEN jsonb_typeof({release_date}) = 'string' AND {text} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}' "
        f"THEN CASE WHEN {year} >= 1 AND {month} BETWEEN 1 AND 12 "
        f"THEN CASE WHEN {day} BETWEEN 1 AND {last_day} THEN {year} END END END"
    )


def _newest(items: Iterable[tuple[int, object, datetime]]) -> dict[int, tuple[object, datetime]]:
    """{tmdb_id: (response, fetched_at)}: an id that arrived twice keeps its newer response."""
    latest: dict[int, tuple[object, datetime]] = {}
    for tmdb_id, response, fetched_at in items:
        fetched_at = to_utc(fetched_at)
        if int(tmdb_id) not in latest or fetched_at >= latest[int(tmdb_id)][1]:
            latest[int(tmdb_id)] = (response, fetched_at)
    return latest


def save_raw_details(conn: Connection, items: list[tuple[int, dict, datetime]]) -> int:
    """Stage raw responses (tmdb_id, payload, fetched_at); clears those ids' fetch failures.

    An id staged twice keeps the newer response. Returns the number of ids staged.
    """
    latest = _newest(items)
    if not latest:
        return 0
    table = s.tmdb_details_staging
    insert = insert_for(conn, table)
    statement = insert.on_conflict_do_update(
        index_elements=["tmdb_id"],
        set_={c: insert.excluded[c] for c in ("release_year", "payload", "fetched_at")},
        where=table.c.fetched_at <= insert.excluded.fetched_at,
    )
    ids = sorted(latest)
    rows = [
        {"tmdb_id": i, "release_year": payload_year(latest[i][0]), "payload": latest[i][0],
         "fetched_at": latest[i][1]}
        for i in ids
    ]
    # Payloads are large (50 KB and up): a handful per statement keeps statements reasonable.
    for chunk in chunks(rows, 50):
        if conn.dialect.name != "postgresql":
            write_many(conn, statement, list(chunk))
            continue
        try:
            with conn.begin_nested():  # a refused chunk must not abort the caller's transaction
                write_many(conn, statement, list(chunk))
        except sa.exc.DataError:
            # JSONB cannot hold U+0000 ("unsupported Unicode escape sequence"), which TMDb text
            # occasionally carries: store those responses without it rather than lose them.
            write_many(conn, statement, [{**row, "payload": strip_nul(row["payload"])} for row in chunk])
    for chunk in chunks(ids, IN_CHUNK):
        conn.execute(s.tmdb_fetch_failures.delete().where(s.tmdb_fetch_failures.c.tmdb_id.in_(chunk)))
    return len(ids)


def stage_response_texts(conn: Connection, items: list[tuple[int, str, datetime]]) -> list[int]:
    """Stage responses given as the JSON text TMDb sent (tmdb_id, text, fetched_at), as
    save_raw_details does for decoded ones; returns the ids whose text is not a JSON object
    (nothing of theirs is staged; the caller records why).

    On PostgreSQL the text goes to the JSONB column as received: PostgreSQL parses it once, and
    the import process neither decodes nor re-encodes 60 KB a movie (about 2 ms of its one GIL,
    measured). When PostgreSQL refuses a batch (text that is not JSON, or a \\u0000 JSONB cannot
    hold), the batch is decoded here instead: what decodes is staged as save_raw_details stages
    it (U+0000 dropped), so one bad response never costs the others.
    """
    latest = _newest(items)
    if not latest:
        return []
    if can_copy(conn):
        try:
            with conn.begin_nested():
                _copy_texts_into_staging(conn, latest)
                return []
        except sa.exc.DataError:
            pass  # decoded and staged one by one below
    decoded, unreadable = [], []
    for tmdb_id, (text, fetched_at) in sorted(latest.items()):
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            decoded.append((tmdb_id, payload, fetched_at))
        else:
            unreadable.append(tmdb_id)
    if conn.dialect.name != "postgresql":
        save_raw_details(conn, decoded)
        return unreadable
    for item in decoded:
        # One by one: Python's json reads what JSONB refuses (NaN, Infinity, a lone surrogate
        # escape), and such a response must cost only itself.
        try:
            with conn.begin_nested():
                save_raw_details(conn, [item])
        except sa.exc.DataError:
            unreadable.append(item[0])
    return sorted(unreadable)


def _copy_texts_into_staging(conn: Connection, latest: dict[int, tuple[str, datetime]]) -> None:
    """COPY the texts into the session's temp twin of the staging table (PostgreSQL parses them
    there), then merge into staging in key order, keeping a newer response already staged."""
    st = s.tmdb_details_staging
    temp = temp_table_for(conn, st).name
    ids = sorted(latest)
    copy_text(conn, temp, ["tmdb_id", "payload", "fetched_at"],
              ((i, latest[i][0], latest[i][1].isoformat()) for i in ids))
    conn.exec_driver_sql(
        f"INSERT INTO tmdb_details_staging (tmdb_id, release_year, payload, fetched_at) "
        f"SELECT tmdb_id, {release_year_sql('release_date')}, payload, fetched_at FROM ("
        f"SELECT tmdb_id, payload->'release_date' AS release_date, payload, fetched_at FROM {temp} "
        f"WHERE jsonb_typeof(payload) = 'object' OFFSET 0) AS arrived ORDER BY tmdb_id "
        "ON CONFLICT (tmdb_id) DO UPDATE SET release_year = EXCLUDED.release_year, "
        "payload = EXCLUDED.payload, fetched_at = EXCLUDED.fetched_at "
        "WHERE tmdb_details_staging.fetched_at <= EXCLUDED.fetched_at")
    not_objects = [row[0] for row in conn.exec_driver_sql(
        f"SELECT tmdb_id FROM {temp} WHERE jsonb_typeof(payload) <> 'object'")]
    conn.exec_driver_sql(f"DELETE FROM {temp}")
    if not_objects:
        raise sa.exc.DataError("staging", None, ValueError(f"not JSON objects: {not_objects}"))
    for chunk in chunks(ids, IN_CHUNK):
        conn.execute(s.tmdb_fetch_failures.delete().where(s.tmdb_fetch_failures.c.tmdb_id.in_(chunk)))


def staged_ids_of_year(conn: Connection, year: int) -> list[int]:
    st, d, m = s.tmdb_details_staging, s.discovered_movies, s.movies
    query = (
        sa.select(st.c.tmdb_id)
        .select_from(
            st.outerjoin(d, d.c.tmdb_id == st.c.tmdb_id).outerjoin(m, m.c.tmdb_id == st.c.tmdb_id)
        )
        .where(sa.or_(st.c.release_year == year, d.c.release_year == year, m.c.release_year == year))
        .order_by(st.c.tmdb_id)
    )
    return list(conn.execute(query).scalars())


def staged_count(conn: Connection, year: int) -> int:
    """How many staged responses normalize_staged(year) would move into the movie tables."""
    return len(staged_ids_of_year(conn, year))


def lock_staged(conn: Connection, ids: Sequence[int]) -> list[tuple[int, object, datetime]]:
    """The staged rows of `ids`, locked for this transaction.

    On PostgreSQL, FOR UPDATE SKIP LOCKED lets two runs of the same year split the work instead of
    normalizing the same movies twice or waiting on each other; SQLite's BEGIN IMMEDIATE already
    gives the whole transaction to one writer. PostgreSQL sends the payload without its credits
    (three quarters of the bytes), which it checks and writes itself (credit_rules.staged_credit_problems,
    movie_rows.write_movies); decoding them in Python was the largest cost of normalizing.
    """
    if conn.dialect.name == "postgresql":
        result = conn.exec_driver_sql(
            "SELECT tmdb_id, (CASE WHEN jsonb_typeof(payload) = 'object' THEN payload - 'credits' "
            "ELSE payload END)::text, fetched_at FROM tmdb_details_staging "
            "WHERE tmdb_id = ANY(%(ids)s) ORDER BY tmdb_id FOR UPDATE SKIP LOCKED",
            {"ids": list(ids)},
        )
        return [(tmdb_id, json.loads(text), from_db(fetched_at)) for tmdb_id, text, fetched_at in result]
    st = s.tmdb_details_staging
    query = (
        sa.select(st.c.tmdb_id, st.c.payload, st.c.fetched_at)
        .where(st.c.tmdb_id.in_(list(ids)))
        .order_by(st.c.tmdb_id)
    )
    return [(r.tmdb_id, r.payload, from_db(r.fetched_at)) for r in conn.execute(query)]


def unstage(conn: Connection, staged: Iterable[tuple[int, datetime]]) -> None:
    """Delete the staged rows this batch normalized, unless a newer response replaced one since."""
    st = s.tmdb_details_staging
    staged = list(staged)
    if not staged:
        return
    if conn.dialect.name == "postgresql":
        # One statement for the batch: every response has its own fetched_at, and a DELETE per
        # movie was a third of the normalizer's time (benchmarks).
        conn.exec_driver_sql(
            "DELETE FROM tmdb_details_staging st USING unnest(%(ids)s, %(ats)s) AS done(tmdb_id, fetched_at) "
            "WHERE st.tmdb_id = done.tmdb_id AND st.fetched_at = done.fetched_at",
            {"ids": [tmdb_id for tmdb_id, _ in staged], "ats": [to_utc(at) for _, at in staged]})
        return
    by_time: dict[datetime, list[int]] = {}
    for tmdb_id, fetched_at in staged:
        by_time.setdefault(fetched_at, []).append(tmdb_id)
    for fetched_at, ids in by_time.items():
        conn.execute(st.delete().where(st.c.tmdb_id.in_(ids), st.c.fetched_at == fetched_at))


def strip_nul(value):
    """PostgreSQL text and JSONB cannot hold U+0000; TMDb strings occasionally carry one."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {strip_nul(k): strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_nul(v) for v in value]
    return value


def strip_staged_nul(engine: Engine, tmdb_id: int) -> None:
    """Store one staged response again without its NUL characters (its own transaction)."""
    st = s.tmdb_details_staging
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(st.c.payload, st.c.fetched_at).where(st.c.tmdb_id == tmdb_id)
        ).one_or_none()
        if row is not None:
            conn.execute(st.update().where(st.c.tmdb_id == tmdb_id).values(payload=strip_nul(row.payload)))


def drop_staged(conn: Connection, tmdb_id: int) -> None:
    """Forget one staged response (it could not be stored; its failure says why)."""
    st = s.tmdb_details_staging
    conn.execute(st.delete().where(st.c.tmdb_id == tmdb_id))
