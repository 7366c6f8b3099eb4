"""The new-project form: a name, a place (WGS84) and id prefixes make an empty project.

Shown on the Data page behind the ``new_project`` button, and first of all
when the workspace holds no project. Creating it makes the draft folder
``<workspace>/<name>`` (`app.workspace.create_project`), opens it (sidebar
and ``?project=``) and goes to the map page, centred on the place.

Widget keys are a contract (tests outside the repo drive them; Streamlit
renders key K as the CSS class ``st-key-K``); they are named here, beside
the form, rather than in `app.state`.
"""

from __future__ import annotations

import folium
import streamlit as st
from shapely.geometry import Point

from app import mapwidget, state, workspace
from app.context import plain
from app.sidebar import forget_view
from gridgis.core.settings import default_settings
from gridgis.errors import GridGISError
from gridgis.report.i18n import t
from gridgis.report.map.assets import localize_assets
from gridgis.report.map.basemaps import add_tiles, from_display, to_display

__all__ = [
    "BUILDING_PREFIX",
    "CREATE",
    "GRID_PREFIX",
    "LAT",
    "LON",
    "MAP_PAGE",
    "NAME",
    "OPEN",
    "PLACE_MAP",
    "follow",
    "render",
]

OPEN = "new_project"  # the button that shows the form
NAME = "new_project_name"
LON = "new_project_lon"
LAT = "new_project_lat"
GRID_PREFIX = "new_project_grid_prefix"
BUILDING_PREFIX = "new_project_building_prefix"
CREATE = "new_project_create"
PLACE_MAP = "new_project_place_map"  # the map a click on which picks the place
_SHOWN = "new_project_shown"  # the form is open
_GO_MAP = "new_project_go_map"  # a project was just made: show it on the map
_ERROR = "new_project_error"  # why the last try made nothing
_PICKED = "new_project_picked"  # the last click on the place map that was taken

MAP_PAGE = "app/pages/map.py"
_PLACE = default_settings().place
CHENGDU = (_PLACE.lon, _PLACE.lat)  # the shipped default place


def _show() -> None:
    st.session_state[_SHOWN] = True


def _create(lang: str) -> None:
    """Make the project from the form's values, open it, and ask for the map page."""
    name = str(st.session_state.get(NAME) or "").strip()
    folder = workspace.workspace() / name
    if not name:
        st.session_state[_ERROR] = t("newproject.name_missing", lang)
        return
    if name and folder.exists():
        st.session_state[_ERROR] = t("newproject.name_taken", lang, name=name)
        return
    try:
        workspace.create_project(
            name,
            lon=float(st.session_state.get(LON, CHENGDU[0])),
            lat=float(st.session_state.get(LAT, CHENGDU[1])),
            grid_prefix=str(st.session_state.get(GRID_PREFIX) or "G").strip(),
            building_prefix=str(st.session_state.get(BUILDING_PREFIX) or "B").strip(),
        )
    except GridGISError as exc:
        st.session_state[_ERROR] = t("newproject.failed", lang, reason=str(exc))
        return
    st.session_state.pop(_ERROR, None)
    st.session_state[_SHOWN] = False
    st.session_state[state.PROJECT] = name
    forget_view()
    st.session_state[_GO_MAP] = True
    state.flash("success", t("newproject.created", lang, name=name))


def _take_click() -> None:
    """A click on the place map (reported since the last run) becomes the place, in WGS84."""
    value = st.session_state.get(PLACE_MAP) or {}
    clicked = value.get("last_clicked") if isinstance(value, dict) else None
    if not isinstance(clicked, dict) or clicked == st.session_state.get(_PICKED):
        return
    st.session_state[_PICKED] = clicked
    try:
        lon, lat = float(clicked["lng"]), float(clicked["lat"])
    except (KeyError, TypeError, ValueError):
        return
    basemap = st.session_state.get(state.BASEMAP, "none")
    point = from_display(Point(lon, lat), basemap)  # a click on Gaode tiles is in GCJ-02
    st.session_state[LON] = round(float(point.x), 6)
    st.session_state[LAT] = round(float(point.y), 6)


def _place_map(lang: str) -> None:
    """A small map of the place: a click on it moves the place there (tiles: the sidebar's)."""
    basemap = st.session_state.get(state.BASEMAP, "none")
    lon = float(st.session_state.get(LON, CHENGDU[0]))
    lat = float(st.session_state.get(LAT, CHENGDU[1]))
    shown = to_display(Point(lon, lat), basemap)
    m = folium.Map(location=[shown.y, shown.x], zoom_start=16, tiles=None, max_zoom=20)
    try:
        add_tiles(m, basemap, lang, st.session_state.get(state.TIANDITU_KEY))
    except GridGISError:
        basemap = "none"
    folium.CircleMarker([shown.y, shown.x], radius=7, color="#e65100", weight=3,
                        fill=True, fill_opacity=0.6).add_to(m)  # fmt: skip
    localize_assets(m, asset_url=mapwidget.asset_url())
    mapwidget.show(mapwidget.prepare(m), key=PLACE_MAP, height=260,
                   returned_objects=["last_clicked"])  # fmt: skip
    hint = "place_map_offline" if basemap == "none" else "place_map_help"
    st.caption(t(f"newproject.{hint}", lang))


def follow() -> None:
    """After a project was made (the callback ran): go to the map page."""
    if st.session_state.pop(_GO_MAP, False):
        st.switch_page(MAP_PAGE)


def render(lang: str, *, first: bool = False) -> None:
    """The section: a button opening the form, or (`first`: no project yet) the form itself."""
    st.subheader(t("newproject.title", lang))
    if first:
        st.info(t("newproject.first", lang, folder=str(workspace.workspace())))
    elif not st.session_state.get(_SHOWN):
        st.button(t("newproject.button", lang), key=OPEN, on_click=_show,
                  icon=":material/add:")  # fmt: skip
        return
    st.session_state.setdefault(LON, CHENGDU[0])
    st.session_state.setdefault(LAT, CHENGDU[1])
    _take_click()  # (before the place's inputs are drawn: they show it)
    with st.container(border=True):
        st.text_input(t("newproject.name", lang), key=NAME, max_chars=64,
                      placeholder=t("newproject.name_placeholder", lang),
                      help=t("newproject.name_help", lang))  # fmt: skip
        c1, c2 = st.columns(2)
        c1.number_input(t("newproject.lon", lang), key=LON, min_value=-180.0, max_value=180.0,
                        step=0.001, format="%.6f",
                        help=t("newproject.place_help", lang))  # fmt: skip
        c2.number_input(t("newproject.lat", lang), key=LAT, min_value=-90.0, max_value=90.0,
                        step=0.001, format="%.6f",
                        help=t("newproject.place_help", lang))  # fmt: skip
        _place_map(lang)
        c3, c4 = st.columns(2)
        c3.text_input(t("newproject.building_prefix", lang), key=BUILDING_PREFIX, value="B",
                      max_chars=8, help=t("newproject.prefix_help", lang))  # fmt: skip
        c4.text_input(t("newproject.grid_prefix", lang), key=GRID_PREFIX, value="G",
                      max_chars=8, help=t("newproject.prefix_help", lang))  # fmt: skip
        st.button(t("newproject.create", lang), key=CREATE, type="primary",
                  on_click=_create, args=(lang,), icon=":material/check:")  # fmt: skip
        if error := st.session_state.get(_ERROR):
            st.error(plain(error))
