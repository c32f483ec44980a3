"""tmdb: discovery, raw details staging, fetch failures and the normalized child tables of movies.

Revision ID: 0002_tmdb
Revises: 0001_movies
Create Date: 2026-11-21

Child tables key on tmdb_id without foreign keys on purpose (see the TMDb section of schema.py):
catalog.normalize_staged replaces a movie's child rows in the same transaction as its movies row.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_tmdb"
down_revision = "0001_movies"
branch_labels = None
depends_on = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTCDateTime = sa.DateTime(timezone=True)


def _key(*columns: str) -> list[sa.Column]:
    return [sa.Column(c, sa.Integer, nullable=False, autoincrement=False) for c in columns]


def upgrade() -> None:
    op.create_table(
        "discovery_windows",
        sa.Column("release_year", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("extra_filter", sa.Text, nullable=False),
        sa.Column("tmdb_total", sa.Integer, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("discovered_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint(
            "release_year", "start_date", "end_date", "extra_filter", name="pk_discovery_windows"
        ),
    )
    op.create_table(
        "discovered_movies",
        sa.Column("tmdb_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("release_year", sa.Integer, nullable=False),
        sa.Column("release_date", sa.Date),
        sa.Column("popularity", sa.Float),
        sa.Column("adult", sa.Boolean),
        sa.Column("video", sa.Boolean),
        sa.Column("title", sa.Text),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("vanished_at", UTCDateTime),
        sa.Column("changed_at", UTCDateTime),
        sa.Column("deleted_at", UTCDateTime),
        sa.PrimaryKeyConstraint("tmdb_id", name="pk_discovered_movies"),
    )
    op.create_index("ix_discovered_movies_release_year", "discovered_movies", ["release_year"])

    op.create_table(
        "tmdb_details_staging",
        sa.Column("tmdb_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("release_year", sa.Integer),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("fetched_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("tmdb_id", name="pk_tmdb_details_staging"),
    )
    op.create_index(
        "ix_tmdb_details_staging_release_year", "tmdb_details_staging", ["release_year"]
    )

    op.create_table(
        "tmdb_fetch_failures",
        sa.Column("tmdb_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("release_year", sa.Integer),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_attempt_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("tmdb_id", name="pk_tmdb_fetch_failures"),
    )
    op.create_index("ix_tmdb_fetch_failures_release_year", "tmdb_fetch_failures", ["release_year"])

    op.create_table(
        "genres",
        *_key("genre_id"),
        sa.Column("name", sa.Text),
        sa.PrimaryKeyConstraint("genre_id", name="pk_genres"),
    )
    op.create_table(
        "movie_genres",
        *_key("tmdb_id", "genre_id"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tmdb_id", "genre_id", name="pk_movie_genres"),
    )
    op.create_index("ix_movie_genres_genre_id", "movie_genres", ["genre_id"])

    op.create_table(
        "people",
        *_key("person_id"),
        sa.Column("name", sa.Text),
        sa.Column("original_name", sa.Text),
        sa.Column("gender", sa.Integer),
        sa.Column("known_for_department", sa.Text),
        sa.Column("profile_path", sa.Text),
        sa.PrimaryKeyConstraint("person_id", name="pk_people"),
    )
    op.create_table(
        "movie_cast",
        *_key("tmdb_id"),
        sa.Column("credit_id", sa.Text, nullable=False),
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("cast_order", sa.Integer),
        sa.Column("character", sa.Text),
        sa.PrimaryKeyConstraint("tmdb_id", "credit_id", name="pk_movie_cast"),
    )
    op.create_index("ix_movie_cast_person_id", "movie_cast", ["person_id"])
    op.create_table(
        "movie_crew",
        *_key("tmdb_id"),
        sa.Column("credit_id", sa.Text, nullable=False),
        sa.Column("person_id", sa.Integer, nullable=False),
        sa.Column("department", sa.Text),
        sa.Column("job", sa.Text),
        sa.PrimaryKeyConstraint("tmdb_id", "credit_id", name="pk_movie_crew"),
    )
    op.create_index("ix_movie_crew_person_id", "movie_crew", ["person_id"])

    op.create_table(
        "movie_release_dates",
        *_key("tmdb_id"),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("release_type", sa.Integer),
        sa.Column("release_date", sa.Date),
        sa.Column("certification", sa.Text),
        sa.Column("language", sa.Text),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("tmdb_id", "country", "seq", name="pk_movie_release_dates"),
    )
    op.create_table(
        "movie_external_ids",
        *_key("tmdb_id"),
        sa.Column("imdb_id", sa.Text),
        sa.Column("wikidata_id", sa.Text),
        sa.Column("facebook_id", sa.Text),
        sa.Column("instagram_id", sa.Text),
        sa.Column("twitter_id", sa.Text),
        sa.PrimaryKeyConstraint("tmdb_id", name="pk_movie_external_ids"),
    )
    op.create_table(
        "movie_videos",
        *_key("tmdb_id"),
        sa.Column("video_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("site", sa.Text),
        sa.Column("video_key", sa.Text),
        sa.Column("video_type", sa.Text),
        sa.Column("official", sa.Boolean),
        sa.Column("size", sa.Integer),
        sa.Column("language", sa.Text),
        sa.Column("country", sa.Text),
        sa.Column("published_at", UTCDateTime),
        sa.PrimaryKeyConstraint("tmdb_id", "video_id", name="pk_movie_videos"),
    )
    op.create_table(
        "keywords",
        *_key("keyword_id"),
        sa.Column("name", sa.Text),
        sa.PrimaryKeyConstraint("keyword_id", name="pk_keywords"),
    )
    op.create_table(
        "movie_keywords",
        *_key("tmdb_id", "keyword_id"),
        sa.PrimaryKeyConstraint("tmdb_id", "keyword_id", name="pk_movie_keywords"),
    )
    op.create_index("ix_movie_keywords_keyword_id", "movie_keywords", ["keyword_id"])
    op.create_table(
        "movie_watch_providers",
        *_key("tmdb_id"),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("offer_type", sa.Text, nullable=False),
        sa.Column("provider_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("provider_name", sa.Text),
        sa.Column("display_priority", sa.Integer),
        sa.Column("link", sa.Text),
        sa.PrimaryKeyConstraint(
            "tmdb_id", "country", "offer_type", "provider_id", name="pk_movie_watch_providers"
        ),
    )


def downgrade() -> None:
    for table in (
        "movie_watch_providers", "movie_keywords", "keywords", "movie_videos",
        "movie_external_ids", "movie_release_dates", "movie_crew", "movie_cast", "people",
        "movie_genres", "genres", "tmdb_fetch_failures", "tmdb_details_staging",
        "discovered_movies", "discovery_windows",
    ):
        op.drop_table(table)
