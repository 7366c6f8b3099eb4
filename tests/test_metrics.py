"""Geometry metrics and context: hand-computed areas, widths and overlaps."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from shapely import Polygon, box, union_all

from gridgis.analysis.metrics import context, geometry_metrics
from gridgis.core.crs import local_metric_crs, to_metric
from gridgis.errors import CRSError

METRIC = "EPSG:4544"
GEOD = pyproj.Geod(ellps="WGS84")


def _geodesic_rect(lon: float, lat: float, dx: float, dy: float) -> Polygon:
    """A dx (east) x dy (north) metre rectangle built on the ellipsoid, in lon/lat."""
    e_lon, e_lat, _ = GEOD.fwd(lon, lat, 90.0, dx)
    ne_lon, ne_lat, _ = GEOD.fwd(e_lon, e_lat, 0.0, dy)
    n_lon, n_lat, _ = GEOD.fwd(lon, lat, 0.0, dy)
    return Polygon([(lon, lat), (e_lon, e_lat), (ne_lon, ne_lat), (n_lon, n_lat)])


def _metric(geoms: list, **columns: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=METRIC)


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (104.0657, 30.6595),  # Chengdu, 0.93 deg west of CM 105
        (106.49, 29.56),  # Chongqing, near the east edge of the 105E zone
        (126.63, 45.75),  # Harbin
        (87.62, 43.83),  # Urumqi
        (109.51, 18.25),  # Sanya
        (91.13, 29.65),  # Lhasa
    ],
)
def test_ten_by_six_is_sixty_square_metres_anywhere_in_china(lon, lat):
    site = gpd.GeoDataFrame(
        {"site_id": ["S"]}, geometry=[_geodesic_rect(lon, lat, 10.0, 6.0)], crs=4326
    )
    crs = local_metric_crs(site)
    assert 4534 <= crs.to_epsg() <= 4554
    m = geometry_metrics(site.to_crs(crs))
    assert m.loc[0, "area_m2"] == pytest.approx(60.0, rel=1e-3)
    assert m.loc[0, "perimeter_m"] == pytest.approx(32.0, rel=1e-3)
    assert m.loc[0, "min_width_m"] == pytest.approx(6.0, abs=0.02)


def test_min_width_of_rectangle_l_shape_and_narrow_spur():
    rect = box(0, 0, 10, 6)
    ell = union_all([box(0, 0, 10, 3), box(0, 0, 3, 10)])  # arms 3 m wide
    spur = union_all([box(0, 0, 10, 6), box(10, 2, 30, 2.5)])  # 0.5 m x 20 m = 10 m2 spur
    rotated = gpd.GeoSeries([box(0, 0, 20, 6.2)]).rotate(33, origin=(0, 0)).iloc[0]
    m = geometry_metrics(_metric([rect, ell, spur, rotated]))
    assert m["min_width_m"].tolist() == pytest.approx([6.0, 3.0, 0.5, 6.2], abs=0.02)
    assert m.loc[1, "area_m2"] == pytest.approx(51.0)
    assert m.loc[1, "perimeter_m"] == pytest.approx(40.0)


def test_sliver_under_one_percent_of_the_area_does_not_narrow_the_site():
    # a 0.1 x 2 m digitising spike: 0.2 m2 of 60.2 m2
    spiky = union_all([box(0, 0, 10, 6), box(10, 3, 12, 3.1)])
    assert geometry_metrics(_metric([spiky])).loc[0, "min_width_m"] == pytest.approx(6.0, abs=0.02)


def test_index_kept_and_missing_geometry_is_nan():
    sites = gpd.GeoDataFrame(
        {"site_id": ["A", "B"]}, geometry=[box(0, 0, 4, 3), None], crs=METRIC, index=[7, 3]
    )
    m = geometry_metrics(sites)
    assert list(m.index) == [7, 3]
    assert list(m.columns) == ["area_m2", "perimeter_m", "min_width_m"]
    assert m.loc[7].tolist() == pytest.approx([12.0, 14.0, 3.0], abs=0.01)
    assert m.loc[3].isna().all()


def test_degrees_are_refused():
    sites = gpd.GeoDataFrame(geometry=[box(104.0, 30.0, 104.0001, 30.0001)], crs=4326)
    with pytest.raises(CRSError, match=r"layer 'sites' is in 'EPSG:4326' \(degrees\)"):
        geometry_metrics(sites)


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    return {
        "compound": _metric([box(0, 0, 100, 60)], name=["测试小区"]),
        "microgrids": _metric(
            [box(0, 0, 50, 60), box(50, 0, 100, 60)],
            grid_id=["G1", "G2"],
            name=["一网格", "二网格"],
            leader=["王阿姨", None],
        ),
        "spaces": _metric(
            [box(60, 40, 80, 50), box(0, 0, 5, 5)],
            space_id=["SP1", "SP2"],
            kind=["golden_corner", "green"],
        ),
    }


def test_context_inside_outside_and_overlaps(layers):
    sites = _metric(
        [
            box(60, 40, 70, 46),  # inside, in G2, on SP1
            box(96, 10, 104, 16),  # half outside the compound
            box(200, 0, 210, 6),  # fully outside
            box(44, 20, 54, 26),  # 6 m in G1, 4 m in G2
            box(5, 0, 10, 5),  # touches SP2 along x = 5 only
        ],
        site_id=["in", "half", "out", "both", "touch"],
    )
    sites.index = [10, 11, 12, 13, 14]
    c = context(sites, **layers)
    assert list(c.index) == [10, 11, 12, 13, 14]
    assert c["inside_compound"].tolist() == [True, False, False, True, True]
    assert c["compound_fraction"].tolist() == pytest.approx([1.0, 0.5, 0.0, 1.0, 1.0])
    assert c.loc[10, "compound_name"] == "测试小区"
    assert pd.isna(c.loc[12, "compound_name"])
    assert c.loc[10, "microgrids"] == [{"grid_id": "G2", "name": "二网格", "leader": None}]
    assert [g["grid_id"] for g in c.loc[13, "microgrids"]] == ["G1", "G2"]  # largest first
    assert c.loc[13, "microgrids"][0]["leader"] == "王阿姨"
    assert c.loc[12, "microgrids"] == []
    assert c.loc[10, "spaces"] == [{"space_id": "SP1", "kind": "golden_corner"}]
    assert c.loc[14, "spaces"] == []  # edge contact is not overlap


def test_context_without_layers_gives_empty_lists_and_na():
    sites = _metric([box(0, 0, 5, 5)], site_id=["S"])
    c = context(sites)
    assert pd.isna(c.loc[0, "inside_compound"])
    assert str(c["inside_compound"].dtype) == "boolean"
    assert np.isnan(c.loc[0, "compound_fraction"])
    assert pd.isna(c.loc[0, "compound_name"])
    assert c.loc[0, "microgrids"] == []
    assert c.loc[0, "spaces"] == []


def test_context_on_tiny_layers(tiny_layers):
    metric = {k: to_metric(v) for k, v in tiny_layers.items()}
    c = context(metric["sites"], compound=metric["compound"], microgrids=metric["microgrids"])
    assert c.loc[0, "inside_compound"]
    assert c.loc[0, "compound_name"] == "测试小区 <b>x</b>"
    assert c.loc[0, "microgrids"] == [{"grid_id": "G1", "name": "一网格", "leader": "王阿姨"}]


def test_context_refuses_mixed_crs(layers):
    sites = _metric([box(0, 0, 5, 5)])
    other = layers["compound"].set_crs("EPSG:4545", allow_override=True)
    with pytest.raises(CRSError, match=r"layers 'sites' and 'compound' are in different CRSs"):
        context(sites, compound=other)


def test_empty_compound_layer_counts_as_missing():
    sites = _metric([box(0, 0, 5, 5)], site_id=["S"])
    empty = _metric([], name=[])
    assert pd.isna(context(sites, compound=empty).loc[0, "inside_compound"])
