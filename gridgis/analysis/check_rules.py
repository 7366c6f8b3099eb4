"""The rules' geometry tests, one function per rule of `gridgis.analysis.rules.RULES`.

Each rule function takes the sites' geometries (a metric CRS, as object
arrays) and the layers it needs, and returns an `Outcome`: one partial record
per site (`gridgis.analysis.check_records.check_record`) that
`gridgis.analysis.rules.check_sites` completes with the rule, ``ok`` and the
severity. A layer that is None (the project has none) leaves its rule
``not_checked``.

Examples
--------
>>> import numpy as np
>>> from shapely import box
>>> g = np.array([box(0, 0, 10, 6), box(20, 0, 30, 6)], dtype=object)
>>> [r["status"] for r in inside_compound(g, np.array([box(-1, -1, 12, 8)], dtype=object))]
['pass', 'fail']
>>> not_checked(1, "spaces")[0]["reason"]
'no_spaces_layer'
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from gridgis.analysis.check_records import check_record as _rec

__all__ = [
    "AREA_TOLERANCE_M2",
    "LENGTH_TOLERANCE_M",
    "Outcome",
    "fire_lane_clear",
    "inside_compound",
    "kind_rows",
    "minimum_rule",
    "no_building_overlap",
    "not_checked",
    "on_green_space",
    "shed_setback",
    "str_values",
]

AREA_TOLERANCE_M2 = 0.05
"""Overlaps up to this area are drawing noise (a 1 cm sliver along 5 m), not a failure."""

LENGTH_TOLERANCE_M = 0.01
"""Distances this much short of a threshold still pass (rounding, not a failure)."""

Outcome = list[dict[str, Any]]
"""What a rule returns: one partial record per site (no rule, ok or severity yet)."""


def str_values(values: ArrayLike) -> NDArray[np.object_]:
    """``Series(values).astype(str)`` as an object array (NaN stays NaN), fast for strings."""
    out = np.asarray(values, dtype=object)
    if all(type(v) is str for v in out):  # the usual case: no pandas astype (slow on arrow)
        return out
    return pd.Series(values).astype(str).to_numpy(dtype=object)


def _ids(layer: gpd.GeoDataFrame, column: str, rows: NDArray[np.intp]) -> NDArray[np.object_]:
    """``layer[column].astype(str)`` (else the index as str) at positions `rows`."""
    if len(rows) == 0:  # the usual case: no column lookup, which costs more than the rule
        return np.empty(0, dtype=object)
    if column in layer:
        return str_values(layer[column].array.take(rows))
    return np.asarray([str(layer.index[r]) for r in rows], dtype=object)


def not_checked(n: int, layer: str) -> Outcome:
    """One ``not_checked`` record per site: the project has no `layer` layer."""
    return [_rec("not_checked", reason=f"no_{layer}_layer") for _ in range(n)]


def _overlap_pairs(
    sites: NDArray[np.object_],
    others: NDArray[np.object_],
    tree: shapely.STRtree | None = None,
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """(site, other, overlap m2) for every pair overlapping by more than the tolerance."""
    tree = shapely.STRtree(others) if tree is None else tree
    i, j = tree.query(sites, predicate="intersects")
    area = shapely.area(shapely.intersection(sites[i], others[j]))
    keep = area > AREA_TOLERANCE_M2
    return i[keep], j[keep], area[keep]


def _per_site_lists(
    n: int, i: NDArray[np.intp], names: NDArray[np.object_], area: NDArray[np.float64]
) -> list[list[tuple[str, float]]]:
    out: list[list[tuple[str, float]]] = [[] for _ in range(n)]
    for k in np.argsort(-area, kind="stable"):
        out[int(i[k])].append((str(names[k]), float(area[k])))
    return out


def _overlap_rule(hits: list[list[tuple[str, float]]], **params: Any) -> Outcome:
    """Pass without overlaps; else fail, measured = total overlap, ids largest first."""
    out = []
    for h in hits:
        areas = [round(a, 3) for _, a in h]
        out.append(
            _rec(
                "fail" if h else "pass",
                measured=sum(a for _, a in h),
                needed=0.0,
                unit="m2",
                ids=[b for b, _ in h],
                areas_m2=areas,
                **params,
            )
        )
    return out


def inside_compound(g: NDArray[np.object_], compound: NDArray[np.object_] | None) -> Outcome:
    """Rule ``inside_compound``: the site's area outside the compound boundary."""
    if compound is None:
        return not_checked(len(g), "compound")
    area = shapely.area(g)
    i, j = shapely.STRtree(compound).query(g, predicate="intersects")
    inside = np.bincount(
        i, weights=shapely.area(shapely.intersection(g[i], compound[j])), minlength=len(g)
    )
    outside = np.clip(area - inside, 0.0, None)
    share = np.divide(outside, area, out=np.zeros_like(area), where=area > 0)
    ok = outside <= AREA_TOLERANCE_M2
    return [
        _rec(
            "pass" if k else "fail",
            measured=o,
            needed=0.0,
            unit="m2",
            outside_pct=round(100 * s, 1),
        )
        for k, s, o in zip(ok, share, outside, strict=True)
    ]


