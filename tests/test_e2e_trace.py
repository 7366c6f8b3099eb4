"""The plan image in a real headless Chromium, offline (every non-localhost request aborted):
upload a scan, see it on the trace page's map, change its opacity, pick a control point
pair with real clicks (the map is not remounted), and see the plan on the map page too."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageDraw

from gridgis.core.plan_image import PlanImageStore

from . import e2e
from .e2e import ARGS, ARTIFACTS, CHROMIUM, IDLE, MAP_IFRAME, keep_offline, needs_chromium

pytestmark = [needs_chromium, pytest.mark.slow]
PORT = 8741
PLAN_IMG = ".leaflet-gridgisPlan-pane img"
PLAN_DIV = ".leaflet-gridgisPlan-pane > div.leaflet-image-layer"  # it holds the <img>


def _scan() -> bytes:
    img = Image.new("RGB", (800, 600), "white")
    draw = ImageDraw.Draw(img)
    for x in range(100, 700, 150):
        draw.rectangle((x, 150, x + 90, 450), outline="black", width=6)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace") / "ws"  # the app creates it: a sample
    log_path = tmp_path_factory.mktemp("app") / "streamlit.log"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(e2e, "free_port", lambda: PORT)  # this test's own port
        with e2e.running_app(workspace, log_path) as url:
            yield url, workspace


def test_upload_see_fade_and_place_the_plan_offline(app):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    expect = sync_api.expect
    expect.set_options(timeout=20_000)
    url, workspace = app
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 960})
            served: list[str] = []
            aborted = keep_offline(context, served)
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{url}/trace?lang=en")
            page.locator(IDLE).wait_for()
            uploader = page.locator(".st-key-plan_upload input[type=file]")
            uploader.set_input_files(
                files=[{"name": "site plan.jpg", "mimeType": "image/jpeg", "buffer": _scan()}]
            )
            frame = page.frame_locator(MAP_IFRAME)
            image = frame.locator(PLAN_IMG)
            expect(image).to_be_visible(timeout=45_000)
            assert image.evaluate("img => img.naturalWidth") == 800  # loaded, from localhost
            assert image.evaluate("img => img.src").startswith(f"{url}/app/static/plan_image/")
            div = frame.locator(PLAN_DIV)
            assert div.evaluate("d => d.style.opacity") == "0.6"
            assert div.evaluate("d => getComputedStyle(d.parentElement).pointerEvents") == "none"
            page.locator(IDLE).wait_for()
            inner = page.locator(MAP_IFRAME).element_handle().content_frame()
            inner.evaluate("() => { window.gridgisMark = 1; }")

            # opacity: two steps down the slider, saved and shown without a remount
            slider = page.locator(".st-key-plan_opacity input[type=range]")
            for shown in ("0.55", "0.5"):  # a step at a time: each is a run
                slider.focus()
                slider.press("ArrowLeft")
                expect(frame.locator(PLAN_DIV)).to_have_attribute("style", _opacity(shown))
                page.locator(IDLE).wait_for()
            store = PlanImageStore(workspace / "dongsi180")
            assert store.load().opacity == pytest.approx(0.5)

            # a control point pair with real clicks: on the image, then its true place
            plan = store.load()
            page.locator(IDLE).wait_for()

            def xy(lon: float, lat: float) -> tuple[float, float]:
                box = page.locator(MAP_IFRAME).bounding_box()
                x, y = inner.evaluate(
                    "([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]);"
                    " return [p.x, p.y]; }",
                    [lat, lon],
                )
                return box["x"] + x, box["y"] + y

            lon, lat = plan.placement.to_map([(400, 300)])[0]
            page.mouse.click(*xy(lon, lat))
            picked = re.compile(r"Control point 1: picked on the image \(pixel \d+, \d+\)")
            expect(page.get_by_text(picked)).to_be_visible()
            page.locator(IDLE).wait_for()
            page.mouse.click(*xy(lon + 0.0001, lat))
            expect(page.get_by_text("Control point 2: click a feature")).to_be_visible()
            (col, row), (true_lon, true_lat) = *store.load().image_points, *store.load().map_points
            assert abs(col - 400) < 4 and abs(row - 300) < 4  # a screen pixel is 2 image pixels
            assert true_lon == pytest.approx(lon + 0.0001, abs=1e-5)
            assert true_lat == pytest.approx(lat, abs=1e-5)
            assert inner.evaluate("() => window.gridgisMark") == 1  # the same map all along
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "trace.png"))

            # the map page draws the plan under the layers too
            page.goto(f"{url}/map?lang=en")
            map_image = page.frame_locator(MAP_IFRAME).locator(PLAN_IMG)
            expect(map_image).to_be_visible(timeout=45_000)
            expect(page.frame_locator(MAP_IFRAME).locator(PLAN_DIV)).to_have_attribute(
                "style", _opacity("0.5")
            )
            assert aborted == []  # nothing asked for the internet
            assert any("/app/static/plan_image/" in u for u in served)
        finally:
            browser.close()


def _opacity(value: str) -> re.Pattern[str]:
    return re.compile(rf"opacity: {re.escape(value)};")
