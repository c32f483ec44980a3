"""The Dagster pools of the platform and their limits on an instance.

`pool="tmdb"` and `pool="omdb"` on the assets only limit how many runs work at once if the instance
has a limit for them: `make run` / `python -m cinegraph_assets init` set these (unless someone set
their own in the UI), and the repo's dagster.yaml gives any other pool a default. An instance that
has neither (a bare `dagster dev` without the repo's dagster.yaml in DAGSTER_HOME) would silently
run every year at once, so the pooled assets say so in their run's log.
"""

from __future__ import annotations

import dagster as dg

#: Runs holding TMDb work at once (each still shares one TMDB_MAX_RPS budget), OMDb work at once.
POOL_LIMITS = {"tmdb": 2, "omdb": 1}


def set_pool_limits(instance: dg.DagsterInstance) -> dict[str, int]:
    """Give the tmdb and omdb pools their limits, unless already set (in the UI or the CLI);
    returns the limits this call set."""
    storage = instance.event_log_storage
    configured = set(storage.get_concurrency_keys())
    newly_set = {}
    for pool, limit in POOL_LIMITS.items():
        if pool not in configured:
            storage.set_concurrency_slots(pool, limit)
            newly_set[pool] = limit
    return newly_set


def pool_is_unlimited(instance: dg.DagsterInstance, pool: str) -> bool:
    """Whether runs in `pool` are limited by nothing on this instance (no limit, no default)."""
    try:
        if pool in instance.event_log_storage.get_concurrency_keys():
            return False
        return instance.get_concurrency_config().pool_config.default_pool_limit is None
    except NotImplementedError:  # an in-memory test instance keeps no pools at all
        return False


def warn_if_unlimited(context: dg.AssetExecutionContext, pool: str) -> None:
    """A WARNING in the run's log when `pool` has no limit on the instance running it."""
    if pool_is_unlimited(context.instance, pool):
        context.log.warning(
            f"The pool `{pool}` has no limit on this Dagster instance, so nothing stops every year "
            f"from running at once: put the repo's dagster.yaml in DAGSTER_HOME and set the limits "
            f"with `python -m cinegraph_assets init` (`make run` does both), or `dagster instance "
            f"concurrency set {pool} {POOL_LIMITS[pool]}`.")
