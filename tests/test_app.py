"""The app's pages under Streamlit's AppTest (no browser): drawings go in through state.MAP."""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import pytest
import shapely
from shapely import box
from shapely.geometry import mapping
from streamlit.testing.v1 import AppTest

from app import engine, state
from app.workspace import load_project, open_sample, sites_at
from gridgis.core.crs import convert_geometries
from gridgis.core.store import SiteStore

from .apptest import APP
from .apptest import ok as _ok
from .conftest import DATA

# a 10 x 8 m box in the sample compound's north-east golden corner area, in degrees
SHED = box(104.07020, 30.66950, 104.07030, 30.66957)
# across building B2 (fails "no building overlap")
ON_B2 = box(104.07010, 30.66975, 104.07030, 30.66985)


pytestmark = pytest.mark.usefixtures("workspace")  # tests/conftest.py


def _app(lang: str | None = None, project: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if lang:
        at.query_params["lang"] = lang
    if project:
        at.query_params["project"] = project
    return at


def _feature(geom) -> dict:
    """A drawing as streamlit-folium reports it: a GeoJSON Feature without id."""
    return {"type": "Feature", "properties": {}, "geometry": mapping(geom)}


def _draw(at: AppTest, *geoms) -> AppTest:
    at.session_state[state.MAP] = {"all_drawings": [_feature(g) for g in geoms]}
    return _ok(at.run())


def _store(workspace, name="dongsi180") -> SiteStore:
    return SiteStore(workspace / name)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _select(at: AppTest, label: str):
    """The select box (or multiselect) whose label is or starts with `label`."""
    hits = [w for w in (*at.selectbox, *at.multiselect) if w.label.startswith(label)]
    assert len(hits) == 1, f"{label!r}: {[w.label for w in at.selectbox]}"
    return hits[0]


def _button(at: AppTest, label: str):
    hits = [b for b in at.button if b.label == label]
    assert hits, f"no button {label!r}: {[b.label for b in at.button]}"
    return hits[0]


# --- map page ------------------------------------------------------------------------


def test_map_page_opens_a_copy_of_the_sample(workspace):
    at = _ok(_app().run())
    assert not at.error
    assert (workspace / "dongsi180" / "buildings.geojson").exists()  # a working copy
    assert at.query_params["lang"] == "zh" and at.query_params["project"] == "dongsi180"
    assert "老旧小区改造规划" in at.title[0].value
    summary = " ".join(md.value for md in at.sidebar.markdown)
    assert "**308** 户" in summary and "**4** 栋" in summary
    assert summary.startswith("**东四街180号院**")  # the compound's name, in Chinese
    picker = _select(at, "选中的场地（共 3 处）")
    assert picker.options == ["SITE1 · 智能充电非机动车棚", "SITE2 · 党群活动室（邻里客厅）",
                              "SITE3 · 小区菜园"]  # fmt: skip
    assert {"面积", "容量", "造价", "服务户数", "需征询户数"} <= set(_metrics(at))


def test_english_from_the_url(workspace):
    at = _ok(_app("en").run())
    assert at.radio(key=state.LANG).value == "en"
    assert {"Area", "Capacity", "Cost", "Households served"} <= set(_metrics(at))
    assert any("Dongsi" in md.value for md in at.sidebar.markdown)
    _select(at, "Selected site").set_value("SITE2").run()
    at.radio(key=state.LANG).set_value("zh").run()
    assert at.query_params["lang"] == "zh" and "面积" in _metrics(at)
    # the choices made in English carry over to the Chinese widgets
    picker = _select(at, "选中的场地")
    assert (
        picker.value == "SITE2" and picker.format_func("SITE2") == "SITE2 · 党群活动室（邻里客厅）"
    )
    assert _select(at, "底图").value == "none"


def test_default_language_comes_from_the_project_settings(workspace):
    workspace.mkdir()
    shutil.copytree(DATA / "dongsi180", workspace / "english")
    (workspace / "english" / "settings.toml").write_text('[general]\nlanguage = "en"\n')
    at = _ok(_app(project="english").run())
    assert at.radio(key=state.LANG).value == "en"
    assert at.query_params["project"] == "english"


def test_a_drawing_is_analysed_as_stored_before_the_page_reads_it_back(workspace):
    from gridgis.analysis.memo import site_keys

    path = workspace / open_sample("dongsi180")
    prepared = engine.prepared(path)  # one prepared project per project stamp
    row = SiteStore(path).add(shapely.set_precision(SHED, 1e-9), site_type="parking_shed")
    engine.prefetch(path, [row])  # started while the sidebar is drawn
    engine.in_analysis_thread(lambda: None)  # the analysis thread is done with it
    # the page then reads the sites from disk: the new one is in the library's memo already
    on_disk = sites_at(path)
    assert on_disk["site_id"].iloc[-1] == "S1"
    assert prepared.memo.get_many(site_keys(on_disk.iloc[[-1]])) != [None]
    assert engine.analyze(path, on_disk).sites["area_m2"].iloc[-1] > 70
    assert engine.prepared(path) is prepared


def test_drawing_stores_a_site_with_its_metrics(workspace):
    at = _ok(_app().run())
    at = _draw(at, SHED)
    sites = _store(workspace).load()
    assert list(sites["site_id"]) == ["SITE1", "SITE2", "SITE3", "S1"]
    new = sites.set_index("site_id").loc["S1"]
    assert new["site_type"] == "parking_shed" and new["rev"] == 1
    assert shapely.hausdorff_distance(new.geometry, SHED) < 1e-7
    assert at.session_state[state.SELECTED] == "S1"
    metrics = _metrics(at)
    assert metrics["面积"].endswith("m²") and float(metrics["面积"].split()[0]) == pytest.approx(
        75.1, abs=1.5
    )
    assert metrics["容量"].endswith("辆") and metrics["造价"].endswith(" 元")
    assert metrics["服务户数"].endswith("户")
    assert any("S1" in toast.value for toast in at.toast)
    # the cost table lists the items with units in the headers
    table = at.table[0].value
    assert {"数量", "单价 (元)", "金额 (元)", "来源"} <= set(table.columns)
    assert table["数量"].str.endswith(("m²", "个", "处", "项", "套", "米", "m")).all(), table
    assert table.index.name == "项目" and table["金额 (元)"].str.match(r"^[\d,]+\.\d\d$").all()
    # the same drawing reported again (every rerun) is stored once
    at = _ok(at.run())
    at = _draw(at, SHED)
    assert len(_store(workspace).load()) == 4


def test_site_type_is_picked_before_drawing(workspace):
    at = _ok(_app().run())
    at.segmented_control(key=state.widget_key(state.DRAW_TYPE, state.variant("zh"))).set_value(
        "vegetable_garden"
    ).run()
    _draw(at, SHED)
    assert _store(workspace).load().set_index("site_id").loc["S1", "site_type"] == (
        "vegetable_garden"
    )


def test_failed_rules_are_listed_in_red_with_the_measured_value(workspace):
    at = _draw(_ok(_app("en").run()), ON_B2)
    errors = [e.value.replace("\\", "") for e in at.error]  # Markdown escapes
    assert any("No building overlap" in e and "overlaps building B2 by" in e for e in errors)
    assert any("Shed setback" in e and "needs 6.0 m" in e for e in errors), errors


def test_without_paths_the_fire_lane_check_is_not_checked_and_there_is_no_all_clear(workspace):
    workspace.mkdir()
    shutil.copytree(DATA / "dongsi180", workspace / "no_paths",
                    ignore=shutil.ignore_patterns("paths.*"))  # fmt: skip
    at = _ok(_app("en", project="no_paths").run())
    _select(at, "Selected site").set_value("SITE3").run()  # passes every check that ran
    grey = [m.value.replace("\\", "") for m in _ok(at).markdown if ":gray[" in m.value]
    assert len(grey) == 1 and "1 not checked" in grey[0], grey
    assert "Fire lane kept clear" in grey[0] and "no paths layer: fire lanes not checked" in grey[0]
    assert not at.error
    assert all("Every check passed" not in s.value for s in at.success)
    # with the paths layer every check runs: the same site gets the all-clear
    at = _ok(_app("en").run())
    _select(at, "Selected site").set_value("SITE3").run()
    assert any("Every check passed" in s.value for s in _ok(at).success)
    assert not [m.value for m in at.markdown if ":gray[" in m.value]


def test_drawn_on_gaode_tiles_is_stored_in_wgs84(workspace):
    at = _ok(_app().run())
    _select(at, "底图").set_value("gaode").run()
    gcj = convert_geometries(SHED, src="wgs84", dst="gcj02")
    assert shapely.distance(gcj.centroid, SHED.centroid) > 0.003  # about 350 m apart
    _draw(at, gcj)
    stored = _store(workspace).load().set_index("site_id").loc["S1"].geometry
    assert shapely.hausdorff_distance(stored, SHED) < 1e-6  # about 0.1 m


def test_rename_retype_notes_delete_and_undo(workspace):
    at = _draw(_ok(_app().run()), SHED)
    at.text_input(key=state.edit_key("name", "S1", 1, "zh")).input("东北角<b>车棚</b>").run()
    store = _store(workspace)
    row = store.load().set_index("site_id").loc["S1"]
    assert row["name"] == "东北角<b>车棚</b>" and row["rev"] == 2
    assert _select(at, "选中的场地").value == "S1"
    assert any("东北角\\<b\\>车棚\\</b\\>" in md.value for md in at.markdown)  # shown as typed
    at.selectbox(key=state.edit_key("site_type", "S1", 2, "zh")).set_value("activity_room").run()
    at.text_area(key=state.edit_key("notes", "S1", 3, "zh")).input("居民提议").run()
    at.selectbox(key=state.edit_key("status", "S1", 4, "zh")).set_value("approved").run()
    row = store.load().set_index("site_id").loc["S1"]
    assert (row["site_type"], row["notes"], row["status"], row["rev"]) == (
        "activity_room", "居民提议", "approved", 5,
    )  # fmt: skip
    _ok(_button(at, "删除场地").click().run())
    assert "S1" not in set(store.load()["site_id"])
    _ok(_button(at, "撤销").click().run())  # undo the delete
    assert store.load().set_index("site_id").loc["S1", "status"] == "approved"
    _ok(_button(at, "撤销").click().run())  # undo the status change
    assert store.load().set_index("site_id").loc["S1", "status"] == "proposed"
    for _ in range(3):  # notes, type, name
        _ok(_button(at, "撤销").click().run())
    assert store.load().set_index("site_id").loc["S1", "name"] in ("", None)
    _ok(_button(at, "撤销").click().run())  # undo the drawing itself
    assert "S1" not in set(store.load()["site_id"])
    assert _button(at, "撤销").disabled


def test_redraw_replaces_the_outline(workspace):
    at = _draw(_ok(_app().run()), SHED)
    _ok(_button(at, "重画边界").click().run())
    assert at.session_state[state.REDRAW] == "S1"
    bigger = box(104.07020, 30.66950, 104.07035, 30.66960)
    at = _draw(at, SHED, bigger)
    sites = _store(workspace).load()
    assert len(sites) == 4
    # as drawn, but for vertices within 0.5 m of other shapes, snapped onto them
    assert shapely.hausdorff_distance(sites.set_index("site_id").loc["S1"].geometry, bigger) < 6e-6
    assert not at.session_state[state.REDRAW]


def test_an_edit_from_another_session_is_a_conflict_not_an_overwrite(workspace):
    at = _draw(_ok(_app().run()), SHED)
    tablet = _store(workspace)
    tablet.update("S1", expected_rev=1, name="tablet's name")
    at.text_input(key=state.edit_key("name", "S1", 1, "zh")).input("laptop's name").run()
    assert any("另一会话" in e.value for e in at.error)
    assert tablet.load().set_index("site_id").loc["S1", "name"] == "tablet's name"
    # the view shows what is on disk now
    assert at.text_input(key=state.edit_key("name", "S1", 2, "zh")).value == "tablet's name"
    # and a delete of a site the other session deleted is reported, not an error
    tablet.delete("S1")
    _ok(at.run())
    assert at.session_state[state.SELECTED] != "S1"


def test_deleting_the_last_site_leaves_a_project_that_opens(workspace):
    at = _ok(_app("en").run())
    for sid in ("SITE1", "SITE2", "SITE3"):
        _select(at, "Selected site").set_value(sid).run()
        _ok(_button(at, "Delete site").click().run())
    assert len(_store(workspace).load()) == 0
    assert any("No sites yet" in i.value for i in _ok(at.run()).info)
    # what the app does for its first session after a restart (its caches empty)
    from gridgis.core.project import open_project

    assert len(open_project(workspace / "dongsi180").layers.get("sites", [])) == 0


def test_two_sessions_keep_each_others_sites(workspace):
    laptop = _ok(_app().run())
    tablet = _ok(_app().run())
    _draw(laptop, SHED)
    _draw(tablet, ON_B2)
    _draw(laptop, SHED, box(104.06980, 30.66960, 104.06990, 30.66967))
    ids = list(_store(workspace).load()["site_id"])
    assert ids == ["SITE1", "SITE2", "SITE3", "S1", "S2", "S3"]


def test_sites_persist_across_sessions(workspace):
    _draw(_ok(_app().run()), SHED)
    at = _ok(_app(project="dongsi180").run())  # a new browser session (a reload)
    assert "S1 · 非机动车棚" in _select(at, "选中的场地").options


def test_bad_drawing_is_reported(workspace):
    at = _ok(_app().run())
    at.session_state[state.MAP] = {
        "all_drawings": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}}]
    }
    at = _ok(at.run())
    assert any("不是有效的多边形" in e.value for e in at.error)
    assert len(_store(workspace).load()) == 3


