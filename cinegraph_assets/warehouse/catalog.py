"""All SQL of the TMDb room: discovery, which details to fetch, the raw staging area, failures,
and normalizing raw responses into movies and its child tables.

Every function takes a SQLAlchemy Connection and runs in the caller's transaction, except
normalize_staged, which commits its own batches (each batch holds complete movies, so a reader
never sees a movie without its credits and a crash loses at most the batch in flight).
All of it works on SQLite and PostgreSQL and is idempotent.

Timestamps: pass timezone-aware datetimes (naive ones are taken as UTC). SQLite keeps no zone, so
everything is stored in UTC and handed back as aware UTC datetimes on both dialects.

How a year's movies stay right:
- A movie's year is the year of its details' release_date (TMDb's primary release date, the one
  discover filters on). A movie whose date moved to another year leaves the old year when its new
  details are normalized: its movies row takes the new year and its child rows, keyed by tmdb_id,
  go with it. A movie whose details lost their date gets release_year NULL and belongs to no year
  (discover by year never returns an undated movie, so no year's partition would own it).
- Discovery notices moves first: an id missing from its year's discovery gets vanished_at, an id
  found under a different year gets changed_at; either makes movies_needing_details fetch it once.
- A 404 keeps the rows and sets deleted_at; a later successful fetch clears it.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import operator
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from cinegraph_assets.tmdb.parse import DiscoveredMovie, MalformedMovie, MovieRows, parse_movie
from cinegraph_assets.warehouse import schema as s

__all__ = [
    "DiscoveredMovie",
    "DiscoveryWindow",
    "StalenessPolicy",
    "MalformedMovie",
    "record_discovery",
    "discovered_ids",
    "discovery_summary",
    "movies_needing_details",
    "save_raw_details",
    "mark_deleted",
    "record_fetch_failures",
    "fetch_failures",
    "mark_changed",
    "years_of_movies",
    "normalize_staged",
    "normalize_staged_ids",
    "staged_count",
    "year_movie_ids",
    "duplicate_movie_ids",
    "movies_missing_title",
]

log = logging.getLogger(__name__)

# Reasons movies_needing_details gives, strongest first (a movie gets the first that applies).
REASONS = ("retry", "new", "vanished", "changed", "stale", "rediscovered")

# SQLite allows 32,766 bound parameters per statement: IN lists and multi-row VALUES stay under it.
_IN_CHUNK = 5_000
_MAX_PARAMS = 30_000
_REASON_MAX_CHARS = 500


@dataclass(frozen=True)
class DiscoveryWindow:
    """One leaf discover query whose results were fully walked."""

    start: date  # inclusive primary_release_date bounds
    end: date
    extra_filter: str  # "" or e.g. "vote_count.gte=0&vote_count.lte=3" (what split a crowded day)
    tmdb_total: int  # TMDb's total_results for that query
    pages: int


@dataclass(frozen=True)
class StalenessPolicy:
    """How old fetched details may get, by how long ago the movie was released.

    Released within `recent_days` (or not yet released): refetch after `recent_max_age_days`;
    within `half_year_days`: after `half_year_max_age_days`; within `year_days`: after
    `year_max_age_days`; older or undated: after `older_max_age_days`.
    """

    recent_days: int = 30
    recent_max_age_days: int = 2
    half_year_days: int = 180
    half_year_max_age_days: int = 7
    year_days: int = 365
    year_max_age_days: int = 14
    older_max_age_days: int = 30

    def max_age(self, release_date: date | None, today: date) -> timedelta:
        """How old details of a movie released on `release_date` may be on `today`."""
        if release_date is None:
            return timedelta(days=self.older_max_age_days)
        released_days_ago = (today - release_date).days
        if released_days_ago <= self.recent_days:
            return timedelta(days=self.recent_max_age_days)
        if released_days_ago <= self.half_year_days:
            return timedelta(days=self.half_year_max_age_days)
        if released_days_ago <= self.year_days:
            return timedelta(days=self.year_max_age_days)
        return timedelta(days=self.older_max_age_days)


# ------------------------------------------------------------------------------------ helpers
def _utc(value: datetime) -> datetime:
    """Aware UTC for storing (naive input is taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _from_db(value: datetime | None) -> datetime | None:
    """Aware UTC from either dialect (SQLite hands back naive UTC)."""
    if value is None:
        return None
    return _utc(value)


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert(conn: Connection, table: sa.Table):
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _upsert_statement(conn: Connection, table: sa.Table, key: Sequence[str], columns: Sequence[str],
                      only_if_changed: bool = False):
    """INSERT .. ON CONFLICT (key) DO UPDATE, for _write_many.

    only_if_changed skips rewriting rows whose values are the same, which matters for lookup
    tables (people) that every movie touches: an unchanged row then costs no new row version.
    """
    insert = _insert(conn, table)
    update_cols = [c for c in columns if c not in key]
    if not update_cols:
        return insert.on_conflict_do_nothing(index_elements=list(key))
    where = None
    if only_if_changed:
        where = sa.or_(*[table.c[c].is_distinct_from(insert.excluded[c]) for c in update_cols])
    return insert.on_conflict_do_update(
        index_elements=list(key), set_={c: insert.excluded[c] for c in update_cols}, where=where
    )


def _write_many(conn: Connection, statement, rows: list[dict]) -> None:
    """Run an INSERT (or INSERT .. ON CONFLICT) built without values for many rows, fast.

    SQLAlchemy pages a plain executemany INSERT into multi-row VALUES, but sends an upsert row by
    row through psycopg2 (20,000 discovered ids took 14 s). On PostgreSQL the rows go by COPY into
    a session temp table and the statement becomes one INSERT .. SELECT in key order; SQLite runs
    in-process, where executemany is a C loop without round trips.
    """
    if not rows:
        return
    if not _can_copy(conn):
        conn.execute(statement, rows)
        return
    table: sa.Table = statement.table
    columns = list(rows[0].keys())
    temp = _temp_table_for(conn, table)
    json_columns = [c for c in columns if isinstance(table.c[c].type, sa.JSON)]
    _copy_into(conn, temp.name, columns, rows, json_columns)
    key = [temp.c[c.name] for c in table.primary_key.columns]
    conn.execute(statement.from_select(columns, sa.select(*[temp.c[c] for c in columns]).order_by(*key)))
    conn.execute(temp.delete())  # the next write of this transaction starts empty


def _temp_table_for(conn: Connection, table: sa.Table) -> sa.Table:
    """A session temp table shaped like `table`, emptied at every commit."""
    name = f"_in_{table.name}"
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} (LIKE {conn.dialect.identifier_preparer.quote(table.name)}) "
        "ON COMMIT DELETE ROWS"
    )
    return sa.Table(name, sa.MetaData(), *[sa.Column(c.name, c.type) for c in table.columns])


