"""Geometry metrics of sites and what they touch, in a local metric CRS.

Every function takes layers already reprojected to metres (`gridgis.core.crs.to_metric`
once, by the caller) and returns a frame with the sites' index. Geographic
(degree) CRSs and mismatched CRSs are a `CRSError`; a layer of ``None`` is a
missing layer and gives empty lists / missing values, never an error.

Examples
--------
>>> from gridgis.core.crs import to_metric
>>> from gridgis.core.project import open_project
>>> p = open_project("data/dongsi180")
>>> sites = to_metric(p.layers["sites"])
>>> geometry_metrics(sites).round(1).iloc[0].tolist()
[84.0, 40.0, 6.0]
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.array import GeometryArray
from numpy.typing import NDArray

from gridgis.core.crs import require_metric

__all__ = ["INSIDE_FRACTION", "MIN_OVERLAP_M2", "context", "geometry_metrics"]

log = logging.getLogger(__name__)

INSIDE_FRACTION = 0.999
"""A site is inside the compound when at least this fraction of its area is."""
MIN_OVERLAP_M2 = 0.01
"""Overlaps smaller than this (1 dm2) are edge contact or digitising noise, not overlap."""
_WIDTH_PRECISION_M = 0.01  # bisection stops when the bracket is this narrow (1 cm)
_WIDTH_KEEP = 0.99  # an opening keeping 99 % of the area means the site is that wide


def _geoms(geometry: GeometryArray) -> NDArray[Any]:
    """Object array of the geometries, None where missing or empty."""
    values = np.asarray(geometry, dtype=object)
    missing = shapely.is_missing(values) | shapely.is_empty(values)
    out = values.copy()
    out[missing] = None
    return out


def _opening_keeps(geoms: NDArray[Any], radius: NDArray[np.float64]) -> NDArray[np.bool_]:
    """True where opening by `radius` (mitre joins) keeps `_WIDTH_KEEP` of the area."""
    eroded = shapely.buffer(geoms, -radius, join_style="mitre")
    opened = shapely.buffer(eroded, radius, join_style="mitre")
    area = shapely.area(geoms)
    opened_area = shapely.area(opened)
    keeps = np.abs(opened_area - area) <= 1e-9 * area  # recovered exactly: no overlay needed
    # Mitred corners may also protrude where an edge vanished: count only what lies in the site.
    unsure = ~keeps & (opened_area >= _WIDTH_KEEP * area)
    kept = shapely.area(shapely.intersection(opened[unsure], geoms[unsure]))
    keeps[unsure] = kept >= _WIDTH_KEEP * area[unsure]
    return keeps


def _min_width(geoms: NDArray[Any]) -> NDArray[np.float64]:
    """Minimum clear width of each polygon, by bisection on the opening radius."""
    out = np.full(len(geoms), np.nan)
    ok = ~shapely.is_missing(geoms) & (shapely.area(geoms) > 0)
    if not ok.any():
        return out
    g = geoms[ok]
    area = shapely.area(g)
    rect = shapely.oriented_envelope(g)
    ring = shapely.get_coordinates(shapely.get_exterior_ring(rect)).reshape(-1, 5, 2)
    short = np.hypot(*np.moveaxis(np.diff(ring[:, :3], axis=1), 2, 0)).min(axis=1)
    # A rectangle (the usual site) is as wide as its short side: no bisection needed.
    # "Rectangle" allows 0.1% of area: a drawn box stored at 7 decimals of a
    # degree (~1 cm) is never exact, and the short side is then right to ~1 cm.
    is_rect = np.abs(shapely.area(rect) - area) <= 1e-3 * area
    rect_pos = np.flatnonzero(ok)[is_rect]
    out[rect_pos] = short[is_rect]
    g, area, short = g[~is_rect], area[~is_rect], short[~is_rect]
    if len(g) == 0:
        return out
    # A polygon is no wider than its inscribed circle, whose area is at most its own.
    hi = np.minimum(2.0 * np.sqrt(area / np.pi), short) + 2 * _WIDTH_PRECISION_M
    lo = np.zeros_like(hi)
    while (hi - lo).max() > _WIDTH_PRECISION_M:
        mid = (lo + hi) / 2.0
        keeps = _opening_keeps(g, mid / 2.0)
        lo = np.where(keeps, mid, lo)
        hi = np.where(keeps, hi, mid)
    out[np.flatnonzero(ok)[~is_rect]] = (lo + hi) / 2.0
    return out


def geometry_metrics(sites: gpd.GeoDataFrame | gpd.GeoSeries) -> pd.DataFrame:
    """Area, perimeter and minimum clear width of each site.

    Parameters
    ----------
    sites
        Polygons in a metric CRS (metres).

    Returns
    -------
    DataFrame
        Index of `sites`; ``area_m2``, ``perimeter_m`` and ``min_width_m``
        (float; NaN for missing or empty geometries). ``min_width_m`` is the
        largest width ``d`` for which opening the polygon by ``d/2`` (inward
        then outward offset, mitred corners) keeps 99 % of its area: a 10 x 6 m
        rectangle gives 6.0, an L of 3 m wide arms gives 3.0, and slivers under
        1 % of the area do not count. Found by bisection to 1 cm (the midpoint
        of the last bracket); exact for rectangles.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> s = gpd.GeoSeries([box(0, 0, 10, 6)], crs=4544)
    >>> geometry_metrics(s).round(2).to_dict("records")
    [{'area_m2': 60.0, 'perimeter_m': 32.0, 'min_width_m': 6.0}]
    """
    geometry = sites.geometry.array  # once: then its CRS is cheap
    require_metric({"sites": geometry})
    geoms = _geoms(geometry)
    return pd.DataFrame(
        {
            "area_m2": shapely.area(geoms),
            "perimeter_m": shapely.length(geoms),
            "min_width_m": _min_width(geoms),
        },
        index=sites.index,
    )


def _overlaps(
    left: NDArray[Any], right: NDArray[Any]
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Positional pairs (site, feature) overlapping by at least `MIN_OVERLAP_M2`, with the area."""
    tree = shapely.STRtree(right)
    i, j = tree.query(left, predicate="intersects")
    if len(i) == 0:
        return i, j, np.zeros(0)
    area = shapely.area(shapely.intersection(left[i], right[j]))
    keep = area >= MIN_OVERLAP_M2
    return i[keep], j[keep], area[keep]


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar: NaN/NA -> None, numpy scalars -> Python."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _empty_lists(n: int) -> NDArray[np.object_]:
    """A 1-d object array of `n` distinct empty lists."""
    out = np.empty(n, dtype=object)
    for k in range(n):
        out[k] = []
    return out


