"""Capacity by site type, against layouts counted by hand (default rules)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely import box, union_all

from gridgis._errors import GridGISError, SettingsError
from gridgis.capacity import site_capacity
from gridgis.crs import to_metric
from gridgis.metrics import geometry_metrics
from gridgis.project import open_project
from gridgis.settings import default_settings, settings_from_toml

METRIC = "EPSG:4544"
DATA = Path(__file__).resolve().parents[1] / "data"


def _sites(geoms: list, types: list[str], ids: list[str] | None = None) -> gpd.GeoDataFrame:
    ids = ids or [f"S{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"site_id": ids, "site_type": types}, geometry=geoms, crs=METRIC)


def _capacity(sites: gpd.GeoDataFrame, settings=None):
    settings = settings or default_settings()
    return site_capacity(sites, metrics=geometry_metrics(sites), settings=settings)


def _row(frame, i: int) -> list:
    return [int(v) for v in frame.loc[i, ["capacity", "charging_ports", "circuits", "blocks"]]]


def test_twenty_by_six_point_two_shed():
    # 6.2 m wide >= 2.0 + 2.0 + 2.0: space | aisle | space, two rows.
    # 20 m long: one block of 25 spaces per row (20 / 0.8), 50 bikes (the block maximum).
    # Area bound 124 / 2.2 = 56 does not bind. Ports ceil(50 / 3) = 17, circuits ceil(17 / 10) = 2.
    straight = box(0, 0, 20, 6.2)
    turned = gpd.GeoSeries([straight]).rotate(57, origin=(0, 0)).iloc[0]
    c = _capacity(_sites([straight, turned], ["parking_shed"] * 2))
    assert 40 <= c.loc[0, "capacity"] <= 50
    assert _row(c, 0) == [50, 17, 2, 1]
    assert _row(c, 1) == [50, 17, 2, 1]  # orientation does not matter
    assert c.loc[0, "capacity_unit"] == "bikes"
    assert list(c.columns) == ["capacity", "capacity_unit", "charging_ports", "circuits", "blocks"]
    assert c["capacity"].dtype.kind == "i"


def test_shed_layouts_by_hand():
    sites = _sites(
        [
            box(0, 0, 10, 6),  # 2 rows x 12 (10 / 0.8 = 12.5) = 24; 60 / 2.2 = 27 not binding
            box(0, 0, 45, 3),  # one row, no aisle: blocks 20 m + 2 + 20 m + 2 + 1 m -> 25+25+1
            box(0, 0, 30, 4.5),  # one row + aisle: 25 + (30 - 22) / 0.8 = 10 -> 35, 2 blocks
            box(0, 0, 10, 1.5),  # narrower than one 2.0 m space: nothing
            box(0, 0, 30, 12.5),  # 2 bays = 4 rows; 50 / 4 = 12 per row per block (9.6 m);
            # 2 blocks + 2 gaps = 23.2 m, 6.8 m left -> 8; 4 x 32 = 128; area 375 / 2.2 = 170
        ],
        ["parking_shed"] * 5,
    )
    c = _capacity(sites)
    assert _row(c, 0) == [24, 8, 1, 1]
    assert _row(c, 1) == [51, 17, 2, 3]  # the gaps cost length: 56 without them
    assert _row(c, 2) == [35, 12, 2, 2]
    assert _row(c, 3) == [0, 0, 0, 0]
    assert _row(c, 4) == [128, 43, 5, 3]


def test_shed_area_bound_and_non_rectangles():
    # L of two 10 x 3 arms: rectangle 10 x 10 -> 3 rows x 12 = 36, x 51 / 100 = 18.36 -> 18
    ell = union_all([box(0, 0, 10, 3), box(0, 0, 3, 10)])
    c = _capacity(_sites([ell], ["parking_shed"]))
    assert _row(c, 0) == [18, 6, 1, 1]
    s = settings_from_toml(
        '[site_types.parking_shed]\narea_per_capacity_m2 = { value = 4.0, source = "E" }\n'
        '[rules]\nsockets_per_circuit_max = { value = 4, source = "E" }\n'
    )
    c = _capacity(_sites([box(0, 0, 20, 6.2)], ["parking_shed"]), s)
    assert _row(c, 0) == [31, 11, 3, 1]  # 124 / 4 = 31; ceil(31 / 3) = 11; ceil(11 / 4) = 3


def test_other_types_by_area():
    sites = _sites(
        [box(0, 0, 10, 6), box(0, 0, 10, 6), box(0, 0, 5, 2.3)],
        [
            "vegetable_garden",
            "activity_room",
            "activity_room",
        ],
    )
    c = _capacity(sites)
    assert c["capacity"].tolist() == [10, 30, 5]  # 60 / 6, 60 / 2, floor(11.5 / 2)
    assert c["capacity_unit"].tolist() == ["plots", "persons", "persons"]
    assert c[["charging_ports", "circuits", "blocks"]].to_numpy().sum() == 0


def test_new_type_can_use_the_stall_rule():
    s = settings_from_toml(
        """
