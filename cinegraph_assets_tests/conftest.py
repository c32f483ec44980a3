"""Root conftest: isolate every test from the developer's environment and DAGSTER_HOME."""

from __future__ import annotations

import pytest

pytest_plugins = ["cinegraph_assets_tests.support.fixtures"]

# Settings a developer may have exported must not leak into tests (or their keys into artifacts).
_ISOLATED_ENV = [
    "CINEGRAPH_DATABASE_URL", "CINEGRAPH_STATE_DIR", "TMDB_API_KEY", "TMDB_ACCESS_TOKEN",
    "TMDB_BASE_URL", "TMDB_EXPORTS_BASE_URL", "TMDB_MAX_RPS", "OMDB_API_KEY", "OMDB_BASE_URL",
    "OMDB_DAILY_LIMIT", "OSCARS_SOURCE_URL",
]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    for name in _ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
