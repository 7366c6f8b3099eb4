import json
import signal
import subprocess
import sys
import textwrap
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import box

from gridgis.core.project import Project, open_project, save_project
from gridgis.core.settings import settings_from_toml
from gridgis.errors import ProjectError, ValidationError

from .conftest import DATA


@pytest.mark.parametrize("target", ["proj", "proj.gpkg"])
def test_save_and_open_round_trip(tiny_layers, tmp_path, target):
    settings = settings_from_toml('[general]\nlanguage = "en"\n')
    project = Project(layers=tiny_layers, settings=settings)
    path = save_project(project, tmp_path / target)
    again = open_project(path)
    assert set(again.layers) == set(tiny_layers)
    assert again.settings == settings
    assert again.name == "测试小区 <b>x</b>"
    for name, frame in tiny_layers.items():
        got = again.layers[name]
        assert len(got) == len(frame)
        assert got.crs.equals("EPSG:4326")
        # 7 decimals of a degree is ~1 cm: geometry is the same to that precision
        assert np.allclose(
            got.to_crs(4544).geometry.length.to_numpy(),
            frame.to_crs(4544).geometry.length.to_numpy(),
            atol=0.05,
        )
    assert again.summary()["households"] == 84


def test_votes_layer_without_geometry_round_trips(tiny_layers, tmp_path):
    votes = pd.DataFrame(
        {"site_id": ["S1", "S1"], "household": ["1-101", "1-102"], "area_m2": [70.5, 80.0],
         "vote": ["agree", None]}
    )  # fmt: skip
    project = Project(layers={**tiny_layers, "votes": gpd.GeoDataFrame(votes)})
    for target in ("p", "p.gpkg"):
        again = open_project(save_project(project, tmp_path / target))
        got = again.layers["votes"]
        assert list(got["household"]) == ["1-101", "1-102"]
        assert list(pd.to_numeric(got["area_m2"])) == [70.5, 80.0]


def test_folder_project_reads_votes_csv(tiny_layers, tmp_path):
    path = save_project(Project(layers=tiny_layers), tmp_path / "p")
    (path / "votes.csv").write_text(
        "site_id,household,area_m2,vote\nS1,1-101,70.5,agree\nS1,1-102,80,\n", encoding="utf-8"
    )
    votes = open_project(path).layers["votes"]
    assert list(votes["vote"]) == ["agree", ""]


def test_saving_drops_removed_layers(tiny_layers, tmp_path):
    project = Project(layers=tiny_layers)
    path = save_project(project, tmp_path / "p")
    del project.layers["sites"]
    save_project(project)
    assert not (path / "sites.geojson").exists()
    assert "sites" not in open_project(path).layers


def test_open_errors(tmp_path, tiny_layers):
    with pytest.raises(ProjectError, match="does not exist"):
        open_project(tmp_path / "nothing")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(ProjectError, match="neither a folder"):
        open_project(tmp_path / "x.txt")
    layers = dict(tiny_layers)
    layers["buildings"] = layers["buildings"].assign(households=[-1, 5])
    path = save_project(Project(layers=layers), tmp_path / "bad")
    with pytest.raises(ValidationError, match=r"building_id='B1' \(row 1\), field households"):
        open_project(path)
    assert open_project(path, validate=False).layers["buildings"]["households"].iloc[0] == -1


def test_bad_settings_in_project_is_named(tiny_layers, tmp_path):
    path = save_project(Project(layers=tiny_layers), tmp_path / "p")
    (path / "settings.toml").write_text("[rules]\nspeed = 3\n")
    with pytest.raises(Exception, match=r"settings\.toml: unknown setting 'rules\.speed'"):
        open_project(path)


def test_save_needs_a_path(tiny_layers):
    with pytest.raises(ProjectError, match="needs a path"):
        save_project(Project(layers=tiny_layers))


def test_samples_open():
    a = open_project(DATA / "dongsi180")
    assert a.summary()["households"] == 308
    assert a.summary()["units"] == 11
    assert a.metric_crs().to_epsg() == 4544
    b = open_project(DATA / "shaxi_f.gpkg")
    assert b.summary()["households"] == 70
    c = open_project(DATA / "shaxi_f")
    assert c.summary() | {"path": None} == b.summary() | {"path": None}


CHILD = textwrap.dedent(
    """
    import sys
    from gridgis.core.project import open_project, save_project
    project = open_project(sys.argv[1], validate=False)
    project.layers["buildings"]["households"] = 99
    print("saving", flush=True)
    save_project(project)
    print("saved", flush=True)
    """
)


def _big_project(n: int) -> Project:
    side = int(np.ceil(np.sqrt(n)))
    x0, y0 = 401000.0, 3394000.0
    ix, iy = np.divmod(np.arange(n), side)
    boxes = [box(x0 + 30 * i, y0 + 20 * j, x0 + 30 * i + 25, y0 + 20 * j + 11)
             for i, j in zip(ix, iy, strict=True)]  # fmt: skip
    buildings = gpd.GeoDataFrame(
        {"building_id": [f"B{i}" for i in range(n)], "households": 28, "name": "楼"},
        geometry=boxes, crs=4544,
    ).to_crs(4326)  # fmt: skip
    compound = gpd.GeoDataFrame(
        {"name": ["big"]}, geometry=[box(*buildings.total_bounds)], crs=4326
    )
    return Project(layers={"compound": compound, "buildings": buildings})


@pytest.mark.parametrize("target", ["big.gpkg", "big"])
def test_killed_save_leaves_previous_project_intact(tmp_path, target):
    path = save_project(_big_project(40_000), tmp_path / target)
    before = None
    if path.is_dir():
        before = sorted(p.name for p in path.iterdir() if not p.name.startswith("."))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout.readline().strip() == "saving"
    time.sleep(0.15)
    child.send_signal(signal.SIGKILL)
    rest, err = child.communicate(timeout=60)
    assert "saved" not in rest, "the save finished before the kill: make the project bigger"
    assert child.returncode == -signal.SIGKILL, err
    project = open_project(path)
    households = project.layers["buildings"]["households"]
    assert len(households) == 40_000
    assert set(households) == {28}, "previous project was modified by a killed save"
    if before is not None:
        assert sorted(p.name for p in path.iterdir() if not p.name.startswith(".")) == before
    temps = [p.name for p in path.parent.rglob(".*") if ".tmp" in p.name]
    assert temps == [], "opening the project cleans up the killed save's temporary files"


def test_summary_json_serialisable():
    assert json.dumps(open_project(DATA / "dongsi180").summary(), ensure_ascii=False)


def test_gpkg_save_keeps_foreign_tables(tiny_layers, tmp_path):
    from gridgis.core.io import list_layers, update_gpkg

    path = save_project(Project(layers=tiny_layers), tmp_path / "p.gpkg")
    update_gpkg({"layer_styles": pd.DataFrame({"styleName": ["qgis"], "f_table_name": ["x"]})},
                path)  # fmt: skip
    project = open_project(path)
    project.layers["buildings"] = project.layers["buildings"].assign(households=[30, 60])
    save_project(project)
    assert "layer_styles" in list_layers(path)
    assert open_project(path).summary()["households"] == 90
