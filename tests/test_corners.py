"""Golden corners on hand-made compounds (EPSG:4544 metres), the samples and the CLI."""

from __future__ import annotations

import json
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, box

from gridgis.analysis.corners import (
    BLOCKERS,
    CANDIDATE_COLUMNS,
    candidate_to_site,
    compare_spaces,
    find_corners,
)
from gridgis.analysis.engine import analyze_sites
from gridgis.cli import main
from gridgis.core.project import Project, open_project
from gridgis.core.settings import default_settings, settings_from_toml
from gridgis.errors import GridGISError

from .conftest import DATA, REPO

METRIC = "EPSG:4544"
X0, Y0 = 401000.0, 3394000.0  # about lon 103.97, lat 30.67


def _layer(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    moved = gpd.GeoSeries(geoms, crs=METRIC).translate(X0, Y0)
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=moved.to_numpy(), crs=METRIC).to_crs(4326)


def _metric(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """A layer back in local metres (origin at X0, Y0)."""
    return frame.to_crs(METRIC).geometry.translate(-X0, -Y0)


CORNER = box(12, 30, 22, 40)  # the empty 10 x 10 m corner


@pytest.fixture
def nook() -> Project:
    """60 x 40 m compound; the corner CORNER has the north wall, building B1 (2 m clearance)
    to its west, B2 to its south and a fire lane (drawn 3 m wide, kept 4 m) to its east."""
    layers = {
        "compound": _layer([{"name": "角落小区"}], [box(0, 0, 60, 40)]),
        "buildings": _layer(
            [{"building_id": "B1", "households": 28}, {"building_id": "B2", "households": 42}],
            [box(0, 20, 10, 40), box(12, 10, 20, 28)],
        ),
        "paths": _layer(
            [{"path_id": "L1", "kind": "fire_lane", "width_m": 3.0}],
            [LineString([(24, -5), (24, 45)])],
        ),
        "sites": _layer(
            [{"site_id": "S1", "site_type": "vegetable_garden"}], [box(46, 30, 56, 38)]
        ),
    }
    return Project(layers=layers)


def _cover(candidates: gpd.GeoDataFrame, area: shapely.Geometry) -> tuple[float, pd.Series]:
    """Largest share of `area` inside one candidate, and that candidate."""
    geoms = _metric(candidates)
    shares = shapely.area(shapely.intersection(geoms.to_numpy(), area)) / area.area
    best = int(np.argmax(shares))
    return float(shares[best]), candidates.iloc[best]


def test_the_empty_corner_is_found_and_labelled_a_corner(nook):
    found = find_corners(nook)
    share, best = _cover(found, CORNER)
    assert share >= 0.9
    assert best["kind"] == "corner"
    assert best["area_m2"] == pytest.approx(100.0, abs=1.0)  # nothing else glued on
    assert best["min_width_m"] == pytest.approx(10.0, abs=0.05)
    assert best["nearest_building_m"] == pytest.approx(2.0, abs=0.01)
    # 2 m from B1 and B2: too close for a shed (6 m from openings), fine for a garden
    assert best["suggested_site_type"] == "vegetable_garden" and best["bikes"] == 0
    assert best["households_within_reach"] == 70


def _assert_clear(found: gpd.GeoDataFrame, project: Project, *, lane_width: float = 4.0) -> None:
    crs = project.metric_crs()
    cand = found.to_crs(crs).geometry.to_numpy()
    buildings = project.layers["buildings"].to_crs(crs).geometry.to_numpy()
    sites = project.layers["sites"].to_crs(crs).geometry.to_numpy()
    paths = project.layers["paths"].to_crs(crs)
    lanes = paths[paths["kind"] == "fire_lane"]
    width = np.fmax(lanes["width_m"].to_numpy(dtype=float), lane_width)
    kept = shapely.buffer(lanes.geometry.to_numpy(), width / 2, cap_style="flat")
    for what, zone in (("building", buildings), ("fire lane", kept), ("site", sites)):
        i, j = shapely.STRtree(zone).query(cand, predicate="intersects")
        overlap = shapely.area(shapely.intersection(cand[i], zone[j]))
        assert (overlap < 1e-4).all(), f"a candidate overlaps a {what} by {overlap.max():.4f} m2"
    assert (found["nearest_building_m"] >= 2.0 - 1e-6).all()


def test_nothing_suggested_overlaps_a_building_a_fire_lane_or_a_site(nook):
    found = find_corners(nook)
    assert len(found) >= 3
    _assert_clear(found, nook)
    # the lane is drawn 3 m wide but kept 4 m: nothing between x = 22 and 26
    lane = box(22, -1, 26, 41)
    assert shapely.area(shapely.intersection(_metric(found).to_numpy(), lane)).max() < 1e-4


def test_samples_stay_clear_too():
    for path in (DATA / "dongsi180", DATA / "shaxi_f.gpkg"):
        project = open_project(path)
        found = find_corners(project)
        assert len(found) > 0
        _assert_clear(found, project)


def test_output_contract(nook):
    found = find_corners(nook)
    assert found.crs.to_epsg() == 4326
    assert list(found.columns) == [*CANDIDATE_COLUMNS, "geometry"]
    assert found["candidate_id"].tolist() == [f"C{k}" for k in range(1, len(found) + 1)]
    assert found["rank"].tolist() == list(range(1, len(found) + 1))
    assert (np.diff(found["score"].to_numpy()) <= 1e-9).all()  # best first
    s = default_settings().corners
    assert (found["area_m2"] >= s.min_area_m2.value).all()
    assert (found["min_width_m"] >= s.min_width_m.value - 0.01).all()
    assert found["kind"].isin(["corner", "edge", "open"]).all()
    assert found["compactness"].between(0, 1.0001).all()
    assert (found.geometry.geom_type == "Polygon").all() and found.is_valid.all()


def test_ring_compound_has_four_corners_and_four_edges():
    # a 50 x 30 m compound, one 30 x 10 m building in the middle: the 2 m clearance leaves
    # a ring; the building's facades, extended to the wall, cut it into 8 pieces
    project = Project(
        layers={
            "compound": _layer([{"name": "环"}], [box(0, 0, 50, 30)]),
            "buildings": _layer([{"building_id": "B", "households": 30}], [box(10, 10, 40, 20)]),
        }
    )
    found = find_corners(project)
    assert sorted(found["kind"]) == ["corner"] * 4 + ["edge"] * 4
    corners = found[found["kind"] == "corner"]
    assert sorted(corners["area_m2"].round(1)) == [64.0] * 4  # 8 x 8 m in each corner
    assert found["area_m2"].sum() == pytest.approx(50 * 30 - 34 * 14, abs=0.5)
    edges = found[found["kind"] == "edge"]
    assert sorted(edges["area_m2"].round(1)) == [112.0, 112.0, 272.0, 272.0]  # 8 x 14, 8 x 34
    # everything is within 6 m of the building's openings: gardens, no sheds, no bikes
    assert (found["suggested_site_type"] == "vegetable_garden").all()
    assert (found["bikes"] == 0).all()
    assert (found["households_within_reach"] == 30).all()


def test_plaza_between_roads_is_open_and_far_from_buildings_can_take_a_shed():
    project = Project(
        layers={
            "compound": _layer([{"name": "广场"}], [box(0, 0, 60, 60)]),
            "buildings": _layer([{"building_id": "B", "households": 56}], [box(0, 0, 4, 4)]),
            "paths": _layer(
                [{"path_id": f"R{k}", "kind": "road", "width_m": 4.0} for k in range(4)],
                [
                    LineString([(10, 10), (50, 10)]),
                    LineString([(50, 10), (50, 50)]),
                    LineString([(50, 50), (10, 50)]),
                    LineString([(10, 50), (10, 10)]),
                ],
            ),
        }
    )
    found = find_corners(project)
    share, plaza = _cover(found, box(12, 12, 48, 48))
    assert share >= 0.99 and plaza["kind"] == "open"
    assert plaza["nearest_building_m"] > 6
    assert plaza["suggested_site_type"] == "parking_shed"
    # 36 x 36 m: 6 bays = 12 rows, each 25 spaces (20 m) + 2 m gap + 17 (13.6 m) = 42
    assert plaza["bikes"] == 12 * 42
    assert plaza["households_within_reach"] == 56


def test_paths_without_width_and_rejected_sites(nook):
    # a footpath with no width_m is kept 1.5 m wide (corners.path_width_fallback_m)
    layers = dict(nook.layers)
    layers["paths"] = _layer(
        [{"path_id": "L1", "kind": "fire_lane"}, {"path_id": "F1", "kind": "footpath"}],
        [LineString([(24, -5), (24, 45)]), LineString([(30, 20), (60, 20)])],
    )
    found = find_corners(Project(layers=layers))
    walk = box(30, 19.25, 60, 20.75)
    assert shapely.area(shapely.intersection(_metric(found).to_numpy(), walk)).max() < 1e-4
    lane = box(22, -1, 26, 41)  # no width_m: the 4 m rule
    assert shapely.area(shapely.intersection(_metric(found).to_numpy(), lane)).max() < 1e-4
    # the site S1 blocks its ground; once rejected, the ground is free again
    site = box(46, 30, 56, 38)
    assert _cover(find_corners(nook), site)[0] < 0.01
    layers = dict(nook.layers)
    layers["sites"] = nook.layers["sites"].assign(status="rejected")
    assert _cover(find_corners(Project(layers=layers)), site)[0] > 0.99


def test_clearance_comes_from_settings(nook):
    wide = settings_from_toml('[corners]\nbuilding_clearance_m = { value = 6.0, source = "E" }\n')
    found = find_corners(nook, settings=wide)
    assert (found["nearest_building_m"] >= 6.0 - 1e-6).all()
    share, _ = _cover(found, CORNER)
    assert share < 0.5  # the corner is within 6 m of both buildings
    big = settings_from_toml('[corners]\nmin_area_m2 = { value = 400, source = "E" }\n')
    assert (find_corners(nook, settings=big)["area_m2"] >= 400).all()


def test_no_free_space_gives_an_empty_frame_and_no_compound_an_error():
    full = Project(
        layers={
            "compound": _layer([{"name": "满"}], [box(0, 0, 20, 20)]),
            "buildings": _layer([{"building_id": "B", "households": 9}], [box(-1, -1, 21, 21)]),
        }
    )
    empty = find_corners(full)
    assert len(empty) == 0 and list(empty.columns) == [*CANDIDATE_COLUMNS, "geometry"]
    nothing = Project(layers={"buildings": full.layers["buildings"]})
    with pytest.raises(GridGISError, match=r"layer compound: missing or empty"):
        find_corners(nothing)


def test_survey_and_tool_side_by_side_on_the_sample():
    project = open_project(DATA / "dongsi180")
    found = find_corners(project)
    survey = compare_spaces(project, found)
    assert survey.crs.to_epsg() == 4326
    assert sorted(survey["space_id"]) == ["SP1", "SP2", "SP3", "SP4", "SP5"]
    by_id = survey.set_index("space_id")
    # every surveyed corner is at least half found; SP1's shed SITE1 takes the rest
    assert (by_id["found_share"] >= 0.5).all()
    assert by_id.loc["SP1", "site"] == pytest.approx(0.35, abs=0.02)
    assert "existing site SITE1" in by_id.loc["SP1", "reason"]
    assert by_id.loc["SP2", "reason"] == ""
    # the reason is made of the blocker and the sites touching the space (the app words them)
    assert by_id.loc["SP1", "blocker"] == "site" and "SITE1" in by_id.loc["SP1", "blocking_sites"]
    assert by_id.loc["SP2", "blocker"] == ""
    assert set(survey["blocker"]) <= {"", "small", *BLOCKERS}
    matched = {sid for ids in found["matches_space"] for sid in ids}
    assert matched == {"SP1", "SP2", "SP3", "SP4", "SP5"}
    for sid, ids in by_id["candidate_ids"].items():
        for cid in ids:
            assert sid in found.set_index("candidate_id").loc[cid, "matches_space"]
    # the NW corner (SP3) is found as a corner with the boundary on two sides
    share, best = _cover(found, _metric(project.layers["spaces"]).iloc[2])
    assert share > 0.8 and best["kind"] == "corner"


def test_adopting_a_suggestion_makes_a_clean_site():
    project = open_project(DATA / "dongsi180")
    found = find_corners(project)
    shed = found[found["suggested_site_type"] == "parking_shed"].iloc[0]
    site = candidate_to_site(found, shed["candidate_id"], site_type=None, site_id="NEW1")
    assert site[["site_id", "site_type", "status"]].iloc[0].tolist() == [
        "NEW1",
        "parking_shed",
        "proposed",
    ]
    result = analyze_sites(project, site).sites.iloc[0]
    assert result["capacity"] == shed["bikes"]  # the engine counts the same layout
    checks = {c["rule"]: c["ok"] for c in result["checks"]}
    for rule in ("inside_compound", "no_building_overlap", "fire_lane_clear", "shed_setback"):
        assert checks[rule], rule
    garden = candidate_to_site(found, "C2", site_type="vegetable_garden", site_id="G9", name="菜园")
    assert garden["name"].iloc[0] == "菜园"
    with pytest.raises(GridGISError, match=r"no candidate_id='C999'"):
        candidate_to_site(found, "C999", site_type="vegetable_garden", site_id="X")
    with pytest.raises(GridGISError, match=r"site_id must be a non-empty text"):
        candidate_to_site(found, "C1", site_type="vegetable_garden", site_id=" ")


def test_cli_corners_writes_geojson(tmp_path, capsys):
    out = tmp_path / "corners.geojson"
    code = main(["corners", str(DATA / "dongsi180"), "-o", str(out), "--top", "5"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "survey SP1 (golden_corner): found" in printed
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    props = doc["features"][0]["properties"]
    assert set(CANDIDATE_COLUMNS) <= set(props)
    assert props["candidate_id"] == "C1" and isinstance(props["matches_space"], list)
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 103.5 < lon < 106.5 and 30 < lat < 31
    back = gpd.read_file(out)
    assert back.is_valid.all() and len(back) == len(find_corners(open_project(DATA / "dongsi180")))


def test_cli_corners_bad_project_exits_2(tmp_path, capsys):
    code = main(["corners", str(tmp_path / "nowhere")])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and "nowhere' does not exist" in err


def test_benchmark_module_runs_small():
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from synthetic import synthetic_district
    finally:
        sys.path.pop(0)
    project = synthetic_district(60, 10)
    found = find_corners(project)
    # 10 compounds of 6 slabs: each has 4 corners where its walls meet
    assert (found["kind"] == "corner").sum() >= 40
    _assert_clear(found, project)