def test_unknown_project_in_the_url_opens_the_sample(workspace):
    at = _ok(_app(project="../../etc").run())
    assert at.query_params["project"] == "dongsi180"


def test_switching_projects(workspace):
    at = _ok(_app().run())
    open_sample("shaxi_f.gpkg")
    at = _ok(at.run())
    at.selectbox(key=state.PROJECT).set_value("shaxi_f.gpkg").run()
    _ok(at)
    summary = " ".join(md.value for md in at.sidebar.markdown)
    assert "**70** 户" in summary
    _draw(at, box(104.02030, 30.70010, 104.02040, 30.70017))
    assert "S1" in set(SiteStore(workspace / "shaxi_f.gpkg").load()["site_id"])


def test_offline_basemap_is_the_default_and_tianditu_needs_a_key(workspace):
    at = _ok(_app("en").run())
    assert _select(at, "Basemap").value == "none"
    _select(at, "Basemap").set_value("tianditu").run()
    _ok(at)
    assert any("Tianditu" in e.value or "tianditu_key" in e.value for e in at.error)
    at.text_input(key=state.TIANDITU_KEY).input("0123456789abcdef0123456789abcdef").run()
    assert not _ok(at).error


# --- sites page ----------------------------------------------------------------------


def _sites_page(lang: str | None = None) -> AppTest:
    at = _ok(_app(lang).run())
    return _ok(at.switch_page("app/pages/sites.py").run())


