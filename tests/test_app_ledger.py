"""The ledger page under Streamlit's AppTest: the household ledger, micro-grids from buildings."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely.affinity
from streamlit.testing.v1 import AppTest

from app.workspace import open_sample
from gridgis.core.project import open_project
from gridgis.core.store import LayerStore
from gridgis.errors import ConflictError, ValidationError

from .apptest import APP
from .apptest import ok as _ok

PAGE = "app/pages/ledger.py"
# 3栋 and 1号楼 are buildings B3 and B1; 9号楼 is none; B2 and B4 are not in the ledger
LEDGER = "楼栋号,户数,单元数\n3栋,90,3\n1号楼,80,\n9号楼,10,\n".encode()


pytestmark = pytest.mark.usefixtures("workspace")  # tests/conftest.py


def _page(lang: str = "zh") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = lang
    _ok(at.run())
    return _ok(at.switch_page(PAGE).run())


def _households(path) -> dict[str, int]:
    b = open_project(path).layers["buildings"]
    return dict(zip(b["building_id"], b["households"].astype(int), strict=True))


def _sidebar(at: AppTest) -> str:
    return " ".join(md.value for md in at.sidebar.markdown)


def _texts(at: AppTest) -> str:
    return " ".join(md.value for md in at.markdown)


def _upload(at: AppTest, data: bytes, name: str = "台账.csv") -> AppTest:
    return _ok(at.file_uploader(key="ledger_upload").set_value((name, data, "text/csv")).run())


def test_ledger_preview_then_apply(workspace):
    at = _page()
    path = workspace / "dongsi180"
    assert "**308** 户" in _sidebar(at)
    _upload(at, LEDGER)
    assert not at.error
    matched = at.dataframe[0].value
    assert matched["行"].tolist() == [2, 3]
    assert matched["楼栋编号"].tolist() == ["B3", "B1"]
    assert matched["户数"].tolist() == [90, 80]
    texts = _texts(at)
    assert "未匹配的行：4" in texts
    assert "B2 2栋" in texts and "B4 4栋" in texts
    assert any("9号楼" in str(w) for w in at.dataframe[1].value["问题"])  # the unmatched note
    before = _households(path)
    at.button(key="ledger_apply").click().run()
    _ok(at)
    assert _households(path) == before | {"B3": 90, "B1": 80}
    assert LayerStore(path, "buildings").get("B3")["units"] == 3
    assert "**310** 户" in _sidebar(at)  # 308 - 84 - 84 + 90 + 80
    assert any("2 栋楼" in s.value for s in at.success) or any(
        "2 栋楼" in str(t.value) for t in at.toast
    )


def test_pasted_ledger_in_english(workspace):
    at = _page("en")
    _ok(at.text_area(key="ledger_paste").input("name,households\nB4,60\n").run())
    assert at.dataframe[0].value["Building id"].tolist() == ["B4"]
    at.button(key="ledger_apply").click().run()
    assert _households(_ok(at) and workspace / "dongsi180")["B4"] == 60
    assert "**312** households" in _sidebar(at)


def test_a_bad_ledger_lists_row_and_column_and_writes_nothing(workspace):
    at = _page("en")
    file = workspace / "dongsi180" / "buildings.geojson"
    before = file.read_bytes()
    _upload(at, "name,households,floors\n2栋,-5,7\n4栋,50,x\n".encode())
    assert at.error and "2 problem(s)" in at.error[0].value
    problems = at.dataframe[0].value
    assert problems["Row"].tolist() == ["row 2", "row 3"]
    assert problems["Column"].tolist() == ["Households", "Floors"]  # in the user's words
    said = ["must be at least 0, got -5", "must be a number, got 'x'"]
    assert problems["Problem"].tolist() == said
    assert not [b for b in at.button if b.key == "ledger_apply"]
    assert file.read_bytes() == before


def test_a_conflict_applies_nothing(workspace):
    at = _page("en")
    path = workspace / "dongsi180"
    _upload(at, LEDGER)
    store = LayerStore(path, "buildings")
    store.update("B3", expected_rev=store.get("B3")["rev"], name="3栋（改）")  # another session
    at.button(key="ledger_apply").click().run()
    _ok(at)
    assert at.error and "Another session" in at.error[0].value
    # B1 would have been changed too: nothing was
    assert _households(path) == {"B1": 84, "B2": 84, "B3": 84, "B4": 56}


def test_microgrids_from_buildings(workspace):
    at = _page("en")
    path = workspace / "dongsi180"
    assert list(LayerStore(path, "microgrids").load()["grid_id"]) == ["G1", "G2", "G3", "G4"]
    at.multiselect(key="mgrid_buildings").set_value(["B1", "B2"]).run()
    assert [m.value for m in at.metric] == ["168"]
    at.text_input(key="mgrid_name").input("North").run()
    at.text_input(key="mgrid_leader").input("王阿姨").run()
    _ok(at.button(key="mgrid_make").click().run())
    assert not at.error
    at.multiselect(key="mgrid_buildings").set_value(["B3", "B4"]).run()
    _ok(at.button(key="mgrid_make").click().run())
    grids = LayerStore(path, "microgrids").load().set_index("grid_id")
    assert list(grids.index) == ["G1", "G2", "G3", "G4", "G5", "G6"]
    assert grids.loc["G5", ["name", "leader", "households"]].tolist() == ["North", "王阿姨", 168]
    assert grids.loc["G6", ["name", "households", "building_ids"]].tolist() == ["G6", 140, "B3,B4"]
    metric = open_project(path).metric_crs()
    made = gpd.GeoSeries(grids.loc[["G5", "G6"]].geometry, crs=4326).to_crs(metric)
    compound = open_project(path).layers["compound"].to_crs(metric).union_all()
    # stored to 1e-7 degrees (about 1 cm): they do not overlap, and they tile the compound
    assert made.iloc[0].intersection(made.iloc[1]).area < 0.5  # m²
    assert made.union_all().symmetric_difference(compound).area < 1e-4 * compound.area
    assert "**6** micro-grids" in _sidebar(at)
    assert "G6" in at.dataframe[-1].value["Id"].tolist()


def test_a_building_outside_the_compound_is_an_error_not_a_traceback(workspace):
    path = workspace / open_sample("dongsi180")
    store = LayerStore(path, "buildings")
    b4 = store.get("B4")
    away = shapely.affinity.translate(b4["geometry"], xoff=0.01)  # about 1 km east
    store.update("B4", expected_rev=b4["rev"], geometry=away)
    at = _page("en")
    at.multiselect(key="mgrid_buildings").set_value(["B4"]).run()
    _ok(at.button(key="mgrid_make").click().run())
    assert at.error and at.error[0].value.startswith("Cannot make the micro-grid")
    assert "no share of the compound" in at.error[0].value
    assert list(LayerStore(path, "microgrids").load()["grid_id"]) == ["G1", "G2", "G3", "G4"]


# --- the store's bulk update the page applies a ledger with ---------------------------------


def test_update_many_writes_all_or_nothing(workspace):
    path = workspace / open_sample("dongsi180")
    store = LayerStore(path, "buildings")
    file = path / "buildings.geojson"
    revs = {r["building_id"]: r["rev"] for r in store.load().to_dict("records")}
    before = file.read_bytes()
    with pytest.raises(ValidationError, match="households"):
        store.update_many({"B1": {"households": 90}, "B2": {"households": -1}}, expected_revs=revs)
    with pytest.raises(ConflictError, match="'B2' was changed by another session"):
        store.update_many({"B1": {"households": 90}, "B2": {"households": 9}},
                          expected_revs=revs | {"B2": 7})  # fmt: skip
    with pytest.raises(ConflictError, match="'B9' was deleted"):
        store.update_many({"B1": {"households": 90}, "B9": {"households": 9}}, expected_revs=revs)
    assert file.read_bytes() == before
    rows = store.update_many({"B1": {"households": 90, "note": "台账"}, "B4": {"floors": 6}},
                             expected_revs=revs)  # fmt: skip
    assert [(r["building_id"], r["rev"]) for r in rows] == [("B1", 2), ("B4", 2)]
    assert _households(path)["B1"] == 90 and store.get("B4")["floors"] == 6
    assert store.get("B1")["note"] == "台账" and store.get("B2")["rev"] == 1
