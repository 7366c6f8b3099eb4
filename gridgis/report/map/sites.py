"""The sites on a gridgis map: one light layer of styled shapes, tooltips, icons and labels.

Built in the browser from one compact JSON (`gridgis.report.map.elements.SitesLayer`,
no folium GeoJson machinery), so the app can resend it on every edit in a few
milliseconds: `sites_layer` gives the sites as a feature group to send to a
map that is already shown; `add_sites` draws them on a map being built.
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from shapely.geometry import mapping

from gridgis.core.settings import Settings
from gridgis.report.i18n import t
from gridgis.report.labels import clean_text, money, name_in, number, type_label
from gridgis.report.map.assets import localize_assets
from gridgis.report.map.basemaps import for_display
from gridgis.report.map.editing import edit_options
from gridgis.report.map.elements import ClearDrawn, DrawTools, SitesLayer
from gridgis.report.map.layers import aliases, display_geoms, esc, label_rows, term
from gridgis.report.map.style import icon_svg, site_colours, site_style

__all__ = ["add_sites", "sites_layer"]

_LABEL_NAME_CHARS = 12
_SITE_FIELDS = ("site_id", "name", "site_type", "status", "area", "cost", "served")


def _site_records(
    sites: gpd.GeoDataFrame, lang: str, settings: Settings | None
) -> list[dict[str, Any]]:
    """Per site: raw name, type, status and the escaped tooltip texts (plain Python: fast)."""
    wanted = ["site_id", "site_type", "name", "name_en", "status", "area_m2", "cost_cny",
              "households_served"]  # fmt: skip
    table = pd.DataFrame(sites[[c for c in wanted if c in sites]])
    out = []
    for rec in table.to_dict("records"):
        name = name_in(rec, lang) or None
        kind = str(rec["site_type"])
        status = clean_text(rec.get("status"))
        tip = {
            "site_id": esc(rec["site_id"]),
            "name": esc(name),
            "site_type": esc(type_label(kind, lang, settings)),
            "status": "—" if status is None else term(status, lang),
        }
        if "area_m2" in rec:
            tip["area"] = esc(t("map.area_value", lang, v=number(rec["area_m2"], decimals=1)))
        if "cost_cny" in rec:
            tip["cost"] = esc(money(rec["cost_cny"], lang))
        if "households_served" in rec:
            n = rec["households_served"]
            tip["served"] = "—" if n is None or pd.isna(n) else t("map.hh_unit", lang, n=int(n))
        out.append({"id": str(rec["site_id"]), "name": name, "kind": kind,
                    "status": status or "", "tip": tip})  # fmt: skip
    return out


def _tooltip_html(tips: list[dict[str, str]], lang: str) -> list[str]:
    """One tooltip per site: a small table of already-escaped texts."""
    titles = aliases(lang)
    return [
        '<table class="gridgis-tip">'
        + "".join(
            f"<tr><th>{esc(titles[k])}</th><td>{tip[k]}</td></tr>" for k in _SITE_FIELDS if k in tip
        )
        + "</table>"
        for tip in tips
    ]


def add_sites(
    parent: folium.Map | folium.FeatureGroup,
    sites: gpd.GeoDataFrame,
    lang: str,
    *,
    settings: Settings | None,
    selected: str | None = None,
    control: bool = True,
    edit: str | None = None,
    editing: str | None = None,
) -> None:
    """Draw `sites` (in the display datum) on `parent`: a toggleable layer of a map.

    With a site `selected` (the app), it is outlined in orange and only its
    name is written on the map; the others show their id. With an `edit` mode
    (`gridgis.report.map.editing.EDIT_MODES`) a click picks a site and the
    one picked on the map (`editing`) is editable; outlines are then sent at full
    precision.
    """
    rows = _site_records(sites, lang, settings)
    known = list(settings.site_types) if settings is not None else []
    colours = site_colours([*known, *(r["kind"] for r in rows)])
    style = site_style(colours)
    keys = [f"{r['kind']}|{r['status']}|{int(r['id'] == str(selected))}" for r in rows]
    texts = []
    for r in rows:
        name, sid = r["name"], esc(r["id"])
        caption = sid
        if name and (selected is None or r["id"] == str(selected)):
            short = name if len(name) <= _LABEL_NAME_CHARS else name[: _LABEL_NAME_CHARS - 1] + "…"
            caption = f"{sid} {esc(short)}"
        texts.append(f"{icon_svg(r['kind'], colours.get(r['kind'], '#757575'))}{caption}")
    tips = _tooltip_html([r["tip"] for r in rows], lang)
    geoms = sites.geometry.to_numpy() if edit else display_geoms(sites)
    revs = [int(v) for v in sites["rev"]] if "rev" in sites else [0] * len(sites)
    layer = SitesLayer(
        features=[
            [mapping(geom), key, tip, r["id"], rev]
            for geom, key, tip, r, rev in zip(geoms, keys, tips, rows, revs, strict=True)
            if geom is not None and not geom.is_empty
        ],
        styles={key: style(key) for key in set(keys)},
        labels=label_rows(sites, texts, "gridgis-label-site"),
        edit=None if edit is None else edit_options(selected, edit, editing),
    )
    if isinstance(parent, folium.Map):  # a toggleable layer of the static map
        group = folium.FeatureGroup(name=t("map.sites", lang), control=control)
        layer.add_to(group)
        group.add_to(parent)
    else:
        layer.add_to(parent)


def sites_layer(
    sites: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    basemap: str = "none",
    settings: Settings | None = None,
    selected: str | None = None,
    clear_drawn: int | None = None,
    draw_tools: tuple[str, ...] | None = None,
    edit: str | None = None,
    editing: str | None = None,
) -> folium.FeatureGroup:
    """The sites as one feature group, to send to a map that is already shown.

    Parameters
    ----------
    sites
        Sites in EPSG:4326 (``site_id``, ``site_type``; ``name``, ``status``
        and any analysis columns such as ``area_m2``, ``cost_cny``,
        ``households_served`` are shown in the tooltips).
    lang, basemap
        As in `gridgis.report.map.view.project_map` (the sites are shifted to
        GCJ-02 on Gaode tiles).
    settings
        For the names of site types defined in settings.
    selected
        The ``site_id`` to outline in orange; the other sites are labelled
        with their id only (their names are in the tooltips).
    clear_drawn
        When given, the group also empties Leaflet.draw's own layer, whose
        raw shapes this group now shows as stored sites; pass a new number
        to force it again.
    draw_tools
        When given, the group also shows only these Leaflet.draw tools
        (of `gridgis.report.map.elements.DRAW_TOOLS`) and hides the others.
    edit
        An edit mode (``"vertices"`` or ``"move"``): a click on a site picks
        it, and the one picked on the map (`editing`) can be edited
        (`gridgis.report.map.editing`).

    Returns
    -------
    folium.FeatureGroup
        Needs no browser assets beyond the map's own.
    """
    group = folium.FeatureGroup(name=t("map.sites", lang), control=False)
    present = sites[sites.geometry.notna() & ~sites.geometry.is_empty] if len(sites) else sites
    if len(present):
        add_sites(
            group, for_display(present, basemap), lang, settings=settings, selected=selected,
            control=False, edit=edit, editing=editing,
        )  # fmt: skip
    if clear_drawn is not None:
        ClearDrawn(clear_drawn).add_to(group)
    if draw_tools is not None:
        DrawTools(draw_tools).add_to(group)
    return localize_assets(group)
