"""Read layers from common GIS files, always into EPSG:4326.

Every reader returns layers in EPSG:4326 (lon/lat, WGS84, 2D) with all
attribute columns kept. Vector formats go through pyogrio (GDAL), CSV
through pandas; zipped shapefiles and their DBF encodings are
`gridgis.core.io.shapefile`.

Examples
--------
>>> from gridgis.core.io import read_layer
>>> buildings = read_layer("楼栋.zip", datum="gcj02")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path, PureWindowsPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from gridgis.core.crs import DATUMS, convert_gdf
from gridgis.core.io.shapefile import (
    checked_encoding,
    choose,
    decodes,
    extract_shapefile,
    shapefile_encoding,
    warn_caller,
    zip_shapefiles,
)
from gridgis.errors import CRSError, ReadError

__all__ = [
    "OGR_ERRORS",
    "SUPPORTED_EXTENSIONS",
    "is_lonlat",
    "list_layers",
    "read_gpkg_layers",
    "read_layer",
    "xy_sample",
]

log = logging.getLogger("gridgis.core.io")  # log records keep the public module's name

#: File extension -> format `read_layer` reads it as.
SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shapefile-zip",
    ".shp": "shapefile",
    ".kml": "kml",
    ".csv": "csv",
}
_LON_NAMES = ("lon", "lng", "longitude", "long", "经度", "x")
_LAT_NAMES = ("lat", "latitude", "纬度", "y")
#: The errors pyogrio raises for a file it cannot read or write.
OGR_ERRORS = (DataSourceError, DataLayerError, FieldError, GeometryError)
_CHENGDU_FIX = (
    "pass crs='EPSG:4544' (CLI: --crs) if they are CGCS2000 / 3-degree Gauss-Kruger CM 105E "
    "(Chengdu), or else the file's real CRS"
)


@contextlib.contextmanager
def _local_file(
    source: str | os.PathLike[str] | bytes, filename: str | None
) -> Iterator[tuple[Path, str]]:
    """Yield ``(path on disk, label for messages)``; bytes go through a temporary file."""
    if isinstance(source, bytes | bytearray | memoryview):
        name = PureWindowsPath(filename).name if filename else ""  # drops C:\fakepath\ too
        if not name:
            raise ReadError(
                f"an upload of {len(source)} bytes has no file name (filename={filename!r}); "
                "pass filename='<name>.<ext>' so the format is known"
            )
        with tempfile.TemporaryDirectory(prefix="gridgis-upload-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(bytes(source))
            yield path, name
        return
    path, label = Path(source), str(source)
    if not path.exists():
        raise ReadError(f"{label}: no such file; check the path (working directory: {os.getcwd()})")
    if not path.is_file():
        raise ReadError(f"{label}: is a folder, not a file; pass one layer file")
    yield path, label


def _kind(path: Path, label: str) -> str:
    kind = SUPPORTED_EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        raise ReadError(
            f"{label}: unknown file type {path.suffix!r}; supported: "
            f"{', '.join(SUPPORTED_EXTENSIONS)} (zip a shapefile with its .shx/.dbf/.prj/.cpg)"
        )
    if path.stat().st_size == 0:
        raise ReadError(f"{label}: the file is empty (0 bytes); export or upload it again")
    return kind


def _ogr_read(
    path: Path, label: str, *, layer: str | None = None, encoding: str | None = None
) -> gpd.GeoDataFrame | pd.DataFrame:
    try:
        return pyogrio.read_dataframe(
            path, layer=layer, encoding=encoding, force_2d=True, use_arrow=False
        )
    except OGR_ERRORS as exc:
        where = f"{label}: layer {layer}" if layer else label
        raise ReadError(
            f"{where}: cannot read it ({exc}); is the file complete and intact?"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{label}: text is not {encoding or 'UTF-8'!r} ({exc.reason} at byte {exc.start}); "
            "pass encoding='GBK' or 'UTF-8' (or add a .cpg file)"
        ) from exc


def _ogr_layers(path: Path, label: str) -> list[str]:
    try:
        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except OGR_ERRORS as exc:
        raise ReadError(f"{label}: cannot list the layers ({exc}); is the file complete?") from exc


def _pick_layer(path: Path, label: str, layer: str | None, kind: str) -> str:
    names = _ogr_layers(path, label)
    default = [n for n in names if n != "layer_styles"] or names  # skip QGIS's style table
    if layer is None and kind == "kml" and len(default) > 1:  # KML folders: skip empty ones
        try:
            default = [n for n in default if pyogrio.read_info(path, layer=n)["features"] != 0]
        except OGR_ERRORS as exc:
            raise ReadError(f"{label}: cannot read the KML folders ({exc})") from exc
    return choose(names, layer, label, "layer", default)


def _find_column(
    columns: list[str], wanted: str | None, names: tuple[str, ...], what: str, label: str
) -> str:
    if wanted is not None:
        if wanted in columns:
            return wanted
        raise ReadError(f"{label}: no column {wanted!r}; columns found: {columns!r}")
    lowered = {c.strip().lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    raise ReadError(
        f"{label}: no {what} column (looked for {', '.join(names)}); columns found: {columns!r}; "
        "name the coordinate columns lon/lat (or 经度/纬度), or pass lon_col=/lat_col="
    )


def _read_csv(
    path: Path, label: str, *, lon_col: str | None, lat_col: str | None, encoding: str | None
) -> gpd.GeoDataFrame:
    raw = path.read_bytes()
    if encoding is not None:
        codec = checked_encoding(encoding, label)
    else:  # Excel on Chinese Windows saves CSV as GBK
        codec = "utf-8-sig" if decodes([(raw, False)], "utf-8") else "gb18030"
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{label}: the text is not {codec!r} ({exc.reason} at byte {exc.start}); "
            "save the CSV as UTF-8, or pass encoding="
        ) from exc
    log.info("%s: CSV text read as %s", label, codec)
    try:
        df = pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReadError(
            f"{label}: not a readable CSV table ({exc}); check separators and quotes"
        ) from exc
    df.columns = columns = [str(c) for c in df.columns]
    lon = _find_column(columns, lon_col, _LON_NAMES, "longitude", label)
    lat = _find_column(columns, lat_col, _LAT_NAMES, "latitude", label)
    xy = {}
    for col in (lon, lat):
        xy[col] = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(xy[col]))
        if bad.size:
            cells = [df[col].iloc[i] for i in bad[:10]]
            shown = ", ".join(
                f"row {i + 1}: {'empty' if pd.isna(v) else repr(v)}"
                for i, v in zip(bad, cells, strict=False)
            )
            raise ReadError(
                f"{label}: field {col}: missing or non-numeric coordinates in {bad.size} row(s) "
                f"(1-based data rows): {shown}{' ...' if bad.size > 10 else ''}; "
                "fill in decimal degrees (e.g. 104.0657) or delete those rows"
            )
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy[lon], xy[lat]))


def _read_geojson(path: Path, label: str) -> tuple[gpd.GeoDataFrame | pd.DataFrame, bool]:
    """Read GeoJSON; also say whether it declares a CRS (a ``crs`` member)."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start}); GeoJSON must be UTF-8: "
            "save it again as UTF-8"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ReadError(
            f"{label}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; "
            "the file may be truncated: export or upload it again"
        ) from exc
    if not isinstance(doc, dict):
        raise ReadError(f"{label}: JSON but not GeoJSON (the top level is a {type(doc).__name__})")
    return _ogr_read(path, label), "crs" in doc or "spatialReference" in doc


