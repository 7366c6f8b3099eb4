"""Files the data page offers for download, built by the library on demand.

Each function returns the bytes of one file; the download buttons call them
only when clicked (Streamlit's deferred downloads), on a worker thread, so
they touch no session state.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from gridgis.analysis.result import SiteAnalysis
from gridgis.core.io import to_geojson
from gridgis.core.project import Project, open_project, save_project
from gridgis.report.checks import worded
from gridgis.report.xlsx import budget_sheets, write_xlsx


def site_plan_geojson(analysis: SiteAnalysis, lang: str = "zh") -> bytes:
    """The site plan as RFC 7946 GeoJSON: one Feature per site with its metrics.

    The file ``gridgis analyze --lang LANG -o OUT.geojson`` writes: each
    check record with its ``message`` in `lang`.
    """
    return to_geojson(worded(analysis, lang).features()).encode("utf-8")


def budget_xlsx(analysis: SiteAnalysis, lang: str = "zh") -> bytes:
    """The budget workbook: sites, cost line items, funding (headers in `lang`)."""
    with tempfile.TemporaryDirectory(prefix="gridgis-xlsx-") as tmp:
        target = Path(tmp) / "budget.xlsx"
        write_xlsx(budget_sheets(analysis, lang=lang), target)
        return target.read_bytes()


def project_gpkg(path: Path) -> bytes:
    """The whole project as it is on disk now (sites included) as one GeoPackage."""
    project = open_project(path)
    copy = Project(layers=project.layers, settings=project.settings)
    with tempfile.TemporaryDirectory(prefix="gridgis-gpkg-") as tmp:
        target = Path(tmp) / "project.gpkg"
        save_project(copy, target)
        return target.read_bytes()


def file_stem(name: str) -> str:
    """A file name stem from a project name (``dongsi180.gpkg`` -> ``dongsi180``)."""
    return name[:-5] if name.lower().endswith(".gpkg") else name
