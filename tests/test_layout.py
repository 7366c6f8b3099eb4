"""Stall layout: 2.0 x 0.8 m spaces, aisles, blocks, charging; checked stall by stall."""

from __future__ import annotations

import itertools
import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import Polygon, affinity, box, union_all

from gridgis.analysis.stalls.layout import (
    TOLERANCE_M,
    layout_stalls,
    rectangle_stalls,
    stall_counts,
)
from gridgis.analysis.stalls.site import layout_site
from gridgis.cli import main
from gridgis.core.project import open_project
from gridgis.core.settings import default_settings, settings_from_toml
from gridgis.errors import GridGISError, SettingsError

from .conftest import DATA

S = default_settings()
X0, Y0 = 401000.0, 3394000.0  # EPSG:4544 metres, Chengdu


def _sides(stall: Polygon) -> tuple[float, float]:
    """Short and long side of a stall, which must be a rectangle (4 right angles)."""
    ring = np.asarray(stall.exterior.coords)
    assert len(ring) == 5
    edges = np.diff(ring, axis=0)
    assert abs(np.dot(edges[0], edges[1])) < 1e-9 and abs(np.dot(edges[1], edges[2])) < 1e-9
    sides = np.hypot(edges[:, 0], edges[:, 1])
    return float(sides.min()), float(sides.max())