def test_sites_page_table_totals_and_compare(workspace):
    at = _sites_page("en")
    metrics = _metrics(at)
    assert metrics["Sites"] == "3"
    assert metrics["Total cost"] == "CNY 158,119"
    assert metrics["Households served (distinct)"] == "308 households"
    assert metrics["Bike spaces"] == "34" and metrics["Charging ports"] == "12"
    table = at.dataframe[0].value
    assert list(table["ID"]) == ["SITE1", "SITE2", "SITE3"]
    assert {"Area (m²)", "Cost (CNY)", "Charging ports", "Households served"} <= set(table)
    assert table["Cost (CNY)"].dtype.kind == "f"  # numbers sort as numbers
    _select(at, "Compare side by side").set_value(["SITE1", "SITE3"]).run()
    side = _ok(at).dataframe[1].value
    assert list(side.columns) == [
        "SITE1 · E-bike shed with smart charging", "SITE3 · Vegetable garden"
    ]  # fmt: skip
    assert "Cost (CNY)" in side.index
    assert any("Cheapest" in c.value and "SITE3" in c.value for c in at.caption)


def test_sites_page_in_chinese(workspace):
    at = _sites_page()
    assert {"场地数", "总造价", "服务住户（去重）"} <= set(_metrics(at))
    assert "面积 (m²)" in at.dataframe[0].value.columns


