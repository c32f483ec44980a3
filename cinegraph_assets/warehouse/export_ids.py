"""TMDb's daily id export in the warehouse: every movie id TMDb lists, when each was first and last
seen, and which ones left.

`load_export` takes the export's records as a stream (tmdb/id_export.py reads the file; this module
never imports it) and loads them in one transaction: bounded batches go into a session temp table
(COPY on PostgreSQL, executemany on SQLite), then one INSERT .. ON CONFLICT merges them into
`tmdb_export_ids`, the ids the export no longer lists are marked as left, and `tmdb_exports` records
the export's size and what it changed. A stream that fails half way (a truncated gzip) rolls all of
it back: the warehouse keeps the previous export whole.

Loading the same export again changes nothing and reports the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from itertools import islice
from typing import Iterable, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from cinegraph_assets.warehouse.bulk_write import insert_tuples
from cinegraph_assets.warehouse.schema import tmdb_export_ids, tmdb_exports

#: A new export listing fewer than this share of the previous (trusted) export's ids is not believed
#: about the ids it leaves out: nothing is marked as left from it. TMDb's catalog only grows (about
#: 0.1% new ids a day, far fewer deletions), so a drop of 10% is a partial or broken file, never a
#: real day; the ids it does list are still recorded as seen.
SUSPICIOUSLY_SMALL_RATIO = 0.9
#: Records per batch on their way to the temp table: a few MB of Python objects at a time, however
#: long the export (1.24 million lines in 2026).
BATCH_ROWS = 20_000


class ExportId(NamedTuple):
    """One line of the export, as the TMDb room hands it down."""

    tmdb_id: int
    adult: bool
    video: bool
    popularity: float | None
    original_title: str | None


class ExportOutOfOrder(ValueError):
    """An export older than one already loaded: loading it would move last_seen backwards."""


class EmptyExport(ValueError):
    """An export without a single movie id: a broken file, not a catalog."""


@dataclass(frozen=True)
class ExportLoad:
    """What loading one export found and changed."""

    export_date: date
    previous_export: date | None  # the trusted export it was compared with (None: the first one)
    movie_ids: int  # distinct ids of the movie file (adult = false)
    adult_ids: int | None  # distinct ids of the adult file, None when it was not loaded
    lines: int  # records read (an id listed twice counts twice)
    duplicate_ids: int  # records whose id an earlier line of the same export already listed
    new_ids: int  # ids the previous export did not list (new, or back after leaving)
    left_ids: int  # ids the previous export listed and this one does not
    left_held_back: bool  # suspiciously small: nothing was marked as left
    size_ratio: float | None  # movie_ids against the previous trusted export's

    @property
    def ids(self) -> int:
        return self.movie_ids + (self.adult_ids or 0)


_STAGING_NAME = "_tmdb_export_ids_in"


def _staging_table(postgres: bool) -> sa.Table:
    """The session temp table the records go through. Its line order, so that the last line of an id
    listed twice wins: a number PostgreSQL gives each row as COPY writes it, SQLite's own rowid."""
    line_order = [sa.Column("seq", sa.BigInteger, sa.Identity())] if postgres else []
    return sa.Table(
        _STAGING_NAME,
        sa.MetaData(),  # not part of the warehouse schema
        *line_order,
        sa.Column("tmdb_id", sa.Integer, nullable=False),
        sa.Column("adult", sa.Boolean, nullable=False),
        sa.Column("video", sa.Boolean, nullable=False),
        sa.Column("popularity", sa.Float),
        sa.Column("original_title", sa.Text),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


_STAGED = ("tmdb_id", "adult", "video", "popularity", "original_title")  # ExportId's fields, in order


def load_export(engine: Engine, export_date: date, records: Iterable[ExportId], *, include_adult: bool,
                now: datetime | None = None) -> ExportLoad:
    """Load one day's export (the movie file, and the adult file when `include_adult`) in one
    transaction. Raises ExportOutOfOrder for an export older than the newest loaded, EmptyExport
    for one without movie ids; any error, the stream's own included, leaves the warehouse as it was.
    """
    now = now or datetime.now(timezone.utc)
    with engine.begin() as conn:
        newest = conn.execute(sa.select(sa.func.max(tmdb_exports.c.export_date))).scalar()
        if newest is not None and export_date < newest:
            raise ExportOutOfOrder(
                f"the TMDb export of {export_date} is older than the one already loaded ({newest}); "
                "load that day's export or a newer one")
        if conn.dialect.name == "postgresql":
            # The merge sorts the whole export by id: in memory, not in temp files.
            conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        staging = _staging_table(conn.dialect.name == "postgresql")
        lines = _stage(conn, staging, records)
        merged = _merge(conn, staging, export_date)
        counts = _counts_seen(conn, export_date)
        movie_ids, adult_ids = counts.get(False, 0), (counts.get(True, 0) if include_adult else None)
        if movie_ids == 0:
            raise EmptyExport(f"the TMDb export of {export_date} lists no movie ids ({lines} lines read): "
                              "a broken file; nothing was changed, try again after TMDb republishes it")
        previous = _previous_trusted(conn, export_date, tmdb_exports.c.movie_ids)
        ratio = None if previous is None else movie_ids / max(1, previous.movie_ids)
        held_back = ratio is not None and ratio < SUSPICIOUSLY_SMALL_RATIO
        if adult_ids is not None:
            previous_adult = _previous_trusted(conn, export_date, tmdb_exports.c.adult_ids)
            held_back |= previous_adult is not None and adult_ids < SUSPICIOUSLY_SMALL_RATIO * previous_adult.adult_ids
        if previous is not None and not held_back:
            _mark_left(conn, export_date, include_adult)
        left = conn.execute(sa.select(sa.func.count()).where(tmdb_export_ids.c.left_on == export_date)).scalar()
        new = conn.execute(sa.select(sa.func.count()).where(tmdb_export_ids.c.first_seen == export_date)).scalar()
        _record(conn, export_date, movie_ids=movie_ids, adult_ids=adult_ids, new_ids=new, left_ids=left,
                left_held_back=held_back, loaded_at=now)
        if conn.dialect.name == "sqlite":
            staging.drop(conn)  # PostgreSQL drops it at commit
    return ExportLoad(export_date=export_date, previous_export=previous.export_date if previous else None,
                      movie_ids=movie_ids, adult_ids=adult_ids, lines=lines, duplicate_ids=lines - merged,
                      new_ids=new, left_ids=left, left_held_back=held_back,
                      size_ratio=None if ratio is None else round(ratio, 4))


def _stage(conn: Connection, staging: sa.Table, records: Iterable[ExportId]) -> int:
    """Write the records into the session's temp table, a batch at a time; returns how many."""
    staging.create(conn)
    stream = iter(records)
    total = 0
    while batch := list(islice(stream, BATCH_ROWS)):
        # A title with a NUL keeps the rest (PostgreSQL text cannot hold one).
        insert_tuples(conn, _STAGING_NAME, _STAGED, batch, strip_nul=True)
        total += len(batch)
    return total


def _merge(conn: Connection, staging: sa.Table, export_date: date) -> int:
    """Upsert the staged records into tmdb_export_ids (one row per id, its last line winning), in id
    order; returns the number of distinct ids."""
    s, t = staging.c, tmdb_export_ids
    line_order = s.seq if "seq" in s else sa.literal_column("rowid")
    ranked = sa.select(
        s.tmdb_id, s.adult, s.video, s.popularity, s.original_title,
        sa.func.row_number().over(partition_by=s.tmdb_id, order_by=line_order.desc()).label("rank"),
    ).subquery()
    day = sa.literal(export_date, sa.Date)
    latest = (sa.select(ranked.c.tmdb_id, ranked.c.adult, ranked.c.video, ranked.c.popularity,
                        ranked.c.original_title, day, day)
              .where(ranked.c.rank == 1).order_by(ranked.c.tmdb_id))
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(t)
    statement = insert.from_select(
        ["tmdb_id", "adult", "video", "popularity", "original_title", "first_seen", "last_seen"], latest,
    ).on_conflict_do_update(index_elements=["tmdb_id"], set_={
        "adult": insert.excluded.adult, "video": insert.excluded.video,
        "popularity": insert.excluded.popularity, "original_title": insert.excluded.original_title,
        # Back after leaving: a new stretch in the export begins (and its details are due again).
        "first_seen": sa.case((t.c.left_on.is_not(None), insert.excluded.first_seen), else_=t.c.first_seen),
        "last_seen": insert.excluded.last_seen,
        "left_on": None,
    })
    return conn.execute(statement).rowcount


def _counts_seen(conn: Connection, export_date: date) -> dict[bool, int]:
    t = tmdb_export_ids
    rows = conn.execute(sa.select(t.c.adult, sa.func.count()).where(t.c.last_seen == export_date).group_by(t.c.adult))
    return {bool(adult): n for adult, n in rows}


def _previous_trusted(conn: Connection, export_date: date, size: sa.Column):
    """The newest export before this one that was not held back and has a `size` (movie_ids, or
    adult_ids when its adult file was read): the yardstick for this one's size."""
    e = tmdb_exports
    return conn.execute(
        sa.select(e.c.export_date, e.c.movie_ids, e.c.adult_ids)
        .where(e.c.export_date < export_date, e.c.left_held_back.is_(False), size.is_not(None))
        .order_by(e.c.export_date.desc()).limit(1)
    ).first()


def _mark_left(conn: Connection, export_date: date, include_adult: bool) -> None:
    """Ids this export's files should list but do not: left on this export's day. Adult ids only
    when the adult file was read (otherwise its absence says nothing about them)."""
    t = tmdb_export_ids
    where = [t.c.last_seen < export_date, t.c.left_on.is_(None)]
    if not include_adult:
        where.append(t.c.adult.is_(False))
    conn.execute(t.update().where(*where).values(left_on=export_date))


def _record(conn: Connection, export_date: date, **values) -> None:
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(tmdb_exports)
    conn.execute(insert.values(export_date=export_date, **values)
                 .on_conflict_do_update(index_elements=["export_date"], set_=values))


# --------------------------------------------------------------------------------------------- reads

def latest_export_date(conn: Connection) -> date | None:
    """The day of the newest export loaded, or None."""
    return conn.execute(sa.select(sa.func.max(tmdb_exports.c.export_date))).scalar()


def new_ids(conn: Connection, export_date: date, *, include_adult: bool = False, limit: int | None = None) -> list[int]:
    """Ids the export of `export_date` listed and the one before it did not, most popular first."""
    t = tmdb_export_ids
    query = sa.select(t.c.tmdb_id).where(t.c.first_seen == export_date)
    if not include_adult:
        query = query.where(t.c.adult.is_(False))
    query = query.order_by(t.c.popularity.desc().nulls_last(), t.c.tmdb_id).limit(limit)
    return list(conn.execute(query).scalars())


def left_ids(conn: Connection, export_date: date) -> list[int]:
    """Ids the export of `export_date` no longer listed (each worth one details request: a 404 with
    code 34 confirms the deletion)."""
    t = tmdb_export_ids
    return list(conn.execute(sa.select(t.c.tmdb_id).where(t.c.left_on == export_date).order_by(t.c.tmdb_id)).scalars())
