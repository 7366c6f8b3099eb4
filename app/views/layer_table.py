"""The attribute table of a layer other than the sites: every feature, edited in bulk, autosaved.

One ``st.data_editor`` (key ``layer_table:<layer>``) with a row per feature:
a 📍 column (ticking a row makes it the feature the map highlights and the
form beside the map shows: `app.state.layer_selection`), the id (read-only),
the layer's editable fields (`app.layer_edits.FIELDS`: kinds as select
boxes with translated labels, numbers with their unit), the area in m² (the
length in m for paths) in the project's metric CRS (`Project.metric_crs`)
and, for buildings, the households estimated where the layer has none
(`gridgis.core.schema.resolve_households`). Every change is saved at once by
`app.layer_bulk` (a pasted block of cells in one all-or-nothing write, one
undo entry); after any change the table starts again from what is on disk.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from app import layer_bulk, layer_edits, state, workspace
from gridgis.core.project import Project
from gridgis.core.schema import resolve_households
from gridgis.core.store.layer import plain_value
from gridgis.errors import ValidationError
from gridgis.report.i18n import t
from gridgis.report.map.style import PATH_STYLES, SPACE_STYLES

__all__ = ["KINDS", "PICK", "layer_table", "measures", "table_key"]

PICK = "pick"
"""The 📍 column: the row whose feature the map highlights."""

KINDS: dict[str, tuple[str, ...]] = {"spaces": tuple(SPACE_STYLES), "paths": tuple(PATH_STYLES)}
"""The kinds offered per layer (others already in the data are kept)."""

_AREA, _LENGTH, _ESTIMATE = "area_m2", "length_m", "households_estimate"


def table_key(layer: str) -> str:
    """The table's widget key ``layer_table:<layer>`` (the page's CSS class ``st-key-`` + key)."""
    return f"{state.LAYER_TABLE}:{layer}"


def _round_key(layer: str) -> str:
    return f"{state.LAYER_TABLE_ROUND}:{layer}"


def measures(frame: gpd.GeoDataFrame, project: Project, *, length: bool = False) -> pd.Series:
    """Each feature's area in m² (`length`: its length in m) in the project's metric CRS."""
    metric = frame.geometry.to_crs(project.metric_crs())
    values = metric.length if length else metric.area
    return pd.Series(np.round(values.to_numpy(dtype=float), 1), index=frame.index)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _numbers(frame: pd.DataFrame, field: str) -> pd.Series:
    if field not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[field], errors="coerce").astype(float)


def _data(
    frame: gpd.GeoDataFrame, layer: str, key: str, project: Project
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The editor's table (columns named by field) and the rows as shown (for the callback)."""
    fields = layer_edits.FIELDS[layer]
    ids = frame[key].astype(str).tolist()
    picked = state.layer_selection().get(layer)
    columns: dict[str, Any] = {PICK: [fid == picked for fid in ids]}
    if key not in fields:
        columns[key] = ids
    if "name" in frame and "name" not in fields:
        columns["name"] = [_text(v) for v in frame["name"]]  # to tell the rows apart
    for field in fields:
        if field in layer_bulk.NUMBERS:
            columns[field] = _numbers(frame, field).to_numpy()
        else:
            values = frame[field] if field in frame else [None] * len(frame)
            columns[field] = [_text(v) for v in values]
    if layer == "paths":
        columns[_LENGTH] = measures(frame, project, length=True).to_numpy()
    else:
        columns[_AREA] = measures(frame, project).to_numpy()
    if layer == "buildings":
        per_floor = project.settings.general.households_per_floor_fallback.value
        resolved = resolve_households(frame, per_floor=per_floor)
        columns[_ESTIMATE] = resolved["households"].where(resolved["derived"]).to_numpy()
    data = pd.DataFrame(columns)
    shown = [
        {"fid": fid, "rev": int(rev), **{f: data.at[i, f] for f in fields}}
        for i, (fid, rev) in enumerate(zip(ids, frame["rev"], strict=True))
    ]
    shown = [{k: plain_value(v) for k, v in row.items()} for row in shown]
    return data, shown


