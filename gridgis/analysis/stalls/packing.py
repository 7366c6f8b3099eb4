"""The packing behind `gridgis.analysis.stalls.layout`: rows, blocks and orientations.

Across the rows the pattern is bays (row | aisle | row); along the rows,
columns of spaces are packed greedily into blocks (`StallRules` limits, the
block gap between blocks). `part_layouts` tries each orientation of
`edge_frames` / the minimum rotated rectangle, with the pattern flush to
either side, and keeps the one with the most stalls (see the layout module's
docstring for the rules and the tolerances).

Examples
--------
>>> from shapely import box
>>> from gridgis.analysis.stalls.closedform import stall_rules
>>> from gridgis.core.settings import default_settings
>>> [p.trial.count for p in part_layouts(box(0, 0, 20, 6.2), stall_rules(default_settings(), None))]
[50]
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from gridgis.analysis.stalls.closedform import EPS, TOLERANCE_M, StallRules

__all__ = [
    "SLIVER_M2",
    "PartLayout",
    "Trial",
    "edge_frames",
    "part_layouts",
    "rectangular",
    "rotate",
]

_F = NDArray[np.float64]

SLIVER_M2 = 1e-7
"""Pieces of a row strip outside the polygon smaller than this (m2) are noise."""


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


def rotate(geoms: Any, angle_deg: float, origin: tuple[float, float]) -> Any:
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
    keep = shapely.area(parts) > SLIVER_M2
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
class Trial:
    """One orientation's layout of a part, in the turned frame (rows along x)."""

    count: int
    angle: float
    rows: _F
    aisles: _F
    stalls: list[tuple[float, float, int]]  # x, y, block


def _trial(q: BaseGeometry, angle: float, top: bool, ru: StallRules) -> Trial:
    """Lay out `q` (already turned so the rows run along x) with the pattern at one side."""
    _, y0, _, y1 = q.bounds
    offsets, aisle_offsets, used = _pattern(y1 - y0, ru)
    if not offsets:
        return Trial(0, angle, np.empty(0), np.empty(0), [])
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
    return Trial(len(stalls), angle, rows, aisles, stalls)


def edge_frames(geoms: NDArray[np.object_]) -> tuple[_F, _F, _F, NDArray[np.object_]]:
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


def rectangular(geoms: NDArray[np.object_], rects: NDArray[np.object_]) -> NDArray[np.bool_]:
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
    angle, along, across, rects = edge_frames(geoms)
    edge = float(angle[0]) if np.isfinite(angle[0]) else None
    if edge is not None and rectangular(geoms, rects)[0]:
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


@dataclass(frozen=True)
class PartLayout:
    """The best trial for one part of a site, and what turns it back onto the part."""

    part: BaseGeometry
    origin: tuple[float, float]  # centre of the rotation
    turned: BaseGeometry  # the part (grown by the tolerance) turned by -trial.angle
    trial: Trial


def part_layouts(site: BaseGeometry, ru: StallRules) -> list[PartLayout]:
    """The best trial for each part of `site` that holds stalls, in part order."""
    out: list[PartLayout] = []
    for part in getattr(site, "geoms", [site]):
        if part.area <= 0:
            continue
        angles, shape = _angles(part)
        c = shape.centroid
        origin = (c.x, c.y)
        q_tol = shapely.buffer(shape, TOLERANCE_M / 2, join_style="mitre")
        best: tuple[BaseGeometry, Trial] | None = None
        for angle in angles:
            q = rotate(q_tol, -angle, origin)
            for top in (False, True):
                trial = _trial(q, angle, top, ru)
                if best is None or trial.count > best[1].count:
                    best = (q, trial)
        if best is not None and best[1].count > 0:
            out.append(PartLayout(part, origin, best[0], best[1]))
    return out
