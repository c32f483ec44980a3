"""The oscars room as the platform assembles it: lineage movies[Y-1..Y+1] -> oscar_nominations[Y]."""

from __future__ import annotations

import dagster as dg

from cinegraph_assets.definitions import defs as load_definitions
from cinegraph_assets.oscars.resource import OscarsSourceResource
from cinegraph_assets.partitions import release_years


def test_oscar_nominations_read_the_movies_of_the_year_before_to_the_year_after():
    graph = load_definitions().resolve_asset_graph()
    node = graph.get(dg.AssetKey("oscar_nominations"))
    assert node.parent_keys == {dg.AssetKey("movies")}
    assert node.group_name == "oscars" and node.partitions_def == release_years

    def movies_read_by(year: str) -> list[str]:
        result = graph.get_parent_partition_keys_for_child(year, dg.AssetKey("movies"), dg.AssetKey("oscar_nominations"))
        return sorted(result.partitions_subset.get_partition_keys())

    assert movies_read_by("2005") == ["2004", "2005", "2006"]
    # The first and the current year still run, with the neighbours that exist.
    assert movies_read_by("1874") == ["1874", "1875"]
    last = release_years.get_last_partition_key()
    assert movies_read_by(last) == [str(int(last) - 1), last]


def test_the_resource_and_checks_are_registered():
    defs = load_definitions()
    assert isinstance(defs.resources["oscars_source"], OscarsSourceResource)
    check_keys = {key.name for key in defs.resolve_asset_graph().asset_check_keys
                  if key.asset_key == dg.AssetKey("oscar_nominations")}
    assert check_keys == {"oscar_nominations_match_their_imdb_movies", "best_picture_nominations_are_matched"}


def test_the_source_resolves_from_the_environment_at_run_time(monkeypatch, tmp_path):
    resource = OscarsSourceResource()
    monkeypatch.setenv("OSCARS_SOURCE_URL", str(tmp_path / "oscars.csv"))
    monkeypatch.setenv("CINEGRAPH_STATE_DIR", str(tmp_path / "state"))
    assert resource.resolved_source() == str(tmp_path / "oscars.csv")
    assert resource.resolved_state_dir() == tmp_path / "state"
    monkeypatch.delenv("OSCARS_SOURCE_URL")
    assert resource.resolved_source().startswith("https://raw.githubusercontent.com/DLu/oscar_data/")
