"""Golden corners (金角银边): the leftover spaces of a compound, found and ranked.

`find_corners` takes each compound polygon and removes

- buildings, grown by ``corners.building_clearance_m`` (a walkway and drip
  line: a modest 2 m by default, not the 6 m shed setback, which would rule
  out gardens; each candidate reports ``nearest_building_m`` instead, and a
  shed is suggested only where it meets ``rules.shed_setback_from_openings_m``);
- fire lanes, kept ``rules.fire_lane_clear_width_m`` wide (or their
  ``width_m`` when wider; polygon lanes as drawn);
- other paths by their ``width_m`` (``corners.path_width_fallback_m`` when
  missing; polygon paths as drawn);
- existing sites (except those with ``status`` rejected).

What is left is cut along the buildings' facades (their clearance edges) and
the flat ends of paths, each extended until it meets the wall or another
obstacle: the lines a planner reads a site plan by. Pieces thinner than
``corners.min_width_m`` or smaller than ``corners.min_area_m2`` merge into the
neighbour they share most edge with; non-convex pieces are opened by half the
minimum width (necks narrower than that split them); pieces of at least the
minimum area and width are the candidates. Each is a

- ``corner``: hard sides (the compound boundary, or a building's clearance)
  in two directions at least 30 degrees apart, each at least
  ``max(min_width_m, sqrt(area) / 4)`` long: the boundary on two sides meeting
  at an angle, or a nook between buildings and the boundary;
- ``edge``: a strip along the boundary (at least ``corners.edge_strip_aspect``
  times longer than wide, with boundary along half its length), or any other
  space touching the boundary over that side length (银边);
- ``open``: the rest.

The score is the weighted mean (``corners.weight_*``) of usable area
(``min(area, useful_area_m2) / useful_area_m2``), compactness (area / minimum
rotated rectangle area: 1 for a rectangle) and the households of the same
compound within ``corners.reach_m`` (straight line, edge to edge), each
weighted ``1 - distance / reach_m`` and taken relative to the best candidate;
rank 1 is the best. The suggested site type is the first of
``corners.suggest_types`` whose minimum area and width the candidate meets; a
type with the ``bike_stalls`` rule also needs the shed setback and at least
one stall, and ``bikes`` is then its `gridgis.analysis.stalls.layout` count. `compare_spaces`
shows what the survey found (``spaces`` of kind golden_corner or neglected)
beside what the tool found, and what took the rest; `candidate_to_site`
adopts a candidate as a site.

Examples
--------
>>> from gridgis.core.project import open_project
>>> corners = find_corners(open_project("data/dongsi180"))
>>> list(corners.columns[:4])
['candidate_id', 'rank', 'score', 'kind']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from gridgis.analysis.metrics import geometry_metrics
from gridgis.analysis.stalls.layout import stall_counts
from gridgis.core.project import Project
from gridgis.core.schema import resolve_households
from gridgis.core.settings import Settings
from gridgis.errors import GridGISError

__all__ = [
    "CANDIDATE_COLUMNS",
    "SURVEY_KINDS",
    "candidate_to_site",
    "compare_spaces",
    "find_corners",
]

log = logging.getLogger(__name__)

SURVEY_KINDS = ("golden_corner", "neglected")
"""Kinds of surveyed ``spaces`` that the candidates are compared with."""

CANDIDATE_COLUMNS = (
    "candidate_id",
    "rank",
    "score",
    "kind",
    "compound",
    "area_m2",
    "min_width_m",
    "compactness",
    "boundary_m",
    "nearest_building_m",
    "nearest_building_id",
    "households_within_reach",
    "suggested_site_type",
    "bikes",
    "matches_space",
    "green_space",
)
"""Columns of `find_corners` (plus ``geometry``, EPSG:4326)."""

_ANGLE_DEG = 30.0  # hard sides at least this far apart in direction meet "at an angle"
_TOUCH_M = 0.05  # a candidate edge this close to the boundary or a clearance lies on it
_MATCH_M2 = 1.0  # overlap with a surveyed space that counts as having found it
_WIDTH_TOL_M = 0.01  # clear widths within 1 cm of a minimum meet it (digitising)

_Obj = NDArray[np.object_]
_F = NDArray[np.float64]


@dataclass
class _Zones:
    """Everything kept clear, in the metric CRS: one geometry per feature."""

    crs: pyproj.CRS
    compound: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame | None
    spaces: gpd.GeoDataFrame | None
    geoms: _Obj
    what: NDArray[np.str_]  # building, fire_lane, path, site
    ids: _Obj
    cuts: _F  # (n, 2, 2) segments whose extensions cut the free space: facades, path ends


def _metric(project: Project, name: str, crs: pyproj.CRS) -> gpd.GeoDataFrame | None:
    layer = project.layers.get(name)
    if layer is None or len(layer) == 0:
        return None
    layer = layer.to_crs(crs)
    ok = ~(layer.geometry.isna() | layer.geometry.is_empty).to_numpy()
    return layer[ok]


def _ids(frame: gpd.GeoDataFrame, column: str) -> _Obj:
    if column in frame:
        return frame[column].astype(str).to_numpy(dtype=object)
    return np.array([f"row {i + 1}" for i in range(len(frame))], dtype=object)


def _edges(polygons: _Obj) -> _F:
    """The exterior edges of polygons, as (n, 2, 2) segments."""
    rings = shapely.get_exterior_ring(shapely.get_parts(polygons))
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    return np.stack([xy[:-1][same], xy[1:][same]], axis=1)


def _end_caps(lines: _Obj, width: _F) -> _F:
    """The flat end of each line path: a segment across it, `width` long, at both ends."""
    parts, of = shapely.get_parts(lines, return_index=True)
    parts = parts[shapely.get_type_id(parts) == 1]
    of = of[shapely.get_type_id(shapely.get_parts(lines)) == 1]
    if not len(parts):
        return np.empty((0, 2, 2))
    xy, part_of = shapely.get_coordinates(parts, return_index=True)
    first = np.r_[0, np.flatnonzero(np.diff(part_of)) + 1]
    last = np.r_[first[1:], len(xy)] - 1
    ends = np.concatenate([xy[first], xy[last]])
    inward = np.concatenate([xy[first + 1] - xy[first], xy[last - 1] - xy[last]])
    norm = np.hypot(inward[:, 0], inward[:, 1])
    ok = norm > 1e-9
    across = np.column_stack([-inward[:, 1], inward[:, 0]]) / np.where(ok, norm, 1.0)[:, None]
    half = np.concatenate([width[of], width[of]])[:, None] / 2
    caps = np.stack([ends - half * across, ends + half * across], axis=1)
    return caps[ok]


def _zones(project: Project, settings: Settings) -> _Zones:
    crs = project.metric_crs()
    compound = _metric(project, "compound", crs)
    if compound is None:
        where = f"{project.path}: " if project.path else ""
        raise GridGISError(f"{where}layer compound: missing or empty; corners need the boundary")
    compound = compound[np.isin(shapely.get_type_id(compound.geometry.to_numpy()), (3, 6))]
    geoms: list[_Obj] = []
    what: list[str] = []
    ids: list[_Obj] = []
    cuts: list[_F] = [np.empty((0, 2, 2))]
    buildings = _metric(project, "buildings", crs)
    if buildings is not None:
        clearance = settings.corners.building_clearance_m.value
        grown = shapely.buffer(buildings.geometry.to_numpy(), clearance, join_style="mitre")
        geoms.append(grown)
        what += ["building"] * len(buildings)
        ids.append(_ids(buildings, "building_id"))
        cuts.append(_edges(grown))
    paths = _metric(project, "paths", crs)
    if paths is not None:
        g = paths.geometry.to_numpy()
        kind = paths["kind"].astype(str).to_numpy() if "kind" in paths else np.full(len(g), "")
        width = np.full(len(g), np.nan)
        if "width_m" in paths:
            width = pd.to_numeric(paths["width_m"], errors="coerce").to_numpy(dtype=float)
        lane = kind == "fire_lane"
        clear = settings.rules.fire_lane_clear_width_m.value
        fallback = settings.corners.path_width_fallback_m.value
        width = np.where(lane, np.fmax(width, clear), np.where(np.isnan(width), fallback, width))
        polygonal = np.isin(shapely.get_type_id(g), (3, 6))
        grown = shapely.buffer(g, width / 2, cap_style="flat", join_style="mitre")
        geoms.append(np.where(polygonal, g, grown))
        cuts.append(_end_caps(g[~polygonal], width[~polygonal]))
        what += np.where(lane, "fire_lane", "path").tolist()
        ids.append(_ids(paths, "path_id"))
    sites = _metric(project, "sites", crs)
    if sites is not None and "status" in sites:  # a rejected site frees its ground again
        sites = sites[sites["status"].astype(str).str.strip().str.lower() != "rejected"]
    if sites is not None:
        geoms.append(sites.geometry.to_numpy())
        what += ["site"] * len(sites)
        ids.append(_ids(sites, "site_id"))
    return _Zones(
        crs=crs,
        compound=compound,
        buildings=buildings,
        spaces=_metric(project, "spaces", crs),
        geoms=np.concatenate(geoms) if geoms else np.empty(0, dtype=object),
        what=np.asarray(what, dtype=str),
        ids=np.concatenate(ids) if ids else np.empty(0, dtype=object),
        cuts=np.concatenate(cuts),
    )


def _grouped_union(n: int, group: NDArray[np.intp], geoms: _Obj) -> _Obj:
    """Union of `geoms` per group 0..n-1 (empty collection for an empty group)."""
    if len(group) == 0:
        return np.array([shapely.GeometryCollection()] * n, dtype=object)
    counts = np.bincount(group, minlength=n)
    if counts.max() > 1 and (counts == 1).sum() > len(group) / 2:  # mostly singletons
        out = np.array([shapely.GeometryCollection()] * n, dtype=object)
        alone = counts[group] == 1
        out[group[alone]] = geoms[alone]
        many = np.flatnonzero(counts > 1)
        sub = _grouped_union(len(many), np.searchsorted(many, group[~alone]), geoms[~alone])
        out[many] = sub
        return out
    if int(counts.max()) * n <= 4 * len(group) + 10_000:  # one vectorised call
        return shapely.union_all(_padded(n, group, geoms), axis=1)
    order = np.argsort(group, kind="stable")  # very uneven groups: one call per group
    cuts = np.cumsum(counts)[:-1]
    return np.array(
        [shapely.union_all(part) for part in np.split(geoms[order], cuts)], dtype=object
    )


def _padded(n: int, group: NDArray[np.intp], geoms: _Obj) -> _Obj:
    """`geoms` as an (n, widest group) array, one row per group, padded with None."""
    counts = np.bincount(group, minlength=n)
    order = np.argsort(group, kind="stable")
    pos = np.arange(len(group)) - np.repeat(np.cumsum(counts) - counts, counts)
    grid = np.full((n, max(int(counts.max(initial=0)), 1)), None, dtype=object)
    grid[group[order], pos] = geoms[order]
    return grid


def _free_space(compound: _Obj, zones: _Obj) -> _Obj:
    """Each compound polygon minus the zones that touch it."""
    if len(zones) == 0:
        return compound.copy()
    ci, zj = shapely.STRtree(zones).query(compound, predicate="intersects")
    # not clipped first: a zone cut along the boundary would leave zero-width slivers
    return shapely.difference(compound, _grouped_union(len(compound), ci, zones[zj]))


def _rays(segments: _F, min_edge: float) -> tuple[_F, _F]:
    """Segments at least `min_edge` long, extended beyond both ends: ray starts and directions."""
    p, q = segments[:, 0], segments[:, 1]
    d = q - p
    length = np.hypot(d[:, 0], d[:, 1])
    keep = length >= max(min_edge, 1e-6)
    p, q, u = p[keep], q[keep], d[keep] / length[keep, None]
    return np.concatenate([q, p]), np.concatenate([u, -u])


def _outline(free: _Obj) -> tuple[_F, _F, NDArray[np.intp]]:
    """Segments ``a -> b`` of the rings of each free space, and the compound of each."""
    parts, part_of = shapely.get_parts(free, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, seg_ring = shapely.get_coordinates(rings, return_index=True)
    same = seg_ring[1:] == seg_ring[:-1]
    return xy[:-1][same], xy[1:][same], part_of[ring_of[seg_ring[:-1][same]]]


def _first_hits(
    start: _F,
    u: _F,
    owner: NDArray[np.intp],
    outline: tuple[_F, _F, NDArray[np.intp]],
    tree: shapely.STRtree,
    reach: float,
) -> tuple[_F, NDArray[np.intp], _F]:
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
        first = _first_per_group(ri, -t)
        run[ri[first]], seg[ri[first]] = t[first], sj[first]
        where[ri[first]] = np.clip(along[first], 0.0, 1.0)
    return run, seg, where


def _pieces(key: NDArray[np.intp], pos: _F, xy: _F) -> tuple[_F, NDArray[np.intp]]:
    """Chop polylines at their break points: consecutive points of one key, by position."""
    order = np.lexsort((pos, key))
    key, xy = key[order], xy[order]
    same = key[1:] == key[:-1]
    return np.stack([xy[:-1][same], xy[1:][same]], axis=1), key[:-1][same]


def _split(
    compound: _Obj, free: _Obj, segments: _F, min_edge: float
) -> tuple[_Obj, NDArray[np.intp]]:
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
    linework = _padded(n, line_owner, shapely.linestrings(lines))
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


def _shared_edges(faces: _Obj) -> tuple[NDArray[np.intp], NDArray[np.intp], _F]:
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


def _merge_small(
    faces: _Obj, owner: NDArray[np.intp], min_width: float, min_area: float
) -> tuple[_Obj, NDArray[np.intp]]:
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
    total = np.bincount(inverse.ravel(), weights=w)
    score = total + np.where(small[pair[:, 1]], 0.0, 1e9)
    best = _first_per_group(pair[:, 0], score)
    parent = np.arange(n)
    parent[pair[best, 0]] = pair[best, 1]
    for _ in range(n):  # follow chains to their end (a 2-cycle ends at the smaller id)
        nxt = parent[parent]
        nxt = np.where(parent[nxt] == parent, np.minimum(parent, nxt), nxt)
        if np.array_equal(nxt, parent):
            break
        parent = nxt
    roots, group = np.unique(parent, return_inverse=True)
    return _grouped_union(len(roots), group.ravel(), faces), owner[roots]


def _first_per_group(group: NDArray[np.intp], key: _F) -> NDArray[np.intp]:
    """Positions of the largest `key` in each group (groups in sorted order)."""
    order = np.lexsort((-key, group))
    return order[np.r_[True, group[order][1:] != group[order][:-1]]]


def _two_sides(n: int, part: NDArray[np.intp], angle: _F, length: _F) -> tuple[_F, _F]:
    """Per part: hard length along its longest hard edge's direction, and at an angle to it."""
    main, other = np.zeros(n), np.zeros(n)
    if len(part) == 0:
        return main, other
    first = _first_per_group(part, length)
    dominant = np.full(n, np.nan)
    dominant[part[first]] = angle[first]
    diff = np.abs(angle - dominant[part]) % 180.0
    at_angle = np.minimum(diff, 180.0 - diff) >= _ANGLE_DEG
    main += np.bincount(part[~at_angle], weights=length[~at_angle], minlength=n)
    other += np.bincount(part[at_angle], weights=length[at_angle], minlength=n)
    return main, other


