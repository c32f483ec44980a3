"""The whole catalog against TMDb's daily id export: which export ids no year holds (the gap), and
how much of the export the warehouse accounts for.

A year's discovery (/discover/movie filtered by release date) can never return a movie without a
release date, nor, by default, one flagged `video`. The export lists every id. An id of the newest
export is *owned by a year* while a year's last discovery returned it (discovered_movies, not
vanished): that year's details run fetches and refreshes it. Every other id is the gap's: the gap
fill (tmdb_gap_movies) fetches it once, and again when its details go stale under the same
StalenessPolicy as the years'.

Every export id is in exactly one kind (`catalog_accounting`), first match wins:
- deleted: TMDb answered 404 (movies.deleted_at, or tmdb_export_ids.not_found_at for an id never held);
- held / held_undated: a normalized movies row, with or without a release year;
- failed: its last details request failed, with the reason in tmdb_fetch_failures;
- pending_years: a year's discovery returned it and that year's details run has not fetched it yet;
- pending_gap: the gap fill has not reached it yet (staged responses count here until normalized).
"accounted for" is deleted + held + held_undated + failed.

Every function takes a Connection and runs in the caller's transaction; SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from cinegraph_assets.warehouse import schema as s
from cinegraph_assets.warehouse.bulk_write import IN_CHUNK, chunks
from cinegraph_assets.warehouse.details_queue import StalenessPolicy
from cinegraph_assets.warehouse.export_ids import latest_export_date
from cinegraph_assets.warehouse.utc import from_db, to_utc

#: Reasons gap_todo gives, in the order a run spends its budget on them.
GAP_REASONS = ("left", "back", "new", "retry", "stale")
#: A gap movie whose request failed is asked again only after this long, so a run's budget goes to
#: movies never asked first and a failing one is not retried in a tight loop (twice a day at most).
RETRY_AFTER = timedelta(hours=12)
#: The kinds an export id can be in (catalog_accounting), accounted-for ones first.
ACCOUNTED_KINDS = ("held", "held_undated", "deleted", "failed")
PENDING_KINDS = ("pending_years", "pending_gap")

e, d, m, f, st = (s.tmdb_export_ids, s.discovered_movies, s.movies, s.tmdb_fetch_failures,
                  s.tmdb_details_staging)


def _joined():
    """Export ids with what the warehouse knows of each: the owning year's discovery, the movies
    row, a fetch failure, a staged response."""
    return (e.outerjoin(d, sa.and_(d.c.tmdb_id == e.c.tmdb_id, d.c.vanished_at.is_(None)))
            .outerjoin(m, m.c.tmdb_id == e.c.tmdb_id)
            .outerjoin(f, f.c.tmdb_id == e.c.tmdb_id)
            .outerjoin(st, st.c.tmdb_id == e.c.tmdb_id))


class _utc_date(FunctionElement):
    """The UTC calendar day of a stored timestamp (PostgreSQL's date() would follow the session's
    TimeZone; SQLite stores UTC already)."""

    type = sa.Date()
    inherit_cache = True


@compiles(_utc_date)
def _utc_date_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(_utc_date, "postgresql")
def _utc_date_postgresql(element, compiler, **kw):
    return f"(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC')::date"


def _answered_404():
    """TMDb answered 404 during the id's current stretch in the export (an id back after leaving
    is asked again)."""
    return sa.and_(e.c.not_found_at.is_not(None), _utc_date(e.c.not_found_at) >= e.c.first_seen)


def _in_export(conn: Connection, include_adult: bool):
    """Conditions for the ids the newest export lists (None when no export was loaded)."""
    newest = latest_export_date(conn)
    if newest is None:
        return None
    where = [e.c.last_seen == newest, e.c.left_on.is_(None)]
    if not include_adult:
        where.append(e.c.adult.is_(False))
    return sa.and_(*where)


def _kind():
    return sa.case(
        (sa.or_(_answered_404(), m.c.deleted_at.is_not(None)), "deleted"),
        (sa.and_(m.c.fetched_at.is_not(None), m.c.release_year.is_not(None)), "held"),
        (m.c.fetched_at.is_not(None), "held_undated"),
        (f.c.tmdb_id.is_not(None), "failed"),
        (d.c.tmdb_id.is_not(None), "pending_years"),
        else_="pending_gap",
    )


# ------------------------------------------------------------------------------------ the gap
def gap_todo(conn: Connection, *, include_adult: bool, now: datetime, policy: StalenessPolicy,
             limit: int) -> list[tuple[int, str]]:
    """(tmdb_id, reason) of at most `limit` ids the gap fill should ask TMDb for, in this order:

    - "left": ids that left the export and were not answered since (one request each: a 404
      confirms the deletion, a response keeps the movie);
    - "back": movies marked deleted before the export listed them again (deleted and restored);
    - "new": ids of the newest export no year owns and the warehouse never held, most popular first;
    - "retry": such ids whose request failed at least RETRY_AFTER ago;
    - "stale": held movies no year owns (undated, video) whose details are older than the policy
      allows for the movie's age, oldest first.
    Never: ids owned by a year (their year fetches them), ids staged and not normalized yet,
    ids answered 404 (until they come back to the export).
    """
    now = to_utc(now)
    in_export = _in_export(conn, include_adult)
    if in_export is None or limit <= 0:
        return []
    retry_before = now - RETRY_AFTER
    not_waiting = sa.or_(f.c.tmdb_id.is_(None), f.c.last_attempt_at <= retry_before)
    alive = sa.and_(st.c.tmdb_id.is_(None), sa.not_(_answered_404()), m.c.deleted_at.is_(None))
    todo: list[tuple[int, str]] = []

    def take(query, reason: str) -> None:
        room = limit - len(todo)
        if room > 0:
            todo.extend((tmdb_id, reason) for tmdb_id in conn.execute(query.limit(room)).scalars())

    left = e.c.left_on.is_not(None)
    if not include_adult:
        left = sa.and_(left, e.c.adult.is_(False))
    # A response fetched after the export that left the id out was loaded says the movie lives on.
    omitted_by = s.tmdb_exports
    take(sa.select(e.c.tmdb_id)
         .select_from(_joined().join(omitted_by, omitted_by.c.export_date == e.c.left_on))
         .where(left, alive, not_waiting,
                sa.or_(m.c.fetched_at.is_(None), m.c.fetched_at < omitted_by.c.loaded_at))
         .order_by(e.c.tmdb_id), "left")
    # Deleted before its current stretch in the export began: TMDb lists it again, so ask once.
    take(sa.select(e.c.tmdb_id).select_from(_joined()).where(
        in_export, d.c.tmdb_id.is_(None), st.c.tmdb_id.is_(None), sa.not_(_answered_404()), not_waiting,
        m.c.deleted_at.is_not(None), _utc_date(m.c.deleted_at) < e.c.first_seen,
    ).order_by(e.c.tmdb_id), "back")
    gap = sa.and_(in_export, d.c.tmdb_id.is_(None), alive)
    take(sa.select(e.c.tmdb_id).select_from(_joined()).where(
        gap, m.c.fetched_at.is_(None), f.c.tmdb_id.is_(None),
    ).order_by(e.c.popularity.desc().nulls_last(), e.c.tmdb_id), "new")
    take(sa.select(e.c.tmdb_id).select_from(_joined()).where(
        gap, m.c.fetched_at.is_(None), f.c.tmdb_id.is_not(None), f.c.last_attempt_at <= retry_before,
    ).order_by(f.c.last_attempt_at, e.c.tmdb_id), "retry")
    if len(todo) < limit:
        today = now.date()
        held = conn.execute(sa.select(e.c.tmdb_id, m.c.fetched_at, m.c.release_date).select_from(_joined())
                            .where(gap, m.c.fetched_at.is_not(None), not_waiting)
                            .order_by(m.c.fetched_at, e.c.tmdb_id))
        for tmdb_id, fetched_at, release_date in held:
            if len(todo) >= limit:
                break
            if now - from_db(fetched_at) > policy.max_age(release_date, today):
                todo.append((tmdb_id, "stale"))
    return todo


def gap_size(conn: Connection, *, include_adult: bool) -> int:
    """Ids of the newest export that no year's discovery owns: the gap fill's whole task."""
    in_export = _in_export(conn, include_adult)
    if in_export is None:
        return 0
    return conn.execute(sa.select(sa.func.count()).select_from(
        e.outerjoin(d, sa.and_(d.c.tmdb_id == e.c.tmdb_id, d.c.vanished_at.is_(None))))
        .where(in_export, d.c.tmdb_id.is_(None))).scalar()


def staged_gap_ids(conn: Connection) -> list[int]:
    """Staged responses no year's discovery owns (the gap fill's to normalize), by id."""
    query = (sa.select(st.c.tmdb_id)
             .select_from(st.outerjoin(d, sa.and_(d.c.tmdb_id == st.c.tmdb_id, d.c.vanished_at.is_(None))))
             .where(d.c.tmdb_id.is_(None)).order_by(st.c.tmdb_id))
    return list(conn.execute(query).scalars())


def mark_not_found(conn: Connection, tmdb_ids: Sequence[int], at: datetime) -> int:
    """TMDb answered 404 (code 34) for these export ids: record it (they count as deleted)."""
    marked = 0
    for chunk in chunks(sorted({int(i) for i in tmdb_ids}), IN_CHUNK):
        marked += conn.execute(e.update().where(e.c.tmdb_id.in_(chunk)).values(not_found_at=to_utc(at))).rowcount
    return marked


# ------------------------------------------------------------------------------------ accounting
def catalog_accounting(conn: Connection, *, include_adult: bool) -> dict:
    """The newest export against the warehouse: export_date, export_ids, a count per kind (see
    the module docstring), accounted (their sum) and accounted_pct (of export_ids, 3 decimals;
    100.0 for an empty or missing export)."""
    counts = {kind: 0 for kind in ACCOUNTED_KINDS + PENDING_KINDS}
    in_export = _in_export(conn, include_adult)
    export_date = latest_export_date(conn)
    if in_export is not None:
        kind = _kind().label("kind")
        rows = conn.execute(sa.select(kind, sa.func.count()).select_from(_joined()).where(in_export)
                            .group_by(kind))
        counts.update({k: int(n) for k, n in rows})
    total = sum(counts.values())
    accounted = sum(counts[k] for k in ACCOUNTED_KINDS)
    return {
        "export_date": export_date,
        "export_ids": total,
        **counts,
        "accounted": accounted,
        "accounted_pct": round(100.0 * accounted / total, 3) if total else 100.0,
    }


def missing_examples(conn: Connection, *, include_adult: bool, per_kind: int = 5) -> dict[str, list[int]]:
    """A few ids of each kind not accounted for (the most popular first), to say what is missing."""
    in_export = _in_export(conn, include_adult)
    if in_export is None:
        return {}
    kind = _kind()
    found: dict[str, list[int]] = {}
    for name in PENDING_KINDS:
        ids = conn.execute(sa.select(e.c.tmdb_id).select_from(_joined()).where(in_export, kind == name)
                           .order_by(e.c.popularity.desc().nulls_last(), e.c.tmdb_id).limit(per_kind)).scalars()
        found[name] = list(ids)
    return {name: ids for name, ids in found.items() if ids}


def failures_by_reason(conn: Connection, *, include_adult: bool) -> dict[str, int]:
    """The failed export ids of the newest export, counted by the reason of their last failure."""
    in_export = _in_export(conn, include_adult)
    if in_export is None:
        return {}
    rows = conn.execute(sa.select(f.c.reason, sa.func.count()).select_from(_joined())
                        .where(in_export, _kind() == "failed").group_by(f.c.reason).order_by(f.c.reason))
    return {reason: int(n) for reason, n in rows}


def export_load_time(conn: Connection, export_date: date) -> datetime | None:
    """When the export of `export_date` was loaded (None if it was not)."""
    loaded = conn.execute(sa.select(s.tmdb_exports.c.loaded_at)
                          .where(s.tmdb_exports.c.export_date == export_date)).scalar()
    return from_db(loaded)
