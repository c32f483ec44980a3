"""Which movies need their details fetched, and the marks that put them in that queue.

The second stage: after discovery (discovery.py), movies_needing_details lists the ids of a year
whose details must be fetched (new, retried, vanished, changed, stale, rediscovered) under a
StalenessPolicy; the changes feed adds to it with mark_changed, a 404 takes a movie out with
mark_deleted (its rows are kept), and years_of_movies says which years a re-sync must cover.

How a year's movies stay right: a movie's year is the year of its details' release_date (TMDb's
primary release date, the one discover filters on). A movie whose date moved leaves the old year
when its new details are normalized; one whose details lost their date belongs to no year. A 404
keeps the rows and sets deleted_at; a later successful fetch clears it (movie_rows.write_movies).

Every function takes a SQLAlchemy Connection and runs in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cinegraph_assets.warehouse import schema as s
from cinegraph_assets.warehouse.bulk_write import IN_CHUNK, chunks
from cinegraph_assets.warehouse.row_locks import lock_in_key_order, sorted_ids
from cinegraph_assets.warehouse.utc import from_db, to_utc


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
    now = to_utc(now)
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
        changed_at = from_db(row.changed_at)
        deleted_at = max(
            (t for t in (from_db(row.deleted_at), from_db(row.movie_deleted_at)) if t), default=None
        )
        fetched_at = from_db(row.fetched_at)
        vanished_at = from_db(row.vanished_at)
        last_seen_at = from_db(row.last_seen_at)
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


def mark_deleted(conn: Connection, tmdb_ids: list[int], at: datetime) -> int:
    """TMDb answered 404: set deleted_at on movies and discovered_movies (rows are kept).

    Also drops staged responses fetched before the 404 and the ids' fetch failures (a 404 is an
    answer, not a failure). Returns the number of ids the warehouse knows that were marked.
    """
    at = to_utc(at)
    ids = sorted_ids(tmdb_ids)
    known: set[int] = set()
    for chunk in chunks(ids, IN_CHUNK):
        # Staging first: a normalizer holding these staged rows finishes before we touch the
        # movies rows it writes (the same order it takes its locks in).
        st = s.tmdb_details_staging
        conn.execute(st.delete().where(st.c.tmdb_id.in_(chunk), st.c.fetched_at <= at))
        for table in (s.movies, s.discovered_movies):
            found = lock_in_key_order(conn, table, table.c.tmdb_id.in_(chunk))
            conn.execute(table.update().where(table.c.tmdb_id.in_(chunk)).values(deleted_at=at))
            known.update(found)
        conn.execute(s.tmdb_fetch_failures.delete().where(s.tmdb_fetch_failures.c.tmdb_id.in_(chunk)))
    return len(known)


def mark_changed(conn: Connection, tmdb_ids: list[int], at: datetime) -> int:
    """TMDb reported these ids changed (the changes sensor): changed_at=at on discovered ids.

    Returns how many discovered ids were marked (ids never discovered are not known here yet).
    """
    at = to_utc(at)
    t = s.discovered_movies
    marked = 0
    for chunk in chunks(sorted_ids(tmdb_ids), IN_CHUNK):
        # Key order, as every writer of these rows locks them (a discovery may be writing them).
        lock_in_key_order(conn, t, t.c.tmdb_id.in_(chunk))
        marked += conn.execute(t.update().where(t.c.tmdb_id.in_(chunk)).values(changed_at=at)).rowcount
    return marked


def years_of_movies(conn: Connection, tmdb_ids: list[int]) -> dict[int, set[int]]:
    """id -> the release years the warehouse files it under, for every id it knows: the year of its
    details and the year its last discovery put it in. They differ while a move is half-seen (the
    details say the new year, discovery has not run there yet), and a re-sync must cover both: the
    details' year discovers it, the discovered year schedules its details. An undated movie known
    to the warehouse maps to an empty set; ids the warehouse never saw are left out."""
    ids = sorted_ids(tmdb_ids)
    years: dict[int, set[int]] = {}
    for chunk in chunks(ids, IN_CHUNK):
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
