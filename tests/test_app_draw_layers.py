"""Drawing any layer on the map page (issue 11, item 2), under AppTest: drawings go in through
state.MAP, the layer through state.DRAW_LAYER, and every check reads the project back from disk."""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import numpy as np
import pytest
from shapely import LineString, Polygon, box
from shapely.geometry import mapping
from streamlit.testing.v1 import AppTest

from app import layer_edits, state
from app.workspace import load_project
from gridgis.core.store import LayerStore, SiteStore
from gridgis.report.map.elements import DrawTools

from .apptest import APP
from .apptest import ok as _ok
from .conftest import DATA

HOUSE = box(104.07000, 30.66960, 104.07012, 30.66968)  # inside the compound, ~12 x 9 m
CORNER = box(104.07020, 30.66950, 104.07030, 30.66957)
LANE = LineString([(104.07000, 30.66950), (104.07030, 30.66950)])
GRID = box(104.06990, 30.66940, 104.07040, 30.66990)


pytestmark = pytest.mark.usefixtures("workspace")  # tests/conftest.py


@pytest.fixture
def bare(workspace):
    """A project with the sample's compound, its buildings under other ids and no other layer."""
    workspace.mkdir()
    target = workspace / "bare"
    target.mkdir()
    shutil.copy(DATA / "dongsi180" / "compound.geojson", target)
    buildings = gpd.read_file(DATA / "dongsi180" / "buildings.geojson")
    buildings["building_id"] = [f"H{i + 1}" for i in range(len(buildings))]
    buildings.to_file(target / "buildings.geojson", driver="GeoJSON")
    return target


