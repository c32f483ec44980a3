"""Pytest fixtures shared by every test folder (registered by the root conftest)."""

from __future__ import annotations

import pytest

from benchmarks.postgres import postgres_available, throwaway_database


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


# --- sandbox (TMDb/OMDb/Oscar stand-in) -------------------------------------------------------

@pytest.fixture
def sandbox_factory():
    """Call with SandboxProcess options to start sandboxes; all are stopped at teardown."""
    from cinegraph_assets_tests.support.sandbox import SandboxProcess

    started: list[SandboxProcess] = []

    def make(**options) -> SandboxProcess:
        sandbox = SandboxProcess(**options)
        started.append(sandbox)
        return sandbox.start()

    try:
        yield make
    finally:
        for sandbox in started:
            sandbox.stop()


@pytest.fixture(scope="module")
def demo_sandbox():
    """One demo-scale sandbox (seed 7, today 2026-11-21) shared by a test module. Do not advance it."""
    from cinegraph_assets_tests.support.sandbox import SandboxProcess

    with SandboxProcess(seed=7, scale="demo", start_date="2026-11-21") as sandbox:
        yield sandbox
