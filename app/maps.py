"""Rendered maps, cached per server process: the map page's base map.

The base map (the compound's layers and the drawing toolbar, no sites) is
rendered once per project stamp, language and basemap, and sent to the
browser once; the sites travel separately (`gridgis.report.map.view.sites_layer`).
"""

from __future__ import annotations

import functools

from app import mapwidget, workspace
from app.context import Context
from gridgis.report.map.view import project_map

__all__ = ["base_map"]


@functools.lru_cache(maxsize=16)
def _base(
    path: str, stamp: workspace.Stamp, lang: str, basemap: str, key: str | None
) -> mapwidget.PreparedMap:
    project = workspace.load_project(path, stamp)
    m = project_map(project, lang=lang, basemap=basemap, sites=False, draw=True, draw_lines=True,
                    tianditu_key=key, asset_url=mapwidget.asset_url())  # fmt: skip
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
