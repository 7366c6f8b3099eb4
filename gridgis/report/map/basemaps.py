"""Basemaps of gridgis maps: the choices, their tile layers and the datum they are shown in.

``"none"`` (a plain background: works offline), OpenStreetMap, Gaode (高德,
vector or satellite, in GCJ-02) and Tianditu (天地图, needs a browser key).
The layer data never change datum: on Gaode tiles they are shifted to GCJ-02
for display only (`for_display`), and `from_display` brings a shape drawn
there back to WGS84.

Examples
--------
>>> display_datum("gaode"), display_datum("osm")
('gcj02', 'wgs84')
"""

from __future__ import annotations

import re
from typing import Any

import folium
import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from gridgis.core.crs import convert_gdf, convert_geometries
from gridgis.errors import GridGISError

__all__ = [
    "BASEMAPS",
    "GCJ02_BASEMAPS",
    "add_tiles",
    "check_basemap",
    "display_datum",
    "for_display",
    "from_display",
    "to_display",
]

BASEMAPS = ("none", "osm", "gaode", "gaode_satellite", "tianditu", "tianditu_satellite")
GCJ02_BASEMAPS = frozenset({"gaode", "gaode_satellite"})
_TIANDITU_KEY = re.compile(r"[A-Za-z0-9]{8,64}")


def check_basemap(basemap: str) -> str:
    """`basemap` if it is one of `BASEMAPS`, else a GridGISError naming it."""
    if basemap not in BASEMAPS:
        raise GridGISError(f"basemap must be one of {BASEMAPS}, got {basemap!r}")
    return basemap


def display_datum(basemap: str) -> str:
    """The datum the layers are shown in on `basemap`: ``gcj02`` on Gaode, else ``wgs84``."""
    return "gcj02" if basemap in GCJ02_BASEMAPS else "wgs84"


def from_display(geometry: BaseGeometry, basemap: str) -> BaseGeometry:
    """Bring a shape drawn on `basemap` back to WGS84 (from GCJ-02 on Gaode tiles)."""
    datum = display_datum(basemap)
    if datum == "wgs84":
        return geometry
    return convert_geometries(geometry, src=datum, dst="wgs84")


def to_display(geometry: BaseGeometry, basemap: str) -> BaseGeometry:
    """A WGS84 shape where `basemap` draws it (GCJ-02 on Gaode tiles): `from_display`'s inverse."""
    datum = display_datum(basemap)
    if datum == "wgs84":
        return geometry
    return convert_geometries(geometry, src="wgs84", dst=datum)


def for_display(frame: gpd.GeoDataFrame, basemap: str) -> gpd.GeoDataFrame:
    """`frame` (WGS84) in the datum of `basemap` (a GCJ-02 copy on Gaode tiles)."""
    datum = display_datum(basemap)
    return frame if datum == "wgs84" else convert_gdf(frame, src="wgs84", dst=datum)


def add_tiles(m: folium.Map, basemap: str, lang: str, tianditu_key: str | None) -> None:
    """Add the tile layers of `basemap` (none for ``"none"``) to `m`.

    Raises
    ------
    GridGISError
        A Tianditu basemap without a valid `tianditu_key` (8-64 letters or digits).
    """
    common: dict[str, Any] = {"max_zoom": 22, "max_native_zoom": 18, "overlay": False,
                              "control": False}  # fmt: skip
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
