"""Tests of gridgis.core.io: reading every supported format, RFC 7946 output, atomic writes."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from gridgis.core.io import (
    as_geojson_stores,
    list_layers,
    read_gpkg_layers,
    read_layer,
    to_geojson,
    write_geojson,
    write_gpkg,
)
from gridgis.errors import CRSError, ReadError

NAME = "东四街180号院 1栋"
LON, LAT = 104.06, 30.67


def _cw_square(x: float, y: float, d: float) -> list[tuple[float, float]]:
    return [(x, y), (x, y + d), (x + d, y + d), (x + d, y), (x, y)]  # clockwise


@pytest.fixture
def buildings() -> gpd.GeoDataFrame:
    """Three buildings near 东四街: one CW exterior with a CCW hole, one CCW, one multipolygon."""
    hole = _cw_square(LON + 0.0002, LAT + 0.0002, 0.0003)[::-1]  # CCW hole: wrong for RFC 7946
    with_hole = Polygon(_cw_square(LON, LAT, 0.001), [hole])
    assert not with_hole.exterior.is_ccw and with_hole.interiors[0].is_ccw
    ccw = box(LON + 0.002, LAT, LON + 0.0031234567891, LAT + 0.0008)
    multi = shapely.MultiPolygon(
        [Polygon(_cw_square(LON + 0.004, LAT, 0.0005)), box(104.065, 30.671, 104.0655, 30.6715)]
    )
    return gpd.GeoDataFrame(
        {
            "building_id": ["B1", "B2", "B3"],
            "name": [NAME, "2栋", "3栋"],
            "households": [96, 72, 140],
        },
        geometry=[with_hole, ccw, multi],
        crs=4326,
    )


def _zip_dir(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for part in sorted(folder.iterdir()):
            zf.write(part, part.name)
    return target


def _shapefile(gdf: gpd.GeoDataFrame, folder: Path, stem: str = "buildings", **kwargs) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.shp"
    gdf = gdf.rename(columns={"building_id": "bldg_id"})  # DBF field names have <= 10 bytes
    pyogrio.write_dataframe(gdf, path, **kwargs)
    return path


def _rings(geometry: dict) -> list[tuple[list, bool]]:
    """(ring coordinates, is exterior) for every ring of a GeoJSON (Multi)Polygon."""
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [(ring, i == 0) for poly in polys for i, ring in enumerate(poly)]


# ----------------------------------------------------------------------------- GeoJSON output


def test_write_geojson_is_rfc7946(buildings, tmp_path):
    path = tmp_path / "buildings.geojson"
    write_geojson(buildings, path)
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert "crs" not in doc
    assert NAME in text  # UTF-8, not \\u escapes
    rings = [r for f in doc["features"] for r in _rings(f["geometry"])]
    assert len(rings) == 5  # B1 exterior + hole, B2, B3 two parts
    for ring, exterior in rings:
        assert shapely.LinearRing(ring).is_ccw == exterior
    for number in re.findall(r"-?\d+\.\d+", json.dumps([f["geometry"] for f in doc["features"]])):
        assert len(number.split(".")[1]) <= 7, number
    back = pyogrio.read_dataframe(path)
    expected = shapely.set_precision(buildings.geometry.to_numpy(), 1e-7)
    assert all(
        shapely.equals_exact(
            shapely.normalize(back.geometry.to_numpy()), shapely.normalize(expected), tolerance=1e-9
        )
    )
    assert back["name"].tolist() == buildings["name"].tolist()


def test_to_geojson_reprojects_and_keeps_null_geometry(buildings):
    metric = buildings.to_crs(4544)
    doc = json.loads(to_geojson(metric))
    x, y = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert abs(x - LON) < 0.01 and abs(y - LAT) < 0.01
    votes = pd.DataFrame(
        {"site_id": ["S1", "S1"], "household": ["1-101", "1-102"], "vote": ["agree", "oppose"]}
    )
    for table in (votes, gpd.GeoDataFrame(votes)):  # a GeoDataFrame with no geometry column too
        doc = json.loads(to_geojson(table))
        assert [f["geometry"] for f in doc["features"]] == [None, None]
        assert doc["features"][1]["properties"]["vote"] == "oppose"


def test_null_geometry_round_trip(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"site_id": ["S1", "S2"]},
        geometry=[None, box(LON, LAT, LON + 0.001, LAT + 0.001)],
        crs=4326,
    )
    path = tmp_path / "sites.geojson"
    write_geojson(gdf, path)
    assert '"geometry": null' in path.read_text(encoding="utf-8")
    back = read_layer(path)
    assert back.geometry.isna().tolist() == [True, False]
    assert back["site_id"].tolist() == ["S1", "S2"]


def test_write_geojson_replaces_atomically(buildings, tmp_path):
    path = tmp_path / "out.geojson"
    path.write_text("old content that is longer than nothing" * 100)
    write_geojson(buildings.iloc[:1], path)
    assert len(json.loads(path.read_text(encoding="utf-8"))["features"]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.geojson"]


# ----------------------------------------------------------------------------- reading formats


def test_read_geojson(buildings, tmp_path):
    path = tmp_path / "b.geojson"
    write_geojson(buildings, path)
    gdf = read_layer(path)
    assert gdf.crs.equals("EPSG:4326")
    assert gdf["name"].tolist() == [NAME, "2栋", "3栋"]
    assert gdf["households"].tolist() == [96, 72, 140]


def test_read_geojson_with_projected_crs_member(buildings, tmp_path):
    path = tmp_path / "b.geojson"
    pyogrio.write_dataframe(buildings.to_crs(4544), path, driver="GeoJSON")
    assert "crs" in json.loads(path.read_text(encoding="utf-8"))
    gdf = read_layer(path)
    assert gdf.crs.equals("EPSG:4326")
    assert np.allclose(gdf.total_bounds, buildings.total_bounds, atol=1e-7)


def test_read_empty_feature_collection(tmp_path):
    path = tmp_path / "none.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    gdf = read_layer(path)
    assert len(gdf) == 0 and isinstance(gdf, gpd.GeoDataFrame)
    assert gdf.crs.equals("EPSG:4326")


@pytest.fixture
def gpkg(buildings, tmp_path) -> Path:
    path = tmp_path / "project.gpkg"
    pyogrio.write_dataframe(buildings, path, layer="buildings", driver="GPKG")
    compound = gpd.GeoDataFrame(
        {"name": ["东四街180号院"]}, geometry=[buildings.union_all().envelope], crs=4326
    )
    pyogrio.write_dataframe(compound.to_crs(4544), path, layer="compound", driver="GPKG")
    return path


def test_read_gpkg_layer_by_name(gpkg, buildings):
    assert sorted(list_layers(gpkg)) == ["buildings", "compound"]
    compound = read_layer(gpkg, layer="compound")
    assert compound.crs.equals("EPSG:4326")
    assert compound["name"].tolist() == ["东四街180号院"]
    assert np.allclose(compound.total_bounds, buildings.total_bounds, atol=1e-7)
    assert read_layer(gpkg, layer="buildings")["building_id"].tolist() == ["B1", "B2", "B3"]
    upload = read_layer(gpkg.read_bytes(), filename="project.gpkg", layer="compound")
    assert upload["name"].tolist() == ["东四街180号院"]


def test_read_gpkg_ambiguous_or_unknown_layer(gpkg):
    with pytest.raises(
        ReadError, match=r"project\.gpkg.*2 layers.*'buildings'.*'compound'.*layer="
    ):
        read_layer(gpkg)
    with pytest.raises(ReadError, match=r"no layer 'sites'.*'buildings'"):
        read_layer(gpkg, layer="sites")


def test_read_zipped_shapefile_from_path_and_bytes(buildings, tmp_path):
    _shapefile(buildings, tmp_path / "shp")
    archive = _zip_dir(tmp_path / "shp", tmp_path / "楼栋.zip")
    from_path = read_layer(archive)
    from_bytes = read_layer(archive.read_bytes(), filename="C:\\fakepath\\楼栋.zip")
    for gdf in (from_path, from_bytes):
        assert gdf.crs.equals("EPSG:4326")
        assert gdf["name"].tolist() == [NAME, "2栋", "3栋"]
        assert np.allclose(gdf.total_bounds, buildings.total_bounds)
    assert list_layers(archive) == ["buildings"]


def test_zip_with_gbk_member_names(buildings, tmp_path):
    """Zips made on Chinese Windows store GBK names without the UTF-8 flag."""
    _shapefile(buildings, tmp_path / "shp", "abcd")
    archive = _zip_dir(tmp_path / "shp", tmp_path / "win.zip")
    raw = archive.read_bytes()
    archive.write_bytes(raw.replace(b"abcd.", "楼栋".encode("gbk") + b"."))  # same length
    assert list_layers(archive) == ["楼栋"]
    assert read_layer(archive)["name"].tolist()[0] == NAME


def test_read_bare_shp(buildings, tmp_path):
    shp = _shapefile(buildings, tmp_path / "shp")
    assert read_layer(shp)["households"].tolist() == [96, 72, 140]


def test_zip_with_several_shapefiles_needs_layer(buildings, tmp_path):
    _shapefile(buildings, tmp_path / "shp", "buildings")
    _shapefile(buildings.iloc[:1], tmp_path / "shp", "sites")
    archive = _zip_dir(tmp_path / "shp", tmp_path / "two.zip")
    with pytest.raises(
        ReadError, match=r"two\.zip: the file holds 2 shapefiles.*'buildings'.*'sites'.*layer="
    ):
        read_layer(archive)
    assert len(read_layer(archive, layer="sites")) == 1
    assert sorted(list_layers(archive)) == ["buildings", "sites"]


KML_TWO_FOLDERS = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>doc</name>
<Folder><name>空</name></Folder>
<Folder><name>楼栋</name><Placemark><name>1栋</name><Polygon><outerBoundaryIs><LinearRing>
<coordinates>104.06,30.67,0 104.061,30.67,0 104.061,30.671,0 104.06,30.67,0</coordinates>
</LinearRing></outerBoundaryIs></Polygon></Placemark></Folder>
<Folder><name>点</name><Placemark><name>p</name><Point><coordinates>104.06,30.67</coordinates></Point>
</Placemark></Folder></Document></kml>
"""


