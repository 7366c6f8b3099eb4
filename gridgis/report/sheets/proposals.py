"""The proposals every sheet shows: which sites, their letters, title, colours and checks.

Shared by the printed sheets (`gridgis.report.sheets.render`) and the offline
HTML map (`gridgis.report.sheets.offline`). Proposals are the sites whose
status is ``proposed`` or ``approved`` (a site without a status counts as
proposed), lettered A, B, C... in site order (`proposals`).

Examples
--------
>>> [letter(i) for i in (0, 25, 26)]
['A', 'Z', 'AA']
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.ops import polylabel

from gridgis.analysis.engine import analyze_sites
from gridgis.analysis.result import SiteAnalysis
from gridgis.core.project import Project
from gridgis.errors import GridGISError
from gridgis.meeting.proposals import PROPOSAL_STATUSES, letter, proposals
from gridgis.report.checks import check_message
from gridgis.report.i18n import LANGS, t
from gridgis.report.labels import name_in
from gridgis.report.map.style import site_colours

__all__ = [
    "PROPOSAL_STATUSES",
    "failed_checks",
    "label_point",
    "letter",
    "prepare",
    "proposals",
    "sheet_title",
    "type_colours",
]


def prepare(
    project: Project, analysis: SiteAnalysis | None, lang: str
) -> tuple[SiteAnalysis, gpd.GeoDataFrame]:
    """(`analysis`, or ``analyze_sites(project)``; its `proposals`), once `lang` is checked."""
    if lang not in LANGS:
        raise GridGISError(f"lang must be one of {LANGS}, got {lang!r}")
    analysis = analysis if analysis is not None else analyze_sites(project)
    return analysis, proposals(analysis)


def sheet_title(project: Project, lang: str) -> tuple[str, str, str]:
    """(compound name in `lang`, ``改造方案 / Renovation proposals``, the other name)."""
    compound = project.layers.get("compound")
    row = compound.iloc[0].to_dict() if compound is not None and len(compound) else {}
    name = name_in(row, lang) or project.name
    other_lang = "en" if lang == "zh" else "zh"
    other = _own_name(row, other_lang)
    heading = f"{t('sheet.title', lang)} / {t('sheet.title', other_lang)}"
    return name, heading, "" if other == name else other


def _own_name(row: dict[str, Any], lang: str) -> str:
    """The compound's name in `lang` only (no fallback to the other language)."""
    value = row.get("name_en" if lang == "en" else "name")
    return value.strip() if isinstance(value, str) else ""


def label_point(geom: Any) -> shapely.Point:
    """A point well inside a polygon (pole of inaccessibility of its largest part)."""
    if geom.geom_type == "MultiPolygon":
        geom = max(geom.geoms, key=lambda g: g.area)
    if geom.geom_type != "Polygon":
        return geom.representative_point()
    return polylabel(geom, tolerance=max(0.05, math.sqrt(geom.area) / 50))


def type_colours(project: Project, sites: pd.DataFrame) -> dict[str, str]:
    """Colours per site type, as the app's map gives them (`site_colours`)."""
    return site_colours([*project.settings.site_types, *sites["site_type"].astype(str)])


def failed_checks(props: pd.DataFrame, lang: str) -> list[tuple[str, str]]:
    """(letter, message) of every failed check of the proposals, in `lang`."""
    return [
        (row.letter, check_message(c, lang))
        for row in props.itertuples()
        for c in row.checks
        if c["ok"] is False  # a check not run (ok None) is not a failure
    ]
