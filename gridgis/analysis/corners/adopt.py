"""A candidate adopted as a site, and the survey compared with what was found."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgis.analysis.corners.find import SURVEY_KINDS, matching_spaces
from gridgis.analysis.corners.geometry import FloatArray, ObjArray, grouped_union, layer_ids
from gridgis.analysis.corners.zones import Zones, build_zones
from gridgis.core.project import Project
from gridgis.core.settings import Settings
from gridgis.errors import GridGISError

__all__ = ["BLOCKERS", "candidate_to_site", "compare_spaces"]


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
    >>> from gridgis.analysis.corners import find_corners
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


BLOCKERS = {
    "site": "existing site",
    "building": "building clearance",
    "fire_lane": "fire lane",
    "path": "paths",
    "outside": "outside the compound",
}
"""What can take a surveyed space (a `compare_spaces` column each), in English."""


def _blockers(out: pd.DataFrame, g: ObjArray, z: Zones) -> tuple[list[str], list[list[str]]]:
    """Per space, what takes most of what the candidates leave, and the sites touching it.

    The first is ``""`` when >= 95 % is found, ``small`` when nothing takes
    any of it (too small or too narrow after the clearances), else a key of
    `BLOCKERS`.
    """
    site_ids = z.ids[z.what == "site"]
    named: list[list[str]] = [[] for _ in range(len(g))]
    if len(site_ids):
        si, sj = shapely.STRtree(z.geoms[z.what == "site"]).query(g, predicate="intersects")
        for k, j in zip(si, sj, strict=True):
            named[k].append(str(site_ids[j]))
    shares = out[list(BLOCKERS)].to_numpy(dtype=float)
    keys = []
    for k in range(len(g)):
        top = int(np.argmax(shares[k]))
        if out["found_share"].iloc[k] >= 0.95:
            keys.append("")
        elif shares[k, top] <= 0:
            keys.append("small")
        else:
            keys.append(list(BLOCKERS)[top])
    return keys, named


def _reasons(out: pd.DataFrame) -> list[str]:
    """The English ``reason`` of each space, from its ``blocker`` and ``blocking_sites``."""
    reasons = []
    for key, ids, row in zip(
        out["blocker"], out["blocking_sites"], out.to_dict("records"), strict=True
    ):
        if key == "":
            reasons.append("")
        elif key == "small":
            reasons.append("too small or too narrow after the clearances")
        else:
            label = BLOCKERS[key] + (f" {', '.join(ids)}" if key == "site" else "")
            reasons.append(f"{label} takes {row[key]:.0%}")
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
        ``missed``), ``blocker`` (what takes most of the rest: a key of
        `BLOCKERS`, ``small`` when nothing does, ``""`` when >= 95 % is found),
        ``blocking_sites`` (ids of the sites touching the space) and
        ``reason`` (the blocker in English).
    """
    settings = settings or project.settings
    z = build_zones(project, settings)
    spaces = z.spaces
    cols = ["space_id", "kind", "name", "area_m2", "found_share", "candidate_ids", "site"]
    cols += ["building", "fire_lane", "path", "outside", "status", "blocker", "blocking_sites"]
    cols += ["reason"]
    if spaces is None or "kind" not in spaces:
        return gpd.GeoDataFrame(
            pd.DataFrame({c: pd.Series(dtype=object) for c in cols}),
            geometry=gpd.GeoSeries([], crs=4326),
        )
    spaces = spaces[spaces["kind"].astype(str).isin(SURVEY_KINDS).to_numpy()]
    g = spaces.geometry.to_numpy()
    n = len(g)
    area = shapely.area(g)

    def share(geoms: ObjArray) -> FloatArray:
        if len(geoms) == 0:
            return np.zeros(n)
        i, j = shapely.STRtree(geoms).query(g, predicate="intersects")
        union = grouped_union(n, i, shapely.intersection(geoms[j], g[i]))
        return np.round(shapely.area(union) / np.maximum(area, 1e-12), 3)

    cand = candidates.to_crs(z.crs) if len(candidates) else candidates
    found = share(cand.geometry.to_numpy() if len(cand) else np.empty(0, dtype=object))
    lists = matching_spaces(cand.geometry.to_numpy(), spaces, SURVEY_KINDS) if len(cand) else []
    by_space: list[list[str]] = [[] for _ in range(n)]
    position = {sid: k for k, sid in enumerate(layer_ids(spaces, "space_id"))}
    for cid, matched in zip(cand["candidate_id"] if len(cand) else [], lists, strict=True):
        for sid in matched:
            by_space[position[sid]].append(str(cid))
    out = pd.DataFrame(
        {
            "space_id": layer_ids(spaces, "space_id"),
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
    out["blocker"], out["blocking_sites"] = _blockers(out, g, z)
    out["reason"] = _reasons(out)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(g, crs=z.crs)).to_crs(4326)