# --- data page -----------------------------------------------------------------------


def _data_page(lang: str | None = None) -> AppTest:
    at = _ok(_app(lang).run())
    return _ok(at.switch_page("app/pages/data.py").run())


def test_data_page_lists_layers_and_offers_downloads(workspace):
    at = _data_page("en")
    labels = {b.label for b in at.download_button}
    assert labels == {"Site plan GeoJSON", "Budget XLSX", "Whole project GeoPackage"}
    layers = at.dataframe[0].value
    assert dict(zip(layers["Layer"], layers["Features"], strict=True))["buildings"] == 4


def test_exports_are_valid(workspace, tmp_path):
    from openpyxl import load_workbook

    from app import exports
    from gridgis.core.project import open_project

    path = workspace / open_sample("dongsi180")
    _store(workspace).add(SHED, site_type="parking_shed", name="新车棚")
    analysis = engine.analyze(path, sites_at(path))  # the data page's call
    data = json.loads(exports.site_plan_geojson(analysis))
    assert "crs" not in data
    names = [f["properties"]["name"] for f in data["features"]]
    assert "新车棚" in names
    for feature in data["features"]:
        ring = feature["geometry"]["coordinates"][0]
        assert shapely.LinearRing(ring).is_ccw  # RFC 7946: exterior rings counter-clockwise
    (tmp_path / "b.xlsx").write_bytes(exports.budget_xlsx(analysis, "zh"))
    zh = ["sites 点位", "cost items 造价明细", "funding 资金"]  # English first, then Chinese
    assert load_workbook(tmp_path / "b.xlsx").sheetnames == zh
    (tmp_path / "b.xlsx").write_bytes(exports.budget_xlsx(analysis, "en"))
    assert load_workbook(tmp_path / "b.xlsx").sheetnames == ["sites", "cost items", "funding"]
    (tmp_path / "p.gpkg").write_bytes(exports.project_gpkg(path))
    whole = open_project(tmp_path / "p.gpkg")
    assert "S1" in set(whole.layers["sites"]["site_id"]) and len(whole.layers["buildings"]) == 4