def _kind_label(kind: Any, *, known: tuple[str, ...], lang: str) -> str:
    return t(f"map.{kind}", lang) if kind in known else str(kind)


def _config(data: pd.DataFrame, layer: str, key: str, lang: str, per_floor: float) -> dict:
    """Column headers and kinds, in `lang`."""
    config: dict[str, Any] = {
        PICK: st.column_config.CheckboxColumn(
            t("table.pick", lang), help=t("table.pick_help", lang), width="small"
        ),
        key: st.column_config.TextColumn(t("table.id", lang), disabled=True),
        _AREA: st.column_config.NumberColumn(t("table.area", lang), disabled=True, format="%.1f"),
        _LENGTH: st.column_config.NumberColumn(
            t("table.length", lang), disabled=True, format="%.1f"
        ),
        _ESTIMATE: st.column_config.NumberColumn(
            t("table.estimate", lang),
            help=t("table.estimate_help", lang, per_floor=f"{per_floor:g}"),
            disabled=True,
            format="%d",
        ),
    }
    fields = layer_edits.FIELDS[layer]
    if "name" not in fields:
        config["name"] = st.column_config.TextColumn(t("drawlayer.name", lang), disabled=True)
    for field in fields:
        label = t(f"drawlayer.{field}", lang)
        if field in layer_bulk.COUNTS:
            config[field] = st.column_config.NumberColumn(label, min_value=0, step=1, format="%d")
        elif field == "width_m":
            config[field] = st.column_config.NumberColumn(
                label, min_value=0, step=0.5, format="%.1f"
            )
        elif field == "kind":
            known = KINDS[layer]
            extra = sorted({v for v in data[field] if isinstance(v, str) and v not in known})
            config[field] = st.column_config.SelectboxColumn(
                label,
                options=[*known, *extra],
                format_func=functools.partial(_kind_label, known=known, lang=lang),
            )
        else:
            config[field] = st.column_config.TextColumn(label)
    return config


def _edited(path: Path, layer: str, shown: list[dict[str, Any]], key: str, lang: str) -> None:
    """Save the table's change (the editor's callback) and start the table afresh."""
    edited = (st.session_state.get(table_key(layer)) or {}).get("edited_rows") or {}
    st.session_state[_round_key(layer)] = st.session_state.get(_round_key(layer), 0) + 1
    picked = [shown[int(pos)]["fid"] for pos, change in edited.items() if change.get(PICK)]
    if picked:
        state.layer_selection()[layer] = picked[-1]
        state.set_value(f"{state.LAYER_PICK}:{layer}", picked[-1])  # the form follows
    try:
        changes = layer_bulk.changes(edited, shown, layer, key, lang)
    except ValidationError as exc:
        detail = layer_edits.problem_text(exc, layer, lang)
        state.flash("error", t("table.not_saved", lang, detail=detail))
        return
    seen = {str(row["fid"]): int(row["rev"]) for row in shown}
    layer_bulk.save(path, layer, changes, seen, lang)


def layer_table(path: Path, layer: str, lang: str) -> None:
    """The attribute table of `layer` of the project at `path`, saved as it is edited."""
    store = layer_edits.layer_store(path, layer)
    frame = store.load()
    if not len(frame):
        st.info(t("drawlayer.none_yet", lang, layer=t(f"drawlayer.{layer}", lang)))
        return
    project = workspace.load_project(path)
    data, shown = _data(frame, layer, store.key, project)
    # a new index name after every change: the editor is a new widget, its old edits gone
    data.index.name = f"{layer}#{st.session_state.get(_round_key(layer), 0)}"
    per_floor = float(project.settings.general.households_per_floor_fallback.value)
    st.data_editor(
        data,
        key=table_key(layer),
        hide_index=True,
        width="stretch",
        num_rows="fixed",
        placeholder="—",
        column_config=_config(data, layer, store.key, lang, per_floor),
        disabled=[c for c in data.columns if c != PICK and c not in layer_edits.FIELDS[layer]],
        on_change=_edited,
        args=(path, layer, shown, store.key, lang),
    )
    st.caption(t("table.help", lang))
