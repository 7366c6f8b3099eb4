"""Micro-grids drawn from buildings: each building's share of the compound, merged.

A building's *cell* is the part of the compound nearer to that building's outline than
to any other building's (a Voronoi diagram of points sampled along every outline, so a
long slab gets a fair share, not just the space around its centre). The cells tile the
compound; a micro-grid made of some buildings is the union of their cells, and its
households are the sum of theirs. Everything is computed in metres (the local metric
CRS, or the project's) and returned in EPSG:4326.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.affinity
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from gridgis.core.crs import local_metric_crs
from gridgis.core.schema import resolve_households
from gridgis.errors import GridGISError

__all__ = ["building_cells", "microgrid_from_buildings", "microgrid_households", "sample_outlines"]

WGS84 = "EPSG:4326"
SPACING_M = 1.0  # outline sample spacing; cells are exact to well under this


def _compound_geometry(compound: Any) -> BaseGeometry:
    """The compound as one lon/lat geometry (a layer's rows are merged)."""
    if compound is None:
        raise GridGISError("compound=None: a micro-grid needs the compound boundary")
    if isinstance(compound, gpd.GeoDataFrame | gpd.GeoSeries):
        series = compound.geometry
        if series.crs is not None and not pyproj.CRS(series.crs).equals(pyproj.CRS(WGS84)):
            series = series.to_crs(WGS84)
        geom = shapely.union_all(series.dropna().to_numpy())
    elif isinstance(compound, BaseGeometry):
        geom = compound
    else:
        msg = f"compound={compound!r} is not a GeoDataFrame, GeoSeries or shapely geometry"
        raise GridGISError(msg)
    if geom.is_empty or geom.area <= 0:
        msg = f"compound has no area (geometry {geom.geom_type!r}); draw the boundary first"
        raise GridGISError(msg)
    return geom


def _buildings_wgs84(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(buildings, gpd.GeoDataFrame) or len(buildings) == 0:
        n = len(buildings) if hasattr(buildings, "__len__") else buildings
        raise GridGISError(f"buildings has no rows (len={n!r}); draw or import buildings first")
    if "building_id" not in buildings:
        raise GridGISError(f"buildings has no 'building_id' column: {list(buildings.columns)!r}")
    if buildings.crs is None:
        return buildings.set_crs(WGS84)
    return buildings if buildings.crs.equals(pyproj.CRS(WGS84)) else buildings.to_crs(WGS84)


def sample_outlines(
    geoms: Sequence[BaseGeometry] | NDArray[Any], spacing: float
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Points every `spacing` along each geometry's outline, and whose each point is.

    Parameters
    ----------
    geoms
        Polygons (in metres).
    spacing
        The largest gap between two samples on an outline, in the geometries' units.

    Returns
    -------
    points, owner
        An ``(n, 2)`` array of coordinates (vertices included) and the position in
        `geoms` each point came from.

    Examples
    --------
    >>> from shapely import box
    >>> pts, owner = sample_outlines([box(0, 0, 4, 1)], 1.0)
    >>> len(pts), set(owner.tolist())
    (11, {0})
    """
    rings = shapely.boundary(np.asarray(geoms, dtype=object))
    dense = shapely.segmentize(rings, spacing)
    coords, owner = shapely.get_coordinates(dense, return_index=True)
    return coords, owner


def _cells_metric(area: BaseGeometry, footprints: NDArray[Any], spacing: float) -> NDArray[Any]:
    """Each footprint's cell of `area` (all in metres), by position.

    The diagram is built about a local origin: at Gauss-Kruger magnitudes (3.4e6 m) GEOS
    returns slivers for nearly collinear samples. A piece of `area` no cell covers (1 cm² or
    more; none seen so far) goes to the nearest footprint, so the cells always tile `area`.
    """
    points, owner = sample_outlines(footprints, spacing)
    keys = np.round(points / (spacing * 1e-3)).astype(np.int64)  # drop shared wall points
    _, first = np.unique(keys, axis=0, return_index=True)
    first.sort()
    points, owner = points[first], owner[first]
    ox, oy = points.mean(axis=0)
    extent = shapely.box(*area.buffer(10 * spacing).bounds)
    if len(points) < 3:  # too few to triangulate: one building takes everything
        cells = np.full(len(footprints), shapely.Polygon(), dtype=object)
        cells[owner[0]] = extent
    else:
        sites = shapely.multipoints(points - (ox, oy))
        local = shapely.affinity.translate(extent, -ox, -oy)
        raw = shapely.voronoi_polygons(sites, extend_to=local, ordered=True)
        parts = shapely.make_valid(shapely.get_parts(raw))
        bounds = np.searchsorted(owner, np.arange(len(footprints) + 1))  # owner is sorted
        merged = [shapely.union_all(parts[i:j]) for i, j in itertools.pairwise(bounds)]
        moved = [shapely.affinity.translate(g, ox, oy) for g in merged]
        cells = np.array(moved, dtype=object)
    # each footprint belongs to its own cell (sampling can nick a corner)
    cells = shapely.union(cells, footprints)
    tree = shapely.STRtree(footprints)
    left, right = tree.query(cells, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i != j:
            cells[i] = cells[i].difference(footprints[j])
    cells = shapely.intersection(cells, area)
    leftover = shapely.get_parts(area.difference(shapely.union_all(cells)))
    for piece in leftover[shapely.area(leftover) > 1e-4]:
        i = int(tree.nearest(piece))
        cells[i] = cells[i].union(piece)
    return cells


def building_cells(
    compound: Any,
    buildings: gpd.GeoDataFrame,
    *,
    crs: pyproj.CRS | str | int | None = None,
    spacing: float = SPACING_M,
) -> gpd.GeoSeries:
    """Each building's share of the compound: its Voronoi cell, clipped to the boundary.

    Parameters
    ----------
    compound
        The compound layer (its rows are merged), a GeoSeries or a lon/lat geometry.
    buildings
        The buildings layer (``building_id``; EPSG:4326, or no CRS taken as such).
    crs
        The metric CRS to compute in (``Project.metric_crs()``); default the local one.
    spacing
        Outline sample spacing in metres.

    Returns
    -------
    GeoSeries
        Index of `buildings`, EPSG:4326; the cells tile the compound (a building wholly
        outside it gets an empty cell).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> b = gpd.GeoDataFrame({"building_id": ["A", "B"]}, crs=4544,
    ...     geometry=[box(500010, 3390010, 500020, 3390020), box(500060, 3390010, 500070, 3390020)])
    >>> site = gpd.GeoSeries([box(500000, 3390000, 500080, 3390030)], crs=4544)
    >>> cells = building_cells(site, b).to_crs(4544)
    >>> [round(a) for a in cells.area]
    [1200, 1200]
    """
    area_ll = _compound_geometry(compound)
    bld = _buildings_wgs84(buildings)
    if spacing <= 0 or not np.isfinite(spacing):
        raise GridGISError(f"spacing={spacing!r} must be a positive number of metres")
    metric = pyproj.CRS.from_user_input(crs) if crs is not None else local_metric_crs(bld)
    area = gpd.GeoSeries([area_ll], crs=WGS84).to_crs(metric).iloc[0]
    footprints = shapely.make_valid(bld.geometry.to_crs(metric).to_numpy())
    missing = shapely.is_missing(footprints) | shapely.is_empty(footprints)
    if missing.any():
        bad = bld["building_id"][missing].tolist()
        raise GridGISError(f"buildings without a geometry: building_id={bad!r}")
    cells = _cells_metric(area, footprints, float(spacing))
    return gpd.GeoSeries(cells, index=bld.index, crs=metric).to_crs(WGS84)


def _selected(buildings: gpd.GeoDataFrame, building_ids: Iterable[object]) -> list[Any]:
    """Index labels of the chosen buildings, in the order chosen, without repeats."""
    if isinstance(building_ids, str):
        building_ids = [building_ids]
    wanted = list(dict.fromkeys(building_ids))
    if not wanted:
        raise GridGISError("building_ids=[] is empty: choose at least one building")
    ids = buildings["building_id"].astype(str)
    where = {v: k for k, v in zip(ids.index, ids, strict=True)}
    unknown = [b for b in wanted if str(b) not in where]
    if unknown:
        raise GridGISError(f"building_ids has unknown building_id values: {unknown!r}")
    return [where[str(b)] for b in wanted]


def microgrid_from_buildings(
    compound: Any,
    buildings: gpd.GeoDataFrame,
    building_ids: Iterable[object],
    *,
    grid_id: str,
    name: str,
    leader: str | None = None,
    per_floor: float,
    crs: pyproj.CRS | str | int | None = None,
    cells: gpd.GeoSeries | None = None,
) -> gpd.GeoDataFrame:
    """Make one micro-grid of some buildings: the union of their cells, their households.

    Parameters
    ----------
    compound, buildings, crs
        As for `building_cells`.
    building_ids
        The chosen buildings' ``building_id`` values.
    grid_id, name, leader
        The micro-grid's fields.
    per_floor
        Households per floor per unit where a building's ``households`` is missing.
    cells
        `building_cells` already computed for these layers (saves the work when making
        several micro-grids).

    Returns
    -------
    GeoDataFrame
        One row, EPSG:4326: ``grid_id, name, leader, households, households_unknown,
        building_ids`` and the polygon (a MultiPolygon if the buildings are apart).
        ``households`` is the sum, or NA when a building's households are unknown;
        ``households_unknown`` lists those buildings (comma-joined, as ``building_ids``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> b = gpd.GeoDataFrame({"building_id": ["A", "B"], "households": [12, None]}, crs=4544,
    ...     geometry=[box(500010, 3390010, 500020, 3390020), box(500060, 3390010, 500070, 3390020)])
    >>> site = gpd.GeoSeries([box(500000, 3390000, 500080, 3390030)], crs=4544)
    >>> g = microgrid_from_buildings(site, b, ["A"], grid_id="G1", name="A", per_floor=2)
    >>> g[["grid_id", "households", "households_unknown", "building_ids"]].to_dict("records")
    [{'grid_id': 'G1', 'households': 12, 'households_unknown': '', 'building_ids': 'A'}]
    >>> microgrid_from_buildings(site, b, ["A", "B"], grid_id="G2", name="AB",
    ...     per_floor=2)[["households", "households_unknown"]].iloc[0].tolist()
    [<NA>, 'B']
    """
    for field, value in (("grid_id", grid_id), ("name", name)):
        if not isinstance(value, str) or not value.strip():
            raise GridGISError(f"{field}={value!r} must be a non-empty text")
    area_ll = _compound_geometry(compound)
    bld = _buildings_wgs84(buildings)
    chosen = _selected(bld, building_ids)
    if cells is None:
        cells = building_cells(area_ll, bld, crs=crs)
    elif not cells.index.equals(bld.index):
        raise GridGISError("cells do not match buildings (index differs); recompute them")
    metric = pyproj.CRS.from_user_input(crs) if crs is not None else local_metric_crs(bld)
    parts = cells.loc[chosen].to_crs(metric).to_numpy()
    shape = shapely.make_valid(shapely.union_all(parts, grid_size=1e-6))
    polys = [g for g in shapely.get_parts(shape) if g.geom_type == "Polygon" and g.area > 1e-6]
    ids = bld.loc[chosen, "building_id"].astype(str)
    if not polys:
        raise GridGISError(f"building_ids={ids.tolist()!r} have no share of the compound")
    geom = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    counts = resolve_households(bld.loc[chosen], per_floor=per_floor)["households"]
    unknown = ids[counts.isna()].tolist()
    total = pd.NA if unknown else round(float(counts.sum()))
    row = {
        "grid_id": grid_id,
        "name": name,
        "leader": leader,
        "households": pd.array([total], dtype="Int64"),
        "households_unknown": ",".join(unknown),
        "building_ids": ",".join(ids.tolist()),
    }
    frame = pd.DataFrame(row, index=[0])
    return gpd.GeoDataFrame(frame, geometry=[geom], crs=metric).to_crs(WGS84)


def microgrid_households(
    grids: pd.DataFrame, buildings: pd.DataFrame | None, *, per_floor: float
) -> pd.Series:
    """Each micro-grid's households now: its member buildings' sum, else its own count.

    A micro-grid made from buildings (`microgrid_from_buildings`) lists them in
    ``building_ids``; their households may have changed since (a ledger applied, a
    form edited), so the sum is taken again from the buildings as they are. A
    micro-grid drawn by hand, or whose members are gone, keeps its ``households``.
    NA when a member's households are unknown.

    Examples
    --------
    >>> g = pd.DataFrame({"grid_id": ["G1", "G2"], "households": [10, 40],
    ...                   "building_ids": ["A,B", None]})
    >>> b = pd.DataFrame({"building_id": ["A", "B"], "households": [12, 30]})
    >>> microgrid_households(g, b, per_floor=2).tolist()
    [42, 40]
    """
    own = pd.to_numeric(grids["households"], errors="coerce") if "households" in grids else None
    out = pd.Series(pd.NA, index=grids.index, dtype="Int64")
    if own is not None:
        out[:] = own.round().astype("Int64")
    if buildings is None or not len(buildings) or "building_ids" not in grids:
        return out
    counts = resolve_households(buildings, per_floor=per_floor)["households"]
    by_id = dict(zip(buildings["building_id"].astype(str), counts, strict=True))
    for pos, members in enumerate(grids["building_ids"]):
        if not isinstance(members, str) or not members.strip():
            continue
        ids = [m.strip() for m in members.split(",") if m.strip()]
        if not ids or any(i not in by_id for i in ids):
            continue  # a member was deleted or renamed: the stored count stands
        values = [by_id[i] for i in ids]
        out.iloc[pos] = pd.NA if any(pd.isna(v) for v in values) else round(float(sum(values)))
    return out