[site_types.small_shed]
label_zh = "小车棚"
label_en = "small shed"
capacity_unit = "bikes"
capacity_rule = "bike_stalls"
area_per_capacity_m2 = { value = 2.2, source = "E" }
service_radius_m = { value = 100, source = "E" }
consultation_distance_m = { value = 20, source = "E" }
min_area_m2 = { value = 5, source = "E" }
min_width_m = { value = 2, source = "E" }
cost_items = ["power_feed"]
"""
    )
    c = _capacity(_sites([box(0, 0, 10, 6)], ["small_shed"]), s)
    assert _row(c, 0) == [24, 8, 1, 1]


def test_unknown_site_type_names_site_and_value():
    sites = _sites([box(0, 0, 5, 5), box(0, 0, 5, 5)], ["parking_shed", "pavilion"], ["A", "X1"])
    with pytest.raises(GridGISError, match=r"site 'X1': site_type='pavilion'.*known types"):
        _capacity(sites)


def test_metrics_must_share_the_index():
    sites = _sites([box(0, 0, 5, 5)], ["parking_shed"])
    metrics = geometry_metrics(sites).set_axis([9])
    with pytest.raises(GridGISError, match=r"metrics must have the sites' index"):
        site_capacity(sites, metrics=metrics, settings=default_settings())


def test_zero_area_per_capacity_is_a_settings_error():
    s = settings_from_toml(
        '[site_types.activity_room]\narea_per_capacity_m2 = { value = 0, source = "E" }\n'
    )
    with pytest.raises(SettingsError, match=r"site_types.activity_room.area_per_capacity_m2"):
        _capacity(_sites([box(0, 0, 5, 5)], ["activity_room"]), s)


def test_digitising_error_does_not_lose_a_row_or_a_space():
    # 5.995 m wide and 19.995 m long: within 1 cm of 6.0 x 20.0, so 2 rows x 25
    slightly = _sites([box(0, 0, 19.995, 5.995)], ["parking_shed"])
    assert _row(_capacity(slightly), 0) == [50, 17, 2, 1]
    # a 20 x 6.2 m shed drawn in lon/lat, reprojected: still 50
    lonlat = gpd.GeoDataFrame(
        {"site_id": ["S"], "site_type": ["parking_shed"]},
        geometry=gpd.GeoSeries([box(400000, 3394000, 400020, 3394006.2)], crs=METRIC).to_crs(4326),
    )
    assert _row(_capacity(to_metric(lonlat)), 0) == [50, 17, 2, 1]


def test_sample_compound_shed():
    # dongsi180 SITE1 is 14 x 6 m: 2 rows x 17 (14 / 0.8 = 17.5) = 34; 84 / 2.2 = 38
    project = open_project(DATA / "dongsi180")
    sites = to_metric(project.layers["sites"])
    c = _capacity(sites, project.settings)
    shed = int(sites.index[sites["site_id"] == "SITE1"][0])
    assert _row(c, shed) == [34, 12, 2, 1]  # ports ceil(34 / 3) = 12, circuits 2
