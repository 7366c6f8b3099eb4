"""Drawing and editing the project's other layers: buildings, micro-grids, spaces, paths, compound.

A shape drawn while the map page's `state.DRAW_LAYER` names a layer other
than ``sites`` is stored at once through
``ProjectStore(path).layer(name)`` (`gridgis.core.store.LayerStore`: locked,
atomic, one feature per write, with revisions) under the layer's next free
id and default attributes (`DEFAULTS`). The compound is one feature, keyed by
name: a second drawing replaces its outline (undo puts the old one back).
Every write bumps the project's stamp (`app.workspace.bump`), so the cached
project, base map and prepared engine are made again from the new layers.
Changes go on the session's undo stack as the sites' do (`app.state.push_undo`,
with ``layer``), and `app.edits.undo` undoes them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import shapely
import streamlit as st
from shapely.geometry import shape

from app import state, workspace
from gridgis.core.snapping import SNAP_M, snap_drawing
from gridgis.core.store import LayerStore, ProjectStore
from gridgis.errors import ConflictError, GridGISError, ValidationError
from gridgis.report.i18n import t
from gridgis.report.map.view import from_display
from gridgis.report.problems import conflict_detail, problem_message

__all__ = [
    "DEFAULTS",
    "FIELDS",
    "LAYERS",
    "TOOLS",
    "delete",
    "ingest",
    "layer_store",
    "plain_value",
    "problem_text",
    "snapped",
    "update",
]

LAYERS = ("compound", "buildings", "microgrids", "spaces", "paths", "sites")
"""The `state.DRAW_LAYER` choices, in the order the map page shows them."""

TOOLS: dict[str, tuple[str, ...]] = {
    **{layer: ("polygon", "rectangle") for layer in LAYERS},
    "paths": ("polyline",),
}
"""The Leaflet.draw tools offered while drawing into each layer."""

DEFAULTS: dict[str, dict[str, Any]] = {
    "buildings": {"households": None, "name": None, "units": None, "floors": None},
    "microgrids": {"name": None, "leader": None},
    "spaces": {"kind": "golden_corner"},
    "paths": {"kind": "footpath", "width_m": 2.0},
    "compound": {},
}
"""Attributes of a newly drawn feature, per layer."""

FIELDS: dict[str, tuple[str, ...]] = {
    "compound": ("name",),
    "buildings": ("name", "units", "floors", "households"),
    "microgrids": ("name", "leader"),
    "spaces": ("kind",),
    "paths": ("kind", "width_m"),
}
"""The attributes the form edits, per layer."""

_LINES = ("LineString", "MultiLineString")


def layer_store(path: Path, layer: str) -> LayerStore:
    """The store of `layer` of the project at `path`, validating with its settings."""
    if layer not in FIELDS:
        raise ValueError(f"layer must be one of {tuple(FIELDS)}, got {layer!r}")
    return ProjectStore(path, settings=workspace.load_project(path).settings).layer(layer)


def problem_text(exc: GridGISError, layer: str, lang: str) -> str:
    """The problems of a refused write in `lang`, each naming the feature and the field."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for p in exc.problems:
        named = p if p.feature else dataclasses.replace(p, feature=t(f"drawlayer.{layer}", lang))
        parts.append(problem_message(named, lang))
    return "; ".join(parts)


def _wrote(path: Path) -> None:
    """The project's layers changed: its cached project, map and engine are stale."""
    workspace.bump(path)


def _fid(store: LayerStore, row: dict[str, Any]) -> str:
    return str(row[store.key])


def _geometry(feature: dict[str, Any], layer: str, basemap: str, lang: str) -> Any:
    """The drawing's outline in WGS84, or None (and a message) when it does not fit `layer`."""
    allowed = ("Polygon", *(_LINES if layer == "paths" else ()))
    try:
        geom = shape(feature["geometry"])
    except (KeyError, TypeError, ValueError, AttributeError):
        geom = None
    if geom is None or geom.is_empty or geom.geom_type not in allowed:
        geometry = t(f"drawlayer.geometry_{'line' if layer == 'paths' else 'polygon'}", lang)
        layer_name = t(f"drawlayer.{layer}", lang)
        state.flash("error", t("drawlayer.bad_drawing", lang, geometry=geometry, layer=layer_name))
        return None
    return shapely.set_precision(from_display(geom, basemap), 1e-8)


def snapped(path: Path, geom: Any, lang: str) -> Any:
    """`geom` with its vertices near the project's other shapes put onto them (a message says
    how many moved: `gridgis.core.snapping`)."""
    layers = workspace.load_project(path).layers
    others = [
        g
        for name, frame in layers.items()
        if name != "sites" and hasattr(frame, "geometry")
        for g in frame.geometry
    ]
    result, moved = snap_drawing(geom, others, SNAP_M)
    if moved:
        state.flash("info", t("drawlayer.snapped", lang, n=moved, m=f"{SNAP_M:g}"))
    return result