def _records(
    n: int,
    pairs: tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]],
    other: gpd.GeoDataFrame,
    fields: tuple[str, ...],
) -> NDArray[np.object_]:
    """Per site, one dict of `fields` per overlapping feature, largest overlap first."""
    out = _empty_lists(n)
    i, j, area = pairs
    if len(i) == 0:  # no column lookups: they cost more than the overlay
        return out
    columns = {f: other[f].to_numpy() if f in other else np.full(len(other), None) for f in fields}
    for k in np.lexsort((j, -area, i)):  # by site, then largest overlap, then layer order
        out[i[k]].append({f: _plain(columns[f][j[k]]) for f in fields})
    return out


def context(
    sites: gpd.GeoDataFrame,
    *,
    compound: gpd.GeoDataFrame | None = None,
    microgrids: gpd.GeoDataFrame | None = None,
    spaces: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Which compound, micro-grids and surveyed spaces each site lies in or overlaps.

    Parameters
    ----------
    sites
        Site polygons in a metric CRS.
    compound, microgrids, spaces
        Layers in the same CRS, or None when the project has none.

    Returns
    -------
    DataFrame
        Index of `sites`:

        - ``inside_compound`` (nullable ``boolean``): at least `INSIDE_FRACTION`
          of the site's area lies in the compound; ``<NA>`` without a compound
          (None, or no polygons) or for a site without geometry.
        - ``compound_fraction`` (float): that fraction (NaN when unknown).
        - ``compound_name`` (object): name of the compound overlapping most, else NaN.
        - ``microgrids``: list of ``{grid_id, name, leader}``, largest overlap first.
        - ``spaces``: list of ``{space_id, kind}``, largest overlap first.

        Features count only when they overlap the site by at least
        `MIN_OVERLAP_M2` (touching along an edge does not count).
    """
    # each layer's geometry is looked up once (its CRS then costs nothing): for one site
    # pandas/geopandas access costs more than the overlays
    site_geometry = sites.geometry.array
    require_metric({"sites": site_geometry})
    n = len(sites)
    geoms = _geoms(site_geometry)
    area = shapely.area(geoms)
    fraction = np.full(n, np.nan)
    unknown = np.ones(n, dtype=bool)  # the mask of the nullable inside_compound
    names = np.full(n, np.nan, dtype=object)
    if compound is not None:
        compound_geometry = compound.geometry.array
        compound_g = _geoms(compound_geometry)
        if shapely.area(compound_g).sum() > 0:
            require_metric({"sites": site_geometry, "compound": compound_geometry})
            i, j, overlap = _overlaps(geoms, compound_g)
            has_geom = ~shapely.is_missing(geoms) & (area > 0)
            # compound polygons do not overlap each other: the area inside is the
            # sum of the pairwise overlaps (no union of a district-sized multipolygon)
            inner = np.bincount(i, weights=overlap, minlength=n)
            fraction[has_geom] = np.minimum(inner[has_geom] / area[has_geom], 1.0)
            unknown = ~has_geom
            if len(i) and "name" in compound:
                best = np.lexsort((j, -overlap, i))
                first = best[np.r_[True, i[best][1:] != i[best][:-1]]]
                names[i[first]] = [_plain(v) for v in compound["name"].to_numpy()[j[first]]]
    microgrid_lists, space_lists = _empty_lists(n), _empty_lists(n)
    if microgrids is not None:
        grid_geometry = microgrids.geometry.array
        require_metric({"sites": site_geometry, "microgrids": grid_geometry})
        pairs = _overlaps(geoms, _geoms(grid_geometry))
        microgrid_lists = _records(n, pairs, microgrids, ("grid_id", "name", "leader"))
    if spaces is not None:
        space_geometry = spaces.geometry.array
        require_metric({"sites": site_geometry, "spaces": space_geometry})
        pairs = _overlaps(geoms, _geoms(space_geometry))
        space_lists = _records(n, pairs, spaces, ("space_id", "kind"))
    return pd.DataFrame(
        {
            "inside_compound": pd.arrays.BooleanArray(fraction >= INSIDE_FRACTION, unknown),
            "compound_fraction": fraction,
            "compound_name": names,
            "microgrids": microgrid_lists,
            "spaces": space_lists,
        },
        index=sites.index,
    )
