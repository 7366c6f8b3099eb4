"""The new-project form under AppTest: an empty workspace opens on it; it makes a draft project."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from app import state
from app.views import new_project as form
from gridgis.core.project import open_project

from .apptest import APP
from .apptest import ok as _ok


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    ws = tmp_path / "workspace"
    ws.mkdir()  # there, and empty: the app opens on the form, not on a sample
    monkeypatch.setenv("GRIDGIS_WORKSPACE", str(ws))
    return ws


def _app(lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang
    return _ok(at.run())


def _fill(at: AppTest, name: str, lon: float, lat: float) -> AppTest:
    at.text_input(key=form.NAME).input(name)
    at.number_input(key=form.LON).set_value(lon)
    at.number_input(key=form.LAT).set_value(lat)
    return at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_empty_workspace_shows_the_form_and_creates_a_project(workspace, lang):
    at = _app(lang)
    assert at.session_state[state.PROJECT] == ""
    assert not list(workspace.iterdir())  # no sample copied
    assert at.number_input(key=form.LON).value == pytest.approx(104.066)
    assert at.number_input(key=form.LAT).value == pytest.approx(30.657)
    _fill(at, "玉林北路", 104.0512, 30.6301)
    at.text_input(key=form.BUILDING_PREFIX).input("LD")
    at = _ok(at.button(key=form.CREATE).click().run())
    assert at.session_state[state.PROJECT] == "玉林北路"
    assert at.query_params["project"] in ("玉林北路", ["玉林北路"])
    project = open_project(workspace / "玉林北路")
    assert project.layers == {}
    assert project.name == "玉林北路"
    assert (project.settings.place.lon, project.settings.place.lat) == (104.0512, 30.6301)
    assert project.settings.naming.building_prefix == "LD"
    # now on the map page (the form is gone), the empty map drawn without error
    assert not at.get("button") or all(b.key != form.CREATE for b in at.button)
    assert project.metric_crs().to_epsg() == 4544


def test_data_page_button_opens_the_form(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDGIS_WORKSPACE", str(tmp_path / "fresh"))  # created now: a sample
    at = _app("en")
    assert at.session_state[state.PROJECT] == "dongsi180"
    at = _ok(at.switch_page("app/pages/data.py").run())
    assert [b for b in at.button if b.key == form.CREATE] == []
    at = _ok(at.button(key=form.OPEN).click().run())
    _fill(at, "dongsi180", 104.07, 30.67)  # taken: refused, nothing changed
    at = _ok(at.button(key=form.CREATE).click().run())
    assert "already holds" in " ".join(e.value for e in at.error)
    assert at.session_state[state.PROJECT] == "dongsi180"
    at.text_input(key=form.NAME).input("-bad")
    at = _ok(at.button(key=form.CREATE).click().run())
    assert "starts with '-'" in " ".join(e.value for e in at.error).replace("\\", "")
    at.text_input(key=form.NAME).input("new one")
    at = _ok(at.button(key=form.CREATE).click().run())
    assert at.session_state[state.PROJECT] == "new one"
    assert open_project(tmp_path / "fresh" / "new one").settings.place.lon == 104.07


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_map_page_renders_an_empty_project(workspace, lang):
    from app.workspace import create_project

    create_project("空", lon=116.42, lat=39.93)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang
    at.query_params["project"] = "空"
    at = _ok(at.run())
    assert at.session_state[state.PROJECT] == "空"
    for page in ("app/pages/sites.py", "app/pages/data.py"):
        _ok(at.switch_page(page).run())


@pytest.mark.parametrize(("basemap", "shifted"), [("none", False), ("gaode", True)])
def test_a_click_on_the_place_map_sets_the_place_in_wgs84(workspace, basemap, shifted):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "en"
    at.session_state[state.BASEMAP] = basemap
    at = _ok(at.run())
    clicked = {"lat": 30.6502, "lng": 104.0801}  # where the map shows it (GCJ-02 on Gaode)
    at.session_state[form.PLACE_MAP] = {"last_clicked": clicked}
    at = _ok(at.run())
    lon = at.number_input(key=form.LON).value
    lat = at.number_input(key=form.LAT).value
    if shifted:  # GCJ-02 is some 250-600 m off WGS84 in Chengdu: the place is the WGS84 point
        assert (
            0.001 < abs(lon - clicked["lng"]) < 0.01 and 0.0005 < abs(lat - clicked["lat"]) < 0.01
        )
    else:
        assert (lon, lat) == pytest.approx((clicked["lng"], clicked["lat"]), abs=1e-6)
    # the same click reported again on the next run is not taken again (typing wins)
    at.number_input(key=form.LON).set_value(104.1)
    at = _ok(at.run())
    assert at.number_input(key=form.LON).value == pytest.approx(104.1)
