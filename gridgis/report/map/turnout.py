"""Vote maps: a project's buildings coloured by turnout or approval.

`turnout_map` draws the per-building shares of `gridgis.meeting.tally.turnout_by_building`
over `gridgis.report.map.view.project_map`, with tooltips, colour bins and a legend.
It needs folium, which loads on the first map only.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pandas as pd

from gridgis.errors import GridGISError
from gridgis.meeting.tally import QUORUM, _text, turnout_by_building
from gridgis.report.map.style import escape_html

if TYPE_CHECKING:
    import folium

    from gridgis.core.project import Project

__all__ = ["turnout_map"]

_MAP_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "turnout": "参与表决率", "approval": "同意率（占参与）", "name": "楼栋",
        "owners": "户数", "participating": "参与", "agree": "同意", "oppose": "反对",
        "abstain": "弃权", "no_rows": "名册中无此楼", "layer": "表决：{what}",
        "note": "{site}：各楼按户数计；表决结果按全体业主的面积与人数计",
    },
    "en": {
        "turnout": "Turnout", "approval": "Approval (of participants)", "name": "Building",
        "owners": "Households", "participating": "Took part", "agree": "Agree",
        "oppose": "Oppose", "abstain": "Abstain", "no_rows": "not in the register",
        "layer": "Vote: {what}",
        "note": "{site}: per building, by headcount; the vote counts area and headcount "
        "over the whole register",
    },
}  # fmt: skip
#: (lower bound, colour, label) bins of the building colours, highest first.
_BINS: dict[str, tuple[tuple[Fraction, str, str], ...]] = {
    "turnout": (
        (QUORUM, "#5aae61", ">= 2/3"),
        (Fraction(1, 2), "#fdb863", "1/2 - 2/3"),
        (Fraction(0), "#f4a582", "< 1/2"),
    ),
    "approval": (
        (Fraction(3, 4), "#5aae61", ">= 3/4"),
        (Fraction(1, 2), "#d9ef8b", "1/2 - 3/4"),
        (Fraction(0), "#f4a582", "< 1/2"),
    ),
}
_NO_DATA = "#bdbdbd"

_LEGEND = """
{% macro script(this, kwargs) %}
(function() {
  var legend = L.control({position: "bottomleft"});
  legend.onAdd = function() {
    var div = L.DomUtil.create("div", "gridgis-legend");
    div.innerHTML = {{ this.legend_html|tojson }};
    return div;
  };
  legend.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""


def _vote_legend(legend_html: str) -> Any:
    """A legend control in the bottom-left corner (static HTML)."""
    from branca.element import MacroElement
    from jinja2 import Template

    element = MacroElement()
    element._name = "GridgisVoteLegend"
    element._template = Template(_LEGEND)
    element.legend_html = legend_html  # type: ignore[attr-defined]
    return element


def _bin_colour(row: pd.Series, by: str) -> str:
    """The bin colour of a `turnout_by_building` row, from its exact counts."""
    num, den = (row["participating"], row["owners"]) if by == "turnout" else (
        row["agree"], row["participating"]
    )  # fmt: skip
    if den == 0:
        return _NO_DATA
    share = Fraction(int(num), int(den))
    return next(c for low, c, _ in _BINS[by] if share >= low)


def turnout_map(
    project: Project,
    votes: pd.DataFrame,
    *,
    site_id: str,
    by: str = "turnout",
    lang: str = "zh",
    source: str | None = None,
) -> folium.Map:
    """The project map with its buildings coloured by turnout or approval.

    Parameters
    ----------
    project
        An opened project; its buildings are matched to the
        register's ``building_id``.
    votes
        The register (see `turnout_by_building`).
    site_id
        The site voted on.
    by
        ``"turnout"`` (share of households taking part; bins at 1/2 and 2/3)
        or ``"approval"`` (share of participants agreeing; bins at 1/2, 3/4).
    lang
        ``"zh"`` or ``"en"``.
    source
        File name to put in error messages.

    Returns
    -------
    folium.Map
        `gridgis.report.map.view.project_map` plus a building layer with tooltips
        (households, took part, agree, oppose, abstain, both shares) and a
        legend; buildings not in the register are grey. Offline, like
        `project_map`.
    """
    import folium

    from gridgis.report.map.assets import VENDOR_URL, localize_assets
    from gridgis.report.map.view import project_map

    if by not in _BINS:
        raise GridGISError(f"by must be one of {', '.join(_BINS)}, got {by!r}")
    m = project_map(project, lang=lang)  # checks lang
    text = _MAP_TEXT[lang]
    table = turnout_by_building(votes, site_id=site_id, source=source).set_index("building_id")
    buildings = project.layers["buildings"]
    ids = buildings["building_id"].map(_text)
    names = buildings["name_en" if lang == "en" and "name_en" in buildings else "name"] if (
        "name" in buildings
    ) else ids  # fmt: skip
    features = []
    for bid, name, geom in zip(ids, names, buildings.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        props: dict[str, str] = {"name": escape_html(_text(name) or bid)}
        if bid in table.index:
            row = table.loc[bid]
            colour = _bin_colour(row, by)
            props.update(
                owners=str(int(row["owners"])),
                participating=str(int(row["participating"])),
                agree=str(int(row["agree"])),
                oppose=str(int(row["oppose"])),
                abstain=str(int(row["abstain"])),
                turnout="—" if math.isnan(row["turnout"]) else f"{row['turnout']:.0%}",
                approval="—" if math.isnan(row["approval"]) else f"{row['approval']:.0%}",
            )
        else:
            colour = _NO_DATA
            props.update(dict.fromkeys(
                ("owners", "participating", "agree", "oppose", "abstain", "turnout"), "—"
            ), approval=escape_html(text["no_rows"]))  # fmt: skip
        props["_c"] = colour
        features.append(
            {"type": "Feature", "properties": props, "geometry": geom.__geo_interface__}
        )
    keys = ["name", "owners", "participating", "agree", "oppose", "abstain", "turnout", "approval"]
    # the layer control must be rendered after every overlay it lists: take it out, re-add below
    controls = [c for c in m._children.values() if isinstance(c, folium.LayerControl)]
    for control in controls:
        del m._children[control.get_name()]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=text["layer"].format(what=text[by]),
        style_function=lambda f: {"color": "#263238", "weight": 1.5,
                                  "fillColor": f["properties"]["_c"], "fillOpacity": 0.85},
        tooltip=folium.GeoJsonTooltip(fields=keys, aliases=[text[k] for k in keys]),
    ).add_to(m)  # fmt: skip
    for control in controls:
        control.add_to(m)
    rows = "".join(
        f'<div class="row"><span class="sw" style="background:{c}"></span>'
        f"<span>{escape_html(label)}</span></div>"
        for _, c, label in _BINS[by]
    )
    note = escape_html(text["note"].format(site=_text(site_id)))
    legend = f"<b>{escape_html(text[by])}</b>{rows}<div>{note}</div>"
    _vote_legend(legend).add_to(m)
    return localize_assets(m, base_url=VENDOR_URL)
