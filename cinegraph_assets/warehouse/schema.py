"""The warehouse schema, in SQLAlchemy Core.

These Table objects describe the newest schema; the Alembic migrations in migrations/versions are
what creates and changes it in a database (a test checks the two agree). Each room's tables sit in
their own section below; add a migration whenever a table changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTCDateTime = sa.DateTime(timezone=True)

# ---------------------------------------------------------------------------------------------
# Movies (migration 0001)
# ---------------------------------------------------------------------------------------------

movies = sa.Table(
    "movies",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False, doc="TMDb's movie id"),
    sa.Column("imdb_id", sa.String(16), index=True, doc="IMDb id (tt...), from details or external_ids"),
    sa.Column("title", sa.Text, doc="Title in English (TMDb's default language)"),
    sa.Column("original_title", sa.Text, doc="Title in the film's original language"),
    sa.Column("release_date", sa.Date, doc="TMDb's primary release date"),
    sa.Column("release_year", sa.Integer, index=True,
              doc="Year of release_date: the partition the movie belongs to (null: undated)"),
    sa.Column("runtime", sa.Integer, doc="Minutes (0 or null when TMDb does not know)"),
    sa.Column("budget", sa.BigInteger, doc="US dollars (0 when unknown)"),
    sa.Column("revenue", sa.BigInteger, doc="US dollars (0 when unknown)"),
    sa.Column("popularity", sa.Float, doc="TMDb's popularity score when fetched"),
    sa.Column("vote_average", sa.Float, doc="TMDb users' average vote, 0-10"),
    sa.Column("vote_count", sa.Integer, doc="TMDb users' votes"),
    sa.Column("status", sa.String(32), doc="Released, Post Production, Planned, Rumored..."),
    sa.Column("adult", sa.Boolean, doc="TMDb's adult flag"),
    sa.Column("original_language", sa.String(16), doc="ISO 639-1"),
    sa.Column("overview", sa.Text, doc="Plot summary in English"),
    sa.Column("tagline", sa.Text),
    sa.Column("tmdb_data", JSONType, doc="The raw TMDb response with every appended part"),
    sa.Column("fetched_at", UTCDateTime, doc="When TMDb answered with tmdb_data"),
    sa.Column("deleted_at", UTCDateTime, doc="When TMDb answered 404 (the rows are kept)"),
    sa.Column("rules_version", sa.Integer,
              doc="Version of the TMDb parsing rules that derived this movie's rows (migration 0008; "
                  "null: before versions were kept). Older rows are re-derived from tmdb_data."),
)

# ---------------------------------------------------------------------------------------------
# TMDb (migration 0002): discovery, the raw details staging area, fetch failures, and the
# normalized child tables of movies. Child rows key on tmdb_id without foreign keys on purpose:
# a per-row foreign-key check costs more than the whole insert at 60,000 credit rows a second,
# and movie_rows.write_movies replaces a movie's child rows explicitly in the same transaction
# as its movies row (the "ON DELETE CASCADE" of the contract, done by hand).
# ---------------------------------------------------------------------------------------------

discovery_windows = sa.Table(
    "discovery_windows",
    metadata,
    # One leaf /discover/movie query whose pages were all walked, with TMDb's total for it.
    sa.Column("release_year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("start_date", sa.Date, primary_key=True),
    sa.Column("end_date", sa.Date, primary_key=True),
    sa.Column("extra_filter", sa.Text, primary_key=True, doc="\"\" or what split a crowded day"),
    sa.Column("tmdb_total", sa.Integer, nullable=False),
    sa.Column("pages", sa.Integer, nullable=False),
    sa.Column("discovered_at", UTCDateTime, nullable=False),
)

discovered_movies = sa.Table(
    "discovered_movies",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("release_year", sa.Integer, nullable=False, index=True, doc="The year discover put it in"),
    sa.Column("release_date", sa.Date),
    sa.Column("popularity", sa.Float),
    sa.Column("adult", sa.Boolean),
    sa.Column("video", sa.Boolean),
    sa.Column("title", sa.Text),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("vanished_at", UTCDateTime, doc="Not returned by its year's last discovery"),
    sa.Column("changed_at", UTCDateTime, doc="TMDb reported a change, or discover moved its year"),
    sa.Column("deleted_at", UTCDateTime, doc="Details answered 404"),
)

tmdb_details_staging = sa.Table(
    "tmdb_details_staging",
    metadata,
    # Raw /movie/{id} responses saved as they arrive, until normalize_staged moves them to movies.
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("release_year", sa.Integer, index=True, doc="Year of the payload's release_date"),
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
)

tmdb_fetch_failures = sa.Table(
    "tmdb_fetch_failures",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("release_year", sa.Integer, index=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_attempt_at", UTCDateTime, nullable=False),
)

genres = sa.Table(
    "genres",
    metadata,
    sa.Column("genre_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.Text),
)

movie_genres = sa.Table(
    "movie_genres",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("genre_id", sa.Integer, primary_key=True, autoincrement=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
)

people = sa.Table(
    "people",
    metadata,
    sa.Column("person_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.Text),
    sa.Column("original_name", sa.Text),
    sa.Column("gender", sa.Integer),
    sa.Column("known_for_department", sa.Text),
    sa.Column("profile_path", sa.Text),
)

movie_cast = sa.Table(
    "movie_cast",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("credit_id", sa.Text, primary_key=True),
    sa.Column("person_id", sa.Integer, nullable=False, index=True),
    sa.Column("cast_order", sa.Integer),
    sa.Column("character", sa.Text),
)

movie_crew = sa.Table(
    "movie_crew",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("credit_id", sa.Text, primary_key=True),
    sa.Column("person_id", sa.Integer, nullable=False, index=True),
    sa.Column("department", sa.Text),
    sa.Column("job", sa.Text),
)

movie_release_dates = sa.Table(
    "movie_release_dates",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("country", sa.Text, primary_key=True, doc="ISO 3166-1"),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False, doc="Position in the country's list"),
    sa.Column("release_type", sa.Integer, doc="1 premiere .. 6 TV"),
    sa.Column("release_date", sa.Date),
    sa.Column("certification", sa.Text),
    sa.Column("language", sa.Text),
    sa.Column("note", sa.Text),
)

movie_external_ids = sa.Table(
    "movie_external_ids",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("imdb_id", sa.Text),
    sa.Column("wikidata_id", sa.Text),
    sa.Column("facebook_id", sa.Text),
    sa.Column("instagram_id", sa.Text),
    sa.Column("twitter_id", sa.Text),
)

movie_videos = sa.Table(
    "movie_videos",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("video_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("site", sa.Text),
    sa.Column("video_key", sa.Text, doc="The id on the site (YouTube key)"),
    sa.Column("video_type", sa.Text, doc="Trailer, Teaser, Clip..."),
    sa.Column("official", sa.Boolean),
    sa.Column("size", sa.Integer),
    sa.Column("language", sa.Text),
    sa.Column("country", sa.Text),
    sa.Column("published_at", UTCDateTime),
)

keywords = sa.Table(
    "keywords",
    metadata,
    sa.Column("keyword_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.Text),
)

movie_keywords = sa.Table(
    "movie_keywords",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("keyword_id", sa.Integer, primary_key=True, autoincrement=False, index=True),
)

movie_watch_providers = sa.Table(
    "movie_watch_providers",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("country", sa.Text, primary_key=True),
    sa.Column("offer_type", sa.Text, primary_key=True, doc="flatrate, rent, buy, free or ads"),
    sa.Column("provider_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("provider_name", sa.Text),
    sa.Column("display_priority", sa.Integer),
    sa.Column("link", sa.Text),
)

# ---------------------------------------------------------------------------------------------
# Oscars (migration 0004): the Academy Awards table, one row per nomination and film named,
# linked to movies (tmdb_id) and to the people in their credits. tmdb_id has no foreign key: a
# nomination is loaded whether or not its movie has been imported yet, and is re-matched later.
# ---------------------------------------------------------------------------------------------

oscar_ceremonies = sa.Table(
    "oscar_ceremonies",
    metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("year", sa.Integer, nullable=False, doc="The film year honoured (1927 for \"1927/28\")"),
    sa.Column("year_label", sa.String(16), nullable=False, doc="As the source writes it"),
    sa.Column("ceremony_date", sa.Date, doc="The source does not give it; null until known"),
)

oscar_categories = sa.Table(
    "oscar_categories",
    metadata,
    sa.Column("canonical_category", sa.String(200), primary_key=True),
    sa.Column("award_class", sa.String(32), nullable=False, doc="Title, Acting, ..., SciTech, Special"),
    sa.Column("raw_names", JSONType, nullable=False, doc="Every wording used over the decades"),
)

oscar_nominations = sa.Table(
    "oscar_nominations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # Natural key: the source row's key plus the film's position, so re-loading upserts in place.
    sa.Column("nomination_key", sa.String(64), nullable=False, unique=True),
    sa.Column("source_key", sa.String(48), nullable=False, index=True, doc="Shared by a row's films"),
    sa.Column("ceremony", sa.Integer, nullable=False, index=True),
    sa.Column("film_year", sa.Integer, nullable=False, index=True),
    sa.Column("year_label", sa.String(16), nullable=False),
    sa.Column("award_class", sa.String(32), nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("canonical_category", sa.String(200), nullable=False, index=True),
    sa.Column("film_position", sa.Integer, doc="Null when the category names no film"),
    sa.Column("film_title", sa.Text),
    sa.Column("film_imdb_id", sa.String(16), index=True),
    sa.Column("tmdb_id", sa.Integer, index=True, doc="The matched movie, or null"),
    sa.Column("match_method", sa.String(16), doc="imdb_id | title | null"),
    sa.Column("match_confidence", sa.Float),
    sa.Column("unmatched_reason", sa.String(32), doc="no_movie_with_title | ambiguous | no_film_for_category"),
    sa.Column("winner", sa.Boolean, nullable=False),
    sa.Column("name", sa.Text, doc="The nomination's text for who is nominated"),
    sa.Column("detail", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("citation", sa.Text),
)

oscar_nominees = sa.Table(
    "oscar_nominees",
    metadata,
    sa.Column(
        "nomination_id", sa.Integer,
        sa.ForeignKey("oscar_nominations.id", ondelete="CASCADE"),
        primary_key=True, autoincrement=False,
    ),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("imdb_person_id", sa.String(16), index=True, doc="IMDb id: nm... (a person) or co... (a company)"),
    sa.Column("tmdb_person_id", sa.Integer, index=True, doc="From the matched movie's credits"),
    sa.Column("link_method", sa.String(16), doc="name | null"),
)

# ---------------------------------------------------------------------------------------------
# OMDb (migration 0003)
# ---------------------------------------------------------------------------------------------

#: One row per movie and rating source (imdb, rotten_tomatoes, metacritic), replaced wholesale on
#: every successful OMDb fetch of the movie.
movie_ratings = sa.Table(
    "movie_ratings",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("value_raw", sa.String(64)),
    sa.Column("value_0_100", sa.Float),
    sa.Column("votes", sa.BigInteger),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
)

#: One row per movie OMDb was asked about: the last answer, its facts, and when to ask again.
#: status: ok, not_found, incorrect_imdb_id, parse_error, omdb_error, unavailable.
omdb_movies = sa.Table(
    "omdb_movies",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("imdb_id", sa.String(16), nullable=False),
    sa.Column("omdb_data", JSONType),
    sa.Column("box_office_usd", sa.BigInteger),
    sa.Column("rated", sa.String(32)),
    sa.Column("awards_text", sa.Text),
    sa.Column("oscar_wins", sa.Integer),
    sa.Column("oscar_nominations", sa.Integer),
    sa.Column("total_wins", sa.Integer),
    sa.Column("total_nominations", sa.Integer),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    sa.Column("error", sa.Text),
    sa.Column("retry_after", UTCDateTime),
)

#: OMDb requests spent per UTC day, shared by every run on the instance (the key's daily quota).
omdb_quota_ledger = sa.Table(
    "omdb_quota_ledger",
    metadata,
    sa.Column("utc_day", sa.Date, primary_key=True),
    sa.Column("requests_used", sa.Integer, nullable=False),
    sa.Column("daily_limit", sa.Integer, nullable=False),
    #: OMDb answered "Request limit reached!": no request before this time (migration 0007).
    sa.Column("paused_until", UTCDateTime),
)

# ---------------------------------------------------------------------------------------------
# The TMDb rate limit (migration 0005)
# ---------------------------------------------------------------------------------------------

#: The next free request slot of each limit (warehouse/rate_slots.py). Used on PostgreSQL, where
#: every run on every machine shares it; with a SQLite warehouse the slots live in a small file of
#: their own in CINEGRAPH_STATE_DIR instead, and this table stays empty.
tmdb_rate_limit = sa.Table(
    "tmdb_rate_limit",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("next_slot", sa.Double, nullable=False),
)

# ---------------------------------------------------------------------------------------------
# TMDb's daily id export (migration 0006): every movie id TMDb lists, dated or not
# ---------------------------------------------------------------------------------------------

#: One row per id any loaded export listed (warehouse/export_ids.py). Dates are export dates (the
#: day in the file's name). first_seen..last_seen is the id's current stretch in the export: an id
#: that left and came back starts a new one. left_on is the first export that no longer listed it.
tmdb_export_ids = sa.Table(
    "tmdb_export_ids",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("adult", sa.Boolean, nullable=False),
    sa.Column("video", sa.Boolean, nullable=False),
    sa.Column("popularity", sa.Float),
    sa.Column("original_title", sa.Text),
    sa.Column("first_seen", sa.Date, nullable=False),
    sa.Column("last_seen", sa.Date, nullable=False),
    sa.Column("left_on", sa.Date),
    # TMDb answered 404 (code 34) to a details request (migration 0009): deleted, even when no
    # movies row was ever held for it.
    sa.Column("not_found_at", UTCDateTime),
)

#: One row per export loaded: its size, what it changed, and whether it was too small to trust.
tmdb_exports = sa.Table(
    "tmdb_exports",
    metadata,
    sa.Column("export_date", sa.Date, primary_key=True),
    sa.Column("movie_ids", sa.Integer, nullable=False, doc="Distinct ids of the movie file"),
    sa.Column("adult_ids", sa.Integer, doc="Of the adult file; NULL when it was not loaded"),
    sa.Column("new_ids", sa.Integer, nullable=False, doc="Not in the export before it"),
    sa.Column("left_ids", sa.Integer, nullable=False, doc="In the export before it, not in this one"),
    sa.Column("left_held_back", sa.Boolean, nullable=False, doc="Too small: nothing marked as left"),
    sa.Column("loaded_at", UTCDateTime, nullable=False),
)

# ---------------------------------------------------------------------------------------------
# The rest of the movie (migration 0008): the appended parts that used to stay inside tmdb_data.
# Child tables key on tmdb_id like the ones above and are replaced with the movie's rows in the
# same transaction; companies, countries, languages and collections are shared lookups.
# ---------------------------------------------------------------------------------------------

companies = sa.Table(
    "companies",
    metadata,
    sa.Column("company_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.Text),
    sa.Column("origin_country", sa.Text, doc="ISO 3166-1, or null when TMDb gives \"\""),
    sa.Column("logo_path", sa.Text),
)

movie_companies = sa.Table(
    "movie_companies",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("company_id", sa.Integer, primary_key=True, autoincrement=False, index=True),
    sa.Column("position", sa.Integer, nullable=False, doc="Order of TMDb's production_companies"),
)

countries = sa.Table(
    "countries",
    metadata,
    sa.Column("country", sa.Text, primary_key=True, doc="ISO 3166-1"),
    sa.Column("name", sa.Text, doc="English name"),
)

movie_production_countries = sa.Table(
    "movie_production_countries",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("country", sa.Text, primary_key=True, index=True),
    sa.Column("position", sa.Integer, nullable=False),
)

languages = sa.Table(
    "languages",
    metadata,
    sa.Column("language", sa.Text, primary_key=True, doc="ISO 639-1"),
    sa.Column("english_name", sa.Text),
    sa.Column("name", sa.Text, doc="The language's own name for itself"),
)

movie_spoken_languages = sa.Table(
    "movie_spoken_languages",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("language", sa.Text, primary_key=True, index=True),
    sa.Column("position", sa.Integer, nullable=False),
)

collections = sa.Table(
    "collections",
    metadata,
    sa.Column("collection_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.Text),
    sa.Column("poster_path", sa.Text),
    sa.Column("backdrop_path", sa.Text),
)

#: The collection a movie belongs to (details' belongs_to_collection: at most one). The payload
#: does not say the movie's place in it; order a collection's movies by movies.release_date.
movie_collections = sa.Table(
    "movie_collections",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("collection_id", sa.Integer, nullable=False, index=True),
)

movie_translations = sa.Table(
    "movie_translations",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("language", sa.Text, primary_key=True, doc="ISO 639-1"),
    sa.Column("country", sa.Text, primary_key=True, doc="ISO 3166-1 (\"\" when TMDb gives none)"),
    sa.Column("english_name", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("title", sa.Text, doc="Null where the translation leaves the title untranslated"),
    sa.Column("overview", sa.Text),
    sa.Column("tagline", sa.Text),
    sa.Column("homepage", sa.Text),
    sa.Column("runtime", sa.Integer),
)

movie_alternative_titles = sa.Table(
    "movie_alternative_titles",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False, doc="Position in TMDb's list"),
    sa.Column("country", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("title_type", sa.Text, doc="TMDb's \"type\": \"\", \"English title\", \"working title\"..."),
)

#: Movie-to-movie edges from the first page of TMDb's recommendations and similar lists: both
#: ends are tmdb ids (the other movie need not be in the warehouse), rank 1 is TMDb's first.
movie_recommendations = sa.Table(
    "movie_recommendations",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("recommended_tmdb_id", sa.Integer, primary_key=True, autoincrement=False, index=True),
    sa.Column("rank", sa.Integer, nullable=False),
)

movie_similar = sa.Table(
    "movie_similar",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("similar_tmdb_id", sa.Integer, primary_key=True, autoincrement=False, index=True),
    sa.Column("rank", sa.Integer, nullable=False),
)

#: How many images of each kind (backdrops, logos, posters) TMDb lists for the movie.
movie_image_counts = sa.Table(
    "movie_image_counts",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("image_count", sa.Integer, nullable=False),
)

#: Which version of each part's parsing rules derived the movie's rows of that part (migration
#: 0010). movies.rules_version covers the core rules; a part with an older version here (or none)
#: is rebuilt alone from tmdb_data when `movies[year]` is materialized.
movie_rules = sa.Table(
    "movie_rules",
    metadata,
    sa.Column("tmdb_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("part", sa.String(32), primary_key=True, doc="A part of the payload: companies, translations..."),
    sa.Column("version", sa.Integer, nullable=False, doc="Version of that part's rules"),
)

# Child tables of movies, keyed on tmdb_id: normalize_staged replaces them per movie.
MOVIE_CHILD_TABLES = (
    movie_genres,
    movie_cast,
    movie_crew,
    movie_release_dates,
    movie_external_ids,
    movie_videos,
    movie_keywords,
    movie_watch_providers,
    movie_companies,
    movie_production_countries,
    movie_spoken_languages,
    movie_collections,
    movie_translations,
    movie_alternative_titles,
    movie_recommendations,
    movie_similar,
    movie_image_counts,
    movie_rules,
)
