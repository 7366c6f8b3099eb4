"""The plan-image page under AppTest: upload, control points picked on the map, opacity, reset,
remove, conflicts. Clicks go in as the map component's value (``trace_map``), as
streamlit-folium sends them; every check reads the plan back from disk."""

from __future__ import annotations

import io

import numpy as np
import pyproj
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from app.context import open_context
from app.maps import base_map
from app.views import trace
from app.workspace import open_sample
from gridgis.core.georef import fit_transform
from gridgis.core.plan_image import PlanImageStore

from .apptest import APP
from .apptest import ok as _ok

PAGE = "app/pages/trace.py"
METRIC = "EPSG:4544"

pytestmark = pytest.mark.usefixtures("workspace")  # tests/conftest.py


def _png(width: int = 400, height: int = 300) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (width, height), 230).save(buf, "PNG")
    return buf.getvalue()


def _page(lang: str = "zh") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = lang
    _ok(at.run())
    return _ok(at.switch_page(PAGE).run())


def _upload(at: AppTest, data: bytes, name: str = "总平面图.png") -> AppTest:
    return _ok(at.file_uploader(key=trace.UPLOAD).set_value((name, data, "image/png")).run())


def _click(at: AppTest, lon: float, lat: float) -> AppTest:
    at.session_state[trace.MAP] = {"last_clicked": {"lat": lat, "lng": lon}}
    return _ok(at.run())


def _metres(a, b) -> float:
    a, b = np.asarray(a, float).reshape(-1, 2), np.asarray(b, float).reshape(-1, 2)
    return float(np.max(pyproj.Geod(ellps="WGS84").inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2]))


def _texts(at: AppTest) -> str:
    shown = (*at.info, *at.success, *at.warning, *at.caption, *at.toast)
    return " ".join(str(x.value) for x in shown)


def test_upload_lays_the_plan_over_the_compound(workspace):
    at = _page()
    assert "还没有描图底图" in _texts(at)
    _upload(at, _png())
    plan = PlanImageStore(workspace / "dongsi180").load()
    assert plan is not None and (plan.rev, plan.width, plan.height) == (1, 400, 300)
    assert "已上传 总平面图.png（400 × 300 像素）" in _texts(at)
    assert "第 1 个控制点" in _texts(at)
    west, south, east, north = open_context("dongsi180").project.footprint().total_bounds
    corners = plan.corners()
    assert corners[:, 0].min() >= west - 1e-6 and corners[:, 0].max() <= east + 1e-6
    assert corners[:, 1].min() >= south - 1e-6 and corners[:, 1].max() <= north + 1e-6
    _ok(at.run())  # the same upload on the next run is not stored again
    assert PlanImageStore(workspace / "dongsi180").revision() == 1


def test_two_control_points_give_the_expected_affine(workspace):
    at = _upload(_page("en"), _png())
    store = PlanImageStore(workspace / "dongsi180")
    start = store.load().placement
    # the truth: the plan turned 20 degrees, 0.3 m a pixel, its top-left at a known place
    pixels = [(40.0, 50.0), (360.0, 260.0)]
    angle, scale = np.radians(20), 0.3
    origin = pyproj.Transformer.from_crs(4326, METRIC, always_xy=True).transform(104.0695, 30.6705)
    rot = np.array([[np.cos(angle), np.sin(angle)], [np.sin(angle), -np.cos(angle)]]) * scale
    to_ll = pyproj.Transformer.from_crs(METRIC, 4326, always_xy=True)

    def truth(px):
        x, y = np.asarray(px, float) @ rot.T + origin
        return to_ll.transform(x, y)

    for n, px in enumerate(pixels, start=1):
        on_image = store.load().placement.to_map([px])[0]
        _click(at, *on_image)  # a click on the feature in the image...
        assert f"Control point {n}: picked on the image (pixel {px[0]:.0f}, {px[1]:.0f})" in (
            _texts(at)
        )
        _click(at, *truth(px))  # ...then on its true place
    plan = store.load()
    assert plan.rev == 3 and len(plan.image_points) == 2
    assert np.allclose(plan.image_points, pixels, atol=1e-6)
    assert "Lined up by 2 control points (similarity)" in _texts(at)
    expected = fit_transform(pixels, [truth(p) for p in pixels], crs=METRIC)
    probe = [(0, 0), (400, 0), (400, 300), (0, 300), (200, 150)]
    assert _metres(plan.placement.to_map(probe), expected.to_map(probe)) < 0.5
    assert _metres(plan.placement.to_map(probe), [truth(p) for p in probe]) < 0.5
    assert plan.placement != start
    table = at.dataframe[0].value
    assert table["Residual (m)"].tolist() == [0.0, 0.0]
    # the map page's base map shows the placed plan too, from the served copy
    prepared = base_map(open_context("dongsi180"), "en", "none", None)
    assert "L.imageOverlay.rotated(" in prepared.script
    assert f"/app/static/plan_image/{plan.path.name}" in prepared.script
    assert (trace.STATIC_PLANS / plan.path.name).read_bytes() == plan.path.read_bytes()


