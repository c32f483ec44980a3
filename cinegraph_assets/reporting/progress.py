"""The catalog progress report: a row per release year, totals, the backfill's rate and ETA.

Plain Python (no Dagster, no SQL): it combines what the warehouse holds (warehouse/progress.py) with
what the Dagster instance knows about runs (running / failed years), and renders the table as text
for `python -m cinegraph_assets status` (the asset shows the same rows as Dagster table metadata,
and as a picture: reporting/picture.py).

Status of a year:
- running: a run writing the year is queued or running;
- failed: the year's last finished run failed (and it is not complete);
- complete: discovered, and at least 99.5% of TMDb's total for the year is imported;
- partial: something discovered or imported, but less than that;
- pending: never discovered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cinegraph_assets.warehouse.progress import YearCounts

COMPLETE_COVERAGE_PCT = 99.5
STATUSES = ("complete", "partial", "running", "failed", "pending")
#: Window over which the import rate is measured.
RATE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class YearRow:
    year: int
    imported: int
    tmdb_total: int
    coverage_pct: float | None  # None when TMDb's total is unknown (never discovered)
    status: str
    last_sync: datetime | None
    failures: int


@dataclass
class CatalogProgress:
    generated_at: datetime
    rows: list[YearRow]  # newest year first
    years_per_day: int
    new_movies_last_24h: int = 0
    years_imported_in_window: int = 0
    omdb: dict = field(default_factory=dict)  # eligible, rated, coverage_pct
    oscars: dict = field(default_factory=dict)  # film_nominations, matched, match_pct
    instance_known: bool = True  # False: running/failed could not be read (no Dagster instance)
    #: The whole catalog against TMDb's newest id export (warehouse/catalog_gap.catalog_accounting);
    #: empty when no export was loaded yet.
    whole_catalog: dict = field(default_factory=dict)

    # ---------------------------------------------------------------- totals
    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def imported(self) -> int:
        return sum(row.imported for row in self.rows)

    @property
    def tmdb_total(self) -> int:
        return sum(row.tmdb_total for row in self.rows)

    @property
    def coverage_of_discovered_pct(self) -> float | None:
        """Imported / TMDb total over the years discovered so far."""
        total = self.tmdb_total
        return round(100.0 * min(self.imported, total) / total, 2) if total else None

    @property
    def years_left(self) -> int:
        """Years the backfill still has to import (never imported: pending, failed, running)."""
        return sum(1 for row in self.rows if row.status != "complete" and row.imported == 0)

    @property
    def import_rate_movies_per_hour(self) -> float:
        return round(self.new_movies_last_24h / 24.0, 1)

    @property
    def years_per_day_measured(self) -> float:
        return round(self.years_imported_in_window / RATE_WINDOW.days, 2)

    @property
    def eta_days(self) -> float | None:
        """Days until every year is imported, at the measured pace (else the configured one)."""
        left = self.years_left
        if left == 0:
            return 0.0
        pace = max(self.years_per_day_measured, 0.0) or float(self.years_per_day)
        return round(left / pace, 1) if pace > 0 else None

    @property
    def eta_date(self) -> datetime | None:
        days = self.eta_days
        return None if days is None else self.generated_at + timedelta(days=math.ceil(days))

    # ---------------------------------------------------------------- rendering
    def numeric_metadata(self) -> dict[str, float | int]:
        """Numbers for the UI to plot over time."""
        numbers: dict[str, float | int] = {
            "years_total": len(self.rows),
            "movies_imported": self.imported,
            "tmdb_total_discovered_years": self.tmdb_total,
            "backfill_years_left": self.years_left,
            "import_rate_movies_per_hour": self.import_rate_movies_per_hour,
            "years_imported_per_day": self.years_per_day_measured,
        }
        for status in STATUSES:
            numbers[f"years_{status}"] = self.count(status)
        if self.coverage_of_discovered_pct is not None:
            numbers["coverage_pct"] = self.coverage_of_discovered_pct
        if self.eta_days is not None:
            numbers["backfill_eta_days"] = self.eta_days
        if self.omdb.get("coverage_pct") is not None:
            numbers["omdb_coverage_pct"] = self.omdb["coverage_pct"]
            numbers["omdb_rated"] = self.omdb.get("rated", 0)
        if self.oscars.get("match_pct") is not None:
            numbers["oscar_match_pct"] = self.oscars["match_pct"]
        numbers.update(self.catalog_numbers())
        return numbers

    def catalog_numbers(self) -> dict[str, float | int]:
        """The catalog line's numbers: export ids, held, held undated, deleted, failed, pending,
        accounted_pct (nothing before the first export is loaded)."""
        c = self.whole_catalog
        if not c:
            return {}
        return {"export_ids": c["export_ids"], "held": c["held"], "held_undated": c["held_undated"],
                "deleted": c["deleted"], "failed": c["failed"],
                "pending": c["pending_gap"] + c["pending_years"], "accounted_pct": c["accounted_pct"]}

    def catalog_line(self) -> str:
        c = self.whole_catalog
        if not c:
            return "Whole catalog: no TMDb id export loaded yet (materialize tmdb_catalog_ids)"
        return (f"Whole catalog (TMDb export of {c['export_date']}): {c['export_ids']:,} ids; held "
                f"{c['held']:,} + {c['held_undated']:,} undated, deleted {c['deleted']:,}, failed "
                f"{c['failed']:,}, pending {c['pending_gap'] + c['pending_years']:,} ({c['pending_gap']:,} "
                f"for tmdb_gap_movies, {c['pending_years']:,} for their years): "
                f"{c['accounted_pct']}% accounted for")

    def summary_lines(self) -> list[str]:
        eta = self.eta_date
        lines = [
            f"Years: {len(self.rows)} ({', '.join(f'{self.count(s)} {s}' for s in STATUSES)})",
            f"Movies imported: {self.imported:,} of {self.tmdb_total:,} TMDb lists for the discovered "
            f"years ({_pct(self.coverage_of_discovered_pct)})",
            f"Import rate: {self.import_rate_movies_per_hour:,} new movies/hour over the last 24 h; "
            f"{self.years_per_day_measured} years/day over the last {RATE_WINDOW.days} days "
            f"(CATALOG_BACKFILL_YEARS_PER_DAY={self.years_per_day})",
            "Backfill: done" if self.years_left == 0 else
            f"Backfill: {self.years_left} year(s) left, ETA "
            + (f"{self.eta_days} days ({eta:%Y-%m-%d})" if eta else "unknown"),
            f"OMDb coverage: {self.omdb.get('rated', 0):,} of {self.omdb.get('eligible', 0):,} movies "
            f"with an IMDb id rated ({_pct(self.omdb.get('coverage_pct'))})",
            f"Oscar match rate: {self.oscars.get('matched', 0):,} of "
            f"{self.oscars.get('film_nominations', 0):,} film nominations matched to a movie "
            f"({_pct(self.oscars.get('match_pct'))})",
            self.catalog_line(),
        ]
        if not self.instance_known:
            lines.append("(No Dagster instance found: running/failed years are not shown.)")
        return lines

    def select(self, years: set[int] | None = None, unfinished: bool = False) -> list[YearRow]:
        """The rows of `years` (all when None), only the ones not complete if `unfinished`."""
        return [row for row in self.rows
                if (years is None or row.year in years) and not (unfinished and row.status == "complete")]

    def to_text(self, rows: list[YearRow] | None = None) -> str:
        """The summary and the table of `rows` (default: every year)."""
        rows = self.rows if rows is None else rows
        header = ("Year", "Imported", "TMDb total", "Coverage", "Status", "Last sync")
        body = [
            (str(r.year), f"{r.imported:,}", f"{r.tmdb_total:,}", _pct(r.coverage_pct), r.status,
             _when(r.last_sync))
            for r in rows
        ]
        widths = [max([len(header[i]), *(len(line[i]) for line in body)]) for i in range(len(header))]
        right = {0, 1, 2, 3}

        def fmt(cells) -> str:
            return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        lines = [f"Catalog progress at {self.generated_at:%Y-%m-%d %H:%M} UTC", ""]
        lines += self.summary_lines()
        if len(rows) != len(self.rows):
            lines.append(f"Showing {len(rows)} of the {len(self.rows)} years.")
        lines += ["", fmt(header), fmt(["-" * w for w in widths])]
        lines += [fmt(cells) for cells in body]
        return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _when(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


def year_status(counts: YearCounts, running: bool, failed: bool) -> tuple[str, float | None]:
    coverage = (
        round(100.0 * min(counts.imported, counts.tmdb_total) / counts.tmdb_total, 1)
        if counts.tmdb_total else (100.0 if counts.last_sync else None)
    )
    complete = counts.last_sync is not None and (coverage or 0) >= COMPLETE_COVERAGE_PCT
    if running:
        return "running", coverage
    if complete:
        return "complete", coverage
    if failed:
        return "failed", coverage
    if counts.last_sync is not None or counts.imported or counts.discovered:
        return "partial", coverage
    return "pending", coverage


def build_progress(
    now: datetime,
    first_year: int,
    last_year: int,
    counts: dict[int, YearCounts],
    running_years: set[int],
    failed_years: set[int],
    years_per_day: int,
    new_movies_last_24h: int = 0,
    omdb: dict | None = None,
    oscars: dict | None = None,
    instance_known: bool = True,
    whole_catalog: dict | None = None,
) -> CatalogProgress:
    rows = []
    recent = 0
    for year in range(last_year, first_year - 1, -1):
        c = counts.get(year, YearCounts(year=year))
        status, coverage = year_status(c, year in running_years, year in failed_years)
        rows.append(YearRow(year, c.imported, c.tmdb_total, coverage, status, c.last_sync, c.failures))
        if c.first_import is not None and c.first_import >= now - RATE_WINDOW:
            recent += 1
    return CatalogProgress(
        generated_at=now,
        rows=rows,
        years_per_day=years_per_day,
        new_movies_last_24h=new_movies_last_24h,
        years_imported_in_window=recent,
        omdb=omdb or {},
        oscars=oscars or {},
        instance_known=instance_known,
        whole_catalog=whole_catalog or {},
    )
