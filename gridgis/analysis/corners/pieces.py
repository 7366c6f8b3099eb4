"""The free space cut along facades and path ends into pieces; small pieces merged."""

from __future__ import annotations

import logging

import numpy as np
import shapely
from numpy.typing import NDArray

from gridgis.analysis.corners.geometry import (
    FloatArray,
    ObjArray,
    first_per_group,
    grouped_union,
    padded,
)

__all__ = ["merge_small", "split_free_space"]

log = logging.getLogger(__name__)


def _rays(segments: FloatArray, min_edge: float) -> tuple[FloatArray, FloatArray]:
    """Segments at least `min_edge` long, extended beyond both ends: ray starts and directions."""
    p, q = segments[:, 0], segments[:, 1]
    d = q - p
    length = np.hypot(d[:, 0], d[:, 1])
    keep = length >= max(min_edge, 1e-6)
    p, q, u = p[keep], q[keep], d[keep] / length[keep, None]
    return np.concatenate([q, p]), np.concatenate([u, -u])


def _outline(free: ObjArray) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
    """Segments ``a -> b`` of the rings of each free space, and the compound of each."""
    parts, part_of = shapely.get_parts(free, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, seg_ring = shapely.get_coordinates(rings, return_index=True)
    same = seg_ring[1:] == seg_ring[:-1]
    return xy[:-1][same], xy[1:][same], part_of[ring_of[seg_ring[:-1][same]]]


def _first_hits(
    start: FloatArray,
    u: FloatArray,
    owner: NDArray[np.intp],
    outline: tuple[FloatArray, FloatArray, NDArray[np.intp]],
    tree: shapely.STRtree,
    reach: float,
) -> tuple[FloatArray, NDArray[np.intp], FloatArray]:
    """Where each ray from `start` along `u` first meets its compound's free-space outline.

    Ray casting: an STRtree finds the outline segments near each ray, a
    vectorised line-line intersection the hits. Returns the distance run (NaN
    where nothing is met within `reach`), the segment hit (-1) and where on it (0-1).
    """
    a, b, seg_owner = outline
    tol = 1e-6  # metres: coordinates round-tripped through lon/lat are off by ~1e-9
    lo, hi = np.minimum(start, start + reach * u) - tol, np.maximum(start, start + reach * u) + tol
    boxes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])
    ri, sj = tree.query(boxes)
    ok = owner[ri] == seg_owner[sj]
    ri, sj = ri[ok], sj[ok]
    d = b[sj] - a[sj]
    w = a[sj] - start[ri]
    denom = u[ri, 0] * d[:, 1] - u[ri, 1] * d[:, 0]
    parallel = np.abs(denom) < 1e-12
    safe = np.where(parallel, 1.0, denom)
    t = (w[:, 0] * d[:, 1] - w[:, 1] * d[:, 0]) / safe
    along = (w[:, 0] * u[ri, 1] - w[:, 1] * u[ri, 0]) / safe
    slack = tol / np.maximum(np.hypot(d[:, 0], d[:, 1]), tol)
    hit = ~parallel & (t > 1e-6) & (along >= -slack) & (along <= 1 + slack)
    ri, sj, t, along = ri[hit], sj[hit], t[hit], along[hit]
    run, seg, where = np.full(len(start), np.nan), np.full(len(start), -1), np.zeros(len(start))
    if len(ri):
        first = first_per_group(ri, -t)
        run[ri[first]], seg[ri[first]] = t[first], sj[first]
        where[ri[first]] = np.clip(along[first], 0.0, 1.0)
    return run, seg, where


def _pieces(
    key: NDArray[np.intp], pos: FloatArray, xy: FloatArray
) -> tuple[FloatArray, NDArray[np.intp]]:
    """Chop polylines at their break points: consecutive points of one key, by position."""
    order = np.lexsort((pos, key))
    key, xy = key[order], xy[order]
    same = key[1:] == key[:-1]
    return np.stack([xy[:-1][same], xy[1:][same]], axis=1), key[:-1][same]


