"""What the Dagster UI shows of the warehouse tables each asset writes.

Column schemas come from the SQLAlchemy tables (warehouse/schema.py: names, types, and each
column's `doc`), so the UI and the database are described once. Every asset that writes tables
carries, in its definition, the column schema of its main table (`dagster/column_schema`), the
schemas of the other tables it writes (`tables/<name>`), and column lineage where a column is
derived from another asset's column (`dagster/column_lineage`). Its materializations carry row
counts (`dagster/row_count` for the whole table, `dagster/partition_row_count` for the year, and
`rows/<table>` per table), numeric so the UI plots them over time.
"""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from cinegraph_assets import asset_keys as keys
from cinegraph_assets.warehouse import row_counts
from cinegraph_assets.warehouse import schema as s

#: Descriptions of column names that recur across tables (a column's own `doc` wins).
COMMON_DESCRIPTIONS = {
    "tmdb_id": "TMDb's movie id (movies.tmdb_id)",
    "release_year": "Release year: the partition",
    "name": "Name as TMDb gives it",
    "title": "Title",
    "position": "Position in TMDb's list, from 0",
    "rank": "Rank in TMDb's list, from 1",
    "genre_id": "TMDb's genre id",
    "person_id": "TMDb's person id",
    "keyword_id": "TMDb's keyword id",
    "company_id": "TMDb's company id",
    "collection_id": "TMDb's collection id",
    "credit_id": "TMDb's credit id",
    "fetched_at": "When the source answered",
    "language": "ISO 639-1 language code",
    "country": "ISO 3166-1 country code",
    "english_name": "Name in English",
    "imdb_id": "IMDb id (tt...)",
}

#: The tables each asset writes, its main table first.
ASSET_TABLES: dict[dg.AssetKey, tuple[sa.Table, ...]] = {
    keys.TMDB_DISCOVERED_MOVIES: (s.discovered_movies, s.discovery_windows),
    keys.TMDB_MOVIE_DETAILS: (s.tmdb_details_staging, s.tmdb_fetch_failures),
    keys.MOVIES: (s.movies, s.genres, s.people, s.keywords, s.companies, s.countries, s.languages,
               s.collections, *s.MOVIE_CHILD_TABLES),
    keys.OMDB_RATINGS: (s.movie_ratings, s.omdb_movies, s.omdb_quota_ledger),
    keys.OSCAR_NOMINATIONS: (s.oscar_nominations, s.oscar_nominees, s.oscar_ceremonies, s.oscar_categories),
    keys.TMDB_CATALOG_IDS: (s.tmdb_export_ids, s.tmdb_exports),
}

_FROM_PAYLOAD = [(keys.TMDB_MOVIE_DETAILS, "payload")]
#: Main-table columns derived from other assets' columns: {asset: {column: [(asset, column)]}}.
COLUMN_LINEAGE: dict[dg.AssetKey, dict[str, list[tuple[dg.AssetKey, str]]]] = {
    keys.MOVIES: {
        **{c.name: _FROM_PAYLOAD for c in s.movies.columns
           if c.name not in ("tmdb_data", "fetched_at", "deleted_at", "rules_version")},
        "tmdb_data": _FROM_PAYLOAD,
        "fetched_at": [(keys.TMDB_MOVIE_DETAILS, "fetched_at")],
    },
    keys.TMDB_MOVIE_DETAILS: {"tmdb_id": [(keys.TMDB_DISCOVERED_MOVIES, "tmdb_id")]},
    # OMDb is asked by the movie's IMDb id; the ratings are filed under its tmdb id.
    keys.OMDB_RATINGS: {"tmdb_id": [(keys.MOVIES, "tmdb_id"), (keys.MOVIES, "imdb_id")]},
    # A nomination is matched to a movie by IMDb id, else by title and year.
    keys.OSCAR_NOMINATIONS: {"tmdb_id": [(keys.MOVIES, "tmdb_id"), (keys.MOVIES, "imdb_id"),
                                         (keys.MOVIES, "title"), (keys.MOVIES, "release_year")]},
}


def _type_name(column: sa.Column) -> str:
    """The column's type as PostgreSQL (production) spells it."""
    return column.type.compile(dialect=postgresql.dialect()).lower()


def table_schema(table: sa.Table) -> dg.TableSchema:
    """The table's columns: name, type, description and constraints."""
    return dg.TableSchema(columns=[
        dg.TableColumn(
            name=column.name,
            type=_type_name(column),
            description=column.doc or COMMON_DESCRIPTIONS.get(column.name),
            constraints=dg.TableColumnConstraints(
                nullable=bool(column.nullable) and not column.primary_key,
                unique=bool(column.unique) or (column.primary_key and len(table.primary_key.columns) == 1),
                other=["primary key"] if column.primary_key else [],
            ),
        )
        for column in table.columns
    ])


def column_lineage(asset: dg.AssetKey) -> dg.TableColumnLineage | None:
    deps = COLUMN_LINEAGE.get(asset)
    if not deps:
        return None
    return dg.TableColumnLineage(deps_by_column={
        column: [dg.TableColumnDep(asset_key=other, column_name=name) for other, name in sources]
        for column, sources in deps.items()
    })


def definition_metadata(asset: dg.AssetKey) -> dict:
    """Static metadata of an asset that writes tables (empty for any other asset)."""
    tables = ASSET_TABLES.get(asset)
    if not tables:
        return {}
    main, *others = tables
    metadata = {"dagster/table_name": main.name, "dagster/column_schema": table_schema(main)}
    metadata.update({f"tables/{table.name}": table_schema(table) for table in others})
    lineage = column_lineage(asset)
    if lineage is not None:
        metadata["dagster/column_lineage"] = lineage
    return metadata


def describe_tables(spec: dg.AssetSpec) -> dg.AssetSpec:
    """For Definitions.map_asset_specs: adds definition_metadata to the asset's spec."""
    metadata = definition_metadata(spec.key)
    return spec.merge_attributes(metadata=metadata) if metadata else spec


def row_count_metadata(conn: Connection, asset: dg.AssetKey, year: int | None = None) -> dict:
    """Numeric row counts of the asset's tables: the main table's total and the year's rows, and
    rows/<table> (the year's rows where the table has years, else its total)."""
    main, *others = ASSET_TABLES[asset]
    metadata: dict = {"dagster/row_count": row_counts.total_rows(conn, main)}
    for table in (main, *others):
        in_year = row_counts.rows_of_year(conn, table, year) if year is not None else None
        if table is main and in_year is not None:
            metadata["dagster/partition_row_count"] = in_year
        metadata[f"rows/{table.name}"] = in_year if in_year is not None else row_counts.total_rows(conn, table)
    return metadata


def described(assets: list) -> list:
    """A room's assets with links to their code and, for those that write tables, their schemas
    and lineage (each room's definitions pass its assets through this)."""
    return list(dg.map_asset_specs(describe_tables, dg.with_source_code_references(assets)))