def _app(lang: str | None = None, project: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if lang:
        at.query_params["lang"] = lang
    if project:
        at.query_params["project"] = project
    return at


def _draw(at: AppTest, *geoms) -> AppTest:
    feats = [{"type": "Feature", "properties": {}, "geometry": mapping(g)} for g in geoms]
    at.session_state[state.MAP] = {"all_drawings": feats}
    return _ok(at.run())


def _into(at: AppTest, layer: str) -> AppTest:
    at.segmented_control(key=state.DRAW_LAYER).set_value(layer)
    return _ok(at.run())


def _rows(path, layer: str) -> dict[str, dict]:
    store = LayerStore(path, layer)
    return {str(r[store.key]): r for r in store.load().to_dict("records")}


def test_draw_layer_choice_has_every_layer_and_defaults_to_sites(workspace):
    at = _ok(_app("en").run())
    choice = at.segmented_control(key=state.DRAW_LAYER)
    assert choice.value == "sites"
    assert list(choice.options) == [
        "Compound", "Buildings", "Micro-grids", "Spaces", "Paths", "Sites"
    ]  # fmt: skip
    at = _ok(_app().run())
    assert list(at.segmented_control(key=state.DRAW_LAYER).options) == [
        "小区边界", "楼栋", "微网格", "闲置空间与金角银边", "道路", "候选点位"
    ]  # fmt: skip


def test_the_layer_choice_survives_a_language_switch(workspace):
    at = _into(_ok(_app().run()), "paths")
    at.radio(key=state.LANG).set_value("en")
    at = _ok(at.run())
    assert at.segmented_control(key=state.DRAW_LAYER).value == "paths"
    assert any("saved at once as a path" in c.value for c in at.caption)


def test_a_drawn_building_gets_b1_and_its_form_saves_households(bare):
    at = _into(_ok(_app(project="bare").run()), "buildings")
    at = _draw(at, HOUSE)
    rows = _rows(bare, "buildings")
    assert set(rows) == {"H1", "H2", "H3", "H4", "B1"}
    assert rows["B1"]["rev"] == 1 and pd_missing(rows["B1"]["households"])
    assert any("B1" in toast.value for toast in at.toast)
    # the form shows B1; households typed in are saved at once
    key = state.layer_edit_key("buildings", "households", "B1", 1, "zh")
    at.number_input(key=key).set_value(36).run()
    _ok(at)
    rows = _rows(bare, "buildings")
    assert rows["B1"]["households"] == 36 and rows["B1"]["rev"] == 2
    at.text_input(key=state.layer_edit_key("buildings", "name", "B1", 2, "zh")).input("5栋").run()
    assert _rows(bare, "buildings")["B1"]["name"] == "5栋"
    # the cached project saw the write: its households include the new building's
    assert load_project(bare).summary()["households"] == 36 + sum(
        int(r["households"]) for k, r in rows.items() if k != "B1"
    )
    # a second drawing gets the next id
    at = _draw(at, box(104.07002, 30.66970, 104.07008, 30.66974))
    assert "B2" in _rows(bare, "buildings")


def pd_missing(value) -> bool:
    return value is None or value != value


def test_on_the_sample_the_next_building_id_is_the_next_free_one(workspace):
    at = _into(_ok(_app().run()), "buildings")
    _draw(at, HOUSE)
    assert "B5" in _rows(workspace / "dongsi180", "buildings")


def test_a_path_is_a_polyline_with_kind_and_width(bare):
    at = _into(_ok(_app("en", project="bare").run()), "paths")
    at = _draw(at, LANE)
    row = _rows(bare, "paths")["P1"]
    assert row["kind"] == "footpath" and row["width_m"] == 2.0
    assert row["geometry"].geom_type == "LineString"
    at.selectbox(key=state.layer_edit_key("paths", "kind", "P1", 1, "en")).set_value(
        "fire_lane"
    ).run()
    at.number_input(key=state.layer_edit_key("paths", "width_m", "P1", 2, "en")).set_value(4.5)
    _ok(at.run())
    row = _rows(bare, "paths")["P1"]
    assert (row["kind"], row["width_m"], row["rev"]) == ("fire_lane", 4.5, 3)
    # the fire lane now counts in the analysis: the sites' fire-lane check runs on it
    assert "paths" in load_project(bare).layers


def test_a_space_is_a_golden_corner_and_a_microgrid_has_name_and_leader(bare):
    at = _into(_ok(_app(project="bare").run()), "spaces")
    at = _draw(at, CORNER)
    assert _rows(bare, "spaces")["SP1"]["kind"] == "golden_corner"
    at = _into(at, "microgrids")
    at = _draw(at, GRID)
    assert _rows(bare, "microgrids")["G1"]["name"] == "G1"  # a micro-grid needs a name
    at.text_input(key=state.layer_edit_key("microgrids", "name", "G1", 1, "zh")).input("一网格")
    at.run()
    at.text_input(key=state.layer_edit_key("microgrids", "leader", "G1", 2, "zh")).input("王")
    _ok(at.run())
    row = _rows(bare, "microgrids")["G1"]
    assert (row["name"], row["leader"]) == ("一网格", "王")
    # an empty name is refused with a message naming the micro-grid and the field
    at.text_input(key=state.layer_edit_key("microgrids", "name", "G1", 3, "zh")).input("").run()
    assert any("G1" in e.value and "名称" in e.value for e in at.error), at.error
    assert _rows(bare, "microgrids")["G1"]["name"] == "一网格"


def test_a_polyline_is_refused_for_a_polygon_layer(bare):
    at = _draw(_into(_ok(_app("en", project="bare").run()), "buildings"), LANE)
    assert any("not a polygon" in e.value and "Buildings" in e.value for e in at.error)
    assert set(_rows(bare, "buildings")) == {"H1", "H2", "H3", "H4"}


def test_a_bad_value_is_a_message_naming_the_feature_and_field(bare):
    at = _draw(_into(_ok(_app("en", project="bare").run()), "buildings"), HOUSE)
    at.number_input(key=state.layer_edit_key("buildings", "floors", "B1", 1, "en")).set_value(0)
    _ok(at.run())
    errors = [e.value for e in at.error]
    assert any("Not saved" in e and "B1" in e and "Floors" in e for e in errors), errors
    assert pd_missing(_rows(bare, "buildings")["B1"]["floors"])


def test_a_stale_edit_from_another_session_is_a_conflict(bare):
    at = _draw(_into(_ok(_app(project="bare").run()), "buildings"), HOUSE)
    tablet = LayerStore(bare, "buildings")
    tablet.update("B1", expected_rev=1, households=12)
    at.number_input(key=state.layer_edit_key("buildings", "households", "B1", 1, "zh")).set_value(
        99
    ).run()
    assert any("另一会话" in e.value and "B1" in e.value for e in at.error)
    said = " ".join(e.value for e in at.error)
    assert "第 2 版" in said and "another session" not in said  # all of it in Chinese
    assert _rows(bare, "buildings")["B1"]["households"] == 12
    # the form shows what is on disk now
    now = at.number_input(key=state.layer_edit_key("buildings", "households", "B1", 2, "zh"))
    assert now.value == 12


def test_undo_removes_the_added_building_then_an_edit_is_undone_first(bare):
    at = _draw(_into(_ok(_app("en", project="bare").run()), "buildings"), HOUSE)
    at.number_input(key=state.layer_edit_key("buildings", "households", "B1", 1, "en")).set_value(8)
    _ok(at.run())
    undo = next(b for b in at.button if b.label == "Undo")
    undo.click().run()
    assert pd_missing(_rows(bare, "buildings")["B1"]["households"])  # the edit undone
    next(b for b in at.button if b.label == "Undo").click().run()
    _ok(at)
    assert "B1" not in _rows(bare, "buildings")  # then the drawing
    assert any("Undid adding B1" in toast.value for toast in at.toast)


def test_deleting_a_feature_and_undoing_it(bare):
    at = _draw(_into(_ok(_app("en", project="bare").run()), "spaces"), CORNER)
    next(b for b in at.button if b.label == "Delete").click().run()
    assert "SP1" not in _rows(bare, "spaces")
    next(b for b in at.button if b.label == "Undo").click().run()
    _ok(at)
    assert _rows(bare, "spaces")["SP1"]["kind"] == "golden_corner"


def test_a_second_compound_replaces_the_outline_and_undo_puts_it_back(workspace):
    at = _into(_ok(_app("en").run()), "compound")
    path = workspace / "dongsi180"
    ((name, old),) = _rows(path, "compound").items()
    at = _draw(at, GRID)
    ((same, new),) = _rows(path, "compound").items()
    # (vertices within 0.5 m of the sample's paths snap onto them: gridgis.core.snapping)
    assert same == name and new["geometry"].hausdorff_distance(GRID) < 6e-6
    assert any("redrawn" in toast.value for toast in at.toast)
    _ok(next(b for b in at.button if b.label == "Undo").click().run())
    ((_, back),) = _rows(path, "compound").items()
    assert back["geometry"].equals(old["geometry"])


def test_sites_mode_is_unchanged_and_the_toolbar_follows_the_layer(workspace):
    _draw(_ok(_app().run()), CORNER)  # the default layer: a site, as before
    assert list(SiteStore(workspace / "dongsi180").load()["site_id"])[-1] == "S1"
    assert "B5" not in _rows(workspace / "dongsi180", "buildings")
    assert layer_edits.TOOLS["paths"] == ("polyline",)
    assert layer_edits.TOOLS["sites"] == ("polygon", "rectangle")
    tools = DrawTools(("polyline",))
    assert tools.hidden == ["polygon", "rectangle"] and tools.shown == ["polyline"]
    with pytest.raises(ValueError, match="circle"):
        DrawTools(("circle",))


def test_the_toolbar_tools_go_with_the_feature_group_not_the_base_map(workspace):
    from app import mapwidget
    from gridgis.report.map.view import sites_layer

    sites = SiteStore(DATA / "dongsi180").load()
    lines = mapwidget.feature_group_script(sites_layer(sites, draw_tools=("polyline",)))
    shapes = mapwidget.feature_group_script(sites_layer(sites, draw_tools=("polygon",)))
    assert json.dumps(["polygon", "rectangle"]) in lines and "leaflet-draw-draw-" in lines
    assert lines != shapes


def test_a_drawn_building_is_snapped_onto_the_compound_wall_within_half_a_metre(bare):
    wall = gpd.read_file(bare / "compound.geojson").geometry.iloc[0]
    corner = np.array(wall.exterior.coords[0])
    inward = np.array(wall.centroid.coords[0]) - corner
    inward /= np.hypot(*inward)
    metre = 1 / 111_000  # degrees, near enough at this scale
    near = corner + inward * 0.2 * metre  # 0.2 m off the wall's corner
    far_a = corner + inward * 15 * metre + np.array([inward[1], -inward[0]]) * 6 * metre
    far_b = corner + inward * 15 * metre - np.array([inward[1], -inward[0]]) * 6 * metre
    drawn = Polygon([tuple(near), tuple(far_a), tuple(far_b)])
    at = _draw(_into(_ok(_app("en", project="bare").run()), "buildings"), drawn)
    stored = np.array(_rows(bare, "buildings")["B1"]["geometry"].exterior.coords)
    gaps = np.hypot(*(stored - corner).T)
    assert gaps.min() < 1e-7  # the vertex is on the wall's corner now
    assert any("snapped" in t.value for t in at.toast), [t.value for t in at.toast]
    for point in (far_a, far_b):  # the rest of the drawing is as drawn (to the 1e-7 grid)
        assert np.hypot(*(stored - point).T).min() < 2e-7
