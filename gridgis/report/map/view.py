"""A folium map of a project: boundary, micro-grids, buildings, spaces, paths, sites.

The map works offline: it draws on a plain background unless asked for a
tile basemap, and its scripts come from the app's own static folder
(`gridgis.report.map.assets`). Every user text reaches the browser HTML-escaped. The
layer data never change datum: on Gaode tiles (GCJ-02) the layers are
shifted to GCJ-02 for display only, and `from_display` brings a shape drawn
there back to WGS84.

For the app, `project_map` builds the *base* map (everything but the sites,
plus the drawing toolbar), which stays the same while sites are drawn, and
`sites_layer` builds the sites as a separate feature group that the app
swaps in without reloading the map. Colours, layer styles and site icons
come from `gridgis.report.map.style`. A map of more than `LARGE_LAYER` features (a
district) is sent compactly and drawn on canvases (`gridgis.report.map.compact`):
coordinates to 10 cm, no labels, the same tooltips and hover highlight.

Examples
--------
>>> from gridgis.core.project import open_project
>>> m = project_map(open_project("data/dongsi180"), lang="en")
>>> "Fire lane" in m.get_root().render()
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from folium.plugins import Draw
from jinja2 import Template
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from gridgis.core.crs import convert_gdf, convert_geometries
from gridgis.core.project import Project
from gridgis.core.schema import resolve_households
from gridgis.core.settings import Settings
from gridgis.errors import GridGISError
from gridgis.report.i18n import LANGS, t, t_or
from gridgis.report.map.assets import VENDOR_URL, localize_assets
from gridgis.report.map.compact import CompactLayer, RawMacroElement
from gridgis.report.map.style import (
    BACKGROUND,
    BUILDING_STYLE,
    COMPOUND_STYLE,
    HATCH_COLOURS,
    HATCH_CSS,
    HATCH_ID,
    OTHER_PATH,
    OTHER_SPACE,
    PASTELS,
    PATH_STYLES,
    SPACE_STYLES,
    SVG_DEFS,
    TOOLTIP_CSS,
    escape_html,
    icon_svg,
    site_colours,
    site_style,
    swatch,
)
from gridgis.report.map.style import BUILDING_STYLE as _BUILDING_STYLE  # noqa: F401  (gridgis.report.sheets.draw)
from gridgis.report.map.style import COMPOUND_STYLE as _COMPOUND_STYLE  # noqa: F401  (gridgis.report.sheets.draw)
from gridgis.report.map.style import PASTELS as _PASTELS  # noqa: F401  (gridgis.report.sheets.draw)
from gridgis.report.map.style import PATH_STYLES as _PATH_STYLES  # noqa: F401  (gridgis.report.sheets.draw)
from gridgis.report.map.style import SPACE_STYLES as _SPACE_STYLES  # noqa: F401  (gridgis.report.sheets.draw)

__all__ = [
    "BASEMAPS",
    "GCJ02_BASEMAPS",
    "LANGS",
    "LARGE_LAYER",
    "display_datum",
    "from_display",
    "project_map",
    "site_colours",
    "sites_layer",
]

BASEMAPS = ("none", "osm", "gaode", "gaode_satellite", "tianditu", "tianditu_satellite")
GCJ02_BASEMAPS = frozenset({"gaode", "gaode_satellite"})
PRECISION = 7  # decimals of lon/lat in the embedded GeoJSON (about 1 cm)
LARGE_LAYER = 2000  # above this many features a layer is simplified and not labelled
_LARGE_PRECISION = 6  # about 10 cm: plenty for display
_LARGE_ATTR = "gridgis_large_map"  # set on the display copies of a large map's layers
_SIMPLIFY_DEG = 2e-6  # about 20 cm
_SIMPLE_SHAPE = 10  # points: shapes with no more are not simplified (nothing to gain)
_MAX_LABELS = 400
_LABEL_CLEARANCE_DEG = 7e-5  # about 7 m: micro-grid labels keep this clear of buildings
_LABEL_NAME_CHARS = 12
_TIANDITU_KEY = re.compile(r"[A-Za-z0-9]{8,64}")


_EXTRAS = """
{% macro header(this, kwargs) %}
<style>
.leaflet-container { background: {{ this.background }};
  font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Helvetica Neue", sans-serif; }
.gridgis-legend { background: rgba(255,255,255,.93); padding: 6px 9px; border-radius: 6px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 11.5px; line-height: 1.2; color: #263238;
  max-height: 70vh; overflow-y: auto; }
.gridgis-legend b { display: block; margin-bottom: 4px; font-size: 13px; }
.gridgis-legend .row { display: flex; align-items: center; gap: 6px; margin: 1.5px 0; }
.gridgis-legend .sw { width: 18px; height: 12px; flex: none; box-sizing: border-box; }
.gridgis-legend .gridgis-icon { width: 16px; height: 16px; }
.gridgis-icon { border-radius: 50%; box-shadow: 0 0 0 1.5px #fff, 0 1px 3px rgba(0,0,0,.4);
  display: block; box-sizing: border-box; padding: 2px; }
.gridgis-label-icon { background: none; border: none; }
.gridgis-label-icon > div { position: absolute; transform: translate(-50%, -50%);
  white-space: nowrap; text-align: center; pointer-events: none; color: #263238;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; line-height: 1.2; }
.gridgis-label-building { font-size: 11px; font-weight: 600; }
.gridgis-label-microgrid { font-size: 11px; color: #455a64 !important; font-style: italic; }
.gridgis-label-site { font-size: 11px; font-weight: 700; }
.gridgis-label-site .gridgis-icon { margin: 0 auto 1px auto; }
.gridgis-far .gridgis-label-icon { display: none; }
.gridgis-tooltip { font-size: 13px; line-height: 1.35; }
.gridgis-tip th { text-align: left; padding-right: 8px; font-weight: 600; }
.gridgis-tip td, .gridgis-tip th { padding-top: 1px; padding-bottom: 1px; }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this._parent.get_name() }};
  if (!document.getElementById({{ this.hatch_id|tojson }})) {
    document.body.insertAdjacentHTML("beforeend", {{ this.svg_defs|tojson }});
  }
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function() {
    var div = L.DomUtil.create("div", "gridgis-legend");
    div.innerHTML = {{ this.legend_html|tojson }};
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo(map);
  L.control.scale({imperial: false, maxWidth: 160}).addTo(map);
  function zoomClass() {
    L.DomUtil[map.getZoom() < {{ this.label_zoom }} ? "addClass" : "removeClass"](
      map.getContainer(), "gridgis-far");
  }
  map.on("zoomend", zoomClass);
  zoomClass();
})();
{% endmacro %}
"""

_LABELS = """
{% macro script(this, kwargs) %}
(function() {
  var group = {{ this._parent.get_name() }};
  {{ this.rows|tojson }}.forEach(function(r) {
    L.marker([r[0], r[1]], {
      icon: L.divIcon({className: "gridgis-label-icon", iconSize: null,
                       html: '<div class="' + r[3] + '">' + r[2] + "</div>"}),
      interactive: false, keyboard: false
    }).addTo(group);
  });
})();
{% endmacro %}
"""

_DRAW_LOCAL = """
{% macro script(this, kwargs) %}
(function() {
  function merge(a, b) {
    for (var k in b) {
      if (b[k] && typeof b[k] === "object") { a[k] = a[k] || {}; merge(a[k], b[k]); }
      else { a[k] = b[k]; }
    }
  }
  if (window.L && L.drawLocal) { merge(L.drawLocal, {{ this.local|tojson }}); }
})();
{% endmacro %}
"""

_CLEAR_DRAWN = """
{% macro script(this, kwargs) %}
// saved sites are drawn by this group: drop the raw shapes (round {{ this.nonce }})
if (window.drawnItems && window.drawnItems.clearLayers) { window.drawnItems.clearLayers(); }
{% endmacro %}
"""

_LABEL_ZOOM = 17
_HIGHLIGHT = {"weight": 3, "fillOpacity": 0.9}  # a feature under the mouse


class _MapExtras(RawMacroElement):
    """Plain background, the hatch pattern, the legend, the scale and label zoom rule."""

    _template = Template(_EXTRAS)

    def __init__(self, legend_html: str) -> None:
        super().__init__()
        self._name = "GridgisExtras"
        self.legend_html = legend_html
        self.background = BACKGROUND
        self.hatch_id = HATCH_ID
        self.svg_defs = SVG_DEFS
        self.label_zoom = _LABEL_ZOOM


class _Labels(RawMacroElement):
    """Text labels (already escaped HTML) at points, added to the parent layer."""

    _template = Template(_LABELS)

    def __init__(self, rows: list[list[Any]]) -> None:
        super().__init__()
        self._name = "GridgisLabels"
        self.rows = rows


class _DrawLocal(RawMacroElement):
    """Leaflet.draw's toolbar and hint texts in the map's language."""

    _template = Template(_DRAW_LOCAL)

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
                    "buttons": {"polygon": d("polygon"), "rectangle": d("rectangle")},
                },
                "handlers": {
                    "polygon": {
                        "tooltip": {
                            "start": d("poly_start"),
                            "cont": d("poly_cont"),
                            "end": d("poly_end"),
                        }
                    },
                    "polyline": {"error": d("cross_error")},
                    "rectangle": {"tooltip": {"start": d("rect_start")}},
                    "simpleshape": {"tooltip": {"end": d("shape_end")}},
                },
            }
        }


_SITES = """
{% macro script(this, kwargs) %}
(function() {
  var group = {{ this._parent.get_name() }};
  var styles = {{ this.styles|tojson }};
  {{ this.features|tojson }}.forEach(function(f) {
    var shape = L.geoJSON(f[0], {style: styles[f[1]]});
    shape.bindTooltip(f[2], {sticky: true, className: "gridgis-tooltip"});
    shape.on("mouseover", function() { shape.setStyle({weight: 4, fillOpacity: 0.75}); });
    shape.on("mouseout", function() { shape.setStyle(styles[f[1]]); });
    shape.addTo(group);
  });
  {{ this.labels|tojson }}.forEach(function(r) {
    L.marker([r[0], r[1]], {
      icon: L.divIcon({className: "gridgis-label-icon", iconSize: null,
                       html: '<div class="' + r[3] + '">' + r[2] + "</div>"}),
      interactive: false, keyboard: false
    }).addTo(group);
  });
})();
{% endmacro %}
"""


class _SitesLayer(RawMacroElement):
    """Sites drawn in the browser from compact JSON (geometry, style key, tooltip HTML)."""

    _template = Template(_SITES)

    def __init__(
        self, features: list[list[Any]], styles: dict[str, Any], labels: list[list[Any]]
    ) -> None:
        super().__init__()
        self._name = "GridgisSites"
        self.features = features
        self.styles = styles
        self.labels = labels


class _ClearDrawn(RawMacroElement):
    """Script that empties Leaflet.draw's layer once the drawn shapes are stored."""

    _template = Template(_CLEAR_DRAWN)

    def __init__(self, nonce: int) -> None:
        super().__init__()
        self._name = "GridgisClearDrawn"
        self.nonce = int(nonce)


