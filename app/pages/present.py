"""Presentation page for the residents' meeting (坝坝会): the proposals one by one, lettered.

A full-width map with only the proposals (A, B, C...), a card for the one
shown (Previous/Next buttons), the funding split with session-only
parameters, and the sheets to download. Chinese first when the page is in
Chinese (English smaller beneath the labels).
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from app import state
from app.context import building_names, context, plain, site_title
from app.views import present
from gridgis.errors import GridGISError
from gridgis.report.i18n import t
from gridgis.report.labels import money
from gridgis.report.sheets import offline as offline_map
from gridgis.report.sheets import render as sheets

lang = state.lang()
ctx = context()
project = ctx.project
name = ctx.name
try:
    analysis = ctx.analysis()
except GridGISError as exc:
    st.error(f"{t('site.analysis_failed', lang)}\n\n{plain(exc)}")
    st.stop()
props = sheets.proposals(analysis)

st.html(
    "<style>"
    "[data-testid='stMetricValue'] {font-size: 2.3rem !important; font-weight: 700;}"
    "[data-testid='stMetricLabel'] p {font-size: 1.15rem !important;}"
    ".gg-card {font-size: 1.35rem; line-height: 1.5; color: #000;}"
    ".gg-card .gg-en {font-size: 0.85rem; color: #333;}"
    ".gg-card dt {font-weight: 700; margin-top: .5rem;}"
    ".gg-card dd {margin-left: 0; font-size: 1.5rem;}"
    ".gg-warn {background: #fff3e0; border-left: 6px solid #e65100; padding: .3rem .6rem;}"
    "</style>"
)
st.subheader(t("present.title", lang))
if props.empty:
    st.info(t("present.none", lang))
    st.stop()

letters = list(props["letter"])
n = len(letters)
index = int(st.session_state.get(state.PRESENT_INDEX, 0))
index = min(max(index, 0), n - 1)
st.session_state[state.PRESENT_INDEX] = index


def _step(delta: int) -> None:
    now = int(st.session_state.get(state.PRESENT_INDEX, 0))
    st.session_state[state.PRESENT_INDEX] = min(max(now + delta, 0), n - 1)


nav = st.columns([1, 3, 1])
nav[0].button(t("present.prev", lang), on_click=_step, args=(-1,), disabled=index == 0,
              width="stretch", key="present_prev")  # fmt: skip
position = t("present.position", lang, letter=letters[index], n=n, first=letters[0],
             last=letters[-1])  # fmt: skip
nav[1].markdown(
    f"<div style='text-align:center;font-size:1.3rem'>{html.escape(position)}</div>",
    unsafe_allow_html=True,
)
nav[2].button(t("present.next", lang), on_click=_step, args=(1,), disabled=index == n - 1,
              width="stretch", key="present_next")  # fmt: skip

# keyboard: left/right arrows press Previous/Next (once per browser tab; not in text fields)
st.html(
    "<script>if (!window.__gridgisPresentKeys) { window.__gridgisPresentKeys = true;"
    " document.addEventListener('keydown', (e) => {"
    " const tag = (e.target && e.target.tagName || '').toLowerCase();"
    " if (tag === 'input' || tag === 'textarea' || e.altKey || e.ctrlKey || e.metaKey) return;"
    " const key = {ArrowLeft: 'present_prev', ArrowRight: 'present_next'}[e.key];"
    " const button = key && document.querySelector(`.st-key-${key} button`);"
    " if (button && !button.disabled) { e.preventDefault(); button.click(); } }); }</script>",
    unsafe_allow_javascript=True,
)
st.caption(t("present.keys", lang))

row = props.iloc[index]
letter = str(row["letter"])

# --- funding parameters (session only) --------------------------------------------------
funding = project.settings.funding
k_mult = state.project_key(state.FUND_MULTIPLE, name)
k_cap = state.project_key(state.FUND_CAP, name)
k_other = state.project_key(state.FUND_OTHER, name)
st.session_state.setdefault(k_mult, float(funding.subsidy_multiple.value))
st.session_state.setdefault(k_cap, float(funding.subsidy_cap_cny.value))
st.session_state.setdefault(k_other, 0.0)
settings = present.funding_settings(
    project.settings, multiple=st.session_state[k_mult], cap=st.session_state[k_cap]
)
per, plan = present.funding_tables(ctx.path, props, settings, st.session_state[k_other])
fund = per.loc[props.index[index]]

# --- the map and the card ------------------------------------------------------------------
left, right = st.columns([3, 2], gap="medium")
with left:
    st.iframe(present.map_html(ctx, lang, letter), height=620)
with right:
    title = site_title(row, lang, project)
    st.markdown(f"## {plain(t('present.proposal', lang, letter=letter))} · {plain(title)}")
    cols = st.columns(2)
    cols[0].metric(t("present.cost", lang), money(row["cost_cny"], lang))
    cols[1].metric(t("present.per_household", lang), money(fund["per_household_cny"], lang))
    cols = st.columns(2)
    cols[0].metric(
        t("present.served", lang), t("map.hh_unit", lang, n=int(row["households_served"]))
    )
    cols[1].metric(
        t("present.adjacent", lang), t("map.hh_unit", lang, n=int(row["households_adjacent"]))
    )
    card = present.card_html(row, lang, project, building_names(ctx.path, lang))
    st.markdown(card, unsafe_allow_html=True)

# --- funding panel ----------------------------------------------------------------------------
st.markdown(f"### {plain(t('present.funding', lang))}")
st.caption(t("present.funding_note", lang))
inputs = st.columns(3)
inputs[0].number_input(t("present.multiple", lang), min_value=0.0, step=0.5, key=k_mult)
inputs[1].number_input(t("present.cap", lang), min_value=0.0, step=10_000.0, key=k_cap)
inputs[2].number_input(t("present.other", lang), min_value=0.0, step=1_000.0, key=k_other)


def _col(key: str) -> str:
    return t(f"present.col_{key}", lang)


def _with_plan(values, total) -> list:
    return [*values, total]


labels = [present.proposal_title(r, lang, project) for _, r in props.iterrows()]
table = pd.DataFrame(
    {
        _col("proposal"): _with_plan(labels, t("present.whole_plan", lang)),
        _col("cost"): _with_plan(props["cost_cny"].astype(float), plan["cost_cny"]),
        _col("residents"): _with_plan(per["residents_cny"], plan["residents_cny"]),
        _col("subsidy"): _with_plan(per["subsidy_cny"], plan["subsidy_cny"]),
        _col("other"): _with_plan(per["other_cny"], plan["other_cny"]),
        _col("households"): _with_plan(
            props["households_served"].astype(float), plan["households"]
        ),
        _col("per_household"): _with_plan(per["per_household_cny"], plan["per_household_cny"]),
    }
)
money_column = st.column_config.NumberColumn(format="%,.2f")
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        c: money_column for c in table.columns if c not in (_col("proposal"), _col("households"))
    },
)

# --- downloads ----------------------------------------------------------------------------------
st.markdown(f"### {plain(t('present.downloads', lang))}")
st.caption(t("present.downloads_note", lang))
KINDS = {
    "a3_pdf": ("application/pdf", "pdf"),
    "a3_png": ("image/png", "png"),
    "chat_png": ("image/png", "png"),
    "html": ("text/html", "html"),
}


def _make(kind: str) -> bytes:
    if kind == "a3_pdf":
        return sheets.map_sheet(project, analysis, fmt="pdf", lang=lang)
    if kind == "a3_png":
        return sheets.map_sheet(project, analysis, fmt="png", lang=lang)
    if kind == "chat_png":
        return sheets.share_png(project, analysis, lang=lang)
    return offline_map.standalone_html(project, analysis, lang=lang).encode("utf-8")


files = st.session_state.setdefault(state.PRESENT_FILES, {})
for col, (kind, (mime, ext)) in zip(st.columns(len(KINDS)), KINDS.items(), strict=True):
    what = t(f"present.{kind}", lang)
    key = (kind, name, ctx.version, lang)
    with col:
        if st.button(t("present.make", lang, what=what), key=f"present_make_{kind}",
                     width="stretch"):  # fmt: skip
            with st.spinner(t("present.making", lang, what=what)):
                try:
                    files[key] = _make(kind)
                except GridGISError as exc:
                    st.error(f"{t('present.failed', lang)}: {plain(exc)}")
        if key in files:
            st.download_button(
                t("present.save", lang, what=what),
                files[key],
                file_name=f"{name}_{kind}_{lang}.{ext}",
                mime=mime,
                key=f"present_save_{kind}",
                width="stretch",
                type="primary",
            )
