"""The Dagster UI, driven as a person drives it: Playwright with Debian's chromium against a real
dagster-webserver + dagster-daemon (PostgreSQL instance and warehouse, the sandbox as TMDb).

1. The lineage shows discovery -> details -> movies -> ratings / nominations.
2. One year materialized from the partition picker succeeds.
3. A backfill of a range of years launched from the UI completes.

Screenshots of every step are saved under test-artifacts/browser/ (git-ignored).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.schema import movies
from cinegraph_assets_tests.support.dagster_processes import REPO_ROOT, DagsterDeployment
from cinegraph_assets_tests.support.postgres import throwaway_database

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


def _launch_from_partition_picker(page, partitions: str) -> None:
    page.get_by_role("button", name="Materialize all…").first.click()
    dialog = page.get_by_role("dialog")
    picker = dialog.get_by_placeholder("ex: 1874, 1875, [1876...2026]", exact=False)
    if picker.count() == 0:
        picker = dialog.locator("input[type=text]").first
    picker.fill(partitions)
    picker.press("Enter")
    _shot(page, f"picker-{partitions.strip('[]').replace('...', '-')}")
    dialog.get_by_role("button", name="Launch", exact=False).last.click()


def test_lineage_materialize_one_year_and_backfill_a_range_from_the_ui(browser_page, sandbox_factory, tmp_path):
    page = browser_page
    sandbox = sandbox_factory(detail_size="small",
                              year_size=[f"{y}=40" for y in [SINGLE_YEAR, *RANGE_YEARS]])
    with throwaway_database("cinegraph_ui_instance") as instance_url, \
            throwaway_database("cinegraph_ui_warehouse") as warehouse_url:
        env = {**sandbox.env(), "CINEGRAPH_DATABASE_URL": warehouse_url,
               "CINEGRAPH_STATE_DIR": str(tmp_path / "state"),
               # The UI is what we test: no sensor should launch runs of its own meanwhile.
               "CINEGRAPH_AUTOMATION_OFF": "all"}
        with DagsterDeployment(tmp_path / "home", env=env, instance_postgres_url=instance_url,
                               pool_limits={"tmdb": 4, "omdb": 1}) as dagster:
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

                # 2. One year from the partition picker.
                page.goto(f"{dagster.url}/locations/cinegraph_assets/asset-groups/tmdb")
                page.get_by_text("tmdb_discovered_movies", exact=True).first.wait_for()
                _launch_from_partition_picker(page, SINGLE_YEAR)
                _wait_for(lambda: SINGLE_YEAR in _materialized_partitions(dagster, "movies"),
                          600, f"movies[{SINGLE_YEAR}]", dagster)
                status = _wait_for_status(page, f"{dagster.url}/runs", 600)
                _shot(page, "2-one-year-run")
                assert "Success" in status, f"the runs page says: {status}\n{dagster.tail_logs()}"

                # 3. A backfill of a range of years.
                page.goto(f"{dagster.url}/locations/cinegraph_assets/asset-groups/tmdb")
                page.get_by_text("tmdb_discovered_movies", exact=True).first.wait_for()
                _launch_from_partition_picker(page, f"[{RANGE_YEARS[0]}...{RANGE_YEARS[-1]}]")
                status = _wait_for_status(page, f"{dagster.url}/overview/backfills", 900)
                _shot(page, "3-backfill")
                assert "Success" in status, f"the backfills page says: {status}\n{dagster.tail_logs()}"
                assert set(RANGE_YEARS) <= _materialized_partitions(dagster, "movies")
            except BaseException:
                _shot(page, "failure")
                raise

        with get_engine(warehouse_url).connect() as conn:
            for year in [SINGLE_YEAR, *RANGE_YEARS]:
                ids = set(conn.execute(sa.select(movies.c.tmdb_id).where(
                    movies.c.release_year == int(year), movies.c.deleted_at.is_(None))).scalars())
                assert ids == sandbox.truth(int(year)), f"year {year} differs from the sandbox's truth"
