"""The household ledger: reading CSV/XLSX ledgers, joining them to the buildings all or nothing."""

from __future__ import annotations

import io

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box

from gridgis.core.io import read_layer
from gridgis.core.ledger import building_number, join_ledger, read_ledger
from gridgis.core.schema import resolve_households
from gridgis.errors import ReadError, ValidationError

from .conftest import REPO


def _buildings(ids: list[str], names: list[str | None]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"building_id": ids, "name": names, "households": [10] * len(ids)},
        geometry=[box(i, 0, i + 0.5, 1) for i in range(len(ids))],
        crs="EPSG:4326",
    )


def _csv(text: str, encoding: str = "utf-8") -> pd.DataFrame:
    return read_ledger(text.encode(encoding), filename="ledger.csv")


@pytest.fixture
def three() -> gpd.GeoDataFrame:
    return _buildings(["B1", "B2", "B3"], ["1栋", "2栋", "3栋"])


def test_matched_and_unmatched_rows_and_buildings(three):
    ledger = _csv("building_id,households\nB1,28\nB9,40\n")
    joined = join_ledger(three, ledger)
    assert joined.matched == {2: "B1"}
    assert joined.unmatched_rows == [3]
    assert joined.unmatched_buildings == ["B2", "B3"]
    assert joined.buildings["households"].tolist() == [28, 10, 10]
    assert [p.severity for p in joined.problems] == ["warning"]
    assert "row 3" in str(joined.problems[0]) and "'B9'" in str(joined.problems[0])


@pytest.mark.parametrize(
    "text", ["3栋", "3号楼", "3幢", "3号", "3", " 3 栋 ", "３栋", "三栋", "第3栋"]
)
def test_building_number_variants_match_building_3(three, text):
    joined = join_ledger(three, _csv(f"楼栋号,户数\n{text},33\n"))
    assert joined.matched == {2: "B3"}
    assert joined.buildings["households"].tolist() == [10, 10, 33]


def test_number_matches_the_id_when_names_are_missing():
    buildings = _buildings(["B3", "B12"], [None, None])
    joined = join_ledger(buildings, _csv("名称,户数\n十二号楼,5\n3栋,6\n"))
    assert joined.matched == {2: "B12", 3: "B3"}


@pytest.mark.parametrize(
    ("text", "number"), [("A3", None), ("3-1栋", None), ("3单元", None), ("B03", 3), ("二〇栋", 20)]
)
def test_building_number_is_strict(text, number):
    assert building_number(text) == number


def test_ambiguous_match_is_a_problem_not_a_guess():
    buildings = _buildings(["B3", "B5"], ["5栋", "3栋"])  # id B3's number and name 3栋 disagree
    with pytest.raises(ValidationError) as err:
        join_ledger(buildings, _csv("name,households\n三栋,1\n"))
    assert "row 2" in str(err.value) and "matches buildings B3, B5" in str(err.value)
    # exact text wins over the number, so the written name is not ambiguous
    assert join_ledger(buildings, _csv("name,households\n3栋,1\n")).matched == {2: "B5"}


def test_id_and_name_naming_different_buildings_is_a_problem(three):
    with pytest.raises(ValidationError, match=r"row 2.*'B1' is building B1 but name '2栋'"):
        join_ledger(three, _csv("building_id,name,households\nB1,2栋,5\n"))


def test_duplicate_rows_for_one_building(three):
    with pytest.raises(ValidationError) as err:
        join_ledger(three, _csv("楼栋,户数\n3栋,30\n1栋,5\n3号楼,31\n"))
    assert len(err.value.problems) == 1
    assert "row 4" in str(err.value) and "building B3 is also given in row 2" in str(err.value)


def test_gbk_csv_bytes_with_a_title_row(three):
    text = "某小区楼栋台账,,\n楼栋号,户数(户),建筑面积(㎡)\n2号楼,56,2610.5\n\n3幢,,\n"
    ledger = _csv(text, "gbk")
    assert list(ledger.index) == [3, 5]  # the rows as the user sees them (4 is blank)
    assert ledger.attrs["headers"]["households"] == "户数(户)"
    joined = join_ledger(three, ledger)
    assert joined.matched == {3: "B2", 5: "B3"}
    assert joined.buildings["households"].tolist() == [10, 56, 10]  # blank keeps the value
    assert joined.buildings["floor_area_m2"].tolist()[1] == 2610.5


