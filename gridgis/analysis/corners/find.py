"""Find, classify and rank the leftover spaces of a compound (`find_corners`)."""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgis.analysis.corners.classify import (
    WIDTH_TOL_M,
    classify,
    nearest_buildings,
    reach_households,
    rect_sides,
    suggest_types,
)
from gridgis.analysis.corners.geometry import ObjArray, layer_ids
from gridgis.analysis.corners.pieces import merge_small, split_free_space
from gridgis.analysis.corners.zones import build_zones, free_space
from gridgis.analysis.metrics import geometry_metrics
from gridgis.core.project import Project
from gridgis.core.settings import Settings

__all__ = ["CANDIDATE_COLUMNS", "SURVEY_KINDS", "find_corners", "matching_spaces"]

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

_MATCH_M2 = 1.0  # overlap with a surveyed space that counts as having found it


def matching_spaces(
    parts: ObjArray, spaces: gpd.GeoDataFrame | None, kinds: tuple[str, ...]
) -> list:
    """Per part, ids of the spaces of `kinds` it overlaps by at least 1 m2, largest first."""
    out: list[list[str]] = [[] for _ in range(len(parts))]
    if spaces is None or "kind" not in spaces or len(parts) == 0:
        return out
    chosen = spaces[spaces["kind"].astype(str).isin(kinds).to_numpy()]
    if chosen.empty:
        return out
    g = chosen.geometry.to_numpy()
    i, j = shapely.STRtree(g).query(parts, predicate="intersects")
    overlap = shapely.area(shapely.intersection(parts[i], g[j]))
    ids = layer_ids(chosen, "space_id")
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
    z = build_zones(project, settings)
    compound = z.compound.geometry.to_numpy()
    free = free_space(compound, z.geoms)
    faces, compound_of = split_free_space(compound, free, z.cuts, max(cs.min_width_m.value, 0.0))
    faces, compound_of = merge_small(faces, compound_of, cs.min_width_m.value, cs.min_area_m2.value)
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
    long_side, short_side, rect_area = rect_sides(parts)
    area = shapely.area(parts)
    width = short_side.copy()  # a rectangle is as wide as its short side (as in metrics)
    bent = np.abs(rect_area - area) > 1e-3 * area
    if bent.any():
        shapes = gpd.GeoSeries(parts[bent], crs=z.crs)
        width[bent] = geometry_metrics(shapes)["min_width_m"].to_numpy()
    wide = width + WIDTH_TOL_M >= cs.min_width_m.value
    parts, compound_of, width, area = parts[wide], compound_of[wide], width[wide], area[wide]
    sides = np.column_stack([long_side, short_side])[wide]
    compactness = area / np.maximum(rect_area[wide], 1e-12)
    if len(parts) == 0:
        log.info(
            "no leftover space of %s m2 and %s m wide", cs.min_area_m2.value, cs.min_width_m.value
        )
        return _empty()
    kind, boundary_m = classify(parts, compound_of, z, settings, sides)
    near = settings.rules.shed_setback_from_openings_m.value + cs.building_clearance_m.value
    nearest, nearest_id = nearest_buildings(parts, z.buildings, near + 10.0)
    suggested, bikes = suggest_types(parts, area, width, nearest, settings)
    households, closeness = reach_households(parts, compound_of, z, settings)
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
            "matches_space": matching_spaces(parts[order], z.spaces, SURVEY_KINDS),
            "green_space": matching_spaces(parts[order], z.spaces, ("green",)),
        }
    )
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(parts[order], crs=z.crs)).to_crs(4326)
