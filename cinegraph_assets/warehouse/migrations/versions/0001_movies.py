"""movies: one row per TMDb movie, with the raw details response.

Revision ID: 0001_movies
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_movies"
down_revision = None
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "movies",
        sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("imdb_id", sa.String(16)),
        sa.Column("title", sa.Text),
        sa.Column("original_title", sa.Text),
        sa.Column("release_date", sa.Date),
        sa.Column("release_year", sa.Integer),
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
        sa.Column("fetched_at", sa.DateTime(timezone=True)),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("tmdb_id", name="pk_movies"),
    )
    op.create_index("ix_movies_imdb_id", "movies", ["imdb_id"])
    op.create_index("ix_movies_release_year", "movies", ["release_year"])


def downgrade() -> None:
    op.drop_table("movies")
