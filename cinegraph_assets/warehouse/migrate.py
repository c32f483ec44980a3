"""Apply the Alembic migrations to a warehouse, programmatically (no alembic.ini needed)."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cinegraph_assets.warehouse.engine import get_engine, warehouse_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_upgraded: set[str] = set()
_MIGRATION_LOCK_ID = 720_4311  # any constant; names the "schema migration" advisory lock
_lock = threading.Lock()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(url: str | None = None) -> str | None:
    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str | None = None) -> str:
    """Bring the warehouse to the newest schema; a no-op when it is already there.

    Safe to call at the start of every asset: it only touches the database once per process.
    """
    resolved = warehouse_url(url)
    with _lock:
        if resolved in _upgraded:
            return resolved
        head = head_revision()
        if current_revision(resolved) != head:
            engine = get_engine(resolved)
            with engine.begin() as conn:
                # Two runs starting at once must not both create the tables: on PostgreSQL a
                # transaction-scoped advisory lock serializes them (SQLite's BEGIN IMMEDIATE does).
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)" % _MIGRATION_LOCK_ID)
                if MigrationContext.configure(conn).get_current_revision() != head:
                    config = alembic_config(resolved)
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
        _upgraded.add(resolved)
    return resolved
