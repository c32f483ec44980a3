"""Idempotent writes that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

# SQLite allows 32,766 bound parameters per statement; PostgreSQL 65,535. Stay well under both.
_MAX_PARAMS = 30_000


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping] | Iterable[Mapping],
    key: Sequence[str],
    update: Sequence[str] | None = None,
) -> int:
    """Insert rows, or update the existing row with the same key: re-running never duplicates.

    `update` names the columns to overwrite on conflict (default: every non-key column present in
    the rows). Returns the number of rows written.
    """
    rows = list(rows)
    if not rows:
        return 0
    columns = list(rows[0].keys())
    update_cols = [c for c in (update if update is not None else columns) if c not in key]
    dialect = conn.dialect.name
    if dialect == "postgresql":
        insert = postgresql.insert(table)
    elif dialect == "sqlite":
        insert = sqlite.insert(table)
    else:  # pragma: no cover - only the two supported dialects
        raise NotImplementedError(f"upsert is not implemented for {dialect}")
    if update_cols:
        statement = insert.on_conflict_do_update(
            index_elements=list(key), set_={c: insert.excluded[c] for c in update_cols}
        )
    else:
        statement = insert.on_conflict_do_nothing(index_elements=list(key))
    batch = max(1, _MAX_PARAMS // max(1, len(columns)))
    for start in range(0, len(rows), batch):
        conn.execute(statement.values(rows[start : start + batch]))
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
        columns = len(rows[0])
        batch = max(1, _MAX_PARAMS // max(1, columns))
        for start in range(0, len(rows), batch):
            conn.execute(table.insert(), rows[start : start + batch])
    return len(rows)