def _rect_sides(geoms: _Obj) -> tuple[_F, _F, _F]:
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


def _classify(
    parts: _Obj, compound_of: NDArray[np.intp], z: _Zones, settings: Settings, sides: _F
) -> tuple[NDArray[np.object_], _F]:
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


def _nearest_buildings(
    parts: _Obj, buildings: gpd.GeoDataFrame | None, near: float
) -> tuple[_F, _Obj]:
    """Distance to and id of each part's nearest building (footprint, edge to edge).

    Buildings within `near` come from one envelope query; the rest (parts with
    no building that close) from the tree's nearest search.
    """
    n = len(parts)
    dist, ids = np.full(n, np.inf), np.full(n, None, dtype=object)
    if buildings is None or n == 0:
        return np.full(n, np.nan), ids
    b = buildings.geometry.to_numpy()
    names = _ids(buildings, "building_id")
    tree = shapely.STRtree(b)
    xmin, ymin, xmax, ymax = shapely.bounds(parts).T
    i, j = tree.query(shapely.box(xmin - near, ymin - near, xmax + near, ymax + near))
    if len(i):
        d = shapely.distance(parts[i], b[j])
        first = _first_per_group(i, -d)
        dist[i[first]], ids[i[first]] = d[first], names[j[first]]
    far = np.flatnonzero(dist > near)
    if len(far):
        (src, tgt), d = tree.query_nearest(parts[far], all_matches=False, return_distance=True)
        dist[far[src]], ids[far[src]] = d, names[tgt]
    return np.where(np.isfinite(dist), dist, np.nan), ids


