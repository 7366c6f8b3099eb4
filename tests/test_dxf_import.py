"""CAD (DXF) import: drawings built here with ezdxf, imported, placed, named, reported."""

from __future__ import annotations

import math
from pathlib import Path

import ezdxf
import numpy as np
import pyproj
import pytest

from gridgis.cli import main
from gridgis.core.imports.dxf import DEFAULT_MAPPING, import_dxf, read_dxf, read_mapping
from gridgis.core.project import open_project
from gridgis.errors import CRSError, GridGISError, ReadError

GK = "EPSG:4544"  # CGCS2000 3-degree Gauss-Kruger CM 105E (Chengdu)
ORIGIN = (104.0600, 30.6600)
TO_GK = pyproj.Transformer.from_crs(4326, GK, always_xy=True)
GEOD = pyproj.Geod(ellps="WGS84")
X0, Y0 = TO_GK.transform(*ORIGIN)


def rect(x: float, y: float, w: float, h: float) -> list[tuple[float, float]]:
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


def gk(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Local metres from ORIGIN -> EPSG:4544 metres."""
    return [(X0 + x, Y0 + y) for x, y in points]


def site_plan(path: Path, *, to=gk, extra=None) -> Path:
    """A small compound: red line, three buildings (two numbered), road, fire lane, green."""
    doc = ezdxf.new()
    msp = doc.modelspace()
    msp.add_lwpolyline(to(rect(0, 0, 200, 150)), close=True, dxfattribs={"layer": "用地红线"})
    for i, x in enumerate((20, 80, 140)):
        msp.add_lwpolyline(to(rect(x, 90, 40, 12)), close=True, dxfattribs={"layer": "建筑"})
        del i
    (tx, ty), (mx, my) = to([(30, 95)])[0], to([(90, 95)])[0]
    msp.add_text("3栋", dxfattribs={"layer": "文字", "insert": (tx, ty)})
    msp.add_mtext("5 号楼", dxfattribs={"layer": "文字", "insert": (mx, my)})
    ox, oy = to([(500, 500)])[0]
    msp.add_text("远处", dxfattribs={"layer": "文字", "insert": (ox, oy)})
    msp.add_lwpolyline(to([(0, 60), (200, 60)]), dxfattribs={"layer": "道路"})
    msp.add_line(*to([(100, 0), (100, 60)]), dxfattribs={"layer": "消防车道"})
    msp.add_lwpolyline(to(rect(10, 10, 30, 30)), close=True, dxfattribs={"layer": "绿地"})
    msp.add_lwpolyline(to([(150, 10), (190, 10), (190, 40)]), dxfattribs={"layer": "建筑"})
    msp.add_line(*to([(0, 0), (5, 5)]), dxfattribs={"layer": "标注"})
    msp.add_circle(to([(60, 30)])[0], 2, dxfattribs={"layer": "绿地"})
    if extra:
        extra(msp)
    doc.saveas(path)
    return path


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    return site_plan(tmp_path / "总平面.dxf")


@pytest.mark.parametrize(("pattern", "target"), DEFAULT_MAPPING)
def test_every_default_mapping(tmp_path: Path, pattern: str, target) -> None:
    layer, kind = target
    doc = ezdxf.new()
    name = f"A-{pattern}-01"
    doc.modelspace().add_lwpolyline(gk(rect(0, 0, 20, 10)), close=True, dxfattribs={"layer": name})
    result = read_dxf(doc_path := _save(doc, tmp_path), crs=GK)
    assert result.counts == {layer: 1}, doc_path
    frame = result.project.layers[layer]
    if kind:
        assert frame["kind"].tolist() == [kind]
    assert result.unmapped_layers == {}


def _save(doc, tmp_path: Path) -> Path:
    path = tmp_path / "one.dxf"
    doc.saveas(path)
    return path


def test_latin_layer_names_match_case_insensitively(tmp_path: Path) -> None:
    doc = ezdxf.new()
    doc.modelspace().add_lwpolyline(gk(rect(0, 0, 9, 9)), close=True, dxfattribs={"layer": "Bldg"})
    mapping = (("BLDG", ("buildings", None)),)
    assert read_dxf(_save(doc, tmp_path), crs=GK, mapping=mapping).counts == {"buildings": 1}


def test_site_plan_layers_names_and_report(plan: Path) -> None:
    result = read_dxf(plan, crs=GK)
    assert result.counts == {"compound": 1, "buildings": 3, "spaces": 1, "paths": 2}
    b = result.project.layers["buildings"].sort_values("building_id")
    assert b["building_id"].tolist() == ["B1", "B3", "B5"]  # unnamed: smallest free id
    names = b.set_index("building_id")["name"]
    assert names.isna()["B1"] and names[["B3", "B5"]].tolist() == ["3栋", "5 号楼"]
    paths = result.project.layers["paths"]
    assert sorted(paths["kind"]) == ["fire_lane", "road"]
    assert set(paths.geom_type) == {"LineString"}
    assert result.project.layers["spaces"]["kind"].tolist() == ["green"]
    assert result.project.layers["compound"]["name"].tolist() == ["总平面"]
    assert result.unmapped_layers == {"标注": 1}
    assert [(e.layer, e.dxftype, e.target) for e in result.unclosed] == [
        ("建筑", "LWPOLYLINE", "buildings")
    ]
    assert result.skipped == {"CIRCLE": 1}
    assert result.unused_texts == ["'远处' (CAD layer '文字')"]
    text = "\n".join(result.lines())
    assert "标注" in text and "unclosed outline" in text and "CIRCLE" in text


def test_crs_placement_within_a_tenth_of_a_metre(plan: Path) -> None:
    result = read_dxf(plan, crs=GK)
    compound = result.project.layers["compound"].geometry.iloc[0]
    got = np.array(compound.exterior.coords)[:-1]
    to_ll = pyproj.Transformer.from_crs(GK, 4326, always_xy=True)
    want = np.column_stack(to_ll.transform(*np.array(gk(rect(0, 0, 200, 150))).T))
    for lon, lat in want:  # the ring may start elsewhere or run the other way
        _, _, dist = GEOD.inv(np.full(len(got), lon), np.full(len(got), lat), got[:, 0], got[:, 1])
        assert dist.min() < 0.1
    _, _, d = GEOD.inv(ORIGIN[0], ORIGIN[1], *want[0])
    assert d < 0.1  # the drawing's (0, 0) is ORIGIN
    area = abs(GEOD.geometry_area_perimeter(compound)[0])
    assert area == pytest.approx(200 * 150, rel=2e-3)  # GK scale near CM 105E


def test_two_control_points_place_a_local_drawing(tmp_path: Path) -> None:
    angle = math.radians(30)
    c, s = math.cos(angle), math.sin(angle)

    def true_gk(points):  # local drawing metres -> where they truly lie in EPSG:4544
        return [(X0 + c * x - s * y, Y0 + s * x + c * y) for x, y in points]

    path = site_plan(tmp_path / "local.dxf", to=lambda pts: pts)
    to_ll = pyproj.Transformer.from_crs(GK, 4326, always_xy=True)
    (a, b), (e, f) = (to_ll.transform(*p) for p in true_gk([(0, 0), (200, 150)]))
    result = read_dxf(path, control=[(0, 0, a, b), (200, 150, e, f)])
    assert "2 control points" in result.placement
    building = result.project.layers["buildings"].sort_values("building_id").geometry.iloc[1]
    got = np.array(building.exterior.coords)[:-1]
    want = np.column_stack(to_ll.transform(*np.array(true_gk(rect(20, 90, 40, 12))).T))
    for lon, lat in want:
        _, _, dist = GEOD.inv(np.full(len(got), lon), np.full(len(got), lat), got[:, 0], got[:, 1])
        assert dist.min() < 0.1


def test_custom_mapping_file(tmp_path: Path) -> None:
    def extra(msp):
        msp.add_lwpolyline(gk(rect(60, 20, 20, 10)), close=True, dxfattribs={"layer": "MY-BLDG"})
        msp.add_lwpolyline(gk([(0, 140), (200, 140)]), dxfattribs={"layer": "Fire"})

    path = site_plan(tmp_path / "p.dxf", extra=extra)
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[layers]\n"my-bldg" = "buildings"\n"FIRE" = "paths:fire_lane"\n"标注" = "ignore"\n'
        '"绿地" = "spaces:storage"\n',
        encoding="utf-8",
    )
    result = read_dxf(path, crs=GK, mapping=read_mapping(mapping))
    assert result.counts["buildings"] == 4
    assert sorted(result.project.layers["paths"]["kind"]) == ["fire_lane", "fire_lane", "road"]
    assert result.project.layers["spaces"]["kind"].tolist() == ["storage"]
    assert result.unmapped_layers == {} and result.ignored_layers == {"标注": 1}
    only = tmp_path / "only.toml"
    only.write_text('replace_defaults = true\n[layers]\n"MY-BLDG" = "buildings"\n', "utf-8")
    result = read_dxf(path, crs=GK, mapping=read_mapping(only))
    assert result.counts == {"buildings": 1}
    assert "用地红线" in result.unmapped_layers


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[layers]\n"X" = "roads"\n', "'X' = 'roads': not a layer"),
        ('[layers]\n"X" = "paths:river"\n', "paths has no kind 'river'"),
        ("[layers\n", "not a TOML file"),
        ("[other]\n", r"needs a \[layers\] table"),
    ],
)
def test_bad_mapping_file(tmp_path: Path, text: str, match: str) -> None:
    mapping = tmp_path / "bad.toml"
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(GridGISError, match=match):
        read_mapping(mapping)


def test_placement_errors(plan: Path, tmp_path: Path) -> None:
    with pytest.raises(GridGISError, match="give --crs EPSG"):
        read_dxf(plan)
    with pytest.raises(CRSError, match="'EPSG:999999' is not a known CRS"):
        read_dxf(plan, crs="EPSG:999999")
    with pytest.raises(CRSError, match="not a projected"):
        read_dxf(plan, crs="EPSG:4326")
    local = site_plan(tmp_path / "local.dxf", to=lambda pts: pts)
    with pytest.raises(CRSError, match=r"outside EPSG:4544.s area.*--control"):
        read_dxf(local, crs=GK)
    with pytest.raises(GridGISError, match="not both"):
        read_dxf(plan, crs=GK, control=[(0, 0, 104, 30), (1, 1, 104.1, 30.1)])


def test_corrupt_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dxf"
    bad.write_bytes(b"\x00\x01 this is not a drawing\n" * 10)
    with pytest.raises(ReadError, match=r"bad\.dxf"):
        read_dxf(bad, crs=GK)
    with pytest.raises(ReadError, match="no such file"):
        read_dxf(tmp_path / "missing.dxf", crs=GK)


def test_cli_imports_and_the_project_validates(plan: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "site"
    assert main(["import-dxf", str(plan), "-o", str(out), "--crs", GK]) == 0
    printed = capsys.readouterr().out
    assert "buildings: 3" in printed and "'标注' (1)" in printed and "unclosed outline" in printed
    project = open_project(out)
    assert len(project.layers["buildings"]) == 3 and project.name == "总平面"
    assert main(["validate", str(out)]) == 0
    assert main(["info", str(out)]) == 0
    # the same target again: refused, nothing overwritten
    assert main(["import-dxf", str(plan), "-o", str(out), "--crs", GK]) == 2
    assert "already exists" in capsys.readouterr().err


def test_cli_control_points_and_gpkg(tmp_path: Path, capsys) -> None:
    path = site_plan(tmp_path / "local.dxf", to=lambda pts: pts)
    out = tmp_path / "site.gpkg"
    args = ["import-dxf", str(path), "-o", str(out), "--control", "0,0,104.06,30.66",
            "--control", "200,0,104.0621,30.66"]  # fmt: skip
    assert main(args) == 0
    assert "2 control points" in capsys.readouterr().out
    assert len(open_project(out).layers["buildings"]) == 3


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ([], "give --crs EPSG"),
        (["--crs", "EPSG:nope"], "'EPSG:nope' is not a known CRS"),
        (["--control", "1,2,3"], "--control '1,2,3': give X,Y,LON,LAT"),
        (["--crs", GK, "--mapping", "nope.toml"], "--mapping 'nope.toml': cannot read"),
    ],
)
def test_cli_errors_exit_2(plan: Path, tmp_path: Path, capsys, extra, match) -> None:
    assert main(["import-dxf", str(plan), "-o", str(tmp_path / "o"), *extra]) == 2
    err = capsys.readouterr().err
    assert match in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_cli_corrupt_file_exit_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "broken.dxf"
    bad.write_text("0\nSECTION\n2\nENTITIES\n0\nLWPOLYLINE\n8\n", encoding="utf-8")
    assert main(["import-dxf", str(bad), "-o", str(tmp_path / "o"), "--crs", GK]) == 2
    err = capsys.readouterr().err
    assert "broken.dxf" in err and "internal error" not in err


def test_import_dxf_writes_a_folder(plan: Path, tmp_path: Path) -> None:
    result = import_dxf(plan, tmp_path / "p", crs=GK)
    assert result.path == tmp_path / "p"
    assert {f.name for f in (tmp_path / "p").glob("*.geojson")} >= {
        "compound.geojson",
        "buildings.geojson",
    }
