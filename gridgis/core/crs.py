"""Coordinate systems: Chinese map datums (GCJ-02, BD-09) and local metric CRSs.

Data is stored in WGS84 lon/lat (EPSG:4326). Data drawn on Gaode/Tencent tiles
is in GCJ-02 and data from Baidu in BD-09; `convert_coords`, `convert_geometries`
and `convert_gdf` move between the three. Lengths and areas are computed in the
CRS that `local_metric_crs` picks (CGCS2000 3-degree Gauss-Kruger zone in China,
UTM elsewhere).

Every conversion is the identity outside China's rough bounding box
(`out_of_china`). The inverse transforms iterate until the forward transform of
the result reproduces the input to 1e-9 degrees (about 0.1 mm).

Scalar inputs give ``float`` results; anything else gives ``numpy`` float arrays
of the broadcast shape of ``lon`` and ``lat``.

Examples
--------
>>> lon, lat = wgs84_to_gcj02(104.0657, 30.6595)
>>> round(lon, 6), round(lat, 6)
(104.068207, 30.657079)
>>> back = gcj02_to_wgs84(lon, lat)
>>> round(back[0], 7), round(back[1], 7)
(104.0657, 30.6595)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from gridgis.errors import CRSError

__all__ = [
    "DATUMS",
    "WGS84",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "convert_coords",
    "convert_gdf",
    "convert_geometries",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "local_metric_crs",
    "out_of_china",
    "require_metric",
    "to_metric",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

DATUMS = ("wgs84", "gcj02", "bd09")
WGS84 = pyproj.CRS.from_epsg(4326)
"""EPSG:4326, made once: building a CRS costs about 1 ms each time."""

# Names after lower-casing and dropping "-", "_" and spaces.
_ALIASES = {
    "wgs84": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "gcj02": "gcj02",
    "bd09": "bd09",
}

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
# Baidu's constant: pi * 3000 / 180.
_X_PI = math.pi * 3000.0 / 180.0
# Inverses stop when the forward transform reproduces the input this closely.
_TOL_DEG = 1e-9
_MAX_ITER = 30

Coords = tuple[Any, Any]
"""``(lon, lat)``: two floats, or two float arrays."""

_Arr = NDArray[np.float64]
_Raw = Callable[[_Arr, _Arr], tuple[_Arr, _Arr]]


def _prepare(lon: ArrayLike, lat: ArrayLike) -> tuple[_Arr, _Arr]:
    try:
        x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    except (TypeError, ValueError) as exc:
        msg = f"lon and lat must be numbers or arrays of one shape, got lon={lon!r}, lat={lat!r}"
        raise CRSError(msg) from exc
    return x.astype(float, copy=True), y.astype(float, copy=True)


def _finish(lon: ArrayLike, lat: ArrayLike, x: _Arr, y: _Arr) -> Coords:
    if np.ndim(lon) == 0 and np.ndim(lat) == 0:
        return float(x), float(y)
    return x, y


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return True where a point lies outside China's rough bounding box.

    The box (lon 72.004..137.8347, lat 0.8293..55.8271) is the one every GCJ-02
    implementation uses; NaN counts as outside.

    Examples
    --------
    >>> out_of_china([104.06, -0.13], [30.67, 51.51]).tolist()
    [False, True]
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    inside = (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)
    return np.logical_not(inside)


def _gcj_offset(x: _Arr, y: _Arr) -> tuple[_Arr, _Arr]:
    """GCJ-02 offset ``(dlon, dlat)`` in degrees at WGS84 ``(x, y)``, unmasked."""
    u = x - 105.0
    v = y - 35.0
    common = (20.0 * np.sin(6.0 * u * np.pi) + 20.0 * np.sin(2.0 * u * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * np.sqrt(np.abs(u))
    dlat += common
    dlat += (20.0 * np.sin(v * np.pi) + 40.0 * np.sin(v / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(v / 12.0 * np.pi) + 320.0 * np.sin(v * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * np.sqrt(np.abs(u))
    dlon += common
    dlon += (20.0 * np.sin(u * np.pi) + 40.0 * np.sin(u / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(u / 12.0 * np.pi) + 300.0 * np.sin(u / 30.0 * np.pi)) * 2.0 / 3.0
    rad = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _bd_forward(x: _Arr, y: _Arr) -> tuple[_Arr, _Arr]:
    """GCJ-02 -> BD-09, unmasked."""
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _solve(forward: _Raw, x: _Arr, y: _Arr, px: _Arr, py: _Arr) -> tuple[_Arr, _Arr]:
    """Find ``p`` with ``forward(p) == (x, y)`` by fixed-point iteration from ``(px, py)``."""
    for _ in range(_MAX_ITER):
        fx, fy = forward(px, py)
        ex, ey = fx - x, fy - y
        if max(np.abs(ex).max(initial=0.0), np.abs(ey).max(initial=0.0)) < _TOL_DEG:
            break
        px, py = px - ex, py - ey
    return px, py


def _gcj_forward(x: _Arr, y: _Arr) -> tuple[_Arr, _Arr]:
    dlon, dlat = _gcj_offset(x, y)
    return x + dlon, y + dlat


def _gcj_inverse(x: _Arr, y: _Arr) -> tuple[_Arr, _Arr]:
    dlon, dlat = _gcj_offset(x, y)
    return _solve(_gcj_forward, x, y, x - dlon, y - dlat)


def _bd_inverse(x: _Arr, y: _Arr) -> tuple[_Arr, _Arr]:
    """BD-09 -> GCJ-02: the usual closed form (a few cm off), then iterated."""
    u, v = x - 0.0065, y - 0.006
    z = np.hypot(u, v) - 0.00002 * np.sin(v * _X_PI)
    theta = np.arctan2(v, u) - 0.000003 * np.cos(u * _X_PI)
    return _solve(_bd_forward, x, y, z * np.cos(theta), z * np.sin(theta))


def _wgs_to_bd(x: _Arr, y: _Arr) -> tuple[_Arr, _Arr]:
    return _bd_forward(*_gcj_forward(x, y))


def _bd_to_wgs(x: _Arr, y: _Arr) -> tuple[_Arr, _Arr]:
    return _gcj_inverse(*_bd_inverse(x, y))


_DOC = """Convert lon/lat from {src} to {dst} ({how}).

    Parameters
    ----------
    lon, lat
        Longitudes and latitudes in degrees: scalars or array-likes of one shape.

    Returns
    -------
    tuple
        ``(lon, lat)``: floats for scalar input, else new float arrays. Points
        outside China (`out_of_china`) are returned unchanged.
    """


def _apply(raw: _Raw, x: _Arr, y: _Arr) -> tuple[_Arr, _Arr]:
    """Apply `raw` in place to the points of writable ``x, y`` inside China."""
    inside = ~out_of_china(x, y)
    if inside.any():
        x[inside], y[inside] = raw(x[inside], y[inside])
    return x, y


def _public(name: str, raw: _Raw, src: str, dst: str, how: str) -> Callable[..., Coords]:
    """Wrap an unmasked array transform: identity outside China, scalars in -> floats out."""

    def convert(lon: ArrayLike, lat: ArrayLike) -> Coords:
        return _finish(lon, lat, *_apply(raw, *_prepare(lon, lat)))

    convert.__name__ = convert.__qualname__ = name
    convert.__doc__ = _DOC.format(src=src, dst=dst, how=how)
    return convert


wgs84_to_gcj02 = _public("wgs84_to_gcj02", _gcj_forward, "WGS84", "GCJ-02", "published formula")
gcj02_to_wgs84 = _public("gcj02_to_wgs84", _gcj_inverse, "GCJ-02", "WGS84", "iterated")
gcj02_to_bd09 = _public("gcj02_to_bd09", _bd_forward, "GCJ-02", "BD-09", "Baidu's formula")
bd09_to_gcj02 = _public("bd09_to_gcj02", _bd_inverse, "BD-09", "GCJ-02", "closed form, iterated")
wgs84_to_bd09 = _public("wgs84_to_bd09", _wgs_to_bd, "WGS84", "BD-09", "via GCJ-02")
bd09_to_wgs84 = _public("bd09_to_wgs84", _bd_to_wgs, "BD-09", "WGS84", "via GCJ-02, iterated")

_RAW: dict[tuple[str, str], _Raw] = {
    ("wgs84", "gcj02"): _gcj_forward,
    ("gcj02", "wgs84"): _gcj_inverse,
    ("gcj02", "bd09"): _bd_forward,
    ("bd09", "gcj02"): _bd_inverse,
    ("wgs84", "bd09"): _wgs_to_bd,
    ("bd09", "wgs84"): _bd_to_wgs,
}


def _datum(value: object, name: str) -> str:
    key = None
    if isinstance(value, str):
        key = value.lower().replace("-", "").replace("_", "").replace(" ", "")
    if key not in _ALIASES:
        msg = f"{name}={value!r} is not a known datum; use one of {', '.join(DATUMS)}"
        raise CRSError(msg)
    return _ALIASES[key]


def convert_coords(lon: ArrayLike, lat: ArrayLike, *, src: str, dst: str) -> Coords:
    """Convert lon/lat between any two of `DATUMS`.

    Parameters
    ----------
    lon, lat
        Degrees: scalars or array-likes of one shape.
    src, dst
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` (case-insensitive; ``"WGS-84"``,
        ``"GCJ-02"``, ``"BD-09"`` and ``"EPSG:4326"`` are accepted too).

    Returns
    -------
    tuple
        ``(lon, lat)``: floats for scalar input, else new float arrays.

    Examples
    --------
    >>> lon, lat = convert_coords(104.0657, 30.6595, src="WGS84", dst="bd-09")
    >>> round(lon, 4), round(lat, 4)
    (104.0747, 30.6631)
    """
    a, b = _datum(src, "src"), _datum(dst, "dst")
    x, y = _prepare(lon, lat)
    if a != b:
        _apply(_RAW[a, b], x, y)
    return _finish(lon, lat, x, y)


def _geoms_converter(a: str, b: str) -> Callable[..., tuple]:
    raw = _RAW[a, b]

    def func(x: _Arr, y: _Arr, z: _Arr) -> tuple[_Arr, _Arr, _Arr]:
        return (*_apply(raw, x.astype(float, copy=True), y.astype(float, copy=True)), z)

    return func


def _is_wgs84_lonlat(crs: Any) -> bool:
    return pyproj.CRS(crs).equals("EPSG:4326", ignore_axis_order=True)


def _check_lonlat_crs(crs: pyproj.CRS | None, bounds: _Arr, what: str) -> None:
    if crs is None:
        if np.all(np.isfinite(bounds)) and (
            np.abs(bounds[[0, 2]]).max() > 180 or np.abs(bounds[[1, 3]]).max() > 90
        ):
            msg = f"{what} has no CRS and bounds {bounds.tolist()!r} are not lon/lat; set its CRS"
            raise CRSError(msg)
        return
    if not _is_wgs84_lonlat(crs):
        msg = f"{what} has crs={crs.to_string()!r}; reproject it to EPSG:4326 first (.to_crs(4326))"
        raise CRSError(msg)


def convert_geometries(geoms: Any, *, src: str, dst: str) -> Any:
    """Convert the coordinates of shapely geometries between two `DATUMS`.

    Parameters
    ----------
    geoms
        A GeoSeries (CRS EPSG:4326 or None), a shapely geometry, or an
        array/list of them, in lon/lat of datum `src`.
    src, dst
        Datums as in `convert_coords`.

    Returns
    -------
    Same kind as `geoms`
        New geometries of the same types and structure; z values are kept.
        A GeoSeries keeps its index, name and CRS.
    """
    a, b = _datum(src, "src"), _datum(dst, "dst")
    if isinstance(geoms, gpd.GeoSeries):
        _check_lonlat_crs(geoms.crs, np.asarray(geoms.total_bounds), "geoms")
        if a == b:
            return geoms.copy()
        values = shapely.transform(
            np.asarray(geoms.values), _geoms_converter(a, b), include_z=True, interleaved=False
        )
        return gpd.GeoSeries(values, index=geoms.index, name=geoms.name, crs=geoms.crs)
    if a == b:
        return shapely.transform(geoms, lambda c: c, include_z=True)
    return shapely.transform(geoms, _geoms_converter(a, b), include_z=True, interleaved=False)


def convert_gdf(gdf: gpd.GeoDataFrame, *, src: str, dst: str) -> gpd.GeoDataFrame:
    """Return a copy of `gdf` with its geometry converted from datum `src` to `dst`.

    Parameters
    ----------
    gdf
        In EPSG:4326 (lon/lat) or with no CRS (taken as lon/lat).
    src, dst
        Datums as in `convert_coords`.

    Returns
    -------
    GeoDataFrame
        A copy with the same columns, index and CRS; the input is not modified.
    """
    a, b = _datum(src, "src"), _datum(dst, "dst")
    _check_lonlat_crs(gdf.crs, np.asarray(gdf.total_bounds), "gdf")
    out = gdf.copy()
    if a != b:
        col = out.geometry.name
        out[col] = convert_geometries(out.geometry, src=a, dst=b)
    return out


def _center_lonlat(obj: Any) -> tuple[float, float]:
    if isinstance(obj, gpd.GeoDataFrame | gpd.GeoSeries):
        geoms = obj.geometry
        if len(geoms) == 0 or bool((geoms.isna() | geoms.is_empty).all()):
            msg = f"obj has no geometries (len={len(geoms)!r}); cannot choose a metric CRS"
            raise CRSError(msg)
        bounds = np.asarray(geoms.total_bounds, dtype=float)
        if geoms.crs is None:
            _check_lonlat_crs(None, bounds, "obj")
        elif not _is_wgs84_lonlat(geoms.crs):
            tr = pyproj.Transformer.from_crs(geoms.crs, 4326, always_xy=True)
            bounds = np.asarray(tr.transform_bounds(*bounds), dtype=float)
        lon, lat = (bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0
    else:
        try:
            lon, lat = (float(v) for v in obj)
        except (TypeError, ValueError) as exc:
            msg = f"obj={obj!r} is neither a GeoDataFrame/GeoSeries nor a (lon, lat) pair"
            raise CRSError(msg) from exc
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"obj centre (lon, lat)={(lon, lat)!r} is not a valid lon/lat"
        raise CRSError(msg)
    return lon, lat


def local_metric_crs(obj: Any) -> pyproj.CRS:
    """Choose the metric CRS for data around a place.

    Parameters
    ----------
    obj
        A GeoDataFrame or GeoSeries in any CRS (no CRS: lon/lat), or a
        ``(lon, lat)`` pair; the centre of its bounds decides.

    Returns
    -------
    pyproj.CRS
        In China the CGCS2000 3-degree Gauss-Kruger zone (central meridian
        ``3 * round(lon / 3)``, EPSG:4534-4554; Chengdu: EPSG:4544), elsewhere
        the WGS84 UTM zone.

    Examples
    --------
    >>> local_metric_crs((104.06, 30.67)).to_epsg()
    4544
    """
    lon, lat = _center_lonlat(obj)
    if not bool(out_of_china(lon, lat)):
        cm = min(max(3 * math.floor(lon / 3.0 + 0.5), 75), 135)
        return pyproj.CRS.from_epsg(4534 + (cm - 75) // 3)
    infos = query_utm_crs_info(
        datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
    )
    if not infos:
        msg = f"no UTM zone covers (lon, lat)={(lon, lat)!r}; choose a metric CRS yourself"
        raise CRSError(msg)
    best = [i for i in infos if i.area_of_use and i.area_of_use.west <= lon < i.area_of_use.east]
    info = (best or infos)[0]
    return pyproj.CRS.from_authority(info.auth_name, info.code)


def to_metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return `gdf` reprojected to `local_metric_crs` (no CRS is taken as EPSG:4326)."""
    crs = local_metric_crs(gdf)
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    return gdf.to_crs(crs)


def require_metric(layers: Mapping[str, Any]) -> None:
    """Raise `CRSError` if a layer is in degrees or the layers disagree on the CRS.

    Parameters
    ----------
    layers
        Name -> anything with a ``crs`` attribute: a GeoDataFrame, a GeoSeries,
        a geopandas ``GeometryArray`` (``gdf.geometry.array``: much cheaper to
        ask than a GeoDataFrame, whose ``crs`` builds its geometry column) or a
        `gridgis.analysis.network.PathNetwork`. None, or no CRS, is skipped.
    """
    seen: list[tuple[str, pyproj.CRS]] = []
    for name, layer in layers.items():
        crs = getattr(layer, "crs", None)
        if layer is None or crs is None:
            continue
        if crs.is_geographic:
            raise CRSError(
                f"layer {name!r} is in {crs.to_string()!r} (degrees); distances and areas need "
                "metres: reproject it with gridgis.core.crs.to_metric first"
            )
        seen.append((name, crs))
    for name, crs in seen[1:]:
        first, first_crs = seen[0]
        if crs is not first_crs and crs != first_crs:  # layers usually share one CRS object
            raise CRSError(
                f"layers {first!r} and {name!r} are in different CRSs "
                f"({first_crs.to_string()!r} and {crs.to_string()!r}); "
                "reproject both with the same gridgis.core.crs.to_metric call"
            )
