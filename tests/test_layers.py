import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely import Point, Polygon

from gridgis.core.schema import LAYER_NAMES, REQUIRED_LAYERS
from gridgis.core.validate import check_layers, repair_geometries, validate_layer, validate_layers
from gridgis.errors import GridGISError, ValidationError


def test_contract_names():
    assert LAYER_NAMES == (
        "compound", "microgrids", "buildings", "spaces", "paths", "sites", "votes"
    )  # fmt: skip
    assert REQUIRED_LAYERS == ("compound", "buildings")


def test_clean_layers_have_no_problems(tiny_layers):
    assert validate_layers(tiny_layers) == []


def test_every_problem_reported_at_once(tiny_layers):
    b = tiny_layers["buildings"].copy()
    b.loc[0, "households"] = -3
    b.loc[1, "building_id"] = "B1"
    geoms = b.geometry.to_numpy().copy()
    geoms[1] = Point(104.0, 30.6)
    b = b.set_geometry(gpd.GeoSeries(geoms, index=b.index, crs=4326))
    problems = validate_layer(b, "buildings", source="b.geojson")
    text = [str(p) for p in problems]
    assert len(problems) == 3, text
    assert any("building_id='B1' (row 1), field households" in t and "-3" in t for t in text)
    assert any("duplicate id 'B1'" in t for t in text)
    assert any("field geometry: geometry is a Point, expected Polygon" in t for t in text)
    assert all(t.startswith("b.geojson: layer buildings") for t in text)


def test_self_intersection_offers_make_valid(tiny_layers):
    b = tiny_layers["buildings"].copy()
    x, y = 104.0, 30.67
    bowtie = Polygon([(x, y), (x + 1e-3, y + 1e-3), (x + 1e-3, y), (x, y + 1e-3)])
    geoms = b.geometry.to_numpy().copy()
    geoms[0] = bowtie
    b = b.set_geometry(gpd.GeoSeries(geoms, index=b.index, crs=4326))
    (problem,) = validate_layer(b, "buildings")
    assert "Self-intersection" in problem.message and "make_valid" in problem.fix
    repaired, rows = repair_geometries(b)
    assert rows == [0]
    assert shapely.is_valid(repaired.geometry.to_numpy()).all()
    assert repaired.geometry.iloc[0].geom_type in ("Polygon", "MultiPolygon")
    assert repaired.geometry.iloc[0].area == pytest.approx(bowtie.buffer(0).area * 2, rel=1e-6)
    assert b.geometry.iloc[0].equals(bowtie)  # input untouched


def test_missing_households_column_is_error_unless_derivable(tiny_layers):
    b = tiny_layers["buildings"].drop(columns=["households"])
    (problem,) = validate_layer(b, "buildings")
    assert problem.severity == "warning" and "derived" in problem.message
    b2 = b.drop(columns=["units"])
    (problem,) = validate_layer(b2, "buildings")
    assert problem.severity == "error"
    assert "required column 'households' is missing" in problem.message


def test_empty_households_value_is_a_warning(tiny_layers):
    b = tiny_layers["buildings"].copy()
    b["households"] = b["households"].astype("float")
    b.loc[1, "households"] = None
    (problem,) = validate_layer(b, "buildings")
    assert problem.severity == "warning" and "not counted as 0" in problem.message


def test_projected_and_swapped_coordinates(tiny_layers):
    b = tiny_layers["buildings"].copy()
    geoms = b.geometry.to_numpy().copy()
    geoms[0] = shapely.box(402000, 3393000, 402040, 3393011)
    geoms[1] = shapely.transform(geoms[1], lambda c: c[:, ::-1])
    b = b.set_geometry(gpd.GeoSeries(geoms, index=b.index, crs=4326))
    p0, p1 = validate_layer(b, "buildings")
    assert "outside the lon/lat range" in p0.message and "EPSG:4544" in p0.fix
    assert "swapped" in p1.message


def test_wrong_crs_is_reported(tiny_layers):
    b = tiny_layers["buildings"].to_crs(4544)
    problems = validate_layer(b, "buildings")
    assert any("not EPSG:4326" in p.message for p in problems)


def test_enums_and_site_types_from_settings(tiny_layers):
    s = tiny_layers["sites"].copy()
    s.loc[0, "site_type"] = "pavilion"
    (problem,) = validate_layer(s, "sites")
    assert "'pavilion' is not one of parking_shed" in problem.message
    assert validate_layer(s, "sites", site_types=["pavilion"]) == []


def test_duplicate_ids_next_to_a_missing_id_are_reported(tiny_layers):
    s = pd.concat([tiny_layers["sites"]] * 3, ignore_index=True).iloc[:3].copy()
    s["site_id"] = pd.Series(["S1", None, " S1"], dtype="str")
    problems = validate_layer(s, "sites")
    assert [(p.message, p.feature) for p in problems] == [
        ("'site_id' is empty", "row 2"),
        ("duplicate id 'S1' (also row 1)", "site_id=' S1' (row 3)"),
    ]
    s["site_id"] = [1, None, 1.0]  # numbers: compared as text, like "1.0"
    (problem,) = [p for p in validate_layer(s, "sites") if p.message.startswith("duplicate")]
    assert (problem.message, problem.feature) == (
        "duplicate id '1.0' (also row 1)",
        "site_id=1.0 (row 3)",
    )


def test_votes_table_checks():
    votes = pd.DataFrame(
        {
            "site_id": ["S1", "S1", "S1", "S1"],
            "building_id": ["B1", "B1", "B1", "B2"],
            "household": ["101", "102", "101", "101"],
            "area_m2": [70, 80, 70, 60],
            "vote": ["agree", None, "oppose", "maybe"],
        }
    )
    problems = validate_layer(votes, "votes")
    messages = sorted(p.message for p in problems)
    assert len(problems) == 2, messages
    assert "household '101' is listed twice for site 'S1'" in messages[0]
    assert "vote 'maybe' is not one of agree, oppose, abstain" in messages[1]


def test_required_layers_and_vote_links(tiny_layers):
    layers = dict(tiny_layers)
    del layers["compound"]
    layers["votes"] = pd.DataFrame(
        {"site_id": ["S9"], "household": ["1"], "area_m2": [70.0], "vote": ["agree"]}
    )
    with pytest.raises(ValidationError, match="required layer 'compound' is missing"):
        check_layers(layers)
    warnings = check_layers({**layers, "compound": tiny_layers["compound"]})
    assert [w.message for w in warnings] == [
        "votes name site 'S9', which is not in the sites layer"
    ]


def test_unknown_layer_name():
    with pytest.raises(GridGISError, match="layer='roads' is not a gridgis layer"):
        validate_layer(gpd.GeoDataFrame(), "roads")


def test_restore_shapefile_names():
    from gridgis.core.schema import restore_shapefile_names

    df = pd.DataFrame(columns=["building_i", "households", "floor_area", "name"])
    assert list(restore_shapefile_names(df, "buildings").columns) == [
        "building_id", "households", "floor_area_m2", "name"
    ]  # fmt: skip
    both = pd.DataFrame(columns=["building_i", "building_id"])
    assert list(restore_shapefile_names(both, "buildings").columns) == ["building_i", "building_id"]