def test_open_a_fresh_copy_of_a_sample(workspace):
    at = _data_page("en")
    [b for b in at.button if b.label == "New copy"][1].click().run()
    _ok(at)
    assert at.session_state[state.PROJECT] == "shaxi_f.gpkg"
    [b for b in at.button if b.label == "New copy"][1].click().run()
    assert _ok(at).session_state[state.PROJECT] == "shaxi_f-2.gpkg"
    assert (workspace / "shaxi_f-2.gpkg").is_file()


def test_import_layers_as_a_new_project(workspace):
    at = _data_page("en")
    files = [(f"{n}.geojson", (DATA / "dongsi180" / f"{n}.geojson").read_bytes(),
              "application/geo+json") for n in ("compound", "buildings", "paths")]  # fmt: skip
    at.file_uploader(key=state.UPLOADS).set_value(files).run()
    assert _select(at, "Layer in paths.geojson").value == "paths"
    at.text_input(key=state.UPLOAD_NAME).input("my_compound").run()
    _button(at, "Check and import").click().run()
    _ok(at)
    assert at.session_state[state.PROJECT] == "my_compound"
    assert any("new project my_compound" in s.value for s in at.success)
    assert (workspace / "my_compound" / "buildings.geojson").exists()
    # a project without sites yet: the map page invites a first drawing
    _ok(at.switch_page("app/pages/map.py").run())
    assert any("No sites yet" in i.value for i in at.info)
    _draw(at, SHED)
    assert list(SiteStore(workspace / "my_compound").load()["site_id"]) == ["S1"]
    assert "S1 · E-bike shed" in _select(at, "Selected site").options


def test_import_lists_every_problem(workspace):
    from app.imports import import_files

    bad_buildings = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"building_id": "B1", "households": -5},
             "geometry": mapping(SHED)},
            {"type": "Feature", "properties": {"households": 3}, "geometry": mapping(ON_B2)},
        ],
    }  # fmt: skip
    files = [
        ("buildings.geojson", json.dumps(bad_buildings).encode(), "buildings"),
        ("broken.kml", b"<kml>not really", "spaces"),
    ]
    report, saved = import_files(files, name="bad one", lang="en")
    assert saved is None
    errors = [text for kind, text in report if kind == "error"]
    assert errors[0].startswith("Nothing imported:")
    joined = "\n".join(errors)
    assert "not valid" in joined  # the name
    assert "broken.kml" in joined
    assert "households must be >= 0, got -5" in joined
    assert "building_id" in joined
    assert "required layer 'compound' is missing" in joined
    assert not (workspace / "bad one").exists()


