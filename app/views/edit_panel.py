"""The selected site's edit fields: name, type, status, notes, redraw and delete (autosaved).

Each widget's key holds the site's revision (`app.state.edit_key`), so after
any save the fields start again from what is on disk; every change is saved
at once through `app.edits` (conflicts with other sessions are reported).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app import edits, state
from app.views.site_panel import View
from gridgis.report.i18n import t

__all__ = ["STATUSES", "edit_panel", "save_field", "start_redraw"]

STATUSES = ("proposed", "approved", "rejected", "built")


def save_field(
    path: Path, site_id: str, rev: int, field: str, widget: str, lang: str, shown: Any = None
) -> None:
    """Save the value of widget `widget` as `field` of the site (a widget callback)."""
    edits.update(path, site_id, rev, field, st.session_state.get(widget), lang, shown)


def start_redraw(site_id: str) -> None:
    """Let the next drawing replace the site's outline (a button callback)."""
    st.session_state[state.REDRAW] = site_id


def edit_panel(view: View, row: pd.Series) -> None:
    """The edit fields of the site in `row` (a row of the sites on disk, with ``rev``)."""
    lang, ctx, type_name = view.lang, view.ctx, view.type_name
    site_types = list(view.project.settings.site_types)
    sid, rev = str(row["site_id"]), int(row["rev"])

    def bound(field: str) -> dict[str, Any]:
        """The widget key of `field` and the callback that saves it."""
        key = state.edit_key(field, sid, rev, lang)
        args = (ctx.path, sid, rev, field, key, lang, row.get(field))
        return {"key": key, "on_change": save_field, "args": args}

    def text(field: str) -> str:
        value = row.get(field)
        return value if isinstance(value, str) else ""

    with st.container(border=True):
        st.markdown(f"**{t('edit.title', lang)}**", help=t("edit.autosave", lang))
        placeholder = t("edit.name_placeholder", lang)
        st.text_input(t("edit.name", lang), text("name"), placeholder=placeholder, **bound("name"))
        c1, c2 = st.columns(2)
        current = str(row["site_type"])
        options = site_types if current in site_types else [*site_types, current]
        c1.selectbox(t("edit.type", lang), options, index=options.index(current),
                     format_func=type_name, **bound("site_type"))  # fmt: skip
        status = str(row.get("status") if row.get("status") in STATUSES else "proposed")
        c2.selectbox(t("edit.status", lang), list(STATUSES), index=STATUSES.index(status),
                     format_func=lambda s: t(f"map.{s}", lang), **bound("status"))  # fmt: skip
        st.text_area(t("edit.notes", lang), text("notes"), height=80, **bound("notes"))
        b1, b2 = st.columns(2)
        b1.button(
            t("edit.redraw", lang),
            icon=":material/draw:",
            on_click=start_redraw,
            args=(sid,),
            width="stretch",
            help=t("edit.redraw_help", lang),
        )
        b2.button(
            t("edit.delete", lang),
            icon=":material/delete:",
            on_click=edits.delete,
            args=(ctx.path, sid, rev, lang),
            width="stretch",
        )
