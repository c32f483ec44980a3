"""The SQL warehouse: schema (SQLAlchemy Core), Alembic migrations, its row types and named queries.

All SQL of the platform lives in this package; other rooms call its named functions and hand it
its own row types (rows.py). It imports nothing but settings and itself. The TMDb tables, one
module per stage of a movie's way in: discovery.py, details_queue.py, staging.py,
failed_fetches.py, credit_rules.py, movie_rows.py, data_checks.py; every table is written through
bulk_write.py.
"""

from cinegraph_assets.warehouse.engine import get_engine, warehouse_url
from cinegraph_assets.warehouse.migrate import upgrade

__all__ = ["get_engine", "upgrade", "warehouse_url"]
