"""The presentation page's parts: session funding, the lettered map, the proposal card.

Kept out of the page so tests can call them; everything shown is escaped here.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from app import engine, mapwidget, workspace
from app.context import Context, site_title
from app.views.checks import by_status
from gridgis.core.project import Project
from gridgis.core.settings import Settings
from gridgis.meeting.funding import proposal_funding
from gridgis.meeting.proposals import proposals
from gridgis.report.checks import check_message
from gridgis.report.i18n import t
from gridgis.report.labels import type_label, unit_label
from gridgis.report.map.style import escape_html
from gridgis.report.map.view import project_map

__all__ = [
    "HIGHLIGHT",
    "OTHER",
    "card_html",
    "funding_settings",
    "funding_tables",
    "label",
    "map_html",
    "microgrids_text",
    "proposal_title",
]

HIGHLIGHT = "#ffd600"  # the proposal being shown
OTHER = "#0d47a1"  # the other proposals

_CSS = """<style>
.gg-badge {display:flex; align-items:center; justify-content:center; width:44px; height:44px;
  margin:-22px 0 0 -22px; border-radius:50%; font:700 28px/1 system-ui, sans-serif;
  background:#fff; color:#0d47a1; border:4px solid #0d47a1; box-shadow:0 1px 4px #0008;}
.gg-badge.on {background:#ffd600; color:#000; border-color:#000; width:56px; height:56px;
  margin:-28px 0 0 -28px; font-size:36px;}
.leaflet-container {font-size:16px;}
</style>"""


def funding_settings(settings: Settings, *, multiple: float, cap: float) -> Settings:
    """A copy of `settings` with another subsidy multiple and cap (never saved)."""
    funding = settings.funding
    update = {
        "subsidy_multiple": funding.subsidy_multiple.model_copy(update={"value": float(multiple)}),
        "subsidy_cap_cny": funding.subsidy_cap_cny.model_copy(update={"value": float(cap)}),
    }
    return settings.model_copy(update={"funding": funding.model_copy(update=update)})


def funding_tables(
    path: Path, props: gpd.GeoDataFrame, settings: Settings, other: float
) -> tuple[pd.DataFrame, pd.Series]:
    """`gridgis.meeting.funding.proposal_funding` of the proposals on the project at `path`."""
    prepared = engine.prepared(path)
    return engine.in_analysis_thread(
        proposal_funding, prepared, props, settings=settings, other_cny=other
    )


def _esc(value: Any) -> str:
    return escape_html(str(value), quote=True)


@functools.lru_cache(maxsize=32)
def _map_html(path: str, stamp: workspace.Stamp, version: int, lang: str, current: str) -> str:
    project = workspace.load_project(path, stamp)
    props = proposals(engine.analyze(path, workspace.sites_at(path, version)))
    m = project_map(project, lang=lang, sites=False, asset_url=mapwidget.asset_url())
    root: Any = m.get_root()  # a branca Figure
    root.header.add_child(folium.Element(_CSS))
    for _, row in props.iterrows():
        on = row["letter"] == current
        colour = HIGHLIGHT if on else OTHER
        folium.GeoJson(
            row.geometry.__geo_interface__,
            control=False,  # the layer control was rendered by project_map already
            style_function=lambda _f, c=colour, w=(6 if on else 3): {
                "color": "#000" if c == HIGHLIGHT else c,
                "weight": w,
                "fillColor": c,
                "fillOpacity": 0.55 if c == HIGHLIGHT else 0.25,
            },
        ).add_to(m)
        point = row.geometry.representative_point()
        badge = f'<div class="gg-badge{" on" if on else ""}">{_esc(row["letter"])}</div>'
        folium.Marker([point.y, point.x], icon=folium.DivIcon(html=badge, icon_size=(0, 0))).add_to(
            m
        )
    return root.render()


def map_html(ctx: Context, lang: str, current: str) -> str:
    """The full map page (HTML) with the proposals lettered, `current` highlighted (cached)."""
    return _map_html(str(ctx.path), workspace.stamp(ctx.path), ctx.version, lang, current)


def microgrids_text(value: Any) -> str:
    """``G1 一网格 (王阿姨)`` for each micro-grid a site lies in."""
    if not isinstance(value, list | tuple) or not value:
        return "—"
    parts = []
    for g in value:
        if not isinstance(g, dict):
            continue
        text = " ".join(str(g.get(k)) for k in ("grid_id", "name") if g.get(k))
        if g.get("leader"):
            text += f" ({g['leader']})"
        parts.append(text)
    return "; ".join(parts) or "—"


def label(key: str, lang: str) -> str:
    """A label, with the English under the Chinese when the page is in Chinese."""
    text = _esc(t(key, lang))
    if lang == "zh":
        return f'{text}<br><span class="gg-en">{_esc(t(key, "en"))}</span>'
    return text


def card_html(row: pd.Series, lang: str, project: Project, names: dict[str, str]) -> str:
    """The card of one proposal: what, where, capacity, buildings, open safety warnings.

    `row` is a row of `gridgis.report.sheets.render.proposals`; `names` maps
    building ids to their names (`app.context.building_names`).
    """
    esc = _esc
    unit = unit_label(str(row["capacity_unit"]), lang)

    def buildings(ids: list[Any]) -> str:
        return "、".join(names.get(str(b), str(b)) for b in ids) if len(ids) else "—"

    items = [
        ("present.what", type_label(str(row["site_type"]), lang, project.settings)),
        ("present.where", microgrids_text(row.get("microgrids"))),
        ("present.capacity", f"{int(row['capacity'])} {unit}"),
        ("present.served_buildings", buildings(list(row["buildings_served"]))),
        ("present.adjacent_buildings", buildings(list(row.get("buildings_adjacent", [])))),
    ]
    body = "".join(f"<dt>{label(key, lang)}</dt><dd>{esc(value)}</dd>" for key, value in items)
    failed = by_status(row["checks"])["fail"]
    if failed:
        warns = "".join(
            f"<li>{esc(check_message(c, lang))}"
            + (
                f"<br><span class='gg-en'>{esc(check_message(c, 'en'))}</span>"
                if lang == "zh"
                else ""
            )
            + "</li>"
            for c in failed
        )
        warn_html = f"<div class='gg-warn'><ul>{warns}</ul></div>"
    else:
        warn_html = f"<dd>{esc(t('present.no_warnings', lang))}</dd>"
    return (
        f"<div class='gg-card'><dl>{body}<dt>{label('present.warnings', lang)}</dt>"
        f"</dl>{warn_html}</div>"
    )


def proposal_title(row: pd.Series, lang: str, project: Project) -> str:
    """``A · S4 · 东北角车棚``."""
    return f"{row['letter']} · {site_title(row, lang, project)}"
