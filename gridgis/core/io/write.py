"""Write layers: RFC 7946 GeoJSON and GeoPackages, always atomically.

Every writer stores EPSG:4326 and is atomic (`gridgis.core.io.atomic`:
written beside the target, then moved into place).

Examples
--------
>>> from gridgis.core.io import write_geojson
>>> write_geojson(buildings, "buildings.geojson")  # doctest: +SKIP
"""

from __future__ import annotations

import io
import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gridgis.core.io.atomic import atomic_path
from gridgis.core.io.read import OGR_ERRORS, is_lonlat, xy_sample
from gridgis.core.io.shapefile import warn_caller
from gridgis.errors import CRSError, ProjectError

__all__ = [
    "as_geojson_stores",
    "to_geojson",
    "update_gpkg",
    "write_geojson",
    "write_gpkg",
]

log = logging.getLogger("gridgis.core.io")  # log records keep the public module's name

_RFC7946 = {"RFC7946": "YES", "COORDINATE_PRECISION": "7", "WRITE_NAME": "NO"}


def _for_writing(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Ready `frame` for pyogrio: a named index as columns, geometry in EPSG:4326.

    A plain DataFrame, or a GeoDataFrame without active geometry, comes back a DataFrame.
    """
    if any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    if not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name not in frame:
        return pd.DataFrame(frame)
    if frame.crs is None:
        if not is_lonlat(frame):
            raise CRSError(
                f"{what}: has no CRS and its coordinates ({xy_sample(frame)} sample) are not "
                "lon/lat; set its CRS (gdf.set_crs(...)) so it can be reprojected to EPSG:4326"
            )
        if frame.geometry.notna().any():
            warn_caller(f"{what}: no CRS set; assuming EPSG:4326 (lon/lat)")
        return frame.set_crs(4326)
    return frame if frame.crs.equals("EPSG:4326") else frame.to_crs(4326)


def _ogr_write(
    frame: pd.DataFrame, target: str | os.PathLike[str] | io.BytesIO, what: str, **kwargs: object
) -> None:
    try:
        pyogrio.write_dataframe(frame, target, **kwargs)
    except OGR_ERRORS as exc:
        raise ProjectError(f"{what}: could not be written ({exc})") from exc


def to_geojson(gdf: gpd.GeoDataFrame | pd.DataFrame) -> str:
    """Serialise a layer as RFC 7946 GeoJSON text.

    EPSG:4326 lon/lat (reprojected if needed), no ``crs`` member,
    counter-clockwise exterior rings and clockwise holes, 7 decimals, UTF-8
    text (not ``\\u`` escapes). Rows without geometry, or a table without a
    geometry column, become ``"geometry": null`` features. A named index is
    written as columns, an unnamed one is dropped.
    """
    frame = _for_writing(gdf, "GeoJSON output")
    if not isinstance(frame, gpd.GeoDataFrame):  # else pyogrio warns "No SRS set on layer"
        frame = gpd.GeoDataFrame(
            frame, geometry=gpd.GeoSeries([None] * len(frame), index=frame.index, crs=4326)
        )
    buffer = io.BytesIO()
    _ogr_write(
        frame, buffer, "GeoJSON output", driver="GeoJSON", layer="layer", layer_options=_RFC7946
    )
    return buffer.getvalue().decode("utf-8")


def as_geojson_stores(geometry: shapely.Geometry) -> shapely.Geometry:
    """`geometry` (EPSG:4326) exactly as `write_geojson` stores it and `read_layer` reads it.

    Coordinates at 7 decimals (formatted and parsed as GDAL does), rings
    oriented as RFC 7946 asks. Lets a caller that just saved a geometry use
    the stored form without reading the file back.
    """

    def seven(coords: np.ndarray) -> np.ndarray:
        return np.char.mod("%.7f", coords).astype(float)

    return shapely.orient_polygons(shapely.transform(geometry, seven))


def write_geojson(gdf: gpd.GeoDataFrame | pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write `gdf` as RFC 7946 GeoJSON (see `to_geojson`), atomically.

    The text goes to a temporary file beside `path`, is fsynced, then
    replaces `path`: readers see the old file or the new one, never half.
    """
    data = to_geojson(gdf).encode("utf-8")
    with atomic_path(Path(path), ".geojson") as tmp:
        tmp.write_bytes(data)
    log.info("wrote %d features to %s", len(gdf), path)


def write_gpkg(
    layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], path: str | os.PathLike[str]
) -> None:
    """Write several layers into one GeoPackage, atomically.

    Spatial layers are stored in EPSG:4326; a plain DataFrame (or a
    GeoDataFrame without a geometry column) becomes an attribute-only table.
    The file is built beside `path`, then replaces it: an existing GeoPackage
    is replaced whole (never appended to), and never left half written.

    Raises
    ------
    CRSError
        A layer has no CRS and coordinates that are not lon/lat.
    ProjectError
        GDAL could not write a layer.
    """
    if not layers:
        raise ValueError(f"write_gpkg({str(path)!r}): no layers given; pass at least one")
    target = Path(path)
    with atomic_path(target, ".gpkg") as tmp:
        for name, frame in layers.items():
            what = f"{target}: layer {name}"
            _ogr_write(_for_writing(frame, what), tmp, what, layer=name, driver="GPKG")
    log.info("wrote %d layers to %s", len(layers), target)


def update_gpkg(
    layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame], path: str | os.PathLike[str]
) -> None:
    """Replace some layers of an existing GeoPackage, keeping all others, atomically.

    The file is copied beside `path`, the given layers are overwritten in the
    copy, and the copy replaces `path`: a crash leaves the old file whole.

    Raises
    ------
    ProjectError
        `path` does not exist or GDAL could not write a layer.
    """
    target = Path(path)
    if not target.is_file():
        raise ProjectError(f"update_gpkg: {str(target)!r} does not exist; use write_gpkg")
    with atomic_path(target, ".gpkg") as tmp:
        shutil.copyfile(target, tmp)
        for name, frame in layers.items():
            what = f"{target}: layer {name}"
            _ogr_write(_for_writing(frame, what), tmp, what, layer=name, driver="GPKG")
    log.info("updated %d layers of %s", len(layers), target)
