"""Map page: the compound's layers, sketching sites, and the selected site's numbers.

Pick a site type, draw a polygon or rectangle with the toolbar at the map's
top left: the shape is saved at once as a new site (autosave), and its area,
capacity, itemised cost, households and failed rules appear beside the map.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app import common, edits, mapwidget, state
from gridgis.core.project import Project
from gridgis.errors import GridGISError
from gridgis.report.i18n import t
from gridgis.report.map.view import sites_layer


@dataclass
class View:
    """What the panel functions need of one run."""

    lang: str
    ctx: common.Context
    analysed: bool

    @property
    def project(self) -> Project:
        return self.ctx.project

    def type_name(self, kind: str) -> str:
        return common.type_label(kind, self.lang, self.project)


def save_field(path: Path, site_id: str, rev: int, field: str, widget: str, lang: str) -> None:
    edits.update(path, site_id, rev, field, st.session_state.get(widget), lang)


def start_redraw(site_id: str) -> None:
    st.session_state[state.REDRAW] = site_id


def checks(row: pd.Series, lang: str) -> None:
    failed = [c for c in row["checks"] if not c["ok"]]
    passed = [c for c in row["checks"] if c["ok"]]
    for check in failed:
        message = check["message_zh"] if lang == "zh" else check["message"]
        rule = t(f"rule.{check['rule']}", lang) if check["rule"] else ""
        level = t(f"rule.severity_{check['severity']}", lang)
        st.error(f"**{rule}** ({level}): {common.plain(message)}", icon=":material/block:")
    if not failed:
        st.success(t("site.all_passed", lang), icon=":material/check_circle:")
    if passed:
        lines = []
        for check in passed:
            message = check["message_zh"] if lang == "zh" else check["message"]
            rule = t(f"rule.{check['rule']}", lang)
            lines.append(f":green[✓] **{rule}**: {common.plain(message)}")
        with st.expander(t("site.passed", lang, n=len(passed))):
            st.markdown("\n\n".join(lines))  # one element: each costs a message


def buildings_text(view: View, ids: list[Any]) -> str:
    names = common.building_names(view.ctx.path, view.lang)
    return ", ".join(names.get(str(b), str(b)) for b in ids) or "—"


def cost_table(row: pd.Series, lang: str) -> None:
    items = row["cost_items"]
    if not items:
        return
    label = "label_zh" if lang == "zh" else "label_en"
    table = pd.DataFrame(
        [
            {
                t("cost.item", lang): item[label],
                t("cost.quantity", lang): f"{item['quantity']:,.2f} "
                + common.unit_label(item["unit"], lang),
                t("cost.rate", lang): f"{item['rate_cny']:,.2f}",
                t("cost.amount", lang): f"{item['amount_cny']:,.2f}",
                t("cost.source", lang): item["source"],
            }
            for item in items
        ]
    )
    # st.table, not st.dataframe: the data grid's 1.2 MB of browser code held back the
    # whole first paint (map included) until it had loaded
    st.table(table.set_index(t("cost.item", lang)))


def site_panel(view: View, row: pd.Series) -> None:
    lang, project, type_name = view.lang, view.project, view.type_name
    status = row.get("status") or "proposed"
    st.markdown(
        f"#### {common.plain(common.site_title(row, lang, project))}\n"
        f"{type_name(str(row['site_type']))} · {t(f'map.{status}', lang)}"
    )
    if not view.analysed:
        return
    unit = common.unit_label(str(row["capacity_unit"]), lang)
    a, b = st.columns(2)
    a.metric(t("site.area", lang), f"{row['area_m2']:,.1f} m²")
    b.metric(t("site.capacity", lang), f"{int(row['capacity'])} {unit}")
    a.metric(t("site.cost", lang), f"¥{row['cost_cny']:,.0f}")
    b.metric(t("site.served", lang), t("site.hh_value", lang, n=int(row["households_served"])))
    if row["capacity_unit"] == "bikes":
        a.metric(t("site.ports", lang), f"{int(row['charging_ports'])}")
    b.metric(t("site.adjacent", lang), t("site.hh_value", lang, n=int(row["households_adjacent"])))
    method = t(f"site.method_{str(row['distance_method']).replace('+', '_and_')}", lang)
    served = buildings_text(view, row["buildings_served"])
    adjacent = buildings_text(view, row["buildings_adjacent"])
    served = t("site.served_buildings", lang, ids=served, method=method)
    adjacent = t("site.adjacent_buildings", lang, ids=adjacent)
    st.caption(f"{served}  \n{adjacent}")
    unknown = list(row.get("buildings_unknown") or [])
    if unknown:
        st.warning(t("site.unknown_buildings", lang, ids=buildings_text(view, unknown)))
    checks(row, lang)
    st.markdown(f"**{t('site.cost_items', lang)}**")
    cost_table(row, lang)
    per = row["per_household_cny"]
    funding = t(
        "site.funding",
        lang,
        residents=f"{row['residents_cny']:,.0f}",
        subsidy=f"{row['subsidy_cny']:,.0f}",
        per="—" if pd.isna(per) else f"{per:,.0f}",
    )
    if row["cost_items"]:
        funding = f"{t('cost.source_help', lang)}  \n{funding}"  # one element, one message
    st.caption(funding)


def edit_panel(view: View, row: pd.Series) -> None:
    lang, ctx, type_name = view.lang, view.ctx, view.type_name
    site_types = list(view.project.settings.site_types)
    sid, rev = str(row["site_id"]), int(row["rev"])
    with st.container(border=True):
        st.markdown(f"**{t('edit.title', lang)}**", help=t("edit.autosave", lang))
        name_key = state.edit_key("name", sid, rev, lang)
        name = row.get("name")
        st.text_input(
            t("edit.name", lang),
            value=name if isinstance(name, str) else "",
            key=name_key,
            on_change=save_field,
            args=(ctx.path, sid, rev, "name", name_key, lang),
            placeholder=t("edit.name_placeholder", lang),
        )
        c1, c2 = st.columns(2)
        type_key = state.edit_key("site_type", sid, rev, lang)
        current = str(row["site_type"])
        options = site_types if current in site_types else [*site_types, current]
        c1.selectbox(
            t("edit.type", lang),
            options,
            index=options.index(current),
            key=type_key,
            format_func=type_name,
            on_change=save_field,
            args=(ctx.path, sid, rev, "site_type", type_key, lang),
        )
        status_key = state.edit_key("status", sid, rev, lang)
        statuses = ["proposed", "approved", "rejected", "built"]
        status = row.get("status") if row.get("status") in statuses else "proposed"
        c2.selectbox(
            t("edit.status", lang),
            statuses,
            index=statuses.index(status),
            key=status_key,
            format_func=lambda s: t(f"map.{s}", lang),
            on_change=save_field,
            args=(ctx.path, sid, rev, "status", status_key, lang),
        )
        notes_key = state.edit_key("notes", sid, rev, lang)
        notes = row.get("notes")
        st.text_area(
            t("edit.notes", lang),
            value=notes if isinstance(notes, str) else "",
            key=notes_key,
            on_change=save_field,
            args=(ctx.path, sid, rev, "notes", notes_key, lang),
            height=80,
        )
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


def map_and_panel() -> common.Context:
    """The map and, beside it, the selected site's numbers and edit fields.

    (Not an `st.fragment`: a drawing that arrives while a whole run is still
    under way preempts it, and Streamlit 1.67 then sometimes leaves the old
    panel's widgets on the page beside the new ones.)
    """
    # (new drawings were stored by app.py before the sidebar: edits.ingest_pending)
    common.mark("page")
    lang = state.lang()
    ctx = common.context()
    project = ctx.project
    basemap = st.session_state.get(state.BASEMAP, "none")
    site_types = list(project.settings.site_types)
    if st.session_state.get(state.DRAW_TYPE) not in site_types:
        state.set_value(state.DRAW_TYPE, site_types[0])
    st.session_state[state.SEEN_VERSION] = ctx.version
    sites = ctx.sites
    try:
        metrics = ctx.metrics()
        analysed = True
    except GridGISError as exc:
        st.error(f"{t('site.analysis_failed', lang)}\n\n{common.plain(exc)}")
        metrics, analysed = sites, False
    common.mark("metrics")
    view = View(lang=lang, ctx=ctx, analysed=analysed)
    ids = [str(s) for s in sites["site_id"]]
    if st.session_state.get(state.SELECTED) not in ids:
        state.set_value(state.SELECTED, ids[-1] if ids else None)
    try:
        prepared = common.base_map(ctx, lang, basemap, st.session_state.get(state.TIANDITU_KEY))
    except GridGISError as exc:
        st.error(f"{t('map.basemap_failed', lang)}\n\n{common.plain(exc)}")
        prepared = common.base_map(ctx, lang, "none", None)
        basemap = "none"

    common.show_flash()
    left, right = st.columns([2.1, 1], gap="medium")
    with left:
        bar = st.columns([5, 1], vertical_alignment="bottom")
        bar[0].segmented_control(
            t("map.next_type", lang),
            site_types,
            key=state.bind(state.DRAW_TYPE, state.variant(lang), site_types[0]),
            format_func=view.type_name,
            required=True,
            help=t("map.next_type_help", lang),
        )
        bar[1].button(
            t("edit.undo", lang),
            icon=":material/undo:",
            on_click=edits.undo,
            args=(ctx.path, lang),
            disabled=not state.undo_stack(),
            width="stretch",
            help=t("edit.undo_help", lang),
        )
        redraw = st.session_state.get(state.REDRAW)
        if redraw:
            st.info(t("edit.redraw_active", lang, site=redraw))
        group = sites_layer(
            metrics,
            lang=lang,
            basemap=basemap,
            settings=project.settings,
            selected=st.session_state.get(state.SELECTED),
            clear_drawn=state.clear_round(),
        )
        common.mark("sites layer")
        mapwidget.show(
            prepared,
            key=state.MAP,
            feature_group=group,
            height=580,
            returned_objects=["all_drawings"],
        )
        st.caption(t("map.help", lang))
        common.mark("map")

    with right:
        if not ids:
            st.info(t("site.none_yet", lang))
        else:
            titles = {
                str(rec["site_id"]): common.site_title(rec, lang, project)
                for rec in pd.DataFrame(sites.drop(columns="geometry")).to_dict("records")
            }
            chosen = st.selectbox(
                t("site.pick", lang, n=len(ids)),
                ids,
                key=state.bind(state.SELECTED, state.variant(lang, titles.values())),
                format_func=titles.get,
            )
            st.session_state[state.SELECTED] = chosen
            row = metrics.iloc[ids.index(chosen)]
            site_panel(view, row)
            common.mark("site panel")
            edit_panel(view, row)
            common.mark("edit panel")
    return ctx


shown = map_and_panel()
common.watch_sites(str(shown.path), shown.version)
