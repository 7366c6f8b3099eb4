"""Suggest-sites page (金角银边): the leftover spaces the tool finds, beside what the survey found.

One button runs `gridgis.analysis.corners.find_corners` on the project as it is now;
each of the best suggestions can be adopted as a site in one click (stored
through the `SiteStore`, so it is saved like a drawn site); a parking shed
site's stall layout (`gridgis.analysis.stalls.layout.layout_site`) is shown on a small map.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app import state
from app.context import context, plain, show_flash, site_title
from app.views import corners as corners_view
from gridgis.analysis.corners import candidate_to_site
from gridgis.errors import GridGISError
from gridgis.report.i18n import t
from gridgis.report.labels import type_label

TOP = 6  # suggestions offered for adoption (the map highlights them)

lang = state.lang()
ctx = context()
project = ctx.project
show_flash()
st.session_state[state.SEEN_VERSION] = ctx.version
st.subheader(t("corners.title", lang))
st.caption(t("corners.intro", lang))


def type_name(kind: str) -> str:
    return type_label(kind, lang, project.settings)


def ask() -> None:
    st.session_state[state.CORNERS_FOR] = ctx.name


def adopt(cid: str, site_type: str) -> None:
    """Store candidate `cid` as a site (a button callback: runs before the page).

    The candidates are those the button was shown with (``ctx`` of that run):
    ids are renumbered when the sites change, so a newer search could name
    another space ``cid``.
    """
    try:
        found, _ = corners_view.suggestions(ctx)
        if cid not in set(found["candidate_id"].astype(str)):
            state.flash("warning", t("corners.gone", lang, cid=cid))
            return
        site_id = ctx.store.new_site_id()
        kind = t(f"corners.kind_{found.loc[found['candidate_id'] == cid, 'kind'].iloc[0]}", lang)
        name = f"{cid} {kind}"
        row = candidate_to_site(found, cid, site_type=site_type, site_id=site_id, name=name)
        row = row.iloc[0]
        stored = ctx.store.add(
            row.geometry,
            site_type=site_type,
            name=str(row["name"]),
            notes=str(row["notes"]),
            status=str(row["status"]),
            site_id=site_id,
        )
    except GridGISError as exc:
        state.flash("error", t("corners.adopt_failed", lang, cid=cid, error=plain(exc)))
        return
    sid = str(stored["site_id"])
    state.set_value(state.SELECTED, sid)
    if project.settings.site_types[site_type].capacity_rule == "bike_stalls":
        st.session_state[state.CORNERS_SHED] = sid
    state.flash("success", t("corners.adopted", lang, cid=cid, site_id=sid))


st.button(t("corners.find", lang), on_click=ask, type="primary", icon=":material/search:")

if st.session_state.get(state.CORNERS_FOR) == ctx.name:
    try:
        with st.spinner(t("corners.finding", lang)):
            found, compared = corners_view.suggestions(ctx)
    except GridGISError as exc:
        st.error(f"{t('corners.failed', lang)}\n\n{plain(exc)}")
        found = compared = None
    if found is not None and found.empty:
        st.info(t("corners.none", lang))
    elif found is not None:
        st.success(t("corners.found", lang, n=len(found)))
        # --- the map: suggestions over the surveyed spaces and the sites ----------------
        st.markdown(f"**{t('corners.map', lang)}**")
        basemap = st.session_state.get(state.BASEMAP, "none")
        try:
            m = corners_view.candidates_map(
                ctx,
                found,
                lang=lang,
                basemap=basemap,
                tianditu_key=st.session_state.get(state.TIANDITU_KEY),
                type_label=type_name,
                top=TOP,
            )
            st_folium(m, height=520, use_container_width=True, returned_objects=[],
                      key=f"corners_map:{ctx.name}:{ctx.version}:{lang}:{basemap}")  # fmt: skip
        except GridGISError as exc:
            st.error(plain(exc))

        # --- the table ---------------------------------------------------------------
        table = corners_view.candidates_table(found, lang, type_name)
        st.markdown(f"**{t('corners.candidates', lang)}**")
        st.dataframe(table, hide_index=True, width="stretch")

        # --- adopt -------------------------------------------------------------------
        st.markdown(f"**{t('corners.adopt_title', lang)}**")
        records = pd.DataFrame(found.drop(columns="geometry")).head(TOP).to_dict("records")
        for rec in records:
            cid = str(rec["candidate_id"])
            kind = rec.get("suggested_site_type")
            if not isinstance(kind, str) or kind not in project.settings.site_types:
                st.caption(t("corners.no_type", lang, cid=cid))
                continue
            st.button(
                t("corners.adopt", lang, cid=cid, type=type_name(kind)),
                key=f"corners_adopt:{ctx.version}:{cid}",
                on_click=adopt,
                args=(cid, kind),
                help=t("corners.adopt_help", lang, cid=cid),
                icon=":material/add_location_alt:",
            )

        # --- survey found vs tool found -----------------------------------------------
        st.markdown(f"**{t('corners.compare', lang)}**")
        if compared is None or compared.empty:
            st.caption(t("corners.compare_none", lang))
        else:
            table = corners_view.spaces_table(compared, lang)
            st.dataframe(table, hide_index=True, width="stretch")

# --- stall layout of a parking shed ------------------------------------------------------
st.divider()
st.markdown(f"**{t('corners.layout_title', lang)}**")
sheds = corners_view.stall_site_ids(ctx)
if not sheds:
    st.caption(t("corners.layout_none", lang))
    st.stop()
if st.session_state.get(state.CORNERS_SHED) not in sheds:
    st.session_state[state.CORNERS_SHED] = sheds[-1]
titles = {
    str(rec["site_id"]): site_title(rec, lang, project)
    for rec in pd.DataFrame(ctx.sites.drop(columns="geometry")).to_dict("records")
}
shed = st.selectbox(
    t("corners.layout_site", lang),
    sheds,
    key=state.CORNERS_SHED,
    format_func=lambda s: titles.get(s, s),
)
try:
    laid = corners_view.stalls(ctx, str(shed))
except GridGISError as exc:
    st.error(f"{t('corners.layout_failed', lang)}\n\n{plain(exc)}")
    st.stop()
totals = laid.attrs.get("layout", {})
cols = st.columns(4)
cols[0].metric(t("corners.stalls", lang), f"{int(totals.get('count', len(laid)))}")
cols[1].metric(t("corners.ports", lang), f"{int(totals.get('charging_ports', 0))}")
cols[2].metric(t("corners.circuits", lang), f"{int(totals.get('circuits', 0))}")
cols[3].metric(t("corners.blocks", lang), f"{int(totals.get('blocks', 0))}")
st.caption(
    t(
        "corners.layout_caption",
        lang,
        aisle=f"{float(totals.get('aisle_m', 0.0)):.1f}",
        angle=f"{float(totals.get('orientation_deg', 0.0)):.0f}",
    )
)
site = ctx.sites[ctx.sites["site_id"].astype(str) == shed]
st_folium(
    corners_view.stalls_map(site, laid, lang),
    height=360,
    use_container_width=True,
    returned_objects=[],
    key=f"corners_stalls:{ctx.name}:{ctx.version}:{shed}:{lang}",
)
