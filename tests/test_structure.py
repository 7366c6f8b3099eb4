"""The shape of the package: its short public API, and the rules its modules keep."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import gridgis

from .conftest import REPO

# the short public API (DESIGN.md) and the module each name lives in
PUBLIC = {
    "open_project": "gridgis.core.project",
    "save_project": "gridgis.core.project",
    "read_layer": "gridgis.core.io",
    "prepare": "gridgis.analysis.engine",
    "analyze_sites": "gridgis.analysis.engine",
    "find_corners": "gridgis.analysis.corners",
    "layout_site": "gridgis.analysis.stalls.site",
    "tally": "gridgis.meeting.tally",
}


@pytest.mark.parametrize(("name", "home"), sorted(PUBLIC.items()))
def test_public_name_is_the_object_of_its_module(name, home):
    assert getattr(gridgis, name) is getattr(importlib.import_module(home), name)


def test_public_api_is_listed_and_nothing_else_is_lazy():
    assert set(gridgis.__all__) == {"__version__", *PUBLIC}
    assert set(PUBLIC) <= set(dir(gridgis))
    with pytest.raises(AttributeError, match="no attribute 'analyse_sites'"):
        gridgis.analyse_sites  # noqa: B018


def test_import_gridgis_loads_no_gis_library():
    code = (
        "import sys, gridgis\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'geopandas', 'pandas', 'shapely', 'pyproj', 'numpy'} or m.startswith('gridgis.'))\n"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
