"""Drawing into other layers in a real headless Chromium, offline: a path drawn as a polyline
and a building drawn as a rectangle are stored at once, the toolbar follows the layer and the
map is not rebuilt when a feature of the layer being drawn is saved."""

from __future__ import annotations

import geopandas as gpd
import pytest

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
def app(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace") / "ws"  # the app creates it: a sample
    log_path = tmp_path_factory.mktemp("app") / "streamlit.log"
    with running_app(workspace, log_path) as url:
        yield url, workspace


def test_draw_a_path_and_a_building_offline(app):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    expect = sync_api.expect
    expect.set_options(timeout=20_000)
    url, workspace = app
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 960})
            aborted = keep_offline(context)
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{url}/?lang=en")
            frame = page.frame_locator(MAP_IFRAME)
            polygon = frame.locator("a.leaflet-draw-draw-polygon")
            polyline = frame.locator("a.leaflet-draw-draw-polyline")
            polygon.wait_for(state="visible", timeout=45_000)
            expect(polyline).to_be_hidden()  # sites: polygons and rectangles only
            page.locator(IDLE).wait_for()
            inner = page.locator(MAP_IFRAME).element_handle().content_frame()
            inner.evaluate("() => { window.gridgisMark = 1; }")

            def xy(lon: float, lat: float) -> tuple[float, float]:
                # (a layer write re-renders the base map: the iframe is a new one then)
                inner = page.locator(MAP_IFRAME).element_handle().content_frame()
                inner.wait_for_function("() => window.map && window.map.latLngToContainerPoint")
                box = page.locator(MAP_IFRAME).bounding_box()
                x, y = inner.evaluate(
                    "([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]);"
                    " return [p.x, p.y]; }",
                    [lat, lon],
                )
                return box["x"] + x, box["y"] + y

            def click_vertices(points) -> None:
                vertices = frame.locator(".leaflet-marker-icon.leaflet-editing-icon")
                for n, (lon, lat) in enumerate(points, start=1):
                    page.mouse.move(*xy(lon, lat), steps=5)
                    page.wait_for_timeout(150)
                    page.mouse.down()
                    page.mouse.up()
                    expect(vertices).to_have_count(n)
                frame.locator(".leaflet-draw-actions a", has_text="Finish").click()

            # 1. paths: the toolbar offers the line tool only. The map is rebuilt once, without
            # the paths (they come with the feature group now), and not again when one is saved
            page.locator(".st-key-draw_layer button", has_text="Paths").click()
            page.wait_for_timeout(300)
            page.locator(IDLE).wait_for()
            expect(page.locator(MAP_IFRAME)).to_have_count(1)
            expect(polyline).to_be_visible()
            expect(polygon).to_be_hidden()
            inner = page.locator(MAP_IFRAME).element_handle().content_frame()
            inner.wait_for_function("() => window.map && window.GridgisEdit")
            inner.evaluate("() => { window.gridgisMark = 2; }")
            polyline.click()
            click_vertices([(104.07000, 30.66950), (104.07015, 30.66951), (104.07030, 30.66950)])
            expect(page.get_by_label("Paths (17)")).to_be_visible()
            page.locator(IDLE).wait_for()
            assert inner.evaluate("() => window.gridgisMark") == 2  # the same map: not rebuilt
            paths = gpd.read_file(workspace / "dongsi180" / "paths.geojson").set_index("path_id")
            new = paths.loc["P21"]  # the sample's paths go up to P20
            assert new.geometry.geom_type == "LineString" and len(new.geometry.coords) == 3
            assert new["kind"] == "footpath" and new["width_m"] == 2.0

            # 2. buildings: a rectangle becomes B5; its households are saved from the form
            # (the base map is rebuilt once more: with the paths, without the buildings)
            page.locator(".st-key-draw_layer button", has_text="Buildings").click()
            page.wait_for_timeout(300)
            page.locator(IDLE).wait_for()
            expect(page.locator(MAP_IFRAME)).to_have_count(1)
            polyline.wait_for(state="attached")
            inner = page.locator(MAP_IFRAME).element_handle().content_frame()
            inner.wait_for_function("() => window.map && window.GridgisEdit")
            inner.evaluate("() => { window.gridgisMark = 3; }")
            expect(polygon).to_be_visible()
            expect(polyline).to_be_hidden()
            polygon.click()
            click_vertices(
                [(104.07000, 30.66960), (104.07012, 30.66960), (104.07012, 30.66968),
                 (104.07000, 30.66968)]
            )  # fmt: skip
            expect(page.get_by_label("Buildings (5)")).to_be_visible()
            page.locator(IDLE).wait_for()
            households = page.get_by_label("Households", exact=True)
            households.fill("36")
            households.press("Enter")
            page.locator(IDLE).wait_for()

            def stored() -> float:
                b = gpd.read_file(workspace / "dongsi180" / "buildings.geojson")
                return float(b.set_index("building_id").loc["B5", "households"])

            expect(page.get_by_text("B5 saved.")).to_be_visible()
            assert stored() == 36
            # the map shows the new building, in the same map (only its feature group changed)
            expect(page.locator(MAP_IFRAME)).to_have_count(1)
            assert inner.evaluate("() => window.gridgisMark") == 3
            buildings = frame.locator('path.leaflet-interactive[fill="#9aa0a6"]')
            expect(buildings).to_have_count(5)
            expect(frame.locator(".gridgis-label-building", has_text="36")).to_be_visible()
            page.wait_for_timeout(500)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / "draw_layers_en.png")
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
    assert aborted == [], aborted
