"""Sites page: every site with its metrics (sortable), a side-by-side comparison, plan totals."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import common, state
from gridgis.errors import GridGISError
from gridgis.report.i18n import t

lang = state.lang()
ctx = common.context()
project = ctx.project
common.show_flash()
st.session_state[state.SEEN_VERSION] = ctx.version
try:
    analysis = ctx.analysis()
except GridGISError as exc:
    st.error(f"{t('site.analysis_failed', lang)}\n\n{common.plain(exc)}")
    st.stop()
sites = analysis.sites
st.subheader(t("sites.title", lang))

if sites.empty:
    st.info(t("site.none_yet", lang))
    st.stop()

# --- plan totals ---------------------------------------------------------------------
totals = analysis.totals()
served = {str(b) for ids in sites["buildings_served"] for b in ids}
households = common.households_of(project, sorted(served))
cols = st.columns(5)
cols[0].metric(t("sites.total_sites", lang), f"{totals['sites']}")
cols[1].metric(t("sites.total_cost", lang), f"¥{totals['cost_cny']:,.0f}")
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
def label(key: str) -> str:
    return t(f"sites.col_{key}", lang)


def failed_rules(checks: list[dict]) -> str:
    return "; ".join(t(f"rule.{c['rule']}", lang) for c in checks if not c["ok"]) or "—"


table = pd.DataFrame(
    {
        label("site_id"): sites["site_id"].astype(str),
        label("name"): sites["name"].map(lambda v: v if isinstance(v, str) else ""),
        label("type"): sites["site_type"].map(lambda k: common.type_label(str(k), lang, project)),
        label("status"): sites["status"].map(
            lambda s: t(f"map.{s}", lang) if isinstance(s, str) and s else "—"
        ),
        label("area"): sites["area_m2"].round(1),
        label("capacity"): sites["capacity"].astype(int),
        label("unit"): sites["capacity_unit"].map(lambda u: common.unit_label(str(u), lang)),
        label("ports"): sites["charging_ports"].astype(int),
        label("cost"): sites["cost_cny"].round(2),
        label("served"): sites["households_served"].astype(int),
        label("adjacent"): sites["households_adjacent"].astype(int),
        label("per_household"): sites["per_household_cny"].round(2),
        label("failed"): sites["checks"].map(failed_rules),
    }
)
money = st.column_config.NumberColumn(format="%,.0f")
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={label("cost"): money, label("per_household"): money},
)
st.caption(t("sites.sort_help", lang))

# --- compare -------------------------------------------------------------------------
ids = [str(s) for s in sites["site_id"]]
titles = {
    str(rec["site_id"]): common.site_title(rec, lang, project)
    for rec in pd.DataFrame(sites.drop(columns="geometry")).to_dict("records")
}
if any(s not in ids for s in st.session_state.get(state.COMPARE) or []):
    state.set_value(state.COMPARE, [s for s in st.session_state[state.COMPARE] if s in ids])
chosen = st.multiselect(
    t("sites.compare", lang),
    ids,
    key=state.bind(state.COMPARE, state.variant(lang, titles.values()), []),
    format_func=titles.get,
    placeholder=t("sites.compare_placeholder", lang),
)
st.session_state[state.COMPARE] = chosen
if len(chosen) >= 2:
    view = table.set_index(label("site_id")).loc[chosen]
    side = view.T.astype(str)
    side.columns = [titles[s] for s in chosen]
    side.index.name = None
    st.dataframe(side, width="stretch")
    cheapest = view[label("cost")].astype(float).idxmin()
    st.caption(t("sites.cheapest", lang, site=titles[cheapest]))
elif chosen:
    st.caption(t("sites.compare_more", lang))
