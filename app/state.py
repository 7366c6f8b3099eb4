"""Every session-state key of the app, in one place, with small typed accessors.

Pages never spell a key as a string literal: they use these names, so a
reader sees here everything a browser session remembers. Tests use the same
names to inject state (e.g. a drawing through `MAP`).

What lives where
----------------
- The sites themselves live on disk, in the project's working copy
  (`gridgis.core.store.SiteStore`); the session keeps only the view state
  (which project, language, basemap, selected site) and the undo history.
- `MAP` is the value of the map component (streamlit-folium copies it here
  on every change): ``{"all_drawings": [GeoJSON Feature, ...]}`` in WGS84,
  or GCJ-02 on Gaode tiles. Each drawing is stored once: `INGESTED` keeps
  the hashes of drawings already turned into sites.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import streamlit as st

from gridgis.report.i18n import LANGS

# --- view ---------------------------------------------------------------------------
LANG = "lang"  # "zh" | "en" (the sidebar radio; mirrored in ?lang=)
PROJECT = "project"  # name of the open project in the workspace (mirrored in ?project=)
BASEMAP = "basemap"  # one of gridgis.report.map.view.BASEMAPS
TIANDITU_KEY = "tianditu_key"  # the user's Tianditu browser key
DRAW_TYPE = "draw_type"  # site type given to the next drawn shape
DRAW_LAYER = "draw_layer"  # layer the next drawn shape goes into (the widget's own key)
LAYER_SELECTED = "layer_selected"  # {layer: feature id} shown in the layer form
LAYER_PICK = "layer_pick"  # + ":" + layer (bound): the layer form's feature pick list
LAYER_DELETE = "layer_delete"  # + ":layer:id:rev": the layer form's delete button
LAYER_TABLE = "layer_table"  # + ":" + layer: the layer's attribute table (st.data_editor)
LAYER_TABLE_ROUND = "layer_table_round"  # + ":" + layer: bumps to start the table afresh
SELECTED = "selected_site"  # site_id shown beside the map
REDRAW = "redraw_site"  # site_id whose outline the next drawing replaces, or None
EDIT_MODE = "edit_mode"  # "vertices" | "move": what dragging the picked feature on the map does
MAP_PICKED = "map_picked"  # {layer: feature id} last picked by a click on the map (editable)
COMPARE = "compare_sites"  # site_ids compared side by side on the sites page

# --- drawing and editing --------------------------------------------------------------
MAP = "map"  # the map component's value (see module docstring)
INGESTED = "ingested_drawings"  # set of drawing hashes already stored as sites
CLEAR_ROUND = "clear_drawn_round"  # bumps when Leaflet.draw's raw shapes must be cleared
UNDO = "undo_stack"  # list of edits: {"op", "site_id", "before", "after"[, "layer"]}
FLASH = "flash_messages"  # [(kind, text)] shown once on the next run
SEEN_VERSION = "seen_sites_version"  # SiteStore.version() this session last drew

# --- settings page ----------------------------------------------------------------------
SETTINGS_EDITOR = "settings_editor"  # st.data_editor of the rules and prices

# --- data page --------------------------------------------------------------------------
UPLOADS = "uploads"  # the file uploader
UPLOAD_NAME = "upload_project_name"
UPLOAD_CRS = "upload_crs"
UPLOAD_DATUM = "upload_datum"
IMPORT_REPORT = "import_report"  # [(kind, text)] of the last import, shown once
_UPLOAD_LAYER_PREFIX = "upload_layer"  # + file name: the layer an upload holds

# --- timing (benchmarks/bench_app.py) ----------------------------------------------------
RUN_MS = "last_run_ms"  # server time of the last full run of the script, in ms

_EDIT_PREFIX = "edit"
_LAYER_EDIT_PREFIX = "layer_edit"
_MAX_UNDO = 50


def edit_key(field: str, site_id: str, rev: int, lang: str) -> str:
    """Widget key of one editable field of one revision of a site, in one language.

    The revision is part of the key, so after any save (ours or another
    session's) the widget starts again from the stored value; the language
    is, because a select box keeps showing its old option texts otherwise.
    """
    return f"{_EDIT_PREFIX}:{field}:{site_id}:{rev}:{lang}"


def layer_edit_key(layer: str, field: str, fid: str, rev: int, lang: str) -> str:
    """Widget key of one field of one revision of a feature of `layer` (as `edit_key`)."""
    return f"{_LAYER_EDIT_PREFIX}:{layer}:{field}:{fid}:{rev}:{lang}"


def widget_key(name: str, variant: str) -> str:
    """Key of the widget showing the value `name` with option texts `variant` (see `bind`)."""
    return f"{name}@{variant}"


def variant(lang: str, labels: Iterable[str] = ()) -> str:
    """The language plus a digest of the option texts, for `bind`."""
    digest = hashlib.sha1("\x1f".join(labels).encode()).hexdigest()[:8]
    return f"{lang}:{digest}"


def bind(name: str, variant: str, default: Any = None) -> str:
    """Tie value `name` to a widget for one set of option texts; return the widget's key.

    A keyed select box keeps its old option texts after they change (a new
    language, a renamed site) and then sends back a text that matches no
    option, so it jumps to the first one. So each set of texts (`variant`:
    the language, and a digest of the texts when they can change) gets its
    own widget, started from the value; the widget's choice is copied back
    to `name` on every run.
    """
    key = widget_key(name, variant)
    if key in st.session_state:
        st.session_state[name] = st.session_state[key]
    else:
        st.session_state[key] = st.session_state.get(name, default)
    return key


def current(name: str, variant: str, default: Any = None) -> Any:
    """A bound value as its widget shows it now (for callbacks, which run before `bind`)."""
    return st.session_state.get(widget_key(name, variant), st.session_state.get(name, default))


def set_value(name: str, value: Any) -> None:
    """Set a bound value from code (not from its widget): its widgets start again from it."""
    st.session_state[name] = value
    prefix = widget_key(name, "")
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


def upload_layer_key(filename: str) -> str:
    """Widget key of the layer choice for one uploaded file."""
    return f"{_UPLOAD_LAYER_PREFIX}:{filename}"


def lang() -> str:
    """The session's language."""
    value = st.session_state.get(LANG, "zh")
    return value if value in LANGS else "zh"


def flash(kind: str, text: str) -> None:
    """Queue a message (``"success"``, ``"info"``, ``"warning"``, ``"error"``) for the next run."""
    st.session_state.setdefault(FLASH, []).append((kind, text))


def take_flash() -> list[tuple[str, str]]:
    """The queued messages, removed from the queue."""
    return st.session_state.pop(FLASH, [])


def drawings() -> list[dict[str, Any]]:
    """The shapes the map reports (all of them, already stored or not)."""
    value = st.session_state.get(MAP) or {}
    found = value.get("all_drawings") if isinstance(value, dict) else None
    return [f for f in found or [] if isinstance(f, dict)]


def ingested() -> set[str]:
    """Hashes of the drawings already stored as sites."""
    return st.session_state.setdefault(INGESTED, set())


def undo_stack() -> list[dict[str, Any]]:
    """The session's edits, newest last."""
    return st.session_state.setdefault(UNDO, [])


def push_undo(
    op: str, fid: str, before: dict | None, after: dict | None, layer: str = "sites"
) -> None:
    """Remember an edit of this session: ``op`` ``add``, ``update`` or ``delete`` of `fid`.

    Sites' entries have no ``layer`` (as before); other layers' name theirs.
    """
    entry: dict[str, Any] = {"op": op, "site_id": fid, "before": before, "after": after}
    if layer != "sites":
        entry["layer"] = layer
    stack = undo_stack()
    stack.append(entry)
    del stack[:-_MAX_UNDO]


def drawing_hash(feature: dict[str, Any]) -> str:
    """A stable hash of a drawn shape's geometry (drawings come without ids).

    A pick or an edit on the map (``properties.gridgis``: `app.map_events`)
    hashes with its event, which holds a counter: the same feature picked
    twice is two events.
    """
    geometry = feature.get("geometry", feature)
    props = feature.get("properties")
    if isinstance(props, dict) and "gridgis" in props:
        geometry = {"geometry": geometry, "gridgis": props["gridgis"]}
    text = json.dumps(geometry, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()


def draw_layer() -> str:
    """The layer the next drawn shape goes into (default ``sites``)."""
    value = st.session_state.get(DRAW_LAYER)
    return value if isinstance(value, str) and value else "sites"


def edit_mode() -> str:
    """What dragging the picked feature does: ``"vertices"`` (default) or ``"move"``."""
    value = st.session_state.get(EDIT_MODE)
    return value if value in ("vertices", "move") else "vertices"


def map_picked() -> dict[str, str]:
    """``{layer: feature id}`` last picked by a click on the map: its vertices are shown."""
    return st.session_state.setdefault(MAP_PICKED, {})


def layer_selection() -> dict[str, str]:
    """``{layer: feature id}`` of the feature each layer's form shows."""
    return st.session_state.setdefault(LAYER_SELECTED, {})


def clear_round() -> int:
    return int(st.session_state.get(CLEAR_ROUND, 0))


def bump_clear_round() -> None:
    st.session_state[CLEAR_ROUND] = clear_round() + 1


# --- residents' meeting: presentation and votes pages (app/page_present.py, page_votes.py) ---
PRESENT_INDEX = "present_index"  # position of the proposal shown (0 = A)
FUND_MULTIPLE = "fund_multiple"  # session-only subsidy multiple (+ ":" + project)
FUND_CAP = "fund_cap"  # session-only subsidy cap, CNY (+ ":" + project)
FUND_OTHER = "fund_other"  # session-only other sources per proposal, CNY (+ ":" + project)
PRESENT_FILES = "present_files"  # {(kind, project, version, lang): bytes} made on click
VOTE_SITE = "vote_site"  # site_id voted on
VOTE_MATTER = "vote_matter"  # key of gridgis.meeting.tally.MATTERS
VOTE_BY = "vote_map_by"  # "turnout" | "approval"
VOTE_BUILDING = "vote_building"  # building_id of the fast-entry table
VOTES = "votes_register"  # {project: DataFrame} the register as this session holds it
VOTE_UPLOAD = "vote_upload"  # the CSV uploader


def project_key(name: str, project: str) -> str:
    """Key of a per-project widget (funding parameters differ by project)."""
    return f"{name}:{project}"


# --- suggest-sites page (app/page_corners.py) ---------------------------------------------
CORNERS_FOR = "corners_for"  # name of the project whose suggestions were asked for, or None
CORNERS_SHED = "corners_shed"  # site_id of the parking shed whose stall layout is shown