def test_a_click_off_the_image_is_refused_and_undo_reset_remove(workspace):
    at = _upload(_page("en"), _png())
    store = PlanImageStore(workspace / "dongsi180")
    plan = store.load()
    far = plan.placement.to_map([(-200, -200)])[0]
    _click(at, *far)
    assert "not on the plan image" in " ".join(w.value for w in at.warning)
    assert trace.PENDING not in at.session_state
    inside = [plan.placement.to_map([p])[0] for p in ((10, 10), (390, 290), (390, 10))]
    for lonlat in inside:  # three pairs, each true place 2 m east of the image's point
        _click(at, *lonlat)
        _click(at, lonlat[0] + 2e-5, lonlat[1])
    plan = store.load()
    assert len(plan.image_points) == 3 and "(affine)" in _texts(at)
    at.button(key=trace.POINT_UNDO).click().run()
    assert len(_ok(at) and store.load().image_points) == 2
    at.button(key=trace.POINTS_RESET).click().run()
    plan = _ok(at) and store.load()
    assert plan.image_points == () and plan.placement == store.load().placement
    assert "Control points cleared" in _texts(at)
    at.button(key=trace.REMOVE).click().run()
    assert _ok(at) and store.load() is None
    assert "No plan image yet" in _texts(at)


def test_opacity_is_saved_and_a_stale_change_conflicts(workspace):
    at = _upload(_page("en"), _png())
    store = PlanImageStore(workspace / "dongsi180")
    _ok(at.slider(key=trace.OPACITY).set_value(0.3).run())
    assert store.load().opacity == 0.3 and store.load().rev == 2
    store.update(expected_rev=2, opacity=0.9)  # another browser, meanwhile
    _ok(at.slider(key=trace.OPACITY).set_value(0.1).run())
    assert store.load().opacity == 0.9  # not overwritten
    assert "Another window changed the plan image" in " ".join(w.value for w in at.warning)
    assert at.slider(key=trace.OPACITY).value == 0.9  # the page shows what is on disk
    _ok(at.slider(key=trace.OPACITY).set_value(0.5).run())
    assert store.load().opacity == 0.5


def test_a_bad_upload_says_why(workspace):
    at = _upload(_page("en"), b"GIF89a not really", name="plan.png")
    assert "This image cannot be used" in " ".join(e.value for e in at.error)
    shown = at.error[0].value.replace("\\", "")  # (Markdown escapes)
    assert "'plan.png' is not a PNG or JPEG image (it starts b'GIF89a n')" in shown
    assert PlanImageStore(workspace / "dongsi180").load() is None


def test_a_geopackage_project_needs_a_folder(workspace):
    _page("en")  # the workspace, with its sample
    name = open_sample("shaxi_f.gpkg")
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(lang="en", project=name)
    _ok(at.run())
    _ok(at.switch_page(PAGE).run())
    assert "A plan image needs a folder project" in _texts(at)
    assert not at.get("file_uploader")