def no_building_overlap(
    g: NDArray[np.object_],
    buildings: gpd.GeoDataFrame | None,
    building_g: NDArray[np.object_] | None,
    tree: shapely.STRtree | None,
) -> Outcome:
    """Rule ``no_building_overlap``: the buildings a site overlaps, largest first."""
    if buildings is None or building_g is None or tree is None:
        return not_checked(len(g), "buildings")
    i, j, area = _overlap_pairs(g, building_g, tree)
    return _overlap_rule(_per_site_lists(len(g), i, _ids(buildings, "building_id", j), area))


def kind_rows(layer: gpd.GeoDataFrame, kind: str) -> NDArray[np.intp]:
    """Positions where ``layer["kind"]`` is `kind` (none without the column)."""
    if len(layer) == 0 or "kind" not in layer:
        return np.empty(0, dtype=np.intp)
    return np.flatnonzero(str_values(layer["kind"].array) == kind)


def fire_lane_clear(
    g: NDArray[np.object_],
    paths: gpd.GeoDataFrame | None,
    path_g: NDArray[np.object_] | None,
    clear_width: float,
    lanes_anywhere: bool,
) -> Outcome:
    """Rule ``fire_lane_clear``: the fire lanes (kept `clear_width` wide) a site overlaps."""
    if paths is None or path_g is None:
        return not_checked(len(g), "paths")
    rows = kind_rows(paths, "fire_lane")
    if len(rows) == 0:
        if lanes_anywhere:  # lanes exist, none near these sites: nothing to block
            return _overlap_rule([[] for _ in g], clear_width_m=clear_width)
        return [_rec("not_checked", reason="no_fire_lanes") for _ in g]
    lane_g = path_g[rows]
    if "width_m" in paths:
        width = paths["width_m"]
        if isinstance(width.dtype, np.dtype) and width.dtype.kind in "biuf":
            width_arr = width.to_numpy(dtype=float)[rows]  # numpy: to_numeric costs ~10x more
        else:
            width_arr = pd.to_numeric(width, errors="coerce").to_numpy(dtype=float)[rows]
    else:
        width_arr = np.full(len(rows), clear_width)
    half = np.fmax(width_arr, clear_width) / 2  # fmax: a missing width gets the rule's
    i, j, area = _lane_overlaps(g, lane_g, half)
    hits = _per_site_lists(len(g), i, _ids(paths, "path_id", rows[j]), area)
    return _overlap_rule(hits, clear_width_m=clear_width)


def _lane_zones(lanes: NDArray[np.object_], half: NDArray[np.float64]) -> NDArray[np.object_]:
    """The area each lane keeps clear: a polygon as drawn, a line buffered by `half`."""
    polygonal = np.isin(shapely.get_type_id(lanes), (3, 6))
    return np.where(polygonal, lanes, shapely.buffer(lanes, half))


