import json
import re
import subprocess
import sys

import pytest

from gridgis.cli import main

from .conftest import BAD, DATA

# every malformed input kept in tests/data/bad and what its message must say
BAD_CASES = {
    "buildings_missing_households.geojson": r"layer buildings, field households: required "
    r"column 'households' is missing",
    "buildings_negative_households.geojson": r"layer buildings, feature building_id='B3' "
    r"\(row 3\), field households: households must be >= 0, got -5",
    "buildings_households_text.geojson": r"feature building_id='B3' \(row 3\), field "
    r"households: households must be a number, got 'many'",
    "buildings_fractional_households.geojson": r"field households: households must be a whole "
    r"number, got 12\.5",
    "buildings_self_intersecting.geojson": r"feature building_id='B3' \(row 3\), field "
    r"geometry: invalid geometry: Self-intersection.*make_valid",
    "buildings_point_geometry.geojson": r"feature building_id='B3' \(row 3\), field geometry: "
    r"geometry is a Point, expected Polygon",
    "buildings_duplicate_ids.geojson": r"feature building_id='B1' \(row 3\), field "
    r"building_id: duplicate id 'B1' \(also row 1\)",
    "buildings_empty_geometry.geojson": r"feature building_id='B3' \(row 3\), field geometry: "
    r"geometry is empty",
    "buildings_latlon_swapped.geojson": r"feature building_id='B3' \(row 3\), field geometry: "
    r"coordinates .* look like latitude/longitude swapped",
    "buildings_truncated.geojson": r"buildings_truncated\.geojson.*(not valid|cannot|failed)",
    "buildings_empty_file.geojson": r"buildings_empty_file\.geojson.*(empty|0 bytes)",
    "buildings_projected_no_prj.zip": r"buildings_projected_no_prj\.zip.*no CRS.*EPSG:4544",
    "buildings_no_shp.zip": r"buildings_no_shp\.zip.*\.shp",
    "sites_unknown_type.geojson": r"layer sites, feature site_id='S1' \(row 1\), field "
    r"site_type: site_type 'helipad' is not one of parking_shed",
    "paths_bad_kind.geojson": r"feature path_id='P1' \(row 1\), field kind: kind 'highway' is "
    r"not one of road, fire_lane, footpath",
    "compound_missing_name.geojson": r"layer compound, field name: required column 'name' is "
    r"missing \(columns found: 名称",
    "microgrids_missing_grid_id.geojson": r"layer microgrids, field grid_id: required column "
    r"'grid_id' is missing",
    "votes_bad_vote.csv": r"layer votes, feature row 2, field vote: vote 'maybe' is not one of "
    r"agree, oppose, abstain",
    "votes_duplicate_household.csv": r"layer votes, feature row 2, field household: household "
    r"'1-101' is listed twice for site 'S1'",
}


def test_every_bad_file_has_a_case():
    assert sorted(p.name for p in BAD.iterdir() if p.is_file()) == sorted(BAD_CASES)
    assert len(BAD_CASES) >= 12


@pytest.mark.parametrize("name", sorted(BAD_CASES))
def test_validate_bad_input_exits_2_naming_what_and_where(name, capsys):
    code = main(["validate", str(BAD / name)])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert name in err
    assert re.search(BAD_CASES[name], err), err
    assert "Traceback" not in err


def test_validate_console_script_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "gridgis.cli", "validate", str(BAD / "buildings_truncated.geojson")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3


def test_validate_projected_file_with_crs_option_is_valid(capsys):
    code = main(["validate", str(BAD / "buildings_projected_no_prj.zip"), "--crs", "EPSG:4544",
                 "--layer", "buildings"])  # fmt: skip
    out, err = capsys.readouterr()
    # the shapefile cut building_id to building_i; gridgis restores the contract name
    assert code == 0, err
    assert "valid" in out and "no CRS" not in err


def test_validate_repair_writes_valid_copy(tmp_path, capsys):
    out_file = tmp_path / "fixed.geojson"
    code = main(["validate", str(BAD / "buildings_self_intersecting.geojson"),
                 "--repair", str(out_file)])  # fmt: skip
    out, _ = capsys.readouterr()
    assert code == 2  # the input is still invalid
    assert "repaired 1 geometries with make_valid (rows 3)" in out
    assert main(["validate", str(out_file), "--layer", "buildings"]) == 0


def test_validate_samples_are_valid(capsys):
    for path in (DATA / "dongsi180", DATA / "shaxi_f", DATA / "shaxi_f.gpkg"):
        assert main(["validate", str(path)]) == 0, capsys.readouterr()


def test_validate_unknown_layer_name(tmp_path, capsys):
    f = tmp_path / "stuff.geojson"
    f.write_text('{"type":"FeatureCollection","features":[]}')
    assert main(["validate", str(f)]) == 2
    assert "cannot tell which layer" in capsys.readouterr().err


def test_info_sample_a(capsys):
    assert main(["info", str(DATA / "dongsi180")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"households\s+308\b", out)
    assert "buildings: 4" in out
    assert "EPSG:4544" in out
    assert main(["info", str(DATA / "dongsi180"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["households"] == 308 and summary["layers"]["buildings"] == 4


def test_info_sample_b_gpkg(capsys):
    assert main(["info", str(DATA / "shaxi_f.gpkg"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["households"] == 70


def test_info_missing_project(tmp_path, capsys):
    assert main(["info", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_convert_wgs84_to_gcj02_and_back(tmp_path, capsys):
    src = DATA / "dongsi180" / "buildings.geojson"
    gcj = tmp_path / "b_gcj.geojson"
    back = tmp_path / "b_back.gpkg"
    assert main(["convert", str(src), str(gcj), "--to", "gcj02"]) == 0
    assert main(["convert", str(gcj), str(back), "--from", "gcj02", "--layer", "buildings"]) == 0
    import geopandas as gpd
    import pyogrio

    a = gpd.read_file(src, engine="pyogrio").to_crs(4544)
    g = gpd.read_file(gcj, engine="pyogrio").to_crs(4544)
    b = pyogrio.read_dataframe(back, layer="buildings").to_crs(4544)
    shift = a.centroid.distance(g.centroid)
    assert ((shift > 300) & (shift < 400)).all(), shift
    assert a.centroid.distance(b.centroid).max() < 0.1