def is_lonlat(gdf: gpd.GeoDataFrame) -> bool:
    """Whether every coordinate of `gdf` lies in the lon/lat range (True when it has none)."""
    minx, miny, maxx, maxy = gdf.total_bounds
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        return True  # no coordinates to judge by
    return bool(minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90)


def _some_lonlat(gdf: gpd.GeoDataFrame) -> bool:
    """True when at least one feature lies in the lon/lat range (or none has coordinates)."""
    bounds = shapely.bounds(gdf.geometry.to_numpy())
    known = np.isfinite(bounds).all(axis=1)
    if not known.any():
        return True
    b = bounds[known]
    inside = (b[:, 0] >= -180) & (b[:, 2] <= 180) & (b[:, 1] >= -90) & (b[:, 3] <= 90)
    return bool(inside.any())


def _looks_swapped(gdf: gpd.GeoDataFrame) -> bool:
    minx, miny, maxx, maxy = gdf.total_bounds
    return bool(minx >= -90 and maxx <= 90 and miny >= -180 and maxy <= 180)


def xy_sample(gdf: gpd.GeoDataFrame) -> str:
    """The first coordinate of `gdf` for a message, as ``x=..., y=...``."""
    coords = shapely.get_coordinates(gdf.geometry.to_numpy())
    x, y = coords[0] if len(coords) else (float("nan"), float("nan"))
    return f"x={float(x):.10g}, y={float(y):.10g}"