def _households(
    parts: _Obj, compound_of: NDArray[np.intp], z: _Zones, settings: Settings
) -> tuple[_F, _F]:
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
    plain = np.bincount(src, weights=hh[tgt], minlength=n)
    close = np.bincount(src, weights=hh[tgt] * weight, minlength=n)
    return plain, close


def _suggest(
    parts: _Obj, area: _F, width: _F, nearest: _F, settings: Settings
) -> tuple[_Obj, NDArray[np.int64]]:
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
            & (width + _WIDTH_TOL_M >= kind.min_width_m.value)
        )
        if kind.capacity_rule == "bike_stalls":
            fits &= np.isnan(nearest) | (nearest + _WIDTH_TOL_M >= setback)
            at = np.flatnonzero(fits)
            count = stall_counts(parts[at], settings=settings)["count"].to_numpy()
            fits[at[count == 0]] = False
            bikes[at[count > 0]] = count[count > 0]
        suggested[fits] = key
    return suggested, bikes


def _space_lists(parts: _Obj, spaces: gpd.GeoDataFrame | None, kinds: tuple[str, ...]) -> list:
    """Per part, ids of the spaces of `kinds` it overlaps by `_MATCH_M2`, largest first."""
    out: list[list[str]] = [[] for _ in range(len(parts))]
    if spaces is None or "kind" not in spaces or len(parts) == 0:
        return out
    chosen = spaces[spaces["kind"].astype(str).isin(kinds).to_numpy()]
    if chosen.empty:
        return out
    g = chosen.geometry.to_numpy()
    i, j = shapely.STRtree(g).query(parts, predicate="intersects")
    overlap = shapely.area(shapely.intersection(parts[i], g[j]))
    ids = _ids(chosen, "space_id")
    for k in np.lexsort((j, -overlap, i)):
        if overlap[k] >= _MATCH_M2:
            out[i[k]].append(ids[j[k]])
    return out