def _ids(tmdb_ids: Iterable[int]) -> list[int]:
    return sorted({int(i) for i in tmdb_ids})


def _lock_in_key_order(conn: Connection, table: sa.Table, where) -> list[int]:
    """Lock the matching rows in tmdb_id order (PostgreSQL) and return their ids.

    Every writer here takes row locks in ascending tmdb_id order, so two runs touching the same
    movies (a backfill and the daily sync, a fetcher's 404 and a normalizer) wait instead of
    deadlocking. SQLite's BEGIN IMMEDIATE already serializes writers.
    """
    query = sa.select(table.c.tmdb_id).where(where).order_by(table.c.tmdb_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return list(conn.execute(query).scalars())


#: Advisory lock "a discovery is being written" (one key for every year: see record_discovery).
_DISCOVERY_LOCK = 720_4312


# ------------------------------------------------------------------------------------ discovery
def record_discovery(
    conn: Connection,
    year: int,
    windows: list[DiscoveryWindow],
    movies: list[DiscoveredMovie],
    at: datetime,
) -> dict:
    """Store one complete discovery of `year`.

    Replaces the year's windows; upserts discovered_movies (release_year=year, last_seen_at=at,
    vanished_at cleared); an id that discover had put in another year gets changed_at=at, so its
    details are fetched again and its movies row can follow it. Ids of this year not seen this
    time get vanished_at=at (details must be re-fetched to learn whether they moved year or were
    deleted). Returns {"discovered", "tmdb_total", "windows", "new", "vanished"}.
    """
    at = _utc(at)
    by_id: dict[int, DiscoveredMovie] = {}
    for movie in movies:  # churn can return an id twice; one statement may not touch a row twice
        by_id[movie.tmdb_id] = movie
    ids = sorted(by_id)

    d = s.discovered_movies
    if conn.dialect.name == "postgresql":
        # One discovery written at a time, whatever its year: a movie that moved across New Year
        # is a row of both adjacent years' discoveries (the daily sync runs them together), so a
        # lock per year let each transaction hold rows the other one then had to write: deadlock.
        # Writing a discovery takes a second or two; the HTTP walk before it runs in parallel.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(space)s, 0)", {"space": _DISCOVERY_LOCK})
        # Every row this writes, locked up front in one key-ordered pass (the year's rows, some of
        # which will vanish, and the found ids, some filed under another year until now), so the
        # other writers of these rows, which lock in key order too, wait instead of deadlocking.
        _lock_in_key_order(conn, d, sa.or_(
            d.c.release_year == year,
            d.c.tmdb_id == sa.any_(sa.bindparam("found_ids", ids, type_=postgresql.ARRAY(sa.Integer)))))
    known: set[int] = set()
    for chunk in _chunks(ids, _IN_CHUNK):
        known.update(
            conn.execute(
                sa.select(s.discovered_movies.c.tmdb_id).where(s.discovered_movies.c.tmdb_id.in_(chunk))
            ).scalars()
        )

    table = s.discovered_movies
    insert = _insert(conn, table)
    statement = insert.on_conflict_do_update(
        index_elements=["tmdb_id"],
        set_={
            "release_year": insert.excluded.release_year,
            "release_date": insert.excluded.release_date,
            "popularity": insert.excluded.popularity,
            "adult": insert.excluded.adult,
            "video": insert.excluded.video,
            "title": insert.excluded.title,
            "last_seen_at": insert.excluded.last_seen_at,
            "vanished_at": None,
            "changed_at": sa.case(
                (table.c.release_year != insert.excluded.release_year, insert.excluded.last_seen_at),
                else_=table.c.changed_at,
            ),
        },
    )
    rows = [
        {
            "tmdb_id": tmdb_id,
            "release_year": year,
            "release_date": by_id[tmdb_id].release_date,
            "popularity": by_id[tmdb_id].popularity,
            "adult": by_id[tmdb_id].adult,
            "video": by_id[tmdb_id].video,
            "title": by_id[tmdb_id].title,
            "first_seen_at": at,
            "last_seen_at": at,
        }
        for tmdb_id in ids
    ]
    _write_many(conn, statement, rows)

    vanished = conn.execute(
        table.update()
        .where(
            table.c.release_year == year,
            table.c.vanished_at.is_(None),
            table.c.last_seen_at != at,
        )
        .values(vanished_at=at)
    ).rowcount

    conn.execute(s.discovery_windows.delete().where(s.discovery_windows.c.release_year == year))
    window_rows = {}
    for w in windows:
        window_rows[(w.start, w.end, w.extra_filter or "")] = {
            "release_year": year,
            "start_date": w.start,
            "end_date": w.end,
            "extra_filter": w.extra_filter or "",
            "tmdb_total": int(w.tmdb_total),
            "pages": int(w.pages),
            "discovered_at": at,
        }
    _write_many(conn, s.discovery_windows.insert(), list(window_rows.values()))
    return {
        "discovered": len(ids),
        "tmdb_total": sum(r["tmdb_total"] for r in window_rows.values()),
        "windows": len(window_rows),
        "new": len(ids) - len(known),
        "vanished": vanished,
    }


def discovered_ids(conn: Connection, year: int) -> set[int]:
    """Ids the last discovery of `year` returned (not vanished; deleted ones included)."""
    t = s.discovered_movies
    return set(
        conn.execute(
            sa.select(t.c.tmdb_id).where(t.c.release_year == year, t.c.vanished_at.is_(None))
        ).scalars()
    )


def discovery_summary(conn: Connection, year: int) -> dict:
    """{"discovered", "tmdb_total", "windows", "discovered_at"} of the year's last discovery.

    discovered_at is None (and the counts 0) when the year was never discovered.
    """
    w = s.discovery_windows
    tmdb_total, windows, discovered_at = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(w.c.tmdb_total), 0),
            sa.func.count(),
            sa.func.max(w.c.discovered_at),
        ).where(w.c.release_year == year)
    ).one()
    return {
        "discovered": len(discovered_ids(conn, year)),
        "tmdb_total": int(tmdb_total),
        "windows": int(windows),
        "discovered_at": _from_db(discovered_at),
    }


