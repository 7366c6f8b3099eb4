"""Snapping a freshly drawn shape onto what is already there (in metres).

A building drawn by hand against the compound wall ends a few decimetres off it,
and a micro-grid drawn along a road leaves slivers. `snap_drawing` moves each
vertex of the new shape that lies within `SNAP_M` metres of another shape's
vertex or edge onto it (an STRtree of the vertices and shapely's
`shortest_line` to the edges, in the local metric CRS so the tolerance is in
metres; GEOS's own `snap` moves vertices only onto vertices), and keeps the
drawing as it was if snapping would make it invalid or empty. Editing on the
map snaps in pixels as the vertex is dragged (`gridgis.report.map.editing`);
this is the same help for the drawing tools, which cannot snap while drawing.

Examples
--------
>>> from shapely.geometry import box
>>> wall = box(104.0, 30.0, 104.001, 30.001)  # about 96 m x 111 m
>>> drawn = box(104.0000020, 30.0002, 104.0002, 30.0004)  # its west edge 0.19 m inside
>>> snapped, moved = snap_drawing(drawn, [wall])
>>> moved, round(snapped.bounds[0], 9) == 104.0  # (to 0.1 mm: the metric round trip)
(2, True)
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gridgis.core.crs import local_metric_crs

__all__ = ["SNAP_M", "snap_drawing"]

SNAP_M = 0.5  # a drawn vertex this near another shape's vertex or edge goes onto it (metres)


def _snap_vertices(shape: BaseGeometry, lines: BaseGeometry, tolerance: float) -> BaseGeometry:
    """Each vertex of `shape` onto the nearest vertex of `lines` within `tolerance`, else onto
    the nearest point of their edges within it (GEOS's own snap moves vertices to vertices only).
    """
    corners = shapely.points(shapely.get_coordinates(lines))
    tree = shapely.STRtree(corners)

    def move(xy: np.ndarray) -> np.ndarray:
        out = xy.copy()
        points = shapely.points(xy)
        hit, dist = tree.query_nearest(points, max_distance=tolerance, return_distance=True)
        done = np.zeros(len(xy), dtype=bool)
        for (i, j), _ in zip(hit.T, dist, strict=True):
            if not done[i]:
                out[i] = shapely.get_coordinates(corners[j])[0]
                done[i] = True
        for i in np.flatnonzero(~done):
            if shapely.distance(points[i], lines) <= tolerance:
                out[i] = shapely.get_coordinates(shapely.shortest_line(points[i], lines))[1]
        return out

    return shapely.transform(shape, move)


def snap_drawing(
    drawn: BaseGeometry, others: Iterable[BaseGeometry], tolerance_m: float = SNAP_M
) -> tuple[BaseGeometry, int]:
    """`drawn` (WGS84) with its vertices near `others` moved onto them; how many moved.

    Raises
    ------
    ValueError
        `tolerance_m` is negative or not finite.
    """
    if not np.isfinite(tolerance_m) or tolerance_m < 0:
        raise ValueError(f"tolerance_m must be a finite number >= 0, got {tolerance_m!r}")
    # only shapes near the drawing are reprojected (a degree is over 90 km here)
    window = drawn.buffer(tolerance_m * 2 / 90_000)
    near = [g for g in others if g is not None and not g.is_empty and g.intersects(window)]
    if drawn.is_empty or not near or tolerance_m == 0:
        return drawn, 0
    crs = local_metric_crs(gpd.GeoSeries([drawn], crs=4326))
    shape_m, *refs = gpd.GeoSeries([drawn, *near], crs=4326).to_crs(crs)
    polygonal = ("Polygon", "MultiPolygon")
    lines = [r.boundary if r.geom_type in polygonal else r for r in refs]
    if not lines:
        return drawn, 0
    snapped_m = _snap_vertices(shape_m, shapely.union_all(lines), tolerance_m)
    if snapped_m.is_empty or not snapped_m.is_valid or snapped_m.geom_type != shape_m.geom_type:
        return drawn, 0
    before = shapely.get_coordinates(shape_m)  # (the same vertices, some moved)
    moved_at = before[np.hypot(*(shapely.get_coordinates(snapped_m) - before).T) > 1e-9]
    moved = len({(round(x, 6), round(y, 6)) for x, y in moved_at})  # a ring's ends: one
    if moved == 0:
        return drawn, 0
    result = gpd.GeoSeries([snapped_m], crs=crs).to_crs(4326).iloc[0]
    return result, moved
