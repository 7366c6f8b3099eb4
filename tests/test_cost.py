"""Itemised cost lines against amounts computed by hand."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely import box

from gridgis.analysis.capacity import site_capacity
from gridgis.analysis.cost import COST_LINE_COLUMNS, cost_lines, site_costs
from gridgis.analysis.metrics import geometry_metrics
from gridgis.core.settings import default_settings, settings_from_toml
from gridgis.errors import GridGISError

METRIC = "EPSG:4544"

# Every basis, with rates that leave cents to round.
CUSTOM = """
[cost_items.deck]
label_zh = "木平台"
label_en = "deck"
basis = "area"
rate_cny = { value = 123.45, source = "E", ref = "test rate" }

[cost_items.rail]
label_zh = "栏杆"
label_en = "rail"
basis = "perimeter"
rate_cny = { value = 67.89, source = "S", ref = "test list" }

[cost_items.seat]
label_zh = "座位"
label_en = "seat"
basis = "capacity"
rate_cny = { value = 11.11, source = "D" }

[cost_items.permit]
label_zh = "报批"
label_en = "permit"
basis = "site"
rate_cny = { value = 999.99, source = "E" }

[cost_items.hook]
label_zh = "挂钩"
label_en = "hook"
basis = "count"
quantity = 3
rate_cny = { value = 0.35, source = "E" }

[cost_items.rcd_box]
label_zh = "漏电保护箱"
label_en = "RCD box"
basis = "circuits"
rate_cny = { value = 800, source = "E" }

[site_types.pavilion]
label_zh = "凉亭"
label_en = "pavilion"
capacity_unit = "persons"
area_per_capacity_m2 = { value = 2.0, source = "E" }
service_radius_m = { value = 200, source = "E" }
consultation_distance_m = { value = 10, source = "E" }
min_area_m2 = { value = 9, source = "E" }
min_width_m = { value = 3, source = "E" }
cost_items = ["deck", "rail", "seat", "permit", "hook"]

[site_types.bare]
label_zh = "空地"
label_en = "bare"
capacity_unit = "persons"
area_per_capacity_m2 = { value = 2.0, source = "E" }
service_radius_m = { value = 200, source = "E" }
consultation_distance_m = { value = 10, source = "E" }
min_area_m2 = { value = 9, source = "E" }
min_width_m = { value = 3, source = "E" }
cost_items = []