# ------------------------------------------------------------------------------------ details
def movies_needing_details(
    conn: Connection, year: int, now: datetime, policy: StalenessPolicy
) -> list[tuple[int, str]]:
    """(tmdb_id, reason) for every id of `year` whose details must be fetched, by tmdb_id.

    Candidates are the ids discovery put in `year`. Reasons, first match wins:
    - "retry": the last fetch failed (recorded by record_fetch_failures or a malformed payload);
    - "new": no details yet;
    - "vanished": the year's last discovery no longer returned it, and details were not fetched
      since (once fetched, a movie whose details now say another year is left to that year);
    - "changed": TMDb reported a change (mark_changed) or discover moved it into this year, after
      the details were fetched;
    - "stale": details older than the policy allows for the movie's age.
    - "rediscovered": marked deleted (404), but a discovery since returned it again: a movie that
      discover keeps listing is not gone, so it is asked again (once per discovery that lists it).
    Excluded: ids already staged and not yet normalized, and ids marked deleted (404) unless a
    change was reported after the deletion or discovery returned them since.
    """
    now = _utc(now)
    today = now.date()
    d, m, f, st = s.discovered_movies, s.movies, s.tmdb_fetch_failures, s.tmdb_details_staging
    query = (
        sa.select(
            d.c.tmdb_id,
            d.c.release_date,
            d.c.vanished_at,
            d.c.changed_at,
            d.c.deleted_at,
            d.c.last_seen_at,
            m.c.fetched_at,
            m.c.release_date.label("details_release_date"),
            m.c.release_year.label("details_year"),
            m.c.deleted_at.label("movie_deleted_at"),
            f.c.tmdb_id.label("failed"),
            st.c.tmdb_id.label("staged"),
        )
        .select_from(
            d.outerjoin(m, m.c.tmdb_id == d.c.tmdb_id)
            .outerjoin(f, f.c.tmdb_id == d.c.tmdb_id)
            .outerjoin(st, st.c.tmdb_id == d.c.tmdb_id)
        )
        .where(d.c.release_year == year)
        .order_by(d.c.tmdb_id)
    )
    needed: list[tuple[int, str]] = []
    for row in conn.execute(query):
        if row.staged is not None:
            continue
        changed_at = _from_db(row.changed_at)
        deleted_at = max(
            (t for t in (_from_db(row.deleted_at), _from_db(row.movie_deleted_at)) if t), default=None
        )
        fetched_at = _from_db(row.fetched_at)
        vanished_at = _from_db(row.vanished_at)
        last_seen_at = _from_db(row.last_seen_at)
        rediscovered = False
        if deleted_at is not None:
            reported = changed_at is not None and changed_at > deleted_at
            rediscovered = vanished_at is None and last_seen_at is not None and last_seen_at > deleted_at
            if not (reported or rediscovered):
                continue
            rediscovered = rediscovered and not reported
        if row.failed is not None:
            reason = "retry"
        elif rediscovered:
            reason = "rediscovered"
        elif fetched_at is None:
            reason = "new"
        elif vanished_at is not None and fetched_at < vanished_at:
            reason = "vanished"
        elif vanished_at is not None and row.details_year != year:
            continue  # refetched after it vanished and now belongs elsewhere (or to no year)
        elif changed_at is not None and changed_at > fetched_at:
            reason = "changed"
        elif now - fetched_at > policy.max_age(row.details_release_date or row.release_date, today):
            reason = "stale"
        else:
            continue
        needed.append((row.tmdb_id, reason))
    return needed


def _payload_year(payload) -> int | None:
    try:
        return date.fromisoformat(payload["release_date"][:10]).year
    except Exception:  # noqa: BLE001 - a malformed payload is normalize_staged's to report
        return None


def save_raw_details(conn: Connection, items: list[tuple[int, dict, datetime]]) -> int:
    """Stage raw responses (tmdb_id, payload, fetched_at); clears those ids' fetch failures.

    An id staged twice keeps the newer response. Returns the number of ids staged.
    """
    latest: dict[int, tuple[dict, datetime]] = {}
    for tmdb_id, payload, fetched_at in items:
        fetched_at = _utc(fetched_at)
        if tmdb_id not in latest or fetched_at >= latest[tmdb_id][1]:
            latest[int(tmdb_id)] = (payload, fetched_at)
    if not latest:
        return 0
    table = s.tmdb_details_staging
    insert = _insert(conn, table)
    statement = insert.on_conflict_do_update(
        index_elements=["tmdb_id"],
        set_={c: insert.excluded[c] for c in ("release_year", "payload", "fetched_at")},
        where=table.c.fetched_at <= insert.excluded.fetched_at,
    )
    ids = sorted(latest)
    rows = [
        {"tmdb_id": i, "release_year": _payload_year(latest[i][0]), "payload": latest[i][0],
         "fetched_at": latest[i][1]}
        for i in ids
    ]
    # Payloads are large (50 KB and up): a handful per statement keeps statements reasonable.
    for chunk in _chunks(rows, 50):
        if conn.dialect.name != "postgresql":
            _write_many(conn, statement, list(chunk))
            continue
        try:
            with conn.begin_nested():  # a refused chunk must not abort the caller's transaction
                _write_many(conn, statement, list(chunk))
        except sa.exc.DataError:
            # JSONB cannot hold U+0000 ("unsupported Unicode escape sequence"), which TMDb text
            # occasionally carries: store those responses without it rather than lose them.
            _write_many(conn, statement, [{**row, "payload": _strip_nul(row["payload"])} for row in chunk])
    for chunk in _chunks(ids, _IN_CHUNK):
        conn.execute(s.tmdb_fetch_failures.delete().where(s.tmdb_fetch_failures.c.tmdb_id.in_(chunk)))
    return len(ids)


def mark_deleted(conn: Connection, tmdb_ids: list[int], at: datetime) -> int:
    """TMDb answered 404: set deleted_at on movies and discovered_movies (rows are kept).

    Also drops staged responses fetched before the 404 and the ids' fetch failures (a 404 is an
    answer, not a failure). Returns the number of ids the warehouse knows that were marked.
    """
    at = _utc(at)
    ids = _ids(tmdb_ids)
    known: set[int] = set()
    for chunk in _chunks(ids, _IN_CHUNK):
        # Staging first: a normalizer holding these staged rows finishes before we touch the
        # movies rows it writes (the same order it takes its locks in).
        st = s.tmdb_details_staging
        conn.execute(st.delete().where(st.c.tmdb_id.in_(chunk), st.c.fetched_at <= at))
        for table in (s.movies, s.discovered_movies):
            found = _lock_in_key_order(conn, table, table.c.tmdb_id.in_(chunk))
            conn.execute(table.update().where(table.c.tmdb_id.in_(chunk)).values(deleted_at=at))
            known.update(found)
        conn.execute(s.tmdb_fetch_failures.delete().where(s.tmdb_fetch_failures.c.tmdb_id.in_(chunk)))
    return len(known)


