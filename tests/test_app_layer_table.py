"""The attribute tables of the layers other than the sites (issue 11, item 4), under AppTest.

A small page shows the table, the map page's Undo button and the layer's form
(`app.views.layer_panel`), on a copy of the sample (or a new project). Cell
edits reach the table as the browser sends them: the editor's widget state
(``edited_rows``), which triggers its ``on_change``. AppTest has no public
way to send it (``data_editor.set_value`` raises), so `_edit` adds it to the
run's widget states. Every check reads the layer back from disk.
"""

from __future__ import annotations

import json
import shutil

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from app import layer_bulk, state
from app.views.layer_table import PICK, table_key
from app.workspace import load_project
from gridgis.core.project import new_project
from gridgis.core.store import LayerStore

from .apptest import ok as _ok
from .conftest import DATA

pytestmark = pytest.mark.usefixtures("workspace")  # tests/conftest.py


def _script(path: str, layer: str, lang: str) -> None:
    """The page: messages, the Undo button, the table, the form (as the map page has them)."""
    from pathlib import Path

    import streamlit as st

    from app import edits
    from app.context import show_flash
    from app.views.layer_panel import layer_panel
    from app.views.layer_table import layer_table

    show_flash()
    st.button("undo", key="undo", on_click=edits.undo, args=(Path(path), lang))
    layer_table(Path(path), layer, lang)
    layer_panel(Path(path), layer, lang)


@pytest.fixture
def sample(workspace):
    """A copy of the sample compound."""
    return shutil.copytree(DATA / "dongsi180", workspace / "dongsi180")


def _page(path, layer: str = "buildings", lang: str = "zh") -> AppTest:
    at = AppTest.from_function(_script, args=(str(path), layer, lang), default_timeout=60)
    return _ok(at.run())


def _edit(at: AppTest, layer: str, rows: dict[int, dict]) -> AppTest:
    """Change cells of the table as the browser does: row position -> {column: value}."""
    editor = at.data_editor(key=table_key(layer))
    edit = {"edited_rows": {str(k): v for k, v in rows.items()}, "added_rows": [],
            "deleted_rows": []}  # fmt: skip
    states = at._tree.get_widget_states()
    states.widgets.append(WidgetState(id=editor.proto.id, string_value=json.dumps(edit)))
    return _ok(at._run(states))


def _rows(path, layer: str = "buildings") -> dict[str, dict]:
    store = LayerStore(path, layer)
    return {str(r[store.key]): r for r in store.load().to_dict("records")}


def _headers(at: AppTest, layer: str) -> dict[str, str]:
    columns = json.loads(at.data_editor(key=table_key(layer)).proto.columns)
    return {name: cfg.get("label") for name, cfg in columns.items()}


def _pending(at: AppTest, layer: str) -> dict:
    """The edits the table still shows over what is on disk (none after each save)."""
    return at.session_state[table_key(layer)]["edited_rows"]


def _undo_ops(at: AppTest) -> list[str]:
    return [e["op"] for e in at.session_state[state.UNDO]] if state.UNDO in at.session_state else []


def _errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def test_every_layer_shows_every_feature_with_its_area(sample):
    project = load_project(sample)
    keys = {"compound": "name", "buildings": "building_id", "microgrids": "grid_id",
            "spaces": "space_id", "paths": "path_id"}  # fmt: skip
    for layer, key in keys.items():
        at = _page(sample, layer)
        table = at.data_editor(key=table_key(layer)).value
        stored = project.layers[layer]
        assert table[key].tolist() == stored[key].astype(str).tolist(), layer
    at = _page(sample, "buildings", "en")
    table = at.data_editor(key=table_key("buildings")).value
    metric = project.layers["buildings"].to_crs(project.metric_crs()).area
    assert table["area_m2"].tolist() == pytest.approx(metric.tolist(), abs=0.05)
    footprint = project.layers["buildings"].eval("floor_area_m2 / floors")  # the ledger's
    assert table["area_m2"].tolist() == pytest.approx(footprint.tolist(), rel=0.01)
    headers = _headers(at, "buildings")
    assert headers["area_m2"] == "Area (m²)" and headers["households"] == "Households"
    assert headers[PICK] == "Show" and headers["households_estimate"] == "Households (estimate)"
    paths = _page(sample, "paths")
    assert _headers(paths, "paths")["width_m"] == "宽度（米）"
    assert _headers(paths, "paths")["length_m"] == "长度 (m)"
    lengths = paths.data_editor(key=table_key("paths")).value["length_m"]
    assert (lengths > 5).all()


