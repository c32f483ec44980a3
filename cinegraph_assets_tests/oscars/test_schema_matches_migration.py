"""schema.py's Oscar tables and migration 0004 describe the same thing (Alembic finds no difference)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets.warehouse.schema import metadata

OSCAR_TABLES = {"oscar_ceremonies", "oscar_categories", "oscar_nominations", "oscar_nominees"}


def _table_of(diff) -> str | None:
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item if isinstance(item, tuple) else (item,):
            table = getattr(part, "table", None)
            name = getattr(table, "name", None) or getattr(part, "name", None)
            if isinstance(part, str) and part in OSCAR_TABLES:
                return part
            if name in OSCAR_TABLES:
                return name
    return None


def test_migrated_oscar_tables_equal_the_schema(warehouse_url):
    upgrade(warehouse_url)
    with get_engine(warehouse_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(context, metadata) if _table_of(d)]
    assert diffs == []
