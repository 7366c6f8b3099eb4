"""Tests for gridgis.core.crs: GCJ-02 / BD-09 conversions and local metric CRSs."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from gridgis.core.crs import (
    DATUMS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_coords,
    convert_gdf,
    convert_geometries,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    local_metric_crs,
    out_of_china,
    to_metric,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from gridgis.errors import CRSError

GEOD = pyproj.Geod(ellps="WGS84")
CHENGDU = (104.0657, 30.6595)  # Tianfu Square, WGS84
FOREIGN = [(-0.1276, 51.5072), (-74.0060, 40.7128), (151.2093, -33.8688)]  # London, NY, Sydney
ALL_CONVERSIONS = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
]


# --- independent scalar transcriptions of the published formulas -------------------------


def _ref_out_of_china(lng: float, lat: float) -> bool:
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _ref_transformlat(lng: float, lat: float) -> float:
    ret = -100.0 + 2.0 * lng + 3.0 * lat + 0.2 * lat * lat + 0.1 * lng * lat
    ret += 0.2 * math.sqrt(math.fabs(lng))
    ret += (20.0 * math.sin(6.0 * lng * math.pi) + 20.0 * math.sin(2.0 * lng * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(lat * math.pi) + 40.0 * math.sin(lat / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (
        (160.0 * math.sin(lat / 12.0 * math.pi) + 320 * math.sin(lat * math.pi / 30.0)) * 2.0 / 3.0
    )
    return ret


def _ref_transformlng(lng: float, lat: float) -> float:
    ret = 300.0 + lng + 2.0 * lat + 0.1 * lng * lng + 0.1 * lng * lat
    ret += 0.1 * math.sqrt(math.fabs(lng))
    ret += (20.0 * math.sin(6.0 * lng * math.pi) + 20.0 * math.sin(2.0 * lng * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(lng * math.pi) + 40.0 * math.sin(lng / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (
        (150.0 * math.sin(lng / 12.0 * math.pi) + 300.0 * math.sin(lng / 30.0 * math.pi))
        * 2.0
        / 3.0
    )
    return ret


def _ref_wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    if _ref_out_of_china(lng, lat):
        return lng, lat
    a = 6378245.0
    ee = 0.00669342162296594323
    dlat = _ref_transformlat(lng - 105.0, lat - 35.0)
    dlng = _ref_transformlng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = math.sin(radlat)
    magic = 1 - ee * magic * magic
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (a / sqrtmagic * math.cos(radlat) * math.pi)
    return lng + dlng, lat + dlat


def _ref_gcj02_to_bd09(lng: float, lat: float) -> tuple[float, float]:
    if _ref_out_of_china(lng, lat):
        return lng, lat
    x_pi = math.pi * 3000.0 / 180.0
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * x_pi)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * x_pi)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres between two sets of lon/lat points."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(lon1, lat1, lon2, lat2)
    return GEOD.inv(lon1.ravel(), lat1.ravel(), lon2.ravel(), lat2.ravel())[2]


@pytest.fixture
def chengdu_grid() -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.linspace(103.5, 104.5, 60), np.linspace(30.3, 31.0, 55))
    return lon, lat


@pytest.fixture
def china_points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240601)
    lon = rng.uniform(73.0, 135.0, 3000)
    lat = rng.uniform(18.0, 53.5, 3000)
    # points straddling the 105E meridian, where sqrt(|lon - 105|) has a kink
    lon[:200] = 105.0 + np.linspace(-1e-3, 1e-3, 200)
    lon[200] = 105.0
    return lon, lat


# --- forward GCJ-02 ------------------------------------------------------------------------


def test_wgs84_to_gcj02_matches_scalar_formula(china_points, chengdu_grid):
    for lon, lat in (china_points, chengdu_grid):
        got_lon, got_lat = wgs84_to_gcj02(lon, lat)
        ref = np.array(
            [_ref_wgs84_to_gcj02(x, y) for x, y in zip(lon.ravel(), lat.ravel(), strict=True)]
        )
        assert got_lon.shape == lon.shape
        np.testing.assert_allclose(got_lon.ravel(), ref[:, 0], rtol=0, atol=1e-11)
        np.testing.assert_allclose(got_lat.ravel(), ref[:, 1], rtol=0, atol=1e-11)
        # the transform really moves the points (guards against an identity bug)
        assert np.all(np.abs(got_lon - lon) + np.abs(got_lat - lat) > 1e-4)


# Published vectors. coordtransform (wandergis) README, input (116.404, 39.915), lon/lat order;
# eviltransform (googollee) go/python tests, given there as (wgsLat, wgsLng, gcjLat, gcjLng).
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), EVILTRANSFORM)
def test_published_eviltransform_vectors(wlat, wlng, glat, glng):
    assert wgs84_to_gcj02(wlng, wlat) == pytest.approx((glng, glat), abs=1e-9)
    back = gcj02_to_wgs84(glng, glat)
    assert _metres(*back, wlng, wlat).max() < 0.01


def test_published_coordtransform_vectors():
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-9
    )
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-9
    )
    # the published inverses are the one-step / closed-form approximations: ours are
    # more exact, so they agree only to their error (~1 m and a few cm respectively)
    approx_wgs = (116.39775550083061, 39.91359571849836)
    assert 0.05 < _metres(*gcj02_to_wgs84(116.404, 39.915), *approx_wgs).max() < 3.0
    approx_gcj = (116.39762729119315, 39.90865673957631)
    assert _metres(*bd09_to_gcj02(116.404, 39.915), *approx_gcj).max() < 0.1
    # ... and ours are exact inverses of the forward formulas
    assert wgs84_to_gcj02(*gcj02_to_wgs84(116.404, 39.915)) == pytest.approx(
        (116.404, 39.915), abs=1e-9
    )
    assert gcj02_to_bd09(*bd09_to_gcj02(116.404, 39.915)) == pytest.approx(
        (116.404, 39.915), abs=1e-9
    )


def test_offset_magnitude_around_chengdu(chengdu_grid):
    lon, lat = chengdu_grid
    d = _metres(lon, lat, *wgs84_to_gcj02(lon, lat))
    print(f"GCJ-02 offset around Chengdu: {d.min():.1f}..{d.max():.1f} m")
    assert d.min() > 300
    assert d.max() < 400
    centre = _metres(*CHENGDU, *wgs84_to_gcj02(*CHENGDU))[0]
    assert 345 <= centre <= 375
    # BD-09 adds a further offset of several hundred metres
    bd = _metres(*CHENGDU, *wgs84_to_bd09(*CHENGDU))[0]
    assert bd > centre + 300


# --- inverses and round trips --------------------------------------------------------------


def test_gcj02_round_trip_chengdu(chengdu_grid):
    lon, lat = chengdu_grid
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    err = _metres(lon, lat, *back)
    print(f"wgs84->gcj02->wgs84 max error {err.max():.2e} m")
    assert err.max() < 0.1
    # inverse in the other direction: treat the grid as GCJ-02 input
    fwd = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    err2 = _metres(lon, lat, *fwd)
    print(f"gcj02->wgs84->gcj02 max error {err2.max():.2e} m")
    assert err2.max() < 0.1


def test_gcj02_inverse_beats_one_step(chengdu_grid):
    lon, lat = chengdu_grid
    glon, glat = wgs84_to_gcj02(lon, lat)
    one_step = (2 * glon - wgs84_to_gcj02(glon, glat)[0], 2 * glat - wgs84_to_gcj02(glon, glat)[1])
    assert _metres(lon, lat, *one_step).max() > 0.1  # one step is not enough ...
    assert _metres(lon, lat, *gcj02_to_wgs84(glon, glat)).max() < 0.01  # ... iteration is


def test_round_trips_china_wide(china_points):
    lon, lat = china_points
    for fwd, inv in [
        (wgs84_to_gcj02, gcj02_to_wgs84),
        (gcj02_to_bd09, bd09_to_gcj02),
        (wgs84_to_bd09, bd09_to_wgs84),
    ]:
        err = _metres(lon, lat, *inv(*fwd(lon, lat)))
        assert err.max() < 0.1, fwd.__name__
        fx, fy = fwd(*inv(lon, lat))
        assert _metres(lon, lat, fx, fy).max() < 0.1, inv.__name__
        # the documented stopping rule: forward(inverse(p)) reproduces p to 1e-9 degrees
        assert max(np.abs(fx - lon).max(), np.abs(fy - lat).max()) < 1e-9, inv.__name__


def test_bd09_round_trips_chengdu(chengdu_grid):
    lon, lat = chengdu_grid
    e1 = _metres(lon, lat, *bd09_to_wgs84(*wgs84_to_bd09(lon, lat)))
    e2 = _metres(lon, lat, *bd09_to_gcj02(*gcj02_to_bd09(lon, lat)))
    print(f"wgs84->bd09->wgs84 max {e1.max():.2e} m; gcj02->bd09->gcj02 max {e2.max():.2e} m")
    assert e1.max() < 0.1
    assert e2.max() < 0.1


def test_bd09_forward_matches_scalar_formula(china_points, chengdu_grid):
    for lon, lat in (china_points, chengdu_grid):
        got = gcj02_to_bd09(lon, lat)
        ref = np.array(
            [_ref_gcj02_to_bd09(x, y) for x, y in zip(lon.ravel(), lat.ravel(), strict=True)]
        )
        np.testing.assert_allclose(got[0].ravel(), ref[:, 0], rtol=0, atol=1e-11)
        np.testing.assert_allclose(got[1].ravel(), ref[:, 1], rtol=0, atol=1e-11)
        # wgs84 -> bd09 is the composition
        composed = [
            _ref_gcj02_to_bd09(*_ref_wgs84_to_gcj02(x, y))
            for x, y in zip(lon.flat, lat.flat, strict=True)
        ]
        np.testing.assert_allclose(
            np.column_stack([a.ravel() for a in wgs84_to_bd09(lon, lat)]),
            composed,
            atol=1e-11,
            rtol=0,
        )


@settings(max_examples=300, deadline=None, database=None)
@given(
    lon=st.floats(72.2, 137.6, allow_nan=False),
    lat=st.floats(1.0, 55.6, allow_nan=False),
    pair=st.sampled_from([("wgs84", "gcj02"), ("gcj02", "bd09"), ("wgs84", "bd09")]),
)
def test_round_trip_property(lon, lat, pair):
    a, b = pair
    for src, dst in ((a, b), (b, a)):
        back = convert_coords(*convert_coords(lon, lat, src=src, dst=dst), src=dst, dst=src)
        assert _metres(lon, lat, *back)[0] < 0.1


# --- outside China, shapes, types ----------------------------------------------------------


def test_out_of_china_box():
    lon = np.array([72.003, 72.004, 137.8347, 137.835, 104.0, 104.0, 104.0, np.nan])
    lat = np.array([30.0, 30.0, 30.0, 30.0, 0.8292, 0.8293, 55.8272, 30.0])
    expected = [True, False, False, True, True, False, True, True]
    assert out_of_china(lon, lat).tolist() == expected
    assert bool(out_of_china(*CHENGDU)) is False


@pytest.mark.parametrize("func", ALL_CONVERSIONS)
def test_identity_outside_china(func):
    lon = np.array([p[0] for p in FOREIGN])
    lat = np.array([p[1] for p in FOREIGN])
    out = func(lon, lat)
    np.testing.assert_array_equal(out[0], lon)
    np.testing.assert_array_equal(out[1], lat)
    for x, y in FOREIGN:
        assert func(x, y) == (x, y)
    # mixed input: only the Chinese point moves
    mixed = func(np.array([CHENGDU[0], -0.1276]), np.array([CHENGDU[1], 51.5072]))
    assert mixed[0][1] == -0.1276 and mixed[1][1] == 51.5072
    assert _metres(mixed[0][0], mixed[1][0], *CHENGDU)[0] > 100


@pytest.mark.parametrize("func", ALL_CONVERSIONS)
def test_scalar_and_array_conventions(func):
    x, y = func(*CHENGDU)
    assert type(x) is float and type(y) is float
    lon = np.array([[104.0, 104.1], [104.2, 104.3]])
    lat = np.full((2, 2), 30.6)
    lon_before = lon.copy()
    ax, ay = func(lon, lat)
    assert isinstance(ax, np.ndarray) and ax.shape == (2, 2) and ay.shape == (2, 2)
    np.testing.assert_array_equal(lon, lon_before)  # input not modified in place
    lx, _ = func([104.0, 104.1], [30.6, 30.6])  # lists are fine
    np.testing.assert_array_equal(lx, ax[0])
    ex, ey = func(np.array([]), np.array([]))
    assert ex.shape == (0,) and ey.shape == (0,)


def test_nan_passes_through():
    x, y = gcj02_to_wgs84(np.array([np.nan, CHENGDU[0]]), np.array([np.nan, CHENGDU[1]]))
    assert np.isnan(x[0]) and np.isnan(y[0]) and np.isfinite(x[1])


def test_bad_shapes_raise():
    with pytest.raises(CRSError, match="lon and lat"):
        wgs84_to_gcj02([1.0, 2.0, 3.0], [1.0, 2.0])


# --- convert_coords ------------------------------------------------------------------------


def test_convert_coords_dispatch_and_aliases():
    assert DATUMS == ("wgs84", "gcj02", "bd09")
    assert convert_coords(*CHENGDU, src="wgs84", dst="gcj02") == wgs84_to_gcj02(*CHENGDU)
    assert convert_coords(*CHENGDU, src="WGS-84", dst="GCJ-02") == wgs84_to_gcj02(*CHENGDU)
    assert convert_coords(*CHENGDU, src="EPSG:4326", dst="BD-09") == wgs84_to_bd09(*CHENGDU)
    assert convert_coords(*CHENGDU, src="bd09", dst="wgs84") == bd09_to_wgs84(*CHENGDU)
    assert convert_coords(*CHENGDU, src="Gcj02", dst="bd09") == gcj02_to_bd09(*CHENGDU)
    assert convert_coords(*CHENGDU, src="bd09", dst="gcj02") == bd09_to_gcj02(*CHENGDU)
    assert convert_coords(*CHENGDU, src="gcj02", dst="wgs84") == gcj02_to_wgs84(*CHENGDU)
    assert convert_coords(*CHENGDU, src="gcj02", dst="gcj-02") == CHENGDU
    assert convert_coords(*CHENGDU, src=" 4326 ", dst="gcj_02") == wgs84_to_gcj02(*CHENGDU)


def test_convert_coords_same_datum_returns_copy():
    lon = np.array([104.0, 104.1])
    out_lon, _ = convert_coords(lon, [30.6, 30.7], src="bd09", dst="BD09")
    np.testing.assert_array_equal(out_lon, lon)
    out_lon[0] = 0.0
    assert lon[0] == 104.0


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"src": "gcj03", "dst": "wgs84"}, r"src='gcj03'.*wgs84, gcj02, bd09"),
        ({"src": "wgs84", "dst": "mars"}, r"dst='mars'"),
        ({"src": None, "dst": "wgs84"}, r"src=None"),
        ({"src": "wgs84", "dst": "EPSG:4544"}, r"dst='EPSG:4544'"),
    ],
)
def test_convert_coords_unknown_datum(kwargs, pattern):
    with pytest.raises(CRSError, match=pattern):
        convert_coords(*CHENGDU, **kwargs)


# --- geometries and frames -----------------------------------------------------------------


@pytest.fixture
def lonlat_gdf() -> gpd.GeoDataFrame:
    outer = box(104.05, 30.65, 104.07, 30.67)
    hole = box(104.055, 30.655, 104.06, 30.66)
    with_hole = Polygon(outer.exterior.coords, [hole.exterior.coords])
    multi = MultiPolygon([box(104.08, 30.68, 104.09, 30.69), box(104.1, 30.7, 104.11, 30.71)])
    line = LineString([(104.0, 30.6), (104.01, 30.61), (104.02, 30.6)])
    geoms = [with_hole, multi, line, Point(104.03, 30.63), None]
    return gpd.GeoDataFrame(
        {"name": ["a", "b", "c", "d", "e"]}, geometry=geoms, crs=4326, index=[10, 11, 12, 13, 14]
    )


def test_convert_gdf_keeps_structure(lonlat_gdf):
    before = lonlat_gdf.copy()
    out = convert_gdf(lonlat_gdf, src="wgs84", dst="gcj02")
    assert out is not lonlat_gdf
    assert out.crs == lonlat_gdf.crs
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert list(out["name"]) == list(lonlat_gdf["name"])
    assert out.geom_type.tolist() == lonlat_gdf.geom_type.tolist()
    assert shapely.get_num_interior_rings(out.geometry.values[:1]).tolist() == [1]
    assert shapely.get_num_geometries(out.geometry.values).tolist() == [1, 2, 1, 1, 0]
    np.testing.assert_array_equal(
        shapely.get_num_coordinates(out.geometry.values),
        shapely.get_num_coordinates(lonlat_gdf.geometry.values),
    )
    assert out.geometry.iloc[4] is None
    # the input frame is untouched
    assert lonlat_gdf.geometry.geom_equals_exact(before.geometry, tolerance=0).iloc[:4].all()
    # coordinates moved by exactly the point conversion
    xy = shapely.get_coordinates(lonlat_gdf.geometry.values)
    expected = np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.values), expected, atol=1e-12)
    assert np.abs(expected - xy).max() > 1e-3


def test_convert_gdf_round_trip_and_same_datum(lonlat_gdf):
    there = convert_gdf(lonlat_gdf, src="wgs84", dst="bd09")
    back = convert_gdf(there, src="bd-09", dst="wgs-84")
    a = shapely.get_coordinates(lonlat_gdf.geometry.values)
    b = shapely.get_coordinates(back.geometry.values)
    assert _metres(a[:, 0], a[:, 1], b[:, 0], b[:, 1]).max() < 0.1
    same = convert_gdf(lonlat_gdf, src="gcj02", dst="gcj02")
    assert same is not lonlat_gdf
    assert same.geometry.iloc[:4].geom_equals_exact(lonlat_gdf.geometry.iloc[:4], 0).all()


def test_convert_gdf_no_crs_is_lonlat(lonlat_gdf):
    raw = lonlat_gdf.set_crs(None, allow_override=True)
    out = convert_gdf(raw, src="wgs84", dst="gcj02")
    assert out.crs is None
    assert not out.geometry.iloc[:4].geom_equals_exact(raw.geometry.iloc[:4], 1e-6).any()


def test_convert_gdf_errors(lonlat_gdf):
    metric = lonlat_gdf.to_crs(4544)
    with pytest.raises(CRSError, match=r"gdf has crs='EPSG:4544'.*reproject.*EPSG:4326"):
        convert_gdf(metric, src="gcj02", dst="wgs84")
    with pytest.raises(CRSError, match=r"no CRS.*not lon/lat"):
        convert_gdf(metric.set_crs(None, allow_override=True), src="gcj02", dst="wgs84")
    with pytest.raises(CRSError, match=r"dst='baidu'"):
        convert_gdf(lonlat_gdf, src="wgs84", dst="baidu")


def test_convert_geometries_variants(lonlat_gdf):
    gs = lonlat_gdf.geometry.rename("geom")
    out = convert_geometries(gs, src="gcj02", dst="wgs84")
    assert isinstance(out, gpd.GeoSeries)
    assert out.name == "geom" and out.crs == gs.crs and list(out.index) == list(gs.index)
    arr = convert_geometries(np.asarray(gs.values), src="gcj02", dst="wgs84")
    assert isinstance(arr, np.ndarray)
    assert shapely.equals_exact(arr[:4], np.asarray(out.values)[:4], tolerance=0).all()
    pt = convert_geometries(Point(*CHENGDU), src="wgs84", dst="gcj02")
    assert (pt.x, pt.y) == pytest.approx(wgs84_to_gcj02(*CHENGDU), abs=1e-12)
    # z is kept, x/y converted
    pz = convert_geometries(Point(104.0, 30.6, 512.0), src="wgs84", dst="gcj02")
    assert pz.has_z and pz.z == 512.0 and pz.x != 104.0
    # foreign geometries are unchanged
    london = convert_geometries(Point(-0.1276, 51.5072), src="wgs84", dst="bd09")
    assert (london.x, london.y) == (-0.1276, 51.5072)
    with pytest.raises(CRSError, match="reproject"):
        convert_geometries(gs.to_crs(3857), src="gcj02", dst="wgs84")


# --- metric CRS ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lonlat", "epsg"),
    [
        (CHENGDU, 4544),
        ((103.2, 30.5), 4543),
        ((103.5, 30.5), 4544),
        ((103.49, 30.5), 4543),
        ((116.4, 39.9), 4548),
        ((73.0, 39.0), 4534),  # west of CM 75 zone: clamp to the first CGCS2000 zone
        ((137.0, 45.0), 4554),
        ((-0.1276, 51.5072), 32630),
        ((-74.006, 40.7128), 32618),
        ((151.2093, -33.8688), 32756),
    ],
)
def test_local_metric_crs_points(lonlat, epsg):
    crs = local_metric_crs(lonlat)
    assert isinstance(crs, pyproj.CRS)
    assert crs.to_epsg() == epsg
    assert crs.is_projected


def test_local_metric_crs_names_zone():
    assert "CM 105E" in local_metric_crs(CHENGDU).name
    assert "CM 102E" in local_metric_crs((103.2, 30.5)).name


def test_local_metric_crs_frames(lonlat_gdf):
    assert local_metric_crs(lonlat_gdf).to_epsg() == 4544
    assert local_metric_crs(lonlat_gdf.geometry).to_epsg() == 4544
    assert local_metric_crs(lonlat_gdf.to_crs(4544)).to_epsg() == 4544
    assert local_metric_crs(lonlat_gdf.to_crs(3857)).to_epsg() == 4544
    assert local_metric_crs(lonlat_gdf.set_crs(None, allow_override=True)).to_epsg() == 4544
    london = gpd.GeoDataFrame(geometry=[Point(-0.1276, 51.5072)], crs=4326).to_crs(27700)
    assert local_metric_crs(london).to_epsg() == 32630


def test_rectangle_area_round_trips():
    crs = pyproj.CRS.from_epsg(4544)
    x0, y0 = pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform(*CHENGDU)
    rect = gpd.GeoDataFrame(geometry=[box(x0, y0, x0 + 10.0, y0 + 6.0)], crs=crs)
    assert rect.area.iloc[0] == pytest.approx(60.0, rel=1e-12)
    lonlat = rect.to_crs(4326)
    metric = to_metric(lonlat)
    assert metric.crs.to_epsg() == 4544
    assert metric.area.iloc[0] == pytest.approx(60.0, rel=1e-6)
    assert lonlat.crs.to_epsg() == 4326  # input untouched
    bounds = metric.total_bounds
    assert bounds[2] - bounds[0] == pytest.approx(10.0, abs=1e-6)
    assert bounds[3] - bounds[1] == pytest.approx(6.0, abs=1e-6)


def test_to_metric_without_crs(lonlat_gdf):
    raw = lonlat_gdf.set_crs(None, allow_override=True)
    metric = to_metric(raw)
    assert metric.crs.to_epsg() == 4544
    assert raw.crs is None
    assert metric.geometry.iloc[0].area == pytest.approx(
        lonlat_gdf.to_crs(4544).geometry.iloc[0].area, rel=1e-12
    )
    assert 2_000_000 < metric.geometry.iloc[0].area < 5_000_000  # ~1.9 km x 2.2 km minus hole


@pytest.mark.parametrize(
    ("obj", "pattern"),
    [
        (gpd.GeoDataFrame(geometry=[], crs=4326), "no geometries.*len=0"),
        (gpd.GeoDataFrame(geometry=[None, Point()], crs=4326), "no geometries.*len=2"),
        (gpd.GeoSeries([], crs=4326), "no geometries"),
        ("chengdu", r"obj='chengdu'"),
        ((104.0,), r"obj=\(104.0,\)"),
        ((200.0, 30.0), "not a valid lon/lat"),
        ((float("nan"), 30.0), "not a valid lon/lat"),
        ((0.0, 89.5), "no UTM zone"),
        (gpd.GeoDataFrame(geometry=[Point(500000.0, 3390000.0)]), "no CRS.*not lon/lat"),
    ],
)
def test_local_metric_crs_errors(obj, pattern):
    with pytest.raises(CRSError, match=pattern):
        local_metric_crs(obj)
