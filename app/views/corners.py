"""What the suggest-sites page needs: corner finding, stall layouts and their maps.

`find_corners` and `compare_spaces` run on the project *with the sites on
disk now* (the cached `Project` keeps the sites it was opened with), so an
adopted suggestion is an obstacle for the next search. The numbers are
memoised in the library (`gridgis.analysis.corners.memo`), keyed by what they
read; this module keeps no cache of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from app import engine
from app.context import Context
from app.mapwidget import asset_url
from gridgis.analysis.corners import stall_layout, suggest, with_sites
from gridgis.core.crs import convert_gdf
from gridgis.core.project import Project
from gridgis.report.i18n import t, t_or
from gridgis.report.map.assets import localize_assets
from gridgis.report.map.style import escape_html
from gridgis.report.map.view import display_datum, project_map

__all__ = [
    "CANDIDATE_STYLE",
    "candidates_map",
    "candidates_table",
    "live_project",
    "reasons",
    "spaces_table",
    "stall_site_ids",
    "stalls",
    "stalls_map",
    "suggestions",
]

CANDIDATE_STYLE = {"color": "#c2185b", "weight": 1.5, "dashArray": "6 4", "fillColor": "#f06292",
                   "fillOpacity": 0.15}  # fmt: skip
_TOP_STYLE = {**CANDIDATE_STYLE, "weight": 3.5, "dashArray": "8 4", "fillOpacity": 0.45}
_STALL_STYLE = {"color": "#0d47a1", "weight": 1, "fillColor": "#64b5f6", "fillOpacity": 0.8}
_SITE_STYLE = {"color": "#1e6fd9", "weight": 2.5, "fill": False}
_LABEL_CSS = (
    "transform:translate(-50%,-50%);font-weight:700;font-size:12px;color:#880e4f;"
    "white-space:nowrap;text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff;"
)


def live_project(ctx: Context) -> Project:
    """The open project with the sites on disk now (without the store's ``rev``)."""
    return with_sites(ctx.project, ctx.sites.drop(columns=["rev"], errors="ignore"))


def suggestions(ctx: Context) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """``(candidates, compare_spaces)`` for the project as it is now (the library's memo)."""
    return engine.in_analysis_thread(suggest, live_project(ctx))


def stalls(ctx: Context, site_id: str) -> gpd.GeoDataFrame:
    """`layout_site` of one shed site as it is on disk now (the library's memo)."""
    return engine.in_analysis_thread(stall_layout, live_project(ctx), site_id)


def stall_site_ids(ctx: Context) -> list[str]:
    """Ids of the sites whose type holds bike stalls."""
    kinds = {
        k for k, v in ctx.project.settings.site_types.items() if v.capacity_rule == "bike_stalls"
    }
    sites = ctx.sites
    if sites.empty:
        return []
    return [str(s) for s, k in zip(sites["site_id"], sites["site_type"], strict=True) if k in kinds]


def _display(frame: gpd.GeoDataFrame, basemap: str) -> gpd.GeoDataFrame:
    datum = display_datum(basemap)
    return frame if datum == "wgs84" else convert_gdf(frame, src="wgs84", dst=datum)


def _esc(value: Any) -> str:
    if value is None or (not isinstance(value, str | list) and pd.isna(value)):
        return "—"
    if isinstance(value, list):
        return escape_html(", ".join(str(v) for v in value)) or "—"
    return escape_html(str(value))


def _label(point: Any, text: str) -> folium.Marker:
    return folium.Marker(
        [point.y, point.x],
        icon=folium.DivIcon(html=f'<div style="{_LABEL_CSS}">{escape_html(text)}</div>'),
        interactive=False,
    )


def candidates_map(
    ctx: Context,
    candidates: gpd.GeoDataFrame,
    *,
    lang: str,
    basemap: str,
    tianditu_key: str | None,
    type_label: Any,
    top: int,
) -> folium.Map:
    """The project's map (surveyed spaces, sites) with the candidates over it, labelled C1..."""
    key = (tianditu_key or "").strip() if basemap.startswith("tianditu") else None
    m = project_map(live_project(ctx), lang=lang, basemap=basemap, sites=True, tianditu_key=key,
                    asset_url=asset_url())  # fmt: skip
    # control=False: the map's layer control is already added and would name an undeclared layer
    group = folium.FeatureGroup(name=t("corners.suggested", lang), control=False)
    shown = _display(candidates, basemap)
    fields = {
        "candidate_id": t("corners.col_id", lang),
        "kind": t("corners.col_kind", lang),
        "area_m2": t("corners.col_area", lang),
        "min_width_m": t("corners.col_width", lang),
        "households_within_reach": t("corners.col_households", lang),
        "suggested_site_type": t("corners.col_type", lang),
        "bikes": t("corners.col_bikes", lang),
        "matches_space": t("corners.col_matches", lang),
    }
    for pos, rec in enumerate(shown.to_dict("records")):
        geom = rec["geometry"]
        if geom is None or geom.is_empty:
            continue
        values = dict(rec)
        values["kind"] = t(f"corners.kind_{rec['kind']}", lang)
        kind = rec.get("suggested_site_type")
        values["suggested_site_type"] = type_label(kind) if isinstance(kind, str) else None
        tip = "".join(
            f"<tr><th>{escape_html(label)}</th><td>{_esc(values.get(k))}</td></tr>"
            for k, label in fields.items()
        )
        style = _TOP_STYLE if pos < top else CANDIDATE_STYLE
        folium.GeoJson(
            geom.__geo_interface__,
            style_function=lambda _f, s=style: s,
            tooltip=folium.Tooltip(f'<table class="gridgis-tip">{tip}</table>'),
        ).add_to(group)
        _label(geom.representative_point(), str(rec["candidate_id"])).add_to(group)
    group.add_to(m)
    return localize_assets(m, asset_url=asset_url())


def stalls_map(site: gpd.GeoDataFrame, laid: gpd.GeoDataFrame, lang: str) -> folium.Map:
    """A small plain map of one shed site's outline and its stalls."""
    west, south, east, north = (float(v) for v in site.total_bounds)
    m = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=20,
        tiles=None,
        max_zoom=24,
        zoom_snap=0.25,
    )
    folium.GeoJson(
        site.geometry.iloc[0].__geo_interface__,
        style_function=lambda _f: _SITE_STYLE,
        tooltip=folium.Tooltip(escape_html(t("corners.site_outline", lang))),
    ).add_to(m)
    if len(laid):
        data = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"stall": escape_html(str(sid))},
                    "geometry": g.__geo_interface__,
                }
                for sid, g in zip(laid["stall_id"], laid.geometry, strict=True)
            ],
        }
        folium.GeoJson(
            data,
            style_function=lambda _f: _STALL_STYLE,
            tooltip=folium.GeoJsonTooltip(
                fields=["stall"], aliases=[escape_html(t("corners.stall", lang))]
            ),
        ).add_to(m)
    m.fit_bounds([[south, west], [north, east]], padding=(10, 10))
    return localize_assets(m, asset_url=asset_url())


