"""Layers of a gridgis map: display geometries, escaped texts, labels, one toggleable group.

The building blocks `gridgis.report.map.view` and `gridgis.report.map.sites`
put together: `add_layer` adds one layer (GeoJSON with tooltips, or a
`CompactLayer` on a canvas when the map is large), `label_rows` places text
labels clear of other features, `esc` and `feature_names` give the texts as
escaped HTML. Coordinates are rounded to `PRECISION` decimals (about 1 cm), or
to 10 cm and simplified by about 20 cm on a map of more than `LARGE_LAYER`
features.

Examples
--------
>>> esc("<b>{{ 7*7 }}</b>")
'&lt;b&gt;&#123;&#123; 7*7 &#125;&#125;&lt;/b&gt;'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from shapely.geometry import mapping

from gridgis.report.i18n import t, t_or
from gridgis.report.map.compact import CompactLayer
from gridgis.report.map.elements import Labels
from gridgis.report.map.style import HATCH_COLOURS, TOOLTIP_CSS, escape_html

__all__ = [
    "HIGHLIGHT",
    "LABEL_CLEARANCE_DEG",
    "LARGE_ATTR",
    "LARGE_LAYER",
    "LARGE_PRECISION",
    "PRECISION",
    "add_layer",
    "aliases",
    "display_geoms",
    "esc",
    "feature_names",
    "label_rows",
    "simplified",
    "term",
]

PRECISION = 7  # decimals of lon/lat in the embedded GeoJSON (about 1 cm)
LARGE_LAYER = 2000  # above this many features a layer is simplified and not labelled
LARGE_PRECISION = 6  # about 10 cm: plenty for display
LARGE_ATTR = "gridgis_large_map"  # set on the display copies of a large map's layers
LABEL_CLEARANCE_DEG = 7e-5  # about 7 m: micro-grid labels keep this clear of buildings
HIGHLIGHT = {"weight": 3, "fillOpacity": 0.9}  # a feature under the mouse
_SIMPLIFY_DEG = 2e-6  # about 20 cm
_SIMPLE_SHAPE = 10  # points: shapes with no more are not simplified (nothing to gain)
_MAX_LABELS = 400
_TOOLTIP_FIELDS = ("name", "leader", "households", "kind", "site_type", "status", "units",
                   "floors", "site_id", "area", "cost", "served")  # fmt: skip


def esc(value: Any) -> str:
    """HTML-escaped text of a cell; a dash for missing values.

    Braces become character references too: folium renders some of its
    output once more as a Jinja template, where ``{{ ... }}`` would run.
    """
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return "—"
    return escape_html(value)


def feature_names(frame: gpd.GeoDataFrame, lang: str, *, escape: bool = True) -> pd.Series:
    """Each feature's name in `lang` (``name_en`` when English and present), escaped."""
    name = frame["name"] if "name" in frame else pd.Series(None, index=frame.index, dtype=object)
    name = name.where(name.astype(str).str.strip() != "")
    if lang == "en" and "name_en" in frame:
        english = frame["name_en"].where(frame["name_en"].astype(str).str.strip() != "")
        name = english.fillna(name)
    if not escape:
        return name.map(lambda v: "—" if v is None or pd.isna(v) else str(v))
    return name.map(esc)


def term(key: Any, lang: str) -> str:
    """The map's word for a kind or status (``map.<key>``), escaped; the key itself if none."""
    return esc(t_or(f"map.{key}", lang, str(key)))


def aliases(lang: str) -> dict[str, str]:
    """Tooltip row titles by field, in `lang`."""
    return {k: t(f"map.{k}", lang) for k in _TOOLTIP_FIELDS}


def simplified(geoms: np.ndarray) -> np.ndarray:
    """Shapes of many points simplified by about 20 cm; the rest (most buildings) as they are."""
    out = geoms.copy()
    many = shapely.get_num_coordinates(geoms) > _SIMPLE_SHAPE
    out[many] = shapely.simplify(geoms[many], _SIMPLIFY_DEG, preserve_topology=True)
    return out


