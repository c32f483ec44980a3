"""The SQL warehouse: schema (SQLAlchemy Core), Alembic migrations, upserts and named queries.

All SQL of the platform lives in this package; other rooms call its named functions.
"""

from cinegraph_assets.warehouse.engine import get_engine, warehouse_url
from cinegraph_assets.warehouse.migrate import upgrade

__all__ = ["get_engine", "upgrade", "warehouse_url"]