def ingest(path: Path, layer: str, *, basemap: str, lang: str) -> list[dict[str, Any]]:
    """Store every drawing not stored yet as a feature of `layer`; return the stored rows."""
    done = state.ingested()
    fresh = [f for f in state.drawings() if state.drawing_hash(f) not in done]
    if not fresh:
        return []
    store = layer_store(path, layer)
    out: list[dict[str, Any]] = []
    for feature in fresh:
        done.add(state.drawing_hash(feature))
        geom = _geometry(feature, layer, basemap, lang)
        if geom is None:
            continue
        geom = shapely.set_precision(snapped(path, geom, lang), 1e-8)
        try:
            row = _store_drawing(store, layer, geom, path, lang)
        except ConflictError as exc:
            detail = conflict_detail(exc, lang)
            state.flash("error", t("drawlayer.conflict", lang, feature=layer, detail=detail))
            continue
        except GridGISError as exc:
            detail = problem_text(exc, layer, lang)
            state.flash("error", t("drawlayer.not_saved", lang, detail=detail))
            continue
        state.layer_selection()[layer] = _fid(store, row)
        out.append(row)
    state.bump_clear_round()
    if out:
        _wrote(path)
    return out


def _store_drawing(
    store: LayerStore, layer: str, geom: Any, path: Path, lang: str
) -> dict[str, Any]:
    """Add the drawing to `layer` (or, for a compound that exists, replace its outline)."""
    if layer == "compound":
        existing = store.load()
        if len(existing):
            before = store.get(str(existing[store.key].iloc[0]))
            if before is None:
                raise ConflictError("the compound was deleted by another session")
            fid = _fid(store, before)
            after = store.update(fid, expected_rev=int(before["rev"]), geometry=geom)
            state.push_undo("update", fid, before, after, layer=layer)
            state.flash("success", t("drawlayer.replaced", lang, feature=fid))
            return after
        row = store.add(geom, fid=path.stem, **DEFAULTS[layer])
    else:
        fid = store.new_id()
        named = {"name": fid} if layer == "microgrids" else {}  # a micro-grid needs a name
        row = store.add(geom, fid=fid, **(DEFAULTS[layer] | named))
    state.push_undo("add", _fid(store, row), None, row, layer=layer)
    name = t(f"drawlayer.{layer}", lang)
    state.flash("success", t("drawlayer.added", lang, layer=name, feature=_fid(store, row)))
    return row


def plain_value(value: Any, field: str = "") -> Any:
    """A form value as the store takes it: blank text and NaN None, whole counts as int."""
    if isinstance(value, str):
        value = value.strip() or None  # a blank number: the store keeps its column numeric
    if isinstance(value, float) and value != value:  # NaN: a blank number on disk
        value = None
    if isinstance(value, float) and field in ("units", "floors", "households"):
        value = int(value) if value.is_integer() else value
    return value


def update(
    path: Path,
    layer: str,
    fid: str,
    rev: int,
    field: str,
    widget: str,
    lang: str,
    shown: Any = None,
) -> None:
    """Save the value of widget `widget` as `field` of feature `fid` (a widget callback).

    `shown` is the value the form showed. A value equal to what is stored is no
    change (a widget left over from an earlier run can call back with it). When
    another session changed the feature since (another revision) but not this
    field, the change is saved on top of theirs; only a change of the same
    field is a conflict.
    """
    if field not in FIELDS.get(layer, ()):
        raise ValueError(f"field must be one of {FIELDS.get(layer, ())}, got {field!r}")
    value = plain_value(st.session_state.get(widget), field)
    if layer == "compound" and field == "name" and value is None:
        value = fid  # the compound is keyed by its name: it cannot be empty
    store = layer_store(path, layer)
    before = store.get(fid)
    try:
        if before is None:
            raise ConflictError(
                f"{store.noun} {fid!r} was deleted by another session",
                feature=fid,
                kind="deleted",
            )
        stored = plain_value(before.get(field), field)
        if value == stored:
            return
        base = rev
        if int(before["rev"]) != rev and stored == plain_value(shown, field):
            base = int(before["rev"])  # changed elsewhere, but not this field
        after = store.update(fid, expected_rev=base, **{field: value})
    except ConflictError as exc:
        state.flash(
            "error", t("drawlayer.conflict", lang, feature=fid, detail=conflict_detail(exc, lang))
        )
        return
    except GridGISError as exc:
        state.flash("error", t("drawlayer.not_saved", lang, detail=problem_text(exc, layer, lang)))
        return
    new_fid = _fid(store, after)
    state.push_undo("update", new_fid, before, after, layer=layer)
    state.layer_selection()[layer] = new_fid
    _wrote(path)
    state.flash("success", t("drawlayer.saved", lang, feature=new_fid))


def delete(path: Path, layer: str, fid: str, rev: int, lang: str) -> None:
    """Delete one feature of `layer` (a button callback)."""
    store = layer_store(path, layer)
    before = store.get(fid)
    if before is None:
        state.flash("warning", t("drawlayer.already_deleted", lang, feature=fid))
        return
    try:
        store.delete(fid, expected_rev=rev)
    except ConflictError as exc:
        state.flash(
            "error", t("drawlayer.conflict", lang, feature=fid, detail=conflict_detail(exc, lang))
        )
        return
    state.push_undo("delete", fid, before, None, layer=layer)
    _wrote(path)
    state.flash("success", t("drawlayer.deleted", lang, feature=fid))
