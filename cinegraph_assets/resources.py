"""Dagster resources shared by every room.

Each field left at None is resolved at run time from its environment variable (see settings.py), so
the Dagster UI never shows a secret's value and no module reads the environment at import.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Optional

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy.engine import Engine

from cinegraph_assets.settings import setting
from cinegraph_assets.warehouse.engine import get_engine, warehouse_url
from cinegraph_assets.warehouse.migrate import upgrade


class SettingsResource(dg.ConfigurableResource):
    """A resource whose fields are optional: each one left at None is read when a run starts from
    the environment variable ENV_VARS names for it (default and validation: settings.py).

    The one resolver of the service resources (TMDb, OMDb, the Oscar source): explicit field >
    env var > default, and a malformed value raises a SettingError naming the env var to fix.
    """

    #: field name -> the environment variable it falls back to
    ENV_VARS: ClassVar[Mapping[str, str]] = {}

    def resolved_field(self, name: str) -> Any:
        return setting(self.ENV_VARS[name], getattr(self, name))

    def resolved_fields(self) -> dict[str, Any]:
        """Every field of ENV_VARS, resolved."""
        return {name: self.resolved_field(name) for name in self.ENV_VARS}


class WarehouseResource(dg.ConfigurableResource):
    """The SQL warehouse (SQLite by default, PostgreSQL in production).

    The schema is migrated to the newest revision the first time a run touches it.
    """

    database_url: Optional[str] = None  # None: CINEGRAPH_DATABASE_URL, else SQLite in DAGSTER_HOME

    _engine: Engine | None = PrivateAttr(default=None)

    @property
    def url(self) -> str:
        return warehouse_url(self.database_url)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            upgrade(self.url)
            self._engine = get_engine(self.url)
        return self._engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name
