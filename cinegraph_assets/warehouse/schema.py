"""The warehouse schema, in SQLAlchemy Core.

These Table objects describe the newest schema; the Alembic migrations in migrations/versions are
what creates and changes it in a database (a test checks the two agree). Each room's tables sit in
their own section below; add a migration whenever a table changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTCDateTime = sa.DateTime(timezone=True)

# ---------------------------------------------------------------------------------------------
# Movies (migration 0001)
# ---------------------------------------------------------------------------------------------

movies = sa.Table(
    "movies",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("imdb_id", sa.String(16), index=True),
    sa.Column("title", sa.Text),
    sa.Column("original_title", sa.Text),
    sa.Column("release_date", sa.Date),
    sa.Column("release_year", sa.Integer, index=True),
    sa.Column("runtime", sa.Integer),
    sa.Column("budget", sa.BigInteger),
    sa.Column("revenue", sa.BigInteger),
    sa.Column("popularity", sa.Float),
    sa.Column("vote_average", sa.Float),
    sa.Column("vote_count", sa.Integer),
    sa.Column("status", sa.String(32)),
    sa.Column("adult", sa.Boolean),
    sa.Column("original_language", sa.String(16)),
    sa.Column("overview", sa.Text),
    sa.Column("tagline", sa.Text),
    sa.Column("tmdb_data", JSONType),
    sa.Column("fetched_at", UTCDateTime),
    sa.Column("deleted_at", UTCDateTime),
)
