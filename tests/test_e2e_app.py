"""The app in a real headless Chromium, offline: every request off localhost is aborted.

One walk through what a planner does: open the sample, draw a shed with the
mouse through Leaflet.draw's toolbar, read its numbers, rename it, download
the site plan, reload, switch to Chinese. Screenshots of the map page in both
languages go to ``tests/_artifacts/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from .conftest import DATA
from .e2e import (
    ARGS,
    ARTIFACTS,
    CHROMIUM,
    IDLE,
    MAP_IFRAME,
    keep_offline,
    needs_chromium,
    running_app,
)

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace") / "ws"  # the app creates it: a sample
    log_path = tmp_path_factory.mktemp("app") / "streamlit.log"
    with running_app(workspace, log_path) as url:
        yield url


def _shed_outline() -> list[tuple[float, float]]:
    """Four corners (lon, lat) inside the south-east golden corner of the sample."""
    spaces = gpd.read_file(DATA / "dongsi180" / "spaces.geojson").set_index("space_id")
    strip = spaces.loc["SP2"].geometry.buffer(-8e-6)  # about 0.8 m in from its edges
    corners = list(shapely.minimum_rotated_rectangle(strip).exterior.coords)[:4]
    middle = shapely.Point(strip.centroid)
    # the northern 60% of the strip: a shed, not the whole corner
    return [(x, y if y > middle.y else middle.y - 0.2 * (middle.y - y)) for x, y in corners]


def test_planner_walkthrough_offline(app_url, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    expect = sync_api.expect
    expect.set_options(timeout=20_000)  # a rerun on a busy 2-core CI machine
    ARTIFACTS.mkdir(exist_ok=True)
    served: list[str] = []

    def no_exception(page):
        assert page.locator('[data-testid="stException"]').count() == 0

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 960},
                                          accept_downloads=True)  # fmt: skip
            aborted = keep_offline(context, served)
            page = context.new_page()
            page.set_default_timeout(30_000)

            # 1. the sample project opens and the map shows its four buildings
            page.goto(f"{app_url}/?lang=en")
            frame = page.frame_locator(MAP_IFRAME)
            tool = frame.locator("a.leaflet-draw-draw-polygon")
            tool.wait_for(state="visible", timeout=45_000)
            buildings = frame.locator('path.leaflet-interactive[fill="#9aa0a6"]')
            buildings.nth(3).wait_for()
            assert buildings.count() == 4
            expect(frame.locator(".gridgis-legend")).to_contain_text("Legend")
            expect(frame.locator(".gridgis-label-site", has_text="SITE1")).to_be_visible()
            no_exception(page)

            # 2. draw a polygon with the mouse through the Leaflet.draw toolbar
            inner = page.locator(MAP_IFRAME).element_handle().content_frame()
            box = page.locator(MAP_IFRAME).bounding_box()
            points = [
                inner.evaluate(
                    "([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]);"
                    " return [p.x, p.y]; }",
                    [lat, lon],
                )
                for lon, lat in _shed_outline()
            ]
            tool.click()
            vertices = frame.locator(".leaflet-marker-icon.leaflet-editing-icon")
            for n, (x, y) in enumerate(points, start=1):
                page.mouse.move(box["x"] + x, box["y"] + y, steps=5)
                page.wait_for_timeout(150)
                page.mouse.down()
                page.mouse.up()
                expect(vertices).to_have_count(n)
            frame.locator(".leaflet-draw-actions a", has_text="Finish").click()

            # 3. its area, cost and households appear beside the map
            heading = page.get_by_role("heading", name="S1 · E-bike shed")
            expect(heading).to_be_visible()
            metrics = page.get_by_test_id("stMetric")
            expect(metrics.filter(has_text="Area")).to_contain_text("m²")
            expect(metrics.filter(has_text="Cost")).to_contain_text("CNY ")
            households = metrics.filter(has_text="Households served").get_by_test_id(
                "stMetricValue"
            )
            expect(households).to_have_text(re.compile(r"^\d+$"))
            value = metrics.filter(has_text="Area").get_by_test_id("stMetricValue").inner_text()
            area = float(value.split()[0].replace(",", ""))
            assert 20 < area < 200, area
            expect(frame.locator(".gridgis-label-site", has_text="S1")).to_be_visible()
            assert frame.locator(".leaflet-draw-draw-polygon").count() == 1  # no remount
            no_exception(page)

            # 4. rename it (saved on Enter)
            page.locator(IDLE).wait_for()  # the rerun after drawing has finished
            name = page.get_by_label("Name", exact=True)
            expect(name).to_have_count(1)
            name.fill("东南角电动车棚")
            name.press("Enter")
            expect(page.get_by_role("heading", name="S1 · 东南角电动车棚")).to_be_visible()
            expect(
                frame.locator(".gridgis-label-site", has_text="S1 东南角电动车棚")
            ).to_be_visible()
            page.get_by_role("heading", level=1).scroll_into_view_if_needed()
            page.wait_for_timeout(800)
            page.screenshot(path=ARTIFACTS / "map_en.png")

            # 5. the site plan downloads as RFC 7946 GeoJSON holding the site
            page.goto(f"{app_url}/data?lang=en&project=dongsi180")
            button = page.get_by_role("button", name="Site plan GeoJSON")
            button.wait_for()
            with page.expect_download() as download:
                button.click()
            plan = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
            assert plan["type"] == "FeatureCollection" and "crs" not in plan
            by_id = {f["properties"]["site_id"]: f for f in plan["features"]}
            assert by_id["S1"]["properties"]["name"] == "东南角电动车棚"
            assert by_id["S1"]["properties"]["area_m2"] == pytest.approx(area, abs=0.1)
            for feature in plan["features"]:
                ring = feature["geometry"]["coordinates"][0]
                assert shapely.LinearRing(ring).is_ccw
                assert all(103 < x < 105 and 30 < y < 31 for x, y in ring)  # lon, lat
            no_exception(page)

            # 6. after a reload the site is still there
            page.goto(f"{app_url}/?lang=en&project=dongsi180")
            expect(page.get_by_role("heading", name="S1 · 东南角电动车棚")).to_be_visible(
                timeout=45_000
            )
            expect(
                frame.locator(".gridgis-label-site", has_text="S1 东南角电动车棚")
            ).to_be_visible()

            # 7. switching to Chinese shows Chinese labels
            page.locator(IDLE).wait_for()
            page.get_by_test_id("stSidebar").get_by_text("中文").click()
            expect(page.get_by_test_id("stMetric").filter(has_text="面积")).to_be_visible()
            expect(page.get_by_role("link", name="地图与选址")).to_be_visible()
            # the map in the new language replaces the old one: for a moment (seconds on a
            # busy machine) both iframes are in the page, and a locator meaning "the map"
            # would be ambiguous; wait until the old one is gone
            expect(page.locator(MAP_IFRAME)).to_have_count(1)
            expect(frame.locator(".gridgis-legend")).to_contain_text("图例")
            expect(frame.locator(".gridgis-legend")).to_contain_text("消防车通道")
            assert "lang=zh" in page.url
            frame.locator(".gridgis-label-site", has_text="S1").wait_for()
            page.get_by_role("heading", level=1).scroll_into_view_if_needed()
            page.wait_for_timeout(800)
            no_exception(page)
            page.screenshot(path=ARTIFACTS / "map_zh.png")
        finally:
            browser.close()
    # the map needs nothing from the internet: every script came from the app itself
    assert aborted == [], f"requests off localhost ({len(aborted)}): {aborted}"
    assert any(
        u.endswith("/app/static/vendor/node_modules/leaflet/dist/leaflet.js") for u in served
    )
    assert any(u.endswith("/leaflet-draw/dist/leaflet.draw.js") for u in served)
