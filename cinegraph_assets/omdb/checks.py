"""The coverage check of omdb_ratings: how many eligible movies have OMDb ratings.

Evaluated inside every materialization (the asset declares the spec), over the years of the run.
While movies are pending because the day's quota is spent, that is the plan working, not a fault:
the check then warns; it errors only when movies are left pending although quota remains.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import dagster as dg

from cinegraph_assets.asset_keys import OMDB_RATINGS

coverage_check = dg.AssetCheckSpec(
    name="omdb_coverage",
    asset=OMDB_RATINGS,
    description=(
        "Share of the year's movies with an IMDb id that have OMDb ratings. Warns while movies "
        "wait for tomorrow's quota; errors when movies are left pending although quota remains."
    ),
)


def coverage_result(
    summaries: Sequence[Mapping[str, Any]], quota_remaining_today: int
) -> dg.AssetCheckResult:
    """The check's verdict for the years of one run (summaries from warehouse.ratings.ratings_summary)."""
    eligible = sum(s["eligible"] for s in summaries)
    rated = sum(s["rated"] for s in summaries)
    pending = sum(s["pending"] for s in summaries)
    coverage = round(100.0 * rated / eligible, 2) if eligible else 100.0
    quota_bound = quota_remaining_today == 0
    if pending == 0:
        description = f"{rated} of {eligible} eligible movies rated; nothing pending."
    elif quota_bound:
        description = (
            f"{pending} movies wait for OMDb's quota: the next UTC day, or the end of a pause after OMDb "
            f"said its limit is reached ({rated} of {eligible} rated)."
        )
    else:
        description = (
            f"{pending} movies are still pending although {quota_remaining_today} requests of "
            "today's quota remain: see the run's failures."
        )
    return dg.AssetCheckResult(
        check_name=coverage_check.name,
        asset_key=OMDB_RATINGS,
        passed=pending == 0,
        severity=dg.AssetCheckSeverity.WARN if quota_bound else dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "coverage_pct": dg.MetadataValue.float(float(coverage)),
            "eligible": eligible,
            "rated": rated,
            "pending": pending,
            "quota_remaining_today": quota_remaining_today,
        },
    )
