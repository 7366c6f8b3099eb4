"""The map widget: the same component call as st_folium, a key that survives drawing."""

from __future__ import annotations

import streamlit_folium as sf

from app import mapwidget
from gridgis.analysis.engine import analyze_sites
from gridgis.core.project import open_project
from gridgis.report.map.view import project_map, sites_layer

from .conftest import DATA


def _base(lang: str = "zh"):
    project = open_project(DATA / "dongsi180")
    return project_map(project, lang=lang, sites=False, draw=True, asset_url=mapwidget.asset_url())


def _group(selected: str | None = None):
    project = open_project(DATA / "dongsi180")
    return sites_layer(analyze_sites(project).sites, settings=project.settings, selected=selected,
                       clear_drawn=0)  # fmt: skip


def test_show_makes_the_same_call_as_st_folium(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(sf, "_component_func", lambda **kw: calls.append(kw) or {})
    sf.st_folium(
        _base(), key="map", height=600, use_container_width=True,
        returned_objects=["all_drawings"], feature_group_to_add=_group(),
    )  # fmt: skip
    mapwidget.show(
        mapwidget.prepare(_base()), key="map", feature_group=_group(), height=600,
        returned_objects=["all_drawings"],
    )  # fmt: skip
    expected, ours = calls
    expected.pop("on_change")
    ours.pop("on_change")
    assert ours.keys() == expected.keys()
    for name in expected:
        assert ours[name] == expected[name], name


def test_the_map_is_not_remounted_when_sites_change(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(sf, "_component_func", lambda **kw: calls.append(kw) or {})
    prepared = mapwidget.prepare(_base())
    mapwidget.show(prepared, key="map", feature_group=_group())
    mapwidget.show(prepared, key="map", feature_group=_group(selected="SITE2"))
    mapwidget.show(mapwidget.prepare(_base()), key="map", feature_group=_group())
    first, second, rebuilt = calls
    assert first["key"] == second["key"] == rebuilt["key"]  # same component: no remount
    assert first["feature_group"] != second["feature_group"]  # only the sites change
    assert first["script"] == rebuilt["script"]  # the base map is built identically
    assert mapwidget.component_key(mapwidget.prepare(_base("en")), "map") != first["key"]


def test_only_local_scripts_and_a_small_page():
    prepared = mapwidget.prepare(_base())
    assert all(u.startswith("/app/static/vendor/") for u in prepared.js_links + prepared.css_links)
    assert prepared.size < 60_000
    assert "drawnItems" in prepared.script  # streamlit-folium reads drawings from it
