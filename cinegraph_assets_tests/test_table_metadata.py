"""What the UI shows of the tables, read the way the UI reads it (GraphQL): each asset that writes
tables has a column schema with types and descriptions, column lineage where a column comes from
another asset, a link to its code, and numeric row counts on its materializations."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql

import cinegraph_assets.definitions
from cinegraph_assets.warehouse import schema
from cinegraph_assets_tests.tmdb.test_assets import ALL, resources

YEAR = 2020
TABLE_ASSETS = ["tmdb_discovered_movies", "tmdb_movie_details", "movies", "omdb_ratings", "oscar_nominations"]

ASSET_NODES = """
query ($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    metadataEntries {
      label
      ... on TableSchemaMetadataEntry { schema { columns { name type description } } }
      ... on TableColumnLineageMetadataEntry {
        lineage { columnName columnDeps { assetKey { path } columnName } }
      }
      ... on CodeReferencesMetadataEntry {
        codeReferences { ... on LocalFileCodeReference { filePath lineNumber } }
      }
    }
    assetMaterializations(partitions: ["2020"]) {
      metadataEntries { label ... on IntMetadataEntry { intValue } }
    }
  }
}
"""


@pytest.fixture
def ui(sandbox_factory, sqlite_warehouse_url, tmp_path, monkeypatch):
    """A year imported into an instance, and the GraphQL the UI would ask that instance."""
    monkeypatch.setenv("CINEGRAPH_AUTOMATION_OFF", "all")
    sandbox = sandbox_factory(year_size=[f"{YEAR}=20"], detail_size="small")
    with dg.instance_for_test() as instance:
        result = dg.materialize(ALL, partition_key=str(YEAR), instance=instance,
                                resources=resources(sandbox, sqlite_warehouse_url, tmp_path))
        assert result.success
        with define_out_of_process_context(cinegraph_assets.definitions.__file__, "defs", instance) as context:
            yield lambda keys: {
                "/".join(node["assetKey"]["path"]): node
                for node in execute_dagster_graphql(
                    context, ASSET_NODES, {"keys": [{"path": [k]} for k in keys]}).data["assetNodes"]}


def entries(node: dict) -> dict:
    return {entry["label"]: entry for entry in node["metadataEntries"]}


def test_the_ui_shows_schemas_lineage_code_links_and_row_counts(ui):
    nodes = ui(TABLE_ASSETS)
    assert sorted(nodes) == sorted(TABLE_ASSETS)
    for name, node in nodes.items():
        shown = entries(node)
        columns = shown["dagster/column_schema"]["schema"]["columns"]
        assert columns and all(c["type"] for c in columns), name
        [reference] = shown["dagster/code_references"]["codeReferences"]
        assert Path(reference["filePath"]).is_file() and reference["lineNumber"] > 0, name

    movies = entries(nodes["movies"])
    columns = {c["name"]: c for c in movies["dagster/column_schema"]["schema"]["columns"]}
    assert list(columns) == [c.name for c in schema.movies.columns]  # derived from the table itself
    assert columns["budget"] == {"name": "budget", "type": "bigint", "description": "US dollars (0 when unknown)"}
    translations = {c["name"]: c for c in movies["tables/movie_translations"]["schema"]["columns"]}
    assert translations["tagline"]["type"] == "text" and translations["language"]["description"]
    for table in ("movie_companies", "movie_recommendations", "movie_similar", "collections", "people"):
        assert f"tables/{table}" in movies

    lineage = entries(nodes["omdb_ratings"])["dagster/column_lineage"]["lineage"]
    assert {"assetKey": {"path": ["movies"]}, "columnName": "imdb_id"} in [
        dep for column in lineage if column["columnName"] == "tmdb_id" for dep in column["columnDeps"]]

    [materialization] = nodes["movies"]["assetMaterializations"]
    counts = {e["label"]: e.get("intValue") for e in materialization["metadataEntries"]}
    assert counts["dagster/partition_row_count"] == counts["dagster/row_count"] == 20
    assert counts["rows/movie_cast"] > 0 and counts["rows/movie_translations"] > 0
    [discovery] = nodes["tmdb_discovered_movies"]["assetMaterializations"]
    assert {e["label"]: e.get("intValue") for e in discovery["metadataEntries"]}["dagster/partition_row_count"] == 20