def test_import_with_crs_and_gcj02(workspace):
    from app.imports import import_files

    compound = gpd.read_file(DATA / "dongsi180" / "compound.geojson")
    buildings = gpd.read_file(DATA / "dongsi180" / "buildings.geojson")
    gk = buildings.to_crs(4544).set_crs(None, allow_override=True)  # metres, no CRS declared
    gcj = compound.copy()
    gcj["geometry"] = convert_geometries(compound.geometry, src="wgs84", dst="gcj02")
    files = [
        ("buildings.geojson", gk.to_json().encode(), "buildings"),
        ("compound.geojson", gcj.to_json().encode(), "compound"),
    ]
    report, saved = import_files(files, name="gk", crs="EPSG:4544", lang="en")
    assert saved is not None, report  # the buildings needed the CRS
    report, saved = import_files(
        [("compound.geojson", gcj.to_json().encode(), "compound"),
         ("buildings.geojson", buildings.to_json().encode(), "buildings")],
        name="gcj", datum="gcj02", lang="en",
    )  # fmt: skip
    assert saved is not None, report
    back = gpd.read_file(saved / "compound.geojson")
    assert shapely.hausdorff_distance(back.geometry[0], compound.geometry[0]) < 1e-6


# --- settings page -------------------------------------------------------------------


def test_settings_page_shows_values_with_source_tags(workspace):
    at = _ok(_app().run())
    at = _ok(at.switch_page("app/pages/settings.py").run())
    from app.views import settings_table
    from gridgis.core.project import open_project

    project = open_project(workspace / "dongsi180")
    rows = settings_table.rows(project.settings, "zh", project)
    fire = rows.set_index("key").loc["rules.fire_lane_clear_width_m"]
    assert (fire["label"], fire["value"], fire["unit"], fire["source"]) == (
        "消防车通道净宽", 4.0, "m", "S",
    )  # fmt: skip
    assert "GB 50016" in fire["ref"]
    rate = rows.set_index("key").loc["cost_items.shed_structure.rate_cny"]
    assert (rate["unit"], rate["source"], rate["group"]) == ("元/m²", "E", "单价")
    assert set(rows["source"]) <= {"S", "D", "E"}


def test_saved_settings_change_the_metrics(workspace):
    from app.views import settings_table
    from gridgis.core.project import open_project

    at = _ok(_app("en").run())
    before = _metrics(at)["Cost"]
    _draw(at, SHED)  # a site of this session, which must survive the settings save
    path = workspace / "dongsi180"
    project = open_project(path)
    table = settings_table.rows(project.settings, "en", project)
    edited = table.copy()
    row = edited.index[edited["key"] == "cost_items.room_fitout.rate_cny"][0]
    edited.loc[row, ["value", "source", "ref"]] = [1500.0, "E", "local quote 2025"]
    assert list(settings_table.changes(table, edited)["key"]) == ["cost_items.room_fitout.rate_cny"]
    settings_table.write_settings(path, settings_table.build(project.settings, edited, "zh"))
    saved = open_project(path)
    assert saved.settings.cost_items["room_fitout"].rate_cny.value == 1500.0
    assert saved.settings.cost_items["room_fitout"].rate_cny.ref == "local quote 2025"
    assert saved.settings.general.language == "zh"
    assert "S1" in set(saved.layers["sites"]["site_id"])
    _select(at, "Selected site").set_value("SITE2").run()  # the activity room
    assert _metrics(_ok(at))["Cost"] != before
    assert _metrics(at)["Cost"] == "CNY 125,865"  # 83.9 m2 x 1500


def test_bad_settings_are_not_saved(workspace):
    from app.views import settings_table
    from gridgis.errors import GridGISError

    path = workspace / open_sample("dongsi180")
    project = load_project(path)
    edited = settings_table.rows(project.settings, "en", project)
    edited.loc[0, "source"] = "X"
    with pytest.raises(GridGISError, match="source"):
        settings_table.build(project.settings, edited, "en")
