import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, box

from gridgis.analysis.households import adjacent_households, resolve_households, served_households
from gridgis.analysis.network import build_network
from gridgis.errors import CRSError, GridGISError
from tests.conftest import METRIC, ORIGIN


def test_given_households_win_and_missing_are_derived_or_unknown():
    b = pd.DataFrame(
        {"households": [28, None, None, 0], "units": [3, 2, None, 1], "floors": [7, 6, 5, 6]},
        index=[10, 11, 12, 13],
    )
    out = resolve_households(b, per_floor=2)
    assert list(out.index) == [10, 11, 12, 13]
    assert out.loc[10, "households"] == 28 and not out.loc[10, "derived"]
    assert out.loc[11, "households"] == 2 * 6 * 2 and out.loc[11, "derived"]
    assert np.isnan(out.loc[12, "households"]) and not out.loc[12, "derived"]
    assert out.loc[13, "households"] == 0  # a real zero stays zero


def test_text_households_are_unknown_not_zero():
    out = resolve_households(pd.DataFrame({"households": ["many"]}), per_floor=2)
    assert out["households"].isna().all()


# --- served and adjacent households (layers built in EPSG:4544 metres) ---------------

SITE = box(0, 0, 10, 6)


def _gdf(rows: list[dict], geoms: list, index: list | None = None) -> gpd.GeoDataFrame:
    moved = gpd.GeoSeries(geoms, crs=METRIC).translate(*ORIGIN)
    frame = pd.DataFrame(rows, index=index)
    return gpd.GeoDataFrame(frame, geometry=moved.to_numpy(), crs=METRIC)


def _sites(geoms: list, index: list | None = None) -> gpd.GeoDataFrame:
    rows = [{"site_id": f"S{k}", "site_type": "parking_shed"} for k in range(len(geoms))]
    return _gdf(rows, geoms, index)


def _buildings(spec: list[tuple]) -> gpd.GeoDataFrame:
    """spec: (building_id, households, geometry[, units, floors])."""
    rows = [
        {
            "building_id": s[0],
            "households": s[1],
            "units": s[3] if len(s) > 3 else None,
            "floors": s[4] if len(s) > 4 else None,
        }
        for s in spec
    ]
    return _gdf(rows, [s[2] for s in spec])


def test_served_counts_exactly_the_buildings_within_the_radius():
    b = _buildings(
        [
            ("IN", 28, box(10 + 149.5, 0, 190, 6)),  # 149.5 m edge to edge
            ("OUT", 56, box(-150.5 - 30, 0, -150.5, 6)),  # 150.5 m
            ("NEAR", 12, box(0, 20, 10, 30)),  # 14 m
        ]
    )
    out = served_households(_sites([SITE], index=["a"]), b, radius_m=150.0, per_floor=2)
    assert list(out.index) == ["a"]
    assert out.loc["a", "households_served"] == 28 + 12
    assert out.loc["a", "buildings_served"] == ["NEAR", "IN"]  # nearest first
    assert out.loc["a", "buildings_unknown"] == []
    assert out.loc["a", "distance_method"] == "straight_line"


def test_served_radius_per_site_from_a_series():
    b = _buildings([("B1", 28, box(40, 0, 50, 6))])  # 30 m from site 1, 5 m from site 2
    sites = _sites([SITE, box(55, 0, 65, 6)], index=[7, 3])
    radius = pd.Series({3: 4.0, 7: 31.0})  # order differs from the sites'
    out = served_households(sites, b, radius_m=radius, per_floor=2)
    assert out["households_served"].to_dict() == {7: 28.0, 3: 0.0}
    assert out.loc[3, "buildings_served"] == []


def test_unknown_households_are_listed_not_counted_and_derived_ones_count():
    b = _buildings(
        [
            ("KNOWN", 28, box(20, 0, 30, 6)),
            ("UNKNOWN", None, box(0, 20, 10, 30)),
            ("DERIVED", None, box(-30, 0, -20, 6), 2, 6),  # 2 units x 6 floors x 2
        ]
    )
    out = served_households(_sites([SITE]), b, radius_m=100.0, per_floor=2).iloc[0]
    assert out["households_served"] == 28 + 24
    assert sorted(out["buildings_served"]) == ["DERIVED", "KNOWN", "UNKNOWN"]
    assert out["buildings_unknown"] == ["UNKNOWN"]
    assert not np.isnan(out["households_served"])


def test_a_wall_forcing_a_detour_puts_a_close_building_out_of_walking_reach():
    # building 20 m away in a straight line; the only path goes round a 100 m U
    b = _buildings([("B1", 28, box(30, 0, 50, 6))])
    paths = _gdf(
        [{"path_id": "P1", "kind": "footpath", "width_m": 1.5}],
        [LineString([(5, 8), (5, 100), (40, 100), (40, 8)])],
    )
    straight = served_households(_sites([SITE]), b, radius_m=150.0, per_floor=2).iloc[0]
    walked = served_households(_sites([SITE]), b, radius_m=150.0, paths=paths, per_floor=2).iloc[0]
    assert straight["buildings_served"] == ["B1"]
    assert walked["buildings_served"] == []
    assert walked["households_served"] == 0
    assert walked["distance_method"] == "network"
    # walking: 2 + 92 + 35 + 92 + 2 = 223 m
    reach = served_households(_sites([SITE]), b, radius_m=223.5, paths=paths, per_floor=2)
    assert reach.iloc[0]["buildings_served"] == ["B1"]


