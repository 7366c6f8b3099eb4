"""Rule checks on candidate sites: a full checklist per site.

`check_sites` returns, for every site, one record per rule in `RULES`:
``{rule, ok, severity, message, message_zh}``; the message carries the measured
value ("3.0 m from building B2, needs 6.0 m"). Every rule is present for every
site so a face can show the whole checklist; a rule whose layer is missing is
``ok`` with the message ``"not checked: no <layer> layer"``. Thresholds come
from `gridgis.core.settings.Settings`. Layers must already be in a metric CRS.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from gridgis.core.settings import default_settings
>>> sites = gpd.GeoDataFrame({"site_id": ["S1"], "site_type": ["parking_shed"]},
...                          geometry=[box(0, 0, 10, 6)], crs=4544)
>>> b = gpd.GeoDataFrame({"building_id": ["B2"]}, geometry=[box(13, 0, 53, 11)], crs=4544)
>>> checks = check_sites(sites, settings=default_settings(), buildings=b).iloc[0]
>>> [c["message"] for c in checks if c["rule"] == "shed_setback"]
['3.0 m from building B2, needs 6.0 m']
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.array import GeometryArray
from numpy.typing import ArrayLike, NDArray

from gridgis.core.crs import require_metric
from gridgis.core.settings import Settings, SiteType, Sourced
from gridgis.errors import GridGISError

__all__ = ["RULES", "SEVERITY", "check_sites", "clear_width", "site_type_values"]

RULES = (
    "inside_compound",
    "no_building_overlap",
    "fire_lane_clear",
    "shed_setback",
    "min_area",
    "min_width",
    "on_green_space",
)
"""Rule keys, in checklist order; faces translate them."""

SEVERITY = dict.fromkeys(RULES, "error") | {"on_green_space": "warning"}
"""Severity of a failed rule."""

AREA_TOLERANCE_M2 = 0.05
"""Overlaps up to this area are drawing noise (a 1 cm sliver along 5 m), not a failure."""

_LENGTH_TOLERANCE_M = 0.01
_MIC_TOLERANCE_M = 0.001

# (ok, message, message_zh) for each site, positional
_Outcome = tuple[NDArray[np.bool_], list[str], list[str]]


def _m(x: float) -> str:
    return f"{x:.1f}"


def _geometry(layer: gpd.GeoDataFrame | None) -> GeometryArray | None:
    """The layer's geometries with their CRS, or None (no layer, or empty and no geometry).

    One column lookup per layer: each ``gdf.crs`` or ``gdf.geometry`` costs one.
    """
    if layer is None:
        return None
    try:
        return layer.geometry.array
    except AttributeError:  # no active geometry column: an empty layer is just missing
        if len(layer):
            raise
        return None


def _geoms(geometry: GeometryArray) -> NDArray[np.object_]:
    return np.asarray(geometry, dtype=object)


def _str_values(values: ArrayLike) -> NDArray[np.object_]:
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
        return _str_values(layer[column].array.take(rows))
    return np.asarray([str(layer.index[r]) for r in rows], dtype=object)


def _not_checked(n: int, layer: str) -> _Outcome:
    return (
        np.ones(n, dtype=bool),
        [f"not checked: no {layer} layer"] * n,
        [f"未检查：缺少{_LAYER_ZH[layer]}图层"] * n,
    )


_LAYER_ZH = {"compound": "小区边界", "buildings": "楼栋", "paths": "道路", "spaces": "空间"}


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


def _overlap_rule(
    n: int,
    hits: list[list[tuple[str, float]]],
    *,
    ok_en: str,
    ok_zh: str,
    fail_en: Callable[[str], str],
    fail_zh: Callable[[str], str],
) -> _Outcome:
    ok = np.array([not h for h in hits], dtype=bool)
    en = [ok_en if not h else fail_en(", ".join(f"{a} by {_m(m)} m2" for a, m in h)) for h in hits]
    zh = [ok_zh if not h else fail_zh("、".join(f"{a} {_m(m)} m²" for a, m in h)) for h in hits]
    return ok, en, zh


def _inside_compound(g: NDArray[np.object_], compound: NDArray[np.object_] | None) -> _Outcome:
    if compound is None or len(compound) == 0:
        return _not_checked(len(g), "compound")
    area = shapely.area(g)
    i, j = shapely.STRtree(compound).query(g, predicate="intersects")
    inside = np.bincount(
        i, weights=shapely.area(shapely.intersection(g[i], compound[j])), minlength=len(g)
    )
    outside = np.clip(area - inside, 0.0, None)
    share = np.divide(outside, area, out=np.zeros_like(area), where=area > 0)
    ok = outside <= AREA_TOLERANCE_M2
    en = [
        "inside the compound"
        if k
        else f"{100 * s:.1f}% of the site ({_m(o)} m2) is outside the compound"
        for k, s, o in zip(ok, share, outside, strict=True)
    ]
    zh = [
        "在小区边界内" if k else f"{100 * s:.1f}%（{_m(o)} m²）在小区边界外"
        for k, s, o in zip(ok, share, outside, strict=True)
    ]
    return ok, en, zh


def _no_building_overlap(
    g: NDArray[np.object_],
    buildings: gpd.GeoDataFrame | None,
    building_g: NDArray[np.object_] | None,
    tree: shapely.STRtree | None,
) -> _Outcome:
    if buildings is None or building_g is None or tree is None:
        return _not_checked(len(g), "buildings")
    i, j, area = _overlap_pairs(g, building_g, tree)
    hits = _per_site_lists(len(g), i, _ids(buildings, "building_id", j), area)
    return _overlap_rule(
        len(g),
        hits,
        ok_en="no overlap with buildings",
        ok_zh="未压占楼栋",
        fail_en=lambda s: f"overlaps building {s}",
        fail_zh=lambda s: f"压占楼栋 {s}",
    )


def _kind_rows(layer: gpd.GeoDataFrame, kind: str) -> NDArray[np.intp]:
    """Positions where ``layer["kind"]`` is `kind` (none without the column)."""
    if "kind" not in layer:
        return np.empty(0, dtype=np.intp)
    return np.flatnonzero(_str_values(layer["kind"].array) == kind)


def _fire_lane_clear(
    g: NDArray[np.object_],
    paths: gpd.GeoDataFrame | None,
    path_g: NDArray[np.object_] | None,
    clear_width: float,
) -> _Outcome:
    if paths is None or path_g is None:
        return _not_checked(len(g), "paths")
    rows = _kind_rows(paths, "fire_lane")
    if len(rows) == 0:
        n = len(g)
        return (
            np.ones(n, dtype=bool),
            ["no fire lanes in the paths layer"] * n,
            ["无消防车通道"] * n,
        )
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
    w = _m(clear_width)
    return _overlap_rule(
        len(g),
        hits,
        ok_en=f"clear of fire lanes (kept {w} m wide)",
        ok_zh=f"未占用消防车通道（净宽 {w} m）",
        fail_en=lambda s: f"overlaps fire lane {s} (must stay clear {w} m wide)",
        fail_zh=lambda s: f"占用消防车通道 {s}（须保持净宽 {w} m）",
    )


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


def _shed_setback(
    g: NDArray[np.object_],
    site_type: NDArray[np.object_],
    buildings: gpd.GeoDataFrame | None,
    tree: shapely.STRtree | None,
    setback: float,
) -> _Outcome:
    n = len(g)
    shed = site_type == "parking_shed"
    ok = np.ones(n, dtype=bool)
    en = ["not applicable: parking sheds only"] * n
    zh = ["不适用：仅限车棚"] * n
    if not shed.any():
        return ok, en, zh
    if buildings is None or tree is None:
        en = ["not checked: no buildings layer" if s else e for s, e in zip(shed, en, strict=True)]
        zh = ["未检查：缺少楼栋图层" if s else z for s, z in zip(shed, zh, strict=True)]
        return ok, en, zh
    pos = np.flatnonzero(shed)
    (src, idx), dist = tree.query_nearest(g[pos], all_matches=False, return_distance=True)
    b_ids = _ids(buildings, "building_id", idx)
    need = _m(setback)
    for s, b, d in zip(pos[src], b_ids, dist, strict=True):
        ok[s] = d >= setback - _LENGTH_TOLERANCE_M
        shown = _m(d) if ok[s] or _m(d) != need else f"{d:.2f}"
        if ok[s]:
            en[s] = f"{shown} m from building {b} (needs {need} m)"
            zh[s] = f"距楼栋 {b} {shown} m（须 ≥ {need} m）"
        else:
            en[s] = f"{shown} m from building {b}, needs {need} m"
            zh[s] = f"距楼栋 {b} {shown} m，须 ≥ {need} m"
    return ok, en, zh


def _minimum(
    value: NDArray[np.float64],
    need: NDArray[np.float64],
    site_type: NDArray[np.object_],
    *,
    what: tuple[str, str],
    unit: tuple[str, str],
    tol: float,
) -> _Outcome:
    ok = ~np.isnan(need) & (value >= need - tol)
    en, zh = [], []
    for v, nd, t, k in zip(value, need, site_type, ok, strict=True):
        if np.isnan(nd):
            en.append(f"not checked: site type {t!r} is not in the settings")
            zh.append(f"未检查：设置中没有点位类型 {t!r}")
        elif k:
            en.append(f"{what[0]} {_m(v)} {unit[0]} (minimum {_m(nd)} {unit[0]})")
            zh.append(f"{what[1]} {_m(v)} {unit[1]}（最小 {_m(nd)} {unit[1]}）")
        else:
            en.append(f"{what[0]} {_m(v)} {unit[0]}, needs {_m(nd)} {unit[0]}")
            zh.append(f"{what[1]} {_m(v)} {unit[1]}，须 ≥ {_m(nd)} {unit[1]}")
    return ok, en, zh


def _on_green_space(
    g: NDArray[np.object_], spaces: gpd.GeoDataFrame | None, space_g: NDArray[np.object_] | None
) -> _Outcome:
    if spaces is None or space_g is None:
        return _not_checked(len(g), "spaces")
    rows = _kind_rows(spaces, "green")
    i, j, area = _overlap_pairs(g, space_g[rows])
    hits = _per_site_lists(len(g), i, _ids(spaces, "space_id", rows[j]), area)
    return _overlap_rule(
        len(g),
        hits,
        ok_en="not on green space",
        ok_zh="未占用绿地",
        fail_en=lambda s: f"on green space {s}: needs approval",
        fail_zh=lambda s: f"占用绿地 {s}：需审批",
    )


@functools.cache
def _sourced_fields() -> tuple[str, ...]:
    return tuple(
        n for n, f in SiteType.model_fields.items() if f.annotation in (Sourced, "Sourced")
    )


def _type_values(
    site_type: NDArray[np.object_], settings: Settings, field: str
) -> NDArray[np.float64]:
    """``site_type.map({type: value})`` as floats, NaN for unknown types (no pandas map)."""
    table = {k: getattr(t, field).value for k, t in settings.site_types.items()}
    try:
        return np.array([table.get(t, np.nan) for t in site_type], dtype=float)
    except TypeError:  # an unhashable cell: let pandas map it
        return pd.Series(site_type, dtype=object).map(table).astype(float).to_numpy()


def _check_field(field: str) -> None:
    sourced = _sourced_fields()
    if field not in sourced:
        raise GridGISError(
            f"field must be a number of a site type ({', '.join(sourced)}), got {field!r}"
        )


def site_type_values(sites: pd.DataFrame, *, settings: Settings, field: str) -> pd.Series:
    """One `SiteType` number per site (e.g. ``service_radius_m``), NaN for unknown types.

    Parameters
    ----------
    sites
        Sites with a ``site_type`` column.
    settings
        Project settings.
    field
        A `Sourced` field of `gridgis.core.settings.SiteType`.

    Returns
    -------
    Series
        Index of `sites`, float.
    """
    if "site_type" not in sites:
        raise GridGISError("sites has no 'site_type' column; the layer contract needs one")
    _check_field(field)
    raw = sites["site_type"].to_numpy(dtype=object)
    return pd.Series(_type_values(raw, settings, field), index=sites.index, name=field)


def _clear_width(g: NDArray[np.object_]) -> NDArray[np.float64]:
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    width = np.zeros(len(g))
    if ok.any():
        circle = shapely.maximum_inscribed_circle(g[ok], tolerance=_MIC_TOLERANCE_M)
        width[ok] = 2 * shapely.length(circle)
    return width


def clear_width(sites: gpd.GeoDataFrame | gpd.GeoSeries) -> pd.Series:
    """The widest strip that fits in each site: twice its largest inscribed circle's radius.

    A site passes the inward-buffer test for width ``w`` (``buffer(-w / 2)``
    leaves something) exactly when this is at least ``w``. For a rectangle it
    is the short side.

    Returns
    -------
    Series
        Index of `sites`, metres (0 for empty geometries).
    """
    g = np.asarray(sites.geometry.array if hasattr(sites, "geometry") else sites, dtype=object)
    return pd.Series(_clear_width(g), index=sites.index, name="clear_width_m")


def check_sites(
    sites: gpd.GeoDataFrame,
    *,
    settings: Settings,
    compound: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    paths: gpd.GeoDataFrame | None = None,
    spaces: gpd.GeoDataFrame | None = None,
    min_width: pd.Series | None = None,
) -> pd.Series:
    """Run every rule in `RULES` on every site.

    Parameters
    ----------
    sites
        Sites (``site_type``), in a metric CRS like every other layer.
    settings
        Thresholds: ``rules.fire_lane_clear_width_m``,
        ``rules.shed_setback_from_openings_m``, and per site type
        ``min_area_m2`` and ``min_width_m``.
    compound, buildings, paths, spaces
        The project's layers; None (or empty) leaves their rules "not checked".
    min_width
        Each site's clear width in metres when the caller has it (aligned with
        the sites; NaN entries are computed with `clear_width`).

    Returns
    -------
    Series
        Index of `sites`, named ``checks``: a list per site of
        ``{rule, ok, severity, message, message_zh}``, in `RULES` order.
    """
    # each layer's geometry is looked up once (then its CRS is cheap): for the usual single
    # site, pandas/geopandas access costs more than the geometry work
    site_geometry = sites.geometry.array
    geometry = {
        "compound": _geometry(compound),
        "buildings": _geometry(buildings),
        "paths": _geometry(paths),
        "spaces": _geometry(spaces),
    }
    require_metric({"sites": site_geometry, **geometry})
    if "site_type" not in sites:
        raise GridGISError("sites has no 'site_type' column; the layer contract needs one")
    g = _geoms(site_geometry)
    layer_g = {k: None if v is None or len(v) == 0 else _geoms(v) for k, v in geometry.items()}
    raw_type = sites["site_type"].array
    site_type = _str_values(raw_type)
    raw = np.asarray(raw_type, dtype=object)
    width = _clear_width(g) if min_width is None else _given_width(min_width, sites, g)
    area = shapely.area(g)
    rules = settings.rules
    building_g = layer_g["buildings"]
    tree = None if building_g is None else shapely.STRtree(building_g)  # shared by two rules
    outcomes: dict[str, _Outcome] = {
        "inside_compound": _inside_compound(g, layer_g["compound"]),
        "no_building_overlap": _no_building_overlap(g, buildings, building_g, tree),
        "fire_lane_clear": _fire_lane_clear(
            g, paths, layer_g["paths"], rules.fire_lane_clear_width_m.value
        ),
        "shed_setback": _shed_setback(
            g, site_type, buildings, tree, rules.shed_setback_from_openings_m.value
        ),
        "min_area": _minimum(
            area,
            _type_values(raw, settings, "min_area_m2"),
            site_type,
            what=("area", "面积"),
            unit=("m2", "m²"),
            tol=AREA_TOLERANCE_M2,
        ),
        "min_width": _minimum(
            width,
            _type_values(raw, settings, "min_width_m"),
            site_type,
            what=("clear width", "净宽"),
            unit=("m", "m"),
            tol=_LENGTH_TOLERANCE_M,
        ),
        "on_green_space": _on_green_space(g, spaces, layer_g["spaces"]),
    }
    no_geometry = shapely.is_missing(g) | shapely.is_empty(g)
    return pd.Series(
        _assemble(outcomes, no_geometry), index=sites.index, name="checks", dtype=object
    )


def _given_width(
    min_width: pd.Series, sites: gpd.GeoDataFrame, g: NDArray[np.object_]
) -> NDArray[np.float64]:
    dtype = min_width.dtype
    if (
        isinstance(dtype, np.dtype)
        and dtype.kind in "biuf"
        and min_width.index.equals(sites.index)
        and sites.index.is_unique
    ):
        given = min_width.to_numpy(dtype=float, copy=True)  # already aligned: no reindex
        gap = np.isnan(given)
        if gap.any():
            given[gap] = _clear_width(g[gap])
        return given
    missing = sites.index.difference(min_width.index)
    if len(missing):
        raise GridGISError(
            f"min_width has no value for site index {list(missing[:5])!r}; pass a Series "
            "aligned with the sites, or None to compute it"
        )
    given = pd.to_numeric(min_width.reindex(sites.index), errors="coerce").astype(float)
    if given.isna().any():
        given = given.fillna(clear_width(sites[given.isna().to_numpy()]))
    return given.to_numpy(dtype=float)


def _assemble(
    outcomes: dict[str, _Outcome], no_geometry: NDArray[np.bool_]
) -> list[list[dict[str, Any]]]:
    n = len(no_geometry)
    out: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for rule in RULES:
        ok, en, zh = outcomes[rule]
        for k in range(n):
            severity = SEVERITY[rule]
            if en[k].startswith("not checked: site type"):
                severity = "warning"
            if no_geometry[k]:
                ok[k], en[k], zh[k] = (
                    False,
                    "not checked: the site has no geometry",
                    "未检查：点位无几何",
                )
            out[k].append(
                {
                    "rule": rule,
                    "ok": bool(ok[k]),
                    "severity": severity,
                    "message": en[k],
                    "message_zh": zh[k],
                }
            )
    return out
