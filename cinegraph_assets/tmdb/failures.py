"""One-line failures of the TMDb steps: what the UI shows first when a step cannot go on.

A step that raises an ordinary exception shows Dagster's "Error occurred while executing op ..."
as its first line, with the reason buried below a traceback. The mistakes a person can fix (a
setting, the TMDb key or base URL, the warehouse database) are turned into a dagster Failure
whose description is the one line naming what to fix; everything else is raised as it is.
"""

from __future__ import annotations

import contextlib
import functools
import inspect

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.settings import SettingError
from cinegraph_assets.tmdb.client import TMDbAuthError, TMDbError

_WAREHOUSE_TROUBLE = (sa.exc.OperationalError, sa.exc.InterfaceError)


def _warehouse_failure(context, args, kwargs, exc: Exception) -> dg.Failure:
    warehouse = kwargs.get("warehouse") or next(
        (arg for arg in args if isinstance(arg, WarehouseResource)), None)
    url = make_url(warehouse.url if warehouse is not None else "sqlite://")
    where = f"{url.host}:{url.port or 5432}/{url.database}" if url.host else url.database
    first_line = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0][:300]
    assets = ", ".join(sorted(key.to_user_string() for key in context.selected_asset_keys))
    return dg.Failure(description=(
        f"The warehouse database ({where}, CINEGRAPH_DATABASE_URL) failed during {assets}: "
        f"{first_line}. Everything saved before the error is kept; rerun the partition once the "
        "database is reachable and it continues where this run stopped."))


def _failure_of(context, args, kwargs, exc: Exception) -> dg.Failure | None:
    if isinstance(exc, _WAREHOUSE_TROUBLE):
        # A lost or refused warehouse connection (a restart, a network cut): nothing is lost,
        # details are saved in batches and movies in whole-movie transactions as the run goes.
        return _warehouse_failure(context, args, kwargs, exc)
    if isinstance(exc, (SettingError, TMDbAuthError)) or (
            isinstance(exc, TMDbError) and exc.reason == "connection"):
        # Messages that already name the setting to fix (and are redacted).
        return dg.Failure(description=str(exc))
    return None


@contextlib.contextmanager
def _one_line_failures(context, args, kwargs):
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - re-raised as it is unless it is ours to word
        failure = _failure_of(context, args, kwargs, exc)
        if failure is None:
            raise
        # from None: no chained driver or requests traceback under the one line (nor in the event log)
        raise failure from None


def fails_clearly(asset_fn):
    """Decorate an asset function so that fixable mistakes fail it with one line (see the module)."""

    if inspect.isgeneratorfunction(asset_fn):
        @functools.wraps(asset_fn)
        def generator_wrapper(context, *args, **kwargs):
            with _one_line_failures(context, args, kwargs):
                yield from asset_fn(context, *args, **kwargs)

        return generator_wrapper

    @functools.wraps(asset_fn)
    def wrapper(context, *args, **kwargs):
        with _one_line_failures(context, args, kwargs):
            return asset_fn(context, *args, **kwargs)

    return wrapper