def test_walking_distance_decides_half_a_metre_either_side():
    # path along y = 8; each box joins it opposite its centroid, 2 m access legs.
    # A: walk 2 + (50.5 - 5) + 2 = 49.5; C: walk 2 + (5 + 41.5) + 2 = 50.5.
    # Both are within 50 m in a straight line (35.5 m and 36.5 m).
    b = _buildings([("A", 10, box(45.5, 0, 55.5, 6)), ("C", 20, box(-46.5, 0, -36.5, 6))])
    paths = _gdf(
        [{"path_id": "P1", "kind": "road", "width_m": 3.5}], [LineString([(-100, 8), (100, 8)])]
    )
    walked = served_households(_sites([SITE]), b, radius_m=50.0, paths=paths, per_floor=2)
    straight = served_households(_sites([SITE]), b, radius_m=50.0, per_floor=2)
    assert walked.iloc[0]["buildings_served"] == ["A"]
    assert walked.iloc[0]["households_served"] == 10
    assert straight.iloc[0]["households_served"] == 30


def test_buildings_on_an_unconnected_path_fall_back_to_straight_line():
    b = _buildings([("ON", 28, box(40, 0, 50, 6)), ("OFF", 56, box(0, -60, 10, -50))])
    paths = _gdf(
        [{"path_id": "P1", "kind": "road"}, {"path_id": "P2", "kind": "footpath"}],
        [LineString([(-100, 8), (100, 8)]), LineString([(-100, -62), (100, -62)])],
    )
    out = served_households(_sites([SITE]), b, radius_m=100.0, paths=paths, per_floor=2).iloc[0]
    assert out["distance_method"] == "network+straight_line"
    assert sorted(out["buildings_served"]) == ["OFF", "ON"]
    assert out["households_served"] == 84


def test_prebuilt_network_and_empty_paths():
    b = _buildings([("B1", 28, box(30, 0, 50, 6))])
    paths = _gdf(
        [{"path_id": "P1", "kind": "footpath"}],
        [LineString([(5, 8), (5, 100), (40, 100), (40, 8)])],
    )
    net = served_households(
        _sites([SITE]), b, radius_m=150.0, paths=build_network(paths), per_floor=2
    )
    assert net.iloc[0]["buildings_served"] == []
    empty = served_households(_sites([SITE]), b, radius_m=150.0, paths=paths.iloc[:0], per_floor=2)
    assert empty.iloc[0]["distance_method"] == "straight_line"
    assert empty.iloc[0]["buildings_served"] == ["B1"]


def test_adjacent_includes_an_overlapped_building_at_distance_zero():
    b = _buildings(
        [
            ("UNDER", 28, box(5, 3, 40, 14)),  # the site overlaps it
            ("NEXT", 56, box(-29.5, 0, -19.5, 6)),  # 19.5 m
            ("FAR", 12, box(-40.5, 10, -20.5, 20)),  # > 20 m
            ("UNKNOWN", None, box(0, -15, 10, -10)),
        ]
    )
    out = adjacent_households(_sites([SITE]), b, distance_m=20.0, per_floor=2).iloc[0]
    assert out["buildings_adjacent"] == ["UNDER", "UNKNOWN", "NEXT"]
    assert out["households_adjacent"] == 28 + 56
    assert out["buildings_adjacent_unknown"] == ["UNKNOWN"]


def test_radius_series_must_cover_every_site():
    sites = _sites([SITE, SITE], index=["a", "b"])
    b = _buildings([("B1", 28, box(30, 0, 50, 6))])
    with pytest.raises(GridGISError, match=r"radius_m has no value for site index \['b'\]"):
        served_households(sites, b, radius_m=pd.Series({"a": 100.0}), per_floor=2)
    with pytest.raises(GridGISError, match=r"distance_m must be a finite number >= 0 .* got -5"):
        adjacent_households(sites, b, distance_m=pd.Series({"a": 1.0, "b": -5}), per_floor=2)


def test_layers_must_be_metric_and_have_ids():
    b = _buildings([("B1", 28, box(30, 0, 50, 6))])
    with pytest.raises(CRSError, match="layer 'buildings' is in 'EPSG:4326'"):
        served_households(_sites([SITE]), b.to_crs(4326), radius_m=10.0, per_floor=2)
    with pytest.raises(GridGISError, match="buildings has no 'building_id' column"):
        adjacent_households(
            _sites([SITE]), b.drop(columns="building_id"), distance_m=5.0, per_floor=2
        )


def test_no_buildings_serve_nobody():
    b = _buildings([("B1", 28, box(30, 0, 50, 6))]).iloc[:0]
    out = served_households(_sites([SITE]), b, radius_m=100.0, per_floor=2).iloc[0]
    assert out["households_served"] == 0.0
    assert out["buildings_served"] == []


def test_tiny_compound_served_in_wgs84_converted_to_metric(tiny_layers):
    from gridgis.core.crs import to_metric

    m = {k: to_metric(v) for k, v in tiny_layers.items()}
    # S1 (60..70 x 40..46) is 10 m from B1 and 19 m from B2 in a straight line
    near = served_households(m["sites"], m["buildings"], radius_m=15.0, per_floor=2).iloc[0]
    both = served_households(m["sites"], m["buildings"], radius_m=150.0, per_floor=2).iloc[0]
    assert near["buildings_served"] == ["B1"] and near["households_served"] == 28
    assert both["households_served"] == 28 + 56
    walked = served_households(
        m["sites"], m["buildings"], radius_m=150.0, paths=m["paths"], per_floor=2
    ).iloc[0]
    assert walked["distance_method"] == "network"
    assert walked["households_served"] == 28 + 56