def _esc(value: Any) -> str:
    """HTML-escaped text of a cell; a dash for missing values.

    Braces become character references too: folium renders some of its
    output once more as a Jinja template, where ``{{ ... }}`` would run.
    """
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return "—"
    return escape_html(value)


def _label(frame: gpd.GeoDataFrame, lang: str, *, escape: bool = True) -> pd.Series:
    """Each feature's name in `lang` (``name_en`` when English and present), escaped."""
    name = frame["name"] if "name" in frame else pd.Series(None, index=frame.index, dtype=object)
    name = name.where(name.astype(str).str.strip() != "")
    if lang == "en" and "name_en" in frame:
        english = frame["name_en"].where(frame["name_en"].astype(str).str.strip() != "")
        name = english.fillna(name)
    if not escape:
        return name.map(lambda v: "—" if v is None or pd.isna(v) else str(v))
    return name.map(_esc)


def _term(key: Any, lang: str) -> str:
    return _esc(t_or(f"map.{key}", lang, str(key)))


def display_datum(basemap: str) -> str:
    """The datum the layers are shown in on `basemap`: ``gcj02`` on Gaode, else ``wgs84``."""
    return "gcj02" if basemap in GCJ02_BASEMAPS else "wgs84"


def from_display(geometry: BaseGeometry, basemap: str) -> BaseGeometry:
    """Bring a shape drawn on `basemap` back to WGS84 (from GCJ-02 on Gaode tiles)."""
    datum = display_datum(basemap)
    if datum == "wgs84":
        return geometry
    return convert_geometries(geometry, src=datum, dst="wgs84")


