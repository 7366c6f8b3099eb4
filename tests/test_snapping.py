"""Snapping a drawn shape onto what is there: vertices first, then edges, in metres."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, box

from gridgis.core.snapping import snap_drawing

WALL = box(104.0, 30.0, 104.001, 30.001)


def _metres(a, b) -> float:
    pair = gpd.GeoSeries([a, b], crs=4326).to_crs(4544)
    return float(pair.iloc[0].distance(pair.iloc[1]))


def test_a_vertex_near_an_edge_goes_onto_the_edge_and_far_ones_stay():
    drawn = box(104.000003, 30.0002, 104.0002, 30.0004)  # west side ~0.29 m in from the wall
    snapped, moved = snap_drawing(drawn, [WALL], 0.5)
    assert moved == 2
    assert snapped.bounds[0] == pytest.approx(104.0, abs=1e-9)
    assert snapped.bounds[2] == pytest.approx(104.0002, abs=1e-9)  # the east side as drawn
    assert snapped.is_valid and snapped.area > 0


def test_a_vertex_near_a_corner_goes_onto_the_corner_not_the_edge():
    drawn = box(104.000002, 30.000002, 104.0002, 30.0002)  # its SW corner ~0.3 m from the wall's
    snapped, moved = snap_drawing(drawn, [WALL], 0.5)
    sw = min(shapely.get_coordinates(snapped).tolist())
    assert sw == pytest.approx([104.0, 30.0], abs=1e-9)
    assert moved >= 1


def test_nothing_within_the_tolerance_is_no_change():
    drawn = box(104.00002, 30.0002, 104.0002, 30.0004)  # ~1.9 m from the wall
    assert _metres(drawn, WALL.exterior) > 1.5
    snapped, moved = snap_drawing(drawn, [WALL], 0.5)
    assert moved == 0 and snapped.equals(drawn)


def test_a_line_snaps_to_a_line_and_a_bad_tolerance_is_refused():
    road = LineString([(104.0, 30.0005), (104.001, 30.0005)])
    path = LineString([(104.0001, 30.000502), (104.0001, 30.0009)])  # starts ~0.2 m off
    snapped, moved = snap_drawing(path, [road], 0.5)
    assert moved == 1 and snapped.coords[0][1] == pytest.approx(30.0005, abs=1e-9)
    with pytest.raises(ValueError, match="tolerance_m"):
        snap_drawing(path, [road], -1)
