"""tmdb_rate_limit: the next free TMDb request slot, one row per limit, shared by every run.

Until this revision each run created the table on first use (CREATE TABLE IF NOT EXISTS), which a
run role without DDL rights cannot do, even when the table exists. A warehouse that already paced
requests has it: it is left as it is.

Revision ID: 0005_tmdb_rate_limit
Revises: 0004_oscars
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_tmdb_rate_limit"
down_revision = "0004_oscars"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("tmdb_rate_limit"):
        return
    op.create_table(
        "tmdb_rate_limit",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("next_slot", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_tmdb_rate_limit"),
    )


def downgrade() -> None:
    op.drop_table("tmdb_rate_limit")
