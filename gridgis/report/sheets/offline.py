"""A single self-contained HTML map of the proposals, for phones with no internet.

`standalone_html` is `gridgis.report.map.view.project_map` plus lettered proposal
badges and a proposals panel, with every script and stylesheet inlined from
the npm install in ``static/vendor`` (images as data: URIs), so the file
opens offline on any device. Proposals and their letters come from
`gridgis.report.sheets.render.proposals`.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from gridgis.analysis.engine import SiteAnalysis
from gridgis.core.project import Project
from gridgis.errors import GridGISError
from gridgis.report.map.assets import VENDOR_DIR, VENDOR_URL, localize_assets
from gridgis.report.map.style import escape_html
from gridgis.report.map.view import project_map
from gridgis.report.sheets.draw import (
    _WORDS,
    _fmt,
    _label_point,
    _name,
    _site_colours,
    _type_label,
    _unit,
)
from gridgis.report.sheets.render import _prepare, _title

__all__ = ["standalone_html"]


_PANEL = """
{% macro header(this, kwargs) %}
<style>
.gridgis-badge { background: none; border: none; }
.gridgis-badge span { display: flex; align-items: center; justify-content: center;
  width: 26px; height: 26px; border-radius: 50%; background: #fff; border: 3px solid;
  font: 700 16px/1 sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.35); box-sizing: border-box; }
.gridgis-proposals { background: rgba(255,255,255,.95); padding: 8px 10px; border-radius: 6px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); max-width: 300px; max-height: 60vh; overflow: auto;
  font-size: 13px; line-height: 1.35; color: #263238; }
.gridgis-proposals summary { font-weight: 700; font-size: 15px; cursor: pointer; }
.gridgis-proposals .row { display: flex; gap: 8px; margin-top: 6px; align-items: flex-start; }
.gridgis-proposals .row span.b { flex: none; width: 22px; height: 22px; border-radius: 50%;
  border: 2px solid; display: flex; align-items: center; justify-content: center;
  font-weight: 700; box-sizing: border-box; }
