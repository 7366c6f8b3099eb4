"""A folium map of a project: boundary, micro-grids, buildings, spaces, paths, sites.

The map works offline: it draws on a plain background unless asked for a
tile basemap (`gridgis.report.map.basemaps`), and Leaflet comes from the
package itself (`gridgis.report.map.assets`): inlined into the page by
default, or linked from ``asset_url`` (the app serves a copy). Every user
text reaches the browser HTML-escaped.

For the app, `project_map` builds the *base* map (everything but the sites,
plus the drawing toolbar), which stays the same while sites are drawn, and
`sites_layer` (`gridgis.report.map.sites`) builds the sites as a separate
feature group that the app swaps in without reloading the map. Colours,
layer styles and site icons come from `gridgis.report.map.style`, the
legend from `gridgis.report.map.legend`. A map of more than `LARGE_LAYER`
features (a district) is sent compactly and drawn on canvases
(`gridgis.report.map.compact`): coordinates to 10 cm, no labels, the same
tooltips and hover highlight.

Examples
--------
>>> from gridgis.core.project import open_project
>>> m = project_map(open_project("data/dongsi180"), lang="en")
>>> html = m.get_root().render()
>>> "Fire lane" in html, "<script src=" in html  # Leaflet is inlined
(True, False)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import Draw

from gridgis.analysis.microgrids import microgrid_households
from gridgis.core.plan_image import PlanImage
from gridgis.core.project import Project
from gridgis.core.schema import resolve_households
from gridgis.errors import GridGISError
from gridgis.report.i18n import LANGS, t
from gridgis.report.map.assets import localize_assets
from gridgis.report.map.basemaps import (
    BASEMAPS,
    GCJ02_BASEMAPS,
    add_tiles,
    check_basemap,
    display_datum,
    for_display,
    from_display,
)
from gridgis.report.map.editing import EditTools
from gridgis.report.map.elements import DrawLocal, MapExtras, ToBack
from gridgis.report.map.layers import (
    LABEL_CLEARANCE_DEG,
    LARGE_ATTR,
    LARGE_LAYER,
    PRECISION,
    add_layer,
    aliases,
    esc,
    feature_names,
    label_rows,
    term,
)
from gridgis.report.map.legend import (
    LegendRows,
    building_rows,
    compound_rows,
    grid_rows,
    kind_rows,
    legend_html,
    site_rows,
)
from gridgis.report.map.plan_overlay import add_plan_overlay
from gridgis.report.map.sites import add_sites, sites_layer
from gridgis.report.map.style import (
    BUILDING_STYLE,
    COMPOUND_STYLE,
    OTHER_PATH,
    OTHER_SPACE,
    PASTELS,
    PATH_STYLES,
    SPACE_STYLES,
    site_colours,
)

__all__ = [
    "BASEMAPS",
    "GCJ02_BASEMAPS",
    "LANGS",
    "LARGE_LAYER",
    "LAYER_ORDER",
    "display_datum",
    "from_display",
    "layer_group",
    "project_map",
    "site_colours",
    "sites_layer",
]


def _households(project: Project) -> pd.DataFrame:
    buildings = project.layers["buildings"]
    per_floor = project.settings.general.households_per_floor_fallback.value
    return resolve_households(buildings, per_floor=per_floor)


def _hh_text(n: float, derived: bool, lang: str) -> str:
    if pd.isna(n):
        return "—"
    return t("map.hh_est" if derived else "map.hh_unit", lang, n=round(n))


def _add_grids(
    m: folium.Map | folium.FeatureGroup,
    grids: gpd.GeoDataFrame,
    lang: str,
    avoid: gpd.GeoDataFrame | None,
    counts: pd.Series,
) -> LegendRows:
    """The micro-grids, labelled with `counts` (`microgrid_households`: members summed now)."""
    names = feature_names(grids, lang)
    props = pd.DataFrame({"name": names}, index=grids.index)
    props["leader"] = grids["leader"].map(esc) if "leader" in grids else "—"
    hh = counts.map(lambda n: "—" if pd.isna(n) else t("map.hh_unit", lang, n=int(n)))
    if "households" in grids or "building_ids" in grids:
        props["households"] = hh
    props["_s"] = [str(i % len(PASTELS)) for i in range(len(grids))]
    labels = label_rows(
        grids,
        [
            t("map.grid_label", lang, name=n, leader=ld, hh=h)
            for n, ld, h in zip(names, props["leader"], hh, strict=True)
        ],
        "gridgis-label-microgrid",
        avoid=avoid,
    )
    add_layer(m, grids, props, name=t("map.microgrids", lang), prefix="g",
           titles=aliases(lang), labels=labels, style=lambda s: {
               "color": "#78909c", "weight": 1, "dashArray": "3 3",
               "fillColor": PASTELS[int(s)], "fillOpacity": 0.55,
           })  # fmt: skip
    return grid_rows(lang)


def _add_kinds(
    m: folium.Map | folium.FeatureGroup,
    frame: gpd.GeoDataFrame,
    layer: str,
    styles: Mapping[str, dict[str, Any]],
    fallback: dict[str, Any],
    lang: str,
) -> LegendRows:
    """Spaces or paths: one style per ``kind``; legend rows for the kinds present."""
    kinds = frame["kind"].astype(str)
    props = pd.DataFrame(
        {"name": feature_names(frame, lang), "kind": kinds.map(lambda k: term(k, lang))}
    )
    props["_s"] = kinds
    add_layer(m, frame, props, name=t(f"map.{layer}", lang), prefix=layer[0],
           titles=aliases(lang), style=lambda s: styles.get(s, fallback))  # fmt: skip
    return kind_rows(styles, kinds, lang)


def _add_buildings(m: folium.Map | folium.FeatureGroup, project: Project, lang: str) -> LegendRows:
    buildings = project.layers["buildings"]
    resolved = _households(project)
    # an estimate made on import (households_source "estimate") is shown as one too
    estimated = (
        buildings["households_source"].astype(str).eq("estimate").to_numpy()
        if "households_source" in buildings
        else np.zeros(len(buildings), dtype=bool)
    )
    hh = [
        _hh_text(n, bool(d) or bool(e), lang)
        for n, d, e in zip(resolved["households"], resolved["derived"], estimated, strict=True)
    ]
    names = feature_names(buildings, lang)
    props = pd.DataFrame({"name": names, "households": hh}, index=buildings.index)
    for col in ("units", "floors"):
        if col in buildings:
            props[col] = pd.to_numeric(buildings[col], errors="coerce").map(
                lambda v: "—" if pd.isna(v) else str(int(v))
            )
    props["_s"] = ""
    texts = [f"{n}<br>{h}" if n != "—" else h for n, h in zip(names, hh, strict=True)]
    labels = label_rows(buildings, texts, "gridgis-label-building")
    add_layer(m, buildings, props, name=t("map.buildings", lang), prefix="b",
           titles=aliases(lang), labels=labels, style=lambda s: BUILDING_STYLE)  # fmt: skip
    return building_rows(lang)


def _draw_control(m: folium.Map, lang: str, lines: bool, view_key: str) -> None:
    DrawLocal(lang).add_to(m)
    shape = {"color": "#e65100", "weight": 3, "fillOpacity": 0.25}
    line = {"color": "#e65100", "weight": 4}
    Draw(
        position="topleft",
        show_geometry_on_click=False,
        draw_options={
            "polyline": {"showLength": False, "shapeOptions": line} if lines else False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
            "polygon": {"allowIntersection": False, "showArea": False, "shapeOptions": shape},
            "rectangle": {"showArea": False, "metric": True, "shapeOptions": shape},
        },
        edit_options={"edit": False, "remove": False},
    ).add_to(m)
    EditTools(view_key).add_to(m)  # editing what is drawn: gridgis.report.map.editing


LAYER_ORDER = ("microgrids", "compound", "spaces", "paths", "buildings")
"""The project's layers (not the sites) a map draws, bottom to top."""


