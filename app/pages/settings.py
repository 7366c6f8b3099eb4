"""Settings page: cost rates, distances and rule parameters, each with its source tag.

S = published (with the reference), D = derived from published figures,
E = an estimate to replace with a local quote. Saving writes the settings
into the project's working copy; every metric is recomputed with them.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from app import context, state
from app.views import settings_table
from gridgis.report.i18n import LANG_NAMES, LANGS, t

lang = state.lang()
ctx = context.context()
settings = ctx.project.settings
context.show_flash()

st.subheader(t("settings.title", lang))
st.markdown(t("settings.help", lang))

table = settings_table.rows(settings, lang, ctx.project)
digest = hashlib.sha1(str(table.to_dict("list")).encode()).hexdigest()[:10]
edited = st.data_editor(
    table,
    key=f"{state.SETTINGS_EDITOR}:{ctx.name}:{digest}",
    hide_index=True,
    width="stretch",
    height=min(38 * (len(table) + 1) + 4, 720),
    disabled=["group", "label", "unit", "default", "key"],
    column_order=["group", "label", "value", "unit", "source", "ref", "default"],
    column_config={
        "group": st.column_config.TextColumn(t("settings.col_group", lang)),
        "label": st.column_config.TextColumn(t("settings.col_label", lang), width="large"),
        "value": st.column_config.NumberColumn(t("settings.col_value", lang), min_value=0.0),
        "unit": st.column_config.TextColumn(t("settings.col_unit", lang)),
        "source": st.column_config.SelectboxColumn(
            t("settings.col_source", lang),
            options=["S", "D", "E"],
            required=True,
            help=t("settings.source_help", lang),
        ),
        "ref": st.column_config.TextColumn(t("settings.col_ref", lang), width="large"),
        "default": st.column_config.NumberColumn(t("settings.col_default", lang)),
    },
)
changed = settings_table.changes(table, edited)
language = st.selectbox(
    t("settings.language", lang),
    LANGS,
    index=LANGS.index(settings.general.language),
    format_func=LANG_NAMES.__getitem__,
    key=f"{state.SETTINGS_EDITOR}:language:{ctx.name}:{digest}:{lang}",
)
if language != settings.general.language:
    changed = pd.concat([changed, pd.DataFrame([{"key": "general.language"}])])
c1, c2 = st.columns([1, 1])
c1.button(
    t("settings.save", lang, n=len(changed)),
    type="primary",
    disabled=changed.empty,
    on_click=settings_table.save,
    args=(ctx.path, edited, language, lang),
    icon=":material/save:",
)
c2.button(
    t("settings.reset", lang),
    on_click=settings_table.reset,
    args=(ctx.path, lang),
    icon=":material/restart_alt:",
)
st.caption(t("settings.saved_where", lang, path=str(ctx.path)))