def test_kinds_are_select_boxes_with_translated_labels(sample):
    at = _page(sample, "spaces", "en")
    kind = json.loads(at.data_editor(key=table_key("spaces")).proto.columns)["kind"]
    text = json.dumps(kind, ensure_ascii=False)
    assert kind["type_config"]["type"] == "selectbox"
    assert "Golden corner" in text and "Neglected space" in text
    at = _page(sample, "spaces", "zh")
    text = json.dumps(json.loads(at.data_editor(key=table_key("spaces")).proto.columns)["kind"],
                      ensure_ascii=False)  # fmt: skip
    assert "金角银边" in text


def test_estimated_households_only_where_the_layer_has_none(sample):
    b1 = _rows(sample)["B1"]
    LayerStore(sample, "buildings").update("B1", expected_rev=1, households=None)
    table = _page(sample).data_editor(key=table_key("buildings")).value
    per_floor = load_project(sample).settings.general.households_per_floor_fallback.value
    assert table.at[0, "households_estimate"] == b1["units"] * b1["floors"] * per_floor
    assert table["households"].isna().tolist() == [True, False, False, False]
    assert table["households_estimate"].isna().tolist() == [False, True, True, True]


def test_a_bulk_edit_of_two_rows_is_stored_in_one_write(sample):
    at = _page(sample)
    at = _edit(at, "buildings", {0: {"households": 90}, 2: {"households": 70, "floors": 8}})
    rows = _rows(sample)
    assert (rows["B1"]["households"], rows["B1"]["rev"]) == (90, 2)
    assert (rows["B3"]["households"], rows["B3"]["floors"], rows["B3"]["rev"]) == (70, 8, 2)
    assert rows["B2"]["rev"] == 1 and rows["B4"]["rev"] == 1
    assert any("B1, B3" in toast.value for toast in at.toast)
    # one undo entry for the whole edit
    stack = at.session_state[state.UNDO]
    assert _undo_ops(at) == [layer_bulk.BULK]
    assert set(stack[0]["after"]) == {"B1", "B3"}
    # the table now shows what is on disk, and a second edit builds on the new revisions
    table = at.data_editor(key=table_key("buildings")).value
    assert table["households"].tolist()[:3] == [90, 84, 70]
    assert _pending(at, "buildings") == {}
    at = _edit(at, "buildings", {0: {"name": "一栋"}})
    assert (_rows(sample)["B1"]["name"], _rows(sample)["B1"]["rev"]) == ("一栋", 3)
    assert not at.error


def test_cells_that_change_nothing_are_not_saved(sample):
    at = _edit(_page(sample), "buildings", {1: {"households": 84, PICK: False}})
    assert all(r["rev"] == 1 for r in _rows(sample).values())
    assert _undo_ops(at) == []


@pytest.mark.parametrize(
    ("lang", "value", "words"),
    [
        ("zh", -5, ("B2", "户数", "一条也未存入")),
        ("en", -5, ("B2", "Households", "nothing of this edit was stored")),
        ("zh", "很多", ("B2", "户数", "应为数字")),
        ("en", "lots", ("B2", "Households", "must be a number")),
        ("en", 2.5, ("B2", "Households", "whole number")),
    ],
)
def test_a_refused_value_stores_nothing_and_names_feature_and_field(sample, lang, value, words):
    at = _page(sample, lang=lang)
    at = _edit(at, "buildings", {0: {"households": 95}, 1: {"households": value}})
    rows = _rows(sample)
    assert rows["B1"]["households"] == 84 and rows["B1"]["rev"] == 1  # not half-applied
    assert rows["B2"]["households"] == 84 and rows["B2"]["rev"] == 1
    text = _errors(at)
    for word in words:
        assert word in text, (word, text)
    # the editor starts again from the disk: the refused value is not left on show
    assert _pending(at, "buildings") == {}
    assert _undo_ops(at) == []


def test_a_blank_micro_grid_name_is_refused_by_the_store(sample):
    at = _page(sample, "microgrids", "en")
    at = _edit(at, "microgrids", {0: {"leader": "赵"}, 3: {"name": ""}})
    rows = _rows(sample, "microgrids")
    assert rows["G1"]["leader"] == "王阿姨" and rows["G4"]["name"] == "4栋微网格"
    assert "G4" in _errors(at) and "Name" in _errors(at)


def test_a_row_changed_in_another_session_stores_nothing_and_says_so(sample):
    at = _page(sample, lang="en")  # the table shows every building at revision 1
    LayerStore(sample, "buildings").update("B2", expected_rev=1, households=60)  # elsewhere
    at = _edit(at, "buildings", {0: {"households": 95}, 1: {"households": 99}})
    rows = _rows(sample)
    assert (rows["B1"]["households"], rows["B1"]["rev"]) == (84, 1)
    assert (rows["B2"]["households"], rows["B2"]["rev"]) == (60, 2)  # the other edit stands
    text = _errors(at)
    assert "B2" in text and "another session" in text and "B1" not in text
    table = at.data_editor(key=table_key("buildings")).value
    assert table["households"].tolist()[:2] == [84, 60]  # what is saved now
    assert _pending(at, "buildings") == {}
    zh = _page(sample)
    LayerStore(sample, "buildings").delete("B4")
    zh = _edit(zh, "buildings", {3: {"households": 1}})
    assert "B4" in _errors(zh) and "另一会话" in _errors(zh)


