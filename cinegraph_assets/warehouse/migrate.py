"""Apply the Alembic migrations to a warehouse, programmatically (no alembic.ini needed).

Any process migrates on first touch when its role may change the schema (the embedded default,
development). In production runs use a role without DDL rights: at the newest revision they touch
nothing, and behind it they stop with SchemaChangeRefused, which names the command to run as the
warehouse owner role instead of attempting the DDL.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cinegraph_assets.warehouse.engine import get_engine, warehouse_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_upgraded: set[str] = set()
_MIGRATION_LOCK_ID = 720_4311  # any constant; names the "schema migration" advisory lock
_lock = threading.Lock()
_INSUFFICIENT_PRIVILEGE = "42501"
MIGRATE_COMMAND = "python -m cinegraph_assets migrate"


class SchemaChangeRefused(RuntimeError):
    """The warehouse is behind the code and this role may not change its schema."""


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


def _may_change_schema(conn: sa.Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return True  # SQLite has no roles: whoever can write the file can migrate it
    return bool(conn.exec_driver_sql("SELECT has_schema_privilege(current_schema(), 'CREATE')").scalar())


def _refusal(url: str, current: str | None, head: str, reason: str = "") -> SchemaChangeRefused:
    parsed = sa.engine.make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    return SchemaChangeRefused(
        f"The warehouse {shown} is at schema revision {current or 'none (no tables yet)'}, this code "
        f"needs {head}, and the role {parsed.username} may not change the schema{reason}. "
        f"Run `{MIGRATE_COMMAND}` with CINEGRAPH_DATABASE_URL set to the warehouse owner role "
        "(owner.env written by `python -m cinegraph_assets db-roles`), then rerun.")


def upgrade(url: str | None = None) -> str:
    """Bring the warehouse to the newest schema; a no-op when it is already there.

    Safe to call at the start of every asset: it only touches the database once per process.
    Raises SchemaChangeRefused, before any DDL, when the schema is behind and the role may not
    change it.
    """
    resolved = warehouse_url(url)
    with _lock:
        if resolved in _upgraded:
            return resolved
        head = head_revision()
        if current_revision(resolved) != head:
            engine = get_engine(resolved)
            with engine.begin() as conn:
                if not _may_change_schema(conn):
                    current = MigrationContext.configure(conn).get_current_revision()
                    raise _refusal(resolved, current, head)
                # Two runs starting at once must not both create the tables: on PostgreSQL a
                # transaction-scoped advisory lock serializes them (SQLite's BEGIN IMMEDIATE does).
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)" % _MIGRATION_LOCK_ID)
                current = MigrationContext.configure(conn).get_current_revision()
                if current != head:
                    _run_migrations(resolved, conn, current, head)
        _upgraded.add(resolved)
    return resolved


def _run_migrations(url: str, conn: sa.Connection, current: str | None, head: str) -> None:
    """alembic upgrade head on `conn`; a privilege error becomes SchemaChangeRefused."""
    config = alembic_config(url)
    config.attributes["connection"] = conn
    try:
        command.upgrade(config, "head")
    except sa.exc.ProgrammingError as error:
        # CREATE on the schema is not enough to alter tables another role owns.
        if getattr(error.orig, "pgcode", None) != _INSUFFICIENT_PRIVILEGE:
            raise
        raise _refusal(url, current, head, f" ({str(error.orig).splitlines()[0]})") from None
