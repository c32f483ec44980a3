"""The Alembic migrations: they build the schema that schema.py describes, on SQLite and PostgreSQL,
running them again changes nothing, and upgrading keeps the data already there."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cinegraph_assets.warehouse import migrate, schema
from cinegraph_assets.warehouse.engine import get_engine


def schema_snapshot(url: str) -> dict:
    """Tables, columns (name, type, nullable), primary keys and indexes, as the database reports them."""
    inspector = sa.inspect(get_engine(url))
    out = {}
    for table in sorted(inspector.get_table_names()):
        out[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
        }
    return out


def alembic_upgrade_again(url: str) -> None:
    """`alembic upgrade head` once more, bypassing migrate.upgrade's once-per-process shortcut."""
    with get_engine(url).begin() as conn:
        config = migrate.alembic_config(url)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def test_migrations_apply_to_an_empty_database_and_again_change_nothing(warehouse_url):
    assert sa.inspect(get_engine(warehouse_url)).get_table_names() == []
    migrate.upgrade(warehouse_url)
    assert migrate.current_revision(warehouse_url) == migrate.head_revision()
    first = schema_snapshot(warehouse_url)
    assert set(schema.metadata.tables) <= set(first)

    migrate._upgraded.discard(warehouse_url)  # really run it again, as a second process would
    migrate.upgrade(warehouse_url)
    alembic_upgrade_again(warehouse_url)
    assert schema_snapshot(warehouse_url) == first
    assert migrate.current_revision(warehouse_url) == migrate.head_revision()


def test_schema_metadata_matches_what_the_migrations_create(warehouse_url):
    migrate.upgrade(warehouse_url)
    with get_engine(warehouse_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, schema.metadata)
    assert differences == []


def test_upgrading_keeps_the_movies_already_there(warehouse_url):
    engine = get_engine(warehouse_url)
    with engine.begin() as conn:
        config = migrate.alembic_config(warehouse_url)
        config.attributes["connection"] = conn
        command.upgrade(config, "0001_movies")
    movie = {
        "tmdb_id": 550, "title": "Fight Club", "release_date": date(1999, 10, 15), "release_year": 1999,
        "tmdb_data": {"id": 550, "title": "Fight Club"},
        "fetched_at": datetime(2026, 1, 1, tzinfo=timezone.utc),
    }
    with engine.begin() as conn:
        conn.execute(schema.movies.insert().values(**movie))
    migrate.upgrade(warehouse_url)
    with engine.connect() as conn:
        row = conn.execute(sa.select(schema.movies)).mappings().one()
    assert (row["tmdb_id"], row["title"], row["release_year"]) == (550, "Fight Club", 1999)
    assert row["tmdb_data"] == {"id": 550, "title": "Fight Club"}


def test_rules_versions_map_a_movies_rules_version_to_every_part(warehouse_url):
    """0010: a movie derived by rules version 2 has every part at version 2 (nothing to re-derive
    because of the migration); one derived before versions were kept has none (re-derived whole)."""
    from cinegraph_assets.tmdb import movie_parts

    engine = get_engine(warehouse_url)
    with engine.begin() as conn:
        config = migrate.alembic_config(warehouse_url)
        config.attributes["connection"] = conn
        command.upgrade(config, "0009_export_ids_not_found")
        for tmdb_id, version in ((550, 2), (551, None)):
            conn.execute(sa.text(
                "INSERT INTO movies (tmdb_id, title, release_year, rules_version) VALUES (:i, 'x', 1999, :v)"),
                {"i": tmdb_id, "v": version})
    migrate.upgrade(warehouse_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT tmdb_id, part, version FROM movie_rules ORDER BY part")).all()
    assert rows == [(550, name, 2) for name in sorted(movie_parts.PARTS)]
    assert {part.version for part in movie_parts.PARTS.values()} == {2}  # as the migration maps them


LZ4_COLUMNS = (("tmdb_details_staging", "payload"), ("movies", "tmdb_data"))


def _alembic(url: str, action, revision: str) -> None:
    with get_engine(url).begin() as conn:
        config = migrate.alembic_config(url)
        config.attributes["connection"] = conn
        action(config, revision)


def _compression(url: str) -> dict[str, str]:
    with get_engine(url).connect() as conn:
        return {f"{table}.{column}": conn.exec_driver_sql(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = %(t)s::regclass AND attname = %(c)s",
            {"t": table, "c": column}).scalar_one() for table, column in LZ4_COLUMNS}


@pytest.mark.postgres
def test_0011_sets_lz4_on_the_stored_responses_and_downgrading_takes_it_back(postgres_warehouse_url):
    url = postgres_warehouse_url
    with get_engine(url).connect() as conn:
        assert conn.exec_driver_sql(  # the sandbox's server has LZ4, so the migration must use it
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'").scalar_one()
    _alembic(url, command.upgrade, "0010_rules_versions")
    assert set(_compression(url).values()) == {""}  # the server's default
    _alembic(url, command.upgrade, "0011_lz4_responses")
    assert _compression(url) == {"tmdb_details_staging.payload": "l", "movies.tmdb_data": "l"}
    _alembic(url, command.downgrade, "0010_rules_versions")
    assert "l" not in _compression(url).values()
    assert migrate.current_revision(url) == "0010_rules_versions"
    _alembic(url, command.upgrade, "head")
    assert set(_compression(url).values()) == {"l"}


def test_0011_changes_nothing_on_sqlite(sqlite_warehouse_url):
    url = sqlite_warehouse_url
    _alembic(url, command.upgrade, "0010_rules_versions")
    before = schema_snapshot(url)
    _alembic(url, command.upgrade, "0011_lz4_responses")
    assert migrate.current_revision(url) == "0011_lz4_responses"
    assert schema_snapshot(url) == before
    _alembic(url, command.downgrade, "0010_rules_versions")
    assert migrate.current_revision(url) == "0010_rules_versions"
    assert schema_snapshot(url) == before
