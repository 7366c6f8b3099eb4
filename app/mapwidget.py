"""streamlit-folium's ``st_folium``, split so the base map is rendered once.

``st_folium(m, feature_group_to_add=fg, ...)`` renders the whole folium map
on every run (about 50-100 ms for the sample compound) although the base map
never changes while sites are drawn. `prepare` does that rendering once (the
app caches the result per project, language and basemap) and `show` sends it
with the sites' feature group, making exactly the component call that
``st_folium`` makes (``tests/test_app_map.py`` checks that the arguments are
identical, so an upgrade of streamlit-folium that changes them fails a test).

The component is keyed on the base map's script: as long as the base map is
the same, the browser keeps the map (view, half-drawn shapes) and only swaps
the feature group.

The map's scripts (Leaflet...) are package data of gridgis; Streamlit serves
only ``./static`` next to ``app.py``, so `asset_url` copies them there
(`gridgis.report.map.assets.export_assets`, when missing or changed: plain
files, no links, so Windows works too) and gives the URL to build maps with:
``project_map(..., asset_url=mapwidget.asset_url())`` keeps the pages small.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import branca
import folium
import streamlit as st
import streamlit_folium as sf

from gridgis.report.map.assets import export_assets

#: The copy of the map's scripts that Streamlit serves (``server.enableStaticServing``).
STATIC_VENDOR = Path(__file__).resolve().parents[1] / "static" / "vendor" / "node_modules"
#: Its URL.
ASSET_URL = "/app/static/vendor/node_modules"


@functools.cache
def asset_url() -> str:
    """The URL of the served map scripts, copied into ``static/`` first (once per process)."""
    export_assets(STATIC_VENDOR)
    return ASSET_URL


@dataclass(frozen=True)
class PreparedMap:
    """The rendered parts of a base map, as ``st_folium`` sends them."""

    script: str
    header: str
    html: str
    map_id: str
    bounds: list[list[float | None]]
    zoom: Any
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    _keys: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        """Bytes of HTML and script the browser receives for the base map."""
        return len((self.script + self.header + self.html).encode())


def _links(m: folium.Map) -> tuple[tuple[str, ...], tuple[str, ...]]:
    css: list[str] = []
    js: list[str] = []

    def walk(element: Any) -> Iterable[Any]:
        if isinstance(element, branca.colormap.ColorMap):
            raise TypeError("colormaps load d3 from a CDN; gridgis maps must not use them")
        if isinstance(element, folium.elements.JSCSSMixin):
            yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for element in walk(m):
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    return tuple(dict.fromkeys(css)), tuple(dict.fromkeys(js))


def prepare(m: folium.Map) -> PreparedMap:
    """Render a base map the way ``st_folium`` does (this changes `m`: use it once)."""
    m.get_root().render()
    m.render()
    html = sf._get_html(m)
    header = sf._get_header(m)
    script = sf._get_map_string(m)
    try:
        bounds = m.get_bounds()
    except AttributeError:
        bounds = [[None, None], [None, None]]
    css, js = _links(m)
    return PreparedMap(
        script=script,
        header=header,
        html=html,
        map_id=sf.get_full_id(m),
        bounds=bounds,
        zoom=m.options.get("zoom") if hasattr(m, "options") else {},
        css_links=css,
        js_links=js,
    )


def _defaults(prepared: PreparedMap, returned_objects: list[str]) -> dict[str, Any]:
    (south, west), (north, east) = prepared.bounds
    everything = {
        "last_clicked": None,
        "last_object_clicked": None,
        "last_object_clicked_count": None,
        "last_object_clicked_tooltip": None,
        "last_object_clicked_popup": None,
        "all_drawings": None,
        "last_active_drawing": None,
        "bounds": {
            "_southWest": {"lat": south, "lng": west},
            "_northEast": {"lat": north, "lng": east},
        },
        "zoom": prepared.zoom,
        "last_circle_radius": None,
        "last_circle_polygon": None,
        "selected_layers": None,
        "selected_tags": None,
        "last_geocoder_result": None,
    }
    return {k: v for k, v in everything.items() if k in returned_objects}


def feature_group_script(group: folium.FeatureGroup, idx: int = 0) -> str:
    """The script ``st_folium`` sends for ``feature_group_to_add=group``.

    `idx` numbers the group's variable (``feature_group_feature_group_<idx>``):
    scripts of several groups can be sent together (`show`'s ``more_groups``),
    each added to the map and removed again on the next update.
    """
    stub = folium.Map(tiles=None)  # only its name is used: it becomes "map_div"
    return sf._get_feature_group_string(group, map=stub, idx=idx)


def component_key(prepared: PreparedMap, key: str) -> str:
    """The component's key: the same while the base map is the same (computed once per key)."""
    if key not in prepared._keys:
        prepared._keys[key] = sf.generate_js_hash(prepared.script, key, False)
    return prepared._keys[key]


def show(
    prepared: PreparedMap,
    *,
    key: str,
    feature_group: folium.FeatureGroup | None = None,
    height: int = 640,
    returned_objects: list[str] | None = None,
    more_groups: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Show the map; return its value (only `returned_objects` trigger a rerun).

    `more_groups` are scripts of further feature groups made ahead with
    `feature_group_script` (``idx`` 1, 2, ...: a caller can cache them). The value
    is also copied to ``st.session_state[key]`` whenever it changes.
    """
    returned = list(returned_objects or [])
    hash_key = component_key(prepared, key)
    group = feature_group_script(feature_group) if feature_group is not None else None
    if more_groups:
        group = (group or "") + "".join(more_groups)

    def on_change() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})

    return sf._component_func(
        script=prepared.script,
        header=prepared.header,
        html=prepared.html,
        id=prepared.map_id,
        key=hash_key,
        height=height,
        width=None,
        returned_objects=returned,
        default=_defaults(prepared, returned),
        zoom=None,
        center=None,
        feature_group=group,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=list(prepared.css_links),
        js_links=list(prepared.js_links),
        on_change=on_change,
        wrap_longitude=False,
    )
