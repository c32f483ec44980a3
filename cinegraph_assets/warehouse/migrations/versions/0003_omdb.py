"""omdb: movie_ratings (one row per movie and source), omdb_movies (last OMDb answer per movie),
omdb_quota_ledger (requests spent per UTC day).

Revision ID: 0003_omdb
Revises: 0002_tmdb
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_omdb"
down_revision = "0002_tmdb"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "movie_ratings",
        sa.Column("tmdb_id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("value_raw", sa.String(64)),
        sa.Column("value_0_100", sa.Float),
        sa.Column("votes", sa.BigInteger),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tmdb_id", "source", name="pk_movie_ratings"),
    )
    op.create_table(
        "omdb_movies",
        sa.Column("tmdb_id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("imdb_id", sa.String(16), nullable=False),
        sa.Column("omdb_data", JSONType),
        sa.Column("box_office_usd", sa.BigInteger),
        sa.Column("rated", sa.String(32)),
        sa.Column("awards_text", sa.Text),
        sa.Column("oscar_wins", sa.Integer),
        sa.Column("oscar_nominations", sa.Integer),
        sa.Column("total_wins", sa.Integer),
        sa.Column("total_nominations", sa.Integer),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("retry_after", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("tmdb_id", name="pk_omdb_movies"),
    )
    op.create_index("ix_omdb_movies_status", "omdb_movies", ["status"])
    op.create_table(
        "omdb_quota_ledger",
        sa.Column("utc_day", sa.Date, nullable=False),
        sa.Column("requests_used", sa.Integer, nullable=False),
        sa.Column("daily_limit", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("utc_day", name="pk_omdb_quota_ledger"),
    )


def downgrade() -> None:
    op.drop_table("omdb_quota_ledger")
    op.drop_index("ix_omdb_movies_status", table_name="omdb_movies")
    op.drop_table("omdb_movies")
    op.drop_table("movie_ratings")