def _display_layers(project: Project, basemap: str) -> tuple[dict[str, gpd.GeoDataFrame], int]:
    """The non-empty layers in the display datum (flagged large on a big map); their size."""
    layers = {
        k: for_display(v, basemap)
        for k, v in project.layers.items()
        if isinstance(v, gpd.GeoDataFrame) and len(v) and v.geometry.notna().any()
    }
    n_features = sum(len(v) for v in layers.values())
    if n_features > LARGE_LAYER:  # every layer of a large map is rounded to 10 cm
        layers = {k: v.copy(deep=False) for k, v in layers.items()}
        for frame in layers.values():
            frame.attrs[LARGE_ATTR] = True
    return layers, n_features


def _draw_layer(
    parent: folium.Map | folium.FeatureGroup | None,
    name: str,
    layers: dict[str, gpd.GeoDataFrame],
    project: Project,
    lang: str,
) -> LegendRows:
    """Draw layer `name` on `parent` (None: only its legend rows); return its legend rows."""
    frame = layers[name]
    if name == "microgrids":
        if parent is None:
            return grid_rows(lang)
        parts = [layers[k].geometry.to_numpy() for k in ("buildings", "spaces") if k in layers]
        if "sites" in layers:  # a site's icon and name stand out beyond its outline
            parts.append(shapely.buffer(layers["sites"].geometry.to_numpy(), LABEL_CLEARANCE_DEG))
        avoid = gpd.GeoDataFrame(geometry=np.concatenate(parts), crs=4326) if parts else None
        per_floor = project.settings.general.households_per_floor_fallback.value
        counts = microgrid_households(frame, layers.get("buildings"), per_floor=per_floor)
        return _add_grids(parent, frame, lang, avoid, counts)
    if name == "compound":
        if parent is not None:
            props = pd.DataFrame({"name": feature_names(frame, lang), "_s": ""}, index=frame.index)
            add_layer(parent, frame, props, name=t("map.compound", lang), prefix="c",
                      titles=aliases(lang), style=lambda s: COMPOUND_STYLE)  # fmt: skip
        return compound_rows(lang)
    if name in ("spaces", "paths"):
        styles, fallback = {"spaces": (SPACE_STYLES, OTHER_SPACE),
                            "paths": (PATH_STYLES, OTHER_PATH)}[name]  # fmt: skip
        if parent is None:  # drawn elsewhere, and may change: every kind it can have
            return kind_rows(styles, pd.Series(list(styles), dtype=str), lang)
        return _add_kinds(parent, frame, name, styles, fallback, lang)
    if parent is None:
        return building_rows(lang)
    return _add_buildings(parent, Project(layers=layers, settings=project.settings), lang)


