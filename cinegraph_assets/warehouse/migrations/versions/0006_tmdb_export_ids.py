"""tmdb_export_ids and tmdb_exports: TMDb's daily id export, every movie id it lists, dated or not.

Revision ID: 0006_tmdb_export_ids
Revises: 0005_tmdb_rate_limit
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_tmdb_export_ids"
down_revision = "0005_tmdb_rate_limit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tmdb_export_ids",
        sa.Column("tmdb_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("adult", sa.Boolean, nullable=False),
        sa.Column("video", sa.Boolean, nullable=False),
        sa.Column("popularity", sa.Float),
        sa.Column("original_title", sa.Text),
        sa.Column("first_seen", sa.Date, nullable=False),
        sa.Column("last_seen", sa.Date, nullable=False),
        sa.Column("left_on", sa.Date),
        sa.PrimaryKeyConstraint("tmdb_id", name="pk_tmdb_export_ids"),
    )
    op.create_table(
        "tmdb_exports",
        sa.Column("export_date", sa.Date, nullable=False),
        sa.Column("movie_ids", sa.Integer, nullable=False),
        sa.Column("adult_ids", sa.Integer),
        sa.Column("new_ids", sa.Integer, nullable=False),
        sa.Column("left_ids", sa.Integer, nullable=False),
        sa.Column("left_held_back", sa.Boolean, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("export_date", name="pk_tmdb_exports"),
    )


def downgrade() -> None:
    op.drop_table("tmdb_exports")
    op.drop_table("tmdb_export_ids")
