"""The form of one feature of a layer other than the sites: its attributes, autosaved.

Shown beside the map while the map page draws into that layer
(`app.state.DRAW_LAYER`). Each widget's key holds the feature's revision
(`app.state.layer_edit_key`), so after any save the fields start again from
what is on disk; every change is saved at once through `app.layer_edits`
(conflicts with other sessions and refused values are reported).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app import layer_edits, state
from gridgis.report.i18n import t
from gridgis.report.labels import clean_text
from gridgis.report.map.style import PATH_STYLES, SPACE_STYLES

__all__ = ["layer_panel", "layer_summary"]

_KINDS = {"spaces": tuple(SPACE_STYLES), "paths": tuple(PATH_STYLES)}
_COUNTS = ("units", "floors", "households")


def _number(value: Any) -> float | int | None:
    if value is None or isinstance(value, str):
        return None
    if pd.isna(value):
        return None
    return int(value) if float(value).is_integer() else float(value)


def layer_summary(summary: dict[str, Any], lang: str) -> str:
    """``楼栋 3 · 户数 120 · ...``: the counts the project's layers give now."""
    counts = summary.get("layers", {})
    parts = [f"{t(f'drawlayer.{k}', lang)} {counts.get(k, 0)}" for k in layer_edits.FIELDS]
    parts.append(f"{t('drawlayer.households', lang)} {summary.get('households', 0)}")
    return " · ".join(parts)


def _pick(layer: str, ids: list[str], titles: dict[str, str], lang: str) -> str:
    """The feature the form shows: the last drawn or picked one."""
    selection = state.layer_selection()
    key = state.widget_key(f"{state.LAYER_PICK}:{layer}", state.variant(lang, titles.values()))
    wanted = selection.get(layer)
    # the list follows a pick made elsewhere (a click on the map, the table); a pick made in
    # the list itself reaches `selection` first, through its callback
    if wanted in ids and st.session_state.get(key) != wanted:
        st.session_state[key] = wanted
    elif st.session_state.get(key) not in ids:
        st.session_state[key] = ids[-1]
    name = t(f"drawlayer.{layer}", lang)

    def picked() -> None:
        selection[layer] = st.session_state[key]

    label = t("drawlayer.pick", lang, layer=name, n=len(ids))
    chosen = str(st.selectbox(label, ids, key=key, format_func=lambda s: titles.get(s, s),
                              on_change=picked))  # fmt: skip
    selection[layer] = chosen
    return chosen


def layer_panel(path: Path, layer: str, lang: str) -> None:
    """The pick list of `layer`'s features and the selected one's attribute form."""
    store = layer_edits.layer_store(path, layer)
    frame, key = store.load(), store.key
    ids = [str(v) for v in frame[key]]
    if not ids:
        st.info(t("drawlayer.none_yet", lang, layer=t(f"drawlayer.{layer}", lang)))
        return
    records = pd.DataFrame(frame.drop(columns="geometry")).to_dict("records")
    titles = {}
    for rec in records:
        name = clean_text(rec.get("name")) if key != "name" else None
        titles[str(rec[key])] = f"{rec[key]} · {name}" if name else str(rec[key])
    fid = _pick(layer, ids, titles, lang)
    row = records[ids.index(fid)]
    rev = int(row["rev"])

    def bound(field: str) -> dict[str, Any]:
        widget = state.layer_edit_key(layer, field, fid, rev, lang)
        args = (path, layer, fid, rev, field, widget, lang, row.get(field))
        return {"key": widget, "on_change": layer_edits.update, "args": args}

    with st.container(border=True):
        st.markdown(f"**{t('drawlayer.title', lang)}**", help=t("edit.autosave", lang))
        for field in layer_edits.FIELDS[layer]:
            label = t(f"drawlayer.{field}", lang)
            value = row.get(field)
            if field in _COUNTS:
                st.number_input(label, value=_number(value), step=1, **bound(field))
            elif field == "width_m":
                width = _number(value)
                width = None if width is None else float(width)
                st.number_input(label, value=width, step=0.5, **bound(field))
            elif field == "kind":
                current = clean_text(value) or _KINDS[layer][0]
                options = list(_KINDS[layer])
                options += [] if current in options else [current]
                st.selectbox(label, options, index=options.index(current),
                             format_func=lambda k: t(f"map.{k}", lang) if k in _KINDS[layer] else k,
                             **bound(field))  # fmt: skip
            else:
                st.text_input(label, clean_text(value) or "", **bound(field))
        st.button(
            t("drawlayer.delete", lang),
            icon=":material/delete:",
            on_click=layer_edits.delete,
            args=(path, layer, fid, rev, lang),
            key=f"{state.LAYER_DELETE}:{layer}:{fid}:{rev}",
            width="stretch",
        )
