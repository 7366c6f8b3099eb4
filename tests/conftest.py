"""Shared fixtures (a small synthetic compound in Chengdu, built in metres) and test markers.

Markers (registered in pyproject.toml, set here so no test file has to):

- ``browser``: tests that drive Chromium: every test in ``tests/test_e2e_*.py`` and any
  test whose code names ``chromium``. ``./dev test -m "not browser"`` is the fast loop.
- ``slow``: the Streamlit AppTest pages (``tests/test_app*.py``, a second or so each) and
  tests that start other processes (their code names ``subprocess`` or ``multiprocessing``:
  kill, lock and console-script tests).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import LineString, box

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
DATA = REPO / "data"
BAD = Path(__file__).parent / "data" / "bad"
METRIC = "EPSG:4544"  # CGCS2000 3-degree GK CM 105E (Chengdu)
ORIGIN = (401000.0, 3394000.0)  # about lon 103.97, lat 30.67


def _names(item: pytest.Item) -> set[str]:
    """The global and attribute names the test function's code uses, lower-cased."""
    code = getattr(getattr(item, "function", None), "__code__", None)
    return {name.lower() for name in code.co_names} if code is not None else set()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the browser and the slow tests (see the module docstring)."""
    for item in items:
        path = Path(str(item.path))
        if path.parent != TESTS:
            continue  # the doctests of gridgis/ are neither
        names = _names(item)
        if path.name.startswith("test_e2e_") or "chromium" in names:
            item.add_marker(pytest.mark.browser)
        elif path.name.startswith("test_app") or names & {"subprocess", "multiprocessing"}:
            item.add_marker(pytest.mark.slow)


def _frame(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    x0, y0 = ORIGIN
    moved = gpd.GeoSeries(geoms, crs=METRIC).translate(x0, y0)
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=moved.to_numpy(), crs=METRIC).to_crs(4326)


@pytest.fixture
def tiny_layers() -> dict[str, gpd.GeoDataFrame]:
    """A 100 x 60 m compound, two 40 x 11 m slabs, a fire lane and a site."""
    return {
        "compound": _frame([{"name": "测试小区 <b>x</b>"}], [box(0, 0, 100, 60)]),
        "buildings": _frame(
            [
                {"building_id": "B1", "name": "1栋", "households": 28, "units": 1, "floors": 7},
                {"building_id": "B2", "name": "2栋", "households": 56, "units": 2, "floors": 7},
            ],
            [box(10, 40, 50, 51), box(10, 10, 50, 21)],
        ),
        "microgrids": _frame(
            [{"grid_id": "G1", "name": "一网格", "leader": "王阿姨", "households": 84}],
            [box(0, 0, 100, 60)],
        ),
        "paths": _frame(
            [{"path_id": "P1", "kind": "fire_lane", "width_m": 4.0}],
            [LineString([(0, 30), (100, 30)])],
        ),
        "sites": _frame(
            [{"site_id": "S1", "site_type": "parking_shed", "name": "车棚", "status": "built"}],
            [box(60, 40, 70, 46)],
        ),
    }


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A fresh app workspace, created by the app on start (so it holds a copy of the sample)."""
    ws = tmp_path / "workspace"
    monkeypatch.setenv("GRIDGIS_WORKSPACE", str(ws))
    return ws
