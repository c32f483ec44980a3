"""The one bulk-write path of the warehouse: every table is written through these helpers.

Two ways in, picked by dialect, with the same result:
- PostgreSQL through psycopg2: rows go by COPY (one round trip, no SQL to parse for tens of
  thousands of rows), into the table itself or into a session temp table that one
  INSERT .. SELECT .. ON CONFLICT then merges in key order (upserts).
- SQLite (and any other PostgreSQL driver): executemany or multi-row VALUES, chunked so a
  statement stays under the bound-parameter limit. SQLite runs in-process, where executemany is a
  C loop without round trips.

Every function runs in the caller's transaction.
"""

from __future__ import annotations

import csv
import io
import json
import operator
from typing import Iterable, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

# SQLite allows 32,766 bound parameters per statement; PostgreSQL 65,535. Stay well under both.
MAX_PARAMS = 30_000
#: Ids per IN (...) list: a fraction of MAX_PARAMS, so the rest of the statement has room too.
IN_CHUNK = 5_000


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def can_copy(conn: Connection) -> bool:
    """COPY goes through psycopg2's copy_expert; other PostgreSQL drivers take the executemany path."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2"


def insert_for(conn: Connection, table: sa.Table):
    """The dialect's INSERT for `table` (the one with .on_conflict_do_update)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"bulk writes are implemented for sqlite and postgresql, not {dialect}")