def _empty(crs: Any = 4326) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in CANDIDATE_COLUMNS})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs))


def find_corners(project: Project, *, settings: Settings | None = None) -> gpd.GeoDataFrame:
    """Find, classify and rank the leftover spaces of a project's compounds.

    Parameters
    ----------
    project
        Needs ``compound``; uses ``buildings``, ``paths``, ``sites`` and
        ``spaces`` when present.
    settings
        Default: the project's settings (``corners``, ``rules``, ``site_types``).

    Returns
    -------
    GeoDataFrame
        EPSG:4326, one row per candidate, best first (see `CANDIDATE_COLUMNS`):
        ``candidate_id`` (``C1`` is the best), ``rank``, ``score`` (0-1),
        ``kind`` (corner / edge / open), ``compound`` (name), ``area_m2``,
        ``min_width_m``, ``compactness``, ``boundary_m`` (length along the
        compound boundary), ``nearest_building_m`` and ``nearest_building_id``
        (footprint, edge to edge), ``households_within_reach``,
        ``suggested_site_type`` (None when nothing fits), ``bikes`` (stalls
        when that type holds bikes, else 0), ``matches_space`` (ids of surveyed
        golden_corner / neglected spaces it overlaps by >= 1 m2) and
        ``green_space`` (ids of green spaces it overlaps: using them needs
        approval). Lengths and areas in metres, rounded to 1 cm / 0.01 m2.

    Raises
    ------
    GridGISError
        The project has no compound polygon.
    """
    settings = settings or project.settings
    cs = settings.corners
    z = _zones(project, settings)
    compound = z.compound.geometry.to_numpy()
    free = _free_space(compound, z.geoms)
    faces, compound_of = _split(compound, free, z.cuts, max(cs.min_width_m.value, 0.0))
    faces, compound_of = _merge_small(
        faces, compound_of, cs.min_width_m.value, cs.min_area_m2.value
    )
    r = cs.min_width_m.value / 2
    bent = shapely.area(shapely.convex_hull(faces)) > shapely.area(faces) * (1 + 1e-9)
    if r > 0 and bent.any():  # convex faces have no necks; narrow ones fail the width test
        g = faces[bent]
        opened = shapely.buffer(shapely.buffer(g, -r, join_style="mitre"), r, join_style="mitre")
        faces[bent] = shapely.make_valid(shapely.intersection(opened, g))
    parts, sub = shapely.get_parts(faces, return_index=True)
    compound_of = compound_of[sub]
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) >= cs.min_area_m2.value)
    parts, compound_of = parts[keep], compound_of[keep]
    long_side, short_side, rect_area = _rect_sides(parts)
    area = shapely.area(parts)
    width = short_side.copy()  # a rectangle is as wide as its short side (as in metrics)
    bent = np.abs(rect_area - area) > 1e-3 * area
    if bent.any():
        shapes = gpd.GeoSeries(parts[bent], crs=z.crs)
        width[bent] = geometry_metrics(shapes)["min_width_m"].to_numpy()
    wide = width + _WIDTH_TOL_M >= cs.min_width_m.value
    parts, compound_of, width, area = parts[wide], compound_of[wide], width[wide], area[wide]
    sides = np.column_stack([long_side, short_side])[wide]
    compactness = area / np.maximum(rect_area[wide], 1e-12)
    if len(parts) == 0:
        log.info(
            "no leftover space of %s m2 and %s m wide", cs.min_area_m2.value, cs.min_width_m.value
        )
        return _empty()
    kind, boundary_m = _classify(parts, compound_of, z, settings, sides)
    near = settings.rules.shed_setback_from_openings_m.value + cs.building_clearance_m.value
    nearest, nearest_id = _nearest_buildings(parts, z.buildings, near + 10.0)
    suggested, bikes = _suggest(parts, area, width, nearest, settings)
    households, closeness = _households(parts, compound_of, z, settings)
    weights = np.array(
        [cs.weight_area.value, cs.weight_compactness.value, cs.weight_households.value]
    )
    useful = max(cs.useful_area_m2.value, 1e-9)
    best = closeness.max() if closeness.max() > 0 else 1.0
    terms = np.stack([np.minimum(area, useful) / useful, compactness, closeness / best])
    score = (weights[:, None] * terms).sum(axis=0) / max(weights.sum(), 1e-12)
    order = np.lexsort((np.arange(len(parts)), -area, -np.round(score, 9)))
    names = (
        z.compound["name"].astype(str).to_numpy(dtype=object)
        if "name" in z.compound
        else np.array([str(i) for i in range(len(compound))], dtype=object)
    )
    out = pd.DataFrame(
        {
            "candidate_id": [f"C{k + 1}" for k in range(len(parts))],
            "rank": np.arange(1, len(parts) + 1),
            "score": np.round(score[order], 3),
            "kind": kind[order],
            "compound": names[compound_of[order]],
            "area_m2": np.round(area[order], 2),
            "min_width_m": np.round(width[order], 2),
            "compactness": np.round(compactness[order], 3),
            "boundary_m": np.round(boundary_m[order], 2),
            "nearest_building_m": np.round(nearest[order], 2),
            "nearest_building_id": nearest_id[order],
            "households_within_reach": households[order],
            "suggested_site_type": suggested[order],
            "bikes": bikes[order],
            "matches_space": _space_lists(parts[order], z.spaces, SURVEY_KINDS),
            "green_space": _space_lists(parts[order], z.spaces, ("green",)),
        }
    )
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(parts[order], crs=z.crs)).to_crs(4326)


