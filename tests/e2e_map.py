"""Driving the map page in a real browser: choose a layer, draw a shape with the toolbar.

Shared by the walkthrough and conflict tests (``tests/test_e2e_start.py``,
``tests/test_e2e_conflict.py``) and ``benchmarks/bench_draw.py``. Widgets are
found by their ``st-key-*`` classes and their words in the locales, never by
position; the drawing follows APP-NOTES.md (one vertex at a time, checked,
then the toolbar's finish link).
"""

from __future__ import annotations

import math
import time
from typing import Any

from gridgis.report.i18n import t

from .e2e import IDLE, MAP_IFRAME

__all__ = ["MapPage", "metres_to_lonlat"]

_TOOLS = {"polygon": "a.leaflet-draw-draw-polygon", "rectangle": "a.leaflet-draw-draw-rectangle",
          "polyline": "a.leaflet-draw-draw-polyline"}  # fmt: skip
_VERTEX = ".leaflet-marker-icon.leaflet-editing-icon"
_XY = (
    "([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]);"
    " return [p.x, p.y]; }"
)


def metres_to_lonlat(origin: tuple[float, float], x: float, y: float) -> tuple[float, float]:
    """The point `x` m east and `y` m north of `origin` (lon, lat), on a sphere (close enough).

    >>> lon, lat = metres_to_lonlat((104.07, 30.66), 0.0, 111.32)
    >>> round(lon, 6), round(lat, 6)
    (104.07, 30.661)
    """
    lon, lat = origin
    return lon + x / (111_320.0 * math.cos(math.radians(lat))), lat + y / 111_320.0


class MapPage:
    """The map page of one Playwright `page`, in language `lang`."""

    def __init__(self, page: Any, lang: str, expect: Any) -> None:
        self.page, self.lang, self.expect = page, lang, expect
        self.frame = page.frame_locator(MAP_IFRAME)

    def idle(self) -> None:
        """Wait until no script run is under way."""
        self.page.locator(IDLE).wait_for()

    def ready(self, tool: str = "polygon") -> None:
        """Wait until the run is over and the (possibly new) map shows `tool` in its toolbar.

        A rebuilt map briefly stands beside the old one: wait until one is left and
        it shows the tool (checked together, so a map added meanwhile starts over).
        """
        self.idle()
        maps = self.page.locator(MAP_IFRAME)
        deadline = time.monotonic() + 45
        while True:
            if maps.count() == 1 and self.frame.locator(_TOOLS[tool]).is_visible():
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"no single map with the {tool} tool after 45 s")
            self.page.wait_for_timeout(100)
        inner = maps.element_handle().content_frame()
        inner.wait_for_function("() => window.map && window.map.latLngToContainerPoint")

    def choose_layer(self, layer: str) -> None:
        """Click `layer`'s option of the ``draw_layer`` control (by its word in the locales)."""
        name = t(f"drawlayer.{layer}", self.lang)
        self.page.locator(".st-key-draw_layer button", has_text=name).click()
        # the map below is rebuilt for the layer: wait for the run that did it (its caption)
        if layer == "sites":
            caption = t("map.help", self.lang)
        else:
            how = "help_line" if layer == "paths" else "help_polygon"
            caption = t(f"drawlayer.{how}", self.lang, layer=name)
        self.expect(self.page.get_by_text(caption).first).to_be_visible()
        self.idle()

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        """The page coordinates of (lon, lat) on the map now."""
        inner = self.page.locator(MAP_IFRAME).element_handle().content_frame()
        inner.wait_for_function("() => window.map && window.map.latLngToContainerPoint")
        box = self.page.locator(MAP_IFRAME).bounding_box()
        x, y = inner.evaluate(_XY, [lat, lon])
        return box["x"] + x, box["y"] + y

    def place(self, tool: str, points: list[tuple[float, float]]) -> None:
        """Pick the toolbar's `tool` (polygon or polyline) and click `points` (lon, lat)."""
        self.ready(tool)
        self.frame.locator(_TOOLS[tool]).click()
        vertices = self.frame.locator(_VERTEX)
        for n, (lon, lat) in enumerate(points, start=1):
            self.page.mouse.move(*self.xy(lon, lat), steps=5)
            self.page.wait_for_timeout(150)
            self.page.mouse.down()
            self.page.mouse.up()
            self.expect(vertices).to_have_count(n)

    def finish(self) -> None:
        """Click the toolbar's finish link: the shape goes to the app."""
        finish = t("draw.finish", self.lang)
        self.frame.locator(".leaflet-draw-actions a", has_text=finish).click()

    def draw(self, tool: str, points: list[tuple[float, float]]) -> None:
        """Draw `points` (lon, lat) with the toolbar's `tool` and finish."""
        self.place(tool, points)
        self.finish()