# ------------------------------------------------------------------------------------ small writes
def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping] | Iterable[Mapping],
    key: Sequence[str],
    update: Sequence[str] | None = None,
) -> int:
    """Insert rows, or update the existing row with the same key: re-running never duplicates.

    `update` names the columns to overwrite on conflict (default: every non-key column present in
    the rows). Returns the number of rows written. For a few thousand rows; larger sets go
    through write_many.
    """
    rows = list(rows)
    if not rows:
        return 0
    columns = list(rows[0].keys())
    update_cols = [c for c in (update if update is not None else columns) if c not in key]
    insert = insert_for(conn, table)
    if update_cols:
        statement = insert.on_conflict_do_update(
            index_elements=list(key), set_={c: insert.excluded[c] for c in update_cols}
        )
    else:
        statement = insert.on_conflict_do_nothing(index_elements=list(key))
    for batch in chunks(rows, max(1, MAX_PARAMS // max(1, len(columns)))):
        conn.execute(statement.values(list(batch)))
    return len(rows)


def replace_rows(
    conn: Connection, table: sa.Table, where: sa.ColumnElement[bool], rows: Sequence[Mapping]
) -> int:
    """Delete the rows matching `where` and insert `rows`, in the caller's transaction.

    For derived child rows (credits, genres...) whose set changes wholesale with their parent.
    """
    conn.execute(table.delete().where(where))
    rows = list(rows)
    if rows:
        for batch in chunks(rows, max(1, MAX_PARAMS // max(1, len(rows[0])))):
            conn.execute(table.insert(), list(batch))
    return len(rows)


# ------------------------------------------------------------------------------------ bulk writes
def upsert_statement(conn: Connection, table: sa.Table, key: Sequence[str], columns: Sequence[str],
                     only_if_changed: bool = False):
    """INSERT .. ON CONFLICT (key) DO UPDATE, for write_many.

    only_if_changed skips rewriting rows whose values are the same, which matters for lookup
    tables (people) that every movie touches: an unchanged row then costs no new row version.
    """
    insert = insert_for(conn, table)
    update_cols = [c for c in columns if c not in key]
    if not update_cols:
        return insert.on_conflict_do_nothing(index_elements=list(key))
    where = None
    if only_if_changed:
        where = sa.or_(*[table.c[c].is_distinct_from(insert.excluded[c]) for c in update_cols])
    return insert.on_conflict_do_update(
        index_elements=list(key), set_={c: insert.excluded[c] for c in update_cols}, where=where
    )


def write_many(conn: Connection, statement, rows: list[dict]) -> None:
    """Run an INSERT (or INSERT .. ON CONFLICT) built without values for many rows, fast.

    SQLAlchemy pages a plain executemany INSERT into multi-row VALUES, but sends an upsert row by
    row through psycopg2 (20,000 discovered ids took 14 s). On PostgreSQL the rows go by COPY into
    a session temp table and the statement becomes one INSERT .. SELECT in key order.
    """
    if not rows:
        return
    if not can_copy(conn):
        conn.execute(statement, rows)
        return
    table: sa.Table = statement.table
    columns = list(rows[0].keys())
    temp = temp_table_for(conn, table)
    json_columns = [c for c in columns if isinstance(table.c[c].type, sa.JSON)]
    copy_rows(conn, temp.name, columns, rows, json_columns)
    key = [temp.c[c.name] for c in table.primary_key.columns]
    conn.execute(statement.from_select(columns, sa.select(*[temp.c[c] for c in columns]).order_by(*key)))
    conn.execute(temp.delete())  # the next write of this transaction starts empty


def temp_table_for(conn: Connection, table: sa.Table) -> sa.Table:
    """A session temp table shaped like `table`, emptied at every commit."""
    name = f"_in_{table.name}"
    # The table's column compression too (LZ4 for the responses, migration 0011; PostgreSQL 14+):
    # a value compressed in the temp table moves into the table as it is, never compressed twice.
    including = " INCLUDING COMPRESSION" if (conn.dialect.server_version_info or (0,)) >= (14,) else ""
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} "
        f"(LIKE {conn.dialect.identifier_preparer.quote(table.name)}{including}) ON COMMIT DELETE ROWS"
    )
    return sa.Table(name, sa.MetaData(), *[sa.Column(c.name, c.type) for c in table.columns])


def pg_upsert_via_copy(conn: Connection, table: sa.Table, key: str, columns: Sequence[str],
                       rows: list[dict], only_if_changed: bool, extra: tuple[str, str, str] | None = None) -> None:
    """COPY rows into a session temp table, then one INSERT .. SELECT .. ON CONFLICT in key order.

    `extra` = (column, source table, source column) fills one more column server-side from the row
    with the same key (movies.tmdb_data from the staged payload, which never travels twice).
    """
    quote = conn.dialect.identifier_preparer.quote
    temp = temp_table_for(conn, table).name
    copy_rows(conn, temp, columns, rows)
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


def insert_tuples(conn: Connection, table_name: str, columns: Sequence[str], rows: list[tuple],
                  strip_nul: bool = False) -> None:
    """Plain INSERT of many tuples (no conflict handling): COPY on PostgreSQL, executemany elsewhere.

    For streams too large to turn into dicts (a 1.24-million-line export); strip_nul as copy_tuples.
    """
    if not rows:
        return
    if can_copy(conn):
        copy_tuples(conn, table_name, columns, rows, strip_nul=strip_nul)
        return
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(
        f"INSERT INTO {quote(table_name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})",
        rows,
    )


# ------------------------------------------------------------------------------------ COPY
def copy_text(conn: Connection, table_name: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """PostgreSQL COPY of plain tuples in COPY's text format, for rows carrying large text.

    The csv module inspects every character of a field to quote it (about 1 ms for a 60 KB TMDb
    response, measured); the text format needs only backslash, newline, carriage return and tab
    escaped, which str.replace does at memory speed. None is NULL; other values go as str().
    """
    lines = []
    for row in rows:
        fields = []
        for value in row:
            if value is None:
                fields.append("\\N")
                continue
            text = value if isinstance(value, str) else str(value)
            if "\\" in text:
                text = text.replace("\\", "\\\\")
            if "\n" in text or "\r" in text or "\t" in text:
                text = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
            fields.append(text)
        lines.append("\t".join(fields))
    if not lines:
        return
    lines.append("")
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table_name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    _copy_expert(conn, sql, io.StringIO("\n".join(lines)))


def _copy_expert(conn: Connection, sql: str, buffer) -> None:
    dbapi = conn.dialect.dbapi
    with conn.connection.cursor() as cursor:
        try:
            cursor.copy_expert(sql, buffer)
        except dbapi.Error as error:
            # The driver's own exception, raw: give callers SQLAlchemy's (DataError for refused
            # values...), as every other statement raises.
            raise sa.exc.DBAPIError.instance(sql, None, error, dbapi.Error, dialect=conn.dialect) from error


class _CopyNull(float):
    """COPY's NULL (\\N) among csv's QUOTE_NONNUMERIC fields: a number to the csv module, so it
    goes out unquoted while every real string is quoted, and NULL and "" stay different."""

    def __repr__(self) -> str:
        return "\\N"

    __str__ = __repr__


_NULL = _CopyNull()


def copy_rows(conn: Connection, table_name: str, columns: Sequence[str], rows: list[dict],
              json_columns: Sequence[str] = ()) -> None:
    """PostgreSQL COPY of dict rows (their `columns`, in that order); JSON columns are encoded."""
    if not rows:
        return
    get = operator.itemgetter(*columns)
    if json_columns:
        rows = [{**r, **{c: json.dumps(r[c]) for c in json_columns if r.get(c) is not None}} for r in rows]
    if len(columns) == 1:
        tuples = [(v,) for v in map(get, rows)]
    else:
        tuples = list(map(get, rows))
    copy_tuples(conn, table_name, columns, tuples)


def copy_tuples(conn: Connection, table_name: str, columns: Sequence[str], rows: Iterable[tuple],
                strip_nul: bool = False) -> None:
    """PostgreSQL COPY of plain tuples, written out by the csv module (C, not Python, per field).

    strip_nul drops U+0000, which PostgreSQL text cannot hold, instead of refusing the batch.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerows(row if None not in row else tuple(_NULL if v is None else v for v in row) for row in rows)
    if strip_nul:
        text = buffer.getvalue()
        if "\0" in text:
            buffer = io.StringIO(text.replace("\0", ""))
    buffer.seek(0)
    quote = conn.dialect.identifier_preparer.quote
    column_list = ", ".join(quote(c) for c in columns)
    sql = f"COPY {quote(table_name)} ({column_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    _copy_expert(conn, sql, buffer)
