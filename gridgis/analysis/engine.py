"""The site-analysis engine: every number a planner and residents ask for.

`analyze_sites` projects the layers once into the project's local metric CRS
and runs the pure, index-aligned metric functions (`metrics`, `capacity`,
`cost`, `households`, `rules`, `funding`) on all sites at once. The result
keeps the sites' index and their EPSG:4326 geometry, so the app, the CLI and
the exports read the same numbers.

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
from dataclasses import dataclass
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
from gridgis.analysis.metrics import context, geometry_metrics
from gridgis.analysis.network import PathNetwork, build_network
from gridgis.analysis.rules import check_sites, site_type_values
from gridgis.core.project import Project
from gridgis.core.schema import resolve_households
from gridgis.core.settings import Settings
from gridgis.core.validate import errors_only, validate_layer
from gridgis.errors import ValidationError

__all__ = ["CONTRACT_PROPERTIES", "PreparedProject", "SiteAnalysis", "analyze_sites", "prepare"]

log = logging.getLogger(__name__)

CONTRACT_PROPERTIES = (
    "site_id",
    "site_type",
    "name",
    "area_m2",
    "perimeter_m",
    "capacity",
    "capacity_unit",
    "cost_cny",
    "cost_items",
    "households_served",
    "households_adjacent",
    "buildings_served",
    "microgrids",
    "checks",
    "funding",
)
"""Properties of every site Feature written by ``gridgis analyze`` (DESIGN.md)."""

_ITEM_KEYS = (
    "item", "label_zh", "label_en", "quantity", "unit", "rate_cny", "amount_cny", "source"
)  # fmt: skip


@dataclass
class SiteAnalysis:
    """The analysis of a set of sites.

    Attributes
    ----------
    sites
        One row per site (the input's index), EPSG:4326 geometry, the input's
        columns plus every metric (see `CONTRACT_PROPERTIES`; also
        ``min_width_m``, ``charging_ports``, ``circuits``, ``distance_method``,
        ``buildings_adjacent``, ``buildings_unknown``, ``checks_failed``).
    lines
        Cost line items, one row per site and item.
    plan_funding
        The whole plan's funding split (one row).
    """

    sites: gpd.GeoDataFrame
    lines: pd.DataFrame
    plan_funding: pd.DataFrame

    def features(self) -> gpd.GeoDataFrame:
        """The sites with exactly the contract properties, for GeoJSON export."""
        props = self.sites[list(CONTRACT_PROPERTIES)].copy()
        props["area_m2"] = props["area_m2"].round(2)
        props["perimeter_m"] = props["perimeter_m"].round(2)
        return gpd.GeoDataFrame(
            props,
            geometry=self.sites.geometry,
            crs=self.sites.crs,
        )

    def totals(self) -> dict[str, Any]:
        """Plan totals: cost, bikes, charging ports, households served (distinct)."""
        sites = self.sites
        bikes = sites.loc[sites["capacity_unit"] == "bikes", "capacity"].sum()
        served = {b for ids in sites["buildings_served"] for b in ids}
        return {
            "sites": len(sites),
            "cost_cny": round(float(sites["cost_cny"].sum()), 2),
            "bikes": int(bikes),
            "charging_ports": int(sites["charging_ports"].sum()),
            "buildings_served": len(served),
            "checks_failed": int(sites["checks_failed"].sum()),
        }

    def budget_sheets(self) -> dict[str, pd.DataFrame]:
        """Tables for the XLSX budget: sites, line items, funding (units in headers)."""
        s = self.sites
        failed = s["checks"].map(
            lambda checks: "; ".join(c["message"] for c in checks if not c["ok"])
        )
        sites = pd.DataFrame(
            {
                "编号 site_id": s["site_id"],
                "名称 name": s["name"],
                "类型 site_type": s["site_type"],
                "面积 area (m2)": s["area_m2"].round(2),
                "周长 perimeter (m)": s["perimeter_m"].round(2),
                "最小净宽 min width (m)": s["min_width_m"].round(2),
                "容量 capacity": s["capacity"],
                "容量单位 capacity unit": s["capacity_unit"],
                "充电口 charging ports": s["charging_ports"],
                "造价 cost (CNY)": s["cost_cny"],
                "服务户数 households served": s["households_served"],
                "需征询户数 households adjacent": s["households_adjacent"],
                "服务楼栋 buildings served": s["buildings_served"],
                "微网格 micro-grids": s["microgrids"].map(
                    lambda grids: ", ".join(f"{g['grid_id']} {g.get('name') or ''}" for g in grids)
                ),
                "未通过检查 failed checks": failed,
            }
        )
        lines = pd.DataFrame(
            {
                "编号 site_id": self.lines["site_id"],
                "项目 item": self.lines["item"],
                "名称 label": self.lines["label_zh"] + " / " + self.lines["label_en"],
                "数量 quantity": self.lines["quantity"],
                "单位 unit": self.lines["unit"],
                "单价 rate (CNY)": self.lines["rate_cny"],
                "金额 amount (CNY)": self.lines["amount_cny"],
                "来源 source (S/D/E)": self.lines["source"],
                "依据 reference": self.lines["ref"],
            }
        )
        funding = pd.DataFrame(
            {
                "编号 site_id": s["site_id"],
                "造价 cost (CNY)": s["cost_cny"],
                "居民自筹 residents (CNY)": s["residents_cny"],
                "街道补助 street subsidy (CNY)": s["subsidy_cny"],
                "其他来源 other sources (CNY)": s["other_cny"],
                "每户 per household served (CNY)": s["per_household_cny"],
                "补助封顶 subsidy capped": s["subsidy_capped"],
            }
        )
        plan = self.plan_funding.iloc[0]
        funding.loc[len(funding)] = [
            "合计 plan",
            s["cost_cny"].sum(),
            plan["residents_cny"],
            plan["subsidy_cny"],
            plan["other_cny"],
            plan["per_household_cny"],
            plan["subsidy_capped"],
        ]
        return {"sites 点位": sites, "cost items 造价明细": lines, "funding 资金": funding}


_METRIC_LAYERS = ("buildings", "paths", "compound", "microgrids", "spaces")


@dataclass(frozen=True, eq=False)
class PreparedProject:
    """A project's layers made ready once, for analysing many sets of sites.

    The app analyses one site at a time as it is drawn; projecting the
    layers, indexing them and building the path network once per project
    (not per drawing) makes that several times faster. Results equal those
    of ``analyze_sites(project, sites)``. Never mutated: share it freely.

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
    """

    project: Project
    settings: Settings
    crs: pyproj.CRS
    trees: dict[str, shapely.STRtree]
    metric: dict[str, gpd.GeoDataFrame]
    network: PathNetwork | None


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
    network = build_network(metric["paths"]) if "paths" in metric else None
    return PreparedProject(
        project=project,
        settings=settings,
        crs=crs,
        trees=trees,
        metric=metric,
        network=network if network is not None and len(network) else None,
    )


def _empty_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"site_id": pd.Series(dtype=str), "site_type": pd.Series(dtype=str)},
        geometry=gpd.GeoSeries([], crs=4326),
    )


def _item_lists(lines: pd.DataFrame, index: pd.Index) -> pd.Series:
    records: dict[Any, list[dict[str, Any]]] = {i: [] for i in index}
    values = zip(*(lines[k].tolist() for k in _ITEM_KEYS), strict=True)  # Python scalars
    for site, row in zip(lines["site_index"].tolist(), values, strict=True):
        records[site].append(dict(zip(_ITEM_KEYS, row, strict=True)))
    return pd.Series([records[i] for i in index], index=index, dtype=object)


def analyze_sites(
    project: Project,
    sites: gpd.GeoDataFrame | None = None,
    *,
    settings: Settings | None = None,
    prepared: PreparedProject | None = None,
) -> SiteAnalysis:
    """Analyse candidate sites against a project's layers.

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
        results, faster when many small sets of sites are analysed.

    Returns
    -------
    SiteAnalysis
        Per-site metrics (index of `sites`), cost lines and plan funding.

    Raises
    ------
    ValidationError
        The sites break the layer contract (every problem listed).
    """
    settings = settings or project.settings
    if prepared is not None and (
        prepared.project is not project
        or (prepared.settings is not settings and prepared.settings != settings)
    ):
        raise ValueError("prepared was made for another project or other settings")
    if sites is None:
        sites = project.layers.get("sites")
    if sites is None:
        sites = _empty_sites()
    problems = validate_layer(sites, "sites", site_types=tuple(settings.site_types))
    if errors := errors_only(problems):
        raise ValidationError(errors)
    if "name" not in sites:
        sites = sites.assign(name=None)
    crs = prepared.crs if prepared is not None else project.metric_crs()
    reach_m = _reach_m(settings)

    def metric(name: str) -> gpd.GeoDataFrame | None:
        layer = project.layers.get(name)
        if layer is None or len(layer) == 0:
            return None
        # only features within reach of some site matter: project just those
        margin = {"buildings": reach_m, "paths": 2.0 * reach_m}.get(name, 1.0)
        if prepared is None:
            tree = shapely.STRtree(layer.geometry.to_numpy())
            return layer.iloc[_near(tree, sites, margin)].to_crs(crs)
        near = _near(prepared.trees[name], sites, margin)
        whole = prepared.metric[name]
        return whole if len(near) == len(whole) else whole.iloc[near]

    sites_m = sites.to_crs(crs)
    buildings, paths = metric("buildings"), metric("paths")
    walk: gpd.GeoDataFrame | PathNetwork | None = paths
    if prepared is not None:
        walk = prepared.network if paths is not None and len(paths) else None
    per_floor = settings.general.households_per_floor_fallback.value
    geo = geometry_metrics(sites_m)
    compound, spaces = metric("compound"), metric("spaces")
    where = context(sites_m, compound=compound, microgrids=metric("microgrids"), spaces=spaces)
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
    )
    funding = split_funding(cost, served["households_served"], settings=settings)
    columns: dict[str, Any] = {}
    for frame in (geo, where, capacity, served, adjacent, funding):
        columns.update(frame.items())
    columns["cost_cny"] = cost
    columns["cost_items"] = _item_lists(lines, sites.index)
    columns["checks"] = checks
    columns["checks_failed"] = checks.map(lambda cs: sum(not c["ok"] for c in cs)).astype(int)
    columns["funding"] = pd.Series(
        [
            {k: None if pd.isna(v) else v for k, v in zip(FUNDING_COLUMNS, values, strict=True)}
            for values in zip(*(funding[c].tolist() for c in FUNDING_COLUMNS), strict=True)
        ],
        index=sites.index,
        dtype=object,
    )
    out = _with_columns(sites, columns)
    unique_households = _distinct_households(served["buildings_served"], buildings, per_floor)
    plan = split_plan_funding(cost, households=unique_households, settings=settings)
    return SiteAnalysis(sites=out, lines=lines, plan_funding=plan)


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
) -> float:
    """Households served by the plan, each building counted once."""
    if buildings is None or len(served_ids) == 0:
        return 0.0
    ids = {b for group in served_ids for b in group}
    counts = resolve_households(buildings, per_floor=per_floor)["households"]
    mask = buildings["building_id"].astype(object).isin(ids).to_numpy()  # arrow isin is slow
    return float(np.nansum(counts.to_numpy()[mask]))
