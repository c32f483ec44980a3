"""`python -m cinegraph_assets status`: the catalog progress table in the terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from cinegraph_assets.automation import clock
from cinegraph_assets.reporting.collect import collect_progress
from cinegraph_assets.settings import SettingError, dagster_home
from cinegraph_assets.warehouse.engine import get_engine, warehouse_url
from cinegraph_assets.warehouse.progress import has_catalog_tables


def _instance(home: Path) -> dg.DagsterInstance | None:
    """The Dagster instance in DAGSTER_HOME, if one was ever created there (never create one)."""
    if not (home / "dagster.yaml").exists() and not (home / "storage").exists():
        return None
    try:
        return dg.DagsterInstance.from_config(str(home))
    except Exception as exc:  # a broken instance should not hide the warehouse's table
        print(f"(Could not open the Dagster instance in {home}: {type(exc).__name__}; "
              "running/failed years are not shown.)", file=sys.stderr)
        return None


def print_status(database_url: str | None = None) -> int:
    """Print the catalog progress table; 0 on success, 1 when there is nothing to report on."""
    try:
        url = warehouse_url(database_url)
    except SettingError as exc:
        print(exc, file=sys.stderr)
        return 2
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
        print(f"The warehouse {shown} holds no catalog yet: start the platform with `make run` "
              "(or point CINEGRAPH_DATABASE_URL at the warehouse).", file=sys.stderr)
        return 1
    instance = _instance(dagster_home())
    try:
        report = collect_progress(engine, instance, clock.utc_now())
    finally:
        if instance is not None:
            instance.dispose()
    print(report.to_text())
    return 0
