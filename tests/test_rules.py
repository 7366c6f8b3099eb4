"""Rule checks on hand-drawn layers (EPSG:4544, metres).

Compound 100 x 60 m; slabs B1 (10..50 x 40..51) and B2 (10..50 x 10..21); a
4 m fire lane along y = 30; green space G1 (70..100 x 0..20) and a golden corner.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, box

from gridgis.analysis.check_rules import _lane_overlaps, _lane_zones, _overlap_pairs
from gridgis.analysis.households import adjacent_households
from gridgis.analysis.rules import (
    CHECK_KEYS,
    RULES,
    check_sites,
    check_summary,
    clear_width,
    site_type_values,
)
from gridgis.core.settings import default_settings, settings_from_toml
from gridgis.errors import CRSError, GridGISError
from gridgis.report.checks import check_message
from tests.conftest import METRIC, ORIGIN

SETTINGS = default_settings()

SITES = {  # site_id: (site_type, geometry)
    "OK": ("parking_shed", box(60, 40, 70, 46)),
    "ON_B1": ("activity_room", box(45, 45, 55, 50)),
    "LANE": ("vegetable_garden", box(60, 25, 70, 29)),
    "SHED3": ("parking_shed", box(53, 10, 63, 16)),
    "GREEN": ("vegetable_garden", box(75, 5, 85, 11)),
    "HALF_OUT": ("activity_room", box(95, 40, 105, 46)),
    "NARROW": ("parking_shed", box(80, 50, 95, 51.5)),
    "SMALL": ("vegetable_garden", box(60, 56, 64, 58)),
    "GARDEN3": ("vegetable_garden", box(53, 12, 58, 17)),
}


def _gdf(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    moved = gpd.GeoSeries(geoms, crs=METRIC).translate(*ORIGIN)
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=moved.to_numpy(), crs=METRIC)


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    sites = _gdf(
        [{"site_id": k, "site_type": t} for k, (t, _) in SITES.items()],
        [g for _, g in SITES.values()],
    ).set_index("site_id", drop=False)
    return {
        "sites": sites,
        "compound": _gdf([{"name": "测试小区"}], [box(0, 0, 100, 60)]),
        "buildings": _gdf(
            [{"building_id": "B1", "households": 28}, {"building_id": "B2", "households": 56}],
            [box(10, 40, 50, 51), box(10, 10, 50, 21)],
        ),
        "paths": _gdf(
            [
                {"path_id": "P1", "kind": "fire_lane", "width_m": 4.0},
                {"path_id": "P2", "kind": "footpath", "width_m": 1.5},
            ],
            [LineString([(0, 30), (100, 30)]), LineString([(65, 0), (65, 60)])],
        ),
        "spaces": _gdf(
            [{"space_id": "G1", "kind": "green"}, {"space_id": "SP2", "kind": "golden_corner"}],
            [box(70, 0, 100, 20), box(60, 40, 80, 55)],
        ),
    }


def _check(layers, **kw) -> dict[str, dict[str, dict]]:
    args = {k: v for k, v in layers.items() if k != "sites"} | kw
    out = check_sites(layers["sites"], settings=args.pop("settings", SETTINGS), **args)
    assert list(out.index) == list(layers["sites"].index)
    return {site: {c["rule"]: _worded(c) for c in checks} for site, checks in out.items()}


def _worded(check: dict) -> dict:
    """The record with its messages, rendered as every face renders them."""
    return check | {"message": check_message(check, "en"), "message_zh": check_message(check, "zh")}


def _failed(result: dict[str, dict]) -> set[str]:
    return {rule for rule, c in result.items() if c["status"] == "fail"}


def test_every_rule_is_reported_for_every_site_in_order(layers):
    out = check_sites(
        layers["sites"], settings=SETTINGS, **{k: v for k, v in layers.items() if k != "sites"}
    )
    assert out.name == "checks"
    for checks in out:
        assert [c["rule"] for c in checks] == list(RULES)
        assert all(tuple(c) == CHECK_KEYS for c in checks)
        assert all(c["ok"] is {"pass": True, "fail": False}.get(c["status"]) for c in checks)


def test_a_good_site_passes_everything(layers):
    ok = _check(layers)["OK"]
    assert _failed(ok) == set()
    assert ok["shed_setback"]["message"] == "10.0 m from building B1 (needs 6.0 m)"
    assert ok["min_width"]["message"] == "clear width 6.0 m (minimum 2.0 m)"


def test_overlapping_a_building_fails_and_the_building_is_adjacent(layers):
    res = _check(layers)["ON_B1"]
    assert _failed(res) == {"no_building_overlap"}
    assert res["no_building_overlap"]["message"] == "overlaps building B1 by 25.0 m2"
    assert res["no_building_overlap"]["severity"] == "error"
    assert "B1" in res["no_building_overlap"]["message_zh"]
    adj = adjacent_households(layers["sites"], layers["buildings"], distance_m=15.0, per_floor=2)
    assert adj.loc["ON_B1", "buildings_adjacent"] == ["B1"]
    assert adj.loc["ON_B1", "households_adjacent"] == 28


def test_a_site_within_the_lane_width_fails_though_it_misses_the_centreline(layers):
    res = _check(layers)["LANE"]
    assert _failed(res) == {"fire_lane_clear"}
    # the lane is kept clear 2 m either side of y = 30: the site's strip 28..29 is 10 m2
    assert res["fire_lane_clear"]["message"] == (
        "overlaps fire lane P1 by 10.0 m2 (must stay clear 4.0 m wide)"
    )


NEAR_LINE = box(60, 28.1, 70, 28.4)  # 1.6..1.9 m from the centreline
OFF_LINE = box(60, 26, 70, 27.5)  # 2.5..4 m from the centreline


@pytest.mark.parametrize(
    ("width", "site", "overlap"),
    [
        (3.0, NEAR_LINE, "3.0"),  # drawn narrower than the rule: kept clear 4 m anyway
        (None, NEAR_LINE, "3.0"),  # no width: the rule's 4 m
        (4.0, OFF_LINE, None),
        (6.0, OFF_LINE, "5.0"),  # drawn wider: its own width
    ],
)
def test_lane_is_at_least_the_rule_width_and_wider_when_drawn_wider(layers, width, site, overlap):
    layers["sites"] = layers["sites"].iloc[:1].copy()
    layers["sites"].geometry = gpd.GeoSeries([site], crs=METRIC).translate(*ORIGIN).to_numpy()
    layers["paths"].loc[0, "width_m"] = width
    res = _check(layers)["OK"]["fire_lane_clear"]
    assert res["ok"] is (overlap is None)
    assert res["measured"] == (float(overlap) if overlap else 0.0) and res["unit"] == "m2"
    if overlap:
        assert f"P1 by {overlap} m2" in res["message"]


def test_only_lanes_near_a_site_are_buffered_with_the_same_overlaps():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 500, 300), rng.uniform(0, 500, 300)
    lanes = np.asarray(
        shapely.linestrings(np.stack([np.stack([x, y], 1), np.stack([x + 40, y + 25], 1)], 1))
    )
    lanes[7] = box(100, 100, 104, 160)  # a polygon lane
    lanes[8] = None
    half = rng.uniform(1.5, 3.0, 300)
    sx, sy = rng.uniform(0, 500, 40), rng.uniform(0, 500, 40)
    sites = np.asarray(box(sx, sy, sx + 12, sy + 7))
    sites[5] = None
    i, j, area = _lane_overlaps(sites, lanes, half)
    i0, j0, area0 = _overlap_pairs(sites, _lane_zones(lanes, half))
    assert len(i) > 10
    assert sorted(zip(i, j, area, strict=True)) == sorted(zip(i0, j0, area0, strict=True))


def test_lanes_overlapping_a_site_equally_keep_the_full_index_order(layers):
    lane = LineString([(0, 30), (100, 30)])
    layers["paths"] = _gdf(
        [{"path_id": f"P{k}", "kind": "fire_lane"} for k in range(4)], [lane] * 4
    )
    message = _check(layers)["LANE"]["fire_lane_clear"]["message"]
    g = np.asarray(layers["sites"].geometry.array, dtype=object)
    lanes = np.asarray(layers["paths"].geometry.array, dtype=object)
    i, j, _ = _overlap_pairs(g, _lane_zones(lanes, np.full(4, 2.0)))
    order = ", ".join(f"P{k} by 10.0 m2" for k in j[i == list(layers["sites"].index).index("LANE")])
    assert message == f"overlaps fire lane {order} (must stay clear 4.0 m wide)"


def test_a_polygon_fire_lane_is_used_as_drawn(layers):
    layers["paths"] = _gdf([{"path_id": "PL", "kind": "fire_lane"}], [box(0, 28.5, 100, 31.5)])
    res = _check(layers)["LANE"]["fire_lane_clear"]
    assert res["message"] == "overlaps fire lane PL by 5.0 m2 (must stay clear 4.0 m wide)"


def test_shed_three_metres_from_a_building_fails_setback(layers):
    res = _check(layers)
    shed = res["SHED3"]
    assert _failed(shed) == {"shed_setback"}
    assert shed["shed_setback"]["message"] == "3.0 m from building B2, needs 6.0 m"
    assert shed["shed_setback"]["message_zh"] == "距楼栋 B2 3.0 m，须 ≥ 6.0 m"
    assert (shed["shed_setback"]["measured"], shed["shed_setback"]["needed"]) == (3.0, 6.0)
    assert shed["shed_setback"]["ids"] == ["B2"]
    garden = res["GARDEN3"]["shed_setback"]  # same distance, not a shed
    assert garden["status"] == "pass" and garden["reason"] == "not_applicable"
    assert garden["message"].startswith("not applicable")


def test_setback_comes_from_settings(layers):
    relaxed = settings_from_toml(
        'rules.shed_setback_from_openings_m = { value = 2.5, source = "E" }'
    )
    res = _check(layers, settings=relaxed)["SHED3"]["shed_setback"]
    assert res["ok"]
    assert res["message"] == "3.0 m from building B2 (needs 2.5 m)"


def test_green_space_is_a_warning(layers):
    res = _check(layers)["GREEN"]
    assert _failed(res) == {"on_green_space"}
    assert res["on_green_space"]["severity"] == "warning"
    assert res["on_green_space"]["message"] == "on green space G1 by 60.0 m2: needs approval"
    # the golden corner the OK site sits on is not green
    assert _check(layers)["OK"]["on_green_space"]["ok"]


def test_outside_the_compound_reports_share_and_area(layers):
    res = _check(layers)["HALF_OUT"]
    assert _failed(res) == {"inside_compound"}
    assert res["inside_compound"]["message"] == (
        "50.0% of the site (30.0 m2) is outside the compound"
    )
    assert res["inside_compound"]["message_zh"] == "50.0%（30.0 m²）在小区边界外"


def test_min_area_and_min_width_per_site_type(layers):
    res = _check(layers)
    assert _failed(res["NARROW"]) == {"min_width"}
    assert res["NARROW"]["min_width"]["message"] == "clear width 1.5 m, needs 2.0 m"
    assert _failed(res["SMALL"]) == {"min_area"}
    assert res["SMALL"]["min_area"]["message"] == "area 8.0 m2, needs 12.0 m2"
    assert res["SMALL"]["min_width"]["ok"]  # exactly 2.0 m wide passes


def test_callers_min_width_wins_and_gaps_are_computed(layers):
    given = pd.Series(np.nan, index=layers["sites"].index)
    given["NARROW"] = 2.5
    given["OK"] = 1.0
    res = _check(layers, min_width=given)
    assert res["NARROW"]["min_width"]["ok"]
    assert res["OK"]["min_width"]["message"] == "clear width 1.0 m, needs 2.0 m"
    assert res["SMALL"]["min_width"]["message"] == "clear width 2.0 m (minimum 2.0 m)"


def test_clear_width_is_the_widest_strip():
    g = gpd.GeoSeries(
        [box(0, 0, 10, 6), box(0, 0, 20, 1.5), LineString([(0, 0), (1, 1)]).buffer(0)],
        crs=METRIC,
        index=["a", "b", "empty"],
    )
    assert clear_width(g).round(3).to_dict() == {"a": 6.0, "b": 1.5, "empty": 0.0}


def test_missing_layers_are_not_checked(layers):
    res = _check({"sites": layers["sites"]})
    for site, checks in res.items():
        for rule, layer in [
            ("inside_compound", "compound"),
            ("no_building_overlap", "buildings"),
            ("fire_lane_clear", "paths"),
            ("on_green_space", "spaces"),
        ]:
            assert checks[rule]["status"] == "not_checked" and checks[rule]["ok"] is None, site
            assert checks[rule]["reason"] == f"no_{layer}_layer"
            assert checks[rule]["message"] != check_message(checks[rule] | {"status": "pass"}, "en")
    assert res["SHED3"]["shed_setback"]["message"] == "not checked: no buildings layer"
    assert res["LANE"]["fire_lane_clear"]["message"] == "no paths layer: fire lanes not checked"
    assert res["LANE"]["fire_lane_clear"]["message_zh"] == "缺少道路图层：未检查消防车通道"
    assert not res["NARROW"]["min_width"]["ok"]  # geometry rules still run
    assert not check_summary(res["OK"].values())["all_clear"]


def test_empty_layers_mean_nothing_near_not_missing(layers):
    empty = {k: v.iloc[:0] for k, v in layers.items() if k in ("buildings", "paths", "spaces")}
    res = _check(layers | empty)["OK"]
    for rule in ("no_building_overlap", "on_green_space", "shed_setback"):
        assert res[rule]["status"] == "pass", rule
    assert res["shed_setback"]["reason"] == "none_near"
    # no fire lanes near, but the project has some: nothing to block
    assert _check(layers | empty, fire_lanes=True)["OK"]["fire_lane_clear"]["status"] == "pass"
    compound = _check(layers | {"compound": layers["compound"].iloc[:0]})["OK"]
    assert compound["inside_compound"]["status"] == "fail"  # no compound polygon holds it


def test_paths_without_fire_lanes_are_not_checked(layers):
    layers["paths"] = layers["paths"][layers["paths"]["kind"] != "fire_lane"]
    res = _check(layers)["LANE"]["fire_lane_clear"]
    assert res["status"] == "not_checked" and res["ok"] is None
    assert res["message"] == "no fire lanes in the paths layer: not checked"


def test_unknown_site_type_is_a_warning_not_a_pass(layers):
    layers["sites"].loc["OK", "site_type"] = "kiosk"
    res = _check(layers)["OK"]["min_area"]
    assert res["status"] == "not_checked" and res["ok"] is None and res["severity"] == "warning"
    assert res["message"] == "not checked: site type 'kiosk' is not in the settings"


def test_site_type_values(layers):
    radius = site_type_values(layers["sites"], settings=SETTINGS, field="service_radius_m")
    assert radius["OK"] == 150 and radius["SMALL"] == 200 and radius["ON_B1"] == 300
    with pytest.raises(
        GridGISError, match=r"field must be a number of a site type.*got 'label_en'"
    ):
        site_type_values(layers["sites"], settings=SETTINGS, field="label_en")


def test_bad_inputs_are_errors(layers):
    with pytest.raises(CRSError, match="layer 'compound' is in 'EPSG:4326'"):
        check_sites(layers["sites"], settings=SETTINGS, compound=layers["compound"].to_crs(4326))
    with pytest.raises(GridGISError, match="sites has no 'site_type' column"):
        check_sites(layers["sites"].drop(columns="site_type"), settings=SETTINGS)
    with pytest.raises(GridGISError, match=r"min_width has no value for site index \['GARDEN3'"):
        check_sites(layers["sites"], settings=SETTINGS, min_width=pd.Series({"OK": 3.0}))


def test_a_site_without_geometry_checks_nothing(layers):
    layers["sites"].loc["OK", "geometry"] = None
    res = _check(layers)["OK"]
    assert {c["status"] for c in res.values()} == {"not_checked"}
    assert {c["message"] for c in res.values()} == {"not checked: the site has no geometry"}
    assert check_summary(res.values()) == {
        "passed": 0,
        "failed": 0,
        "not_checked": len(RULES),
        "all_clear": False,
    }


def test_tiny_compound_from_wgs84_through_to_metric(tiny_layers):
    from gridgis.core.crs import to_metric

    metric = {k: to_metric(v) for k, v in tiny_layers.items()}
    out = check_sites(
        metric["sites"],
        settings=SETTINGS,
        compound=metric["compound"],
        buildings=metric["buildings"],
        paths=metric["paths"],
    ).iloc[0]
    assert [c["rule"] for c in out if not c["ok"]] == ["on_green_space"]  # no spaces layer
    assert check_summary(out)["not_checked"] == 1
    setback = next(c for c in out if c["rule"] == "shed_setback")
    assert check_message(setback, "en") == "10.0 m from building B1 (needs 6.0 m)"
