"""Read and write layers: common GIS files in, RFC 7946 GeoJSON and GeoPackages out.

Every reader returns layers in EPSG:4326 (lon/lat, WGS84, 2D) with all
attribute columns kept (`gridgis.core.io.read`; zipped shapefiles in
`gridgis.core.io.shapefile`); every writer is atomic (`gridgis.core.io.write`,
`gridgis.core.io.atomic`: written beside the target, then moved into place).
The public names of those modules are importable from here.

Examples
--------
>>> from gridgis.core.io import read_layer, write_geojson
>>> buildings = read_layer("楼栋.zip", datum="gcj02")  # doctest: +SKIP
>>> write_geojson(buildings, "buildings.geojson")  # doctest: +SKIP
"""

from __future__ import annotations

from gridgis.core.io.atomic import atomic_path, write_bytes
from gridgis.core.io.read import SUPPORTED_EXTENSIONS, list_layers, read_gpkg_layers, read_layer
from gridgis.core.io.write import (
    as_geojson_stores,
    to_geojson,
    update_gpkg,
    write_geojson,
    write_gpkg,
)

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "as_geojson_stores",
    "atomic_path",
    "list_layers",
    "read_gpkg_layers",
    "read_layer",
    "to_geojson",
    "update_gpkg",
    "write_bytes",
    "write_geojson",
    "write_gpkg",
]
