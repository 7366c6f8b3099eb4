"""What is kept clear (buildings, lanes, paths, sites) and the free space it leaves."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from gridgis.analysis.corners.geometry import FloatArray, ObjArray, grouped_union, layer_ids
from gridgis.core.project import Project
from gridgis.core.settings import Settings
from gridgis.errors import GridGISError

__all__ = ["Zones", "build_zones", "free_space"]


@dataclass
class Zones:
    """Everything kept clear, in the metric CRS: one geometry per feature."""

    crs: pyproj.CRS
    compound: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame | None
    spaces: gpd.GeoDataFrame | None
    geoms: ObjArray
    what: NDArray[np.str_]  # building, fire_lane, path, site
    ids: ObjArray
    cuts: FloatArray  # (n, 2, 2) segments whose extensions cut the free space: facades, path ends


def _metric(project: Project, name: str, crs: pyproj.CRS) -> gpd.GeoDataFrame | None:
    layer = project.layers.get(name)
    if layer is None or len(layer) == 0:
        return None
    layer = layer.to_crs(crs)
    ok = ~(layer.geometry.isna() | layer.geometry.is_empty).to_numpy()
    return layer[ok]


def _edges(polygons: ObjArray) -> FloatArray:
    """The exterior edges of polygons, as (n, 2, 2) segments."""
    rings = shapely.get_exterior_ring(shapely.get_parts(polygons))
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    return np.stack([xy[:-1][same], xy[1:][same]], axis=1)


def _end_caps(lines: ObjArray, width: FloatArray) -> FloatArray:
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


def build_zones(project: Project, settings: Settings) -> Zones:
    """Everything the corners must keep clear, in the project's metric CRS.

    Raises
    ------
    GridGISError
        The project has no compound polygon.
    """
    crs = project.metric_crs()
    compound = _metric(project, "compound", crs)
    if compound is None:
        where = f"{project.path}: " if project.path else ""
        raise GridGISError(f"{where}layer compound: missing or empty; corners need the boundary")
    compound = compound[np.isin(shapely.get_type_id(compound.geometry.to_numpy()), (3, 6))]
    geoms: list[ObjArray] = []
    what: list[str] = []
    ids: list[ObjArray] = []
    cuts: list[FloatArray] = [np.empty((0, 2, 2))]
    buildings = _metric(project, "buildings", crs)
    if buildings is not None:
        clearance = settings.corners.building_clearance_m.value
        grown = shapely.buffer(buildings.geometry.to_numpy(), clearance, join_style="mitre")
        geoms.append(grown)
        what += ["building"] * len(buildings)
        ids.append(layer_ids(buildings, "building_id"))
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
        ids.append(layer_ids(paths, "path_id"))
    sites = _metric(project, "sites", crs)
    if sites is not None and "status" in sites:  # a rejected site frees its ground again
        sites = sites[sites["status"].astype(str).str.strip().str.lower() != "rejected"]
    if sites is not None:
        geoms.append(sites.geometry.to_numpy())
        what += ["site"] * len(sites)
        ids.append(layer_ids(sites, "site_id"))
    return Zones(
        crs=crs,
        compound=compound,
        buildings=buildings,
        spaces=_metric(project, "spaces", crs),
        geoms=np.concatenate(geoms) if geoms else np.empty(0, dtype=object),
        what=np.asarray(what, dtype=str),
        ids=np.concatenate(ids) if ids else np.empty(0, dtype=object),
        cuts=np.concatenate(cuts),
    )


def free_space(compound: ObjArray, zones: ObjArray) -> ObjArray:
    """Each compound polygon minus the zones that touch it."""
    if len(zones) == 0:
        return compound.copy()
    ci, zj = shapely.STRtree(zones).query(compound, predicate="intersects")
    # not clipped first: a zone cut along the boundary would leave zero-width slivers
    return shapely.difference(compound, grouped_union(len(compound), ci, zones[zj]))
