"""gridgis.core.project.new_project: a draft folder project that opens, sums and analyses."""

from __future__ import annotations

import tomllib

import geopandas as gpd
import pytest
from shapely import box

from gridgis.analysis.engine import prepare
from gridgis.cli import main
from gridgis.core.project import check_project_name, new_project, open_project
from gridgis.errors import GridGISError


def test_new_project_writes_only_what_differs_from_defaults(tmp_path):
    folder = new_project(tmp_path / "东四", name="东四", lon=116.42, lat=39.93, grid_prefix="WG")
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "settings.toml"
    ]
    stored = tomllib.loads((folder / "settings.toml").read_text(encoding="utf-8"))
    assert stored == {
        "place": {"name": "东四", "lon": 116.42, "lat": 39.93},
        "naming": {"grid_prefix": "WG"},
    }
    at_defaults = new_project(tmp_path / "b", name="b")  # Chengdu, B and G: only the name
    assert tomllib.loads((at_defaults / "settings.toml").read_text()) == {"place": {"name": "b"}}


def test_a_draft_opens_sums_and_analyses(tmp_path):
    project = open_project(new_project(tmp_path / "d", name="d", lon=104.05, lat=30.63))
    assert project.layers == {}
    summary = project.summary()
    assert summary["households"] == 0 and summary["layers"] == {}
    assert summary["metric_crs"] == "EPSG:4544"  # CGCS2000 GK CM 105E, from the place
    assert sorted(w.layer for w in project.warnings) == ["buildings", "compound"]
    assert all(w.severity == "warning" for w in project.warnings)
    west, south, east, north = project.footprint().total_bounds
    assert west < 104.05 < east and south < 30.63 < north and east - west < 0.01
    prepared = prepare(project)
    assert len(prepared.analyze().sites) == 0
    far = gpd.GeoDataFrame({"site_id": ["S1"], "site_type": ["parking_shed"]},
                           geometry=[box(104.2, 30.7, 104.2001, 30.70008)], crs=4326)  # fmt: skip
    row = prepared.analyze(far).sites.iloc[0]
    assert row["area_m2"] > 80 and row["households_served"] == 0
    inside = next(c for c in row["checks"] if c["rule"] == "inside_compound")
    assert (inside["status"], inside["reason"]) == ("not_checked", "no_compound_layer")


def test_place_outside_china_uses_utm(tmp_path):
    project = open_project(new_project(tmp_path / "p", name="Paris", lon=2.35, lat=48.85))
    assert project.metric_crs().to_epsg() == 32631


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "is empty"),
        ("a/b", "holds '/'"),
        ("a\\b", "holds"),
        ("-x", "starts with '-'"),
        (".hidden", "starts with '.'"),
        ("x" * 65, "65 characters"),
        (" x", "space"),
        ("a:b", "holds ':'"),
    ],
)
def test_bad_names_are_refused(tmp_path, name, why):
    with pytest.raises(GridGISError, match=rf"name=.*{why}"):
        new_project(tmp_path / "p", name=name)
    assert not (tmp_path / "p").exists()


def test_good_names_and_bad_places(tmp_path):
    assert check_project_name("玉林北路 3号院") == "玉林北路 3号院"
    assert check_project_name("x" * 64) == "x" * 64
    with pytest.raises(GridGISError, match=r"lat=91"):
        new_project(tmp_path / "p", name="p", lat=91)
    with pytest.raises(GridGISError, match=r"building_prefix='B1'"):
        new_project(tmp_path / "p", name="p", building_prefix="B1")


def test_an_existing_folder_is_refused_unless_empty(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(GridGISError, match=r"folder=.*full.*already exists"):
        new_project(tmp_path / "full", name="full")
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    assert open_project(new_project(tmp_path / "empty", name="e")).name == "e"
    with pytest.raises(GridGISError, match="already exists"):
        new_project(tmp_path / "empty", name="e")


def test_cli_info_opens_a_draft_and_validate_lists_what_is_missing(tmp_path, capsys):
    folder = new_project(tmp_path / "d", name="d")
    assert main(["info", str(folder)]) == 0
    assert "households   0" in capsys.readouterr().out
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "required layer 'compound' is missing" in err
    assert "required layer 'buildings' is missing" in err
