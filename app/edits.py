"""Turning drawings into sites and editing them: autosave, undo and conflicts.

Every change goes straight to disk through `SiteStore` (one site per locked,
atomic save), so a refresh or a server restart loses nothing and two
sessions never erase each other's sites. A change based on an old revision
raises `ConflictError`; the user is told, and the page shows the sites as
they are on disk now. Each change is pushed on the session's undo stack as
``{"op", "site_id", "before", "after"}`` (rows as `SiteStore` returns them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
import streamlit as st
from shapely.geometry import shape

from app import engine, layer_bulk, layer_edits, map_events, state, workspace
from app.timing import mark
from gridgis.core.store import EDITABLE
from gridgis.errors import ConflictError, GridGISError, ValidationError
from gridgis.report.i18n import t
from gridgis.report.map.view import from_display
from gridgis.report.problems import conflict_detail, problem_message

__all__ = ["delete", "drawing_hash", "ingest", "ingest_pending", "undo", "update"]

drawing_hash = state.drawing_hash  # (where it was first)


def _saw(store: Any) -> None:
    """This session's own save: the watcher need not rerun the page for it."""
    st.session_state[state.SEEN_VERSION] = store.version()


def _push(op: str, site_id: str, before: dict | None, after: dict | None) -> None:
    """Remember an edit of this session (it saved a site: the version moved on)."""
    state.push_undo(op, site_id, before, after)


def _problem_text(exc: GridGISError, lang: str) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(problem_message(p, lang) for p in exc.problems)
    return str(exc)


def ingest_pending() -> list[str]:
    """Store new drawings of this session's map before anything is drawn on the page.

    Runs on every page (drawings only come from the map page, but the sidebar
    counts sites too); the new site becomes the selected one.
    """
    if not state.drawings():
        return []
    try:
        path = workspace.project_path(st.session_state.get(state.PROJECT) or "")
        settings = workspace.load_project(path).settings
    except GridGISError:
        return []  # the page shows why the project cannot be opened
    basemap = st.session_state.get(state.BASEMAP, "none")
    map_events.apply_events(path, basemap=basemap, lang=state.lang())  # picks and edits
    layer = state.draw_layer()
    if layer != "sites":  # a building, a path...: the layer's own store
        layer_edits.ingest(path, layer, basemap=basemap, lang=state.lang())
        mark("stored")
        return []
    kind = state.current(state.DRAW_TYPE, state.variant(state.lang()))
    if kind not in settings.site_types:
        kind = next(iter(settings.site_types))
    stored = ingest(
        path,
        basemap=st.session_state.get(state.BASEMAP, "none"),
        site_type=kind,
        lang=state.lang(),
    )
    mark("stored")
    if stored:
        state.set_value(state.SELECTED, stored[-1]["site_id"])
        engine.prefetch(path, stored)  # analysed while the sidebar and page are drawn
        mark("analysis started")
    return [str(row["site_id"]) for row in stored]


