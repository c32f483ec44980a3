"""The catalog progress table: statuses, coverage, totals, ETA; the asset's metadata; the status
command printing the same table."""

import base64
import math
import random
import struct
import subprocess
import sys
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
from dagster._core.test_utils import create_run_for_test

from cinegraph_assets.partitions import release_years
from cinegraph_assets.reporting import picture
from cinegraph_assets.reporting.assets import catalog_progress
from cinegraph_assets.reporting.progress import STATUSES, YearRow, build_progress
from cinegraph_assets.reporting.status import print_status
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.warehouse import progress as progress_sql
from cinegraph_assets.warehouse.progress import YearCounts
from cinegraph_assets_tests.automation.conftest import add_discovered, add_movies

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
REPO_ROOT = Path(__file__).resolve().parents[2]


def counts(year, imported, total, last_sync=NOW, first_import=None):
    return YearCounts(year=year, imported=imported, discovered=total, tmdb_total=total,
                      last_sync=last_sync, first_import=first_import)


def test_statuses_coverage_and_totals():
    report = build_progress(
        now=NOW, first_year=2020, last_year=2026,
        counts={
            2026: counts(2026, 995, 1000),  # 99.5%: complete
            2025: counts(2025, 500, 1000),  # partial
            2024: counts(2024, 10, 1000),  # running now
            2023: counts(2023, 0, 0, last_sync=None),  # last run failed, nothing in
            2022: counts(2022, 0, 0),  # discovered: TMDb has nothing that year
        },
        running_years={2024}, failed_years={2023}, years_per_day=1,
    )

    by_year = {row.year: row for row in report.rows}
    assert [row.year for row in report.rows] == list(range(2026, 2019, -1))  # every year, newest first
    assert {y: r.status for y, r in by_year.items()} == {
        2026: "complete", 2025: "partial", 2024: "running", 2023: "failed", 2022: "complete",
        2021: "pending", 2020: "pending"}
    assert by_year[2025].coverage_pct == 50.0 and by_year[2021].coverage_pct is None
    assert report.imported == 1505 and report.tmdb_total == 3000
    assert report.years_left == 3  # 2023, 2021, 2020 have nothing yet
    numbers = report.numeric_metadata()
    assert numbers["years_complete"] == 2 and numbers["years_pending"] == 2
    assert numbers["coverage_pct"] == round(100 * 1505 / 3000, 2)


def test_eta_follows_the_measured_pace_else_the_setting():
    recent = NOW - timedelta(days=2)
    rows = {y: counts(y, 100, 100, first_import=recent) for y in (2026, 2025, 2024, 2023, 2022, 2021, 2020)}
    report = build_progress(now=NOW, first_year=2013, last_year=2026, counts=rows, running_years=set(),
                            failed_years=set(), years_per_day=1)

    assert report.years_left == 7
    assert report.years_per_day_measured == 1.0  # 7 years in the last 7 days
    assert report.eta_days == 7.0 and report.eta_date == NOW + timedelta(days=7)

    slow = build_progress(now=NOW, first_year=2013, last_year=2026, counts={}, running_years=set(),
                          failed_years=set(), years_per_day=2)
    assert slow.eta_days == 7.0  # 14 years at CATALOG_BACKFILL_YEARS_PER_DAY=2


def test_text_shows_every_row_and_the_summary():
    report = build_progress(now=NOW, first_year=2024, last_year=2026,
                            counts={2026: counts(2026, 1234, 2000)}, running_years=set(),
                            failed_years=set(), years_per_day=1,
                            omdb={"eligible": 100, "rated": 40, "coverage_pct": 40.0},
                            oscars={"film_nominations": 10, "matched": 9, "match_pct": 90.0})
    text = report.to_text()

    assert any(line.split()[:5] == ["2026", "1,234", "2,000", "61.7%", "partial"]
               for line in text.splitlines())
    assert any(line.split() == ["2024", "0", "0", "-", "pending", "-"] for line in text.splitlines())
    for line in ("OMDb coverage: 40 of 100", "Oscar match rate: 9 of 10", "Backfill: 2 year(s) left"):
        assert line in text


def fill_warehouse(engine):
    at = datetime.now(timezone.utc) - timedelta(hours=1)
    add_discovered(engine, 2025, range(1, 11), at, tmdb_total=10)
    add_movies(engine, 2025, range(1, 11), at)
    add_discovered(engine, 2024, range(11, 21), at, tmdb_total=20)
    add_movies(engine, 2024, range(11, 16), at)


def test_year_counts_on_both_databases(warehouse_url):
    engine = WarehouseResource(database_url=warehouse_url).engine
    fill_warehouse(engine)

    with engine.connect() as conn:
        got = progress_sql.year_counts(conn)
        oscars = progress_sql.oscar_match_rate(conn)

    assert (got[2025].imported, got[2025].tmdb_total, got[2024].imported, got[2024].tmdb_total) == (10, 10, 5, 20)
    assert got[2024].last_sync is not None and got[2024].last_sync.tzinfo is not None
    assert oscars == {"film_nominations": 0, "matched": 0, "match_pct": None}