[site_types.parking_shed]
cost_items = ["shed_structure", "ground_hardening", "charging_port", "power_feed", "rcd_box"]
"""


def _lines(sites: gpd.GeoDataFrame, settings) -> pd.DataFrame:
    metrics = geometry_metrics(sites)
    capacity = site_capacity(sites, metrics=metrics, settings=settings)
    return cost_lines(sites, metrics=metrics, capacity=capacity, settings=settings)


def test_default_shed_lines():
    # 10 x 6 m shed: 24 bikes, 8 ports (see test_capacity).
    sites = gpd.GeoDataFrame(
        {"site_id": ["S1"], "site_type": ["parking_shed"]}, geometry=[box(0, 0, 10, 6)], crs=METRIC
    )
    lines = _lines(sites, default_settings())
    assert tuple(lines.columns) == COST_LINE_COLUMNS
    got = lines[["item", "basis", "quantity", "unit", "rate_cny", "amount_cny", "source"]]
    assert got.to_dict("split")["data"] == [
        ["shed_structure", "area", 60.0, "m2", 350.0, 21000.0, "E"],  # 60 x 350
        ["ground_hardening", "area", 60.0, "m2", 110.0, 6600.0, "E"],  # 60 x 110
        ["charging_port", "ports", 8.0, "port", 250.0, 2000.0, "E"],  # 8 x 250
        ["power_feed", "site", 1.0, "site", 10000.0, 10000.0, "E"],
    ]
    assert lines["ref"].iloc[0] == "complete e-bike shed 250-500 CNY/m2"
    assert site_costs(lines, sites.index).tolist() == [39600.0]


def test_every_basis_with_cents_and_exact_sums():
    settings = settings_from_toml(CUSTOM)
    sites = gpd.GeoDataFrame(
        {"site_id": ["P", "B", "S"], "site_type": ["pavilion", "bare", "parking_shed"]},
        geometry=[box(0, 0, 7.3, 4.1), box(0, 0, 5, 5), box(0, 0, 20, 6.2)],
        crs=METRIC,
        index=["p", "b", "s"],
    )
    lines = _lines(sites, settings)
    pav = lines[lines["site_index"] == "p"]
    # area 29.93 m2, perimeter 22.8 m, capacity floor(29.93 / 2) = 14 persons
    assert pav["quantity"].tolist() == [29.93, 22.8, 14.0, 1.0, 3.0]
    assert pav["unit"].tolist() == ["m2", "m", "person", "site", "each"]
    assert pav["amount_cny"].tolist() == [
        3694.86,  # 29.93 x 123.45 = 3694.8585
        1547.89,  # 22.8 x 67.89 = 1547.892
        155.54,  # 14 x 11.11
        999.99,
        1.05,  # 3 x 0.35
    ]
    assert pav["source"].tolist() == ["E", "S", "D", "E", "E"]
    shed = lines[lines["site_index"] == "s"]
    # 124 m2; 50 bikes -> 17 ports -> 2 circuits
    assert shed["amount_cny"].tolist() == [43400.0, 13640.0, 4250.0, 10000.0, 1600.0]
    assert shed["unit"].iloc[-1] == "circuit"
    assert "b" not in set(lines["site_index"])
    costs = site_costs(lines, sites.index)
    assert costs.name == "cost_cny"
    assert costs["b"] == 0.0
    assert round(costs["p"], 2) == 6399.33
    assert costs["s"] == 72890.0
    for key in sites.index:  # the contract: sum(amounts) == cost, exactly
        assert sum(lines.loc[lines["site_index"] == key, "amount_cny"]) == costs[key]
    assert list(lines["site_id"]) == ["P"] * 5 + ["S"] * 5  # sites in order


def test_capacity_basis_uses_singular_unit():
    text = '[site_types.parking_shed]\ncost_items = ["bike_rack"]\n' + (
        '[cost_items.bike_rack]\nlabel_zh = "车架"\nlabel_en = "rack"\nbasis = "capacity"\n'
        'rate_cny = { value = 120, source = "E" }\n'
    )
    sites = gpd.GeoDataFrame(
        {"site_id": ["S"], "site_type": ["parking_shed"]}, geometry=[box(0, 0, 10, 6)], crs=METRIC
    )
    lines = _lines(sites, settings_from_toml(text))
    assert lines[["quantity", "unit", "amount_cny"]].iloc[0].tolist() == [24.0, "bike", 2880.0]


def test_unaligned_or_duplicate_index_is_an_error():
    settings = default_settings()
    sites = gpd.GeoDataFrame(
        {"site_id": ["A", "B"], "site_type": ["activity_room"] * 2},
        geometry=[box(0, 0, 5, 5), box(0, 0, 4, 4)],
        crs=METRIC,
        index=[1, 1],
    )
    metrics = geometry_metrics(sites)
    capacity = site_capacity(sites, metrics=metrics, settings=settings)
    with pytest.raises(GridGISError, match=r"unique index for cost lines; repeated: \[1\]"):
        cost_lines(sites, metrics=metrics, capacity=capacity, settings=settings)
    sites.index = [1, 2]
    with pytest.raises(GridGISError, match=r"metrics must have the sites' index"):
        cost_lines(sites, metrics=metrics, capacity=capacity, settings=settings)


def test_lines_for_a_site_not_in_the_index_are_an_error():
    lines = pd.DataFrame({"site_index": [5], "amount_cny": [1.0]})
    with pytest.raises(GridGISError, match=r"not in the index: \[5\]"):
        site_costs(lines, pd.Index([1, 2]))


def test_site_id_falls_back_to_the_index_label_as_text():
    settings = default_settings()
    sites = gpd.GeoDataFrame(
        {"site_id": ["A", None, 7], "site_type": ["activity_room"] * 3},
        geometry=[box(0, 0, 5, 5), box(0, 0, 4, 4), box(0, 0, 3, 3)],
        crs=METRIC,
        index=[10, 11, 12],
    )
    lines = _lines(sites, settings)
    assert lines["site_id"].tolist() == ["A", "11", "7"]
    assert lines["site_index"].tolist() == [10, 11, 12]
    assert str(lines["site_id"].dtype) == "str"
    no_ids = _lines(sites.drop(columns="site_id"), settings)
    assert no_ids["site_id"].tolist() == ["10", "11", "12"]


def test_site_costs_add_in_line_order_when_sites_interleave():
    # 0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1 in floating point: the order of the lines counts
    lines = pd.DataFrame(
        {"site_index": ["b", "a", "b", "a", "b", "a"], "amount_cny": [0.1, 0.3, 0.2, 0.2, 0.3, 0.1]}
    )
    costs = site_costs(lines, pd.Index(["a", "b", "c"]))
    assert costs["b"] == sum([0.1, 0.2, 0.3]) == 0.6000000000000001
    assert costs["a"] == sum([0.3, 0.2, 0.1]) == 0.6
    assert costs["c"] == 0.0
