"""Capacity by site type, against layouts counted by hand (default rules).

A shed holds what `gridgis.analysis.stalls.layout` lays out: rows of 2.0 x 0.8 m spaces, a 2.0 m
aisle between the two rows of a bay, bays back to back; blocks of <= 20 m and
<= 50 bikes, 2.0 m apart along a row. A 2.0 m aisle is itself 2.0 m of
separation, so the two rows facing each other across it are separate blocks;
back-to-back rows share blocks. Both axes of the site are tried.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely import box, union_all

from gridgis.analysis.capacity import site_capacity
from gridgis.analysis.metrics import geometry_metrics
from gridgis.core.crs import to_metric
from gridgis.core.project import open_project
from gridgis.core.settings import default_settings, settings_from_toml
from gridgis.errors import GridGISError, SettingsError

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
    # 6.2 m wide >= 2.0 + 2.0 + 2.0: space | aisle | space, two rows, a block each.
    # 20 m long: 25 spaces per row (20 / 0.8). Across (rows 6.2 m long, 7 a row): one bay
    # of 2 rows in 20 m (6 m) + another bay (12 m) + a row and aisle (16 m) = 5 rows x 7 = 35.
    # Ports ceil(50 / 3) = 17, circuits ceil(17 / 10) = 2.
    straight = box(0, 0, 20, 6.2)
    turned = gpd.GeoSeries([straight]).rotate(57, origin=(0, 0)).iloc[0]
    c = _capacity(_sites([straight, turned], ["parking_shed"] * 2))
    assert 40 <= c.loc[0, "capacity"] <= 50
    assert _row(c, 0) == [50, 17, 2, 2]
    assert _row(c, 1) == [50, 17, 2, 2]  # orientation does not matter
    assert c.loc[0, "capacity_unit"] == "bikes"
    assert list(c.columns) == ["capacity", "capacity_unit", "charging_ports", "circuits", "blocks"]
    assert c["capacity"].dtype.kind == "i"


def test_shed_layouts_by_hand():
    sites = _sites(
        [
            box(0, 0, 10, 6),  # 2 rows x 12 (10 / 0.8 = 12.5) = 24; across: 3 rows x 7 = 21
            box(0, 0, 45, 3),  # one row, no aisle: blocks 20 m + 2 + 20 m + 2 + 1 m -> 25+25+1
            # along: one row + aisle, 25 + (30 - 22) / 0.8 = 10 -> 35; across: 5 bays in 30 m,
            # 10 rows of 4.5 / 0.8 = 5 -> 50, 6 blocks (1 + 4 back-to-back pairs + 1)
            box(0, 0, 30, 4.5),
            box(0, 0, 10, 1.5),  # narrower than a 2.0 m space: 3 rows of 1 space across it
            box(0, 0, 20, 1.9),  # across: 3 bays in 20 m = 6 rows of 1.9 / 0.8 = 2 -> 12
            box(0, 0, 1.9, 1.9),  # a 1.9 m square holds no 2.0 m space at all
            # along 30: 2 bays = 4 rows, 25 + 10 = 35 each = 140; across: 5 bays = 10 rows of
            # 12.5 / 0.8 = 15 = 150, in 6 blocks (1 + 4 pairs + 1)
            box(0, 0, 30, 12.5),
        ],
        ["parking_shed"] * 7,
    )
    c = _capacity(sites)
    assert _row(c, 0) == [24, 8, 1, 2]
    assert _row(c, 1) == [51, 17, 2, 3]  # the gaps cost length: 56 without them
    assert _row(c, 2) == [50, 17, 2, 6]
    assert _row(c, 3) == [3, 1, 1, 2]
    assert _row(c, 4) == [12, 4, 1, 4]  # blocks: 1 + 2 back-to-back pairs + 1
    assert _row(c, 5) == [0, 0, 0, 0]
    assert _row(c, 6) == [150, 50, 5, 6]


def test_non_rectangles_get_a_full_layout_and_area_per_bike_does_not_cap_it():
    # L of two 10 x 3 arms, rows along x: row 0-2 m over the full 10 m = 12; the aisle
    # 2-4 m; rows 4-6 and 6-8 m (back to back, one block) only in the 3 m arm = 3 + 3. 18.
    ell = union_all([box(0, 0, 10, 3), box(0, 0, 3, 10)])
    c = _capacity(_sites([ell], ["parking_shed"]))
    assert _row(c, 0) == [18, 6, 1, 2]
    # area_per_capacity_m2 is the planning figure for other types; the layout is physical
    s = settings_from_toml(
        '[site_types.parking_shed]\narea_per_capacity_m2 = { value = 4.0, source = "E" }\n'
        '[rules]\nsockets_per_circuit_max = { value = 4, source = "E" }\n'
    )
    c = _capacity(_sites([box(0, 0, 20, 6.2)], ["parking_shed"]), s)
    assert _row(c, 0) == [50, 17, 5, 2]  # ceil(50 / 3) = 17; ceil(17 / 4) = 5


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
    assert _row(c, 0) == [24, 8, 1, 2]


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
    assert _row(_capacity(slightly), 0) == [50, 17, 2, 2]
    # a 20 x 6.2 m shed drawn in lon/lat, reprojected: still 50
    lonlat = gpd.GeoDataFrame(
        {"site_id": ["S"], "site_type": ["parking_shed"]},
        geometry=gpd.GeoSeries([box(400000, 3394000, 400020, 3394006.2)], crs=METRIC).to_crs(4326),
    )
    assert _row(_capacity(to_metric(lonlat)), 0) == [50, 17, 2, 2]


def test_sample_compound_shed():
    # dongsi180 SITE1 is 14 x 6 m: 2 rows x 17 (14 / 0.8 = 17.5) = 34, a block each
    project = open_project(DATA / "dongsi180")
    sites = to_metric(project.layers["sites"])
    c = _capacity(sites, project.settings)
    shed = int(sites.index[sites["site_id"] == "SITE1"][0])
    assert _row(c, shed) == [34, 12, 2, 2]  # ports ceil(34 / 3) = 12, circuits 2


def test_capacity_is_the_layout_count():
    # the engine's closed form for rectangles and the full layout agree, any turn
    from gridgis.analysis.stalls.layout import layout_stalls

    shapes = [box(0, 0, 13.3, 9.1), box(0, 0, 44.0, 8.5), box(0, 0, 7.7, 7.7)]
    turned = [gpd.GeoSeries([g]).rotate(33, origin=(0, 0)).iloc[0] for g in shapes]
    ell = union_all([box(0, 0, 12, 4), box(0, 0, 5, 15)])
    sites = _sites([*shapes, *turned, ell], ["parking_shed"] * 7)
    c = _capacity(sites)
    s = default_settings()
    assert c["capacity"].tolist() == [layout_stalls(g, settings=s).count for g in sites.geometry]
    assert c["blocks"].tolist() == [layout_stalls(g, settings=s).blocks for g in sites.geometry]
    assert c["capacity"].min() > 0
