"""tmdb_export_ids.not_found_at: TMDb answered a details request for the id with 404 (code 34).

The gap fill (tmdb_gap_movies) asks TMDb for ids of the export that no year holds, and once for
each id that left the export. A 404 on an id the warehouse never held has no movies row to mark
deleted: this column records it, so the id counts as deleted (accounted for) and is not asked
again. Existing rows get NULL (never answered 404).

Revision ID: 0009_export_ids_not_found
Revises: 0008_movie_parts
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_export_ids_not_found"
down_revision = "0008_movie_parts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tmdb_export_ids") as batch:
        batch.add_column(sa.Column("not_found_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tmdb_export_ids") as batch:
        batch.drop_column("not_found_at")
