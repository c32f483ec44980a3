"""omdb_quota_ledger.paused_until: "Request limit reached!" pauses OMDb requests for an hour.

OMDb does not document when its daily counter resets. Until this revision one limit answer closed
the whole UTC day; now it pauses every run until `paused_until` and the next request after that
probes whether the key has been reset. Existing rows keep their counts and get no pause.

Revision ID: 0007_omdb_quota_pause
Revises: 0006_tmdb_export_ids
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_omdb_quota_pause"
down_revision = "0006_tmdb_export_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("omdb_quota_ledger") as batch:
        batch.add_column(sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("omdb_quota_ledger") as batch:
        batch.drop_column("paused_until")
