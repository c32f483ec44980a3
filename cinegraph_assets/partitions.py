"""Release-year partitions: one partition per year a movie can premiere in, 1874 to this year."""

import dagster as dg

#: One partition per release year. end_offset=1 makes the current (still running) year a partition
#: too, which is where new releases land.
release_years = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", fmt="%Y", start="1874", end_offset=1
)


def partition_years(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[int]:
    """The release years a run covers, in order; works for single- and multi-partition runs.

    Uses partition_keys rather than partition_key, which raises when a run spans several years
    (a single-run backfill).
    """
    return sorted(int(key) for key in context.partition_keys)