def _lane_overlaps(
    g: NDArray[np.object_], lanes: NDArray[np.object_], half: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """`_overlap_pairs` of the sites and the lane zones, buffering only lanes near a site.

    Buffering is most of the rule's time on a district (1,000 sites, 16,000 lanes).
    A zone lies within its lane's envelope grown by `half`, so the lanes whose grown
    envelope misses every site cannot overlap one. Only the order of overlaps of
    exactly equal area can depend on which zones the spatial index holds: then
    all lanes are buffered, as they always were.
    """
    grow = max(float(np.max(half, initial=0.0)), 0.0) * (1 + 1e-9) + 1e-6
    xmin, ymin, xmax, ymax = shapely.bounds(g).T
    boxes = shapely.box(xmin - grow, ymin - grow, xmax + grow, ymax + grow)
    near = np.unique(shapely.STRtree(lanes).query(boxes[~np.isnan(xmin)])[1])
    i, j, area = _overlap_pairs(g, _lane_zones(lanes[near], half[near]))
    order = np.lexsort((area, i))
    same_site, same_area = np.diff(i[order]) == 0, np.diff(area[order]) == 0
    if np.any(same_site & same_area):
        return _overlap_pairs(g, _lane_zones(lanes, half))
    return i, near[j], area


def shed_setback(
    g: NDArray[np.object_],
    site_type: NDArray[np.object_],
    buildings: gpd.GeoDataFrame | None,
    tree: shapely.STRtree | None,
    setback: float,
) -> Outcome:
    """Rule ``shed_setback``: a parking shed's distance to its nearest building."""
    n = len(g)
    shed = site_type == "parking_shed"
    out = [_rec("pass", needed=setback, unit="m", reason="not_applicable") for _ in range(n)]
    if not shed.any():
        return out
    pos = np.flatnonzero(shed)
    if buildings is None or tree is None:
        for s in pos:
            out[s] = _rec("not_checked", needed=setback, unit="m", reason="no_buildings_layer")
        return out
    for s in pos:  # no building near (the engine passes those within reach): far enough
        out[s] = _rec("pass", needed=setback, unit="m", reason="none_near")
    (src, idx), dist = tree.query_nearest(g[pos], all_matches=False, return_distance=True)
    b_ids = _ids(buildings, "building_id", idx)
    for s, b, d in zip(pos[src], b_ids, dist, strict=True):
        ok = d >= setback - LENGTH_TOLERANCE_M
        out[s] = _rec("pass" if ok else "fail", measured=d, needed=setback, unit="m", ids=[b])
    return out


def minimum_rule(
    value: NDArray[np.float64],
    need: NDArray[np.float64],
    site_type: NDArray[np.object_],
    *,
    unit: str,
    tol: float,
) -> Outcome:
    """Rules ``min_area`` and ``min_width``: `value` at least `need` (NaN: unknown type)."""
    ok = ~np.isnan(need) & (value >= need - tol)
    out = []
    for v, nd, t, k in zip(value, need, site_type, ok, strict=True):
        if np.isnan(nd):
            out.append(
                _rec("not_checked", measured=v, unit=unit, reason="unknown_site_type", site_type=t)
            )
        else:
            out.append(_rec("pass" if k else "fail", measured=v, needed=nd, unit=unit))
    return out


def on_green_space(
    g: NDArray[np.object_], spaces: gpd.GeoDataFrame | None, space_g: NDArray[np.object_] | None
) -> Outcome:
    """Rule ``on_green_space``: the green spaces a site overlaps, largest first."""
    if spaces is None or space_g is None:
        return not_checked(len(g), "spaces")
    rows = kind_rows(spaces, "green")
    i, j, area = _overlap_pairs(g, space_g[rows])
    return _overlap_rule(_per_site_lists(len(g), i, _ids(spaces, "space_id", rows[j]), area))