def _for_display(frame: gpd.GeoDataFrame, basemap: str) -> gpd.GeoDataFrame:
    datum = display_datum(basemap)
    return frame if datum == "wgs84" else convert_gdf(frame, src="wgs84", dst=datum)


def _simplified(geoms: np.ndarray) -> np.ndarray:
    """Shapes of many points simplified by about 20 cm; the rest (most buildings) as they are."""
    out = geoms.copy()
    many = shapely.get_num_coordinates(geoms) > _SIMPLE_SHAPE
    out[many] = shapely.simplify(geoms[many], _SIMPLIFY_DEG, preserve_topology=True)
    return out


def _geoms(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Display geometries, rounded; simplified when the layer is large."""
    geoms = frame.geometry.to_numpy()
    if len(frame) > LARGE_LAYER or frame.attrs.get(_LARGE_ATTR):
        geoms = _simplified(geoms)
        precision = _LARGE_PRECISION
    else:
        precision = PRECISION
    return shapely.transform(geoms, lambda c: np.round(c, precision))


def _collection(frame: gpd.GeoDataFrame, props: pd.DataFrame, prefix: str) -> dict[str, Any]:
    """A FeatureCollection of `props` rows with display geometries."""
    rows = props.to_dict("records")
    features = [
        {"type": "Feature", "id": f"{prefix}{i}", "properties": row, "geometry": mapping(geom)}
        for i, (geom, row) in enumerate(zip(_geoms(frame), rows, strict=True))
        if geom is not None and not geom.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


def _open_points(frame: gpd.GeoDataFrame, avoid: gpd.GeoDataFrame | None) -> np.ndarray:
    """A point inside each feature for its label, near its middle but clear of `avoid`.

    The point is the one nearest the feature's centre among those at least a
    label's half height from anything in `avoid` (buildings, corners): so a
    micro-grid's label sits in the open space beside its building, not on it.
    """
    geoms = frame.geometry.to_numpy()
    if avoid is None or not len(avoid):
        return shapely.point_on_surface(geoms)
    blocked = shapely.union_all(shapely.buffer(avoid.geometry.to_numpy(), _LABEL_CLEARANCE_DEG))
    out = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            out.append(None)
            continue
        room = geom.buffer(-_LABEL_CLEARANCE_DEG).difference(blocked)
        if room.is_empty:
            out.append(geom.point_on_surface())
            continue
        out.append(shapely.ops.nearest_points(room, geom.centroid)[0])
    return np.array(out, dtype=object)


def _label_rows(
    frame: gpd.GeoDataFrame, texts: Iterable[str], css: str, avoid: gpd.GeoDataFrame | None = None
) -> list[list[Any]]:
    """``[lat, lon, html, class]`` at each feature's representative point."""
    if len(frame) > _MAX_LABELS:
        return []
    points = _open_points(frame, avoid)
    out = []
    for point, text in zip(points, texts, strict=True):
        if point is None or point.is_empty or not text:
            continue
        out.append([round(point.y, PRECISION), round(point.x, PRECISION), text, css])
    return out


def _layer(
    parent: folium.Map | folium.FeatureGroup,
    frame: gpd.GeoDataFrame,
    props: pd.DataFrame,
    *,
    name: str,
    prefix: str,
    aliases: Mapping[str, str],
    style: Callable[[str], dict[str, Any]],
    labels: list[list[Any]] | None = None,
    control: bool = True,
) -> None:
    """Add one layer (a toggleable group: GeoJSON with tooltips, plus labels).

    ``props`` holds escaped tooltip texts and a style key ``_s``. The layers of
    a large map are sent compactly (`gridgis.report.map.compact`).
    """
    fields = [c for c in props.columns if c != "_s"]
    if frame.attrs.get(_LARGE_ATTR):
        geoms = _simplified(frame.geometry.to_numpy())  # CompactLayer rounds them
        shown = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if not shown.any():
            return
        group = folium.FeatureGroup(name=name, control=control)
        CompactLayer(
            geoms[shown],
            tooltip={_esc(aliases[c]): props[c].to_numpy()[shown] for c in fields},
            style_keys=props["_s"].to_numpy()[shown],
            style=style,
            highlight=_HIGHLIGHT,
            precision=_LARGE_PRECISION,
            hatch=HATCH_COLOURS,
        ).add_to(group)
        if labels:
            _Labels(labels).add_to(group)
        group.add_to(parent)
        return
    data = _collection(frame, props, prefix=prefix)
    if not data["features"]:
        return
    group = folium.FeatureGroup(name=name, control=control)
    folium.GeoJson(
        data,
        control=False,
        style_function=lambda f: style(f["properties"]["_s"]),
        highlight_function=lambda f: _HIGHLIGHT,
        tooltip=folium.GeoJsonTooltip(
            fields=fields, aliases=[_esc(aliases[c]) for c in fields], style=TOOLTIP_CSS
        ),
    ).add_to(group)
    if labels:
        _Labels(labels).add_to(group)
    group.add_to(parent)


def _households(project: Project) -> pd.DataFrame:
    buildings = project.layers["buildings"]
    per_floor = project.settings.general.households_per_floor_fallback.value
    return resolve_households(buildings, per_floor=per_floor)


def _hh_text(n: float, derived: bool, lang: str) -> str:
    if pd.isna(n):
        return "—"
    return t("map.hh_est" if derived else "map.hh_unit", lang, n=round(n))


def _legend(rows: list[tuple[str, str]], title: str) -> str:
    items = "".join(f'<div class="row">{sw}<span>{_esc(label)}</span></div>' for sw, label in rows)
    return f"<b>{_esc(title)}</b>{items}"


def _type_label(kind: str, lang: str, settings: Settings | None) -> str:
    key = f"map.{kind}"
    if settings is not None and kind in settings.site_types and not t_or(key, lang, ""):
        site_type = settings.site_types[kind]
        return site_type.label_zh if lang == "zh" else site_type.label_en
    return t_or(key, lang, kind)


_Legend = list[tuple[str, str]]


def _add_grids(
    m: folium.Map, grids: gpd.GeoDataFrame, lang: str, avoid: gpd.GeoDataFrame | None
) -> _Legend:
    names = _label(grids, lang)
    props = pd.DataFrame({"name": names}, index=grids.index)
    props["leader"] = grids["leader"].map(_esc) if "leader" in grids else "—"
    counts = (
        pd.to_numeric(grids["households"], errors="coerce")
        if "households" in grids
        else pd.Series(np.nan, index=grids.index)
    )
    hh = counts.map(lambda n: "—" if pd.isna(n) else t("map.hh_unit", lang, n=int(n)))
    if "households" in grids:
        props["households"] = hh
    props["_s"] = [str(i % len(PASTELS)) for i in range(len(grids))]
    labels = _label_rows(
        grids,
        [
            t("map.grid_label", lang, name=n, leader=ld, hh=h)
            for n, ld, h in zip(names, props["leader"], hh, strict=True)
        ],
        "gridgis-label-microgrid",
        avoid=avoid,
    )
    _layer(m, grids, props, name=t("map.microgrids", lang), prefix="g",
           aliases=_aliases(lang), labels=labels, style=lambda s: {
               "color": "#78909c", "weight": 1, "dashArray": "3 3",
               "fillColor": PASTELS[int(s)], "fillOpacity": 0.55,
           })  # fmt: skip
    stripes = ",".join(f"{c} {i * 33}% {(i + 1) * 33}%" for i, c in enumerate(PASTELS[:3]))
    css = f"background:linear-gradient(90deg,{stripes});border:1px dashed #78909c"
    return [(swatch(css), t("map.microgrids", lang))]


def _aliases(lang: str) -> dict[str, str]:
    keys = ("name", "leader", "households", "kind", "site_type", "status", "units", "floors",
            "site_id", "area", "cost", "served")  # fmt: skip
    return {k: t(f"map.{k}", lang) for k in keys}


def _add_kinds(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    layer: str,
    styles: Mapping[str, dict[str, Any]],
    fallback: dict[str, Any],
    lang: str,
) -> _Legend:
    """Spaces or paths: one style per ``kind``; legend rows for the kinds present."""
    kinds = frame["kind"].astype(str)
    props = pd.DataFrame({"name": _label(frame, lang), "kind": kinds.map(lambda k: _term(k, lang))})
    props["_s"] = kinds
    _layer(m, frame, props, name=t(f"map.{layer}", lang), prefix=layer[0],
           aliases=_aliases(lang), style=lambda s: styles.get(s, fallback))  # fmt: skip
    rows = []
    for kind in (k for k in styles if k in set(kinds)):
        st = styles[kind]
        line = "dashed" if "dashArray" in st else "solid"
        if "fillColor" in st:  # an area
            fill = HATCH_CSS if st["fillColor"].startswith("url(") else st["fillColor"]
            css = f"background:{fill};border:1px {line} {st['color']}"
        else:  # a line
            css = f"height:0;border-top:{max(1, round(st['weight'] * 0.75))}px {line} {st['color']}"
        rows.append((swatch(css), t(f"map.{kind}", lang)))
    return rows


def _add_buildings(m: folium.Map, project: Project, lang: str) -> _Legend:
    buildings = project.layers["buildings"]
    resolved = _households(project)
    hh = [
        _hh_text(n, d, lang)
        for n, d in zip(resolved["households"], resolved["derived"], strict=True)
    ]
    names = _label(buildings, lang)
    props = pd.DataFrame({"name": names, "households": hh}, index=buildings.index)
    for col in ("units", "floors"):
        if col in buildings:
            props[col] = pd.to_numeric(buildings[col], errors="coerce").map(
                lambda v: "—" if pd.isna(v) else str(int(v))
            )
    props["_s"] = ""
    texts = [f"{n}<br>{h}" if n != "—" else h for n, h in zip(names, hh, strict=True)]
    labels = _label_rows(buildings, texts, "gridgis-label-building")
    _layer(m, buildings, props, name=t("map.buildings", lang), prefix="b",
           aliases=_aliases(lang), labels=labels, style=lambda s: BUILDING_STYLE)  # fmt: skip
    return [(swatch("background:#9aa0a6;border:1px solid #5f6368"), t("map.buildings", lang))]


def _site_legend(types: Iterable[str], lang: str, settings: Settings | None) -> _Legend:
    colours = site_colours(types)
    rows = [
        (icon_svg(kind, c, size=16), _type_label(kind, lang, settings))
        for kind, c in colours.items()
    ]
    rows.append((swatch("border:2px dashed #546e7a"), t("map.proposed_note", lang)))
    return rows


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):,.{digits}f}"


