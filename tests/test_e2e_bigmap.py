"""A large map (compact layers on a canvas) in headless Chromium, served from localhost.

The map of a synthetic district above `LARGE_LAYER` features is rebuilt in the
browser from compact JSON (`gridgis.report.map.compact`): every building must be
drawn, hovering shows its tooltip, and the neglected space keeps its hatch.
"""

from __future__ import annotations

import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import shapely

from gridgis.core.project import Project
from gridgis.report.map.view import LARGE_LAYER, project_map

from .conftest import REPO, _frame
from .e2e import ARGS, CHROMIUM, keep_offline, needs_chromium

pytestmark = needs_chromium


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def big() -> Project:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from synthetic import synthetic_district

    project = synthetic_district(LARGE_LAYER + 400, 3)
    spaces = _frame(
        [{"space_id": "SP1", "kind": "neglected", "name": "荒地"},
         {"space_id": "SP2", "kind": "golden_corner", "name": "金角"}],
        [shapely.box(-20, -20, -5, -5), shapely.box(-40, -20, -25, -5)],
    )  # fmt: skip
    # the synthetic district lies elsewhere in Chengdu: move the spaces into its south-west
    west, south, _, _ = project.layers["buildings"].total_bounds
    dx, dy = west - spaces.total_bounds[2] - 1e-4, south - spaces.total_bounds[3] + 5e-4
    spaces["geometry"] = spaces.translate(dx, dy)
    return Project(layers={**project.layers, "spaces": spaces})


@pytest.fixture
def served(tmp_path, big):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "static").symlink_to(REPO / "static")
    html = project_map(big, lang="en").get_root().render()
    (tmp_path / "map.html").write_text(html, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/map.html"
    server.shutdown()
    server.server_close()


def test_large_map_draws_every_building_with_tooltips(served, big):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    expect = sync_api.expect
    errors: list[str] = []

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 800})
            aborted = keep_offline(context)
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(served)
            page.locator(".gridgis-legend").wait_for(timeout=30_000)
            counts = page.evaluate(
                """() => {
                  const map = Object.values(window).find(v => v instanceof L.Map);
                  window.theMap = map;
                  const shapes = Object.values(map._layers)
                    .filter(l => l instanceof L.GridgisShapes);
                  const styles = shapes
                    .flatMap(l => [...Array(l.size()).keys()].map(i => l.styleOf(i)));
                  return {
                    buildings: styles.filter(s => s.fillColor === "#9aa0a6").length,
                    hatched: styles.filter(s => s.fillColor instanceof CanvasPattern).length,
                    all: styles.length,
                    canvases: document
                      .querySelectorAll(".leaflet-gridgisShapes-pane canvas").length,
                  };
                }"""
            )
            layers = big.layers
            assert counts["buildings"] == len(layers["buildings"])
            assert counts["hatched"] == 1  # the neglected space, striped on the canvas
            expected = sum(len(layers[k]) for k in ("compound", "buildings", "paths", "spaces"))
            assert counts["all"] == expected
            assert counts["canvases"] == 4  # one per layer, under the sites' overlay pane

            # hovering a building shows its tooltip
            centre = layers["buildings"].geometry.iloc[0].centroid
            x, y = page.evaluate(
                "([lat, lng]) => { window.theMap.setView([lat, lng], 17, {animate: false});"
                " const p = window.theMap.latLngToContainerPoint([lat, lng]);"
                " return [p.x, p.y]; }",
                [centre.y, centre.x],
            )
            # the building is painted on its canvas
            painted = page.evaluate(
                """([x, y]) => {
                  const canvases = document.querySelectorAll(".leaflet-gridgisShapes-pane canvas");
                  const canvas = canvases[canvases.length - 1];
                  const box = canvas.getBoundingClientRect(), map = window.theMap;
                  const at = map.getContainer().getBoundingClientRect();
                  const px = canvas.getContext("2d").getImageData(
                    Math.round((at.left + x - box.left) * canvas.width / box.width),
                    Math.round((at.top + y - box.top) * canvas.height / box.height), 1, 1).data;
                  return Array.from(px);
                }""",
                [x, y],
            )
            assert painted[3] > 200 and abs(painted[0] - 0x9A) < 30, painted  # grey, opaque
            page.mouse.move(x - 5, y - 5)
            page.mouse.move(x, y, steps=3)
            households = f"{layers['buildings']['households'].iloc[0]} households"
            expect(page.locator(".gridgis-tooltip")).to_contain_text(households)
            expect(page.locator(".gridgis-tooltip")).to_contain_text("Households")
            # off every building (the map moved west of the district): no tooltip
            west = layers["buildings"].total_bounds[0] - 0.02
            page.evaluate(
                "([lat, lng]) => window.theMap.setView([lat, lng], 17, {animate: false})",
                [centre.y, west],
            )
            page.mouse.move(x + 3, y + 3, steps=2)
            expect(page.locator(".gridgis-tooltip")).to_have_count(0)

            # the layer control hides and shows the buildings' canvas
            canvases = page.locator(".leaflet-gridgisShapes-pane canvas")
            toggle = page.locator(".leaflet-control-layers label", has_text="Buildings")
            toggle.locator("input").uncheck()
            expect(canvases).to_have_count(3)
            toggle.locator("input").check()
            expect(canvases).to_have_count(4)
        finally:
            browser.close()
    assert aborted == [], aborted
    assert errors == []
