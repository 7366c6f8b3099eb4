"""The plan image on a folium map (gridgis.report.map.plan_overlay), on plain maps built here."""

from __future__ import annotations

import io
import json
import re
import shutil

import folium
import numpy as np
import pytest
from PIL import Image

from gridgis.core.crs import convert_coords
from gridgis.core.plan_image import PlanImageStore
from gridgis.report.map.assets import VENDOR_FILES, check_assets, localize_assets
from gridgis.report.map.plan_overlay import PANE, PlanScripts, add_plan_overlay

from .conftest import DATA

BOUNDS = (104.0690, 30.6690, 104.0710, 30.6705)
PLUGIN = "L.ImageOverlay.Rotated = L.ImageOverlay.extend"
LEAFLET = "Leaflet 1.9.3, a JS library for interactive maps"  # leaflet.js itself


@pytest.fixture
def plan(tmp_path):
    project = shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    buf = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(buf, "JPEG")
    store = PlanImageStore(project)
    store.upload(buf.getvalue(), name="plan.jpg", expected_rev=0, bounds=BOUNDS)
    return store.update(expected_rev=1, opacity=0.45)


def _call(html: str) -> tuple[str, list, list, list, dict]:
    """The URL, corners and options the page passes to L.imageOverlay.rotated."""
    page = html.rsplit("<script>", 1)[-1]  # the map's own script (the plugin's docs call it too)
    found = re.search(r"L\.imageOverlay\.rotated\(\s*(.*?)\s*\);", page, re.S)
    assert found, "no rotated image overlay in the map's script"
    args = found.group(1)
    args = re.sub(r"([{,]\s*)([A-Za-z]+):", r'\1"\2":', args)  # the options as JSON
    url, tl, tr, bl, opts = json.loads(f"[{args}]")
    return url, tl, tr, bl, opts


def test_the_overlay_is_inlined_after_leaflet_at_the_plans_corners(plan):
    m = folium.Map(tiles=None)
    add_plan_overlay(m, plan, lang="en")
    folium.LayerControl().add_to(m)
    html = localize_assets(m).get_root().render()
    assert "cdn.jsdelivr" not in html and "<script src=" not in html
    assert 0 < html.index(LEAFLET) < html.index(PLUGIN) < html.rindex("L.imageOverlay.rotated(")
    url, tl, tr, bl, opts = _call(html)
    assert url.startswith("data:image/jpeg;base64,")
    corners = plan.corners()  # lon, lat: top-left, top-right, bottom-right, bottom-left
    assert np.allclose([tl, tr, bl], corners[[0, 1, 3]][:, ::-1], atol=1e-7)
    assert opts == {
        "opacity": 0.45,
        "interactive": False,
        "pane": PANE,
        "alt": "Plan image",
        "pmIgnore": True,
        "snapIgnore": True,
    }  # not a target of snapping
    assert 'pane.style.pointerEvents = "none"' in html and "zIndex = 350" in html
    assert re.search(r'overlays : +\{\s+"Plan image" : gridgis_plan_image_\w+,', html)  # listed


def test_served_scripts_and_image_and_gaode_corners(plan):
    m = folium.Map(tiles=None)
    add_plan_overlay(m, plan, basemap="gaode", image_url="/app/static/plan/x.jpg", opacity=0.2)
    localize_assets(m, asset_url="/static/vendor")
    html = m.get_root().render()
    links = re.findall(r'<script src="([^"]+)"', html)
    assert links.index("/static/vendor/leaflet/dist/leaflet.js") < links.index(
        "/static/vendor/leaflet-imageoverlay-rotated/Leaflet.ImageOverlay.Rotated.js"
    )
    url, tl, _, bl, opts = _call(html)
    assert url == "/app/static/plan/x.jpg" and opts["opacity"] == 0.2 and "base64" not in html
    corners = plan.corners()
    lon, lat = convert_coords(corners[:, 0], corners[:, 1], src="wgs84", dst="gcj02")
    assert tl == pytest.approx([lat[0], lon[0]], abs=1e-7)
    assert bl == pytest.approx([lat[3], lon[3]], abs=1e-7)
    assert abs(tl[1] - corners[0, 0]) > 1e-3  # GCJ-02 is hundreds of metres off WGS84


def test_an_overlay_in_a_feature_group_needs_only_the_maps_scripts(plan):
    m = folium.Map(tiles=None)
    PlanScripts().add_to(m)
    group = folium.FeatureGroup(name="sent later")
    add_plan_overlay(group, plan, image_url="/x.jpg")
    group.add_to(m)
    localize_assets(m, asset_url="/v")
    html = m.get_root().render()
    assert html.count("Leaflet.ImageOverlay.Rotated.js") == 1
    assert re.search(r"\.addTo\(feature_group_\w+\);", html)


def test_the_plugin_ships_with_the_other_scripts():
    assert "leaflet-imageoverlay-rotated/Leaflet.ImageOverlay.Rotated.js" in VENDOR_FILES
    root = check_assets()
    text = root.joinpath("leaflet-imageoverlay-rotated", "Leaflet.ImageOverlay.Rotated.js")
    assert PLUGIN in text.read_text(encoding="utf-8")