def _text(value: Any) -> str | None:
    """A cell as stripped text, or None when missing or blank."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


_SITE_FIELDS = ("site_id", "name", "site_type", "status", "area", "cost", "served")


def _site_rows(sites: gpd.GeoDataFrame, lang: str, settings: Settings | None) -> list[dict]:
    """Per site: raw name, type, status and the escaped tooltip texts (plain Python: fast)."""
    wanted = ["site_id", "site_type", "name", "name_en", "status", "area_m2", "cost_cny",
              "households_served"]  # fmt: skip
    table = pd.DataFrame(sites[[c for c in wanted if c in sites]])
    out = []
    for rec in table.to_dict("records"):
        name = _text(rec.get("name"))
        if lang == "en" and _text(rec.get("name_en")):
            name = _text(rec.get("name_en"))
        kind = str(rec["site_type"])
        status = _text(rec.get("status"))
        tip = {
            "site_id": _esc(rec["site_id"]),
            "name": _esc(name),
            "site_type": _esc(_type_label(kind, lang, settings)),
            "status": "—" if status is None else _term(status, lang),
        }
        if "area_m2" in rec:
            tip["area"] = t("map.area_value", lang, v=_fmt(rec["area_m2"], 1))
        if "cost_cny" in rec:
            tip["cost"] = t("map.cost_value", lang, v=_fmt(rec["cost_cny"]))
        if "households_served" in rec:
            n = rec["households_served"]
            tip["served"] = "—" if n is None or pd.isna(n) else t("map.hh_unit", lang, n=int(n))
        out.append({"id": str(rec["site_id"]), "name": name, "kind": kind,
                    "status": status or "", "tip": tip})  # fmt: skip
    return out


def _tooltip_html(tips: list[dict[str, str]], lang: str) -> list[str]:
    """One tooltip per site: a small table of already-escaped texts."""
    aliases = _aliases(lang)
    return [
        '<table class="gridgis-tip">'
        + "".join(
            f"<tr><th>{_esc(aliases[k])}</th><td>{tip[k]}</td></tr>"
            for k in _SITE_FIELDS
            if k in tip
        )
        + "</table>"
        for tip in tips
    ]


def _add_sites(
    parent: folium.Map | folium.FeatureGroup,
    sites: gpd.GeoDataFrame,
    lang: str,
    *,
    settings: Settings | None,
    selected: str | None = None,
    control: bool = True,
) -> None:
    """The sites as one light layer: styled polygons, tooltips, icons and labels.

    Built in the browser from one compact JSON (no folium GeoJson machinery),
    so the app can resend it on every edit in a few milliseconds.
    """
    rows = _site_rows(sites, lang, settings)
    known = list(settings.site_types) if settings is not None else []
    colours = site_colours([*known, *(r["kind"] for r in rows)])
    style = site_style(colours)
    keys = [f"{r['kind']}|{r['status']}|{int(r['id'] == str(selected))}" for r in rows]
    texts = []
    for r in rows:
        name, sid = r["name"], _esc(r["id"])
        caption = sid
        # with a site selected (the app), only its name is written on the map
        if name and (selected is None or r["id"] == str(selected)):
            short = name if len(name) <= _LABEL_NAME_CHARS else name[: _LABEL_NAME_CHARS - 1] + "…"
            caption = f"{sid} {_esc(short)}"
        texts.append(f"{icon_svg(r['kind'], colours.get(r['kind'], '#757575'))}{caption}")
    tips = _tooltip_html([r["tip"] for r in rows], lang)
    layer = _SitesLayer(
        features=[
            [mapping(geom), key, tip]
            for geom, key, tip in zip(_geoms(sites), keys, tips, strict=True)
            if geom is not None and not geom.is_empty
        ],
        styles={key: style(key) for key in set(keys)},
        labels=_label_rows(sites, texts, "gridgis-label-site"),
    )
    if isinstance(parent, folium.Map):  # a toggleable layer of the static map
        group = folium.FeatureGroup(name=t("map.sites", lang), control=control)
        layer.add_to(group)
        group.add_to(parent)
    else:
        layer.add_to(parent)


def _tiles(m: folium.Map, basemap: str, lang: str, tianditu_key: str | None) -> None:
    common = {"max_zoom": 22, "max_native_zoom": 18, "overlay": False, "control": False}
    if basemap == "osm":
        folium.TileLayer(
            "OpenStreetMap", name="OpenStreetMap", max_zoom=22, max_native_zoom=19, control=False
        ).add_to(m)
    elif basemap in GCJ02_BASEMAPS:
        attr = "&copy; 高德地图 AutoNavi"
        if basemap == "gaode":
            lang_code = "zh_cn" if lang == "zh" else "en"
            url = (
                "https://webrd0{s}.is.autonavi.com/appmaptile?lang="
                + lang_code
                + "&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
            )
            folium.TileLayer(url, attr=attr, name="Gaode", subdomains="1234", **common).add_to(m)
        else:
            url = "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}"
            folium.TileLayer(url, attr=attr, name="Gaode", subdomains="1234", **common).add_to(m)
    elif basemap.startswith("tianditu"):
        if not tianditu_key or not _TIANDITU_KEY.fullmatch(tianditu_key):
            raise GridGISError(
                f"tianditu_key must be 8-64 letters or digits (a Tianditu browser key), "
                f"got {tianditu_key!r}"
            )
        base, notes = ("img", "cia") if basemap == "tianditu_satellite" else ("vec", "cva")
        if lang == "en":
            notes = "eia" if base == "img" else "eva"
        for layer in (base, notes):
            url = (
                f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={tianditu_key}"
            )
            folium.TileLayer(
                url, attr="&copy; 天地图 Tianditu", name=f"Tianditu {layer}",
                subdomains="01234567", **common,
            ).add_to(m)  # fmt: skip


def _draw_control(m: folium.Map, lang: str) -> None:
    _DrawLocal(lang).add_to(m)
    shape = {"color": "#e65100", "weight": 3, "fillOpacity": 0.25}
    Draw(
        position="topleft",
        show_geometry_on_click=False,
        draw_options={
            "polyline": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
            "polygon": {"allowIntersection": False, "showArea": False, "shapeOptions": shape},
            "rectangle": {"showArea": False, "metric": True, "shapeOptions": shape},
        },
        edit_options={"edit": False, "remove": False},
    ).add_to(m)


def project_map(
    project: Project,
    *,
    lang: str = "zh",
    basemap: str = "none",
    sites: bool = True,
    draw: bool = False,
    tianditu_key: str | None = None,
) -> folium.Map:
    """Draw a project's layers on a folium map that needs no internet.

    Parameters
    ----------
    project
        An opened project (layers in EPSG:4326).
    lang
        ``"zh"`` or ``"en"``: language of layer names, tooltips and legend.
    basemap
        One of `BASEMAPS`: ``"none"`` (a plain light background, works
        offline), ``"osm"``, ``"gaode"`` / ``"gaode_satellite"`` (the layers
        are shifted to GCJ-02 for display) or ``"tianditu"`` /
        ``"tianditu_satellite"`` (needs `tianditu_key`). Tiles need the internet.
    sites
        Draw the project's ``sites`` layer. The app passes False and sends the
        sites separately (`sites_layer`), so drawing never rebuilds this map.
    draw
        Add the Leaflet.draw toolbar (polygon and rectangle only).
    tianditu_key
        A Tianditu browser key (letters and digits).

    Returns
    -------
    folium.Map
        Fitted to the compound, with a layer control and a legend; its
        scripts point at ``/app/static/vendor`` (`gridgis.report.map.assets`).

    Raises
    ------
    GridGISError
        `lang` or `basemap` is not one of the choices, or a bad Tianditu key.
    """
    if lang not in LANGS:
        raise GridGISError(f"lang must be one of {LANGS}, got {lang!r}")
    if basemap not in BASEMAPS:
        raise GridGISError(f"basemap must be one of {BASEMAPS}, got {basemap!r}")
    layers = {
        k: _for_display(v, basemap)
        for k, v in project.layers.items()
        if isinstance(v, gpd.GeoDataFrame) and len(v) and v.geometry.notna().any()
    }
    extent = layers.get("compound", layers["buildings"])
    west, south, east, north = (round(float(v), PRECISION) for v in extent.total_bounds)
    n_features = sum(len(v) for v in layers.values())
    if n_features > LARGE_LAYER:  # every layer of a large map is rounded to 10 cm
        layers = {k: v.copy(deep=False) for k, v in layers.items()}
        for frame in layers.values():
            frame.attrs[_LARGE_ATTR] = True

    m = folium.Map(
        location=[round((south + north) / 2, PRECISION), round((west + east) / 2, PRECISION)],
        zoom_start=18,
        tiles=None,
        max_zoom=22,
        zoom_snap=0.25,
        font_size="13px",
        prefer_canvas=n_features > LARGE_LAYER,
    )
    # fit the view before any layer is added: each layer is then projected and drawn once
    # keep the compound clear of the layer control (top right) and the legend (bottom right)
    fit = folium.FitBounds(
        [[south, west], [north, east]], padding_top_left=(16, 16), padding_bottom_right=(140, 16)
    )
    fit.options["animate"] = False
    fit.add_to(m)
    _tiles(m, basemap, lang, tianditu_key)
    display = Project(layers=layers, settings=project.settings)
    legend: _Legend = []
    if "microgrids" in layers:
        parts = [layers[k].geometry.to_numpy() for k in ("buildings", "spaces") if k in layers]
        if "sites" in layers:  # a site's icon and name stand out beyond its outline
            parts.append(shapely.buffer(layers["sites"].geometry.to_numpy(), _LABEL_CLEARANCE_DEG))
        avoid = gpd.GeoDataFrame(geometry=np.concatenate(parts), crs=4326)
        legend += _add_grids(m, layers["microgrids"], lang, avoid)
    if "compound" in layers:
        compound = layers["compound"]
        props = pd.DataFrame({"name": _label(compound, lang), "_s": ""}, index=compound.index)
        _layer(m, compound, props, name=t("map.compound", lang), prefix="c",
               aliases=_aliases(lang), style=lambda s: COMPOUND_STYLE)  # fmt: skip
        legend.append((swatch("border:3px solid #37474f"), t("map.compound", lang)))
    kinds = {"spaces": (SPACE_STYLES, OTHER_SPACE), "paths": (PATH_STYLES, OTHER_PATH)}
    for layer, (styles, fallback) in kinds.items():
        if layer in layers:
            legend += _add_kinds(m, layers[layer], layer, styles, fallback, lang)
    legend += _add_buildings(m, display, lang)
    if sites and "sites" in layers:
        _add_sites(m, layers["sites"], lang, settings=project.settings)
        legend += _site_legend(layers["sites"]["site_type"].astype(str), lang, project.settings)
    elif not sites:
        legend += _site_legend(project.settings.site_types, lang, project.settings)
    if draw:
        _draw_control(m, lang)

    folium.LayerControl(collapsed=False).add_to(m)
    _MapExtras(_legend(legend, t("map.legend", lang))).add_to(m)
    return localize_assets(m, base_url=VENDOR_URL)


def sites_layer(
    sites: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    basemap: str = "none",
    settings: Settings | None = None,
    selected: str | None = None,
    clear_drawn: int | None = None,
) -> folium.FeatureGroup:
    """The sites as one feature group, to send to a map that is already shown.

    Parameters
    ----------
    sites
        Sites in EPSG:4326 (``site_id``, ``site_type``; ``name``, ``status``
        and any analysis columns such as ``area_m2``, ``cost_cny``,
        ``households_served`` are shown in the tooltips).
    lang, basemap
        As in `project_map` (the sites are shifted to GCJ-02 on Gaode tiles).
    settings
        For the names of site types defined in settings.
    selected
        The ``site_id`` to outline in orange; the other sites are labelled
        with their id only (their names are in the tooltips).
    clear_drawn
        When given, the group also empties Leaflet.draw's own layer, whose
        raw shapes this group now shows as stored sites; pass a new number
        to force it again.
    """
    group = folium.FeatureGroup(name=t("map.sites", lang), control=False)
    present = sites[sites.geometry.notna() & ~sites.geometry.is_empty] if len(sites) else sites
    if len(present):
        _add_sites(
            group, _for_display(present, basemap), lang, settings=settings, selected=selected,
            control=False,
        )  # fmt: skip
    if clear_drawn is not None:
        _ClearDrawn(clear_drawn).add_to(group)
    return localize_assets(group, base_url=VENDOR_URL)