def test_utf8_bom_csv(three):
    ledger = _csv("\ufeffname,households\n1栋,7\n")
    assert list(ledger.columns) == ["name", "households"]
    assert join_ledger(three, ledger).matched == {2: "B1"}


def test_xlsx_bytes(three):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["楼栋", "户数", "单元数", "层数", "备注"])
    sheet.append(["1栋", 28, None, None, "ok"])
    sheet.append(["2栋", None, 2, 6, None])
    sheet.append(["3栋", "=B2*2", None, None, None])  # a formula is text, never evaluated
    buf = io.BytesIO()
    book.save(buf)
    ledger = read_ledger(buf.getvalue(), filename="台账.xlsx")
    assert list(ledger.columns) == ["name", "households", "units", "floors"]
    with pytest.raises(ValidationError) as err:
        join_ledger(three, ledger)
    assert "台账.xlsx: layer ledger, feature row 4, field 户数 (households)" in str(err.value)
    assert "'=B2*2'" in str(err.value) and "never evaluated" in str(err.value)
    joined = join_ledger(three, ledger.drop(index=4))
    out = joined.buildings
    assert out["households"].tolist()[:1] == [28] and pd.isna(out["households"].iloc[1])
    assert pd.isna(out["units"].iloc[0]) and out["units"].iloc[1] == 2
    assert resolve_households(out, per_floor=2)["households"].tolist() == [28, 24, 10]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("-3", "households must be >= 0, got '-3'"),
        ("2.5", "households must be a whole number, got '2.5'"),
        ("abc", "households must be a number, got 'abc'"),
        ("+5", "households must be a number, got '+5'"),
        ("@SUM(A1)", "households must be a number, got '@SUM(A1)'"),
    ],
)
def test_bad_numbers_name_row_and_column(three, cell, message):
    with pytest.raises(ValidationError) as err:
        join_ledger(three, _csv(f"name,households\n1栋,4\n2栋,{cell}\n"))
    (problem,) = err.value.problems
    assert problem.feature == "row 3" and problem.field == "households"
    assert message in problem.message


def test_every_problem_is_listed_and_nothing_is_half_applied(three):
    before = three.copy()
    ledger = _csv("名称,户数,层数\n1栋,28,0\n2栋,x,6\n1号楼,5,\n3栋,30,7\n")
    with pytest.raises(ValidationError) as err:
        join_ledger(three, ledger)
    where = [(p.feature, p.field) for p in err.value.problems]
    assert where == [("row 2", "层数 (floors)"), ("row 3", "户数 (households)"), ("row 4", None)]
    pd.testing.assert_frame_equal(three, before)


def test_files_without_key_or_value_columns_are_read_errors():
    with pytest.raises(ReadError, match="no building_id or name column"):
        _csv("foo,households\n1,2\n")
    with pytest.raises(ReadError, match="no households"):
        _csv("name,备注\n1栋,x\n")
    with pytest.raises(ReadError, match="'楼栋' and '名称' both give name"):
        _csv("楼栋,名称,户数\n1,1,2\n")


def test_round_trip_on_the_sample(tmp_path):
    buildings = read_layer(REPO / "data" / "dongsi180" / "buildings.geojson")
    before = buildings.copy()
    path = tmp_path / "ledger.csv"
    table = buildings[["name", "households", "units", "floors", "floor_area_m2"]]
    table.to_csv(path, index=False, encoding="gb18030")
    joined = join_ledger(buildings, read_ledger(path))
    assert joined.matched == {2: "B1", 3: "B2", 4: "B3", 5: "B4"}
    assert joined.unmatched_rows == [] and joined.unmatched_buildings == [] and not joined.problems
    for col in ("households", "units", "floors", "floor_area_m2"):
        assert joined.buildings[col].tolist() == before[col].tolist()
    pd.testing.assert_frame_equal(buildings, before)