def test_read_kml_folders(tmp_path):
    path = tmp_path / "folders.kml"
    path.write_text(KML_TWO_FOLDERS, encoding="utf-8")
    assert list_layers(path) == ["空", "楼栋", "点"]
    with pytest.raises(
        ReadError, match=r"folders\.kml: the file holds 3 layers \['空', '楼栋', '点'\]"
    ):
        read_layer(path)  # two non-empty folders: ambiguous
    gdf = read_layer(path, layer="楼栋")
    assert gdf["Name"].tolist() == ["1栋"] and gdf.geom_type.tolist() == ["Polygon"]


def test_read_kml(buildings, tmp_path):
    path = tmp_path / "b.kml"
    pyogrio.write_dataframe(
        buildings.rename(columns={"name": "Name"}), path, driver="KML", layer="buildings"
    )
    gdf = read_layer(path)
    assert gdf.crs.equals("EPSG:4326")
    assert gdf["Name"].tolist() == [NAME, "2栋", "3栋"]
    assert not gdf.geometry.has_z.any()
    assert np.allclose(gdf.total_bounds, buildings.total_bounds)


@pytest.mark.parametrize(
    ("lon", "lat"), [("lon", "lat"), ("Longitude", "LATITUDE"), ("经度", "纬度"), ("lng", "lat")]
)
def test_read_csv_detects_coordinate_columns(tmp_path, lon, lat):
    path = tmp_path / "points.csv"
    path.write_text(
        f"name,{lon},{lat}\n{NAME},104.0601,30.6702\n2栋,104.0612,30.6711\n", encoding="utf-8"
    )
    gdf = read_layer(path)
    assert gdf["name"].tolist() == [NAME, "2栋"]
    assert gdf.geometry.x.tolist() == [104.0601, 104.0612]
    assert gdf.geometry.y.tolist() == [30.6702, 30.6711]
    assert gdf.crs.equals("EPSG:4326")


