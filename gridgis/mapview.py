"""A folium map of a project: boundary, micro-grids, buildings, spaces, paths, sites.

The map works offline: it draws on a plain background unless asked for
OpenStreetMap tiles, and its scripts come from the app's own static folder
(`gridgis.assets`). Every user text reaches the browser HTML-escaped.

Examples
--------
>>> from gridgis.project import open_project
>>> m = project_map(open_project("data/dongsi180"), lang="en")
>>> "Fire lane" in m.get_root().render()
True
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template
from shapely.geometry import mapping

from gridgis._errors import GridGISError
from gridgis.assets import VENDOR_URL, localize_assets
from gridgis.households import resolve_households
from gridgis.project import Project

__all__ = ["BASEMAPS", "LANGS", "project_map"]

LANGS = ("zh", "en")
BASEMAPS = ("none", "osm")
PRECISION = 7  # decimals of lon/lat in the embedded GeoJSON (about 1 cm)
BACKGROUND = "#f4f2ec"
HATCH_ID = "gridgis-hatch"

_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "compound": "小区边界", "microgrids": "微网格", "buildings": "楼栋",
        "spaces": "金角银边与闲置空间", "paths": "道路与消防通道", "sites": "改造场地",
        "legend": "图例", "name": "名称", "leader": "网格长", "households": "户数",
        "kind": "类型", "site_type": "类型", "status": "状态", "hh_unit": "{n} 户",
        "hh_est": "约 {n} 户（推算）", "units": "单元", "floors": "层数",
        "golden_corner": "金角银边", "neglected": "闲置空间", "green": "绿地",
        "storage": "杂物间", "fire_lane": "消防车通道", "road": "车行道路",
        "footpath": "步道", "parking_shed": "非机动车棚", "vegetable_garden": "小区菜园",
        "activity_room": "活动室", "proposed": "拟建", "approved": "已批准",
        "rejected": "已否决", "built": "已建成", "proposed_note": "虚线：拟建场地",
    },
    "en": {
        "compound": "Compound boundary", "microgrids": "Micro-grids", "buildings": "Buildings",
        "spaces": "Golden corners and spaces", "paths": "Roads and fire lanes",
        "sites": "Renovation sites", "legend": "Legend", "name": "Name",
        "leader": "Leader", "households": "Households", "kind": "Kind",
        "site_type": "Type", "status": "Status", "hh_unit": "{n} households",
        "hh_est": "about {n} households (derived)", "units": "Units", "floors": "Floors",
        "golden_corner": "Golden corner", "neglected": "Neglected space", "green": "Green space",
        "storage": "Storage room", "fire_lane": "Fire lane", "road": "Road",
        "footpath": "Footpath", "parking_shed": "E-bike shed",
        "vegetable_garden": "Vegetable garden", "activity_room": "Activity room",
        "proposed": "proposed", "approved": "approved", "rejected": "rejected", "built": "built",
        "proposed_note": "dashed: proposed site",
    },
}  # fmt: skip

_PASTELS = ("#b3cde3", "#ccebc5", "#fed9a6", "#decbe4", "#fbb4ae", "#ffffcc", "#e5d8bd", "#fddaec")
_OTHER_COLOURS = ("#00897b", "#6d4c41", "#c0ca33", "#5e35b1", "#f4511e")
_SPACE_STYLES: dict[str, dict[str, Any]] = {
    "golden_corner": {"color": "#b8860b", "fillColor": "#f6c026", "fillOpacity": 0.75,
                      "weight": 1.5},
    "neglected": {"color": "#795548", "fillColor": f"url(#{HATCH_ID})", "fillOpacity": 1,
                  "weight": 1.5, "dashArray": "5 4"},
    "green": {"color": "#66a85a", "fillColor": "#a5d69a", "fillOpacity": 0.6, "weight": 1},
    "storage": {"color": "#8d8d8d", "fillColor": "#d9d2c5", "fillOpacity": 0.8, "weight": 1},
}  # fmt: skip
_PATH_STYLES: dict[str, dict[str, Any]] = {
    "fire_lane": {"color": "#d32f2f", "weight": 4, "dashArray": "10 6", "opacity": 0.95},
    "road": {"color": "#9e9e9e", "weight": 3.5, "opacity": 0.9},
    "footpath": {"color": "#a1887f", "weight": 1.5, "opacity": 0.9},
}
_OTHER_SPACE = {"color": "#8d8d8d", "fillColor": "#e0e0e0", "fillOpacity": 0.6, "weight": 1}
_OTHER_PATH = {"color": "#bdbdbd", "weight": 2}
_SITE_COLOURS = {"parking_shed": "#1e6fd9", "vegetable_garden": "#2e9e44",
                 "activity_room": "#8e3fb5"}  # fmt: skip
_COMPOUND_STYLE = {"color": "#37474f", "weight": 3, "fill": False}
_BUILDING_STYLE = {"color": "#5f6368", "weight": 1, "fillColor": "#9aa0a6", "fillOpacity": 0.9}
_TOOLTIP_CSS = "font-size: 13px; line-height: 1.35;"

_EXTRAS = """
{% macro header(this, kwargs) %}
<style>
.leaflet-container { background: {{ this.background }};
  font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Helvetica Neue", sans-serif; }
.gridgis-legend { background: rgba(255,255,255,.93); padding: 8px 10px; border-radius: 6px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 12px; line-height: 1.3; color: #263238; }
.gridgis-legend b { display: block; margin-bottom: 4px; font-size: 13px; }
.gridgis-legend .row { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.gridgis-legend .sw { width: 18px; height: 12px; flex: none; box-sizing: border-box; }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function() {
  if (!document.getElementById({{ this.hatch_id|tojson }})) {
    document.body.insertAdjacentHTML("beforeend", {{ this.svg_defs|tojson }});
  }
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function() {
    var div = L.DomUtil.create("div", "gridgis-legend");
    div.innerHTML = {{ this.legend_html|tojson }};
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legend.addTo({{ this._parent.get_name() }});
  L.control.scale({imperial: false, maxWidth: 160}).addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""

_SVG_DEFS = (
    f'<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    f'<pattern id="{HATCH_ID}" patternUnits="userSpaceOnUse" width="7" height="7" '
    'patternTransform="rotate(45)"><rect width="7" height="7" fill="#efe3d3"/>'
    '<line x1="0" y1="0" x2="0" y2="7" stroke="#8d6e63" stroke-width="2.5"/></pattern>'
    "</defs></svg>"
)
_HATCH_CSS = "repeating-linear-gradient(45deg,#8d6e63 0 2px,#efe3d3 2px 5px)"


class _MapExtras(MacroElement):
    """Plain background, the hatch pattern and the legend (all static text)."""

    _template = Template(_EXTRAS)

    def __init__(self, legend_html: str) -> None:
        super().__init__()
        self._name = "GridgisExtras"
        self.legend_html = legend_html
        self.background = BACKGROUND
        self.hatch_id = HATCH_ID
        self.svg_defs = _SVG_DEFS


def _esc(value: Any) -> str:
    """HTML-escaped text of a cell; a dash for missing values."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return html.escape(str(value))


def _label(frame: gpd.GeoDataFrame, lang: str) -> pd.Series:
    """Each feature's name in `lang` (``name_en`` when English and present)."""
    name = frame["name"] if "name" in frame else pd.Series(None, index=frame.index, dtype=object)
    if lang == "en" and "name_en" in frame:
        english = frame["name_en"].where(frame["name_en"].astype(str).str.strip() != "")
        name = english.fillna(name)
    return name.map(_esc)


def _term(key: Any, text: Mapping[str, str]) -> str:
    return _esc(text.get(str(key), key))


def _collection(frame: gpd.GeoDataFrame, props: pd.DataFrame, prefix: str) -> dict[str, Any]:
    """A FeatureCollection of `props` rows, lon/lat rounded to `PRECISION` decimals."""
    geoms = shapely.transform(frame.geometry.to_numpy(), lambda c: np.round(c, PRECISION))
    rows = props.to_dict("records")
    features = [
        {"type": "Feature", "id": f"{prefix}{i}", "properties": row, "geometry": mapping(geom)}
        for i, (geom, row) in enumerate(zip(geoms, rows, strict=True))
        if geom is not None and not geom.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


def _add(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    props: pd.DataFrame,
    *,
    layer: str,
    text: Mapping[str, str],
    style: Callable[[str], dict[str, Any]],
) -> None:
    """Add one layer; ``props`` holds escaped tooltip texts and a style key ``_s``."""
    data = _collection(frame, props, prefix=f"{layer}-")
    if not data["features"]:
        return
    fields = [c for c in props.columns if c != "_s"]
    folium.GeoJson(
        data,
        name=text[layer],
        style_function=lambda f: style(f["properties"]["_s"]),
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.9},
        tooltip=folium.GeoJsonTooltip(
            fields=fields, aliases=[_esc(text[c]) for c in fields], style=_TOOLTIP_CSS
        ),
    ).add_to(m)


def _households(project: Project, text: Mapping[str, str]) -> pd.Series:
    buildings = project.layers["buildings"]
    per_floor = project.settings.general.households_per_floor_fallback.value
    resolved = resolve_households(buildings, per_floor=per_floor)

    def fmt(n: float, derived: bool) -> str:
        if pd.isna(n):
            return "—"
        return text["hh_est" if derived else "hh_unit"].format(n=round(n))

    return pd.Series(
        [fmt(n, d) for n, d in zip(resolved["households"], resolved["derived"], strict=True)],
        index=buildings.index,
    )


def _swatch(css: str) -> str:
    return f'<span class="sw" style="{css}"></span>'


def _legend(rows: list[tuple[str, str]], title: str) -> str:
    items = "".join(f'<div class="row">{sw}<span>{_esc(label)}</span></div>' for sw, label in rows)
    return f"<b>{_esc(title)}</b>{items}"


def _other_colour(key: str, keys: Iterable[str]) -> str:
    others = sorted({k for k in keys if k not in _SITE_COLOURS})
    return _OTHER_COLOURS[others.index(key) % len(_OTHER_COLOURS)] if key in others else "#757575"


_Legend = list[tuple[str, str]]


def _add_grids(
    m: folium.Map, grids: gpd.GeoDataFrame, lang: str, text: Mapping[str, str]
) -> _Legend:
    props = pd.DataFrame({"name": _label(grids, lang)}, index=grids.index)
    props["leader"] = grids["leader"].map(_esc) if "leader" in grids else "—"
    if "households" in grids:
        props["households"] = pd.to_numeric(grids["households"], errors="coerce").map(
            lambda n: "—" if pd.isna(n) else text["hh_unit"].format(n=int(n))
        )
    props["_s"] = [str(i % len(_PASTELS)) for i in range(len(grids))]
    _add(m, grids, props, layer="microgrids", text=text, style=lambda s: {
        "color": "#78909c", "weight": 1, "dashArray": "3 3",
        "fillColor": _PASTELS[int(s)], "fillOpacity": 0.55,
    })  # fmt: skip
    stripes = ",".join(f"{c} {i * 33}% {(i + 1) * 33}%" for i, c in enumerate(_PASTELS[:3]))
    css = f"background:linear-gradient(90deg,{stripes});border:1px dashed #78909c"
    return [(_swatch(css), text["microgrids"])]


def _add_kinds(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    layer: str,
    styles: Mapping[str, dict[str, Any]],
    fallback: dict[str, Any],
    lang: str,
    text: Mapping[str, str],
) -> _Legend:
    """Spaces or paths: one style per ``kind``; legend rows for the kinds present."""
    kinds = frame["kind"].astype(str)
    props = pd.DataFrame({"name": _label(frame, lang), "kind": kinds.map(lambda k: _term(k, text))})
    props["_s"] = kinds
    _add(m, frame, props, layer=layer, text=text, style=lambda s: styles.get(s, fallback))
    rows = []
    for kind in (k for k in styles if k in set(kinds)):
        st = styles[kind]
        line = "dashed" if "dashArray" in st else "solid"
        if "fillColor" in st:  # an area
            fill = _HATCH_CSS if st["fillColor"].startswith("url(") else st["fillColor"]
            css = f"background:{fill};border:1px {line} {st['color']}"
        else:  # a line
            css = f"height:0;border-top:{max(1, round(st['weight'] * 0.75))}px {line} {st['color']}"
        rows.append((_swatch(css), text[kind]))
    return rows


def _add_buildings(m: folium.Map, project: Project, lang: str, text: Mapping[str, str]) -> _Legend:
    buildings = project.layers["buildings"]
    props = pd.DataFrame(
        {"name": _label(buildings, lang), "households": _households(project, text)}
    )
    for col in ("units", "floors"):
        if col in buildings:
            props[col] = pd.to_numeric(buildings[col], errors="coerce").map(
                lambda v: "—" if pd.isna(v) else str(int(v))
            )
    props["_s"] = ""
    _add(m, buildings, props, layer="buildings", text=text, style=lambda s: _BUILDING_STYLE)
    return [(_swatch("background:#9aa0a6;border:1px solid #5f6368"), text["buildings"])]


def _add_sites(
    m: folium.Map, sites: gpd.GeoDataFrame, lang: str, text: Mapping[str, str]
) -> _Legend:
    types = sites["site_type"].astype(str)
    status = sites["status"].astype(str) if "status" in sites else pd.Series("", index=sites.index)
    colours = {t: _SITE_COLOURS.get(t) or _other_colour(t, types) for t in types}
    props = pd.DataFrame(
        {"name": _label(sites, lang), "site_type": types.map(lambda t: _term(t, text))}
    )
    if "status" in sites:
        props["status"] = status.map(lambda s: _term(s, text))
    props["_s"] = types + "|" + status

    def style(key: str) -> dict[str, Any]:
        kind, _, state = key.partition("|")
        c = colours[kind]
        out: dict[str, Any] = {"color": c, "fillColor": c, "weight": 2.5, "fillOpacity": 0.6}
        if state == "proposed":
            out.update(dashArray="6 4", fillOpacity=0.3)
        elif state == "rejected":
            out.update(dashArray="2 4", fillOpacity=0.1, opacity=0.6)
        return out

    _add(m, sites, props, layer="sites", text=text, style=style)
    rows = [
        (_swatch(f"background:{c}99;border:2px solid {c}"), text.get(kind, kind))
        for kind, c in colours.items()
    ]
    if (status == "proposed").any():
        rows.append((_swatch("border:2px dashed #546e7a"), text["proposed_note"]))
    return rows


def project_map(project: Project, *, lang: str = "zh", basemap: str = "none") -> folium.Map:
    """Draw a project's layers on a folium map that needs no internet.

    Parameters
    ----------
    project
        An opened project (layers in EPSG:4326).
    lang
        ``"zh"`` or ``"en"``: language of layer names, tooltips and legend.
    basemap
        ``"none"`` (a plain light background, works offline) or ``"osm"``
        (OpenStreetMap tiles, needs the internet).

    Returns
    -------
    folium.Map
        Fitted to the compound, with a layer control and a legend; its
        scripts point at ``/app/static/vendor`` (`gridgis.assets`).

    Raises
    ------
    GridGISError
        `lang` or `basemap` is not one of the choices.
    """
    if lang not in LANGS:
        raise GridGISError(f"lang must be one of {LANGS}, got {lang!r}")
    if basemap not in BASEMAPS:
        raise GridGISError(f"basemap must be one of {BASEMAPS}, got {basemap!r}")
    text = _TEXT[lang]
    layers = {k: v for k, v in project.layers.items() if isinstance(v, gpd.GeoDataFrame) and len(v)}
    extent = layers.get("compound", project.layers["buildings"])
    west, south, east, north = (round(float(v), PRECISION) for v in extent.total_bounds)

    m = folium.Map(
        location=[round((south + north) / 2, PRECISION), round((west + east) / 2, PRECISION)],
        zoom_start=18,
        tiles=None,
        max_zoom=22,
        zoom_snap=0.25,
        font_size="13px",
    )
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", max_zoom=22, max_native_zoom=19).add_to(m)
    legend: _Legend = []
    if "microgrids" in layers:
        legend += _add_grids(m, layers["microgrids"], lang, text)
    if "compound" in layers:
        compound = layers["compound"]
        props = pd.DataFrame({"name": _label(compound, lang), "_s": ""}, index=compound.index)
        _add(m, compound, props, layer="compound", text=text, style=lambda s: _COMPOUND_STYLE)
        legend.append((_swatch("border:3px solid #37474f"), text["compound"]))
    kinds = {"spaces": (_SPACE_STYLES, _OTHER_SPACE), "paths": (_PATH_STYLES, _OTHER_PATH)}
    for layer, (styles, fallback) in kinds.items():
        if layer in layers:
            legend += _add_kinds(m, layers[layer], layer, styles, fallback, lang, text)
    legend += _add_buildings(m, project, lang, text)
    if "sites" in layers:
        legend += _add_sites(m, layers["sites"], lang, text)

    folium.LayerControl(collapsed=False).add_to(m)
    # keep the compound clear of the layer control (top right) and the legend (bottom right)
    m.fit_bounds(
        [[south, west], [north, east]], padding_top_left=(16, 16), padding_bottom_right=(150, 16)
    )
    _MapExtras(_legend(legend, text["legend"])).add_to(m)
    return localize_assets(m, base_url=VENDOR_URL)
