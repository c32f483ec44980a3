"""oscars: Academy Award ceremonies, categories, nominations (one row per film named) and nominees.

Revision ID: 0004_oscars
Revises: 0003_omdb
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_oscars"
down_revision = "0003_omdb"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "oscar_ceremonies",
        sa.Column("number", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("year_label", sa.String(16), nullable=False),
        sa.Column("ceremony_date", sa.Date),
        sa.PrimaryKeyConstraint("number", name="pk_oscar_ceremonies"),
    )
    op.create_table(
        "oscar_categories",
        sa.Column("canonical_category", sa.String(200), nullable=False),
        sa.Column("award_class", sa.String(32), nullable=False),
        sa.Column("raw_names", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("canonical_category", name="pk_oscar_categories"),
    )
    op.create_table(
        "oscar_nominations",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("nomination_key", sa.String(64), nullable=False),
        sa.Column("source_key", sa.String(48), nullable=False),
        sa.Column("ceremony", sa.Integer, nullable=False),
        sa.Column("film_year", sa.Integer, nullable=False),
        sa.Column("year_label", sa.String(16), nullable=False),
        sa.Column("award_class", sa.String(32), nullable=False),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("canonical_category", sa.String(200), nullable=False),
        sa.Column("film_position", sa.Integer),
        sa.Column("film_title", sa.Text),
        sa.Column("film_imdb_id", sa.String(16)),
        sa.Column("tmdb_id", sa.Integer),
        sa.Column("match_method", sa.String(16)),
        sa.Column("match_confidence", sa.Float),
        sa.Column("unmatched_reason", sa.String(32)),
        sa.Column("winner", sa.Boolean, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("citation", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_oscar_nominations"),
        sa.UniqueConstraint("nomination_key", name="uq_oscar_nominations_nomination_key"),
    )
    for column in ("source_key", "ceremony", "film_year", "canonical_category", "film_imdb_id", "tmdb_id"):
        op.create_index(f"ix_oscar_nominations_{column}", "oscar_nominations", [column])
    op.create_table(
        "oscar_nominees",
        sa.Column("nomination_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("position", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("imdb_person_id", sa.String(16)),
        sa.Column("tmdb_person_id", sa.Integer),
        sa.Column("link_method", sa.String(16)),
        sa.PrimaryKeyConstraint("nomination_id", "position", name="pk_oscar_nominees"),
        sa.ForeignKeyConstraint(
            ["nomination_id"], ["oscar_nominations.id"], ondelete="CASCADE",
            name="fk_oscar_nominees_nomination_id_oscar_nominations",
        ),
    )
    op.create_index("ix_oscar_nominees_imdb_person_id", "oscar_nominees", ["imdb_person_id"])
    op.create_index("ix_oscar_nominees_tmdb_person_id", "oscar_nominees", ["tmdb_person_id"])


def downgrade() -> None:
    op.drop_table("oscar_nominees")
    op.drop_table("oscar_nominations")
    op.drop_table("oscar_categories")
    op.drop_table("oscar_ceremonies")