def record_fetch_failures(
    conn: Connection, year: int, failures: list[tuple[int, str, int | None]], at: datetime
) -> int:
    """Record (tmdb_id, reason, http_status) failures; attempts += 1 for ids that failed before.

    The reason is stored as given (cut to 500 characters): keep secrets and URLs with keys out.
    Returns the number of ids recorded.
    """
    at = _utc(at)
    by_id: dict[int, tuple[str, int | None]] = {}
    for tmdb_id, reason, http_status in failures:
        by_id[int(tmdb_id)] = (str(reason)[:_REASON_MAX_CHARS], http_status)
    if not by_id:
        return 0
    table = s.tmdb_fetch_failures
    insert = _insert(conn, table)
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
    _write_many(conn, statement, rows)
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
    return [{**row, "last_attempt_at": _from_db(row["last_attempt_at"])} for row in rows]


def mark_changed(conn: Connection, tmdb_ids: list[int], at: datetime) -> int:
    """TMDb reported these ids changed (the changes sensor): changed_at=at on discovered ids.

    Returns how many discovered ids were marked (ids never discovered are not known here yet).
    """
    at = _utc(at)
    t = s.discovered_movies
    marked = 0
    for chunk in _chunks(_ids(tmdb_ids), _IN_CHUNK):
        # Key order, as every writer of these rows locks them (a discovery may be writing them).
        _lock_in_key_order(conn, t, t.c.tmdb_id.in_(chunk))
        marked += conn.execute(t.update().where(t.c.tmdb_id.in_(chunk)).values(changed_at=at)).rowcount
    return marked


def years_of_movies(conn: Connection, tmdb_ids: list[int]) -> dict[int, set[int]]:
    """id -> the release years the warehouse files it under, for every id it knows: the year of its
    details and the year its last discovery put it in. They differ while a move is half-seen (the
    details say the new year, discovery has not run there yet), and a re-sync must cover both: the
    details' year discovers it, the discovered year schedules its details. An undated movie known
    to the warehouse maps to an empty set; ids the warehouse never saw are left out."""
    ids = _ids(tmdb_ids)
    years: dict[int, set[int]] = {}
    for chunk in _chunks(ids, _IN_CHUNK):
        d, m = s.discovered_movies, s.movies
        for tmdb_id, year in conn.execute(
            sa.select(d.c.tmdb_id, d.c.release_year).where(d.c.tmdb_id.in_(chunk))
        ):
            years.setdefault(tmdb_id, set()).update([year] if year is not None else [])
        for tmdb_id, year, fetched_at in conn.execute(
            sa.select(m.c.tmdb_id, m.c.release_year, m.c.fetched_at).where(m.c.tmdb_id.in_(chunk))
        ):
            if fetched_at is not None:
                years.setdefault(tmdb_id, set()).update([year] if year is not None else [])
    return years


# ------------------------------------------------------------------------------------ normalize
_CHILD_WRITES = (
    # (MovieRows attribute, table)
    ("movie_genres", s.movie_genres),
    ("cast", s.movie_cast),
    ("crew", s.movie_crew),
    ("release_dates", s.movie_release_dates),
    ("external_ids", s.movie_external_ids),
    ("videos", s.movie_videos),
    ("movie_keywords", s.movie_keywords),
    ("watch_providers", s.movie_watch_providers),
)
_LOOKUP_WRITES = (
    # (MovieRows attribute, table, key) - shared rows, upserted in key order (no deadlocks)
    ("genres", s.genres, "genre_id"),
    ("people", s.people, "person_id"),
    ("keywords", s.keywords, "keyword_id"),
)
_MOVIE_COLUMNS = [c.name for c in s.movies.columns]

# Errors that belong to one movie's data (a value PostgreSQL refuses, a NUL character) rather than
# to the database (connection lost, lock timeout): only these make a movie "failed".
_DATA_ERRORS = (sa.exc.DataError, sa.exc.IntegrityError, ValueError, TypeError)


def _staged_ids_of_year(conn: Connection, year: int) -> list[int]:
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
    return len(_staged_ids_of_year(conn, year))


def _lock_staged(conn: Connection, ids: Sequence[int]) -> list[tuple[int, object, datetime]]:
    """The staged rows of `ids`, locked for this transaction.

    On PostgreSQL, FOR UPDATE SKIP LOCKED lets two runs of the same year split the work instead of
    normalizing the same movies twice or waiting on each other; SQLite's BEGIN IMMEDIATE already
    gives the whole transaction to one writer. PostgreSQL sends the payload without its credits
    (three quarters of the bytes), which it checks and writes itself (_PG_CREDIT_PROBLEMS_SQL,
    _PG_CREDITS_SQL); decoding them in Python was the largest cost of normalizing.
    """
    if conn.dialect.name == "postgresql":
        result = conn.exec_driver_sql(
            "SELECT tmdb_id, (CASE WHEN jsonb_typeof(payload) = 'object' THEN payload - 'credits' "
            "ELSE payload END)::text, fetched_at FROM tmdb_details_staging "
            "WHERE tmdb_id = ANY(%(ids)s) ORDER BY tmdb_id FOR UPDATE SKIP LOCKED",
            {"ids": list(ids)},
        )
        return [(tmdb_id, json.loads(text), _from_db(fetched_at)) for tmdb_id, text, fetched_at in result]
    st = s.tmdb_details_staging
    query = (
        sa.select(st.c.tmdb_id, st.c.payload, st.c.fetched_at)
        .where(st.c.tmdb_id.in_(list(ids)))
        .order_by(st.c.tmdb_id)
    )
    return [(r.tmdb_id, r.payload, _from_db(r.fetched_at)) for r in conn.execute(query)]


class _CopyNull:
    """COPY's NULL marker in a CSV row: csv's QUOTE_NONNUMERIC writes it unquoted (it passes for a
    number) while every real string is quoted, so NULL and "" stay different."""

    __slots__ = ()

    def __float__(self) -> float:
        return 0.0

    def __str__(self) -> str:
        return "\\N"


_NULL = _CopyNull()


