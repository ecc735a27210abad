"""The dataset report on a real small pipeline, opened in headless Chromium: it loads from the file
alone (nothing requested outside file:// and data:), without console errors, every image decoded.
The screenshot lands in test-artifacts/ui/dataset_report.png."""

import json
import re
from pathlib import Path

import dagster as dg
import pytest

from curation_dagster.defs.report.assets import report_path
from curation_dagster.defs.resources import build_resources
from curation_dagster.lib.report import SECTIONS
from curation_dagster_tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(small_pipeline):
    data_dir, res = small_pipeline  # pool_refresh_job ends with dataset_report; read only here
    resources = build_resources("local", data_dir=data_dir)
    (mat,) = [e for e in res.get_asset_materialization_events() if e.asset_key == dg.AssetKey("dataset_report")]
    return report_path(resources["dataset_store"]), mat.materialization.metadata, data_dir


def test_asset_writes_the_page_and_metadata(report):
    path, meta, data_dir = report
    assert path.is_file() and path.parent == data_dir / "exports" / "reports"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert meta["report_path"].value == str(path)
    preview = meta["map_preview"].value
    assert preview.startswith("![map of the pool](data:image/png;base64,") and len(preview) < 200_000
    manifest = json.loads((data_dir / "exports" / "finetuning_dataset" / "manifest.json").read_text())
    assert meta["shipped_rows"].value == manifest["rows"]["total"] > 0
    assert meta["pool_rows"].value > 0 and meta["clusters"].value >= 2 and meta["map_method"].value == "umap"
    assert meta["reviewed_examples"].value == 0  # nobody reviewed: review_decisions is an empty frame
    page = path.read_text()
    assert all(f"<h2>{t}</h2>" in page for t in SECTIONS.values())
    assert "No reviews yet" in page and "materialize clustering_experiments" in page
    assert not re.search(r"https?://", page)


def test_page_renders_in_chromium_from_the_file_alone(report):
    from playwright.sync_api import sync_playwright

    path, _, _ = report
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-system-deps.sh")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "dataset_report.png"
    errors, outside = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            def guard(route):
                url = route.request.url
                if url.startswith(("file://", "data:")):
                    route.continue_()
                else:
                    outside.append(url)
                    route.abort()

            page.route("**/*", guard)
            page.goto(path.as_uri(), wait_until="load")
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])")
            headings = page.evaluate("Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    print(f"\n[ui] screenshot {shot}")
    assert not errors, errors
    assert not outside, outside
    assert len(images) >= 5 and all(ok for _, ok in images), images
    assert headings == list(SECTIONS.values())
    assert shot.stat().st_size > 20_000


def test_a_refresh_reuses_the_map_projection_until_the_topic_model_changes(report, tmp_path):
    import shutil

    import pandas as pd

    from curation_dagster.definitions import build_definitions
    from curation_dagster.defs.report.assets import LAYOUT_FILE

    _, first_meta, data_dir = report
    copy = tmp_path / "copy"
    shutil.copytree(data_dir, copy)
    layout_path = copy / "exports" / "reports" / LAYOUT_FILE
    stored = pd.read_parquet(layout_path)
    assert first_meta["map_rows_placed_by_neighbours"].value == 0
    assert len(stored) == first_meta["map_points"].value and (stored["method"] == "umap").all()
    job = build_definitions(resources=build_resources("local", data_dir=copy)).resolve_implicit_global_asset_job_def()

    def refresh():
        res = job.execute_in_process(asset_selection=[dg.AssetKey("dataset_report")],
                                     instance=dg.DagsterInstance.ephemeral())
        (mat,) = res.get_asset_materialization_events()
        return mat.materialization.metadata

    before = layout_path.stat().st_mtime_ns
    meta = refresh()  # same topic model, same pool: the stored places are used, the file is not rewritten
    assert meta["map_method"].value == "umap" and layout_path.stat().st_mtime_ns == before
    assert pd.read_parquet(layout_path).equals(stored)
    # a layout made for another topic model is projected afresh and replaced
    stored.assign(key="another model").to_parquet(layout_path, index=False)
    refresh()
    assert (pd.read_parquet(layout_path)["key"] != "another model").all()
