"""The Dagster UI, driven as a person drives it: Playwright with Debian's chromium against a real
dagster-webserver + dagster-daemon (PostgreSQL instance and warehouse, the sandbox as TMDb).

1. The lineage shows discovery -> details -> movies -> ratings / nominations.
2. The natural click on a year never imported (Catalog -> movies -> Materialize -> a year) fails,
   and the run says what to select instead (it used to end green with 0 movies).
3. The README's UI path, word by word (Jobs -> tmdb_year_import -> Materialize all... -> a year ->
   Launch 1 run), puts the year's movies in the warehouse.
4. A backfill of a range of years launched from the UI completes.
5. catalog_progress shows its picture and its per-year table on the asset's page.

Screenshots of every step are saved under test-artifacts/browser/ (git-ignored).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from benchmarks.postgres import throwaway_database
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.schema import movies
from cinegraph_assets_tests.support.dagster_processes import REPO_ROOT, DagsterDeployment

# A real webserver, daemon and several runs on a 2-core machine: minutes, not seconds.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
LINEAGE = ["tmdb_discovered_movies", "tmdb_movie_details", "movies", "omdb_ratings", "oscar_nominations"]
SINGLE_YEAR = "2001"
RANGE_YEARS = ["2002", "2003"]


@pytest.fixture
def browser_page():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(60_000)
            # Dagster shows a "Join the community" dialog at a moment of its choosing: dismiss it
            # whenever it gets in the way of an action.
            page.add_locator_handler(page.get_by_role("button", name="Skip"),
                                     lambda skip: skip.click())
            yield page
        finally:
            browser.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _materialized_partitions(dagster: DagsterDeployment, asset: str) -> set[str]:
    data = dagster.graphql(
        """query P($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
             ... on AssetNode { assetPartitionStatuses { ... on TimePartitionStatuses {
               ranges { status startKey endKey } } } } } }""",
        {"key": {"path": [asset]}},
    )
    ranges = data["assetNodeOrError"]["assetPartitionStatuses"]["ranges"]
    done: set[str] = set()
    for r in ranges:
        if r["status"] == "MATERIALIZED":
            done |= {str(y) for y in range(int(r["startKey"]), int(r["endKey"]) + 1)}
    return done


def _wait_for(predicate, timeout: float, what: str, dagster: DagsterDeployment) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(3)
    raise AssertionError(f"timed out waiting for {what}\n{dagster.tail_logs()}")


def _wait_for_status(page, url: str, timeout: float) -> str:
    """Reload a runs or backfills list until its (only) entry shows Success; the page's text.

    Dagster renders these lists as virtualized rows, so we read the text a person reads rather than
    table markup. "Failure" is the status word of a failed run (the "Failed" tab is always shown).
    """
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        page.goto(url)
        page.wait_for_timeout(3000)
        text = page.locator("main, body").first.inner_text()
        if "Success" in text or "Failure" in text:
            break
        time.sleep(5)
    return text


README_UI_PATH = re.compile(
    r"open \*\*Jobs\*\* → `tmdb_year_import` → \*\*Materialize all…\*\*, type a year \(e\.g\. `\d{4}`\)\s+"
    r"in the partition box and click \*\*Launch 1 run\*\*")


def _launch_from_partition_picker(page, partitions: str, opener: str = "Materialize all…",
                                  launch: str = "Launch", upstream_missing: bool = False) -> None:
    page.get_by_role("button", name=_label(opener)).first.click()
    if upstream_missing:
        _go_on_anyway(page)
    dialog = page.get_by_role("dialog")
    picker = dialog.get_by_placeholder("ex: 1874, 1875, [1876...2026]", exact=False)
    if picker.count() == 0:
        picker = dialog.locator("input[type=text]").first
    picker.fill(partitions)
    picker.press("Enter")
    _shot(page, f"picker-{partitions.strip('[]').replace('...', '-')}")
    dialog.get_by_role("button", name=launch, exact=False).last.click()


def _label(text: str) -> re.Pattern:
    """The accessible name of a link or button reading `text`: it may start with an icon's label
    (the sidebar's "catalog_book Catalog") and repeat an asset's name ("movies movies")."""
    word = re.escape(text)
    return re.compile(rf"(^|\s){word}(\s+{word})?$")


def _link(page, text: str):
    return page.get_by_role("link", name=_label(text))


def _go_on_anyway(page) -> None:
    """Dagster warns that an upstream asset was never materialized; a person goes on anyway."""
    page.get_by_role("dialog").get_by_text("Are you sure?").wait_for()
    page.get_by_role("button", name="Confirm").click()


def _open_from_the_nav(page, dagster: DagsterDeployment, nav: str, link: str) -> None:
    """What a person does: the sidebar entry, then the item's link on that page."""
    page.goto(dagster.url)
    _link(page, nav).first.click()
    _link(page, link).first.click()


def _run_statuses(dagster: DagsterDeployment) -> list[str]:
    data = dagster.graphql("{ runsOrError { ... on Runs { results { status } } } }")
    return [run["status"] for run in data["runsOrError"]["results"]]


def test_the_readme_ui_path_imports_a_year_and_the_natural_click_says_what_to_select(
        browser_page, sandbox_factory, tmp_path):
    page = browser_page
    readme = (REPO_ROOT / "README.md").read_text()
    assert README_UI_PATH.search(readme), "the README's UI path changed: follow it here word by word"
    # The sandbox's clock starts on the real today, as `make run`'s does: the tmdb group's
    # "Materialize all" also loads today's id export (tmdb_catalog_ids) and a gap batch.
    sandbox = sandbox_factory(detail_size="small", start_date=datetime.now(timezone.utc).date().isoformat(),
                              year_size=[f"{y}=40" for y in [SINGLE_YEAR, *RANGE_YEARS]])
    with throwaway_database("cinegraph_ui_instance") as instance_url, \
            throwaway_database("cinegraph_ui_warehouse") as warehouse_url:
        env = {**sandbox.env(), "CINEGRAPH_DATABASE_URL": warehouse_url,
               "CINEGRAPH_STATE_DIR": str(tmp_path / "state"),
               # One small gap batch: the backfill's catalog part, not a whole catalog fill.
               "TMDB_GAP_BATCH_SIZE": "40",
               # The UI is what we test: no sensor should launch runs of its own meanwhile.
               "CINEGRAPH_AUTOMATION_OFF": "all"}
        with DagsterDeployment(tmp_path / "home", env=env, instance_postgres_url=instance_url,
                               pool_limits={"tmdb": 4, "omdb": 1}) as dagster:
            # Dismiss Dagster's "Join the community" dialog up front, as a person would on a first
            # visit: left to appear at a moment of its own, it can open under the "Are you sure?"
            # dialog, and then neither can be clicked.
            dagster.graphql("mutation { setNuxSeen }")
            try:
                # 1. Lineage of the TMDb group with its downstream assets.
                page.goto(f"{dagster.url}/locations/cinegraph_assets/asset-groups/tmdb")
                for asset in LINEAGE:
                    page.get_by_text(asset, exact=True).first.wait_for(state="visible")
                _shot(page, "1-lineage")
                page.goto(f"{dagster.url}/assets/movies")
                upstream = page.get_by_text("Upstream assets").locator("..")
                downstream = page.get_by_text("Downstream assets").locator("..")
                upstream.get_by_role("link", name="tmdb_movie_details").wait_for()
                downstream.get_by_role("link", name="omdb_ratings").wait_for()
                downstream.get_by_role("link", name="oscar_nominations").wait_for()
                _shot(page, "1-movies-lineage")

                # 2. The natural click on a year never imported: a failed run that says what to do.
                _open_from_the_nav(page, dagster, "Catalog", "movies")
                _launch_from_partition_picker(page, SINGLE_YEAR, opener="Materialize…", upstream_missing=True)
                _wait_for(lambda: "FAILURE" in _run_statuses(dagster), 300, "the movies-alone run", dagster)
                page.goto(f"{dagster.url}/runs")
                page.get_by_text("Failure").first.wait_for()
                page.get_by_role("link", name="View", exact=True).first.click()
                page.get_by_text(f"movies[{SINGLE_YEAR}] has nothing to normalize", exact=False).first.wait_for()
                page.get_by_text(f"Jobs > tmdb_year_import > Materialize all > {SINGLE_YEAR}",
                                 exact=False).first.wait_for()
                _shot(page, "2-natural-click-says-what-to-select")
                assert SINGLE_YEAR not in _materialized_partitions(dagster, "movies")

                # 3. The README's path, word by word.
                _open_from_the_nav(page, dagster, "Jobs", "tmdb_year_import")
                _launch_from_partition_picker(page, SINGLE_YEAR, launch="Launch 1 run")
                _wait_for(lambda: SINGLE_YEAR in _materialized_partitions(dagster, "movies"),
                          600, f"movies[{SINGLE_YEAR}]", dagster)
                _shot(page, "3-readme-path")

                # 4. A backfill of a range of years.
                page.goto(f"{dagster.url}/locations/cinegraph_assets/asset-groups/tmdb")
                page.get_by_text("tmdb_discovered_movies", exact=True).first.wait_for()
                _launch_from_partition_picker(page, f"[{RANGE_YEARS[0]}...{RANGE_YEARS[-1]}]")
                _wait_for(lambda: set(RANGE_YEARS) <= _materialized_partitions(dagster, "movies"),
                          900, f"movies{RANGE_YEARS}", dagster)
                status = _wait_for_status(page, f"{dagster.url}/overview/backfills", 300)
                _shot(page, "4-backfill")
                assert "Success" in status and "Failure" not in status, \
                    f"the backfills page says: {status}\n{dagster.tail_logs()}"

                # 5. catalog_progress: the picture and the table, where people look.
                _open_from_the_nav(page, dagster, "Catalog", "catalog_progress")
                page.get_by_role("button", name=_label("Materialize")).first.click()
                _go_on_anyway(page)  # omdb_ratings was never materialized here
                _wait_for(lambda: "SUCCESS" in _run_statuses(dagster) and dagster.graphql(
                    '{ assetNodeOrError(assetKey: {path: ["catalog_progress"]}) { ... on AssetNode { '
                    'assetMaterializations(limit: 1) { runId } } } }')["assetNodeOrError"][
                    "assetMaterializations"], 300, "catalog_progress", dagster)
                page.goto(f"{dagster.url}/assets/catalog_progress")
                picture = page.locator("img[src^='data:image/png']").first
                picture.wait_for(state="visible")
                assert picture.evaluate("img => img.naturalWidth") > 0  # the browser decoded it
                picture.scroll_into_view_if_needed()
                _shot(page, "5-catalog-progress-picture")
                # The per-year table, as a table: the imported year's row says complete.
                row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=SINGLE_YEAR, exact=True))
                row.last.wait_for()
                assert "complete" in row.last.inner_text()
                _shot(page, "5-catalog-progress")
            except BaseException:
                _shot(page, "failure")
                raise

        with get_engine(warehouse_url).connect() as conn:
            for year in [SINGLE_YEAR, *RANGE_YEARS]:
                ids = set(conn.execute(sa.select(movies.c.tmdb_id).where(
                    movies.c.release_year == int(year), movies.c.deleted_at.is_(None))).scalars())
                assert ids == sandbox.truth(int(year)), f"year {year} differs from the sandbox's truth"
