"""Map styles: colours, layer styles, site icons and swatches.

The look of `gridgis.report.map.view`'s maps (and of the printed map sheets,
which match them): the background, the pastel palette for micro-grids, the
styles of compound, buildings, spaces and paths, the site colours per type
(`site_colours`) and their Leaflet style per status (`site_style`), the site
icons (`icon_svg`), the neglected-space hatch (`SVG_DEFS`, `HATCH_CSS`, and
`HATCH_COLOURS` for canvases) and legend swatches (`swatch`). Plain data and
strings: no map is built here.

Examples
--------
>>> site_colours(["parking_shed", "bike_repair"])
{'parking_shed': '#1e6fd9', 'bike_repair': '#00897b'}
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "BACKGROUND",
    "BUILDING_STYLE",
    "COMPOUND_STYLE",
    "HATCH_COLOURS",
    "HATCH_CSS",
    "HATCH_ID",
    "ICON_OTHER",
    "ICON_PATHS",
    "OTHER_COLOURS",
    "OTHER_PATH",
    "OTHER_SPACE",
    "PASTELS",
    "PATH_STYLES",
    "SELECTED",
    "SITE_COLOURS",
    "SPACE_STYLES",
    "SVG_DEFS",
    "TOOLTIP_CSS",
    "icon_svg",
    "site_colours",
    "site_style",
    "swatch",
]

BACKGROUND = "#f4f2ec"
HATCH_ID = "gridgis-hatch"

PASTELS = ("#b3cde3", "#ccebc5", "#fed9a6", "#decbe4", "#fbb4ae", "#ffffcc", "#e5d8bd", "#fddaec")
OTHER_COLOURS = ("#00897b", "#6d4c41", "#c0ca33", "#5e35b1", "#f4511e")
SPACE_STYLES: dict[str, dict[str, Any]] = {
    "golden_corner": {"color": "#b8860b", "fillColor": "#f6c026", "fillOpacity": 0.75,
                      "weight": 1.5},
    "neglected": {"color": "#795548", "fillColor": f"url(#{HATCH_ID})", "fillOpacity": 1,
                  "weight": 1.5, "dashArray": "5 4"},
    "green": {"color": "#66a85a", "fillColor": "#a5d69a", "fillOpacity": 0.6, "weight": 1},
    "storage": {"color": "#8d8d8d", "fillColor": "#d9d2c5", "fillOpacity": 0.8, "weight": 1},
}  # fmt: skip
PATH_STYLES: dict[str, dict[str, Any]] = {
    "fire_lane": {"color": "#d32f2f", "weight": 4, "dashArray": "10 6", "opacity": 0.95},
    "road": {"color": "#9e9e9e", "weight": 3.5, "opacity": 0.9},
    "footpath": {"color": "#a1887f", "weight": 1.5, "opacity": 0.9},
}
OTHER_SPACE = {"color": "#8d8d8d", "fillColor": "#e0e0e0", "fillOpacity": 0.6, "weight": 1}
OTHER_PATH = {"color": "#bdbdbd", "weight": 2}
SITE_COLOURS = {"parking_shed": "#1e6fd9", "vegetable_garden": "#2e9e44",
                 "activity_room": "#8e3fb5"}  # fmt: skip
SELECTED = "#ff6f00"
COMPOUND_STYLE = {"color": "#37474f", "weight": 3, "fill": False}
BUILDING_STYLE = {"color": "#5f6368", "weight": 1, "fillColor": "#9aa0a6", "fillOpacity": 0.9}
TOOLTIP_CSS = "font-size: 13px; line-height: 1.35;"

# white line icons on the site's colour (no xmlns: inline SVG in HTML needs none)
ICON_PATHS = {
    "parking_shed": '<circle cx="6" cy="16" r="3.6"/><circle cx="18" cy="16" r="3.6"/>'
    '<path d="M6 16l3.5-7h6.5l2 7M9.5 9l3.5 7h5M14 6h3"/>',
    "vegetable_garden": '<path d="M12 21v-9"/>'
    '<path d="M12 12c0-4-2.5-6.5-7-6.5 0 4 2.5 6.5 7 6.5z"/>'
    '<path d="M12 10c0-3.6 2.4-6 6.5-6 0 3.6-2.4 6-6.5 6z"/>',
    "activity_room": '<path d="M3.5 11.5 12 4l8.5 7.5"/><path d="M5.5 10v10h13V10"/>'
    '<path d="M10 20v-5h4v5"/>',
}
ICON_OTHER = '<circle cx="12" cy="12" r="4.5"/>'


def icon_svg(kind: str, colour: str, size: int = 22) -> str:
    paths = ICON_PATHS.get(kind, ICON_OTHER)
    return (
        f'<svg width="{size}" height="{size}" viewBox="0 0 24 24" class="gridgis-icon" '
        f'style="background:{colour}"><g fill="none" stroke="#fff" stroke-width="2" '
        f'stroke-linecap="round" stroke-linejoin="round">{paths}</g></svg>'
    )


HATCH_COLOURS = ("#efe3d3", "#8d6e63")  # the hatch's ground and stripes
_GROUND, _STRIPE = HATCH_COLOURS
SVG_DEFS = (
    f'<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    f'<pattern id="{HATCH_ID}" patternUnits="userSpaceOnUse" width="7" height="7" '
    f'patternTransform="rotate(45)"><rect width="7" height="7" fill="{_GROUND}"/>'
    f'<line x1="0" y1="0" x2="0" y2="7" stroke="{_STRIPE}" stroke-width="2.5"/></pattern>'
    "</defs></svg>"
)
HATCH_CSS = f"repeating-linear-gradient(45deg,{_STRIPE} 0 2px,{_GROUND} 2px 5px)"


def swatch(css: str) -> str:
    return f'<span class="sw" style="{css}"></span>'


def site_colours(types: Iterable[str]) -> dict[str, str]:
    """A colour per site type: fixed for the built-in types, a palette for the others."""
    types = list(dict.fromkeys(str(x) for x in types))
    others = [x for x in types if x not in SITE_COLOURS]
    out = {x: SITE_COLOURS[x] for x in types if x in SITE_COLOURS}
    out.update({x: OTHER_COLOURS[i % len(OTHER_COLOURS)] for i, x in enumerate(others)})
    return out


def site_style(colours: Mapping[str, str]) -> Callable[[str], dict[str, Any]]:
    def style(key: str) -> dict[str, Any]:
        kind, state, selected = key.split("|")
        c = colours.get(kind, "#757575")
        out: dict[str, Any] = {"color": c, "fillColor": c, "weight": 2.5, "fillOpacity": 0.6}
        if state == "proposed":
            out.update(dashArray="6 4", fillOpacity=0.3)
        elif state == "rejected":
            out.update(dashArray="2 4", fillOpacity=0.1, opacity=0.6)
        if selected == "1":
            out.update(color=SELECTED, weight=4.5, opacity=1)
        return out

    return style


def escape_html(text: object, quote: bool = True) -> str:
    """`text` safe in a folium map: HTML-escaped, and braces as character references.

    branca renders folium's output once more as a Jinja template, where a
    name such as ``{{ 7*7 }}`` would otherwise run on the server.
    """
    return html.escape(str(text), quote=quote).replace("{", "&#123;").replace("}", "&#125;")