def ingest(path: Path, *, basemap: str, site_type: str, lang: str) -> list[dict[str, Any]]:
    """Store every drawing not stored yet; return the new (or redrawn) sites' rows.

    A drawing made while a site is marked for redrawing (`state.REDRAW`)
    replaces that site's outline instead of adding a site. Shapes drawn on
    Gaode tiles are converted from GCJ-02 to WGS84 first.
    """
    done = state.ingested()
    fresh = [f for f in state.drawings() if drawing_hash(f) not in done]
    if not fresh:
        return []
    store = workspace.store_for(path)
    out: list[dict[str, Any]] = []
    for feature in fresh:
        done.add(drawing_hash(feature))
        try:
            geom = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError):
            state.flash("error", t("edit.bad_drawing", lang))
            continue
        if geom.geom_type != "Polygon" or geom.is_empty:
            state.flash("error", t("edit.bad_drawing", lang))
            continue
        geom = layer_edits.snapped(path, from_display(geom, basemap), lang)
        geom = shapely.set_precision(geom, 1e-8)
        target = st.session_state.get(state.REDRAW)
        try:
            if target:
                row = store.get(target)
                if row is None:
                    raise ConflictError(
                        f"site {target!r} was deleted by another session",
                        feature=target,
                        kind="deleted",
                    )
                after = store.update(target, expected_rev=int(row["rev"]), geometry=geom)
                _push("update", target, row, after)
                state.flash("success", t("edit.redrawn", lang, site=target))
                out.append(after)
                st.session_state[state.REDRAW] = None
            else:
                row = store.add(geom, site_type=site_type)
                _push("add", row["site_id"], None, row)
                state.flash("success", t("edit.added", lang, site=row["site_id"]))
                out.append(row)
        except ConflictError as exc:
            state.flash("error", t("edit.conflict", lang, detail=conflict_detail(exc, lang)))
            st.session_state[state.REDRAW] = None
        except GridGISError as exc:
            state.flash("error", t("edit.not_saved", lang, detail=_problem_text(exc, lang)))
    state.bump_clear_round()
    _saw(store)
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal as a form shows them: blank text, None and NaN are all 'nothing'."""
    return bool(layer_edits.plain_value(a) == layer_edits.plain_value(b))


def update(
    path: Path, site_id: str, rev: int, field: str, value: Any, lang: str, shown: Any = None
) -> None:
    """Save one field of one site (a widget callback).

    As `app.layer_edits.update`: the value already stored is no change, and a
    site changed elsewhere but not in this field (`shown` is still stored)
    takes the change on top; a change of the same field is a conflict.
    """
    if field not in EDITABLE:
        raise ValueError(f"field must be one of {EDITABLE}, got {field!r}")
    store = workspace.store_for(path)
    before = store.get(site_id)
    try:
        if before is None:
            raise ConflictError(
                f"site {site_id!r} was deleted by another session",
                feature=site_id,
                kind="deleted",
            )
        if _same(value, before.get(field)):
            return
        if int(before["rev"]) != rev and _same(before.get(field), shown):
            rev = int(before["rev"])  # changed elsewhere, but not this field
        if int(before["rev"]) != rev:
            raise ConflictError(
                f"site {site_id!r} was changed by another session (revision "
                f"{before['rev']}, you edited revision {rev}); your change was not saved"
            )
        after = store.update(site_id, expected_rev=rev, **{field: value})
    except ConflictError as exc:
        state.flash("error", t("edit.conflict", lang, detail=conflict_detail(exc, lang)))
        return
    except GridGISError as exc:
        state.flash("error", t("edit.not_saved", lang, detail=_problem_text(exc, lang)))
        return
    _push("update", site_id, before, after)
    _saw(store)
    state.flash("success", t("edit.saved", lang, site=site_id))


def delete(path: Path, site_id: str, rev: int, lang: str) -> None:
    """Delete one site (a button callback)."""
    store = workspace.store_for(path)
    before = store.get(site_id)
    if before is None:
        state.flash("warning", t("edit.already_deleted", lang, site=site_id))
        return
    try:
        store.delete(site_id, expected_rev=rev)
    except ConflictError as exc:
        state.flash("error", t("edit.conflict", lang, detail=conflict_detail(exc, lang)))
        return
    _push("delete", site_id, before, None)
    _saw(store)
    state.flash("success", t("edit.deleted", lang, site=site_id))


def undo(path: Path, lang: str) -> None:
    """Undo the session's last edit, of a site or of another layer (a button callback)."""
    stack = state.undo_stack()
    if not stack:
        return
    entry = stack.pop()
    if entry["op"] == layer_bulk.BULK:  # one attribute-table edit of several features
        layer_bulk.undo(path, entry, lang)
        return
    layer = entry.get("layer", "sites")
    fid = entry["site_id"]
    now: dict[str, Any] | None = None
    try:
        if layer == "sites":
            store: Any = workspace.store_for(path)
            fields: tuple[str, ...] = EDITABLE
        else:
            store = layer_edits.layer_store(path, layer)
            fields = tuple(k for k in entry["before"] or {} if k != "rev")
        if entry["op"] == "add":
            store.delete(fid, expected_rev=int(entry["after"]["rev"]))
        elif entry["op"] == "update":
            before = entry["before"]
            changes = {k: before.get(k) for k in fields}
            now = store.update(fid, expected_rev=int(entry["after"]["rev"]), **changes)
        else:
            now = store.restore(entry["before"])
    except ConflictError as exc:
        state.flash("error", t("edit.undo_conflict", lang, detail=conflict_detail(exc, lang)))
        return
    except GridGISError as exc:
        state.flash("error", t("edit.not_saved", lang, detail=_problem_text(exc, lang)))
        return
    if now is not None:
        # the feature is now as the previous edit left it, under a new revision number
        now_fid = str(now[store.key]) if layer != "sites" else fid
        for older in reversed(stack):
            same = older.get("layer", "sites") == layer and older["site_id"] == now_fid
            if same and older["after"] is not None:
                older["after"] = {**older["after"], "rev": now["rev"]}
                break
    if layer == "sites":
        _saw(store)
        state.flash("info", t(f"edit.undone_{entry['op']}", lang, site=fid))
    else:
        workspace.bump(path)
        state.flash("info", t(f"drawlayer.undone_{entry['op']}", lang, feature=fid))
