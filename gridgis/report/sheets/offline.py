"""A single self-contained HTML map of the proposals, for phones with no internet.

`standalone_html` is `gridgis.report.map.view.project_map` plus lettered proposal
badges and a proposals panel, with every script and stylesheet inlined from
the package's copy (`gridgis.report.map.assets`; images as data: URIs), so the
file opens offline on any device. Proposals and their letters come from
`gridgis.report.sheets.proposals`.
"""

from __future__ import annotations

import os
import re

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Figure

from gridgis.analysis.result import SiteAnalysis
from gridgis.core.project import Project
from gridgis.errors import GridGISError
from gridgis.report.i18n import t
from gridgis.report.labels import count, money, name_in, type_label
from gridgis.report.map.assets import localize_assets
from gridgis.report.map.elements import RawMacroElement, resource_text, template
from gridgis.report.map.style import escape_html
from gridgis.report.map.view import project_map
from gridgis.report.sheets.proposals import label_point, prepare, sheet_title, type_colours

__all__ = ["standalone_html"]


class _ProposalPanel(RawMacroElement):
    """A list of the lettered proposals (static, escaped HTML), and the badges' style."""

    _template = template("proposals.j2")

    def __init__(self, panel_html: str) -> None:
        super().__init__()
        self._name = "GridgisProposals"
        self.panel_html = panel_html
        self.css = resource_text("static/proposals.css")


def _panel_html(project: Project, props: pd.DataFrame, lang: str) -> str:
    esc = escape_html
    colours = type_colours(project, props)
    rows = []
    for _, p in props.iterrows():
        c = colours[str(p["site_type"])]
        detail = " · ".join([
            type_label(str(p["site_type"]), lang, project.settings),
            count(p["capacity"], str(p["capacity_unit"]), lang),
            t("sheet.cost", lang, amount=money(p["cost_cny"], lang)),
            t("sheet.per_hh", lang, amount=money(p["per_household_cny"], lang)),
        ])  # fmt: skip
        warn = ""
        if n := int(p["checks_failed"]):
            warn = f'<br><small class="warn">{esc(t("sheet.checks_count", lang, n=n))}</small>'
        name = name_in(p.to_dict(), lang) or str(p["site_id"])
        rows.append(
            f'<div class="row"><span class="b" style="color:{c};border-color:{c}">'
            f"{esc(p['letter'])}</span><span>{esc(name)}<br>"
            f"<small>{esc(detail)}</small>{warn}</span></div>"
        )
    body = "".join(rows) or f"<small>{esc(t('sheet.none', lang))}</small>"
    return f"<details open><summary>{esc(t('sheet.table', lang))}</summary>{body}</details>"


def standalone_html(
    project: Project,
    analysis: SiteAnalysis | None = None,
    *,
    lang: str = "zh",
    vendor: str | os.PathLike[str] | None = None,
) -> str:
    """One self-contained HTML map (no internet needed) with the proposals lettered.

    It is `gridgis.report.map.view.project_map` (no tiles) plus letter badges and a
    list of the proposals, with Leaflet, jQuery and their stylesheets
    inlined from the package's copy (`gridgis.report.map.assets.vendor_dir`).

    Parameters
    ----------
    project
        The compound.
    analysis
        Default: ``analyze_sites(project)``.
    lang
        ``"zh"`` or ``"en"``.
    vendor
        Where the npm packages are; default the package's own copy.

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    GridGISError
        The vendor scripts are not installed (`gridgis.report.map.assets.check_assets`).
    """
    analysis, props = prepare(project, analysis, lang)
    m = project_map(project, lang=lang, basemap="none", vendor=vendor)
    if len(props):
        colours = type_colours(project, props)
        points = props.to_crs(project.metric_crs()).geometry.map(label_point)
        points = gpd.GeoSeries(points, crs=project.metric_crs()).to_crs(4326)
        for idx, pt in points.items():
            c = colours[str(props.at[idx, "site_type"])]
            badge = f'<span style="color:{c};border-color:{c}">{props.at[idx, "letter"]}</span>'
            tip = f"{props.at[idx, 'letter']}  {name_in(props.loc[idx].to_dict(), lang)}"
            folium.Marker(
                [round(pt.y, 7), round(pt.x, 7)],
                icon=folium.DivIcon(
                    html=badge, icon_size=(26, 26), icon_anchor=(13, 13), class_name="gridgis-badge"
                ),
                tooltip=folium.Tooltip(escape_html(tip)),
            ).add_to(m)
    _ProposalPanel(_panel_html(project, props, lang)).add_to(m)
    localize_assets(m, vendor=vendor)
    name, heading, _ = sheet_title(project, lang)
    figure = m.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("a folium map is always in a Figure")
    figure.title = escape_html(f"{name} · {heading}")
    page = figure.render()
    if left := re.search(r"<(?:script|link)\b[^>]*\b(?:src|href)=[^>]*>", page):
        raise GridGISError(f"the offline HTML map still loads {left.group(0)!r}")
    return page
