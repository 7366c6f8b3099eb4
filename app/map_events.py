"""Picks and edits made on the map itself: a feature clicked, its vertices or position changed.

The map reports them among its drawings (`gridgis.report.map.editing.event_of`).
A pick selects the feature (its form shows beside the map); an edit saves the
new outline at once through the layer's store with the revision the browser
drew, so an outline changed meanwhile by another session is a conflict, not a
lost edit. Each saved edit goes on the undo stack like any other change.
Runs before anything else on the page (`app.edits.ingest_pending`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
import streamlit as st

from app import engine, layer_edits, state, workspace
from gridgis.errors import ConflictError, GridGISError
from gridgis.report.i18n import t
from gridgis.report.map.editing import MapEvent, event_of
from gridgis.report.map.view import from_display
from gridgis.report.problems import conflict_detail

__all__ = ["apply_events", "pending_events"]

_SHAPES = {
    "paths": ("LineString", "MultiLineString"),
    **{k: ("Polygon", "MultiPolygon") for k in ("compound", "buildings", "microgrids", "spaces")},
    "sites": ("Polygon",),
}


def pending_events() -> list[tuple[str, MapEvent | None]]:
    """``(hash, event)`` of the map's events not handled yet (None: an unusable event)."""
    done = state.ingested()
    out: list[tuple[str, MapEvent | None]] = []
    for feature in state.drawings():
        digest = state.drawing_hash(feature)
        if digest in done:
            continue
        try:
            event = event_of(feature)
        except ValueError:
            out.append((digest, None))
            continue
        if event is not None:
            out.append((digest, event))
    return out


def _store(path: Path, layer: str) -> Any:
    return workspace.store_for(path) if layer == "sites" else layer_edits.layer_store(path, layer)


def _select(event: MapEvent) -> None:
    state.map_picked()[event.layer] = event.fid
    if event.layer == "sites":
        state.set_value(state.SELECTED, event.fid)
    else:
        state.layer_selection()[event.layer] = event.fid


def _save(path: Path, event: MapEvent, basemap: str, lang: str) -> dict[str, Any] | None:
    """Store the new outline of the event's feature; None (and a message) when refused."""
    geom = event.geometry
    if geom is None or geom.is_empty or geom.geom_type not in _SHAPES.get(event.layer, ()):
        state.flash("error", t("mapedit.bad_shape", lang, feature=event.fid))
        return None
    geom = shapely.set_precision(from_display(geom, basemap), 1e-8)
    store = _store(path, event.layer)
    before = store.get(event.fid)
    try:
        if before is None:
            raise ConflictError(
                f"{event.fid!r} was deleted by another session",
                feature=event.fid,
                kind="deleted",
            )
        after: dict[str, Any] = store.update(event.fid, expected_rev=event.rev, geometry=geom)
    except ConflictError as exc:
        state.flash(
            "error",
            t("mapedit.conflict", lang, feature=event.fid, detail=conflict_detail(exc, lang)),
        )
        return None
    except GridGISError as exc:
        detail = layer_edits.problem_text(exc, event.layer, lang)
        state.flash("error", t("mapedit.not_saved", lang, feature=event.fid, detail=detail))
        return None
    state.push_undo("update", event.fid, before, after, layer=event.layer)
    state.flash("success", t("mapedit.saved", lang, feature=event.fid))
    return after


def apply_events(path: Path, *, basemap: str, lang: str) -> list[MapEvent]:
    """Handle the map's new picks and edits; return the edits that were saved."""
    saved: list[MapEvent] = []
    done = state.ingested()
    for digest, event in pending_events():
        done.add(digest)
        if event is None:
            state.flash("error", t("mapedit.bad_event", lang))
            continue
        _select(event)
        if event.op != "edit":
            continue
        after = _save(path, event, basemap, lang)
        if after is None:
            continue
        saved.append(event)
        if event.layer == "sites":
            st.session_state[state.SEEN_VERSION] = workspace.store_for(path).version()
            engine.prefetch(path, [after])
        else:
            workspace.bump(path)
    return saved
