"""Rendered maps, cached per server process: the map page's base map.

The base map (the compound's layers and the drawing toolbar, no sites) is
rendered once per project stamp, language and basemap, and sent to the
browser once; the sites travel separately (`gridgis.report.map.view.sites_layer`).
"""

from __future__ import annotations

import functools
import logging

from app import mapwidget, workspace
from app.context import Context
from app.views.trace import served_url
from gridgis.core.plan_image import PlanImageStore
from gridgis.errors import GridGISError
from gridgis.report.map.assets import localize_assets
from gridgis.report.map.plan_overlay import add_plan_overlay
from gridgis.report.map.view import project_map

__all__ = ["base_map"]

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=16)
def _base(
    path: str, stamp: workspace.Stamp, lang: str, basemap: str, key: str | None
) -> mapwidget.PreparedMap:
    project = workspace.load_project(path, stamp)
    m = project_map(project, lang=lang, basemap=basemap, sites=False, draw=True, draw_lines=True,
                    tianditu_key=key, asset_url=mapwidget.asset_url())  # fmt: skip
    try:  # the scanned site plan, under the layers (the trace page places it)
        plan = PlanImageStore(path).load()
    except GridGISError as exc:  # a damaged record must not take the map away
        log.warning("%s: plan image not shown: %s", path, exc)
        plan = None
    if plan is not None:  # (until project_map takes plan=: then pass it there)
        add_plan_overlay(m, plan, lang=lang, basemap=basemap, image_url=served_url(plan),
                         control=False)  # fmt: skip
        localize_assets(m, asset_url=mapwidget.asset_url())
    # jQuery only serves folium's popups and objects_to_stay_in_front, which the app's
    # map never uses: one script fewer to load before the map appears
    m.default_js = [(name, url) for name, url in m.default_js if name != "jquery"]
    return mapwidget.prepare(m)


def base_map(
    ctx: Context, lang: str, basemap: str, tianditu_key: str | None
) -> mapwidget.PreparedMap:
    """The rendered base map (no sites; drawing toolbar), cached. Raises GridGISError."""
    key = (tianditu_key or "").strip() if basemap.startswith("tianditu") else None
    return _base(str(ctx.path), workspace.stamp(ctx.path), lang, basemap, key)
