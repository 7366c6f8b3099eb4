"""The stall layout of one site of a project (`layout_site`), for the map and export.

The layout itself is `gridgis.analysis.stalls.layout.layout_stalls`; this module
finds the site, checks that its type holds bike stalls and returns the stalls
as a layer in EPSG:4326.
"""

from __future__ import annotations

import geopandas as gpd

from gridgis.analysis.stalls.closedform import stall_rules
from gridgis.analysis.stalls.layout import layout_stalls
from gridgis.core.project import Project
from gridgis.core.settings import Settings
from gridgis.errors import GridGISError

__all__ = ["layout_site"]


def _where(project: Project) -> str:
    return f"{project.path}: layer sites" if project.path else "layer sites"


def _find_site(project: Project, site_id: str) -> gpd.GeoDataFrame:
    sites = project.layers.get("sites")
    where = _where(project)
    if sites is None or len(sites) == 0:
        raise GridGISError(f"{where}: the project has no sites; cannot lay out site {site_id!r}")
    if "site_id" not in sites:
        raise GridGISError(f"{where}, field site_id: the sites layer has no site_id column")
    ids = sites["site_id"].astype(str)
    hit = sites[ids == str(site_id)]
    if hit.empty:
        known = ", ".join(ids.head(20))
        raise GridGISError(
            f"{where}, field site_id: no feature site_id={str(site_id)!r}; known ids: {known}"
        )
    if len(hit) > 1:
        raise GridGISError(f"{where}, field site_id: {len(hit)} features have site_id={site_id!r}")
    return hit


def layout_site(
    project: Project,
    site_id: str,
    *,
    settings: Settings | None = None,
    aisle_m: float | None = None,
) -> gpd.GeoDataFrame:
    """The stalls of one shed site of a project, for the map and export.

    Parameters
    ----------
    project
        The project; its ``sites`` layer holds the site.
    site_id
        The site's ``site_id``; its type must use the ``bike_stalls`` capacity rule.
    settings
        Default: the project's settings.
    aisle_m
        Aisle width; default ``rules.shed_aisle_width_m``.

    Returns
    -------
    GeoDataFrame
        EPSG:4326, one row per stall: ``site_id``, ``stall_id`` (``<site_id>-1``,
        ...), ``block`` (1, 2, ...). ``attrs["layout"]`` holds ``count``,
        ``charging_ports``, ``circuits``, ``blocks``, ``orientation_deg`` and
        ``aisle_m``.

    Raises
    ------
    GridGISError
        No such site, or a site type without stalls (e.g. a garden).

    Examples
    --------
    >>> from gridgis.core.project import open_project
    >>> stalls = layout_site(open_project("data/dongsi180"), "SITE1")
    >>> len(stalls), stalls.attrs["layout"]["charging_ports"]
    (34, 12)
    """
    settings = settings or project.settings
    site = _find_site(project, site_id)
    site_type = str(site["site_type"].iloc[0]) if "site_type" in site else ""
    kind = settings.site_types.get(site_type)
    if kind is None or kind.capacity_rule != "bike_stalls":
        stall_types = [
            k for k, t in settings.site_types.items() if t.capacity_rule == "bike_stalls"
        ]
        raise GridGISError(
            f"{_where(project)}, feature site_id={str(site_id)!r}, field site_type: {site_type!r} "
            f"has no stall layout; only {', '.join(stall_types)} sites hold bike stalls"
        )
    crs = project.metric_crs()
    geom = site.to_crs(crs).geometry.iloc[0]
    lay = layout_stalls(geom, settings=settings, aisle_m=aisle_m)
    stalls = gpd.GeoDataFrame(
        {
            "site_id": [str(site_id)] * lay.count,
            "stall_id": [f"{site_id}-{i + 1}" for i in range(lay.count)],
            "block": lay.block,
        },
        geometry=gpd.GeoSeries(lay.stalls.to_numpy(), crs=crs),
    ).to_crs(4326)
    stalls.attrs["layout"] = {
        "count": lay.count,
        "charging_ports": lay.charging_ports,
        "circuits": lay.circuits,
        "blocks": lay.blocks,
        "orientation_deg": lay.orientation_deg,
        "aisle_m": stall_rules(settings, aisle_m).aisle,
    }
    return stalls
