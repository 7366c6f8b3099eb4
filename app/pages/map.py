"""Map page: the compound's layers, sketching sites and any layer, and the selected site's numbers.

Pick the layer to draw into (`state.DRAW_LAYER`, default the sites). For the
sites, pick a site type, draw a polygon or rectangle with the toolbar at the
map's top left: the shape is saved at once as a new site (autosave), and its
area, capacity, itemised cost, households and checks appear beside the map.
For another layer the toolbar offers that layer's geometry, the shape is
saved at once as its next feature (``B1``, ``G1``, ``SP1``, ``P1``...) and its
attribute form appears beside the map (`app.views.layer_panel`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import edits, layer_edits, mapwidget, state, workspace
from app.context import Context, context, plain, show_flash, site_title, watch_sites
from app.maps import base_map, edit_group
from app.timing import mark
from app.views.edit_panel import edit_panel
from app.views.layer_panel import layer_panel, layer_summary
from app.views.layer_table import layer_table
from app.views.site_panel import View, site_panel
from gridgis.errors import GridGISError
from gridgis.report.i18n import t
from gridgis.report.map.editing import EDIT_MODES
from gridgis.report.map.view import sites_layer


def map_and_panel() -> Context:
    """The map and, beside it, the selected site's numbers and edit fields.

    (Not an `st.fragment`: a drawing that arrives while a whole run is still
    under way preempts it, and Streamlit 1.67 then sometimes leaves the old
    panel's widgets on the page beside the new ones.)
    """
    # (new drawings were stored by app.py before the sidebar: edits.ingest_pending)
    mark("page")
    lang = state.lang()
    ctx = context()
    project = ctx.project
    basemap = st.session_state.get(state.BASEMAP, "none")
    site_types = list(project.settings.site_types)
    if st.session_state.get(state.DRAW_TYPE) not in site_types:
        state.set_value(state.DRAW_TYPE, site_types[0])
    st.session_state[state.SEEN_VERSION] = ctx.version
    sites = ctx.sites
    try:
        metrics = ctx.analysis().sites
        analysed = True
    except GridGISError as exc:
        st.error(f"{t('site.analysis_failed', lang)}\n\n{plain(exc)}")
        metrics, analysed = sites, False
    mark("metrics")
    view = View(lang=lang, ctx=ctx, analysed=analysed)
    ids = [str(s) for s in sites["site_id"]]
    if st.session_state.get(state.SELECTED) not in ids:
        state.set_value(state.SELECTED, ids[-1] if ids else None)
    try:
        skip = None if state.draw_layer() == "sites" else state.draw_layer()  # sent below
        prepared = base_map(ctx, lang, basemap, st.session_state.get(state.TIANDITU_KEY), skip)
    except GridGISError as exc:
        st.error(f"{t('map.basemap_failed', lang)}\n\n{plain(exc)}")
        prepared = base_map(ctx, lang, "none", None, skip)
        basemap = "none"

    show_flash()
    left, right = st.columns([2.1, 1], gap="medium")
    with left:
        if state.DRAW_LAYER not in st.session_state:
            st.session_state[state.DRAW_LAYER] = "sites"
        layer = str(
            st.segmented_control(
                t("drawlayer.choice", lang),
                layer_edits.LAYERS,
                key=state.DRAW_LAYER,
                format_func=lambda name: t(f"drawlayer.{name}", lang),
                required=True,
                help=t("drawlayer.choice_help", lang),
            )
            or "sites"
        )
        bar = st.columns([4, 1.6, 1], vertical_alignment="bottom")
        if layer == "sites":
            bar[0].segmented_control(
                t("map.next_type", lang),
                site_types,
                key=state.bind(state.DRAW_TYPE, state.variant(lang), site_types[0]),
                format_func=view.type_name,
                required=True,
                help=t("map.next_type_help", lang),
            )
        else:
            bar[0].caption(layer_summary(workspace.summary(ctx.path), lang))
        bar[1].segmented_control(
            t("mapedit.mode", lang),
            EDIT_MODES,
            key=state.EDIT_MODE,
            default="vertices",
            format_func=lambda mode: t(f"mapedit.mode_{mode}", lang),
            required=True,
            help=t("mapedit.mode_help", lang),
        )
        bar[2].button(
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
            draw_tools=layer_edits.TOOLS[layer],
            edit=state.edit_mode() if layer == "sites" else None,
            editing=state.map_picked().get("sites"),
        )
        more = (edit_group(ctx.path, layer, lang, basemap),) if layer != "sites" else ()
        mark("sites layer")
        mapwidget.show(
            prepared,
            key=state.MAP,
            feature_group=group,
            height=580,
            returned_objects=["all_drawings"],
            more_groups=more,
        )
        if layer == "sites":
            st.caption(t("map.help", lang) + " " + t("mapedit.help", lang))
        else:
            how = "help_line" if layer == "paths" else "help_polygon"
            help_text = t(f"drawlayer.{how}", lang, layer=t(f"drawlayer.{layer}", lang))
            st.caption(help_text + " " + t("mapedit.help", lang))
            with st.expander(t("table.title", lang, layer=t(f"drawlayer.{layer}", lang))):
                layer_table(ctx.path, layer, lang)
        mark("map")

    with right:
        if layer != "sites":
            layer_panel(ctx.path, layer, lang)
        elif not ids:
            st.info(t("site.none_yet", lang))
        else:
            titles = {
                str(rec["site_id"]): site_title(rec, lang, project)
                for rec in pd.DataFrame(sites.drop(columns="geometry")).to_dict("records")
            }
            chosen = st.selectbox(
                t("site.pick", lang, n=len(ids)),
                ids,
                key=state.bind(state.SELECTED, state.variant(lang, titles.values())),
                format_func=lambda s: titles.get(s, s),
            )
            st.session_state[state.SELECTED] = chosen
            row = metrics.iloc[ids.index(str(chosen))]
            site_panel(view, row)
            mark("site panel")
            edit_panel(view, row)
            mark("edit panel")
    return ctx


shown = map_and_panel()
watch_sites(str(shown.path), shown.version)