def candidate_to_site(
    candidates: gpd.GeoDataFrame,
    candidate_id: str,
    *,
    site_type: str | None,
    site_id: str,
    name: str | None = None,
) -> gpd.GeoDataFrame:
    """A one-row ``sites`` frame from a candidate, ready to append to the sites layer.

    Parameters
    ----------
    candidates
        `find_corners` output.
    candidate_id
        The candidate to adopt (``C1``, ...).
    site_type
        The site type; None takes the candidate's ``suggested_site_type``.
    site_id
        The new site's id (must not be empty).
    name
        Default: ``"<candidate_id> <kind>"``.

    Returns
    -------
    GeoDataFrame
        ``site_id``, ``site_type``, ``name``, ``status`` (``proposed``) and
        ``notes`` (where it came from), in the candidates' CRS.

    Examples
    --------
    >>> from gridgis.core.project import open_project
    >>> found = find_corners(open_project("data/dongsi180"))
    >>> site = candidate_to_site(found, "C1", site_type="vegetable_garden", site_id="S9")
    >>> site[["site_id", "site_type", "status"]].iloc[0].tolist()
    ['S9', 'vegetable_garden', 'proposed']
    """
    if "candidate_id" not in candidates:
        raise GridGISError("candidates have no 'candidate_id' column; pass find_corners output")
    hit = candidates[candidates["candidate_id"].astype(str) == str(candidate_id)]
    if hit.empty:
        shown = ", ".join(candidates["candidate_id"].astype(str).head(10))
        raise GridGISError(f"no candidate_id={candidate_id!r} among the candidates ({shown}, ...)")
    if not isinstance(site_id, str) or not site_id.strip():
        raise GridGISError(f"site_id must be a non-empty text, got {site_id!r}")
    row = hit.iloc[0]
    if site_type is None:
        site_type = row.get("suggested_site_type")
        if not isinstance(site_type, str) or not site_type:
            raise GridGISError(
                f"candidate {candidate_id!r} has no suggested site type; pass site_type"
            )
    notes = f"gridgis corners: {candidate_id} ({row.get('kind')}, {row.get('area_m2')} m2)"
    return gpd.GeoDataFrame(
        {
            "site_id": [site_id],
            "site_type": [site_type],
            "name": [name or f"{candidate_id} {row.get('kind', '')}".strip()],
            "status": ["proposed"],
            "notes": [notes],
        },
        geometry=gpd.GeoSeries([row.geometry], crs=candidates.crs),
    )


