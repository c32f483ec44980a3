"""Release-year partitions: one partition per year a movie can premiere in, 1874 to this year."""

from datetime import datetime

import dagster as dg

#: One partition per release year. end_offset=1 makes the current (still running) year a partition
#: too, which is where new releases land.
release_years = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", fmt="%Y", start="1874", end_offset=1
)


def partition_year_range(now: datetime) -> tuple[int, int]:
    """First and last release-year partition that exist at `now` (1874 .. the current year)."""
    keys = release_years.get_partition_keys(current_time=now)
    return int(keys[0]), int(keys[-1])


def partition_years(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[int]:
    """The release years a run covers, in order; works for single- and multi-partition runs.

    Uses partition_keys rather than partition_key, which raises when a run spans several years
    (a single-run backfill).
    """
    return sorted(int(key) for key in context.partition_keys)


def parse_years(text: str) -> list[int]:
    """The release years of "1990", "1920-1925" or "1990,1995-1997", each checked against the
    partitions; a ValueError names what is wrong and the range that exists."""
    keys = release_years.get_partition_keys()
    first, last = int(keys[0]), int(keys[-1])
    years: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        start, _, end = part.partition("-")
        if not start.strip().isdigit() or (end and not end.strip().isdigit()):
            raise ValueError(f"{part!r} is not a year or a range of years; write 1990, 1920-1925 "
                             "or 1990,1995-1997")
        low, high = int(start), int(end or start)
        if low > high:
            raise ValueError(f"{part!r} runs backwards; write the earlier year first, e.g. {high}-{low}")
        if low < first or high > last:
            raise ValueError(f"{part!r} is outside the release-year partitions {first}-{last}")
        years.update(range(low, high + 1))
    return sorted(years)