def reasons(compared: gpd.GeoDataFrame, lang: str) -> list[str]:
    """`compare_spaces`' ``reason`` in `lang`: what takes most of a space the tool left out."""
    out = []
    for rec in compared.to_dict("records"):
        top = rec["blocker"]
        if top == "":
            out.append("—")
        elif top == "small":
            out.append(t("corners.reason_small", lang))
        else:
            what = t(f"corners.blocker_{top}", lang)
            if top == "site":
                what = f"{what} {', '.join(rec['blocking_sites'])}".strip()
            out.append(t("corners.reason", lang, what=what, share=f"{float(rec[top]):.0%}"))
    return out


def _col(key: str, lang: str) -> str:
    return t(f"corners.col_{key}", lang)


def _ids(values: object) -> str:
    return ", ".join(str(v) for v in values) if isinstance(values, list) and values else "—"


def candidates_table(
    found: gpd.GeoDataFrame, lang: str, type_label: Callable[[str], str]
) -> pd.DataFrame:
    """The suggestions as the page lists them (headers in `lang`, numbers as numbers)."""
    return pd.DataFrame(
        {
            _col("id", lang): found["candidate_id"].astype(str),
            _col("score", lang): found["score"].astype(float),
            _col("kind", lang): found["kind"].map(lambda k: t(f"corners.kind_{k}", lang)),
            _col("area", lang): found["area_m2"].astype(float).round(1),
            _col("width", lang): found["min_width_m"].astype(float).round(1),
            _col("nearest", lang): found["nearest_building_m"].astype(float).round(1),
            _col("households", lang): found["households_within_reach"].astype(float).round(0),
            _col("type", lang): found["suggested_site_type"].map(
                lambda k: type_label(k) if isinstance(k, str) and k else "—"
            ),
            _col("bikes", lang): found["bikes"].astype(int),
            _col("matches", lang): found["matches_space"].map(_ids),
            _col("green", lang): found["green_space"].map(_ids),
        }
    )


def spaces_table(compared: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    """The surveyed spaces beside what the tool found of each (`compare_spaces`)."""
    return pd.DataFrame(
        {
            _col("space", lang): compared["space_id"].astype(str),
            _col("space_kind", lang): compared["kind"].map(
                lambda k: t_or(f"map.{k}", lang, str(k))
            ),
            _col("space_name", lang): compared["name"].map(
                lambda v: v if isinstance(v, str) else "—"
            ),
            _col("space_area", lang): compared["area_m2"].astype(float).round(1),
            _col("found", lang): (compared["found_share"].astype(float) * 100).round(0),
            _col("found_by", lang): compared["candidate_ids"].map(_ids),
            _col("status", lang): compared["status"].map(lambda s: t(f"corners.status_{s}", lang)),
            _col("reason", lang): reasons(compared, lang),
        }
    )
