"""Row counts of warehouse tables, for the numbers the UI plots over time.

A table's rows of a release year: by its own release_year (or film_year, for the Oscar tables),
or, for the tables keyed by tmdb_id, through the movies of that year (an index range per movie).
Lookups shared by every year (people, companies...) have no year: only their total.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cinegraph_assets.warehouse import schema as s


def total_rows(conn: Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def rows_of_year(conn: Connection, table: sa.Table, year: int) -> int | None:
    """The table's rows that belong to release year `year`, or None for a table without years."""
    columns = table.c
    if "release_year" in columns:
        where = columns.release_year == year
    elif "film_year" in columns:
        where = columns.film_year == year
    elif "tmdb_id" in columns:
        where = columns.tmdb_id.in_(sa.select(s.movies.c.tmdb_id).where(s.movies.c.release_year == year))
    else:
        return None
    return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar_one())
