"""Sites page: every site with its metrics (sortable), a side-by-side comparison, plan totals."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import state
from app.context import context, plain, show_flash, site_title
from app.views.sites_table import column, sites_table
from gridgis.errors import GridGISError
from gridgis.report.i18n import t
from gridgis.report.labels import money

lang = state.lang()
ctx = context()
project = ctx.project
show_flash()
st.session_state[state.SEEN_VERSION] = ctx.version
try:
    analysis = ctx.analysis()
except GridGISError as exc:
    st.error(f"{t('site.analysis_failed', lang)}\n\n{plain(exc)}")
    st.stop()
sites = analysis.sites
st.subheader(t("sites.title", lang))

if sites.empty:
    st.info(t("site.none_yet", lang))
    st.stop()

# --- plan totals ---------------------------------------------------------------------
totals = analysis.totals()
households = totals["households_served"]
cols = st.columns(5)
cols[0].metric(t("sites.total_sites", lang), f"{totals['sites']}")
cols[1].metric(t("sites.total_cost", lang), money(totals["cost_cny"], lang))
cols[2].metric(t("sites.total_served", lang), t("map.hh_unit", lang, n=int(households)))
cols[3].metric(t("sites.total_bikes", lang), f"{totals['bikes']}")
cols[4].metric(t("sites.total_ports", lang), f"{totals['charging_ports']}")
plan = analysis.plan_funding.iloc[0]
st.caption(
    t(
        "sites.plan_funding",
        lang,
        residents=f"{plan['residents_cny']:,.0f}",
        subsidy=f"{plan['subsidy_cny']:,.0f}",
        per="—" if pd.isna(plan["per_household_cny"]) else f"{plan['per_household_cny']:,.0f}",
        failed=totals["checks_failed"],
    )
)

# --- the table -----------------------------------------------------------------------
table = sites_table(sites, lang, project)
money_column = st.column_config.NumberColumn(format="%,.0f")
cost, per_household = column("cost", lang), column("per_household", lang)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={cost: money_column, per_household: money_column},
)
st.caption(t("sites.sort_help", lang))

# --- compare -------------------------------------------------------------------------
ids = [str(s) for s in sites["site_id"]]
titles = {
    str(rec["site_id"]): site_title(rec, lang, project)
    for rec in pd.DataFrame(sites.drop(columns="geometry")).to_dict("records")
}
if any(s not in ids for s in st.session_state.get(state.COMPARE) or []):
    state.set_value(state.COMPARE, [s for s in st.session_state[state.COMPARE] if s in ids])
chosen = st.multiselect(
    t("sites.compare", lang),
    ids,
    key=state.bind(state.COMPARE, state.variant(lang, titles.values()), []),
    format_func=lambda s: titles.get(s, s),
    placeholder=t("sites.compare_placeholder", lang),
)
st.session_state[state.COMPARE] = chosen
if len(chosen) >= 2:
    view = table.set_index(column("site_id", lang)).loc[chosen]
    side = view.T.astype(str)
    side.columns = [titles[s] for s in chosen]
    side.index.name = None
    st.dataframe(side, width="stretch")
    cheapest = view[cost].astype(float).idxmin()
    st.caption(t("sites.cheapest", lang, site=titles[cheapest]))
elif chosen:
    st.caption(t("sites.compare_more", lang))