def display_geoms(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Display geometries, rounded; simplified when the layer is large."""
    geoms = frame.geometry.to_numpy()
    if len(frame) > LARGE_LAYER or frame.attrs.get(LARGE_ATTR):
        geoms = simplified(geoms)
        precision = LARGE_PRECISION
    else:
        precision = PRECISION
    return shapely.transform(geoms, lambda c: np.round(c, precision))


def _collection(frame: gpd.GeoDataFrame, props: pd.DataFrame, prefix: str) -> dict[str, Any]:
    """A FeatureCollection of `props` rows with display geometries."""
    rows = props.to_dict("records")
    features = [
        {"type": "Feature", "id": f"{prefix}{i}", "properties": row, "geometry": mapping(geom)}
        for i, (geom, row) in enumerate(zip(display_geoms(frame), rows, strict=True))
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
    blocked = shapely.union_all(shapely.buffer(avoid.geometry.to_numpy(), LABEL_CLEARANCE_DEG))
    out: list[Any] = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            out.append(None)
            continue
        room = geom.buffer(-LABEL_CLEARANCE_DEG).difference(blocked)
        if room.is_empty:
            out.append(geom.point_on_surface())
            continue
        out.append(shapely.ops.nearest_points(room, geom.centroid)[0])
    return np.array(out, dtype=object)


def label_rows(
    frame: gpd.GeoDataFrame, texts: Iterable[str], css: str, avoid: gpd.GeoDataFrame | None = None
) -> list[list[Any]]:
    """``[lat, lon, html, class]`` at each feature's representative point (none if too many)."""
    if len(frame) > _MAX_LABELS:
        return []
    points = _open_points(frame, avoid)
    out: list[list[Any]] = []
    for point, text in zip(points, texts, strict=True):
        if point is None or point.is_empty or not text:
            continue
        out.append([round(point.y, PRECISION), round(point.x, PRECISION), text, css])
    return out


def add_layer(
    parent: folium.Map | folium.FeatureGroup,
    frame: gpd.GeoDataFrame,
    props: pd.DataFrame,
    *,
    name: str,
    prefix: str,
    titles: Mapping[str, str],
    style: Callable[[str], dict[str, Any]],
    labels: list[list[Any]] | None = None,
    control: bool = True,
) -> None:
    """Add one layer (a toggleable group: GeoJSON with tooltips, plus labels).

    ``props`` holds escaped tooltip texts and a style key ``_s``; `titles`
    names its columns in the tooltips. The layers of a large map are sent
    compactly (`gridgis.report.map.compact`).
    """
    fields = [c for c in props.columns if c != "_s"]
    group = folium.FeatureGroup(name=name, control=control)
    if frame.attrs.get(LARGE_ATTR):
        geoms = simplified(frame.geometry.to_numpy())  # CompactLayer rounds them
        shown = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if not shown.any():
            return
        CompactLayer(
            geoms[shown],
            tooltip={esc(titles[c]): props[c].to_numpy()[shown] for c in fields},
            style_keys=props["_s"].to_numpy()[shown],
            style=style,
            highlight=HIGHLIGHT,
            precision=LARGE_PRECISION,
            hatch=HATCH_COLOURS,
        ).add_to(group)
    else:
        data = _collection(frame, props, prefix=prefix)
        if not data["features"]:
            return
        folium.GeoJson(
            data,
            control=False,
            style_function=lambda f: style(f["properties"]["_s"]),
            highlight_function=lambda f: HIGHLIGHT,
            tooltip=folium.GeoJsonTooltip(
                fields=fields, aliases=[esc(titles[c]) for c in fields], style=TOOLTIP_CSS
            ),
        ).add_to(group)
    if labels:
        Labels(labels).add_to(group)
    group.add_to(parent)