def split_free_space(
    compound: ObjArray, free: ObjArray, segments: FloatArray, min_edge: float
) -> tuple[ObjArray, NDArray[np.intp]]:
    """Cut each compound's free space along building facades and path ends, extended.

    Every segment of `segments` (the edges of the buildings' clearance, the
    flat ends of paths) at least `min_edge` long is extended beyond both ends
    until it meets the outline of the free space (the boundary or another
    zone): the lines along which a planner reads a site plan. The outline and
    the cut lines are noded here (every crossing computed once, coordinates
    on a 1 um grid) and polygonized per compound. Returns the faces and the
    compound of each.
    """
    n = len(compound)
    if len(segments) == 0:
        return free.copy(), np.arange(n)
    xmin, ymin, xmax, ymax = shapely.bounds(compound).T
    reach = float(np.nanmax(np.hypot(xmax - xmin, ymax - ymin))) + 1.0
    start, u = _rays(segments, min_edge)
    ri, owner = shapely.STRtree(compound).query(shapely.points(start), predicate="intersects")
    start, u = start[ri], u[ri]
    shapely.prepare(free)  # many point-in-polygon tests below
    outline = _outline(free)
    a, b, seg_owner = outline
    tree = shapely.STRtree(shapely.linestrings(np.stack([a, b], axis=1)))
    run, seg, where = _first_hits(start, u, owner, outline, tree, reach)
    # keep rays that run through free space (not into a zone or along the outline)
    mid = start + (np.nan_to_num(run) / 2)[:, None] * u
    ok = (run > 1e-3) & shapely.intersects_xy(free[owner], mid[:, 0], mid[:, 1])
    ok &= ~shapely.touches(free[owner], shapely.points(mid))
    start, u, run, owner, seg, where = start[ok], u[ok], run[ok], owner[ok], seg[ok], where[ok]
    end = start + run[:, None] * u
    # the same ray twice (facing facades extend onto each other): keep one
    p0, p1 = np.round(start, 6), np.round(end, 6)
    first = (p0[:, 0] < p1[:, 0]) | ((p0[:, 0] == p1[:, 0]) & (p0[:, 1] <= p1[:, 1]))
    lo, hi = np.where(first[:, None], p0, p1), np.where(first[:, None], p1, p0)
    _, once = np.unique(np.column_stack([lo, hi, owner]), axis=0, return_index=True)
    start, end, owner, seg, where = start[once], end[once], owner[once], seg[once], where[once]
    # rays crossing rays of the same compound
    m = len(start)
    rays = shapely.linestrings(np.stack([start, end], axis=1))
    i, j = shapely.STRtree(rays).query(rays)
    keep = (i < j) & (owner[i] == owner[j])
    i, j = i[keep], j[keep]
    di, dj, w = end[i] - start[i], end[j] - start[j], start[j] - start[i]
    denom = di[:, 0] * dj[:, 1] - di[:, 1] * dj[:, 0]
    safe = np.where(np.abs(denom) < 1e-12, np.nan, denom)
    t = (w[:, 0] * dj[:, 1] - w[:, 1] * dj[:, 0]) / safe
    s = (w[:, 0] * di[:, 1] - w[:, 1] * di[:, 0]) / safe
    cross = (t > 1e-9) & (t < 1 - 1e-9) & (s > 1e-9) & (s < 1 - 1e-9)
    i, j, t, s = i[cross], j[cross], t[cross], s[cross]
    x = start[i] + t[:, None] * di[cross]
    ray_pieces, ray_of = _pieces(
        np.concatenate([np.arange(m), np.arange(m), i, j]),
        np.concatenate([np.zeros(m), np.ones(m), t, s]),
        np.concatenate([start, end, x, x]),
    )
    # the outline, broken where rays end on it (and where they start, if not at a vertex)
    k = len(a)
    # starts are zone corners, nearly always outline vertices already; search the rest
    vertex = np.column_stack([np.round(a, 6), seg_owner])
    probe = np.column_stack([np.round(start, 6), owner])
    known = np.unique(vertex, axis=0)
    at = np.searchsorted(
        known.view([("", float)] * 3).ravel(), probe.view([("", float)] * 3).ravel()
    )
    at = np.minimum(at, len(known) - 1)
    loose = np.flatnonzero(~(known[at] == probe).all(axis=1))
    sp, ss = tree.query(shapely.points(start[loose]), predicate="dwithin", distance=1e-7)
    sp = loose[sp]
    sp, ss = sp[owner[sp] == seg_owner[ss]], ss[owner[sp] == seg_owner[ss]]
    d = b[ss] - a[ss]
    along = ((start[sp] - a[ss]) * d).sum(axis=1) / np.maximum((d * d).sum(axis=1), 1e-18)
    outline_pieces, outline_of = _pieces(
        np.concatenate([np.arange(k), np.arange(k), seg, ss]),
        np.concatenate([np.zeros(k), np.ones(k), where, along]),
        np.concatenate([a, b, end, start[sp]]),
    )
    lines = np.round(np.concatenate([outline_pieces, ray_pieces]), 6)
    line_owner = np.concatenate([seg_owner[outline_of], owner[ray_of]])
    real = np.any(lines[:, 0] != lines[:, 1], axis=1)
    lines, line_owner = lines[real], line_owner[real]
    linework = padded(n, line_owner, shapely.linestrings(lines))
    faces, faces_of = shapely.get_parts(shapely.polygonize(linework, axis=1), return_index=True)
    inside = shapely.covered_by(shapely.point_on_surface(faces), free[faces_of])
    faces, faces_of = faces[inside], faces_of[inside]
    # a compound whose faces do not add up to its free space (a noding slip): not cut
    area = shapely.area(free)
    slip = np.abs(np.bincount(faces_of, shapely.area(faces), minlength=n) - area) > 1e-6 * (
        area + 1.0
    )
    if slip.any():
        log.warning("could not cut the free space of %d compound(s); kept whole", slip.sum())
        whole, whole_of = shapely.get_parts(free[slip], return_index=True)
        keep = ~slip[faces_of]
        faces = np.concatenate([faces[keep], whole])
        faces_of = np.concatenate([faces_of[keep], np.flatnonzero(slip)[whole_of]])
    return faces, faces_of