def _copy_into(conn: Connection, table_name: str, columns: Sequence[str], rows: list[dict],
               json_columns: Sequence[str] = ()) -> None:
    """PostgreSQL COPY of dict rows: one round trip and no SQL to parse for tens of thousands of rows."""
    if not rows:
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    get = operator.itemgetter(*columns)
    if json_columns:
        rows = [{**r, **{c: json.dumps(r[c]) for c in json_columns if r.get(c) is not None}} for r in rows]
    if len(columns) == 1:
        writer.writerows([(_NULL if (v := get(r)) is None else v,) for r in rows])
    else:
        writer.writerows([[_NULL if v is None else v for v in get(r)] for r in rows])
    buffer.seek(0)
    quote = conn.dialect.identifier_preparer.quote
    column_list = ", ".join(quote(c) for c in columns)
    sql = f"COPY {quote(table_name)} ({column_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    dbapi = conn.dialect.dbapi
    with conn.connection.cursor() as cursor:
        try:
            cursor.copy_expert(sql, buffer)
        except dbapi.Error as error:
            # The driver's own exception, raw: give callers SQLAlchemy's (DataError for refused
            # values...), as every other statement here raises.
            raise sa.exc.DBAPIError.instance(sql, None, error, dbapi.Error, dialect=conn.dialect) from error


def _pg_upsert_via_copy(conn: Connection, table: sa.Table, key: str, columns: Sequence[str],
                        rows: list[dict], only_if_changed: bool, extra: tuple[str, str, str] | None = None) -> None:
    """COPY rows into a session temp table, then one INSERT .. SELECT .. ON CONFLICT in key order.

    `extra` = (column, source table, source column) fills one more column server-side from the row
    with the same tmdb_id (movies.tmdb_data from the staged payload, which never travels twice).
    """
    quote = conn.dialect.identifier_preparer.quote
    temp = f"_in_{table.name}"
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {temp} (LIKE {quote(table.name)}) ON COMMIT DELETE ROWS"
    )
    _copy_into(conn, temp, columns, rows)
    target_cols = list(columns)
    select_cols = [f"i.{quote(c)}" for c in columns]
    join = ""
    if extra is not None:
        column, source, source_column = extra
        target_cols.append(column)
        select_cols.append(f"x.{quote(source_column)}")
        join = f" JOIN {quote(source)} x ON x.{quote(key)} = i.{quote(key)}"
    updates = [c for c in target_cols if c != key]
    set_clause = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updates)
    where = ""
    if only_if_changed:
        mine = ", ".join(f"{quote(table.name)}.{quote(c)}" for c in updates)
        theirs = ", ".join(f"EXCLUDED.{quote(c)}" for c in updates)
        where = f" WHERE ({mine}) IS DISTINCT FROM ({theirs})"
    conn.exec_driver_sql(
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in target_cols)}) "
        f"SELECT {', '.join(select_cols)} FROM {temp} i{join} ORDER BY i.{quote(key)} "
        f"ON CONFLICT ({quote(key)}) DO UPDATE SET {set_clause}{where}"
    )


# On PostgreSQL the credits (about 300 rows a movie, most of the bytes) go from the staged JSONB
# straight into movie_cast, movie_crew and people, without a trip through Python. These two
# statements repeat parse_movie's rules (see tmdb/parse.py _parse_credits), and a test compares
# both dialects' rows: every credit must be an object with a positive integer id, strings or null
# for the text fields, integers for gender and order; a person's row comes from their first credit,
# cast before crew (the highest tmdb_id of the batch wins, as the Python path's merge does); a
# credit_id twice in one list keeps its first entry; a missing one becomes
# "<cast|crew>:<person>:<index>".
_PG_STAGED_CREDITS = """
    staged AS MATERIALIZED (
        SELECT tmdb_id, payload -> 'credits' AS credits
        FROM tmdb_details_staging WHERE tmdb_id = ANY(%(ids)s)
    ), lists AS (
        SELECT s.tmdb_id, p.part, p.part_rank, jsonb_typeof(s.credits) AS credits_type,
               s.credits -> p.part AS list
        FROM staged s CROSS JOIN (VALUES ('cast', 0), ('crew', 1)) AS p(part, part_rank)
    )
"""


def _pg_text_or_null(field: str) -> str:
    return f"coalesce(jsonb_typeof(c.v -> '{field}'), 'null') IN ('string', 'null')"


_PG_CREDIT_PROBLEMS_SQL = f"""
WITH {_PG_STAGED_CREDITS}, problem AS (
    SELECT tmdb_id, -1 AS part_rank, 0 AS ord, 'credits: expected an object' AS reason
    FROM staged WHERE coalesce(jsonb_typeof(credits), 'null') NOT IN ('object', 'null')
    UNION ALL
    SELECT tmdb_id, part_rank, 0, 'credits.' || part || ': expected a list'
    FROM lists
    WHERE credits_type = 'object' AND coalesce(jsonb_typeof(list), 'null') NOT IN ('array', 'null')
    UNION ALL
    SELECT l.tmdb_id, l.part_rank, c.ord, 'credits.' || l.part || '[' || (c.ord - 1) || ']: ' || CASE
        WHEN jsonb_typeof(c.v) <> 'object' THEN 'expected an object'
        WHEN NOT (jsonb_typeof(c.v -> 'id') = 'number' AND (c.v ->> 'id') ~ '^[0-9]{{1,10}}$'
                  AND (c.v ->> 'id')::bigint BETWEEN 1 AND 2147483647)
            THEN 'id: expected a positive integer'
        WHEN NOT ({_pg_text_or_null("credit_id")})
            THEN 'credit_id: expected a string'
        WHEN NOT ({_pg_text_or_null("name")}
                  AND {_pg_text_or_null("original_name")}
                  AND {_pg_text_or_null("known_for_department")}
                  AND {_pg_text_or_null("profile_path")}
                  AND (c.v -> 'gender' IS NULL OR jsonb_typeof(c.v -> 'gender') = 'null'
                       OR (jsonb_typeof(c.v -> 'gender') = 'number' AND (c.v ->> 'gender') ~ '^-?[0-9]{{1,3}}$')))
            THEN 'name, original_name, known_for_department and profile_path must be strings or null, gender a small integer or null'
        WHEN l.part = 'cast' AND NOT (
                  (c.v -> 'order' IS NULL OR jsonb_typeof(c.v -> 'order') = 'null'
                   OR (jsonb_typeof(c.v -> 'order') = 'number' AND (c.v ->> 'order') ~ '^-?[0-9]{{1,10}}$'
                       AND abs((c.v ->> 'order')::bigint) <= 2147483647))
                  AND {_pg_text_or_null("character")})
            THEN 'order must be an integer and character a string'
        WHEN l.part = 'crew' AND NOT ({_pg_text_or_null("department")}
                                      AND {_pg_text_or_null("job")})
            THEN 'department and job must be strings'
        END
    FROM lists l CROSS JOIN LATERAL jsonb_array_elements(l.list) WITH ORDINALITY AS c(v, ord)
    WHERE l.credits_type = 'object' AND jsonb_typeof(l.list) = 'array'
)
SELECT DISTINCT ON (tmdb_id) tmdb_id, reason FROM problem WHERE reason IS NOT NULL
ORDER BY tmdb_id, part_rank, ord
"""
def _jsonpath_credit_check(part: str) -> str:
    """A jsonpath that finds any credit of a list that parse_movie would refuse (a fast first pass:
    it runs in C over each list, where the row-by-row reasons below cost three times as much)."""

    def text(field: str) -> str:
        return f'(exists(@.{field}) && @.{field}.type() != "string" && @.{field}.type() != "null")'

    def integer(field: str, low: int, high: int) -> str:
        return (f'(exists(@.{field}) && @.{field}.type() != "null" && (@.{field}.type() != "number"'
                f" || @.{field}.floor() != @.{field} || @.{field} < {low} || @.{field} > {high}))")

    checks = [
        '@.type() != "object"',
        '!(@.id.type() == "number")',
        "@.id < 1", "@.id > 2147483647", "@.id.floor() != @.id",
        *(text(f) for f in ("credit_id", "name", "original_name", "known_for_department", "profile_path")),
        integer("gender", -999, 999),
    ]
    if part == "cast":
        checks += [integer("order", -2147483647, 2147483647), text("character")]
    else:
        checks += [text("department"), text("job")]
    return "lax $[*] ? (" + " || ".join(checks) + ")"


