"""Editing what is on the map: pick a feature by clicking it, move its vertices or all of it.

The editor is Leaflet-Geoman (npm ``@geoman-io/leaflet-geoman-free``, served like
Leaflet by `gridgis.report.map.assets`): it edits any Leaflet layer and snaps a
dragged vertex to the vertices and edges of every other shape on the map within
`SNAP_PX` pixels. Leaflet.draw's edit mode was the other candidate; it edits only
the layers inside its own feature group, so every saved feature would have to
live in the group whose shapes streamlit-folium reports as new drawings, it has
no snapping, and the features lose their identity there (streamlit-folium 307).

Two elements:

- `EditTools`, on the app's base map: loads Leaflet-Geoman and the small glue
  script ``static/edit.js``, and keeps the map's view in the tab's
  ``sessionStorage`` (`view_key`), so a map rebuilt after a save (its layers
  changed) opens where the worker was, not re-fitted to the compound.
- `EditLayer`, in the feature group sent on every run: the features of the layer
  being drawn into, at full precision and in the display datum, each with its
  id and revision. A click picks one (the app shows its form); the one picked on
  the map is editable at once (``mode`` ``"vertices"`` or ``"move"``). The sites' own layer
  (`gridgis.report.map.sites`) attaches the same behaviour to its shapes.

Each pick and each change reaches the app as a point in Leaflet.draw's group
whose ``properties.gridgis`` holds ``{op, layer, fid, rev, n, geometry}``
(`event_of`): one path for drawings and edits, returned by streamlit-folium in
``all_drawings``.

Examples
--------
>>> event_of({"properties": {"gridgis": {"op": "select", "layer": "buildings",
...           "fid": "B1", "rev": 2, "n": "1"}}})
MapEvent(op='select', layer='buildings', fid='B1', rev=2, geometry=None)
>>> event_of({"geometry": {"type": "Point", "coordinates": [104.0, 30.6]}}) is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
from folium.elements import JSCSSMixin
from shapely.geometry import mapping, shape

from gridgis.report.map.elements import RawMacroElement, resource_text, template

__all__ = [
    "EDIT_MODES",
    "EVENT_OPS",
    "GEOMAN_CSS",
    "GEOMAN_JS",
    "SNAP_PX",
    "EditLayer",
    "EditTools",
    "MapEvent",
    "edit_options",
    "event_of",
]

SNAP_PX = 12  # a dragged vertex snaps to another shape's vertex or edge this near (pixels)
EDIT_MODES = ("vertices", "move")
EVENT_OPS = ("select", "edit")
_GEOMAN = "https://cdn.jsdelivr.net/npm/@geoman-io/leaflet-geoman-free@2.20.2/dist"
GEOMAN_JS = f"{_GEOMAN}/leaflet-geoman.min.js"
GEOMAN_CSS = f"{_GEOMAN}/leaflet-geoman.css"
_EDIT_STYLES = {
    "normal": {"color": "#e65100", "weight": 1, "opacity": 0.5, "dashArray": "4 3",
               "fillOpacity": 0},
    "hover": {"color": "#e65100", "weight": 3, "opacity": 0.9, "dashArray": None,
              "fillOpacity": 0.08},
    "selected": {"color": "#e65100", "weight": 3, "opacity": 1, "dashArray": None,
                 "fillOpacity": 0.12},
}  # fmt: skip


@dataclass(frozen=True)
class MapEvent:
    """A pick (``select``) or a change of geometry (``edit``) of one feature on the map."""

    op: str
    layer: str
    fid: str
    rev: int
    geometry: Any = None  # the new outline (shapely, display datum) of an ``edit``


def event_of(feature: Mapping[str, Any]) -> MapEvent | None:
    """The edit event a reported drawing carries, or None for a plain drawing.

    Raises
    ------
    ValueError
        The drawing claims to be an event but its fields are not usable
        (an unknown op, no feature id, no geometry for an edit).
    """
    props = feature.get("properties")
    info = props.get("gridgis") if isinstance(props, Mapping) else None
    if not isinstance(info, Mapping):
        return None
    op, layer, fid = info.get("op"), info.get("layer"), info.get("fid")
    if op not in EVENT_OPS or not isinstance(layer, str) or fid in (None, ""):
        raise ValueError(f"map event has op={op!r}, layer={layer!r}, fid={fid!r}")
    try:
        rev = int(info["rev"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"map event of {fid!r} has rev={info.get('rev')!r}") from exc
    geometry = None
    if op == "edit":
        try:
            geometry = shape(info["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"map event edit of {fid!r} has no usable geometry") from exc
    return MapEvent(op=str(op), layer=layer, fid=str(fid), rev=rev, geometry=geometry)


def edit_options(
    selected: str | None, mode: str = "vertices", editing: str | None = None
) -> dict[str, Any]:
    """The options `EditLayer` and the sites' layer pass to ``GridgisEdit.attach``.

    `selected` is highlighted; `editing` (the feature last picked on the map) shows
    its vertices at once. A feature chosen from a list is not made editable by that.
    """
    if mode not in EDIT_MODES:
        raise ValueError(f"mode must be one of {EDIT_MODES}, got {mode!r}")
    return {"selected": selected, "editing": editing, "mode": mode, "snap": SNAP_PX}


class EditTools(JSCSSMixin, RawMacroElement):
    """Leaflet-Geoman, the editing glue and the kept view, for the app's base map."""

    _template = template("edit_tools.j2")

    def __init__(self, view_key: str) -> None:
        super().__init__()
        self.default_js = [("leaflet_geoman", GEOMAN_JS)]
        self.default_css = [("leaflet_geoman_css", GEOMAN_CSS)]
        self._name = "GridgisEditTools"
        self.view_key = str(view_key)
        self.edit_js = resource_text("static/edit.js")


class EditLayer(RawMacroElement):
    """The features of one layer, pickable and editable (sent with the feature group)."""

    _template = template("edit_layer.j2")

    def __init__(
        self,
        frame: gpd.GeoDataFrame,
        *,
        layer: str,
        key: str,
        tooltips: list[str],
        selected: str | None = None,
        mode: str = "vertices",
        editing: str | None = None,
    ) -> None:
        super().__init__()
        self._name = "GridgisEditLayer"
        self.layer = layer
        self.options = edit_options(selected, mode, editing)
        self.styles = _EDIT_STYLES
        revs = frame["rev"] if "rev" in frame else [0] * len(frame)
        self.features = [
            [mapping(geom), str(fid), int(rev), tip]
            for geom, fid, rev, tip in zip(frame.geometry, frame[key], revs, tooltips, strict=True)
            if geom is not None and not geom.is_empty
        ]