def _check(site: Polygon, lay, *, overhang: float = 1e-6, settings=S) -> None:
    """Every rule a layout must keep, stall by stall."""
    stalls = list(lay.stalls)
    assert lay.count == len(stalls) == len(lay.block)
    rules = settings.rules
    depth, width = rules.bike_space_length_m.value, rules.bike_space_width_m.value
    grown = shapely.buffer(site, overhang, join_style="mitre")
    for stall in stalls:
        assert shapely.covers(grown, stall), "a stall crosses the site edge"
        short, long = _sides(stall)
        assert short >= width - 1e-9 and long >= depth - 1e-9
        assert stall.area == pytest.approx(depth * width, abs=1e-9)
    tree = shapely.STRtree(stalls)
    i, j = tree.query(stalls, predicate="intersects")
    pairs = i < j
    overlap = shapely.area(
        shapely.intersection(lay.stalls.values[i[pairs]], lay.stalls.values[j[pairs]])
    )
    assert (overlap < 1e-9).all(), "stalls overlap"
    # blocks: <= 50 bikes, <= 20 m along the rows, >= 2 m from every other block
    assert np.bincount(lay.block).max(initial=0) <= rules.shed_block_max_bikes.value
    assert max(_block_lengths(lay), default=0) <= rules.shed_block_max_length_m.value + 1e-9
    gap = rules.shed_block_gap_m.value
    for a, b in itertools.combinations(np.unique(lay.block), 2):
        ga = union_all([s for s, k in zip(stalls, lay.block, strict=True) if k == a])
        gb = union_all([s for s, k in zip(stalls, lay.block, strict=True) if k == b])
        assert shapely.distance(ga, gb) >= gap - 1e-6, f"blocks {a} and {b} closer than {gap} m"
    ports = -(-lay.count // int(rules.bikes_per_charging_port.value))
    assert lay.charging_ports == ports
    assert lay.circuits == -(-ports // int(rules.sockets_per_circuit_max.value))


def _block_lengths(lay) -> list[float]:
    """Length of each block along the rows."""
    out = []
    angle = np.radians(lay.orientation_deg)
    along = np.array([np.cos(angle), np.sin(angle)])
    for b in np.unique(lay.block):
        xy = shapely.get_coordinates(lay.stalls.values[lay.block == b])
        proj = xy @ along
        out.append(float(proj.max() - proj.min()))
    return out


def test_twenty_by_six_point_two_holds_forty_to_fifty():
    site = box(X0, Y0, X0 + 20, Y0 + 6.2)
    lay = layout_stalls(site, settings=S)
    assert 40 <= lay.count <= 50
    assert lay.count == 50  # space | 2 m aisle | space, 25 a row
    _check(site, lay)
    # strictly inside: no stall leaves the site even by float noise of a micrometre
    assert max(shapely.area(shapely.difference(s, site)) for s in lay.stalls) < 1e-9
    assert (lay.charging_ports, lay.circuits, lay.blocks) == (17, 2, 2)
    assert lay.orientation_deg == pytest.approx(0.0)
    assert len(lay.aisles) == 1 and lay.aisles.iloc[0].area == pytest.approx(40.0)


def test_turned_site_same_count_and_rules():
    site = affinity.rotate(box(X0, Y0, X0 + 20, Y0 + 6.2), 33, origin=(X0, Y0))
    lay = layout_stalls(site, settings=S)
    assert lay.count == 50
    assert lay.orientation_deg == pytest.approx(33.0, abs=1e-6)
    _check(site, lay)


def test_blocks_keep_length_bikes_and_gap():
    site = box(X0, Y0, X0 + 45, Y0 + 6.2)  # two rows, each 25 + gap + 25 (20 + 2 + 20 m) + 1
    lay = layout_stalls(site, settings=S)
    _check(site, lay)
    assert lay.count == 2 * 51
    assert max(_block_lengths(lay)) <= 20.0 + 1e-9
    assert lay.blocks == 6
    # 20 x 10 m: row | aisle | row, row (back to back) | aisle; the back-to-back pair
    # shares one block of 25 + 25 = 50 bikes; across, 6 rows of 12 would hold only 72
    wide = box(X0, Y0, X0 + 20, Y0 + 10)
    lay = layout_stalls(wide, settings=S)
    _check(wide, lay)
    assert lay.count == 75
    assert sorted(np.bincount(lay.block)[1:]) == [25, 50]


def test_aisle_width_is_editable():
    site = box(X0, Y0, X0 + 20, Y0 + 5.5)
    # 5.5 < 2 + 2 + 2: along, one row and its aisle (25); across, 6 rows of 5.5 / 0.8 = 6
    assert layout_stalls(site, settings=S).count == 36
    narrow = layout_stalls(site, settings=S, aisle_m=1.5)  # 2 + 1.5 + 2 = 5.5: two rows of 25
    assert narrow.count == 50
    _check(site, narrow)
    # an aisle narrower than the 2 m gap no longer separates blocks: both rows share them
    assert narrow.blocks == 1 and np.bincount(narrow.block)[1] == 50
    with pytest.raises(GridGISError, match=r"aisle_m must be a number of metres >= 0, got -1"):
        layout_stalls(site, settings=S, aisle_m=-1)


def test_irregular_sites_keep_every_rule():
    ell = union_all([box(X0, Y0, X0 + 12, Y0 + 4), box(X0, Y0, X0 + 5, Y0 + 15)])
    trapezoid = Polygon([(X0, Y0), (X0 + 25, Y0), (X0 + 19, Y0 + 9), (X0 + 3, Y0 + 11)])
    holed = box(X0, Y0, X0 + 20, Y0 + 12).difference(box(X0 + 9, Y0 + 5, X0 + 11, Y0 + 7))
    for site in (ell, trapezoid, holed):
        lay = layout_stalls(site, settings=S)
        assert lay.count > 0
        _check(site, lay, overhang=TOLERANCE_M / 2 + 1e-6)
        assert lay.count * 1.6 <= site.area
    # rows running north: x 0-2 m along the 15 m arm (18), aisle 2-4, then x 4-6, 6-8 (back
    # to back) and 10-12 m only in the 4 m deep arm (5 each): 33. Rows running east tie at
    # 33, and a tie keeps the first axis tried, the long side of the bounding rectangle
    best = layout_stalls(ell, settings=S)
    assert (best.count, best.orientation_deg, best.blocks) == (33, 90.0, 3)


def test_too_small_empty_and_bad_input():
    assert layout_stalls(box(0, 0, 1.9, 1.9), settings=S).count == 0
    assert layout_stalls(shapely.Polygon(), settings=S).count == 0
    assert layout_stalls(None, settings=S).count == 0
    with pytest.raises(GridGISError, match=r"must be a Polygon or MultiPolygon, got a LineString"):
        layout_stalls(shapely.LineString([(0, 0), (9, 9)]), settings=S)
    bad = settings_from_toml('[rules]\nbike_space_width_m = { value = 0, source = "S" }\n')
    with pytest.raises(SettingsError, match=r"rules.bike_space_width_m' must be > 0"):
        layout_stalls(box(0, 0, 20, 6), settings=bad)


def test_digitising_noise_does_not_lose_a_row():
    site = box(X0, Y0, X0 + 19.995, Y0 + 5.995)
    lay = layout_stalls(site, settings=S)
    assert lay.count == 50
    _check(site, lay, overhang=TOLERANCE_M / 2 + 1e-6)


@settings(max_examples=60, deadline=None)
@given(
    length=st.floats(0.5, 45.0),
    width=st.floats(0.5, 25.0),
    turn=st.floats(0.0, 180.0),
    aisle=st.sampled_from([None, 0.0, 1.5, 3.0]),
)
def test_closed_form_matches_the_layout(length, width, turn, aisle):
    site = affinity.rotate(box(X0, Y0, X0 + length, Y0 + width), turn, origin="centroid")
    lay = layout_stalls(site, settings=S, aisle_m=aisle)
    closed = rectangle_stalls([length], [width], settings=S, aisle_m=aisle).iloc[0]
    assert (lay.count, lay.blocks) == (closed["count"], closed["blocks"])
    assert stall_counts([site], settings=S, aisle_m=aisle)["count"].iloc[0] == lay.count


def test_layout_site_on_the_sample_shed():
    project = open_project(DATA / "dongsi180")
    stalls = layout_site(project, "SITE1")
    assert stalls.crs.to_epsg() == 4326
    assert list(stalls.columns) == ["site_id", "stall_id", "block", "geometry"]
    assert len(stalls) == 34 and stalls["stall_id"].is_unique
    assert stalls.attrs["layout"]["charging_ports"] == 12
    site = project.layers["sites"].set_index("site_id").loc[["SITE1"]].to_crs(4544).geometry.iloc[0]
    metric = stalls.to_crs(4544)
    assert metric.geometry.apply(lambda s: shapely.covers(site.buffer(0.01), s)).all()
    with pytest.raises(GridGISError, match=r"layer sites, field site_id: no feature site_id='X9'"):
        layout_site(project, "X9")
    with pytest.raises(GridGISError, match=r"site_id='SITE3', field site_type: 'vegetable_garden'"):
        layout_site(project, "SITE3")


def test_cli_layout_writes_geojson_and_rejects_unknown_site(tmp_path, capsys):
    out = tmp_path / "stalls.geojson"
    code = main(["layout", str(DATA / "dongsi180"), "--site", "SITE1", "-o", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "34 stalls" in printed and "12 charging ports on 2 circuits" in printed
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert len(doc["features"]) == 34
    first = doc["features"][0]
    assert set(first["properties"]) == {"site_id", "stall_id", "block"}
    lon, lat = first["geometry"]["coordinates"][0][0]
    assert 103.5 < lon < 106.5 and 30 < lat < 31
    stalls = gpd.read_file(out)
    assert stalls.is_valid.all() and len(stalls) == 34

    code = main(["layout", str(DATA / "dongsi180"), "--site", "NOPE"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "dongsi180: layer sites, field site_id: no feature site_id='NOPE'" in err
    assert "known ids: SITE1, SITE2, SITE3" in err


def test_counts_of_non_rectangles_are_the_layouts():
    # stall_counts counts other shapes without building stalls: same count and blocks
    skewed = Polygon([(X0, Y0), (X0 + 14, Y0 + 0.3), (X0 + 14.2, Y0 + 6.3), (X0 + 0.1, Y0 + 6)])
    two = union_all([box(X0, Y0, X0 + 12, Y0 + 6), box(X0 + 20, Y0, X0 + 30, Y0 + 13)])
    bowtie = Polygon([(X0, Y0), (X0 + 16, Y0 + 10), (X0 + 16, Y0), (X0, Y0 + 12)])  # invalid
    sites = [skewed, two, bowtie, None, box(X0, Y0, X0 + 20, Y0 + 6.2)]
    for aisle in (None, 1.5):
        counts = stall_counts(sites, settings=S, aisle_m=aisle)
        lays = [layout_stalls(g, settings=S, aisle_m=aisle) for g in sites]
        assert counts["count"].tolist() == [lay.count for lay in lays]
        assert counts["blocks"].tolist() == [lay.blocks for lay in lays]
        assert counts["rectangle"].tolist() == [False, False, False, False, True]
        assert counts["count"].iloc[:3].min() > 0