_PG_CREDIT_SUSPECTS_SQL = f"""
WITH {_PG_STAGED_CREDITS}
SELECT DISTINCT tmdb_id FROM lists
WHERE coalesce(credits_type, 'null') NOT IN ('object', 'null')
   OR (credits_type = 'object' AND coalesce(jsonb_typeof(list), 'null') NOT IN ('array', 'null'))
   OR (jsonb_typeof(list) = 'array' AND jsonb_path_exists(
           list, CASE part WHEN 'cast' THEN CAST(%(cast_check)s AS jsonpath)
                           ELSE CAST(%(crew_check)s AS jsonpath) END))
"""
_PG_CREDIT_CHECKS = {"cast_check": _jsonpath_credit_check("cast"), "crew_check": _jsonpath_credit_check("crew")}


_PG_CREDITS_SQL = f"""
WITH {_PG_STAGED_CREDITS}, credit AS MATERIALIZED (
    SELECT l.tmdb_id, l.part_rank, c.ord,
           COALESCE(c.v ->> 'credit_id', l.part || ':' || (c.v ->> 'id') || ':' || (c.ord - 1)) AS credit_id,
           (c.v ->> 'id')::integer AS person_id,
           c.v ->> 'name' AS name, c.v ->> 'original_name' AS original_name,
           (c.v ->> 'gender')::integer AS gender, c.v ->> 'known_for_department' AS known_for_department,
           c.v ->> 'profile_path' AS profile_path,
           (c.v ->> 'order')::integer AS cast_order, c.v ->> 'character' AS "character",
           c.v ->> 'department' AS department, c.v ->> 'job' AS job
    FROM lists l CROSS JOIN LATERAL jsonb_array_elements(l.list) WITH ORDINALITY AS c(v, ord)
    WHERE l.credits_type = 'object' AND jsonb_typeof(l.list) = 'array'
), cast_rows AS (
    INSERT INTO movie_cast (tmdb_id, credit_id, person_id, cast_order, "character")
    SELECT DISTINCT ON (tmdb_id, credit_id) tmdb_id, credit_id, person_id, cast_order, "character"
    FROM credit WHERE part_rank = 0
    ORDER BY tmdb_id, credit_id, ord
    RETURNING 1
), crew_rows AS (
    INSERT INTO movie_crew (tmdb_id, credit_id, person_id, department, job)
    SELECT DISTINCT ON (tmdb_id, credit_id) tmdb_id, credit_id, person_id, department, job
    FROM credit WHERE part_rank = 1
    ORDER BY tmdb_id, credit_id, ord
    RETURNING 1
), people_rows AS (
    INSERT INTO people (person_id, name, original_name, gender, known_for_department, profile_path)
    SELECT DISTINCT ON (person_id)
           person_id, name, original_name, gender, known_for_department, profile_path
    FROM credit
    ORDER BY person_id, tmdb_id DESC, part_rank, ord
    ON CONFLICT (person_id) DO UPDATE SET
        name = EXCLUDED.name, original_name = EXCLUDED.original_name, gender = EXCLUDED.gender,
        known_for_department = EXCLUDED.known_for_department, profile_path = EXCLUDED.profile_path
    WHERE (people.name, people.original_name, people.gender, people.known_for_department,
           people.profile_path)
          IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.original_name, EXCLUDED.gender,
                            EXCLUDED.known_for_department, EXCLUDED.profile_path)
)
SELECT (SELECT count(*) FROM cast_rows), (SELECT count(*) FROM crew_rows),
       (SELECT count(DISTINCT person_id) FROM credit)
"""


