"""The legend of a gridgis map: a swatch and a word per thing shown.

A legend is a list of ``(swatch_html, text)`` rows (`LegendRows`) that the
map's layers add as they are drawn; `legend_html` turns them into the
legend box's escaped HTML (`gridgis.report.map.elements.MapExtras` shows it).

Examples
--------
>>> rows = kind_rows({"fire_lane": {"color": "#d32f2f", "weight": 4}}, {"fire_lane"}, "en")
>>> rows[0][1]
'Fire lane'
>>> "<b>Legend</b>" in legend_html(rows, "en")
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from gridgis.report.i18n import t
from gridgis.report.labels import type_label
from gridgis.report.map.style import HATCH_CSS, PASTELS, escape_html, icon_svg, site_colours, swatch

if TYPE_CHECKING:
    from gridgis.core.settings import Settings

__all__ = [
    "LegendRows",
    "building_rows",
    "compound_rows",
    "grid_rows",
    "kind_rows",
    "legend_html",
    "site_rows",
]

LegendRows = list[tuple[str, str]]


def legend_html(rows: LegendRows, lang: str) -> str:
    """The legend box: its title and one line per row (texts escaped)."""
    items = "".join(
        f'<div class="row">{sw}<span>{escape_html(text)}</span></div>' for sw, text in rows
    )
    return f"<b>{escape_html(t('map.legend', lang))}</b>{items}"


def grid_rows(lang: str) -> LegendRows:
    """The micro-grids' row: pastel stripes in a dashed frame."""
    stripes = ",".join(f"{c} {i * 33}% {(i + 1) * 33}%" for i, c in enumerate(PASTELS[:3]))
    css = f"background:linear-gradient(90deg,{stripes});border:1px dashed #78909c"
    return [(swatch(css), t("map.microgrids", lang))]


def compound_rows(lang: str) -> LegendRows:
    """The compound boundary's row."""
    return [(swatch("border:3px solid #37474f"), t("map.compound", lang))]


def building_rows(lang: str) -> LegendRows:
    """The buildings' row."""
    return [(swatch("background:#9aa0a6;border:1px solid #5f6368"), t("map.buildings", lang))]


def kind_rows(
    styles: Mapping[str, Mapping[str, Any]], present: Iterable[str], lang: str
) -> LegendRows:
    """A row per kind of space or path in `styles` that is `present`, in `styles`' order."""
    shown = set(present)
    rows = []
    for kind in (k for k in styles if k in shown):
        st = styles[kind]
        line = "dashed" if "dashArray" in st else "solid"
        if "fillColor" in st:  # an area
            fill = HATCH_CSS if st["fillColor"].startswith("url(") else st["fillColor"]
            css = f"background:{fill};border:1px {line} {st['color']}"
        else:  # a line
            css = f"height:0;border-top:{max(1, round(st['weight'] * 0.75))}px {line} {st['color']}"
        rows.append((swatch(css), t(f"map.{kind}", lang)))
    return rows


def site_rows(types: Iterable[str], lang: str, settings: Settings | None) -> LegendRows:
    """A row per site type (its icon and name), and how a proposed site is drawn."""
    colours = site_colours(types)
    rows = [
        (icon_svg(kind, c, size=16), type_label(kind, lang, settings))
        for kind, c in colours.items()
    ]
    rows.append((swatch("border:2px dashed #546e7a"), t("map.proposed_note", lang)))
    return rows