def _png_pixels(data: bytes) -> tuple[list[list[int]], list[tuple[int, int, int]]]:
    """Rows of palette indices and the palette of a paletted PNG (filters None and Up only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(data):
        (length,), kind = struct.unpack(">I", data[at:at + 4]), data[at + 4:at + 8]
        chunks[kind] = chunks.get(kind, b"") + data[at + 8:at + 8 + length]
        at += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    raw, rows, above = zlib.decompress(chunks[b"IDAT"]), [], [0] * width
    for y in range(height):
        kind, line = raw[y * (width + 1)], list(raw[y * (width + 1) + 1:(y + 1) * (width + 1)])
        assert kind in (0, 2)
        above = [(v + a) & 0xFF for v, a in zip(line, above)] if kind == 2 else line
        rows.append(above)
    plte = chunks[b"PLTE"]
    return rows, [tuple(plte[i:i + 3]) for i in range(0, len(plte), 3)]


def test_the_asset_shows_a_table_a_picture_and_numbers(sqlite_warehouse_url):
    warehouse = WarehouseResource(database_url=sqlite_warehouse_url)
    fill_warehouse(warehouse.engine)  # 2025: 10 of 10 (complete), 2024: 5 of 20 (partial)
    with dg.instance_for_test() as instance:
        create_run_for_test(instance, job_name="tmdb_year_import", status=dg.DagsterRunStatus.STARTED,
                            tags={"dagster/partition": "2023"})
        result = dg.materialize([catalog_progress], instance=instance, resources={"warehouse": warehouse})

    metadata = result.asset_materializations_for_node("catalog_progress")[0].metadata
    years = len(release_years.get_partition_keys())
    # The per-year table is Dagster table metadata (shown as a table), with its schema and row count.
    table = metadata["progress_by_year"]
    assert isinstance(table, dg.TableMetadataValue) and len(table.records) == years
    by_year = {record.data["year"]: record.data for record in table.records}
    assert by_year[2024] == {"year": 2024, "imported": 5, "tmdb_total": 20, "coverage_pct": 25.0,
                             "status": "partial", "last_sync": by_year[2024]["last_sync"], "failures": 0}
    assert by_year[2023]["status"] == "running" and by_year[1874]["status"] == "pending"
    assert [c.name for c in metadata["dagster/column_schema"].schema.columns] == list(by_year[2024])
    assert metadata["dagster/row_count"].value == years
    # The picture: a markdown image short enough for the UI to show it inline (under 1,000 chars).
    chart = metadata["progress_chart"].value
    assert isinstance(metadata["progress_chart"], dg.MarkdownMetadataValue) and len(chart) < 1000
    pixels, palette = _png_pixels(base64.b64decode(chart.split("base64,", 1)[1].rstrip(")")))
    assert (len(pixels), len(pixels[0])) == (picture.HEIGHT, years * (picture.BAR_WIDTH + picture.GAP))

    def column(year: int) -> list[tuple[int, int, int] | None]:
        x = (year - 1874) * (picture.BAR_WIDTH + picture.GAP)
        return [palette[row[x]] if row[x] else None for row in pixels]

    complete, partial, pending = column(2025), column(2024), column(1874)
    assert complete[-1] == picture.COLOURS["complete"]  # all imported: solid to the top of its bar
    assert set(complete) - {None} == {picture.COLOURS["complete"]}
    solid = sum(1 for c in partial if c == picture.COLOURS["partial"])
    pale = sum(1 for c in partial if c not in (None, picture.COLOURS["partial"]))
    assert round(solid / (solid + pale), 1) == 0.2  # 5 of 20 imported (rounded to whole pixels)
    assert solid + pale > complete.count(picture.COLOURS["complete"])  # 20 movies > 10 (log scale)
    # Never discovered, nothing imported: a short pale stub, so the year is still visible.
    assert pending.count(picture.PALE_COLOURS["pending"]) == picture.STUB
    assert set(pending) == {None, picture.PALE_COLOURS["pending"]}
    assert metadata["movies_imported"].value == 15
    assert metadata["years_complete"].value == 1 and metadata["years_running"].value == 1


def test_a_patchwork_of_statuses_still_fits_the_inline_limit():
    """Random statuses and shares year after year compress worst: the picture gets lower until
    its markdown is short enough for the UI to show it inline."""
    rng = random.Random(3)
    rows = []
    for year in range(1874, 2027):
        total = int(10 * math.exp((year - 1874) / 19))
        status = rng.choice(STATUSES)
        imported = {"complete": total, "pending": 0}.get(status, rng.randint(0, total))
        rows.append(YearRow(year, imported, total, None, status, None, 0))
    assert len(picture.progress_picture_markdown(rows)) < picture.INLINE_LIMIT


def test_status_prints_the_table(sqlite_warehouse_url, capsys):
    fill_warehouse(WarehouseResource(database_url=sqlite_warehouse_url).engine)

    assert print_status(sqlite_warehouse_url) == 0

    out = capsys.readouterr().out
    assert any(line.split()[:5] == ["2024", "5", "20", "25.0%", "partial"] for line in out.splitlines())
    assert "No Dagster instance found" in out  # a fresh DAGSTER_HOME: statuses from the warehouse only


def test_status_without_a_warehouse_says_so_and_creates_none(tmp_path, capsys):
    missing = tmp_path / "no_such_dir" / "warehouse.sqlite"
    assert print_status(f"sqlite:///{missing}") == 1
    assert capsys.readouterr().err.strip() == (
        f"No warehouse at {missing} yet: start the platform with `make run` and import a year (or "
        "point CINEGRAPH_DATABASE_URL at the warehouse).")
    assert not missing.exists() and not missing.parent.exists()


def test_status_on_a_warehouse_without_the_catalog_says_what_to_do(tmp_path, capsys):
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    assert print_status(f"sqlite:///{empty}") == 1
    assert "make run" in capsys.readouterr().err


def test_status_on_a_warehouse_behind_the_code_names_the_migrate_command(tmp_path, capsys):
    """An upgrade brings new tables; a read must say how to catch up, not crash on a missing one."""
    from alembic import command

    from cinegraph_assets.warehouse.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    command.upgrade(alembic_config(url), "0006_tmdb_export_ids")
    assert print_status(url) == 1
    err = capsys.readouterr().err
    assert "0006_tmdb_export_ids" in err and "python -m cinegraph_assets migrate" in err


def _table_years(out: str) -> list[int]:
    return [int(line.split()[0]) for line in out.splitlines() if line.split() and line.split()[0].isdigit()
            and len(line.split()[0]) == 4]


def test_status_narrows_to_a_range_of_years_or_to_the_unfinished_ones(sqlite_warehouse_url, capsys):
    fill_warehouse(WarehouseResource(database_url=sqlite_warehouse_url).engine)  # 2025 complete, 2024 partial

    assert print_status(sqlite_warehouse_url, years=list(range(2020, 2026))) == 0
    out = capsys.readouterr().out
    assert _table_years(out) == [2025, 2024, 2023, 2022, 2021, 2020]
    assert "Showing 6 of the" in out and "Movies imported: 15 of 30" in out  # totals stay whole

    assert print_status(sqlite_warehouse_url, years=list(range(2020, 2026)), unfinished=True) == 0
    assert _table_years(capsys.readouterr().out) == [2024, 2023, 2022, 2021, 2020]

    assert print_status(sqlite_warehouse_url, unfinished=True) == 0
    unfinished = _table_years(capsys.readouterr().out)
    assert 2025 not in unfinished and 2024 in unfinished and 1874 in unfinished


def test_status_command_line(sqlite_warehouse_url, tmp_path):
    fill_warehouse(WarehouseResource(database_url=sqlite_warehouse_url).engine)
    result = subprocess.run(
        [sys.executable, "-m", "cinegraph_assets", "status", "--database-url", sqlite_warehouse_url],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path / "home")},
    )
    assert result.returncode == 0, result.stderr
    assert "Catalog progress at" in result.stdout and "2025" in result.stdout
    narrowed = subprocess.run(
        [sys.executable, "-m", "cinegraph_assets", "status", "--database-url", sqlite_warehouse_url,
         "--years", "2024-2025", "--unfinished"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path / "home")},
    )
    assert narrowed.returncode == 0, narrowed.stderr
    assert _table_years(narrowed.stdout) == [2024]


def test_the_catalog_line_counts_the_whole_export_or_says_what_to_materialize():
    whole = {"export_date": "2026-11-21", "export_ids": 1000, "held": 900, "held_undated": 40, "deleted": 5,
             "failed": 2, "pending_gap": 50, "pending_years": 3, "accounted": 947, "accounted_pct": 94.7}
    report = build_progress(now=NOW, first_year=2025, last_year=2026, counts={}, running_years=set(),
                            failed_years=set(), years_per_day=1, whole_catalog=whole)
    numbers = report.numeric_metadata()
    assert {k: numbers[k] for k in ("export_ids", "held", "held_undated", "deleted", "failed", "pending",
                                    "accounted_pct")} == {
        "export_ids": 1000, "held": 900, "held_undated": 40, "deleted": 5, "failed": 2, "pending": 53,
        "accounted_pct": 94.7}
    assert ("Whole catalog (TMDb export of 2026-11-21): 1,000 ids; held 900 + 40 undated, deleted 5, failed 2, "
            "pending 53 (50 for tmdb_gap_movies, 3 for their years): 94.7% accounted for") in report.to_text()

    before = build_progress(now=NOW, first_year=2025, last_year=2026, counts={}, running_years=set(),
                            failed_years=set(), years_per_day=1)
    assert "accounted_pct" not in before.numeric_metadata()
    assert "no TMDb id export loaded yet (materialize tmdb_catalog_ids)" in before.to_text()