def _parse_crs(crs: str | int | None, label: str) -> pyproj.CRS | None:
    if crs is None:
        return None
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(
            f"{label}: crs={crs!r} is not a CRS pyproj knows ({exc}); pass e.g. crs='EPSG:4544' "
            "(CGCS2000 3-degree GK CM 105E) or crs='EPSG:4326'"
        ) from exc


def _to_wgs84(
    gdf: gpd.GeoDataFrame, *, given: pyproj.CRS | None, label: str, layer: str, warn: bool
) -> gpd.GeoDataFrame:
    """Give `gdf` a CRS (its own, else `given`, else lon/lat if plausible); reproject to 4326."""
    if gdf.crs is not None:
        if given is not None and not gdf.crs.equals(given, ignore_axis_order=True):
            warn_caller(
                f"{label}: crs={given.to_string()!r} ignored: the file declares its own CRS "
                f"{gdf.crs.to_string()!r}"
            )
        if gdf.crs.is_geographic and not is_lonlat(gdf):
            raise CRSError(
                f"{label}: layer {layer} declares the geographic CRS {gdf.crs.to_string()!r} but "
                f"its coordinates ({xy_sample(gdf)} sample) are not longitude/latitude; correct or "
                f"delete the file's CRS (.prj / crs member) and {_CHENGDU_FIX}"
            )
    elif given is not None:
        gdf = gdf.set_crs(given)
    elif _some_lonlat(gdf):
        # features outside the range are left for layers.validate to name one by one
        if warn and gdf.geometry.notna().any():
            warn_caller(
                f"{label}: layer {layer} has no CRS; its coordinates look like longitude/latitude, "
                "so EPSG:4326 (WGS84) is assumed; pass crs= (CLI: --crs) if that is wrong"
            )
        gdf = gdf.set_crs(4326)
    elif _looks_swapped(gdf):
        raise CRSError(
            f"{label}: layer {layer}: coordinates ({xy_sample(gdf)} sample) look like latitude/"
            "longitude swapped (latitude cannot exceed 90); write them as lon, lat"
        )
    else:
        raise CRSError(
            f"{label}: layer {layer} has no CRS (e.g. a shapefile without .prj) and its "
            f"coordinates ({xy_sample(gdf)} sample) are not longitude/latitude; {_CHENGDU_FIX}"
        )
    if gdf.crs.equals("EPSG:4326"):
        return gdf
    try:
        return gdf.to_crs(4326)
    except pyproj.exceptions.ProjError as exc:
        raise CRSError(
            f"{label}: layer {layer}: cannot reproject {gdf.crs.to_string()!r} to EPSG:4326 "
            f"({exc}); check the file's CRS"
        ) from exc


def _normalise_datum(datum: str) -> str:
    key = (
        datum.strip().lower().replace("-", "").replace("_", "") if isinstance(datum, str) else None
    )
    if key not in DATUMS:
        raise CRSError(f"datum={datum!r} is not a known datum; use one of {', '.join(DATUMS)}")
    return key


