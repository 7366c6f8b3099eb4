"""The site-analysis engine: every number a planner and residents ask for.

`analyze_sites` projects the layers once into the project's local metric CRS
and runs the pure, index-aligned metric functions (`metrics`, `capacity`,
`cost`, `households`, `rules`, `funding`) on all sites at once. The result
keeps the sites' index and their EPSG:4326 geometry, so the app, the CLI and
the exports read the same numbers. The result, `SiteAnalysis`, and the
output contract live in `gridgis.analysis.result`.

Examples
--------
>>> from gridgis.core.project import open_project
>>> from gridgis.analysis.engine import analyze_sites
>>> result = analyze_sites(open_project("data/dongsi180"))
>>> bool((result.lines.groupby("site_id")["amount_cny"].sum().round(2)
...       == result.sites.set_index("site_id")["cost_cny"]).all())
True
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridgis.analysis.capacity import site_capacity
from gridgis.analysis.cost import cost_lines, site_costs
from gridgis.analysis.funding import FUNDING_COLUMNS, split_funding, split_plan_funding
from gridgis.analysis.households import adjacent_households, served_households
from gridgis.analysis.memo import Block, SiteMemo, assemble, site_keys
from gridgis.analysis.metrics import context, geometry_metrics
from gridgis.analysis.network import PathNetwork, build_network
from gridgis.analysis.result import COUNT_COLUMNS, SiteAnalysis, item_lists
from gridgis.analysis.rules import check_sites, check_summary, site_type_values
from gridgis.core.project import Project
from gridgis.core.schema import resolve_households
from gridgis.core.settings import Settings
from gridgis.core.validate import errors_only, validate_layer
from gridgis.errors import GridGISError, Problem, ValidationError

__all__ = [
    "MAX_SITE_AREA_M2",
    "PreparedProject",
    "SiteAnalysis",  # re-exported from gridgis.analysis.result: the engine's result
    "analyze_sites",
    "prepare",
]

log = logging.getLogger(__name__)

MAX_SITE_AREA_M2 = 1_000_000.0
"""A larger site (1 km2) is refused as a drawing slip before any costly work."""

_METRIC_LAYERS = ("buildings", "paths", "compound", "microgrids", "spaces")


@dataclass(frozen=True, eq=False)
class PreparedProject:
    """A project's layers made ready once, for analysing many sets of sites.

    The app analyses one site at a time as it is drawn; projecting the
    layers, indexing them and building the path network once per project
    (not per drawing) makes that several times faster, and `analyze` keeps
    each site's rows in `memo`. Results equal those of
    ``analyze_sites(project, sites)``. Its layers are never mutated: share it
    freely (the memo is thread-safe).

    Attributes
    ----------
    project
        The project prepared (its layers in EPSG:4326).
    settings
        The settings the analyses use.
    crs
        The local metric CRS.
    trees
        Layer name -> spatial index over its EPSG:4326 geometries.
    metric
        Layer name -> the whole layer in `crs` (row order as in the project).
    network
        The path network of the whole ``paths`` layer (None without paths).
    fire_lanes
        Whether the ``paths`` layer has any fire lane.
    memo
        Per-site rows already computed (`gridgis.analysis.memo.SiteMemo`).
    """

    project: Project
    settings: Settings
    crs: pyproj.CRS
    trees: dict[str, shapely.STRtree]
    metric: dict[str, gpd.GeoDataFrame]
    network: PathNetwork | None
    fire_lanes: bool = False
    memo: SiteMemo = field(default_factory=SiteMemo, repr=False)

    def households_in(self, building_ids: Iterable[Hashable]) -> int:
        """Households living in the given buildings, each building counted once.

        What `SiteAnalysis.households_served` counts, for any set of buildings
        (the proposals shown at a meeting, say).
        """
        per_floor = self.settings.general.households_per_floor_fallback.value
        groups = pd.Series([list(building_ids)], dtype=object)
        return _distinct_households(groups, self.metric.get("buildings"), per_floor)

    def analyze(self, sites: gpd.GeoDataFrame | None = None) -> SiteAnalysis:
        """Analyse `sites` (default: the project's own) with the per-site memo.

        Thread-safe. Equal to ``analyze_sites(self.project, sites,
        settings=self.settings)``; see `gridgis.analysis.memo` for the
        invariant that makes the memo sound.
        """
        return analyze_sites(self.project, sites, settings=self.settings, prepared=self)


def prepare(project: Project, *, settings: Settings | None = None) -> PreparedProject:
    """Project, index and network the layers of `project` once (see `PreparedProject`)."""
    settings = settings or project.settings
    crs = project.metric_crs()
    trees: dict[str, shapely.STRtree] = {}
    metric: dict[str, gpd.GeoDataFrame] = {}
    for name in _METRIC_LAYERS:
        layer = project.layers.get(name)
        if layer is None or len(layer) == 0:
            continue
        trees[name] = shapely.STRtree(layer.geometry.to_numpy())
        metric[name] = layer.to_crs(crs)
    if "buildings" not in metric:  # a draft: no buildings yet, so nobody served (not unknown)
        metric["buildings"] = gpd.GeoDataFrame(
            {"building_id": pd.Series(dtype=str), "households": pd.Series(dtype=float)},
            geometry=gpd.GeoSeries([], crs=crs),
        )
        trees["buildings"] = shapely.STRtree([])
    network = build_network(metric["paths"]) if "paths" in metric else None
    return PreparedProject(
        project=project,
        settings=settings,
        crs=crs,
        trees=trees,
        metric=metric,
        network=network if network is not None and len(network) else None,
        fire_lanes=_has_fire_lanes(project.layers.get("paths")),
    )


def _has_fire_lanes(paths: gpd.GeoDataFrame | None) -> bool:
    if paths is None or "kind" not in paths:
        return False
    return bool((paths["kind"].astype(object) == "fire_lane").any())


def _empty_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"site_id": pd.Series(dtype=str), "site_type": pd.Series(dtype=str)},
        geometry=gpd.GeoSeries([], crs=4326),
    )


def _check_prepared(project: Project, settings: Settings, prepared: PreparedProject) -> None:
    if prepared.project is not project or (
        prepared.settings is not settings and prepared.settings != settings
    ):
        raise GridGISError("prepared was made for another project or other settings")


def analyze_sites(
    project: Project,
    sites: gpd.GeoDataFrame | None = None,
    *,
    settings: Settings | None = None,
    prepared: PreparedProject | None = None,
) -> SiteAnalysis:
    """Analyse candidate sites against a project's layers.

    The one analysis path: ``prepare(project).analyze(sites)`` calls this.

    Parameters
    ----------
    project
        The compound (its buildings, paths, micro-grids, spaces).
    sites
        Sites to analyse, EPSG:4326; default: the project's ``sites`` layer.
        Validated against the layer contract first.
    settings
        Default: the project's settings.
    prepared
        `prepare(project, settings=settings)`, made once and reused: same
        results, and sites it has analysed before come from its memo.
        Default: prepared for this call only.

    Returns
    -------
    SiteAnalysis
        Per-site metrics (index of `sites`), cost lines and plan funding.

    Raises
    ------
    ValidationError
        The sites break the layer contract (every problem listed), or a site
        is larger than `MAX_SITE_AREA_M2`.
    """
    settings = settings or project.settings
    if prepared is None:
        prepared = prepare(project, settings=settings)
    else:
        _check_prepared(project, settings, prepared)
    if sites is None:
        sites = project.layers.get("sites")
    if sites is None:
        sites = _empty_sites()
    problems = validate_layer(sites, "sites", site_types=tuple(settings.site_types))
    if errors := errors_only(problems):
        raise ValidationError(errors)
    if "name" not in sites:
        sites = sites.assign(name=None)
    keys = site_keys(sites)
    entries = prepared.memo.get_many(keys)
    missing = list(dict.fromkeys(k for k, e in zip(keys, entries, strict=True) if e is None))
    if missing:
        first: dict[Hashable, int] = {}
        for pos, key in enumerate(keys):
            first.setdefault(key, pos)
        todo = sites.iloc[[first[k] for k in missing]]
        block = _compute(prepared, todo)
        prepared.memo.put(missing, block)
        fresh = {k: (block, row) for row, k in enumerate(missing)}
        entries = [e if e is not None else fresh[k] for k, e in zip(keys, entries, strict=True)]
    if len(sites):
        columns, lines = assemble([e for e in entries if e is not None], sites.index)
    else:  # nothing to memoise; the empty block gives the columns and their dtypes
        empty = _compute(prepared, sites)
        columns = {c: pd.Series(v, index=sites.index) for c, v in empty.columns.items()}
        lines = empty.lines
    out = _with_columns(sites, columns)
    per_floor = settings.general.households_per_floor_fallback.value
    buildings = prepared.metric.get("buildings")
    unique_households = _distinct_households(out["buildings_served"], buildings, per_floor)
    plan = split_plan_funding(out["cost_cny"], households=unique_households, settings=settings)
    return SiteAnalysis(
        sites=out, lines=lines, plan_funding=plan, households_served=unique_households
    )


def _compute(prepared: PreparedProject, sites: gpd.GeoDataFrame) -> Block:
    """Every per-site column and cost line of `sites` (positions as index): one memo block."""
    sites = sites.reset_index(drop=True)
    settings = prepared.settings
    reach_m = _reach_m(settings)
    sites_m = sites.to_crs(prepared.crs)
    _check_size(sites, sites_m)

    def near(name: str) -> gpd.GeoDataFrame | None:
        """The layer's features within reach of some site (None: the project has no such layer)."""
        whole = prepared.metric.get(name)
        if whole is None:
            return None
        if name == "compound":  # a site is inside or outside the whole boundary
            return whole
        margin = {"buildings": reach_m, "paths": 2.0 * reach_m}.get(name, 1.0)
        rows = _near(prepared.trees[name], sites, margin)
        return whole if len(rows) == len(whole) else whole.iloc[rows]

    buildings, paths = near("buildings"), near("paths")
    walk: gpd.GeoDataFrame | PathNetwork | None = prepared.network if paths is not None else None
    per_floor = settings.general.households_per_floor_fallback.value
    geo = geometry_metrics(sites_m)
    compound, spaces = near("compound"), near("spaces")
    where = context(sites_m, compound=compound, microgrids=near("microgrids"), spaces=spaces)
    capacity = site_capacity(sites_m, metrics=geo, settings=settings)
    lines = cost_lines(sites_m, metrics=geo, capacity=capacity, settings=settings)
    cost = site_costs(lines, sites.index)
    radius = site_type_values(sites_m, settings=settings, field="service_radius_m")
    consult = site_type_values(sites_m, settings=settings, field="consultation_distance_m")
    served = served_households(sites_m, buildings, radius_m=radius, paths=walk, per_floor=per_floor)
    adjacent = adjacent_households(sites_m, buildings, distance_m=consult, per_floor=per_floor)
    checks = check_sites(
        sites_m,
        settings=settings,
        compound=compound,
        buildings=buildings,
        paths=paths,
        spaces=spaces,
        min_width=geo["min_width_m"],
        fire_lanes=prepared.fire_lanes,
    )
    funding = split_funding(cost, served["households_served"], settings=settings)
    columns: dict[str, Any] = {}
    for frame in (geo, where, capacity, served, adjacent, funding):
        columns.update(frame.items())
    columns["cost_cny"] = cost
    columns["cost_items"] = item_lists(lines, sites.index)
    columns["checks"] = checks
    summary = checks.map(check_summary)
    columns["checks_failed"] = summary.map(lambda s: s["failed"]).astype(np.int64)
    columns["checks_not_checked"] = summary.map(lambda s: s["not_checked"]).astype(np.int64)
    columns["funding"] = pd.Series(
        [
            {k: None if pd.isna(v) else v for k, v in zip(FUNDING_COLUMNS, values, strict=True)}
            for values in zip(*(funding[c].tolist() for c in FUNDING_COLUMNS), strict=True)
        ],
        index=sites.index,
        dtype=object,
    )
    for name in COUNT_COLUMNS:
        columns[name] = _as_int(columns[name], name)
    return Block.from_frames(columns, lines)


def _as_int(values: pd.Series, name: str) -> pd.Series:
    """A count column as int64 (a count is whole by construction; NaN means 0 known)."""
    if values.dtype == np.int64:
        return values
    raw = values.to_numpy(dtype=float, na_value=np.nan)
    whole = np.nan_to_num(raw, nan=0.0)
    if np.any(np.abs(whole - np.round(whole)) > 1e-6):
        raise GridGISError(f"{name} must hold whole counts, got {raw[:5].tolist()!r}")
    return pd.Series(np.round(whole).astype(np.int64), index=values.index, name=name)


def _check_size(sites: gpd.GeoDataFrame, sites_m: gpd.GeoDataFrame) -> None:
    """Refuse sites too large to be one site (a drawing slip), before any costly work."""
    area = shapely.area(np.asarray(sites_m.geometry.array, dtype=object))
    big = np.flatnonzero(np.nan_to_num(area) > MAX_SITE_AREA_M2)
    if len(big):
        ids = sites["site_id"].astype(str).to_numpy() if "site_id" in sites else sites.index
        raise ValidationError(
            [
                Problem(
                    f"site {ids[k]!r} covers {area[k]:,.0f} m2; a site may cover at most "
                    f"{MAX_SITE_AREA_M2:,.0f} m2",
                    layer="sites",
                    feature=f"site_id={ids[k]!r}",
                    field="geometry",
                    fix="redraw the site (a slip of the mouse?)",
                )
                for k in big
            ]
        )


def _with_columns(sites: gpd.GeoDataFrame, columns: dict[str, pd.Series]) -> gpd.GeoDataFrame:
    """`sites` with `columns` set (replaced in place, else appended), built in one go.

    Setting ~30 columns one by one on a GeoDataFrame costs ~1 ms each; the
    app analyses one site per drawing, so this is most of its time otherwise.
    """
    data = {c: sites[c].array for c in sites.columns if c not in columns}
    data.update((c, v.array) for c, v in columns.items())  # index-aligned: no alignment
    order = [*sites.columns, *(c for c in columns if c not in sites.columns)]
    out = pd.DataFrame({c: data[c] for c in order}, index=sites.index, copy=False)
    return gpd.GeoDataFrame(out, geometry=sites.geometry.name, crs=sites.crs)


def _reach_m(settings: Settings) -> float:
    """The farthest any analysis looks from a site for buildings, in metres.

    Paths need twice this: a building's own nearest path (where it joins the
    network) may lie up to one radius beyond the building.
    """
    rules = settings.rules
    per_type = [
        max(t.service_radius_m.value, t.consultation_distance_m.value)
        for t in settings.site_types.values()
    ]
    fixed = max(rules.shed_setback_from_openings_m.value, rules.fire_lane_clear_width_m.value)
    return max([*per_type, fixed]) + 10.0


def _near(tree: shapely.STRtree, sites: gpd.GeoDataFrame, margin_m: float) -> np.ndarray:
    """Positions in `tree` (EPSG:4326) whose envelope comes within `margin_m` of a site's envelope.

    A superset of what any metric needs: the envelopes are grown by the margin
    converted to degrees at the most poleward latitude, with 1% to spare.
    """
    geoms = sites.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return np.empty(0, dtype=np.intp)
    xmin, ymin, xmax, ymax = shapely.bounds(geoms[present]).T
    lat = min(89.0, float(np.max(np.abs([ymin, ymax]))) + 1.0)
    dlat = 1.01 * margin_m / 110_574.0
    dlon = 1.01 * margin_m / (111_320.0 * np.cos(np.radians(lat)))
    boxes = shapely.box(xmin - dlon, ymin - dlat, xmax + dlon, ymax + dlat)
    _, hits = tree.query(boxes)
    return np.unique(hits)


def _distinct_households(
    served_ids: pd.Series, buildings: gpd.GeoDataFrame | None, per_floor: float
) -> int:
    """Households served by the plan, each building counted once."""
    if buildings is None or len(served_ids) == 0:
        return 0
    ids = {b for group in served_ids for b in group}
    counts = resolve_households(buildings, per_floor=per_floor)["households"]
    mask = buildings["building_id"].astype(object).isin(ids).to_numpy()  # arrow isin is slow
    return round(float(np.nansum(counts.to_numpy()[mask])))
