"""Vote maps: a project's buildings coloured by turnout or approval.

`turnout_map` draws the per-building shares of `gridgis.meeting.tally.turnout_by_building`
over `gridgis.report.map.view.project_map`, with tooltips, colour bins and a legend.
Its words are the catalog's ``vote_map.*``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING

import folium
import pandas as pd

from gridgis.errors import GridGISError
from gridgis.meeting.tally import QUORUM, turnout_by_building
from gridgis.report.i18n import t
from gridgis.report.labels import clean_text, name_in
from gridgis.report.map.assets import localize_assets
from gridgis.report.map.elements import RawMacroElement, template
from gridgis.report.map.style import escape_html
from gridgis.report.map.view import project_map

if TYPE_CHECKING:
    from gridgis.core.project import Project

__all__ = ["turnout_map"]

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

_TIP_FIELDS = ("name", "owners", "participating", "agree", "oppose", "abstain", "turnout",
               "approval")  # fmt: skip


class _VoteLegend(RawMacroElement):
    """A legend control in the bottom-left corner (static, escaped HTML)."""

    _template = template("vote_legend.j2")

    def __init__(self, legend_html: str) -> None:
        super().__init__()
        self._name = "GridgisVoteLegend"
        self.legend_html = legend_html


def _word(key: str, lang: str) -> str:
    """A word of the vote map (``vote_map.<key>``)."""
    return t(f"vote_map.{key}", lang)


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
    asset_url: str | None = None,
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
    asset_url
        As in `project_map`: link the map's scripts from there instead of
        inlining them.

    Returns
    -------
    folium.Map
        `gridgis.report.map.view.project_map` plus a building layer with tooltips
        (households, took part, agree, oppose, abstain, both shares) and a
        legend; buildings not in the register are grey. Offline, like
        `project_map`.
    """
    if by not in _BINS:
        raise GridGISError(f"by must be one of {', '.join(_BINS)}, got {by!r}")
    m = project_map(project, lang=lang, asset_url=asset_url)  # checks lang
    table = turnout_by_building(votes, site_id=site_id, source=source).set_index("building_id")
    buildings = project.layers["buildings"]
    ids = buildings["building_id"].map(clean_text)
    rows = buildings.drop(columns=buildings.geometry.name).to_dict("records")
    features = []
    for bid, row, geom in zip(ids, rows, buildings.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        props: dict[str, str] = {"name": escape_html(name_in(row, lang) or bid)}
        if bid in table.index:
            counts = table.loc[bid]
            colour = _bin_colour(counts, by)
            props.update(
                owners=str(int(counts["owners"])),
                participating=str(int(counts["participating"])),
                agree=str(int(counts["agree"])),
                oppose=str(int(counts["oppose"])),
                abstain=str(int(counts["abstain"])),
                turnout="—" if math.isnan(counts["turnout"]) else f"{counts['turnout']:.0%}",
                approval="—" if math.isnan(counts["approval"]) else f"{counts['approval']:.0%}",
            )
        else:
            colour = _NO_DATA
            props.update(dict.fromkeys(
                ("owners", "participating", "agree", "oppose", "abstain", "turnout"), "—"
            ), approval=escape_html(_word("no_rows", lang)))  # fmt: skip
        props["_c"] = colour
        features.append(
            {"type": "Feature", "properties": props, "geometry": geom.__geo_interface__}
        )
    # the layer control must be rendered after every overlay it lists: take it out, re-add below
    controls = [c for c in m._children.values() if isinstance(c, folium.LayerControl)]
    for control in controls:
        del m._children[control.get_name()]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=t("vote_map.layer", lang, what=_word(by, lang)),
        style_function=lambda f: {"color": "#263238", "weight": 1.5,
                                  "fillColor": f["properties"]["_c"], "fillOpacity": 0.85},
        tooltip=folium.GeoJsonTooltip(
            fields=list(_TIP_FIELDS), aliases=[escape_html(_word(k, lang)) for k in _TIP_FIELDS]
        ),
    ).add_to(m)  # fmt: skip
    for control in controls:
        control.add_to(m)
    bins = "".join(
        f'<div class="row"><span class="sw" style="background:{c}"></span>'
        f"<span>{escape_html(label)}</span></div>"
        for _, c, label in _BINS[by]
    )
    note = escape_html(t("vote_map.note", lang, site=clean_text(site_id)))
    legend = f"<b>{escape_html(_word(by, lang))}</b>{bins}<div>{note}</div>"
    _VoteLegend(legend).add_to(m)
    return localize_assets(m, asset_url=asset_url)
