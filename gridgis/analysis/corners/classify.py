"""Measures of each piece: kind (corner, edge, open), neighbours, households, type."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gridgis.analysis.corners.geometry import FloatArray, ObjArray, first_per_group, layer_ids
from gridgis.analysis.corners.zones import Zones
from gridgis.analysis.stalls.layout import stall_counts
from gridgis.core.schema import resolve_households
from gridgis.core.settings import Settings

__all__ = [
    "WIDTH_TOL_M",
    "classify",
    "nearest_buildings",
    "reach_households",
    "rect_sides",
    "suggest_types",
]


_ANGLE_DEG = 30.0  # hard sides at least this far apart in direction meet "at an angle"
_TOUCH_M = 0.05  # a candidate edge this close to the boundary or a clearance lies on it
WIDTH_TOL_M = 0.01
"""Clear widths within 1 cm of a minimum meet it (digitising), in metres."""


def _two_sides(
    n: int, part: NDArray[np.intp], angle: FloatArray, length: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per part: hard length along its longest hard edge's direction, and at an angle to it."""
    main, other = np.zeros(n), np.zeros(n)
    if len(part) == 0:
        return main, other
    first = first_per_group(part, length)
    dominant = np.full(n, np.nan)
    dominant[part[first]] = angle[first]
    diff = np.abs(angle - dominant[part]) % 180.0
    at_angle = np.minimum(diff, 180.0 - diff) >= _ANGLE_DEG
    main += np.bincount(part[~at_angle], weights=length[~at_angle], minlength=n)
    other += np.bincount(part[at_angle], weights=length[at_angle], minlength=n)
    return main, other


