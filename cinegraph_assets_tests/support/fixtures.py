"""Pytest fixtures shared by every test folder (registered by the root conftest)."""

from __future__ import annotations

import pytest

from cinegraph_assets_tests.support.postgres import postgres_available, throwaway_database


@pytest.fixture
def sqlite_warehouse_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.sqlite'}"


@pytest.fixture
def postgres_warehouse_url():
    if not postgres_available():
        pytest.fail(
            "PostgreSQL is not reachable on 127.0.0.1:5432; `make test` starts it "
            "(pg_ctlcluster --skip-systemctl-redirect 15 main start)"
        )
    with throwaway_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request) -> str:
    """An empty warehouse, once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param if request.param == 'sqlite' else 'postgres'}_warehouse_url")
