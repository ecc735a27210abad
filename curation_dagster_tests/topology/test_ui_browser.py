"""The Dagster UI of the running topology, in headless Chromium (Debian's package, driven by Playwright).

Reuses the package's stack and its materialized partition: the asset catalog lists every asset of
the code location, and raw_generations shows that partition's check results and metadata. The
screenshots land in test-artifacts/ui/.
"""

import re
from pathlib import Path

import duckdb
import pytest

from curation_dagster_tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

from .conftest import PARTITION

pytestmark = pytest.mark.slow

TIMEOUT_MS = 60_000
ASSET = "raw_generations"


def graph_keys_and_checks() -> tuple[list[str], list[str]]:
    """Every asset key of the code location, and the checks of ASSET, from the Definitions object."""
    from curation_dagster.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    keys = sorted(k.to_user_string() for k in graph.get_all_asset_keys())
    checks = sorted(c.name for c in graph.asset_check_keys if c.asset_key.to_user_string() == ASSET)
    return keys, checks


@pytest.fixture(scope="module")
def page(stack):
    from playwright.sync_api import expect, sync_playwright

    # expect() has its own 5 s default, separate from the page's: the catalog's first load on a
    # busy CI machine ("Refreshing data…") took longer than that.
    expect.set_options(timeout=TIMEOUT_MS)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-system-deps.sh")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            # tall enough for the whole asset catalog: the UI renders only the rows in view, and the graph
            # has grown past what 1,200 pixels show (sampled_examples was below the fold)
            page = browser.new_page(viewport={"width": 1600, "height": 2600})
            page.set_default_timeout(TIMEOUT_MS)
            page.errors = []
            page.on("pageerror", lambda exc: page.errors.append(str(exc)))
            # Only the webserver is reachable from the page: anything else would be a leak.
            page.outside = []

            def guard(route):
                if route.request.url.startswith(stack.base_url):
                    route.continue_()
                else:
                    page.outside.append(route.request.url)
                    route.abort()

            page.route("**/*", guard)
            yield page
        finally:
            browser.close()


def shot(page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\n[ui] screenshot {path}")
    return path


def test_catalog_lists_every_asset_and_a_partition_shows_checks_and_metadata(stack, partition_run, page):
    from playwright.sync_api import expect

    assert partition_run["status"] == "SUCCESS", f"{partition_run}\n{stack.logs_text()}"
    keys, checks = graph_keys_and_checks()
    assert len(keys) >= 10 and ASSET in keys and "raw_matches_data_contract" in checks, (keys, checks)
    with duckdb.connect(str(stack.data / "warehouse.duckdb"), read_only=True) as con:
        day_rows = con.execute("SELECT count(*) FROM generations WHERE strftime(created_at, '%Y-%m-%d') = ?",
                               [PARTITION]).fetchone()[0]

    # The asset catalog: one link per asset key of the graph.
    page.goto(f"{stack.base_url}/assets")
    for key in keys:
        expect(page.locator(f'a[href="/assets/{key}"]').first).to_be_visible()
    # Wait for the status column (served from PostgreSQL) before the screenshot.
    expect(page.get_by_text(re.compile(r"^Loading"))).to_have_count(0)
    expect(page.get_by_text("Never materialized").first).to_be_visible()  # the pool stages, not run here
    shot(page, "01_asset_catalog")

    # Open the materialized asset from the catalog; its overview shows the latest partition and row count.
    page.locator(f'a[href="/assets/{ASSET}"]').first.click()
    page.wait_for_url(f"**/assets/{ASSET}**")
    expect(page.get_by_text("Latest materialization", exact=True)).to_be_visible()
    expect(page.get_by_text(PARTITION, exact=True).first).to_be_visible()
    expect(page.get_by_text("Latest check results", exact=True)).to_be_visible()
    shot(page, "02_raw_generations_overview")

    # Checks tab: every check of the asset ran and passed (the blocking contract check first).
    page.get_by_role("tab", name="Checks", exact=True).click()
    page.wait_for_url("**view=checks**")
    for check in checks:  # each row of the check list: the name, then its latest status
        row = page.locator(f'span:has(> [title="{check}"])').first
        expect(row).to_be_visible()
        expect(row).to_contain_text("Succeeded")
    page.get_by_text("raw_matches_data_contract", exact=True).first.click()
    expect(page.get_by_text("Evaluation result", exact=True)).to_be_visible()
    expect(page.get_by_text("Passed", exact=True).first).to_be_visible()
    expect(page.get_by_text("failed_expectations", exact=True)).to_be_visible()
    assert page.get_by_text("Failed", exact=True).count() == 0
    shot(page, "03_raw_generations_checks")

    # The partition's materialization: its run and the metadata the asset emits, with the real row count.
    page.goto(f"{stack.base_url}/assets/{ASSET}?view=partitions&partition={PARTITION}")
    expect(page.get_by_text("Materialized", exact=True).first).to_be_visible()
    expect(page.get_by_text(partition_run["run_id"][:8], exact=True).first).to_be_visible()
    for key, value in (("dagster/row_count", str(day_rows)), ("partition_day", PARTITION)):
        row = page.locator("tr").filter(has=page.get_by_text(key, exact=True)).first
        expect(row.locator("td").nth(1)).to_have_text(value)
    expect(page.get_by_text("templates", exact=True).first).to_be_visible()
    shot(page, "04_raw_generations_partition")

    assert page.errors == [], page.errors
    assert page.outside == [], f"the UI tried to reach other hosts: {page.outside}"
