"""Rendered maps: the map page's base map (cached per server process) and its edit overlay.

The base map (the compound's layers and the drawing toolbar, no sites) is
rendered once per project stamp, language and basemap, and sent to the
browser once; the sites travel separately (`gridgis.report.map.view.sites_layer`).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import pandas as pd

from app import layer_edits, mapwidget, state, workspace
from app.context import Context
from app.views.trace import served_url
from gridgis.analysis.microgrids import microgrid_households
from gridgis.core.plan_image import PlanImageStore
from gridgis.errors import GridGISError
from gridgis.report.i18n import t
from gridgis.report.map.basemaps import for_display
from gridgis.report.map.editing import EditLayer
from gridgis.report.map.layers import esc, feature_names
from gridgis.report.map.view import layer_group, project_map

__all__ = ["base_map", "edit_group", "edit_overlay"]

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=16)
def _base(
    path: str, stamp: workspace.Stamp, lang: str, basemap: str, key: str | None, skip: str | None
) -> mapwidget.PreparedMap:
    project = workspace.load_project(path, workspace.stamp(path))
    try:  # the scanned site plan, under the layers (the trace page places it)
        plan = PlanImageStore(path).load()
    except GridGISError as exc:  # a damaged record must not take the map away
        log.warning("%s: plan image not shown: %s", path, exc)
        plan = None
    m = project_map(project, lang=lang, basemap=basemap, sites=False, skip=(skip,) if skip else (),
                    draw=True, draw_lines=True, view_key=f"{path}|{basemap}", tianditu_key=key,
                    plan=plan, plan_url=served_url(plan) if plan is not None else None,
                    asset_url=mapwidget.asset_url())  # fmt: skip
    # jQuery only serves folium's popups and objects_to_stay_in_front, which the app's
    # map never uses: one script fewer to load before the map appears
    m.default_js = [(name, url) for name, url in m.default_js if name != "jquery"]
    return mapwidget.prepare(m)


def base_map(
    ctx: Context, lang: str, basemap: str, tianditu_key: str | None, skip: str | None = None
) -> mapwidget.PreparedMap:
    """The rendered base map (no sites, nor the layer `skip`; drawing toolbar), cached.

    Keyed so that saving a feature of `skip` (the layer being edited, sent
    with the feature group: `edit_group`) does not make it again: the browser
    keeps the map, its view and a half-drawn shape. Raises GridGISError.
    """
    key = (tianditu_key or "").strip() if basemap.startswith("tianditu") else None
    stamp = workspace.stamp_without(ctx.path, skip) if skip else workspace.stamp(ctx.path)
    if skip == "buildings":  # the micro-grids' labels sum their buildings' households
        stamp = (*stamp, _grid_counts(ctx))
    return _base(str(ctx.path), stamp, lang, basemap, key, skip)


def _grid_counts(ctx: Context) -> tuple[object, ...]:
    """The micro-grids' households as the base map labels them (they follow the buildings)."""
    layers = ctx.project.layers
    grids = layers.get("microgrids")
    if grids is None or not len(grids):
        return ()
    per_floor = ctx.project.settings.general.households_per_floor_fallback.value
    counts = microgrid_households(grids, layers.get("buildings"), per_floor=per_floor)
    return tuple(None if pd.isna(n) else int(n) for n in counts)


def edit_group(path: Path, layer: str, lang: str, basemap: str) -> str:
    """The script of the layer being edited, drawn as on the base map, with its pickable
    overlay on top, for `mapwidget.show`'s ``more_groups`` (cached per project stamp,
    selection and edit mode: a rerun that changes none of them costs nothing)."""
    selected = state.layer_selection().get(layer)
    editing = state.map_picked().get(layer)
    return _edit_group(str(path), workspace.stamp(path), layer, lang, basemap, selected,
                       state.edit_mode(), editing)  # fmt: skip


@functools.lru_cache(maxsize=8)
def _edit_group(
    path: str,
    stamp: workspace.Stamp,
    layer: str,
    lang: str,
    basemap: str,
    selected: str | None,
    mode: str,
    editing: str | None,
) -> str:
    project = workspace.load_project(path, stamp)
    group = layer_group(project, layer, lang=lang, basemap=basemap)
    edit_overlay(Path(path), layer, lang, basemap, selected, mode, editing).add_to(group)
    return mapwidget.feature_group_script(group, idx=1)


def edit_overlay(
    path: Path,
    layer: str,
    lang: str,
    basemap: str,
    selected: str | None,
    mode: str,
    editing: str | None = None,
) -> EditLayer:
    """The features of `layer` (not the sites), pickable and editable on the map page."""
    store = layer_edits.layer_store(path, layer)
    frame = for_display(store.load(), basemap)
    names = feature_names(frame, lang, escape=False)
    hint = t("mapedit.tooltip_hint", lang)
    tips = [
        f"<b>{esc(fid)}</b>{'' if name == '—' else ' · ' + esc(name)}<br><i>{esc(hint)}</i>"
        for fid, name in zip(frame[store.key], names, strict=True)
    ]
    return EditLayer(frame, layer=layer, key=store.key, tooltips=tips, selected=selected,
                     mode=mode, editing=editing)  # fmt: skip