def rect_sides(geoms: ObjArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Long side, short side and area of each polygon's minimum rotated rectangle.

    Polygons that are rectangles (four right angles, no holes: most faces) are
    measured from their own corners; the rest go through ``oriented_envelope``.
    """
    n = len(geoms)
    long_side, short_side, area = np.zeros(n), np.zeros(n), np.zeros(n)
    four = (shapely.get_num_coordinates(geoms) == 5) & (shapely.get_num_interior_rings(geoms) == 0)
    if four.any():
        ring = shapely.get_coordinates(geoms[four]).reshape(-1, 5, 2)
        e = np.diff(ring, axis=1)
        length = np.hypot(e[..., 0], e[..., 1])
        cos = np.abs((e * np.roll(e, 1, axis=1)).sum(axis=2)) / np.maximum(
            length * np.roll(length, 1, axis=1), 1e-12
        )
        square = (cos < 1e-6).all(axis=1)
        pos = np.flatnonzero(four)[square]
        long_side[pos] = np.maximum(length[square, 0], length[square, 1])
        short_side[pos] = np.minimum(length[square, 0], length[square, 1])
        area[pos] = length[square, 0] * length[square, 1]
        four[np.flatnonzero(four)[~square]] = False
    rest = np.flatnonzero(~four)
    if len(rest):
        rect = shapely.oriented_envelope(geoms[rest])
        ring = shapely.get_coordinates(shapely.get_exterior_ring(rect)).reshape(-1, 5, 2)
        sides = np.hypot(*np.moveaxis(np.diff(ring[:, :3], axis=1), 2, 0))
        long_side[rest], short_side[rest] = sides.max(axis=1), sides.min(axis=1)
        area[rest] = shapely.area(rect)
    return long_side, short_side, area


def classify(
    parts: ObjArray, compound_of: NDArray[np.intp], z: Zones, settings: Settings, sides: FloatArray
) -> tuple[NDArray[np.object_], FloatArray]:
    """Kind (corner / edge / open) and boundary contact (m) of each part.

    `sides` holds each part's minimum rotated rectangle's long and short side (n, 2).
    """
    n = len(parts)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    a, b = xy[:-1][same], xy[1:][same]
    seg_part = ring_part[ring_of[:-1][same]]
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    angle = np.degrees(np.arctan2(d[:, 1], d[:, 0])) % 180.0
    mid = shapely.points((a + b) / 2)
    outline = shapely.boundary(z.compound.geometry.to_numpy())
    on_boundary = shapely.dwithin(mid, outline[compound_of[seg_part]], _TOUCH_M)
    on_building = np.zeros(len(mid), dtype=bool)
    building_zones = z.geoms[z.what == "building"]
    if len(building_zones):
        hit, _ = shapely.STRtree(building_zones).query(mid, predicate="dwithin", distance=_TOUCH_M)
        on_building[hit] = True
    hard = on_boundary | on_building
    main_b, other_b = _two_sides(n, seg_part[on_boundary], angle[on_boundary], length[on_boundary])
    main_h, other_h = _two_sides(n, seg_part[hard], angle[hard], length[hard])
    boundary_m = main_b + other_b
    area = shapely.area(parts)
    long_side, short_side = sides[:, 0], sides[:, 1]
    side = np.maximum(settings.corners.min_width_m.value, np.sqrt(area) / 4.0)
    aspect = long_side / np.maximum(short_side, 1e-9)
    strip = (aspect >= settings.corners.edge_strip_aspect.value) & (boundary_m >= long_side / 2)
    boundary_corner = (main_b >= side) & (other_b >= side)
    nook = (main_h >= side) & (other_h >= side)
    kind = np.where(
        boundary_corner | (nook & ~strip),
        "corner",
        np.where(strip | (boundary_m >= side), "edge", "open"),
    ).astype(object)
    return kind, boundary_m


def nearest_buildings(
    parts: ObjArray, buildings: gpd.GeoDataFrame | None, near: float
) -> tuple[FloatArray, ObjArray]:
    """Distance to and id of each part's nearest building (footprint, edge to edge).

    Buildings within `near` come from one envelope query; the rest (parts with
    no building that close) from the tree's nearest search.
    """
    n = len(parts)
    dist, ids = np.full(n, np.inf), np.full(n, None, dtype=object)
    if buildings is None or n == 0:
        return np.full(n, np.nan), ids
    b = buildings.geometry.to_numpy()
    names = layer_ids(buildings, "building_id")
    tree = shapely.STRtree(b)
    xmin, ymin, xmax, ymax = shapely.bounds(parts).T
    i, j = tree.query(shapely.box(xmin - near, ymin - near, xmax + near, ymax + near))
    if len(i):
        d = shapely.distance(parts[i], b[j])
        first = first_per_group(i, -d)
        dist[i[first]], ids[i[first]] = d[first], names[j[first]]
    far = np.flatnonzero(dist > near)
    if len(far):
        (src, tgt), d = tree.query_nearest(parts[far], all_matches=False, return_distance=True)
        dist[far[src]], ids[far[src]] = d, names[tgt]
    return np.where(np.isfinite(dist), dist, np.nan), ids


def reach_households(
    parts: ObjArray, compound_of: NDArray[np.intp], z: Zones, settings: Settings
) -> tuple[FloatArray, FloatArray]:
    """Households within reach in the same compound, plain and weighted by closeness.

    Straight line, edge to edge; a household at distance ``d`` weighs
    ``1 - d / corners.reach_m``. A building in no compound counts for every
    compound (its compound is unknown).
    """
    n = len(parts)
    if z.buildings is None or n == 0:
        return np.zeros(n), np.zeros(n)
    reach = settings.corners.reach_m.value
    per_floor = settings.general.households_per_floor_fallback.value
    hh = resolve_households(z.buildings, per_floor=per_floor)["households"].to_numpy(dtype=float)
    b = z.buildings.geometry.to_numpy()
    home = np.full(len(b), -1)
    bi, ci = shapely.STRtree(z.compound.geometry.to_numpy()).query(
        shapely.point_on_surface(b), predicate="within"
    )
    home[bi] = ci
    # pairs within a compound: every candidate with every building of its compound
    nc = len(z.compound)
    by_home = np.argsort(home, kind="stable")
    per_home = np.bincount(home[home >= 0], minlength=nc)
    first = np.searchsorted(home[by_home], np.arange(nc))
    count = per_home[compound_of]
    src = np.repeat(np.arange(n), count)
    offset = np.arange(len(src)) - np.repeat(np.cumsum(count) - count, count)
    tgt = by_home[np.repeat(first[compound_of], count) + offset]
    # buildings in no compound: with every candidate within reach
    stray = np.flatnonzero(home < 0)
    if len(stray):
        xmin, ymin, xmax, ymax = shapely.bounds(parts).T
        i, j = shapely.STRtree(b[stray]).query(
            shapely.box(xmin - reach, ymin - reach, xmax + reach, ymax + reach)
        )
        src, tgt = np.concatenate([src, i]), np.concatenate([tgt, stray[j]])
    dist = shapely.distance(parts[src], b[tgt])
    keep = (dist <= reach) & ~np.isnan(hh[tgt])
    src, tgt, dist = src[keep], tgt[keep], dist[keep]
    weight = np.clip(1.0 - dist / max(reach, 1e-9), 0.0, 1.0)
    # weighted counts are floats (numpy's stubs type every bincount as ints)
    plain = np.asarray(np.bincount(src, weights=hh[tgt], minlength=n), dtype=float)
    close = np.asarray(np.bincount(src, weights=hh[tgt] * weight, minlength=n), dtype=float)
    return plain, close


def suggest_types(
    parts: ObjArray, area: FloatArray, width: FloatArray, nearest: FloatArray, settings: Settings
) -> tuple[ObjArray, NDArray[np.int64]]:
    """First fitting type of ``corners.suggest_types`` per part, and stalls where it holds bikes."""
    n = len(parts)
    suggested = np.full(n, None, dtype=object)
    bikes = np.zeros(n, dtype=np.int64)
    setback = settings.rules.shed_setback_from_openings_m.value
    for key in settings.corners.suggest_types:
        kind = settings.site_types[key]
        fits = (
            pd.isna(suggested)
            & (area >= kind.min_area_m2.value)
            & (width + WIDTH_TOL_M >= kind.min_width_m.value)
        )
        if kind.capacity_rule == "bike_stalls":
            fits &= np.isnan(nearest) | (nearest + WIDTH_TOL_M >= setback)
            at = np.flatnonzero(fits)
            count = stall_counts(parts[at], settings=settings)["count"].to_numpy()
            fits[at[count == 0]] = False
            bikes[at[count > 0]] = count[count > 0]
        suggested[fits] = key
    return suggested, bikes
