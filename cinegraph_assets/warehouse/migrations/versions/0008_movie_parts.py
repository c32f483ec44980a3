"""The rest of the movie: companies, countries, languages, collections, translations, alternative
titles, recommendation and similar edges, image counts; movies.rules_version.

Every part was already fetched and kept in movies.tmdb_data; these tables hold it normalized.
Existing movies get rules_version NULL, which reads as "older than any rules": the next
materialization of their year re-derives them from tmdb_data (no TMDb request) and so fills the
new tables. Nothing is dropped or rewritten here.

Revision ID: 0008_movie_parts
Revises: 0007_omdb_quota_pause
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_movie_parts"
down_revision = "0007_omdb_quota_pause"
branch_labels = None
depends_on = None


def _id(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, autoincrement=False)


def _key_text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("movies") as batch:
        batch.add_column(sa.Column("rules_version", sa.Integer, nullable=True))

    op.create_table(
        "companies", _id("company_id"), sa.Column("name", sa.Text), sa.Column("origin_country", sa.Text),
        sa.Column("logo_path", sa.Text), sa.PrimaryKeyConstraint("company_id", name="pk_companies"),
    )
    op.create_table(
        "movie_companies", _id("tmdb_id"), _id("company_id"), sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tmdb_id", "company_id", name="pk_movie_companies"),
    )
    op.create_index("ix_movie_companies_company_id", "movie_companies", ["company_id"])
    op.create_table(
        "countries", _key_text("country"), sa.Column("name", sa.Text),
        sa.PrimaryKeyConstraint("country", name="pk_countries"),
    )
    op.create_table(
        "movie_production_countries", _id("tmdb_id"), _key_text("country"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tmdb_id", "country", name="pk_movie_production_countries"),
    )
    op.create_index("ix_movie_production_countries_country", "movie_production_countries", ["country"])
    op.create_table(
        "languages", _key_text("language"), sa.Column("english_name", sa.Text), sa.Column("name", sa.Text),
        sa.PrimaryKeyConstraint("language", name="pk_languages"),
    )
    op.create_table(
        "movie_spoken_languages", _id("tmdb_id"), _key_text("language"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tmdb_id", "language", name="pk_movie_spoken_languages"),
    )
    op.create_index("ix_movie_spoken_languages_language", "movie_spoken_languages", ["language"])
    op.create_table(
        "collections", _id("collection_id"), sa.Column("name", sa.Text), sa.Column("poster_path", sa.Text),
        sa.Column("backdrop_path", sa.Text), sa.PrimaryKeyConstraint("collection_id", name="pk_collections"),
    )
    op.create_table(
        "movie_collections", _id("tmdb_id"), sa.Column("collection_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tmdb_id", name="pk_movie_collections"),
    )
    op.create_index("ix_movie_collections_collection_id", "movie_collections", ["collection_id"])
    op.create_table(
        "movie_translations", _id("tmdb_id"), _key_text("language"), _key_text("country"),
        *(sa.Column(c, sa.Text) for c in ("english_name", "name", "title", "overview", "tagline", "homepage")),
        sa.Column("runtime", sa.Integer),
        sa.PrimaryKeyConstraint("tmdb_id", "language", "country", name="pk_movie_translations"),
    )
    op.create_table(
        "movie_alternative_titles", _id("tmdb_id"), _id("seq"),
        sa.Column("country", sa.Text), sa.Column("title", sa.Text), sa.Column("title_type", sa.Text),
        sa.PrimaryKeyConstraint("tmdb_id", "seq", name="pk_movie_alternative_titles"),
    )
    for table, other in (("movie_recommendations", "recommended_tmdb_id"), ("movie_similar", "similar_tmdb_id")):
        op.create_table(
            table, _id("tmdb_id"), _id(other), sa.Column("rank", sa.Integer, nullable=False),
            sa.PrimaryKeyConstraint("tmdb_id", other, name=f"pk_{table}"),
        )
        op.create_index(f"ix_{table}_{other}", table, [other])
    op.create_table(
        "movie_image_counts", _id("tmdb_id"), _key_text("kind"), sa.Column("image_count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tmdb_id", "kind", name="pk_movie_image_counts"),
    )


def downgrade() -> None:
    for table in (
        "movie_image_counts", "movie_similar", "movie_recommendations", "movie_alternative_titles",
        "movie_translations", "movie_collections", "collections", "movie_spoken_languages", "languages",
        "movie_production_countries", "countries", "movie_companies", "companies",
    ):
        op.drop_table(table)
    with op.batch_alter_table("movies") as batch:
        batch.drop_column("rules_version")
