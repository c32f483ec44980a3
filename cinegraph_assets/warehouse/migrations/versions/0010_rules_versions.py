"""movie_rules: the version of each part's parsing rules that derived a movie's rows.

Until now one number, movies.rules_version, said which rules derived all of a movie's rows, so
changing the rule of one small table re-derived whole movies (credits included). With a version
per part, re-deriving rebuilds only the parts whose rules changed. movies.rules_version stays and
now covers the core rules (parse.py).

Losing nothing: a movie's rules_version (2, the version that derived every part) becomes the
version of each part, so nothing is re-derived because of this migration. Movies with an older or
NULL rules_version get no rows: their core is older too, so they are re-derived whole anyway.

Revision ID: 0010_rules_versions
Revises: 0009_export_ids_not_found
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_rules_versions"
down_revision = "0009_export_ids_not_found"
branch_labels = None
depends_on = None

# The parts as of this migration (tmdb/movie_parts.PARTS), all first derived by rules version 2.
PARTS = ("companies", "countries", "languages", "collections", "translations", "alternative_titles",
         "related_movies", "image_counts")
FIRST_VERSION = 2


def upgrade() -> None:
    op.create_table(
        "movie_rules",
        sa.Column("tmdb_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("part", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tmdb_id", "part", name="pk_movie_rules"),
    )
    parts = " UNION ALL ".join(f"SELECT '{part}' AS part" for part in PARTS)
    op.execute(
        f"INSERT INTO movie_rules (tmdb_id, part, version) "
        f"SELECT m.tmdb_id, p.part, {FIRST_VERSION} FROM movies m CROSS JOIN ({parts}) p "
        f"WHERE m.rules_version >= {FIRST_VERSION} ORDER BY m.tmdb_id, p.part"
    )


def downgrade() -> None:
    op.drop_table("movie_rules")