def layer_group(
    project: Project, layer: str, *, lang: str = "zh", basemap: str = "none"
) -> folium.FeatureGroup:
    """One layer of `project` drawn as on `project_map`, as a feature group to send to a shown map.

    The app draws the layer being edited this way (and leaves it out of the base
    map, ``project_map(skip=...)``), so saving one of its features changes only
    the feature group, never the base map.

    Raises
    ------
    GridGISError
        `layer` is not one of `LAYER_ORDER`, or a bad `lang` or `basemap`.
    """
    if layer not in LAYER_ORDER:
        raise GridGISError(f"layer must be one of {LAYER_ORDER}, got {layer!r}")
    if lang not in LANGS:
        raise GridGISError(f"lang must be one of {LANGS}, got {lang!r}")
    check_basemap(basemap)
    layers, _ = _display_layers(project, basemap)
    group = folium.FeatureGroup(name=t(f"map.{layer}", lang), control=False)
    if layer in layers:
        _draw_layer(group, layer, layers, project, lang)
    if layer == LAYER_ORDER[0]:  # the bottom layer stays at the bottom
        ToBack().add_to(group)
    return localize_assets(group)


def project_map(
    project: Project,
    *,
    lang: str = "zh",
    basemap: str = "none",
    sites: bool = True,
    skip: tuple[str, ...] = (),
    draw: bool = False,
    draw_lines: bool = False,
    view_key: str = "map",
    plan: PlanImage | None = None,
    plan_url: str | None = None,
    tianditu_key: str | None = None,
    asset_url: str | None = None,
    vendor: str | os.PathLike[str] | None = None,
) -> folium.Map:
    """Draw a project's layers on a folium map that needs no internet.

    Parameters
    ----------
    project
        An opened project (layers in EPSG:4326).
    lang
        ``"zh"`` or ``"en"``: language of layer names, tooltips and legend.
    basemap
        One of `BASEMAPS`: ``"none"`` (a plain light background, works
        offline), ``"osm"``, ``"gaode"`` / ``"gaode_satellite"`` (the layers
        are shifted to GCJ-02 for display) or ``"tianditu"`` /
        ``"tianditu_satellite"`` (needs `tianditu_key`). Tiles need the internet.
    sites
        Draw the project's ``sites`` layer. The app passes False and sends the
        sites separately (`sites_layer`), so drawing never rebuilds this map.
    skip
        Layers of `LAYER_ORDER` not to draw (their legend rows stay): the app
        sends the layer being edited separately (`layer_group`).
    draw
        Add the Leaflet.draw toolbar (polygon and rectangle only).
    draw_lines
        With `draw`, offer the polyline tool too (the app's paths); which tools
        show is then chosen per layer by `sites_layer`'s ``draw_tools``.
    plan, plan_url
        A scanned site plan placed on the map (`gridgis.core.plan_image`), drawn
        under the layers; its image inlined, or linked from `plan_url`.
    tianditu_key
        A Tianditu browser key (letters and digits).
    asset_url
        URL of a served copy of the map's scripts (Leaflet...; see
        `gridgis.report.map.assets.export_assets`): the page links them. By
        default they are inlined, so the saved HTML works on its own.
    vendor
        Where the scripts to inline are; default the package's own copy.

    Returns
    -------
    folium.Map
        Fitted to the compound, with a layer control and a legend; its
        scripts inlined or linked from `asset_url` (`gridgis.report.map.assets`).

    Raises
    ------
    GridGISError
        `lang` or `basemap` is not one of the choices, a bad Tianditu key, or
        the scripts to inline are not installed.
    """
    if lang not in LANGS:
        raise GridGISError(f"lang must be one of {LANGS}, got {lang!r}")
    check_basemap(basemap)
    layers, n_features = _display_layers(project, basemap)
    extent = layers.get("compound", layers.get("buildings"))
    if extent is None:  # a draft: its other features, else its place
        extent = for_display(project.footprint(), basemap)
    west, south, east, north = (round(float(v), PRECISION) for v in extent.total_bounds)

    m = folium.Map(
        location=[round((south + north) / 2, PRECISION), round((west + east) / 2, PRECISION)],
        zoom_start=18,
        tiles=None,
        max_zoom=22,
        zoom_snap=0.25,
        font_size="13px",
        prefer_canvas=n_features > LARGE_LAYER,
    )
    # fit the view before any layer is added: each layer is then projected and drawn once
    # keep the compound clear of the layer control (top right) and the legend (bottom right)
    fit = folium.FitBounds(
        [[south, west], [north, east]], padding_top_left=(16, 16), padding_bottom_right=(140, 16)
    )
    fit.options["animate"] = False
    fit.add_to(m)
    add_tiles(m, basemap, lang, tianditu_key)
    legend: LegendRows = []
    for name in LAYER_ORDER:
        if name in layers:
            legend += _draw_layer(m if name not in skip else None, name, layers, project, lang)
    if sites and "sites" in layers:
        add_sites(m, layers["sites"], lang, settings=project.settings)
        legend += site_rows(layers["sites"]["site_type"].astype(str), lang, project.settings)
    elif not sites:
        legend += site_rows(project.settings.site_types, lang, project.settings)
    if draw:
        _draw_control(m, lang, lines=draw_lines, view_key=view_key)

    if plan is not None:  # (before the layer control, which lists it)
        add_plan_overlay(m, plan, lang=lang, basemap=basemap, image_url=plan_url)
    folium.LayerControl(collapsed=False).add_to(m)
    MapExtras(legend_html(legend, lang)).add_to(m)
    return localize_assets(m, asset_url=asset_url, vendor=vendor)
