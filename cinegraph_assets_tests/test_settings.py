"""Settings: one registry, clear errors naming the env var, secrets never echoed, README complete."""

from pathlib import Path

import pytest

from cinegraph_assets.settings import SETTINGS, SettingError, markdown_table, setting

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_env_var_overrides_default_and_explicit_overrides_env():
    env = {"TMDB_MAX_RPS": "20"}
    assert setting("TMDB_MAX_RPS", environ={}) == 40.0
    assert setting("TMDB_MAX_RPS", environ=env) == 20.0
    assert setting("TMDB_MAX_RPS", 5, environ=env) == 5.0


@pytest.mark.parametrize(
    "env, raw, fragment",
    [
        ("TMDB_MAX_RPS", "-3", "greater than 0"),
        ("TMDB_MAX_RPS", "fast", "TMDB_MAX_RPS"),
        ("TMDB_BASE_URL", "api.themoviedb.org/3", "e.g. https://api.themoviedb.org/3"),
        ("CINEGRAPH_DATABASE_URL", "mysql://x", "SQLAlchemy URL"),
        ("TMDB_FAILURE_THRESHOLD", "5", "fraction"),
        ("OMDB_DAILY_LIMIT", "0", "greater than 0"),
    ],
)
def test_malformed_settings_fail_with_a_message_naming_the_variable(env, raw, fragment):
    with pytest.raises(SettingError) as excinfo:
        setting(env, environ={env: raw})
    assert env in str(excinfo.value)
    assert fragment in str(excinfo.value)


def test_a_secret_value_is_never_echoed_in_an_error():
    secret = SETTINGS["TMDB_API_KEY"]
    broken = type(secret)(secret.env, None, lambda raw: int(raw), secret.help, secret=True)
    with pytest.raises(SettingError) as excinfo:
        broken.resolve(environ={"TMDB_API_KEY": "s3cr3t-key-value"})
    assert "s3cr3t-key-value" not in str(excinfo.value)


def test_default_warehouse_is_sqlite_inside_dagster_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert setting("CINEGRAPH_DATABASE_URL") == f"sqlite:///{tmp_path / 'warehouse.sqlite'}"


def test_readme_settings_table_is_the_registry():
    readme = (REPO_ROOT / "README.md").read_text()
    missing = [env for env in SETTINGS if f"`{env}`" not in readme]
    assert not missing, f"README.md's settings table lacks {missing}"
    assert markdown_table() in readme, (
        "README.md's settings table differs from cinegraph_assets/settings.py: "
        "regenerate it with `python -m cinegraph_assets.settings`"
    )


def test_every_field_of_the_service_resources_falls_back_to_a_registered_setting():
    """One resolver (resources.SettingsResource) serves TMDb, OMDb and the Oscar source: a field
    missing from ENV_VARS would never be read from the environment."""
    from cinegraph_assets.omdb.resource import OMDbResource
    from cinegraph_assets.oscars.resource import OscarsSourceResource
    from cinegraph_assets.settings import SETTINGS
    from cinegraph_assets.tmdb.resource import TMDbResource

    for resource in (TMDbResource, OMDbResource, OscarsSourceResource):
        assert set(resource.ENV_VARS) == set(resource.model_fields), resource.__name__
        assert set(resource.ENV_VARS.values()) <= set(SETTINGS), resource.__name__


def test_a_resource_field_left_empty_is_read_from_its_env_var_at_run_time(monkeypatch):
    from cinegraph_assets.omdb.resource import OMDbResource
    from cinegraph_assets.tmdb.resource import TMDbResource

    monkeypatch.setenv("TMDB_MAX_RPS", "7.5")
    monkeypatch.setenv("OMDB_DAILY_LIMIT", "12")
    assert TMDbResource().resolved().max_rps == 7.5
    assert TMDbResource(max_rps=2.0).resolved().max_rps == 2.0
    assert OMDbResource().resolved().daily_limit == 12