def read_layer(
    source: str | os.PathLike[str] | bytes,
    *,
    layer: str | None = None,
    filename: str | None = None,
    datum: str = "wgs84",
    crs: str | int | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one layer of a GIS file as a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    source
        A path, or the bytes of an upload (then `filename` is required).
        By extension: ``.geojson``/``.json``, ``.gpkg``, ``.zip`` (zipped
        shapefile), ``.shp``, ``.kml``, ``.csv`` (a point per row).
    layer
        The GeoPackage layer, KML folder or shapefile inside a zip; default:
        the only one (error listing them if several). Ignored by one-layer formats.
    filename
        The upload's name when `source` is bytes.
    datum
        ``"wgs84"``, ``"gcj02"`` (Gaode/Tencent) or ``"bd09"`` (Baidu): the
        datum the lon/lat were digitised in; converted to WGS84.
    crs
        The CRS of a file that declares none (shapefile without ``.prj``,
        CSV, GeoJSON without ``crs`` member), e.g. ``"EPSG:4544"``. It only
        applies then: a file's own CRS wins (with a warning if they differ).
    lon_col, lat_col
        CSV coordinate columns; default: detected (lon/lng/longitude/x/经度,
        lat/latitude/y/纬度, any case).
    encoding
        Text encoding of a shapefile's DBF or a CSV; default: the ``.cpg``,
        else UTF-8 if all the text decodes as UTF-8, else GBK (GB18030).

    Returns
    -------
    GeoDataFrame
        EPSG:4326, 2D, all attribute columns kept; empty if the layer has no
        features. An attribute-only table gets an all-null geometry column.

    Raises
    ------
    ReadError
        Missing, empty, corrupt or unsupported file; ambiguous layer; bad CSV rows.
    CRSError
        No CRS and coordinates that are not lon/lat; unknown `crs` or `datum`.
    """
    datum_key = _normalise_datum(datum)
    with contextlib.ExitStack() as stack:
        path, label = stack.enter_context(_local_file(source, filename))
        kind = _kind(path, label)
        given = _parse_crs(crs, label)
        layer_name = layer or path.stem
        if kind == "geojson":
            frame, declared = _read_geojson(path, label)
            if not declared and isinstance(frame, gpd.GeoDataFrame):
                frame = frame.set_crs(None, allow_override=True)  # GDAL says 4326 regardless
        elif kind in ("gpkg", "kml"):
            layer_name = _pick_layer(path, label, layer, kind)
            frame = _ogr_read(path, label, layer=layer_name)
        elif kind == "csv":
            frame = _read_csv(path, label, lon_col=lon_col, lat_col=lat_col, encoding=encoding)
        else:
            if kind == "shapefile-zip":
                tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gridgis-shp-")))
                path = extract_shapefile(path, label, layer, tmp)
                layer_name = path.stem
            frame = _ogr_read(path, label, encoding=shapefile_encoding(path, label, encoding))
        if not isinstance(frame, gpd.GeoDataFrame):  # an attribute-only table
            nulls = gpd.GeoSeries([None] * len(frame), index=frame.index, crs=4326)
            return gpd.GeoDataFrame(frame, geometry=nulls)
        # GeoJSON and CSV are lon/lat by convention: no warning when they declare no CRS
        gdf = _to_wgs84(
            frame, given=given, label=label, layer=layer_name, warn=kind not in ("geojson", "csv")
        )
    if datum_key != "wgs84" and len(gdf):
        gdf = convert_gdf(gdf, src=datum_key, dst="wgs84")
    log.info("%s: read %d features of layer %s (datum %s)", label, len(gdf), layer_name, datum_key)
    return gdf


def list_layers(
    source: str | os.PathLike[str] | bytes, *, filename: str | None = None
) -> list[str]:
    """Name the layers `read_layer` can read from `source`.

    GeoPackage and KML: their layers (attribute tables and empty KML folders
    included); a zip: its shapefiles; any other format: the file stem.
    """
    with _local_file(source, filename) as (path, label):
        kind = _kind(path, label)
        if kind in ("gpkg", "kml"):
            return _ogr_layers(path, label)
        if kind == "shapefile-zip":
            zf, groups = zip_shapefiles(path, label)
            zf.close()
            return list(groups)
        return [path.stem]


def read_gpkg_layers(path: str | os.PathLike[str]) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """Read every layer of a GeoPackage.

    Returns
    -------
    dict
        Layer name -> GeoDataFrame in EPSG:4326 for a spatial layer, or a
        plain pandas DataFrame (no geometry column) for an attribute-only
        table such as ``votes``.
    """
    with _local_file(path, None) as (local, label):
        if _kind(local, label) != "gpkg":
            raise ReadError(f"{label}: not a GeoPackage (.gpkg) file")
        out: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {}
        for name in _ogr_layers(local, label):
            frame = _ogr_read(local, label, layer=name)
            if isinstance(frame, gpd.GeoDataFrame):
                frame = _to_wgs84(frame, given=None, label=label, layer=name, warn=True)
            out[name] = frame
    return out
