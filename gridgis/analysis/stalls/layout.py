"""E-bike shed stall layout: 2.0 x 0.8 m spaces in rows, with aisles and fire blocks.

`layout_stalls` fills one polygon (metric CRS) with spaces of
``rules.bike_space_length_m`` deep and ``rules.bike_space_width_m`` wide, the
bikes side by side in rows. Across the rows the pattern is a *bay*: row |
aisle | row, bays back to back (their outer rows touch), then one more row with
its own aisle if the rest allows; a polygon too narrow for a row and an aisle
takes a single row reached from outside. Along the rows, spaces are cut into
*blocks* of at most ``shed_block_max_length_m`` and ``shed_block_max_bikes``
with ``shed_block_gap_m`` between blocks (Sichuan 2024). Rows closer than the
block gap (back-to-back rows, or rows across an aisle narrower than the gap)
belong to the same blocks; an aisle at least as wide as the gap separates blocks.

Orientations tried: both axes of the minimum rotated rectangle and, for
non-rectangles, both axes of the longest edge; each with the pattern flush to
either side. The most stalls wins (ties: the first, rows along the rectangle's
long side). Lengths within ``TOLERANCE_M`` (1 cm) of a fit count as fitting,
as in `gridgis.analysis.capacity`: digitising noise (a 20 x 6.2 m shed stored at 7
decimals of a degree) must not lose a row. So a polygon within 5 mm of its
bounding rectangle is laid out as that rectangle, and a stall crosses the drawn
edge only where the site is within 1 cm of holding it, by at most 5 mm; runs
that fit with room to spare sit flush inside the edge.

`rectangle_stalls` gives the same count for rectangles in closed form, for
many sites at once (the analysis engine uses it; see `gridgis.analysis.capacity`). It
and `charging` live in `gridgis.analysis.stalls.closedform` and are re-exported here.

Examples
--------
>>> from shapely import box
>>> from gridgis.core.settings import default_settings
>>> lay = layout_stalls(box(0, 0, 20, 6.2), settings=default_settings())
>>> lay.count, lay.charging_ports, lay.circuits, lay.blocks
(50, 17, 2, 2)
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from gridgis.analysis.stalls.closedform import (
    EPS,
    TOLERANCE_M,
    StallRules,
    charging,
    rectangle_arrays,
    rectangle_stalls,
    stall_rules,
)
from gridgis.core.settings import Settings
from gridgis.errors import GridGISError

__all__ = [
    "TOLERANCE_M",
    "StallLayout",
    "charging",
    "layout_stalls",
    "rectangle_stalls",
    "stall_arrays",
    "stall_counts",
]

_F = NDArray[np.float64]

_SLIVER_M2 = 1e-7  # pieces of a row strip outside the polygon smaller than this are noise


@dataclass(frozen=True)
class StallLayout:
    """Stalls laid out in one shed site (metric CRS of the input).

    Attributes
    ----------
    stalls
        One rectangle per space (``bike_space_length_m`` x ``bike_space_width_m``).
    block
        Block number of each stall (1, 2, ...), aligned with `stalls`.
    count
        Number of stalls (bikes).
    charging_ports
        ``ceil(count / rules.bikes_per_charging_port)``.
    circuits
        ``ceil(charging_ports / rules.sockets_per_circuit_max)``.
    blocks
        Number of blocks.
    orientation_deg
        Direction of the rows, degrees counter-clockwise from the x axis (0-180).
    aisles
        The aisle strips, clipped to the site.
    """

    stalls: gpd.GeoSeries
    block: NDArray[np.int64]
    count: int
    charging_ports: int
    circuits: int
    blocks: int
    orientation_deg: float
    aisles: gpd.GeoSeries


# --- the pattern across the rows -------------------------------------------------------------


def _pattern(extent: float, ru: StallRules) -> tuple[list[float], list[float], float]:
    """Row and aisle offsets (from the pattern start) across `extent`, and the length used."""
    d, a = ru.depth, ru.aisle
    bay = 2 * d + a
    bays = math.floor(extent / bay + EPS)
    rows: list[float] = []
    aisles: list[float] = []
    for k in range(bays):
        rows += [k * bay, k * bay + d + a]
        aisles.append(k * bay + d)
    used = bays * bay
    rest = extent - used
    if rest + EPS >= d + a:
        rows.append(used)
        aisles.append(used + d)
        used += d + a
    elif bays == 0 and rest + EPS >= d:
        rows.append(0.0)
        used = d
    return rows, [y for y in aisles if a > 0], used


def _stacks(rows: list[float], ru: StallRules) -> list[list[int]]:
    """Group rows (sorted offsets) closer than the block gap: they share blocks."""
    out: list[list[int]] = []
    for i, y in enumerate(rows):
        if out and y - (rows[i - 1] + ru.depth) < ru.gap - EPS:
            out[-1].append(i)
        else:
            out.append([i])
    return out


# --- the general layout ------------------------------------------------------------------------


def _rotate(geoms: Any, angle_deg: float, origin: tuple[float, float]) -> Any:
    """Rotate geometries counter-clockwise by `angle_deg` about `origin` (vectorised)."""
    t = math.radians(angle_deg)
    c, s = math.cos(t), math.sin(t)
    ox, oy = origin

    def turn(xy: _F) -> _F:
        x, y = xy[:, 0] - ox, xy[:, 1] - oy
        return np.column_stack([ox + c * x - s * y, oy + s * x + c * y])

    return shapely.transform(geoms, turn)


def _free_intervals(q: BaseGeometry, rows: _F, depth: float) -> list[list[tuple[float, float]]]:
    """For each row strip ``[y, y + depth]``: the x-intervals where a full space fits in `q`."""
    xmin, _, xmax, _ = q.bounds
    lo, hi = xmin - 1.0, xmax + 1.0
    strips = shapely.box(lo, rows, hi, rows + depth)
    outside = shapely.difference(strips, q)
    parts, idx = shapely.get_parts(outside, return_index=True)
    keep = shapely.area(parts) > _SLIVER_M2
    parts, idx = parts[keep], idx[keep]
    bounds = shapely.bounds(parts)
    out: list[list[tuple[float, float]]] = []
    for r in range(len(rows)):
        mine = bounds[idx == r]
        blocked = sorted(zip(mine[:, 0].tolist(), mine[:, 2].tolist(), strict=True))
        free: list[tuple[float, float]] = []
        cursor = lo
        for a, b in blocked:
            if a > cursor:
                free.append((cursor, a))
            cursor = max(cursor, b)
        if cursor < hi:
            free.append((cursor, hi))
        # a strip with nothing outside it would run past the polygon: cannot happen, as
        # the strip is wider than q; guard anyway by clipping to q's extent
        out.append([(max(a, xmin), min(b, xmax)) for a, b in free if min(b, xmax) > max(a, xmin)])
    return out


def _fits_at(
    intervals: list[tuple[float, float]], starts: list[float], x: float, w: float
) -> float:
    """End of the interval holding ``[x, x + w]``, or NaN."""
    k = bisect.bisect_right(starts, x + EPS) - 1
    if k >= 0 and x + w <= intervals[k][1] + EPS:
        return intervals[k][1]
    return math.nan


def _place_stack(
    free: list[list[tuple[float, float]]], ru: StallRules
) -> tuple[list[tuple[float, int, int]], float]:
    """Greedy columns along a stack of rows: ``[(x, row in stack, block)]`` and the slack.

    Columns go left to right; a block closes when the next column would make
    it longer than the block length or hold more bikes than allowed, and the
    next block starts at least the block gap further on. Columns closer than
    the gap to the previous one (across a blocked stretch) join its block.
    The slack is how far every column could move right and stay inside.
    """
    w = ru.width
    usable = [[iv for iv in row if iv[1] - iv[0] + EPS >= w] for row in free]
    starts = [[iv[0] for iv in row] for row in usable]
    all_starts = sorted({a for row in usable for a, _ in row})
    if not all_starts:
        return [], 0.0
    placed: list[tuple[float, int, int]] = []
    slack = math.inf
    x = all_starts[0]
    block, block_start, block_bikes, last_end = 0, math.nan, 0, -math.inf
    while True:
        ends = [_fits_at(usable[r], starts[r], x, w) for r in range(len(usable))]
        rows = [r for r, e in enumerate(ends) if not math.isnan(e)]
        if not rows:
            k = bisect.bisect_right(all_starts, x + EPS)
            if k == len(all_starts):
                break
            x = all_starts[k]
            continue
        joins = block > 0 and x - last_end < ru.gap - EPS
        if joins and (
            x + w - block_start > ru.block_len + EPS or block_bikes + len(rows) > ru.block_bikes
        ):
            x = last_end + ru.gap  # the block is full: the next one starts a gap further on
            continue
        if not joins:
            block, block_start, block_bikes = block + 1, x, 0
        rows = rows[: ru.block_bikes - block_bikes]
        for r in rows:
            placed.append((x, r, block))
            slack = min(slack, ends[r] - (x + w))
        block_bikes += len(rows)
        last_end = x + w
        x = last_end
    return placed, max(slack, 0.0)


@dataclass
class _Trial:
    count: int
    angle: float
    rows: _F
    aisles: _F
    stalls: list[tuple[float, float, int]]  # x, y, block


def _trial(q: BaseGeometry, angle: float, top: bool, ru: StallRules) -> _Trial:
    """Lay out `q` (already turned so the rows run along x) with the pattern at one side."""
    _, y0, _, y1 = q.bounds
    offsets, aisle_offsets, used = _pattern(y1 - y0, ru)
    if not offsets:
        return _Trial(0, angle, np.empty(0), np.empty(0), [])
    inset = min(TOLERANCE_M / 2, max(y1 - y0 - used, 0.0) / 2)
    rows = np.asarray(offsets)
    aisles = np.asarray(aisle_offsets)
    if top:  # mirror the pattern and put it flush to the far side
        rows = (y1 - inset - used) + (used - rows - ru.depth)
        aisles = (y1 - inset - used) + (used - aisles - ru.aisle)
    else:
        rows = y0 + inset + rows
        aisles = y0 + inset + aisles
    order = np.argsort(rows)
    rows = rows[order]
    free = _free_intervals(q, rows, ru.depth)
    stalls: list[tuple[float, float, int]] = []
    blocks_so_far = 0
    for stack in _stacks(rows.tolist(), ru):
        placed, slack = _place_stack([free[i] for i in stack], ru)
        shift = min(TOLERANCE_M / 2, slack / 2)
        stalls += [(x + shift, float(rows[stack[r]]), blocks_so_far + b) for x, r, b in placed]
        blocks_so_far += max((b for _, _, b in placed), default=0)
    return _Trial(len(stalls), angle, rows, aisles, stalls)


def _edge_frames(geoms: NDArray[np.object_]) -> tuple[_F, _F, _F, NDArray[np.object_]]:
    """Each polygon's frame along its longest exterior edge (vectorised).

    Returns the edge direction (degrees, 0-180), the extents along and across
    it, and the bounding rectangle in that frame. For a rectangle the frame is
    its own sides, exactly (``oriented_envelope`` may be off by 1e-4 degrees).
    Geometries that are not single polygons give NaN and None.
    """
    n = len(geoms)
    angle, along, across = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    rects = np.full(n, None, dtype=object)
    poly = np.flatnonzero(shapely.get_type_id(geoms) == 3)
    poly = poly[~shapely.is_empty(geoms[poly])]
    if not len(poly):
        return angle, along, across, rects
    xy, idx = shapely.get_coordinates(shapely.get_exterior_ring(geoms[poly]), return_index=True)
    same = idx[1:] == idx[:-1]
    d = np.diff(xy, axis=0)[same]
    seg_of = idx[:-1][same]
    length = np.hypot(d[:, 0], d[:, 1])
    order = np.lexsort((-length, seg_of))
    first = order[np.r_[True, seg_of[order][1:] != seg_of[order][:-1]]]
    theta = np.arctan2(d[first, 1], d[first, 0])
    start = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])  # each ring's first coordinate
    c, s = np.cos(theta)[idx], np.sin(theta)[idx]
    o = xy[start]
    rel = xy - o[idx]
    u = c * rel[:, 0] + s * rel[:, 1]
    v = -s * rel[:, 0] + c * rel[:, 1]
    umin, umax = np.minimum.reduceat(u, start), np.maximum.reduceat(u, start)
    vmin, vmax = np.minimum.reduceat(v, start), np.maximum.reduceat(v, start)
    cu = np.stack([umin, umax, umax, umin, umin], axis=1)
    cv = np.stack([vmin, vmin, vmax, vmax, vmin], axis=1)
    cs, sn = np.cos(theta)[:, None], np.sin(theta)[:, None]
    ring = np.stack([o[:, :1] + cs * cu - sn * cv, o[:, 1:] + sn * cu + cs * cv], axis=2)
    rects[poly] = shapely.polygons(ring)
    angle[poly] = np.degrees(theta) % 180.0
    along[poly], across[poly] = umax - umin, vmax - vmin
    return angle, along, across, rects


def _rectangular(geoms: NDArray[np.object_], rects: NDArray[np.object_]) -> NDArray[np.bool_]:
    """True where the edge-frame rectangle lies within half the tolerance of the polygon."""
    out = np.zeros(len(geoms), dtype=bool)
    has = np.flatnonzero(~shapely.is_missing(rects))
    if len(has):
        grown = shapely.buffer(geoms[has], TOLERANCE_M / 2, join_style="mitre")
        out[has] = shapely.covers(grown, rects[has])
    return out


def _angles(poly: BaseGeometry) -> tuple[list[float], BaseGeometry]:
    """Row directions to try (long axis first) and the shape to lay out.

    A rectangle (within tolerance) is laid out as its edge-frame rectangle,
    along and across its long side. Anything else keeps its shape and tries
    the minimum rotated rectangle's axes, then the longest edge's.
    """
    geoms = np.array([poly], dtype=object)
    angle, along, across, rects = _edge_frames(geoms)
    edge = float(angle[0]) if np.isfinite(angle[0]) else None
    if edge is not None and _rectangular(geoms, rects)[0]:
        base = edge if along[0] >= across[0] else (edge + 90.0) % 180.0
        return [base, (base + 90.0) % 180.0], rects[0]
    rect = shapely.oriented_envelope(poly)
    out: list[float] = []
    if rect.geom_type == "Polygon":
        ring = np.asarray(rect.exterior.coords)
        sides = np.diff(ring[:3], axis=0)
        long_side = sides[int(np.argmax(np.hypot(sides[:, 0], sides[:, 1])))]
        base = math.degrees(math.atan2(long_side[1], long_side[0])) % 180.0
        out = [base, (base + 90.0) % 180.0]
    if edge is not None:
        diff = (edge - out[0]) % 90.0 if out else 45.0
        if min(diff, 90.0 - diff) > 1.0:
            out += [edge, (edge + 90.0) % 180.0]
    return out or [0.0, 90.0], poly


def _empty_layout(angle: float = 0.0) -> StallLayout:
    empty = gpd.GeoSeries([], dtype="geometry")
    return StallLayout(empty, np.empty(0, dtype=np.int64), 0, 0, 0, 0, angle, empty)


def _polygon(site: Any) -> BaseGeometry | None:
    if isinstance(site, gpd.GeoSeries | gpd.GeoDataFrame):
        if len(site) != 1:
            raise GridGISError(
                f"layout_stalls lays out one site: pass one polygon, got {len(site)} geometries"
            )
        site = site.geometry.iloc[0]
    if site is None:
        return None
    if not isinstance(site, BaseGeometry):
        raise GridGISError(
            f"site_geometry_metric must be a shapely Polygon in metres, got {type(site).__name__}"
        )
    if site.is_empty:
        return None
    if shapely.get_type_id(site) not in (3, 6):
        raise GridGISError(
            f"site_geometry_metric must be a Polygon or MultiPolygon, got a {site.geom_type}"
        )
    if not site.is_valid:
        site = shapely.make_valid(site)
    return site


@dataclass(frozen=True)
class _PartLayout:
    """The best trial for one part of a site, and what turns it back onto the part."""

    part: BaseGeometry
    origin: tuple[float, float]  # centre of the rotation
    turned: BaseGeometry  # the part (grown by the tolerance) turned by -trial.angle
    trial: _Trial


def _part_layouts(site: BaseGeometry, ru: StallRules) -> list[_PartLayout]:
    """The best trial for each part of `site` that holds stalls, in part order."""
    out: list[_PartLayout] = []
    for part in getattr(site, "geoms", [site]):
        if part.area <= 0:
            continue
        angles, shape = _angles(part)
        c = shape.centroid
        origin = (c.x, c.y)
        q_tol = shapely.buffer(shape, TOLERANCE_M / 2, join_style="mitre")
        best: tuple[BaseGeometry, _Trial] | None = None
        for angle in angles:
            q = _rotate(q_tol, -angle, origin)
            for top in (False, True):
                trial = _trial(q, angle, top, ru)
                if best is None or trial.count > best[1].count:
                    best = (q, trial)
        if best is not None and best[1].count > 0:
            out.append(_PartLayout(part, origin, best[0], best[1]))
    return out


def _count_stalls(site: Any, ru: StallRules) -> tuple[int, int]:
    """Stalls and blocks `layout_stalls` lays out in `site`, without building their shapes."""
    polygon = _polygon(site)
    blocks: list[int] = []
    for part in [] if polygon is None else _part_layouts(polygon, ru):
        offset = max(blocks, default=0)
        blocks += [offset + b for _, _, b in part.trial.stalls]
    return len(blocks), len(set(blocks))


def layout_stalls(
    site_geometry_metric: BaseGeometry, *, settings: Settings, aisle_m: float | None = None
) -> StallLayout:
    """Fill a shed site with e-bike spaces, aisles and blocks.

    Parameters
    ----------
    site_geometry_metric
        The site polygon in a metric CRS (metres); a one-row GeoSeries works too.
        Parts of a MultiPolygon are laid out one after the other (blocks in
        different parts are not kept 2 m apart: draw one polygon per shed).
    settings
        Project settings: space size, block limits and gap, aisle width,
        charging ratios (``rules``).
    aisle_m
        Aisle width in metres; default ``rules.shed_aisle_width_m``.

    Returns
    -------
    StallLayout
        Stall rectangles (each fully inside the site, up to `TOLERANCE_M` / 2 of
        digitising noise, none overlapping), their blocks, count, charging
        ports, circuits, row direction and aisles.

    Raises
    ------
    GridGISError
        Not a polygon, or `aisle_m` negative.
    SettingsError
        A space size or block limit that is not > 0.

    Examples
    --------
    >>> from shapely import box
    >>> from gridgis.core.settings import default_settings
    >>> lay = layout_stalls(box(0, 0, 10, 6), settings=default_settings(), aisle_m=1.5)
    >>> lay.count, lay.blocks, round(lay.orientation_deg)  # 1.5 m aisle < 2 m gap: one block
    (24, 1, 0)
    """
    ru = stall_rules(settings, aisle_m)
    site = _polygon(site_geometry_metric)
    if site is None:
        return _empty_layout()
    parts = _part_layouts(site, ru)
    stalls: list[NDArray[np.object_]] = []
    aisles: list[BaseGeometry] = []
    blocks: list[int] = []
    for part in parts:
        best = part.trial
        offset = max(blocks, default=0)
        xs = np.array([s[0] for s in best.stalls])
        ys = np.array([s[1] for s in best.stalls])
        boxes = shapely.box(xs, ys, xs + ru.width, ys + ru.depth)
        stalls.append(_rotate(boxes, best.angle, part.origin))
        blocks += [offset + s[2] for s in best.stalls]
        if len(best.aisles):
            xmin, _, xmax, _ = part.turned.bounds
            strips = shapely.box(xmin, best.aisles, xmax, best.aisles + ru.aisle)
            clipped = shapely.intersection(_rotate(strips, best.angle, part.origin), part.part)
            aisles += [g for g in clipped if not g.is_empty and g.area > _SLIVER_M2]
    if not stalls:
        return _empty_layout()
    count = len(blocks)  # one block number per stall
    ports, circuits = charging(count, settings=settings)
    return StallLayout(
        stalls=gpd.GeoSeries(np.concatenate(stalls)),
        block=np.asarray(blocks, dtype=np.int64),
        count=count,
        charging_ports=ports,
        circuits=circuits,
        blocks=len(set(blocks)),
        orientation_deg=round(float(parts[0].trial.angle), 6),
        aisles=gpd.GeoSeries(aisles, dtype="geometry"),
    )


def stall_counts(
    geoms: ArrayLike, *, settings: Settings, aisle_m: float | None = None
) -> pd.DataFrame:
    """Stalls and blocks of many sites: what `layout_stalls` gives for each.

    Rectangles (within 5 mm) are counted in closed form (`rectangle_stalls`),
    all at once; any other shape is laid out as by `layout_stalls` (counted
    without building the stall shapes).

    Parameters
    ----------
    geoms
        Site polygons in a metric CRS (array-like of shapely geometries).
    settings, aisle_m
        As in `layout_stalls`.

    Returns
    -------
    DataFrame
        Positional (0..n-1): ``count`` and ``blocks`` (int), ``rectangle`` (bool).

    Examples
    --------
    >>> from shapely import box, union_all
    >>> from gridgis.core.settings import default_settings
    >>> ell = union_all([box(0, 0, 10, 3), box(0, 0, 3, 10)])
    >>> stall_counts([box(0, 0, 20, 6.2), ell], settings=default_settings())["count"].tolist()
    [50, 18]
    """
    count, blocks, rect = stall_arrays(geoms, settings=settings, aisle_m=aisle_m)
    return pd.DataFrame({"count": count, "blocks": blocks, "rectangle": rect}, copy=False)


def stall_arrays(
    geoms: ArrayLike, *, settings: Settings, aisle_m: float | None = None
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """`stall_counts` as arrays (count, blocks, rectangle), without a frame."""
    g = np.asarray(geoms, dtype=object).reshape(-1)
    n = len(g)
    count = np.zeros(n, dtype=np.int64)
    blocks = np.zeros(n, dtype=np.int64)
    present = ~(shapely.is_missing(g) | shapely.is_empty(g))
    present[present] = shapely.area(g[present]) > 0
    if not present.any():  # nothing to lay out: the rules are not even read
        return count, blocks, present
    ru = stall_rules(settings, aisle_m)
    shown = g.copy()
    shown[~present] = None
    _, along, across, rects = _edge_frames(shown)
    rect = present & _rectangular(shown, rects)
    if rect.any():
        count[rect], blocks[rect], _ = rectangle_arrays(along[rect], across[rect], ru)
    for pos in np.flatnonzero(present & ~rect):
        count[pos], blocks[pos] = _count_stalls(g[pos], ru)
    return count, blocks, rect