def _can_copy(conn: Connection) -> bool:
    """COPY goes through psycopg2's copy_expert; other PostgreSQL drivers take the executemany path."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2"


def _write_movies(conn: Connection, parsed: list[tuple[MovieRows, datetime]]) -> dict[str, int]:
    """Replace the movies rows and every child row of these complete movies (caller's transaction).

    Writes go in one order (movies, then genres, people, keywords, each sorted by key), so two
    runs normalizing overlapping movies wait for each other instead of deadlocking. On
    PostgreSQL the credits and people are extracted server-side from the staged JSONB and the
    other rows travel by COPY; SQLite runs in-process, where executemany is already cheap.
    """
    counts: dict[str, int] = {}
    if not parsed:
        return counts
    postgres = conn.dialect.name == "postgresql"
    copy = _can_copy(conn)
    parsed = sorted(parsed, key=lambda item: item[0].tmdb_id)  # one lock order for every writer
    ids = [rows.tmdb_id for rows, _ in parsed]
    movie_rows = [{**rows.movie, "fetched_at": fetched_at, "deleted_at": None} for rows, fetched_at in parsed]
    if copy:
        # tmdb_data comes from the staged payload server-side: 50 KB a movie not encoded again.
        columns = [c for c in _MOVIE_COLUMNS if c != "tmdb_data"]
        _pg_upsert_via_copy(conn, s.movies, "tmdb_id", columns, movie_rows, only_if_changed=False,
                            extra=("tmdb_data", s.tmdb_details_staging.name, "payload"))
    else:
        _write_many(conn, _upsert_statement(conn, s.movies, ["tmdb_id"], _MOVIE_COLUMNS), movie_rows)
        if postgres:  # Python got the payload without its credits: keep the whole raw response
            conn.exec_driver_sql(
                "UPDATE movies SET tmdb_data = st.payload FROM tmdb_details_staging st "
                "WHERE st.tmdb_id = movies.tmdb_id AND movies.tmdb_id = ANY(%(ids)s)",
                {"ids": ids},
            )

    for attribute, table, key in _LOOKUP_WRITES:
        merged: dict[int, dict] = {}
        for rows, _ in parsed:
            for row in getattr(rows, attribute):
                merged[row[key]] = row
        lookup_rows = [merged[k] for k in sorted(merged)]
        if lookup_rows:
            columns = [c.name for c in table.columns]
            if copy:
                _pg_upsert_via_copy(conn, table, key, columns, lookup_rows, only_if_changed=True)
            else:
                _write_many(conn, _upsert_statement(conn, table, [key], columns, only_if_changed=True),
                            lookup_rows)
        counts[attribute] = len(lookup_rows)

    for attribute, table in _CHILD_WRITES:
        conn.execute(table.delete().where(table.c.tmdb_id.in_(ids)))
    if postgres:
        # The credit expansion of a 200-movie batch (~60,000 rows) sorts in memory, not on disk.
        conn.exec_driver_sql("SET LOCAL work_mem = '128MB'")
        # Not waiting for the WAL flush is safe here: a crash can only lose whole recent batches,
        # and with them their unstaging, so those responses are simply normalized again.
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        counts["cast"], counts["crew"], counts["people"] = conn.exec_driver_sql(
            _PG_CREDITS_SQL, {"ids": ids}
        ).one()
    for attribute, table in _CHILD_WRITES:
        child_rows = [row for rows, _ in parsed for row in getattr(rows, attribute)]
        if postgres and attribute in ("cast", "crew"):
            continue  # written above from the staged JSONB
        if child_rows:
            if copy:
                _copy_into(conn, table.name, [c.name for c in table.columns], child_rows)
            else:
                conn.execute(table.insert(), child_rows)
        counts[attribute] = len(child_rows)

    d = s.discovered_movies
    # A movie that answers again is not deleted any more (mark_deleted dropped older responses).
    undeleted = _lock_in_key_order(conn, d, sa.and_(d.c.tmdb_id.in_(ids), d.c.deleted_at.is_not(None)))
    if undeleted:
        conn.execute(d.update().where(d.c.tmdb_id.in_(undeleted)).values(deleted_at=None))
    return counts


def _unstage(conn: Connection, staged: Iterable[tuple[int, datetime]]) -> None:
    """Delete the staged rows this batch normalized, unless a newer response replaced one since."""
    st = s.tmdb_details_staging
    by_time: dict[datetime, list[int]] = {}
    for tmdb_id, fetched_at in staged:
        by_time.setdefault(fetched_at, []).append(tmdb_id)
    for fetched_at, ids in by_time.items():
        conn.execute(st.delete().where(st.c.tmdb_id.in_(ids), st.c.fetched_at == fetched_at))


def _strip_nul(value):
    """PostgreSQL text and JSONB cannot hold U+0000; TMDb strings occasionally carry one."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    return value


def _short_error(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {text}"[:300]


def _old_years(conn: Connection, ids: Sequence[int]) -> dict[int, int | None]:
    m = s.movies
    return dict(
        conn.execute(sa.select(m.c.tmdb_id, m.c.release_year).where(m.c.tmdb_id.in_(list(ids)))).all()
    )


class _Tally:
    def __init__(self, year: int | None):
        self.year = year
        self.counts = {
            "normalized": 0, "failed": 0, "moved_out": 0, "moved_in": 0, "other_year": 0,
            "undated": 0, "batches": 0, "genres": 0, "people": 0, "keywords": 0,
        }
        for attribute, _ in _CHILD_WRITES:
            self.counts[attribute] = 0

    def add(self, parsed: list[tuple[MovieRows, datetime]], old_years: dict, written: dict) -> None:
        for rows, _ in parsed:
            new_year = rows.release_year
            old_year = old_years.get(rows.tmdb_id)
            self.counts["normalized"] += 1
            if new_year is None:
                self.counts["undated"] += 1
            if new_year != self.year:
                self.counts["other_year"] += 1
                if old_year == self.year:
                    self.counts["moved_out"] += 1
            elif rows.tmdb_id in old_years and old_year != self.year:
                self.counts["moved_in"] += 1
        for key, value in written.items():
            self.counts[key] += value


def _normalize_batch(engine: Engine, year: int, ids: Sequence[int], tally: _Tally,
                     failure_at: datetime) -> None:
    """One transaction: the batch's complete movies, their failures, and the unstaging."""
    with engine.begin() as conn:
        staged = _lock_staged(conn, ids)
        parsed: list[tuple[MovieRows, datetime]] = []
        failures: list[tuple[int, str, int | None]] = []
        for tmdb_id, payload, fetched_at in staged:
            try:
                rows = parse_movie(payload)
                if rows.tmdb_id != tmdb_id:
                    raise MalformedMovie(f"the response is for id {rows.tmdb_id}, not {tmdb_id}")
                parsed.append((rows, fetched_at))
            except MalformedMovie as error:
                failures.append((tmdb_id, f"malformed: {error.reason}", None))
        if conn.dialect.name == "postgresql" and parsed:
            # The credits stayed in the database: check them there (same rules as parse_movie),
            # quickly for the whole batch, then with reasons for the few that look wrong.
            suspects = conn.exec_driver_sql(
                _PG_CREDIT_SUSPECTS_SQL, {"ids": [rows.tmdb_id for rows, _ in parsed], **_PG_CREDIT_CHECKS}
            ).scalars().all()
            bad = {}
            if suspects:
                bad = dict(conn.exec_driver_sql(_PG_CREDIT_PROBLEMS_SQL, {"ids": list(suspects)}).all())
            if bad:
                failures += [(i, f"malformed: {reason}", None) for i, reason in bad.items()]
                parsed = [(rows, at) for rows, at in parsed if rows.tmdb_id not in bad]
        old_years = _old_years(conn, [rows.tmdb_id for rows, _ in parsed])
        written = _write_movies(conn, parsed)
        if failures:
            record_fetch_failures(conn, year, failures, failure_at)
        _unstage(conn, [(tmdb_id, fetched_at) for tmdb_id, _, fetched_at in staged])
    tally.add(parsed, old_years, written)
    tally.counts["failed"] += len(failures)
    tally.counts["batches"] += 1


def _normalize_one_by_one(engine: Engine, year: int, ids: Sequence[int], tally: _Tally,
                          failure_at: datetime) -> None:
    """After a batch failed on data: each movie alone, so one bad movie fails only itself."""
    for tmdb_id in ids:
        try:
            _normalize_batch(engine, year, [tmdb_id], tally, failure_at)
            continue
        except _DATA_ERRORS as error:
            if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
                raise
            reason = _short_error(error)
        if "0x00" in reason or "\\u0000" in reason or "NUL" in reason:
            try:  # the data is fine apart from NUL characters: store it without them
                _strip_staged_nul(engine, tmdb_id)
                _normalize_batch(engine, year, [tmdb_id], tally, failure_at)
                continue
            except _DATA_ERRORS as error:
                reason = _short_error(error)
        log.warning("TMDb movie %s could not be stored: %s", tmdb_id, reason)
        with engine.begin() as conn:
            record_fetch_failures(conn, year, [(tmdb_id, f"could not store: {reason}", None)], failure_at)
            st = s.tmdb_details_staging
            conn.execute(st.delete().where(st.c.tmdb_id == tmdb_id))
        tally.counts["failed"] += 1


def _strip_staged_nul(engine: Engine, tmdb_id: int) -> None:
    st = s.tmdb_details_staging
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(st.c.payload, st.c.fetched_at).where(st.c.tmdb_id == tmdb_id)
        ).one_or_none()
        if row is not None:
            conn.execute(st.update().where(st.c.tmdb_id == tmdb_id).values(payload=_strip_nul(row.payload)))


def normalize_staged(engine: Engine, year: int, batch_size: int = 200) -> dict:
    """Move the year's staged raw responses into movies and its child tables.

    Staged responses of the year are those whose release date is in `year`, or whose movie
    discovery or the movies table puts in `year` (so a movie that moved out is normalized by the
    run that fetched it, and leaves the year). Each batch of up to `batch_size` movies is one
    transaction holding complete movies: movies row, genres, people, credits, release dates,
    external ids, videos, keywords and watch providers, plus the deletion of those staged rows.
    A malformed payload (or one the database refuses) is recorded as a fetch failure of the year
    with its reason, and its staged row dropped, so the next run fetches it again ("retry");
    the movie's previous rows stay as they were. Idempotent: with nothing staged it changes
    nothing. Database trouble (connection lost) is raised, not recorded as movie failures.

    A movie's release_year is the year of its details' release_date (TMDb's primary release date,
    the date discover's primary_release_year filters on), not the year whose run fetched it: so a
    movie whose date moved leaves `year` here, and one whose details have no date gets NULL and
    belongs to no year. Discover by year never returns an undated movie, so keeping the
    discovered year instead would file it under a year TMDb itself no longer puts it in.

    On PostgreSQL the credits never leave the database: they are checked (same rules as
    parse_movie) and written to movie_cast, movie_crew and people from the staged JSONB, and the
    other child rows travel by COPY. SQLite uses parse_movie's rows; a test keeps both identical.

    Returns counts for metadata: normalized, failed, movies_in_year, moved_out (was in `year`,
    now elsewhere), moved_in, other_year, undated, deleted (rows of the year marked deleted),
    batches, seconds, movies_per_second, and rows written per child table.
    """
    started = time.monotonic()
    with engine.connect() as conn:
        ids = _staged_ids_of_year(conn, year)
    tally = _normalize_in_batches(engine, year, ids, batch_size)
    m = s.movies
    with engine.connect() as conn:
        in_year, deleted = conn.execute(
            sa.select(
                sa.func.count().filter(m.c.deleted_at.is_(None)),
                sa.func.count().filter(m.c.deleted_at.is_not(None)),
            ).where(m.c.release_year == year)
        ).one()
    seconds = time.monotonic() - started
    return {
        **tally.counts,
        "movies_in_year": int(in_year),
        "deleted": int(deleted),
        "seconds": round(seconds, 3),
        "movies_per_second": round(tally.counts["normalized"] / seconds, 1) if seconds > 0 else 0.0,
    }


def _normalize_in_batches(engine: Engine, year: int | None, ids: Sequence[int], batch_size: int) -> _Tally:
    failure_at = datetime.now(timezone.utc)
    tally = _Tally(year)
    for batch in _chunks(ids, max(1, batch_size)):
        try:
            _normalize_batch(engine, year, batch, tally, failure_at)
        except _DATA_ERRORS as error:
            if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
                raise
            log.warning("a batch of %s movies failed (%s); storing them one by one", len(batch),
                        _short_error(error))
            _normalize_one_by_one(engine, year, batch, tally, failure_at)
    return tally


def normalize_staged_ids(engine: Engine, ids: Sequence[int], batch_size: int = 200) -> dict:
    """normalize_staged for the staged responses of `ids` whatever their year (the gap fill's
    movies: undated, or dated but returned by no year's discovery). Their failures are filed under
    no year. Returns the tally: normalized, failed, undated, batches, rows per child table."""
    return dict(_normalize_in_batches(engine, None, sorted(set(ids)), batch_size).counts)


# ------------------------------------------------------------------------------------ checks
def year_movie_ids(conn: Connection, year: int, include_deleted: bool = False) -> set[int]:
    """Ids of the movies rows whose release_year is `year` (deleted ones only if asked)."""
    m = s.movies
    query = sa.select(m.c.tmdb_id).where(m.c.release_year == year)
    if not include_deleted:
        query = query.where(m.c.deleted_at.is_(None))
    return set(conn.execute(query).scalars())


def duplicate_movie_ids(conn: Connection, year: int) -> list[int]:
    """Ids of the year with duplicate rows in movies or a child table (for the uniqueness check).

    The tables' primary keys make duplicates impossible today; this check is what would notice a
    key dropped by a later migration (credits keyed by credit_id, release dates by position...).
    """
    m = s.movies
    year_ids = sa.select(m.c.tmdb_id).where(m.c.release_year == year).scalar_subquery()
    found: set[int] = set()
    checks = [(m, ["tmdb_id"])] + [
        (table, [c.name for c in table.primary_key.columns]) for _, table in _CHILD_WRITES
    ]
    for table, key in checks:
        query = (
            sa.select(table.c.tmdb_id)
            .where(table.c.tmdb_id.in_(year_ids))
            .group_by(*[table.c[c] for c in key])
            .having(sa.func.count() > 1)
        )
        found.update(conn.execute(query).scalars())
    return sorted(found)


def movies_missing_title(conn: Connection, year: int) -> list[int]:
    """Ids of the year's (not deleted) movies without a title (NULL or blank)."""
    m = s.movies
    query = (
        sa.select(m.c.tmdb_id)
        .where(
            m.c.release_year == year,
            m.c.deleted_at.is_(None),
            sa.or_(m.c.title.is_(None), sa.func.trim(m.c.title) == ""),
        )
        .order_by(m.c.tmdb_id)
    )
    return list(conn.execute(query).scalars())