def _shared_edges(faces: ObjArray) -> tuple[NDArray[np.intp], NDArray[np.intp], FloatArray]:
    """Pairs of faces sharing edges, and the shared length (faces of one noded linework).

    Faces from one polygonize share their edges vertex for vertex, so a shared
    edge is the same segment (rounded to 1 um) in both faces' rings.
    """
    rings, ring_face = shapely.get_rings(faces, return_index=True)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    a, b = np.round(xy[:-1][same], 6), np.round(xy[1:][same], 6)
    face = ring_face[ring_of[:-1][same]]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    lo, hi = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
    _, edge, count = np.unique(
        np.column_stack([lo, hi]), axis=0, return_inverse=True, return_counts=True
    )
    edge = edge.ravel()
    twice = np.flatnonzero(count[edge] == 2)
    twice = twice[np.argsort(edge[twice], kind="stable")]
    pair_face = face[twice].reshape(-1, 2)
    first = twice[::2]
    length = np.hypot(*(hi[first] - lo[first]).T)
    return pair_face[:, 0], pair_face[:, 1], length


def merge_small(
    faces: ObjArray, owner: NDArray[np.intp], min_width: float, min_area: float
) -> tuple[ObjArray, NDArray[np.intp]]:
    """Merge faces thinner than `min_width` or smaller than `min_area` into a neighbour.

    Each such face joins the face of the same compound it shares the longest
    edge with, preferring one that is not small itself (slivers between two
    nearly parallel cut lines, bits where cuts cross); chains of merges are
    joined whole.
    """
    n = len(faces)
    if n < 2:
        return faces, owner
    area = shapely.area(faces)
    # every point lies within the inradius r of the boundary, so area <= perimeter * r:
    # only faces with 2 * area / perimeter < min_width can be thinner than min_width
    maybe = np.flatnonzero(2 * area < min_width * shapely.length(faces))
    thin = np.zeros(n, dtype=bool)
    thin[maybe] = shapely.is_empty(
        shapely.buffer(faces[maybe], -0.499 * min_width, join_style="mitre")
    )
    small = thin | (area < min_area)
    if not small.any():
        return faces, owner
    f1, f2, length = _shared_edges(faces)
    i = np.concatenate([f1, f2])
    j = np.concatenate([f2, f1])
    w = np.concatenate([length, length])
    mine = small[i] & (owner[i] == owner[j]) & (i != j)
    i, j, w = i[mine], j[mine], w[mine]
    if not len(i):
        return faces, owner
    pair, inverse = np.unique(np.column_stack([i, j]), axis=0, return_inverse=True)
    total = np.asarray(np.bincount(inverse.ravel(), weights=w), dtype=float)  # typed as ints
    score = total + np.where(small[pair[:, 1]], 0.0, 1e9)
    best = first_per_group(pair[:, 0], score)
    parent = np.arange(n)
    parent[pair[best, 0]] = pair[best, 1]
    for _ in range(n):  # follow chains to their end (a 2-cycle ends at the smaller id)
        nxt = parent[parent]
        nxt = np.where(parent[nxt] == parent, np.minimum(parent, nxt), nxt)
        if np.array_equal(nxt, parent):
            break
        parent = nxt
    roots, group = np.unique(parent, return_inverse=True)
    return grouped_union(len(roots), group.ravel(), faces), owner[roots]
