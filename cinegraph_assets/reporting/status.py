"""`python -m cinegraph_assets status`: the catalog progress table in the terminal.

`--years 1990-2000` narrows the table to those years, `--unfinished` to the years not complete;
the summary above it always counts the whole catalog. A read never creates anything: with no
warehouse yet, it says so and what to run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext

from cinegraph_assets import clock
from cinegraph_assets.home import existing_instance
from cinegraph_assets.reporting.collect import collect_progress
from cinegraph_assets.settings import SettingError, dagster_home
from cinegraph_assets.warehouse.engine import get_engine, warehouse_url
from cinegraph_assets.warehouse.migrate import MIGRATE_COMMAND, head_revision
from cinegraph_assets.warehouse.progress import has_catalog_tables

START_HINT = ("start the platform with `make run` and import a year (or point "
              "CINEGRAPH_DATABASE_URL at the warehouse)")


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite warehouse URL when it does not exist (opening it would create it)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def print_status(database_url: str | None = None, years: list[int] | None = None,
                 unfinished: bool = False) -> int:
    """Print the catalog progress table; 0 on success, 1 when there is nothing to report on."""
    try:
        url = warehouse_url(database_url)
    except SettingError as exc:
        print(exc, file=sys.stderr)
        return 2
    missing = missing_sqlite_file(url)
    if missing is not None:
        print(f"No warehouse at {missing} yet: {START_HINT}.", file=sys.stderr)
        return 1
    engine = get_engine(url)
    shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            ready = has_catalog_tables(conn)
    except sa.exc.OperationalError as exc:
        print(f"Cannot open the warehouse {shown}: {exc.orig}. Check CINEGRAPH_DATABASE_URL.",
              file=sys.stderr)
        return 1
    if not ready:
        print(f"The warehouse {shown} holds no catalog yet: {START_HINT}.", file=sys.stderr)
        return 1
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head_revision():
        # A read never migrates (it may run as the analyst role); the counts would be wrong or
        # fail on a table the newer code expects.
        print(f"The warehouse {shown} is at schema revision {current}, this code needs "
              f"{head_revision()}: run `{MIGRATE_COMMAND}` (or any run of the platform, which "
              "migrates on the embedded default), then `status` again.", file=sys.stderr)
        return 1
    instance = existing_instance(dagster_home())
    try:
        report = collect_progress(engine, instance, clock.utc_now())
    finally:
        if instance is not None:
            instance.dispose()
    print(report.to_text(report.select(set(years) if years else None, unfinished)))
    return 0