def test_read_gbk_csv_and_explicit_columns(tmp_path):
    path = tmp_path / "points.csv"
    path.write_bytes(f"名称,E,N\n{NAME},104.0601,30.6702\n".encode("gbk"))
    gdf = read_layer(path, lon_col="E", lat_col="N")
    assert gdf["名称"].tolist() == [NAME]
    assert gdf.geometry.x.tolist() == [104.0601]


def test_read_csv_bad_rows_are_named(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text(
        "name,lon,lat\na,104.06,30.67\nb,abc,30.67\nc,104.07,30.68\nd,,30.69\n", encoding="utf-8"
    )
    with pytest.raises(ReadError, match=r"points\.csv: field lon: .*row 2: 'abc', row 4: empty"):
        read_layer(path)


def test_read_csv_without_coordinates_lists_columns(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("name,households\na,3\n", encoding="utf-8")
    with pytest.raises(
        ReadError, match=r"table\.csv: no longitude column.*\['name', 'households'\]"
    ):
        read_layer(path)


# ----------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("cpg", [None, "GBK", "936"])
def test_gbk_shapefile(buildings, tmp_path, cpg):
    shp = _shapefile(buildings, tmp_path / "shp", encoding="GBK")
    dbf = shp.with_suffix(".dbf").read_bytes()
    assert NAME.encode("gbk") in dbf  # really GBK on disk
    cpg_file = shp.with_suffix(".cpg")
    if cpg is None:
        cpg_file.unlink()
    else:
        cpg_file.write_text(cpg)
    archive = _zip_dir(tmp_path / "shp", tmp_path / "gbk.zip")
    assert read_layer(archive)["name"].tolist() == [NAME, "2栋", "3栋"]


@pytest.mark.parametrize("cpg", [None, "UTF-8"])
def test_utf8_shapefile(buildings, tmp_path, cpg):
    shp = _shapefile(buildings, tmp_path / "shp")
    assert NAME.encode("utf-8") in shp.with_suffix(".dbf").read_bytes()
    if cpg is None:
        shp.with_suffix(".cpg").unlink()
    assert read_layer(shp)["name"].tolist() == [NAME, "2栋", "3栋"]


def test_chinese_field_names_gbk(buildings, tmp_path):
    gdf = buildings.rename(columns={"name": "名称", "households": "户数"})
    shp = _shapefile(gdf, tmp_path / "shp", encoding="GBK")
    shp.with_suffix(".cpg").unlink()
    back = read_layer(shp)
    assert back["名称"].tolist()[0] == NAME
    assert back["户数"].tolist() == [96, 72, 140]


def test_encoding_override(buildings, tmp_path):
    shp = _shapefile(buildings, tmp_path / "shp", encoding="GBK")
    shp.with_suffix(".cpg").write_text("UTF-8")  # a wrong .cpg
    assert read_layer(shp, encoding="GBK")["name"].tolist()[0] == NAME
    with pytest.raises(ReadError, match=r"encoding='klingon' is not a known text encoding"):
        read_layer(shp, encoding="klingon")


# ----------------------------------------------------------------------------- CRS


def test_projected_shapefile_with_prj(buildings, tmp_path):
    shp = _shapefile(buildings.to_crs(4544), tmp_path / "shp")
    gdf = read_layer(shp)
    assert gdf.crs.equals("EPSG:4326")
    assert np.allclose(gdf.total_bounds, buildings.total_bounds, atol=1e-7)
    read_layer(shp, crs="EPSG:4544")  # the same CRS as the .prj: no warning
    with pytest.warns(UserWarning, match=r"crs='EPSG:4326' ignored: the file declares its own CRS"):
        assert np.allclose(read_layer(shp, crs="EPSG:4326").total_bounds, gdf.total_bounds)


def test_projected_shapefile_without_prj(buildings, tmp_path):
    shp = _shapefile(buildings.to_crs(4544), tmp_path / "shp")
    shp.with_suffix(".prj").unlink()
    with pytest.raises(
        CRSError, match=r"buildings\.shp: layer buildings has no CRS.*x=.*crs='EPSG:4544'"
    ):
        read_layer(shp)
    gdf = read_layer(shp, crs="EPSG:4544")
    assert np.allclose(gdf.total_bounds, buildings.total_bounds, atol=1e-7)
    with pytest.raises(CRSError, match=r"crs='EPSG:999999' is not a CRS"):
        read_layer(shp, crs="EPSG:999999")


def test_lonlat_shapefile_without_prj_warns(buildings, tmp_path):
    shp = _shapefile(buildings, tmp_path / "shp")
    shp.with_suffix(".prj").unlink()
    with pytest.warns(
        UserWarning, match=r"buildings\.shp: layer buildings has no CRS.*EPSG:4326.*assumed"
    ) as rec:
        gdf = read_layer(shp)
    assert gdf.crs.equals("EPSG:4326")
    assert rec[0].filename == __file__  # points at the caller, not at gridgis/io.py


def test_geojson_without_crs_member_but_projected(buildings, tmp_path):
    path = tmp_path / "gk.geojson"
    doc = json.loads(buildings.to_crs(4544).to_json())
    doc.pop("crs", None)
    path.write_text(json.dumps(doc))
    with pytest.raises(CRSError, match=r"gk\.geojson.*has no CRS.*EPSG:4544"):
        read_layer(path)
    assert np.allclose(read_layer(path, crs=4544).total_bounds, buildings.total_bounds, atol=1e-7)


def test_datum_gcj02_shifts_a_few_hundred_metres(buildings, tmp_path):
    path = tmp_path / "b.geojson"
    write_geojson(buildings, path)
    plain = read_layer(path)
    shifted = read_layer(path, datum="gcj02")
    distance = plain.to_crs(4544).centroid.distance(shifted.to_crs(4544).centroid)
    assert ((distance > 300) & (distance < 400)).all(), distance.tolist()
    with pytest.raises(CRSError, match=r"datum='mars' is not a known datum"):
        read_layer(path, datum="mars")


# ----------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    with pytest.raises(ReadError, match=r"nope\.geojson: no such file"):
        read_layer(tmp_path / "nope.geojson")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.geojson"
    path.touch()
    with pytest.raises(ReadError, match=r"empty\.geojson: the file is empty \(0 bytes\)"):
        read_layer(path)


def test_truncated_json(tmp_path):
    path = tmp_path / "cut.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "geom')
    with pytest.raises(
        ReadError, match=r"cut\.geojson: not valid JSON: Unterminated string.*line 1"
    ):
        read_layer(path)


def test_zip_without_shapefile(tmp_path):
    archive = tmp_path / "docs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "hello")
        zf.writestr("buildings.geojson", "{}")
    with pytest.raises(
        ReadError,
        match=r"docs\.zip: the zip holds no \.shp file.*'readme\.txt'.*'buildings\.geojson'",
    ):
        read_layer(archive)


def test_corrupt_zip_and_gpkg(tmp_path):
    for name in ("bad.zip", "bad.gpkg"):
        (tmp_path / name).write_bytes(b"not really " * 50)
        with pytest.raises(ReadError, match=re.escape(name)):
            read_layer(tmp_path / name)


def test_unknown_extension(tmp_path):
    path = tmp_path / "drawing.dwg"
    path.write_bytes(b"AC1027")
    with pytest.raises(
        ReadError, match=r"drawing\.dwg: unknown file type '\.dwg'; supported: \.geojson.*\.csv"
    ):
        read_layer(path)


def test_bytes_without_filename():
    with pytest.raises(ReadError, match=r"has no file name.*filename="):
        read_layer(b'{"type": "FeatureCollection", "features": []}')


def test_bytes_geojson_with_filename(buildings):
    gdf = read_layer(to_geojson(buildings).encode("utf-8"), filename="upload.geojson")
    assert gdf["name"].tolist() == [NAME, "2栋", "3栋"]


# ----------------------------------------------------------------------------- GeoPackage projects


def test_write_gpkg_round_trip_with_attribute_table(buildings, tmp_path):
    votes = pd.DataFrame(
        {
            "site_id": ["S1", "S1"],
            "household": ["1-101", "1-102"],
            "area_m2": [80.5, 90.0],
            "vote": ["agree", "oppose"],
        }
    )
    path = tmp_path / "project.gpkg"
    write_gpkg(
        {"buildings": buildings.to_crs(4544), "votes": votes, "t": gpd.GeoDataFrame(votes)}, path
    )
    layers = read_gpkg_layers(path)
    assert sorted(layers) == ["buildings", "t", "votes"]
    pd.testing.assert_frame_equal(layers["t"], votes, check_dtype=False)
    assert isinstance(layers["buildings"], gpd.GeoDataFrame)
    assert layers["buildings"].crs.equals("EPSG:4326")
    assert np.allclose(layers["buildings"].total_bounds, buildings.total_bounds, atol=1e-7)
    assert layers["buildings"]["name"].tolist() == [NAME, "2栋", "3栋"]
    assert not isinstance(layers["votes"], gpd.GeoDataFrame)
    pd.testing.assert_frame_equal(layers["votes"], votes, check_dtype=False)
    attr_only = read_layer(path, layer="votes")
    assert isinstance(attr_only, gpd.GeoDataFrame) and attr_only.geometry.isna().all()


def test_write_gpkg_replaces_not_appends(buildings, tmp_path):
    path = tmp_path / "project.gpkg"
    write_gpkg({"buildings": buildings, "old": buildings}, path)
    write_gpkg({"buildings": buildings.iloc[:1]}, path)
    assert list_layers(path) == ["buildings"]
    assert len(read_layer(path)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project.gpkg"]


def test_write_gpkg_failure_leaves_target_untouched(buildings, tmp_path):
    path = tmp_path / "project.gpkg"
    write_gpkg({"buildings": buildings}, path)
    before = path.read_bytes()
    no_crs = gpd.GeoDataFrame({"a": [1]}, geometry=[box(500000, 3400000, 500010, 3400010)])
    with pytest.raises(CRSError, match=r"layer bad.*no CRS"):
        write_gpkg({"buildings": buildings.iloc[:1], "bad": no_crs}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project.gpkg"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(103.0, 105.0), st.floats(30.0, 31.5)), min_size=3, max_size=12),
    st.booleans(),
)
def test_as_geojson_stores_matches_a_real_round_trip(points, clockwise):
    hull = shapely.convex_hull(shapely.MultiPoint(points))
    assume(hull.geom_type == "Polygon" and hull.area > 1e-12)
    ring = list(hull.exterior.coords)
    polygon = shapely.Polygon(ring[::-1] if clockwise else ring)
    frame = gpd.GeoDataFrame({"site_id": ["S1"]}, geometry=[polygon], crs=4326)
    back = read_layer(to_geojson(frame).encode(), filename="s.geojson")
    expected = shapely.to_wkb(back.geometry.iloc[0])
    assert shapely.to_wkb(as_geojson_stores(polygon)) == expected
