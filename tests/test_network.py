"""Walking distances on hand-drawn networks (EPSG:4544, metres)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely import LineString, Point, box

from gridgis.analysis import network as network_module
from gridgis.analysis.network import build_network, pair_distances
from gridgis.errors import CRSError, GridGISError
from tests.conftest import METRIC, ORIGIN


def _gs(geoms: list) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs=METRIC).translate(*ORIGIN)


def _one(src, dst, paths, reach=1000.0, **kw) -> dict:
    net = build_network(_gs(paths), **kw)
    pairs = pair_distances(_gs(src), _gs(dst), max_distance_m=reach, network=net)
    assert len(pairs) == 1
    return pairs.iloc[0].to_dict()


def test_l_shaped_path_adds_both_access_legs():
    row = _one([Point(0, 5)], [Point(105, 100)], [LineString([(0, 0), (100, 0), (100, 100)])])
    assert row["method"] == "network"
    assert row["distance_m"] == pytest.approx(5 + 200 + 5)
    assert row["straight_m"] == pytest.approx(np.hypot(105, 95))


def test_reach_is_compared_with_the_walking_distance():
    src, dst = _gs([Point(0, 5)]), _gs([Point(105, 100)])
    net = build_network(_gs([LineString([(0, 0), (100, 0), (100, 100)])]))
    inside = pair_distances(src, dst, max_distance_m=210.5, network=net)
    outside = pair_distances(src, dst, max_distance_m=209.5, network=net)
    assert inside["within"].tolist() == [True]
    assert outside["within"].tolist() == [False]


def test_two_points_on_one_edge_walk_along_it():
    row = _one([Point(10, 3)], [Point(60, -4)], [LineString([(0, 0), (100, 0)])])
    assert row["distance_m"] == pytest.approx(3 + 50 + 4)


def test_crossing_lines_are_noded_without_a_shared_vertex():
    paths = [LineString([(0, 50), (100, 50)]), LineString([(50, 0), (50, 100)])]
    row = _one([Point(0, 52)], [Point(53, 100)], paths)
    assert row["method"] == "network"
    assert row["distance_m"] == pytest.approx(2 + 50 + 50 + 3)


def test_a_line_end_short_of_a_path_is_snapped_unless_snapping_is_off():
    paths = [LineString([(0, 0), (100, 0)]), LineString([(50, 0.3), (50, 100)])]
    snapped = _one([Point(0, -2)], [Point(52, 100)], paths, snap_m=0.5)
    assert snapped["method"] == "network"
    assert snapped["distance_m"] == pytest.approx(2 + 50 + 0.3 + 99.7 + 2)
    apart = _one([Point(0, -2)], [Point(52, 100)], paths, snap_m=0.0)
    assert apart["method"] == "straight_line"
    assert apart["distance_m"] == pytest.approx(np.hypot(52, 102))


def test_polygon_path_is_walked_along_its_outline():
    row = _one([Point(-2, 50)], [Point(102, 50)], [box(0, 0, 100, 100)])
    assert row["distance_m"] == pytest.approx(2 + 200 + 2)


def test_parallel_side_joins_the_path_opposite_its_centroid():
    # both boxes face the path along a whole side; they join at the middle of it
    row = _one([box(0, 0, 10, 6)], [box(40, 0, 60, 6)], [LineString([(-100, 8), (100, 8)])])
    assert row["distance_m"] == pytest.approx(2 + (50 - 5) + 2)


def test_duplicate_and_overlapping_paths_count_once():
    line = LineString([(0, 0), (100, 0)])
    row = _one([Point(0, 1)], [Point(100, 1)], [line, line, LineString([(20, 0), (70, 0)])])
    assert row["distance_m"] == pytest.approx(1 + 100 + 1)


def test_dijkstra_in_small_blocks_gives_the_same_distances(monkeypatch):
    paths = [LineString([(0, 0), (100, 0), (100, 100)]), LineString([(50, 0), (50, 80)])]
    sources = [Point(x, -3) for x in range(0, 100, 7)]
    targets = [Point(103, y) for y in range(0, 100, 9)] + [Point(52, 70)]
    net = build_network(_gs(paths))
    whole = pair_distances(_gs(sources), _gs(targets), max_distance_m=400.0, network=net)
    monkeypatch.setattr(network_module, "_DIJKSTRA_CELLS", 1)
    blocks = pair_distances(_gs(sources), _gs(targets), max_distance_m=400.0, network=net)
    assert len(whole) == len(sources) * len(targets)
    assert np.allclose(whole["distance_m"], blocks["distance_m"])
    first = whole[(whole["source"] == 0) & (whole["target"] == len(targets) - 1)]
    assert first["distance_m"].item() == pytest.approx(3 + 50 + 70 + 2)


def test_without_network_distance_is_edge_to_edge():
    pairs = pair_distances(
        _gs([box(0, 0, 10, 6)]), _gs([box(5, 3, 20, 20), box(13, 0, 20, 6)]), max_distance_m=5.0
    )
    assert pairs["target"].tolist() == [0, 1]
    assert pairs["distance_m"].tolist() == pytest.approx([0.0, 3.0])
    assert set(pairs["method"]) == {"straight_line"}


def test_empty_paths_make_an_empty_network():
    net = build_network(gpd.GeoSeries([], crs=METRIC))
    assert len(net) == 0


def test_layers_in_degrees_are_refused():
    with pytest.raises(CRSError, match=r"layer 'paths' is in 'EPSG:4326' \(degrees\)"):
        build_network(gpd.GeoSeries([LineString([(104, 30), (104.1, 30)])], crs=4326))


def test_layers_in_different_crs_are_refused():
    with pytest.raises(CRSError, match="'sources' and 'targets' are in different CRSs"):
        pair_distances(
            _gs([Point(0, 0)]),
            gpd.GeoSeries([Point(0, 0)], crs="EPSG:32648"),
            max_distance_m=1.0,
        )


def test_bad_reach_is_an_error():
    with pytest.raises(GridGISError, match=r"max_distance_m must be >= 0 .* got -1\.0"):
        pair_distances(_gs([Point(0, 0)]), _gs([Point(1, 0)]), max_distance_m=-1.0)
    with pytest.raises(GridGISError, match=r"one number or one per source \(1\)"):
        pair_distances(_gs([Point(0, 0)]), _gs([Point(1, 0)]), max_distance_m=[1.0, 2.0])
    with pytest.raises(GridGISError, match="snap_m must be a finite number"):
        build_network(_gs([LineString([(0, 0), (1, 0)])]), snap_m=-1)


def test_virtual_nodes_give_the_graph_a_full_rebuild_would():
    ring = LineString([(200, 0), (230, 0), (230, 30), (200, 30), (200, 0)])  # one loop edge: u == v
    paths = [LineString([(0, 0), (100, 0), (100, 100)]), LineString([(50, 0), (50, 80)]), ring]
    net = build_network(_gs(paths))
    rng = np.random.default_rng(0)
    edge = rng.integers(0, len(net), 12)
    edge[:3] = int(np.flatnonzero(net.u == net.v)[0])  # sources on the loop edge too
    offset = rng.uniform(0, 1, 12) * net.length[edge]
    offset[3] = 0.0  # a source at an edge's end: a zero-weight virtual edge
    k, n0 = len(edge), net.n_nodes
    virt = n0 + np.arange(k)
    rebuilt = network_module._adjacency(
        np.concatenate([net.u, virt, virt]),
        np.concatenate([net.v, net.u[edge], net.v[edge]]),
        np.concatenate([net.length, offset, net.length[edge] - offset]),
        n0 + k,
    )
    fast = network_module._with_virtual_nodes(
        net,
        np.concatenate([net.u[edge], net.v[edge]]),
        np.concatenate([offset, net.length[edge] - offset]),
    )
    assert fast.shape == rebuilt.shape
    assert fast.indptr.tolist() == rebuilt.indptr.tolist()
    assert fast.indices.tolist() == rebuilt.indices.tolist()
    assert fast.data.tolist() == rebuilt.data.tolist()