.gridgis-proposals small { color: #546e7a; }
.gridgis-proposals .warn { color: #c62828; }
@media (max-width: 600px) { .gridgis-proposals { max-width: 52vw; font-size: 12px; } }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function() {
  var panel = L.control({position: "topleft"});
  panel.onAdd = function() {
    var div = L.DomUtil.create("div", "gridgis-proposals");
    div.innerHTML = {{ this.panel_html|tojson }};
    if (window.innerWidth < 600) { div.firstChild.removeAttribute("open"); }
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  panel.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""


class _ProposalPanel(MacroElement):
    """A list of the lettered proposals (static, escaped HTML)."""

    _template = Template(_PANEL)

    def __init__(self, panel_html: str) -> None:
        super().__init__()
        self._name = "GridgisProposals"
        self.panel_html = panel_html


def _panel_html(project: Project, props: pd.DataFrame, lang: str) -> str:
    words = _WORDS[lang]
    esc = escape_html
    colours = _site_colours(project, props)
    rows = []
    for _, p in props.iterrows():
        c = colours[str(p["site_type"])]
        unit = _unit(str(p["capacity_unit"]), lang)
        cost = "造价" if lang == "zh" else "cost"
        yuan = " 元" if lang == "zh" else " CNY"
        each = "每户" if lang == "zh" else "per household"
        detail = (f"{_type_label(project, str(p['site_type']), lang)} · {_fmt(p['capacity'], 'd')}"
                  f" {unit} · {cost} {_fmt(p['cost_cny'])}{yuan} · {each} "
                  f"{_fmt(p['per_household_cny'])}{yuan}")  # fmt: skip
        warn = ""
        if int(p["checks_failed"]):
            n = int(p["checks_failed"])
            warn = f'<br><small class="warn">{esc(words["checks"])}: {n}</small>'
        rows.append(
            f'<div class="row"><span class="b" style="color:{c};border-color:{c}">'
            f"{esc(p['letter'])}</span><span>{esc(_name(p, lang) or str(p['site_id']))}<br>"
            f"<small>{esc(detail)}</small>{warn}</span></div>"
        )
    body = "".join(rows) or f"<small>{esc(words['none'])}</small>"
    return f"<details open><summary>{esc(words['table'])}</summary>{body}</details>"


def _vendor_root() -> Path:
    return Path(__file__).resolve().parents[3] / VENDOR_DIR


def _read_asset(url: str, root: Path) -> Path:
    prefix = VENDOR_URL + "/"
    if not url.startswith(prefix):
        raise GridGISError(f"cannot inline {url!r}: only {prefix}... assets have local copies")
    path = root / url[len(prefix) :]
    if not path.is_file():
        raise GridGISError(
            f"{path} is missing: run ./dev setup (npm) to install the map's scripts into "
            f"{VENDOR_DIR}; the offline HTML map inlines them"
        )
    return path


def _inline_css(path: Path) -> str:
    """The stylesheet with its relative images (Leaflet's layer icons) as data: URIs."""
    mime = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}

    def data_uri(m: re.Match[str]) -> str:
        ref = m.group(2)
        target = path.parent / ref
        if ref.startswith(("#", "data:", "http:", "https:")) or not target.is_file():
            return m.group(0)
        payload = base64.b64encode(target.read_bytes()).decode("ascii")
        return f"url(data:{mime.get(target.suffix, 'application/octet-stream')};base64,{payload})"

    return re.sub(r"url\((['\"]?)([^'\")]+)\1\)", data_uri, path.read_text(encoding="utf-8"))


def _inline(page: str, root: Path) -> str:
    def script(m: re.Match[str]) -> str:
        code = _read_asset(m.group(1), root).read_text(encoding="utf-8")
        return "<script>" + code.replace("</script", "<\\/script") + "</script>"

    def style(m: re.Match[str]) -> str:
        css = _inline_css(_read_asset(m.group(1), root))
        return "<style>" + css.replace("</style", "<\\/style") + "</style>"

    page = re.sub(r'<script src="([^"]+)"></script>', script, page)
    page = re.sub(r'<link rel="stylesheet" href="([^"]+)"\s*/?>', style, page)
    if left := re.search(r"<(?:script|link)\b[^>]*\b(?:src|href)=[^>]*>", page):
        raise GridGISError(f"the offline HTML map still loads {left.group(0)!r}")
    return page


def standalone_html(
    project: Project,
    analysis: SiteAnalysis | None = None,
    *,
    lang: str = "zh",
    vendor_dir: str | os.PathLike[str] | None = None,
) -> str:
    """One self-contained HTML map (no internet needed) with the proposals lettered.

    It is `gridgis.report.map.view.project_map` (no tiles) plus letter badges and a
    list of the proposals, with Leaflet, jQuery and their stylesheets
    inlined from the npm copies in ``static/vendor`` (``./dev setup``).

    Parameters
    ----------
    project
        The compound.
    analysis
        Default: ``analyze_sites(project)``.
    lang
        ``"zh"`` or ``"en"``.
    vendor_dir
        Where the npm packages are; default ``static/vendor/node_modules`` of
        this source tree.

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    GridGISError
        The vendor scripts are not installed (run ``./dev setup``).
    """
    analysis, props = _prepare(project, analysis, lang)
    m = project_map(project, lang=lang, basemap="none")
    if len(props):
        colours = _site_colours(project, props)
        points = props.to_crs(project.metric_crs()).geometry.map(_label_point)
        points = gpd.GeoSeries(points, crs=project.metric_crs()).to_crs(4326)
        for idx, pt in points.items():
            c = colours[str(props.at[idx, "site_type"])]
            badge = f'<span style="color:{c};border-color:{c}">{props.at[idx, "letter"]}</span>'
            tip = f"{props.at[idx, 'letter']}  {_name(props.loc[idx], lang)}"
            folium.Marker(
                [round(pt.y, 7), round(pt.x, 7)],
                icon=folium.DivIcon(
                    html=badge, icon_size=(26, 26), icon_anchor=(13, 13), class_name="gridgis-badge"
                ),
                tooltip=folium.Tooltip(escape_html(tip)),
            ).add_to(m)
    _ProposalPanel(_panel_html(project, props, lang)).add_to(m)
    localize_assets(m)
    name, heading, _ = _title(project, lang)
    m.get_root().title = escape_html(f"{name} · {heading}")
    root = Path(vendor_dir) if vendor_dir is not None else _vendor_root()
    return _inline(m.get_root().render(), root)