def test_undo_takes_a_bulk_edit_back_in_one_step(sample):
    at = _edit(_page(sample), "buildings", {0: {"households": 90}, 1: {"name": "二栋", "units": 4}})
    assert _rows(sample)["B2"]["name"] == "二栋"
    at.button(key="undo").click()
    at = _ok(at.run())
    rows = _rows(sample)
    assert (rows["B1"]["households"], rows["B2"]["name"], rows["B2"]["units"]) == (84, "2栋", 3)
    assert rows["B1"]["rev"] == 3 and rows["B3"]["rev"] == 1
    assert at.session_state[state.UNDO] == []
    assert any("B1, B2" in toast.value for toast in at.toast)


def test_undo_of_a_bulk_edit_after_a_form_edit_and_its_undo(sample):
    """Older entries keep working: table, form, undo, undo, undo."""
    at = _page(sample)
    key = state.layer_edit_key("buildings", "households", "B4", 1, "zh")
    at.number_input(key=key).set_value(50).run()  # the form: B4 rev 2
    at = _edit(_ok(at), "buildings", {0: {"households": 90}, 3: {"households": 51}})
    at.button(key="undo").click()
    at = _ok(at.run())
    assert _rows(sample)["B4"]["households"] == 50
    at.button(key="undo").click()
    at = _ok(at.run())
    assert _rows(sample)["B4"]["households"] == 56 and not at.error


def test_undo_of_a_bulk_edit_changed_since_elsewhere_is_refused(sample):
    at = _edit(_page(sample, lang="en"), "buildings", {0: {"households": 90}, 1: {"units": 4}})
    rev = _rows(sample)["B2"]["rev"]
    LayerStore(sample, "buildings").update("B2", expected_rev=rev, units=5)
    at.button(key="undo").click()
    at = _ok(at.run())
    rows = _rows(sample)
    assert (rows["B1"]["households"], rows["B2"]["units"]) == (90, 5)  # nothing undone
    assert "B2" in _errors(at) and "Nothing was undone" in _errors(at)


def test_a_single_row_edit_is_an_ordinary_undo_entry_even_a_compound_rename(sample):
    at = _page(sample, "compound")
    at = _edit(at, "compound", {0: {"name": "东四街180号院（新）"}})
    assert list(_rows(sample, "compound")) == ["东四街180号院（新）"]
    assert at.session_state[state.UNDO][-1]["op"] == "update"
    at.button(key="undo").click()
    at = _ok(at.run())
    assert list(_rows(sample, "compound")) == ["东四街180号院"]


def test_ticking_a_row_selects_its_feature_for_the_map_and_the_form(sample):
    at = _page(sample, lang="en")
    at = _edit(at, "buildings", {2: {PICK: True}})
    assert at.session_state[state.LAYER_SELECTED]["buildings"] == "B3"
    assert at.selectbox[0].value == "B3"  # the form beside the map follows
    assert at.data_editor(key=table_key("buildings")).value[PICK].tolist() == [
        False, False, True, False
    ]  # fmt: skip
    at = _edit(at, "buildings", {0: {PICK: True}})
    assert at.session_state[state.LAYER_SELECTED]["buildings"] == "B1"
    assert at.data_editor(key=table_key("buildings")).value[PICK].tolist() == [
        True, False, False, False
    ]  # fmt: skip
    assert all(r["rev"] == 1 for r in _rows(sample).values())  # a pick is not an edit


def test_html_and_formula_text_in_a_name_is_kept_and_shown_as_text(sample):
    html, formula = "<b>x</b><script>alert(1)</script>", '=HYPERLINK("http://e.x","y")'
    at = _edit(_page(sample), "buildings", {0: {"name": html}, 1: {"name": formula}})
    rows = _rows(sample)
    assert (rows["B1"]["name"], rows["B2"]["name"]) == (html, formula)
    table = at.data_editor(key=table_key("buildings")).value
    assert table["name"].tolist()[:2] == [html, formula]  # grid cells: text, never markup
    assert not any("<b>" in md.value for md in at.markdown)


def test_a_new_project_shows_no_table_until_something_is_drawn(workspace):
    path = new_project(workspace / "draft", name="新小区")
    at = _page(path, "buildings", "en")
    assert not at.data_editor
    assert any("No Buildings yet" in i.value for i in at.info)
