"""The presentation page in headless Chromium, offline: every request off localhost is aborted.

The project's working copy holds two proposals (the sample's one and a shed
added here), so the page letters them A and B; Next steps from A to B.
A screenshot goes to ``tests/_artifacts/present_zh.png``.
"""

from __future__ import annotations

import shutil

import pytest
from shapely import box

from gridgis.core.store import SiteStore

from .conftest import DATA
from .e2e import (
    ARGS,
    ARTIFACTS,
    CHROMIUM,
    IDLE,
    keep_offline,
    needs_chromium,
    running_app,
)

SHED = box(104.07020, 30.66950, 104.07030, 30.66957)  # south of the compound, degrees

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace")
    shutil.copytree(DATA / "dongsi180", workspace / "dongsi180")
    SiteStore(workspace / "dongsi180").add(SHED, site_type="parking_shed", name="南墙外车棚")
    log_path = tmp_path_factory.mktemp("app") / "streamlit.log"
    with running_app(workspace, log_path) as url:
        yield url


def test_presentation_steps_to_proposal_b_offline(app_url):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    expect = sync_api.expect
    expect.set_options(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    served: list[str] = []

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            aborted = keep_offline(context, served)
            page = context.new_page()
            page.set_default_timeout(45_000)
            page.goto(f"{app_url}/present?lang=zh&project=dongsi180")

            # proposal A, with its letter badge on the map (Leaflet from localhost)
            expect(page.get_by_role("heading", name="方案 A")).to_be_visible()
            frame = page.frame_locator("iframe").first
            expect(frame.locator(".gg-badge.on")).to_have_text("A")
            expect(frame.locator(".gg-badge")).to_have_count(2)
            assert page.locator('[data-testid="stException"]').count() == 0

            # Next: proposal B, the shed added to the working copy
            page.locator(IDLE).wait_for()
            page.get_by_role("button", name="下一个 ▶").click()
            heading = page.get_by_role("heading", name="方案 B")
            expect(heading).to_be_visible()
            expect(heading).to_contain_text("南墙外车棚")
            expect(page.get_by_text("方案 B，共 2 个")).to_be_visible()
            expect(frame.locator(".gg-badge.on")).to_have_text("B")
            expect(page.locator(".gg-warn")).to_contain_text("在小区边界外")  # zh first
            expect(page.locator(".gg-warn")).to_contain_text("outside the compound")
            expect(page.get_by_role("button", name="下一个 ▶")).to_be_disabled()
            page.locator(IDLE).wait_for()
            assert page.locator('[data-testid="stException"]').count() == 0

            # the left arrow key goes back to A, the right one forward to B again
            page.keyboard.press("ArrowLeft")
            expect(page.get_by_role("heading", name="方案 A")).to_be_visible()
            page.locator(IDLE).wait_for()
            page.keyboard.press("ArrowRight")
            expect(page.get_by_role("heading", name="方案 B")).to_be_visible()
            page.locator(IDLE).wait_for()
            page.wait_for_timeout(1000)  # let the map tiles-free canvas settle
            page.screenshot(path=ARTIFACTS / "present_zh.png")
        finally:
            browser.close()
    assert served, "nothing was served by the app"
    assert aborted == [], f"{len(aborted)} requests left localhost: {aborted[:5]}"
