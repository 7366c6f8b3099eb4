"""Shared fixtures: a small synthetic compound in Chengdu, built in metres."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely import LineString, box

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
BAD = Path(__file__).parent / "data" / "bad"
METRIC = "EPSG:4544"  # CGCS2000 3-degree GK CM 105E (Chengdu)
ORIGIN = (401000.0, 3394000.0)  # about lon 103.97, lat 30.67


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
