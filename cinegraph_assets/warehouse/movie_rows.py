"""Writing normalized movies: one batch of rows.MovieRows into movies, its child tables and lookups.

The last stage: the TMDb room's normalizer (tmdb/normalizer.py) parses staged payloads into
MovieRows and hands a batch of complete movies to write_movies, in the transaction that also
unstages them, so a reader never sees a movie without its credits.

A movie's release_year is the year of its details' release_date: a movie whose date moved takes
the new year here, with its child rows (keyed by tmdb_id); one whose details lost their date gets
release_year NULL. A movie that answers again is no longer deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cinegraph_assets.warehouse import bulk_write
from cinegraph_assets.warehouse import schema as s
from cinegraph_assets.warehouse.bulk_write import copy_rows, pg_upsert_via_copy, upsert_statement, write_many
from cinegraph_assets.warehouse.credit_rules import STAGED_CREDITS_CTE
from cinegraph_assets.warehouse.row_locks import lock_in_key_order
from cinegraph_assets.warehouse.rows import MovieRows

CHILD_WRITES = (
    # (MovieRows attribute, table)
    ("movie_genres", s.movie_genres),
    ("cast", s.movie_cast),
    ("crew", s.movie_crew),
    ("release_dates", s.movie_release_dates),
    ("external_ids", s.movie_external_ids),
    ("videos", s.movie_videos),
    ("movie_keywords", s.movie_keywords),
    ("watch_providers", s.movie_watch_providers),
    # the rest of the movie (migration 0008): attribute and table share the name
    *((table.name, table) for table in (
        s.movie_companies, s.movie_production_countries, s.movie_spoken_languages, s.movie_collections,
        s.movie_translations, s.movie_alternative_titles, s.movie_recommendations, s.movie_similar,
        s.movie_image_counts, s.movie_rules)),
)
LOOKUP_WRITES = (
    # (MovieRows attribute, table, key) - shared rows, upserted in key order (no deadlocks)
    ("genres", s.genres, "genre_id"),
    ("people", s.people, "person_id"),
    ("keywords", s.keywords, "keyword_id"),
    ("companies", s.companies, "company_id"),
    ("countries", s.countries, "country"),
    ("languages", s.languages, "language"),
    ("collections", s.collections, "collection_id"),
)
_MOVIE_COLUMNS = [c.name for c in s.movies.columns]
_PG_DELETE_CHILDREN = "; ".join(f'DELETE FROM "{table.name}" WHERE tmdb_id = ANY(%(ids)s)' for _, table in CHILD_WRITES)

# On PostgreSQL the credits (about 300 rows a movie, most of the bytes) go from the staged JSONB
# straight into movie_cast, movie_crew and people, without a trip through Python, after
# credit_rules.staged_credit_problems has refused the movies that break a rule. This statement
# repeats tmdb/parse.py's row semantics, and a test compares both dialects' rows: a person's row
# comes from their first credit, cast before crew (the highest tmdb_id of the batch wins, as the
# Python path's merge does); a credit_id twice in one list keeps its first entry; a missing one
# becomes "<cast|crew>:<person>:<index>".
_PG_CREDITS_SQL = f"""
WITH {STAGED_CREDITS_CTE}, credit AS MATERIALIZED (
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


def write_movies(conn: Connection, parsed: list[tuple[MovieRows, datetime]]) -> dict[str, int]:
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
    copy = bulk_write.can_copy(conn)
    parsed = sorted(parsed, key=lambda item: item[0].tmdb_id)  # one lock order for every writer
    ids = [rows.tmdb_id for rows, _ in parsed]
    movie_rows = [{**rows.movie, "fetched_at": fetched_at, "deleted_at": None} for rows, fetched_at in parsed]
    if copy:
        # tmdb_data comes from the staged payload server-side: 50 KB a movie not encoded again.
        columns = [c for c in _MOVIE_COLUMNS if c != "tmdb_data"]
        pg_upsert_via_copy(conn, s.movies, "tmdb_id", columns, movie_rows, only_if_changed=False,
                            extra=("tmdb_data", s.tmdb_details_staging.name, "payload"))
    else:
        write_many(conn, upsert_statement(conn, s.movies, ["tmdb_id"], _MOVIE_COLUMNS), movie_rows)
        if postgres:  # Python got the payload without its credits: keep the whole raw response
            conn.exec_driver_sql(
                "UPDATE movies SET tmdb_data = st.payload FROM tmdb_details_staging st "
                "WHERE st.tmdb_id = movies.tmdb_id AND movies.tmdb_id = ANY(%(ids)s)",
                {"ids": ids},
            )

    for attribute, table, key in LOOKUP_WRITES:
        counts[attribute] = _upsert_lookup(conn, table, key, [getattr(rows, attribute) for rows, _ in parsed])

    if copy:
        # Every child table's DELETE in one round trip (psycopg2 sends the statements together).
        conn.exec_driver_sql(_PG_DELETE_CHILDREN, {"ids": ids})
    else:
        for attribute, table in CHILD_WRITES:
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
    for attribute, table in CHILD_WRITES:
        child_rows = [row for rows, _ in parsed for row in getattr(rows, attribute)]
        if postgres and attribute in ("cast", "crew"):
            continue  # written above from the staged JSONB
        counts[attribute] = _insert_children(conn, table, child_rows)

    d = s.discovered_movies
    # A movie that answers again is not deleted any more (mark_deleted dropped older responses).
    undeleted = lock_in_key_order(conn, d, sa.and_(d.c.tmdb_id.in_(ids), d.c.deleted_at.is_not(None)))
    if undeleted:
        conn.execute(d.update().where(d.c.tmdb_id.in_(undeleted)).values(deleted_at=None))
    return counts


def _upsert_lookup(conn: Connection, table: sa.Table, key: str, row_lists: list[list[dict]]) -> int:
    """Upsert shared lookup rows in key order (the last row of a key wins); returns how many."""
    merged: dict = {}
    for rows in row_lists:
        for row in rows:
            merged[row[key]] = row
    lookup_rows = [merged[k] for k in sorted(merged)]
    if lookup_rows:
        columns = [c.name for c in table.columns]
        if bulk_write.can_copy(conn):
            pg_upsert_via_copy(conn, table, key, columns, lookup_rows, only_if_changed=True)
        else:
            write_many(conn, upsert_statement(conn, table, [key], columns, only_if_changed=True), lookup_rows)
    return len(lookup_rows)


def _insert_children(conn: Connection, table: sa.Table, child_rows: list[dict]) -> int:
    """Insert a movie child table's rows: COPY on PostgreSQL, executemany elsewhere."""
    if child_rows:
        if bulk_write.can_copy(conn):
            copy_rows(conn, table.name, [c.name for c in table.columns], child_rows)
        else:
            conn.execute(table.insert(), child_rows)
    return len(child_rows)


def replace_part(conn: Connection, tmdb_ids: Sequence[int], part_rows: dict[str, list[dict]],
                 rules: list[dict]) -> dict[str, int]:
    """Replace one part's rows of these movies, and nothing else of them (caller's transaction).

    `part_rows` maps MovieRows attributes (of LOOKUP_WRITES or CHILD_WRITES) to the rows the part's
    rules derived for all these movies; `rules` are their new movie_rules rows for the part. One
    DELETE per table for the whole batch, then COPY: the cost of a part, not of a movie.
    Returns rows written per attribute.
    """
    counts: dict[str, int] = {}
    if not tmdb_ids:
        return counts
    ids = sorted(tmdb_ids)
    lookups = {attribute: (table, key) for attribute, table, key in LOOKUP_WRITES}
    children = dict(CHILD_WRITES)
    for attribute, rows in part_rows.items():  # lookups first: the write order of write_movies
        if attribute in lookups:
            table, key = lookups[attribute]
            counts[attribute] = _upsert_lookup(conn, table, key, [rows])
    for attribute, rows in part_rows.items():
        if attribute in children:
            table = children[attribute]
            conn.execute(table.delete().where(table.c.tmdb_id.in_(ids)))
            counts[attribute] = _insert_children(conn, table, rows)
    # movie_rules holds every part's rows: only this part's go
    r = s.movie_rules
    conn.execute(r.delete().where(r.c.tmdb_id.in_(ids), r.c.part.in_({row["part"] for row in rules})))
    _insert_children(conn, r, rules)
    return counts


def release_years(conn: Connection, ids: Sequence[int]) -> dict[int, int | None]:
    """tmdb_id -> release_year of the movies rows these ids have now (ids without one left out)."""
    m = s.movies
    return dict(
        conn.execute(sa.select(m.c.tmdb_id, m.c.release_year).where(m.c.tmdb_id.in_(list(ids)))).all()
    )
