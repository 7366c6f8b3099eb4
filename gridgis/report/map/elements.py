"""The folium elements gridgis maps add: background and legend, labels, drawing texts, sites.

Their scripts and styles are package data, not Python strings: Jinja macro
files in ``gridgis/report/map/templates/`` and plain ``.js`` / ``.css`` files in
``gridgis/report/map/static/``, read once with `importlib.resources`
(`resource_text`, `template`). Every element here is a `RawMacroElement`: its
rendered output is not read as a template again, so user texts (which reach
the browser as escaped HTML) cannot run as Jinja code.

Examples
--------
>>> "gridgis-legend" in resource_text("static/map.css")
True
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from gridgis.report.i18n import t
from gridgis.report.map.style import BACKGROUND, HATCH_ID, SVG_DEFS

__all__ = [
    "DRAW_TOOLS",
    "LABEL_ZOOM",
    "ClearDrawn",
    "DrawLocal",
    "DrawTools",
    "Labels",
    "MapExtras",
    "RawElement",
    "RawMacroElement",
    "SitesLayer",
    "ToBack",
    "resource_text",
    "template",
]

LABEL_ZOOM = 17  # labels show from this zoom level on


@cache
def resource_text(name: str) -> str:
    """The text of a package data file of `gridgis.report.map` (``"static/map.css"``)."""
    return resources.files("gridgis.report.map").joinpath(name).read_text(encoding="utf-8")


@cache
def template(name: str) -> Template:
    """The Jinja template ``templates/<name>`` of `gridgis.report.map`."""
    return Template(resource_text(f"templates/{name}"))


class RawElement(Element):
    """Text put into the page as it is (branca would read an Element's text as a template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class RawMacroElement(MacroElement):
    """A MacroElement whose rendered header, html and script are not templates again.

    branca renders a MacroElement's macros and wraps each output in an
    ``Element``, whose text it renders once more as a Jinja template: slow for
    large outputs, and any ``{{ ... }}`` in user data would run on the server.
    """

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("a RawMacroElement renders only inside a Figure")
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                getattr(figure, part).add_child(
                    RawElement(macro(self, kwargs)), name=self.get_name()
                )
        for child in self._children.values():
            child.render(**kwargs)


class MapExtras(RawMacroElement):
    """Plain background, the hatch pattern, the legend, the scale and label zoom rule."""

    _template = template("extras.j2")

    def __init__(self, legend_html: str) -> None:
        super().__init__()
        self._name = "GridgisExtras"
        self.legend_html = legend_html
        self.css = resource_text("static/map.css")
        self.background = BACKGROUND
        self.hatch_id = HATCH_ID
        self.svg_defs = SVG_DEFS
        self.label_zoom = LABEL_ZOOM


class Labels(RawMacroElement):
    """Text labels (already escaped HTML) at points, added to the parent layer."""

    _template = template("labels.j2")

    def __init__(self, rows: list[list[Any]]) -> None:
        super().__init__()
        self._name = "GridgisLabels"
        self.rows = rows


class DrawLocal(RawMacroElement):
    """Leaflet.draw's toolbar and hint texts in the map's language."""

    _template = template("draw_local.j2")

    def __init__(self, lang: str) -> None:
        super().__init__()
        self._name = "GridgisDrawLocal"

        def d(key: str) -> str:
            return t(f"draw.{key}", lang)

        self.local = {
            "draw": {
                "toolbar": {
                    "actions": {"title": d("cancel_title"), "text": d("cancel")},
                    "finish": {"title": d("finish_title"), "text": d("finish")},
                    "undo": {"title": d("undo_title"), "text": d("undo")},
                    "buttons": {
                        "polygon": d("polygon"),
                        "rectangle": d("rectangle"),
                        "polyline": t("drawlayer.polyline", lang),
                    },
                },
                "handlers": {
                    "polygon": {
                        "tooltip": {
                            "start": d("poly_start"),
                            "cont": d("poly_cont"),
                            "end": d("poly_end"),
                        }
                    },
                    "polyline": {
                        "error": d("cross_error"),
                        "tooltip": {
                            "start": t("drawlayer.line_start", lang),
                            "cont": t("drawlayer.line_cont", lang),
                            "end": t("drawlayer.line_end", lang),
                        },
                    },
                    "rectangle": {"tooltip": {"start": d("rect_start")}},
                    "simpleshape": {"tooltip": {"end": d("shape_end")}},
                },
            }
        }


class SitesLayer(RawMacroElement):
    """Sites drawn in the browser from compact JSON (geometry, style key, tooltip HTML)."""

    _template = template("sites.j2")

    def __init__(
        self,
        features: list[list[Any]],
        styles: dict[str, Any],
        labels: list[list[Any]],
        edit: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self._name = "GridgisSites"
        self.features = features  # [geometry, style key, tooltip, site_id, rev]
        self.styles = styles
        self.labels = labels
        self.edit = edit  # the options of gridgis.report.map.editing, when sites can be edited


class ClearDrawn(RawMacroElement):
    """Script that empties Leaflet.draw's layer once the drawn shapes are stored."""

    _template = template("clear_drawn.j2")

    def __init__(self, nonce: int) -> None:
        super().__init__()
        self._name = "GridgisClearDrawn"
        self.nonce = int(nonce)


class ToBack(RawMacroElement):
    """Script that draws its feature group under the map's other shapes once it is shown.

    The app sends the micro-grids it edits after the base map: without this
    their fill would cover the buildings.
    """

    _template = template("to_back.j2")

    def __init__(self) -> None:
        super().__init__()
        self._name = "GridgisToBack"


DRAW_TOOLS = ("polygon", "rectangle", "polyline")
"""The Leaflet.draw tools `DrawTools` shows or hides."""


class DrawTools(RawMacroElement):
    """Script that shows only the given Leaflet.draw tools (sent with a feature group).

    The base map keeps one toolbar with every tool, so changing the tools of
    the layer being drawn never remounts the map.
    """

    _template = template("draw_tools.j2")

    def __init__(self, tools: tuple[str, ...]) -> None:
        super().__init__()
        if unknown := set(tools) - set(DRAW_TOOLS):
            raise ValueError(f"tools must be among {DRAW_TOOLS}, got {sorted(unknown)}")
        self._name = "GridgisDrawTools"
        self.hidden = [k for k in DRAW_TOOLS if k not in tools]
        self.shown = [k for k in DRAW_TOOLS if k in tools]