_BLOCKERS = {
    "site": "existing site",
    "building": "building clearance",
    "fire_lane": "fire lane",
    "path": "paths",
    "outside": "outside the compound",
}


def _reasons(out: pd.DataFrame, g: _Obj, z: _Zones) -> list[str]:
    """What takes most of each space the candidates do not cover ("" when >= 95 % found)."""
    sites = z.geoms[z.what == "site"]
    named: list[list[str]] = [[] for _ in range(len(g))]
    if len(sites):
        si, sj = shapely.STRtree(sites).query(g, predicate="intersects")
        for k, j in zip(si, sj, strict=True):
            named[k].append(str(z.ids[z.what == "site"][j]))
    blockers = out[list(_BLOCKERS)].to_numpy(dtype=float)
    reasons = []
    for k in range(len(g)):
        top = int(np.argmax(blockers[k]))
        key = list(_BLOCKERS)[top]
        if out["found_share"].iloc[k] >= 0.95:
            reasons.append("")
        elif blockers[k, top] <= 0:
            reasons.append("too small or too narrow after the clearances")
        else:
            label = _BLOCKERS[key] + (f" {', '.join(named[k])}" if key == "site" else "")
            reasons.append(f"{label} takes {blockers[k, top]:.0%}")
    return reasons


def compare_spaces(
    project: Project, candidates: gpd.GeoDataFrame, *, settings: Settings | None = None
) -> gpd.GeoDataFrame:
    """What the survey found beside what the tool found.

    Parameters
    ----------
    project
        The project whose ``spaces`` of kind golden_corner / neglected are compared.
    candidates
        `find_corners` output for the same project.
    settings
        Default: the project's settings (the clearances used to explain misses).

    Returns
    -------
    GeoDataFrame
        EPSG:4326, one row per surveyed space of `SURVEY_KINDS`: ``space_id``,
        ``kind``, ``name``, ``area_m2``, ``found_share`` (0-1 of its area inside
        candidates), ``candidate_ids``, the shares taken by ``site``,
        ``building`` (with clearance), ``fire_lane``, ``path`` and ``outside``
        (the compound), ``status`` (``found`` >= 50 %, ``partly`` >= 10 %, else
        ``missed``) and ``reason``: what takes most of the rest.
    """
    settings = settings or project.settings
    z = _zones(project, settings)
    spaces = z.spaces
    cols = ["space_id", "kind", "name", "area_m2", "found_share", "candidate_ids", "site"]
    cols += ["building", "fire_lane", "path", "outside", "status", "reason"]
    if spaces is None or "kind" not in spaces:
        return gpd.GeoDataFrame(
            pd.DataFrame({c: pd.Series(dtype=object) for c in cols}),
            geometry=gpd.GeoSeries([], crs=4326),
        )
    spaces = spaces[spaces["kind"].astype(str).isin(SURVEY_KINDS).to_numpy()]
    g = spaces.geometry.to_numpy()
    n = len(g)
    area = shapely.area(g)

    def share(geoms: _Obj) -> _F:
        if len(geoms) == 0:
            return np.zeros(n)
        i, j = shapely.STRtree(geoms).query(g, predicate="intersects")
        union = _grouped_union(n, i, shapely.intersection(geoms[j], g[i]))
        return np.round(shapely.area(union) / np.maximum(area, 1e-12), 3)

    cand = candidates.to_crs(z.crs) if len(candidates) else candidates
    found = share(cand.geometry.to_numpy() if len(cand) else np.empty(0, dtype=object))
    lists = _space_lists(cand.geometry.to_numpy(), spaces, SURVEY_KINDS) if len(cand) else []
    by_space: list[list[str]] = [[] for _ in range(n)]
    position = {sid: k for k, sid in enumerate(_ids(spaces, "space_id"))}
    for cid, matched in zip(cand["candidate_id"] if len(cand) else [], lists, strict=True):
        for sid in matched:
            by_space[position[sid]].append(str(cid))
    out = pd.DataFrame(
        {
            "space_id": _ids(spaces, "space_id"),
            "kind": spaces["kind"].astype(str).to_numpy(),
            "name": spaces["name"].to_numpy() if "name" in spaces else None,
            "area_m2": np.round(area, 2),
            "found_share": found,
            "candidate_ids": by_space,
        }
    )
    for what in ("site", "building", "fire_lane", "path"):
        out[what] = share(z.geoms[z.what == what])
    out["outside"] = np.round(1.0 - share(z.compound.geometry.to_numpy()), 3)
    out["status"] = np.where(found >= 0.5, "found", np.where(found >= 0.1, "partly", "missed"))
    out["reason"] = _reasons(out, g, z)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(g, crs=z.crs)).to_crs(4326)
